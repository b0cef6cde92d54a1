/*
 * tokenizer.c - Qwen2 byte-level BPE (see tokenizer.h for the pipeline and the policies).
 *
 * Internal layout. Every token text lives in one arena (NUL after each); two hash tables are
 * built once at load:
 *   tok_map   token text -> id              (open addressing, XXH3 of the text)
 *   pair_map  (left id, right id) -> (rank, merged id)   one entry per usable merge
 * BPE then runs on ids only: a word starts as the ids of its single-byte tokens and pairs are
 * merged lowest rank first (leftmost on ties) with a binary heap and lazy invalidation, so a
 * word of n bytes costs O(n log n) however long it is. Each encode call keeps a cache
 * word -> ids (most words of a text repeat), private to the call so a vtok stays read-only.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "verify/tokenizer.h"

#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The Qwen2 pre-tokenizer regex, exactly as in Qwen2's tokenizer.json (used for GGUF pre=qwen2). */
static const char vtok__qwen2_regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

#define VTOK_MAX_VOCAB (1 << 24) /* ids above this are refused: no real vocabulary is near it */

typedef struct vtok_added {
    int32_t     id;
    uint32_t    len;
    const char *text;  /* in the arena */
    bool        control;
} vtok_added;

typedef struct vtok_slot { uint32_t hash; int32_t id; } vtok_slot;          /* id -1: empty */
typedef struct vtok_pair { uint64_t key; int32_t rank; int32_t id; } vtok_pair; /* key ~0: empty */

struct vtok {
    int64_t   n_vocab;
    char     *arena;
    size_t    arena_len, arena_cap;
    uint64_t *tok_off;    /* [n_vocab], UINT64_MAX for an unused id */
    uint32_t *tok_len;    /* [n_vocab] */
    uint8_t  *tok_type;   /* [n_vocab], 0 for unused */

    vtok_slot *map;       /* token text -> id */
    uint64_t   map_mask;

    vtok_pair *pairs;     /* merges */
    uint64_t   pair_mask;
    int64_t    n_merges;

    int32_t    byte_id[256];       /* id of the token for each raw byte */
    vtok_added *added;             /* sorted by length, longest first */
    int         n_added;
    uint8_t     added_first[256];  /* 1 if some added token starts with this byte */

    pcre2_code *re;
    bool        re_is_qwen2;       /* the boundary rule of vtok__next_cut holds: chunks may run in parallel */
};

/* ------------------------------------------------------------------ GPT-2 byte <-> unicode */

/* GPT-2's map: printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for themselves, the other
 * 68 bytes, in order, become U+0100, U+0101, ... */
static uint32_t vtok__byte_cp(int b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return (uint32_t)b;
    int n = 0;
    for (int c = 0; c < b; c++)
        if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))) n++;
    return 0x100u + (uint32_t)n;
}

static int vtok__put_utf8(uint32_t cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Strict UTF-8 check: returns len if valid, else the offset of the first byte of the bad sequence. */
static size_t vtok__utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t n; uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (len - i < n) return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += n;
    }
    return len;
}

/* ------------------------------------------------------------------ construction helpers */

static uint64_t vtok__pow2_at_least(uint64_t n)
{
    uint64_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

static int vtok__arena_add(vtok *t, const char *s, size_t len, uint64_t *off, gguf_error *err)
{
    if (t->arena_len + len + 1 > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 1 << 20;
        while (cap < t->arena_len + len + 1) cap *= 2;
        char *p = realloc(t->arena, cap);
        if (!p) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory for token texts");
        t->arena = p; t->arena_cap = cap;
    }
    memcpy(t->arena + t->arena_len, s, len);
    t->arena[t->arena_len + len] = 0;
    *off = t->arena_len;
    t->arena_len += len + 1;
    return 0;
}

static int vtok__alloc_vocab(vtok *t, int64_t n, gguf_error *err)
{
    t->n_vocab = n;
    t->tok_off = malloc((size_t)n * sizeof *t->tok_off);
    t->tok_len = calloc((size_t)n, sizeof *t->tok_len);
    t->tok_type = calloc((size_t)n, 1);
    if (!t->tok_off || !t->tok_len || !t->tok_type)
        return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory for %lld tokens", (long long)n);
    memset(t->tok_off, 0xFF, (size_t)n * sizeof *t->tok_off);
    return 0;
}

static inline const char *vtok__text(const vtok *t, int32_t id) { return t->arena + t->tok_off[id]; }

/* Build tok_map from every used id. A text that appears twice keeps its lowest id. */
static int vtok__build_map(vtok *t, gguf_error *err)
{
    uint64_t cap = vtok__pow2_at_least((uint64_t)t->n_vocab * 2);
    t->map = malloc(cap * sizeof *t->map);
    if (!t->map) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory for the token map");
    memset(t->map, 0xFF, cap * sizeof *t->map);
    t->map_mask = cap - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (t->tok_off[id] == UINT64_MAX) continue;
        const char *s = vtok__text(t, id);
        size_t len = t->tok_len[id];
        uint64_t h = XXH3_64bits(s, len);
        for (uint64_t i = h & t->map_mask;; i = (i + 1) & t->map_mask) {
            vtok_slot *sl = &t->map[i];
            if (sl->id < 0) { sl->hash = (uint32_t)h; sl->id = id; break; }
            if (sl->hash == (uint32_t)h && t->tok_len[sl->id] == len && !memcmp(vtok__text(t, sl->id), s, len)) break;
        }
    }
    return 0;
}

int32_t vtok_find(const vtok *t, const char *s, size_t len)
{
    uint64_t h = XXH3_64bits(s, len);
    for (uint64_t i = h & t->map_mask;; i = (i + 1) & t->map_mask) {
        const vtok_slot *sl = &t->map[i];
        if (sl->id < 0) return -1;
        if (sl->hash == (uint32_t)h && t->tok_len[sl->id] == len && !memcmp(vtok__text(t, sl->id), s, len))
            return sl->id;
    }
}

static inline uint64_t vtok__pair_hash(uint64_t key) { return (key * 0x9E3779B97F4A7C15ull) >> 17; }

static int vtok__pairs_init(vtok *t, uint64_t n, gguf_error *err)
{
    uint64_t cap = vtok__pow2_at_least(n * 2);
    t->pairs = malloc(cap * sizeof *t->pairs);
    if (!t->pairs) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory for the merges");
    for (uint64_t i = 0; i < cap; i++) t->pairs[i].key = UINT64_MAX;
    t->pair_mask = cap - 1;
    return 0;
}

/* Add merge "a b" (byte-level texts) with the given rank. Merges whose parts or result are not
 * tokens can never fire and are skipped; a pair seen again keeps its first (lowest) rank. */
static void vtok__merge_add(vtok *t, const char *a, size_t alen, const char *b, size_t blen,
                            int32_t rank, char *scratch)
{
    int32_t ia = vtok_find(t, a, alen), ib = vtok_find(t, b, blen);
    if (ia < 0 || ib < 0) return;
    memcpy(scratch, a, alen);
    memcpy(scratch + alen, b, blen);
    int32_t ir = vtok_find(t, scratch, alen + blen);
    if (ir < 0) return;
    uint64_t key = ((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib;
    for (uint64_t i = vtok__pair_hash(key) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
        vtok_pair *p = &t->pairs[i];
        if (p->key == UINT64_MAX) { p->key = key; p->rank = rank; p->id = ir; t->n_merges++; return; }
        if (p->key == key) return;
    }
}

static inline const vtok_pair *vtok__pair_find(const vtok *t, int32_t a, int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    for (uint64_t i = vtok__pair_hash(key) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
        const vtok_pair *p = &t->pairs[i];
        if (p->key == key) return p;
        if (p->key == UINT64_MAX) return NULL;
    }
}

static int vtok__cmp_added(const void *x, const void *y)
{
    const vtok_added *a = x, *b = y;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Byte tokens, added-token list and the compiled regex: the common tail of both loaders. */
static int vtok__finish(vtok *t, const char *src, const char *pattern, size_t pattern_len, gguf_error *err)
{
    for (int b = 0; b < 256; b++) {
        char u[4];
        int n = vtok__put_utf8(vtok__byte_cp(b), u);
        t->byte_id[b] = vtok_find(t, u, (size_t)n);
        if (t->byte_id[b] < 0)
            return gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX,
                                  "'%s': vocabulary has no token for byte 0x%02x: not a byte-level BPE", src, b);
    }
    int n_added = 0;
    for (int64_t id = 0; id < t->n_vocab; id++)
        if ((t->tok_type[id] == VTOK_TYPE_CONTROL || t->tok_type[id] == VTOK_TYPE_USER_DEFINED) && t->tok_len[id] > 0)
            n_added++;
    t->added = calloc((size_t)n_added + 1, sizeof *t->added);
    if (!t->added) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    for (int64_t id = 0; id < t->n_vocab; id++) {
        if (!((t->tok_type[id] == VTOK_TYPE_CONTROL || t->tok_type[id] == VTOK_TYPE_USER_DEFINED) && t->tok_len[id] > 0))
            continue;
        vtok_added *a = &t->added[t->n_added++];
        a->id = (int32_t)id;
        a->len = t->tok_len[id];
        a->text = vtok__text(t, (int32_t)id);
        a->control = t->tok_type[id] == VTOK_TYPE_CONTROL;
        t->added_first[(unsigned char)a->text[0]] = 1;
    }
    qsort(t->added, (size_t)t->n_added, sizeof *t->added, vtok__cmp_added);

    t->re_is_qwen2 = pattern_len == sizeof vtok__qwen2_regex - 1 && !memcmp(pattern, vtok__qwen2_regex, pattern_len);
    int ec; PCRE2_SIZE eo;
    t->re = pcre2_compile((PCRE2_SPTR)pattern, pattern_len, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return gguf_error_set(err, GGUF_E_STRING, UINT64_MAX, "'%s': pre-tokenizer regex: offset %zu: %s",
                              src, (size_t)eo, (const char *)msg);
    }
    (void)pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE); /* without JIT it is slower, not wrong */
    return 0;
}

void vtok_free(vtok *t)
{
    if (!t) return;
    free(t->arena);
    free(t->tok_off);
    free(t->tok_len);
    free(t->tok_type);
    free(t->map);
    free(t->pairs);
    free(t->added);
    pcre2_code_free(t->re);
    free(t);
}

/* ------------------------------------------------------------------ from GGUF */

static int vtok__gguf_key(const gguf_file *f, const char *key, gguf_kv_type type, gguf_kv_type elem,
                          int64_t *idx, gguf_error *err)
{
    int64_t i = gguf_find_key(f, key);
    if (i < 0) return gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX, "'%s': key '%s' not found", gguf_path(f), key);
    if (gguf_kv_get_type(f, i) != type || (type == GGUF_KV_ARRAY && gguf_kv_arr_type(f, i) != elem))
        return gguf_error_set(err, GGUF_E_WRONG_TYPE, UINT64_MAX, "'%s': key '%s' has type %s%s%s, wanted %s%s%s",
                              gguf_path(f), key, gguf_kv_type_name(gguf_kv_get_type(f, i)),
                              gguf_kv_get_type(f, i) == GGUF_KV_ARRAY ? " of " : "",
                              gguf_kv_get_type(f, i) == GGUF_KV_ARRAY ? gguf_kv_type_name(gguf_kv_arr_type(f, i)) : "",
                              gguf_kv_type_name(type), type == GGUF_KV_ARRAY ? " of " : "",
                              type == GGUF_KV_ARRAY ? gguf_kv_type_name(elem) : "");
    *idx = i;
    return 0;
}

vtok *vtok_from_gguf(const gguf_file *f, gguf_error *err)
{
    const char *src = gguf_path(f);
    int64_t k_model, k_pre, k_tokens, k_merges, k_type = -1;
    gguf_error_clear(err);
    if (vtok__gguf_key(f, "tokenizer.ggml.model", GGUF_KV_STRING, 0, &k_model, err)) return NULL;
    gguf_str model = gguf_kv_str(f, k_model);
    if (model.len != 4 || memcmp(model.ptr, "gpt2", 4)) {
        gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX,
                       "'%s': tokenizer.ggml.model is '%.*s': only 'gpt2' (byte-level BPE) is supported",
                       src, (int)(model.len > 64 ? 64 : model.len), model.ptr);
        return NULL;
    }
    if (vtok__gguf_key(f, "tokenizer.ggml.pre", GGUF_KV_STRING, 0, &k_pre, err)) return NULL;
    gguf_str pre = gguf_kv_str(f, k_pre);
    if (pre.len != 5 || memcmp(pre.ptr, "qwen2", 5)) {
        gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX,
                       "'%s': tokenizer.ggml.pre is '%.*s': only 'qwen2' is supported",
                       src, (int)(pre.len > 64 ? 64 : pre.len), pre.ptr);
        return NULL;
    }
    if (vtok__gguf_key(f, "tokenizer.ggml.tokens", GGUF_KV_ARRAY, GGUF_KV_STRING, &k_tokens, err)) return NULL;
    if (vtok__gguf_key(f, "tokenizer.ggml.merges", GGUF_KV_ARRAY, GGUF_KV_STRING, &k_merges, err)) return NULL;
    if (gguf_find_key(f, "tokenizer.ggml.token_type") >= 0 &&
        vtok__gguf_key(f, "tokenizer.ggml.token_type", GGUF_KV_ARRAY, GGUF_KV_INT32, &k_type, err)) return NULL;

    uint64_t n = gguf_kv_arr_n(f, k_tokens);
    if (n == 0 || n > VTOK_MAX_VOCAB) {
        gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': tokenizer.ggml.tokens has %llu entries", src,
                       (unsigned long long)n);
        return NULL;
    }
    if (k_type >= 0 && gguf_kv_arr_n(f, k_type) != n) {
        gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX,
                       "'%s': tokenizer.ggml.token_type has %llu entries, tokenizer.ggml.tokens %llu", src,
                       (unsigned long long)gguf_kv_arr_n(f, k_type), (unsigned long long)n);
        return NULL;
    }
    vtok *t = calloc(1, sizeof *t);
    if (!t) { gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); return NULL; }
    if (vtok__alloc_vocab(t, (int64_t)n, err)) goto fail;
    const unsigned char *types = k_type >= 0 ? gguf_kv_arr_data(f, k_type) : NULL;
    size_t max_tok = 0;
    for (uint64_t i = 0; i < n; i++) {
        gguf_str s = gguf_kv_arr_str(f, k_tokens, i);
        if (s.len > UINT32_MAX) {
            gguf_error_set(err, GGUF_E_STRING, UINT64_MAX, "'%s': tokenizer.ggml.tokens[%llu] is %llu bytes long", src,
                           (unsigned long long)i, (unsigned long long)s.len);
            goto fail;
        }
        if (vtok__arena_add(t, s.ptr, s.len, &t->tok_off[i], err)) goto fail;
        t->tok_len[i] = (uint32_t)s.len;
        if (s.len > max_tok) max_tok = s.len;
        int32_t ty = VTOK_TYPE_NORMAL;
        if (types) memcpy(&ty, types + 4 * i, 4); /* little-endian host assumed, as in libgguf */
        if (ty < VTOK_TYPE_NORMAL || ty > VTOK_TYPE_BYTE) {
            gguf_error_set(err, GGUF_E_WRONG_TYPE, UINT64_MAX, "'%s': tokenizer.ggml.token_type[%llu] is %d, not 1..6",
                           src, (unsigned long long)i, (int)ty);
            goto fail;
        }
        t->tok_type[i] = (uint8_t)ty;
    }
    if (vtok__build_map(t, err)) goto fail;

    uint64_t nm = gguf_kv_arr_n(f, k_merges);
    if (nm > INT32_MAX) {
        gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': tokenizer.ggml.merges has %llu entries", src,
                       (unsigned long long)nm);
        goto fail;
    }
    if (vtok__pairs_init(t, nm, err)) goto fail;
    char *scratch = malloc(2 * max_tok + 2);
    if (!scratch) { gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    for (uint64_t i = 0; i < nm; i++) {
        gguf_str m = gguf_kv_arr_str(f, k_merges, i);
        /* "a b": split at the first space after the first byte (a part is never empty) */
        const char *sp = m.len > 1 ? memchr(m.ptr + 1, ' ', m.len - 1) : NULL;
        if (!sp || (size_t)(sp - m.ptr) > max_tok || m.len - (size_t)(sp - m.ptr) - 1 > max_tok) continue;
        size_t alen = (size_t)(sp - m.ptr);
        vtok__merge_add(t, m.ptr, alen, sp + 1, m.len - alen - 1, (int32_t)i, scratch);
    }
    free(scratch);
    if (vtok__finish(t, src, vtok__qwen2_regex, sizeof vtok__qwen2_regex - 1, err)) goto fail;
    return t;
fail:
    vtok_free(t);
    return NULL;
}

/* ------------------------------------------------------------------ from tokenizer.json */

static const char *vtok__jstr(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Find the Split pre-tokenizer (alone or inside a Sequence) and check it is usable. */
static int vtok__json_regex(json_t *pt, const char *path, const char **pattern, size_t *plen, gguf_error *err)
{
    const char *ty = vtok__jstr(pt, "type");
    if (!ty) return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': pre_tokenizer missing: not a Qwen2-style BPE", path);
    if (!strcmp(ty, "Sequence")) {
        json_t *arr = json_object_get(pt, "pretokenizers");
        size_t i; json_t *p;
        int found = 0;
        json_array_foreach(arr, i, p) {
            const char *pty = vtok__jstr(p, "type");
            if (pty && !strcmp(pty, "Split")) {
                if (found) return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': more than one Split pre-tokenizer", path);
                int rc = vtok__json_regex(p, path, pattern, plen, err);
                if (rc) return rc;
                found = 1;
            } else if (pty && !strcmp(pty, "ByteLevel")) {
                if (json_is_true(json_object_get(p, "use_regex")) || json_is_true(json_object_get(p, "add_prefix_space")))
                    return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX,
                                          "'%s': ByteLevel pre-tokenizer with use_regex/add_prefix_space is not supported", path);
            } else {
                return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': pre-tokenizer '%s' is not supported", path,
                                      pty ? pty : "?");
            }
        }
        if (!found) return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': no Split pre-tokenizer with a Regex", path);
        return 0;
    }
    if (strcmp(ty, "Split"))
        return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': pre-tokenizer '%s' is not supported", path, ty);
    json_t *re = json_object_get(json_object_get(pt, "pattern"), "Regex");
    const char *beh = vtok__jstr(pt, "behavior");
    if (!json_is_string(re))
        return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': Split pre-tokenizer has no Regex pattern", path);
    if (!beh || strcmp(beh, "Isolated") || json_is_true(json_object_get(pt, "invert")))
        return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': Split pre-tokenizer must be Isolated, not inverted", path);
    *pattern = json_string_value(re);
    *plen = json_string_length(re);
    return 0;
}

static int vtok__set_token(vtok *t, int64_t id, const char *s, size_t len, int type, const char *path, gguf_error *err)
{
    if (t->tok_off[id] != UINT64_MAX) {
        if (t->tok_len[id] == len && !memcmp(vtok__text(t, (int32_t)id), s, len)) {
            t->tok_type[id] = (uint8_t)type;
            return 0;
        }
        return gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': id %lld given to two different tokens", path,
                              (long long)id);
    }
    if (len > UINT32_MAX) return gguf_error_set(err, GGUF_E_STRING, UINT64_MAX, "'%s': token %lld too long", path, (long long)id);
    int rc = vtok__arena_add(t, s, len, &t->tok_off[id], err);
    if (rc) return rc;
    t->tok_len[id] = (uint32_t)len;
    t->tok_type[id] = (uint8_t)type;
    return 0;
}

vtok *vtok_from_json(const char *path, gguf_error *err)
{
    gguf_error_clear(err);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(e));
        if (err) err->sys_errno = e;
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
    fclose(fp);
    if (!root) {
        gguf_error_set(err, GGUF_E_STRING, je.position >= 0 ? (uint64_t)je.position : UINT64_MAX,
                       "'%s': line %d column %d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    vtok *t = NULL;
    json_t *model = json_object_get(root, "model");
    json_t *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges");
    json_t *added = json_object_get(root, "added_tokens");
    const char *mtype = vtok__jstr(model, "type");
    if (!json_is_object(model) || !json_is_object(vocab) || !json_is_array(merges)) {
        gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX,
                       "'%s': model.vocab (object) and model.merges (array) are required", path);
        goto fail;
    }
    if (mtype && strcmp(mtype, "BPE")) {
        gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': model.type is '%s': only BPE is supported", path, mtype);
        goto fail;
    }
    if (json_is_true(json_object_get(model, "byte_fallback")) || json_is_true(json_object_get(model, "ignore_merges"))) {
        gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': byte_fallback/ignore_merges BPE is not supported", path);
        goto fail;
    }
    json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm)) {
        const char *nt = vtok__jstr(norm, "type");
        if (!nt || strcmp(nt, "NFC")) {
            gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "'%s': normalizer '%s' is not supported (NFC or none)", path,
                           nt ? nt : "?");
            goto fail;
        }
    }
    const char *pattern; size_t plen;
    if (vtok__json_regex(json_object_get(root, "pre_tokenizer"), path, &pattern, &plen, err)) goto fail;

    /* ids: the vocab object and the added tokens */
    int64_t max_id = -1;
    const char *key; json_t *v;
    json_object_foreach(vocab, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= VTOK_MAX_VOCAB) {
            gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': model.vocab: token '%.64s' has a bad id", path, key);
            goto fail;
        }
        if (json_integer_value(v) > max_id) max_id = json_integer_value(v);
    }
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= VTOK_MAX_VOCAB ||
            !json_is_string(json_object_get(v, "content"))) {
            gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': added_tokens[%zu]: bad id or content", path, i);
            goto fail;
        }
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
    }
    if (max_id < 0) {
        gguf_error_set(err, GGUF_E_COUNT, UINT64_MAX, "'%s': empty vocabulary", path);
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t) { gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    if (vtok__alloc_vocab(t, max_id + 1, err)) goto fail;
    size_t max_tok = 0;
    json_object_foreach(vocab, key, v) {
        size_t len = strlen(key); /* jansson object keys cannot hold NUL */
        if (vtok__set_token(t, json_integer_value(v), key, len, VTOK_TYPE_NORMAL, path, err)) goto fail;
        if (len > max_tok) max_tok = len;
    }
    json_array_foreach(added, i, v) {
        json_t *c = json_object_get(v, "content");
        const char *s = json_string_value(c);
        size_t len = json_string_length(c);
        /* convert_hf_to_gguf.py: special, or looking like <|...|>, is CONTROL; else USER_DEFINED */
        bool ctl = json_is_true(json_object_get(v, "special")) ||
                   (len >= 4 && !memcmp(s, "<|", 2) && !memcmp(s + len - 2, "|>", 2));
        if (vtok__set_token(t, json_integer_value(json_object_get(v, "id")), s, len,
                            ctl ? VTOK_TYPE_CONTROL : VTOK_TYPE_USER_DEFINED, path, err)) goto fail;
        if (len > max_tok) max_tok = len;
    }
    if (vtok__build_map(t, err)) goto fail;
    if (vtok__pairs_init(t, json_array_size(merges), err)) goto fail;
    char *scratch = malloc(2 * max_tok + 2);
    if (!scratch) { gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    json_array_foreach(merges, i, v) {
        const char *a, *b; size_t alen, blen;
        if (json_is_string(v)) {
            const char *m = json_string_value(v);
            size_t mlen = json_string_length(v);
            const char *sp = mlen > 1 ? memchr(m + 1, ' ', mlen - 1) : NULL;
            if (!sp) continue;
            a = m; alen = (size_t)(sp - m); b = sp + 1; blen = mlen - alen - 1;
        } else if (json_is_array(v) && json_array_size(v) == 2 && json_is_string(json_array_get(v, 0)) &&
                   json_is_string(json_array_get(v, 1))) {
            a = json_string_value(json_array_get(v, 0)); alen = json_string_length(json_array_get(v, 0));
            b = json_string_value(json_array_get(v, 1)); blen = json_string_length(json_array_get(v, 1));
        } else {
            free(scratch);
            gguf_error_set(err, GGUF_E_WRONG_TYPE, UINT64_MAX, "'%s': model.merges[%zu] is neither \"a b\" nor [a, b]", path, i);
            goto fail;
        }
        if (alen > max_tok || blen > max_tok || i > INT32_MAX) continue;
        vtok__merge_add(t, a, alen, b, blen, (int32_t)i, scratch);
    }
    free(scratch);
    if (vtok__finish(t, path, pattern, plen, err)) goto fail;
    json_decref(root);
    return t;
fail:
    json_decref(root);
    vtok_free(t);
    return NULL;
}

/* ------------------------------------------------------------------ accessors */

int64_t vtok_n_vocab(const vtok *t) { return t->n_vocab; }

const char *vtok_token(const vtok *t, int32_t id, size_t *len)
{
    if (id < 0 || id >= t->n_vocab || t->tok_off[id] == UINT64_MAX) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->tok_len[id];
    return vtok__text(t, id);
}

int vtok_token_type(const vtok *t, int32_t id)
{
    if (id < 0 || id >= t->n_vocab || t->tok_off[id] == UINT64_MAX) return 0;
    return t->tok_type[id];
}

/* ------------------------------------------------------------------ encode */

typedef struct vtok_buf { int32_t *v; size_t n, cap; } vtok_buf;

static int vtok__push(vtok_buf *b, const int32_t *ids, size_t n)
{
    if (!n) return 0;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        int32_t *p = realloc(b->v, cap * sizeof *p);
        if (!p) return GGUF_E_NOMEM;
        b->v = p; b->cap = cap;
    }
    memcpy(b->v + b->n, ids, n * sizeof *ids);
    b->n += n;
    return 0;
}

/* Per-call state: word cache, BPE scratch, PCRE2 match data. */
typedef struct vtok_cache_ent { uint64_t hash; uint32_t key_off, key_len, ids_off, n_ids; } vtok_cache_ent;

typedef struct vtok_heap_ent { int32_t rank, left, right, lid, rid, nid; } vtok_heap_ent;

typedef struct vtok_state {
    const vtok      *t;
    vtok_buf         out;
    /* word cache */
    vtok_cache_ent  *ents;      /* open addressing, key_len 0 = empty */
    uint64_t         ent_mask, n_ents;
    char            *keys;  size_t keys_n, keys_cap;
    vtok_buf         pool;      /* ids of cached words */
    /* BPE scratch */
    int32_t         *sid, *snext, *sprev;
    size_t           scap;
    vtok_heap_ent   *heap;      /* 2 * scap entries */
    pcre2_match_data *md;
} vtok_state;

#define VTOK_CACHE_MAX_ENTS (1u << 20)
#define VTOK_CACHE_MAX_WORD 256

static void vtok__state_free(vtok_state *s)
{
    free(s->out.v); free(s->ents); free(s->keys); free(s->pool.v);
    free(s->sid); free(s->snext); free(s->sprev); free(s->heap);
    pcre2_match_data_free(s->md);
}

static int vtok__state_init(vtok_state *s, const vtok *t)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->md = pcre2_match_data_create_from_pattern(t->re, NULL);
    return s->md ? 0 : GGUF_E_NOMEM;
}

static inline bool vtok__heap_less(const vtok_heap_ent *a, const vtok_heap_ent *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void vtok__heap_push(vtok_heap_ent *h, size_t *n, vtok_heap_ent e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!vtok__heap_less(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static vtok_heap_ent vtok__heap_pop(vtok_heap_ent *h, size_t *n)
{
    vtok_heap_ent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && vtok__heap_less(&h[c + 1], &h[c])) c++;
        if (!vtok__heap_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static inline void vtok__try_pair(vtok_state *s, size_t *hn, int32_t left, int32_t right)
{
    if (left < 0 || right < 0) return;
    const vtok_pair *p = vtok__pair_find(s->t, s->sid[left], s->sid[right]);
    if (!p) return;
    vtok_heap_ent e = { p->rank, left, right, s->sid[left], s->sid[right], p->id };
    vtok__heap_push(s->heap, hn, e);
}

/* BPE one word (raw bytes, n >= 1); appends its ids to dst. */
static int vtok__bpe(vtok_state *s, const unsigned char *w, size_t n, vtok_buf *dst)
{
    const vtok *t = s->t;
    if (n == 1) return vtok__push(dst, &t->byte_id[w[0]], 1);
    if (n > INT32_MAX / 2) return GGUF_E_COUNT; /* symbol indices are int32 */
    if (n > s->scap) {
        size_t cap = n < 64 ? 64 : n;
        int32_t *a = realloc(s->sid, cap * sizeof *a); if (!a) return GGUF_E_NOMEM; s->sid = a;
        a = realloc(s->snext, cap * sizeof *a); if (!a) return GGUF_E_NOMEM; s->snext = a;
        a = realloc(s->sprev, cap * sizeof *a); if (!a) return GGUF_E_NOMEM; s->sprev = a;
        vtok_heap_ent *h = realloc(s->heap, 2 * cap * sizeof *h); if (!h) return GGUF_E_NOMEM; s->heap = h;
        s->scap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        s->sid[i] = t->byte_id[w[i]];
        s->sprev[i] = (int32_t)i - 1;
        s->snext[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    /* The heap never holds more than 2n entries: n-1 at start, and each merge (at most n-1)
     * pushes at most 2 while popping 1. */
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++) vtok__try_pair(s, &hn, (int32_t)i, (int32_t)i + 1);
    while (hn) {
        vtok_heap_ent e = vtok__heap_pop(s->heap, &hn);
        if (s->sid[e.left] != e.lid || s->snext[e.left] != e.right || s->sid[e.right] != e.rid)
            continue; /* stale: one side has merged since */
        s->sid[e.left] = e.nid;
        s->sid[e.right] = -1;
        int32_t nx = s->snext[e.right];
        s->snext[e.left] = nx;
        if (nx >= 0) s->sprev[nx] = e.left;
        s->snext[e.right] = -2; /* dead: never matches a live link */
        vtok__try_pair(s, &hn, s->sprev[e.left], e.left);
        vtok__try_pair(s, &hn, e.left, nx);
    }
    for (int32_t i = 0; i >= 0; i = s->snext[i])
        if (vtok__push(dst, &s->sid[i], 1)) return GGUF_E_NOMEM;
    return 0;
}

static int vtok__cache_grow(vtok_state *s)
{
    uint64_t cap = s->ents ? (s->ent_mask + 1) * 2 : 4096;
    vtok_cache_ent *e = calloc(cap, sizeof *e);
    if (!e) return GGUF_E_NOMEM;
    if (s->ents) {
        for (uint64_t i = 0; i <= s->ent_mask; i++) {
            if (!s->ents[i].key_len) continue;
            uint64_t j = s->ents[i].hash & (cap - 1);
            while (e[j].key_len) j = (j + 1) & (cap - 1);
            e[j] = s->ents[i];
        }
    }
    free(s->ents);
    s->ents = e;
    s->ent_mask = cap - 1;
    return 0;
}

/* One pre-tokenizer word: from the cache, or BPE and remember it. */
static int vtok__word(vtok_state *s, const unsigned char *w, size_t n)
{
    if (n == 1) return vtok__push(&s->out, &s->t->byte_id[w[0]], 1);
    if (n > VTOK_CACHE_MAX_WORD) return vtok__bpe(s, w, n, &s->out);
    if (!s->ents && vtok__cache_grow(s)) return GGUF_E_NOMEM;
    uint64_t h = XXH3_64bits(w, n);
    uint64_t j = h & s->ent_mask;
    for (;; j = (j + 1) & s->ent_mask) {
        vtok_cache_ent *e = &s->ents[j];
        if (!e->key_len) break;
        if (e->hash == h && e->key_len == n && !memcmp(s->keys + e->key_off, w, n))
            return vtok__push(&s->out, s->pool.v + e->ids_off, e->n_ids);
    }
    size_t before = s->out.n;
    int rc = vtok__bpe(s, w, n, &s->out);
    if (rc) return rc;
    if (s->n_ents >= VTOK_CACHE_MAX_ENTS || s->pool.n > UINT32_MAX / 2 || s->keys_n > UINT32_MAX / 2)
        return 0; /* cache full: keep working without it */
    if (s->keys_n + n > s->keys_cap) {
        size_t cap = s->keys_cap ? s->keys_cap * 2 : 1 << 16;
        while (cap < s->keys_n + n) cap *= 2;
        char *k = realloc(s->keys, cap);
        if (!k) return GGUF_E_NOMEM;
        s->keys = k; s->keys_cap = cap;
    }
    size_t nid = s->out.n - before;
    uint32_t ids_off = (uint32_t)s->pool.n;
    if (vtok__push(&s->pool, s->out.v + before, nid)) return GGUF_E_NOMEM;
    memcpy(s->keys + s->keys_n, w, n);
    vtok_cache_ent e = { h, (uint32_t)s->keys_n, (uint32_t)n, ids_off, (uint32_t)nid };
    s->keys_n += n;
    s->ents[j] = e;
    if (++s->n_ents * 2 > s->ent_mask + 1 && vtok__cache_grow(s)) return GGUF_E_NOMEM;
    return 0;
}

static int vtok__word_err(gguf_error *err, int rc, size_t n)
{
    if (rc == GGUF_E_COUNT)
        return gguf_error_set(err, rc, UINT64_MAX, "a pre-token word of %zu bytes is too long for BPE", n);
    return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
}

/* Pre-tokenize subject[start, end) (subject is the whole NFC span, so look-arounds see the true
 * neighbours) and BPE every piece. Gaps between matches are pieces too (Isolated). */
static int vtok__pretok(vtok_state *s, const unsigned char *subj, size_t subj_len, size_t start, size_t end,
                        gguf_error *err)
{
    size_t pos = start;
    while (pos < end) {
        int rc = pcre2_match(s->t->re, subj, subj_len, pos, PCRE2_NO_UTF_CHECK, s->md, NULL);
        size_t ms, me;
        if (rc == PCRE2_ERROR_NOMATCH) { ms = me = end; }
        else if (rc < 0) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "pre-tokenizer regex failed: %s", (const char *)msg);
        } else {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
            ms = ov[0]; me = ov[1];
            if (ms > end) ms = me = end;
            if (me > end) me = end; /* cannot happen at a certain boundary; keeps chunks disjoint */
        }
        if (ms > pos && (rc = vtok__word(s, subj + pos, ms - pos))) return vtok__word_err(err, rc, ms - pos);
        if (me > ms) {
            if ((rc = vtok__word(s, subj + ms, me - ms))) return vtok__word_err(err, rc, me - ms);
            pos = me;
        } else if (ms < end) {
            /* empty match (no such alternative in Qwen2's regex): take one character as a piece */
            size_t k = ms + 1;
            while (k < end && (subj[k] & 0xC0) == 0x80) k++;
            if ((rc = vtok__word(s, subj + ms, k - ms))) return vtok__word_err(err, rc, k - ms);
            pos = k;
        } else {
            pos = end;
        }
    }
    return 0;
}

/* A text span between added tokens. */
typedef struct vtok_span { size_t off, len; int32_t added_id; } vtok_span; /* added_id >= 0: an added token */

static int vtok__split_added(const vtok *t, const char *text, size_t len, bool parse_special,
                             vtok_span **spans, size_t *nspans)
{
    size_t cap = 16, n = 0, start = 0;
    vtok_span *sp = malloc(cap * sizeof *sp);
    if (!sp) return GGUF_E_NOMEM;
    for (size_t i = 0; i < len;) {
        const vtok_added *hit = NULL;
        if (t->added_first[(unsigned char)text[i]]) {
            for (int k = 0; k < t->n_added; k++) { /* longest first */
                const vtok_added *a = &t->added[k];
                if ((a->control && !parse_special) || a->len > len - i) continue;
                if (a->text[0] == text[i] && !memcmp(a->text, text + i, a->len)) { hit = a; break; }
            }
        }
        if (!hit) { i++; continue; }
        if (n + 2 > cap) {
            cap *= 2;
            vtok_span *p = realloc(sp, cap * sizeof *sp);
            if (!p) { free(sp); return GGUF_E_NOMEM; }
            sp = p;
        }
        if (i > start) sp[n++] = (vtok_span){ start, i - start, -1 };
        sp[n++] = (vtok_span){ i, hit->len, hit->id };
        i += hit->len;
        start = i;
    }
    if (start < len) {
        if (n + 1 > cap) {
            vtok_span *p = realloc(sp, (cap + 1) * sizeof *sp);
            if (!p) { free(sp); return GGUF_E_NOMEM; }
            sp = p;
        }
        sp[n++] = (vtok_span){ start, len - start, -1 };
    }
    *spans = sp;
    *nspans = n;
    return 0;
}

/* NFC of a span; *out is either the input (ASCII only: nothing to do) or a malloc'ed copy (*owned).
 * Only the stretches around non-ASCII bytes go through utf8proc: a cut just before an ASCII
 * character is always safe for NFC (ASCII characters are stable starters and never the second
 * half of a canonical composition), so NFC(text) is the concatenation of NFC(piece) over pieces
 * that start at ASCII characters. Each non-ASCII run is normalised together with the ASCII
 * character before it (an 'e' may take a following U+0301). */
static int vtok__nfc(const char *text, size_t len, const unsigned char **out, size_t *olen, unsigned char **owned)
{
    const unsigned char *s = (const unsigned char *)text;
    *owned = NULL;
    size_t i = 0;
    while (i < len && s[i] < 0x80) i++;
    if (i == len) { *out = s; *olen = len; return 0; }
    size_t cap = len + len / 4 + 16, n = 0;
    unsigned char *o = malloc(cap);
    if (!o) return GGUF_E_NOMEM;
    size_t pos = 0; /* s[0, pos) has been emitted */
    while (pos < len) {
        size_t a = pos;
        while (a < len && s[a] < 0x80) a++;          /* ASCII run [pos, a) */
        if (a == len) { memcpy(o + n, s + pos, len - pos); n += len - pos; break; }
        size_t start = a > pos ? a - 1 : a;          /* keep the ASCII character before the run */
        memcpy(o + n, s + pos, start - pos);
        n += start - pos;
        size_t b = a;
        while (b < len && s[b] >= 0x80) b++;         /* non-ASCII run [a, b) */
        utf8proc_uint8_t *d = NULL;
        utf8proc_ssize_t r = utf8proc_map(s + start, (utf8proc_ssize_t)(b - start), &d,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0) { free(d); free(o); return r == UTF8PROC_ERROR_NOMEM ? GGUF_E_NOMEM : GGUF_E_STRING; }
        if (n + (size_t)r + (len - b) > cap) {
            size_t nc = cap * 2;
            while (nc < n + (size_t)r + (len - b)) nc *= 2;
            unsigned char *q = realloc(o, nc);
            if (!q) { free(d); free(o); return GGUF_E_NOMEM; }
            o = q; cap = nc;
        }
        memcpy(o + n, d, (size_t)r);
        n += (size_t)r;
        free(d);
        pos = b;
    }
    *out = o; *olen = n; *owned = o;
    return 0;
}

/* A cut after '\n' followed by a printable non-space ASCII byte is always a word boundary of the
 * Qwen2 regex: no alternative can carry a match across "\n" into a non-space character (the
 * ones that take '\n' continue only with \s or [\r\n]). Finds the first such cut at or after pos. */
static size_t vtok__next_cut(const unsigned char *s, size_t len, size_t pos)
{
    for (size_t i = pos ? pos : 1; i < len; i++)
        if (s[i - 1] == '\n' && s[i] > 0x20 && s[i] < 0x7F) return i;
    return len;
}

static int vtok__encode(const vtok *t, const char *text, size_t len, bool parse_special, int nthreads,
                        int32_t **ids, size_t *n, gguf_error *err)
{
    *ids = NULL; *n = 0;
    gguf_error_clear(err);
    size_t bad = vtok__utf8_check((const unsigned char *)text, len);
    if (bad != len)
        return gguf_error_set(err, GGUF_E_STRING, bad, "invalid UTF-8 at byte offset %zu (byte 0x%02x)", bad,
                              (unsigned)(unsigned char)text[bad]);
    vtok_span *spans = NULL; size_t nspans = 0;
    if (vtok__split_added(t, text, len, parse_special, &spans, &nspans))
        return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    int rc = 0;
    vtok_buf out = { malloc(256 * sizeof(int32_t)), 0, 256 }; /* non-NULL even for no ids */
    if (!out.v) { free(spans); return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); }

    for (size_t k = 0; k < nspans && !rc; k++) {
        if (spans[k].added_id >= 0) {
            if (vtok__push(&out, &spans[k].added_id, 1)) rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
            continue;
        }
        const unsigned char *s; size_t sl; unsigned char *owned;
        if (vtok__nfc(text + spans[k].off, spans[k].len, &s, &sl, &owned)) {
            rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "NFC normalisation failed at byte offset %zu", spans[k].off);
            break;
        }
        /* cut into chunks at certain word boundaries; one state (cache) per chunk group */
        int nt = nthreads;
#ifdef _OPENMP
        if (nt <= 0) nt = omp_get_max_threads();
#else
        nt = 1;
#endif
        if (sl < (1u << 16) || !t->re_is_qwen2) nt = 1;
        size_t nchunk = nt > 1 ? (size_t)nt : 1;
        size_t *cut = malloc((nchunk + 1) * sizeof *cut);
        vtok_state *st = calloc(nchunk, sizeof *st);
        int *crc = calloc(nchunk, sizeof *crc);
        gguf_error *cerr = calloc(nchunk, sizeof *cerr);
        if (!cut || !st || !crc || !cerr) {
            free(cut); free(st); free(crc); free(cerr); free(owned);
            rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
            break;
        }
        cut[0] = 0;
        for (size_t c = 1; c < nchunk; c++) {
            size_t target = sl / nchunk * c;
            cut[c] = target < cut[c - 1] ? cut[c - 1] : vtok__next_cut(s, sl, target);
        }
        cut[nchunk] = sl;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
        for (size_t c = 0; c < nchunk; c++) {
            crc[c] = vtok__state_init(&st[c], t);
            if (crc[c]) gguf_error_set(&cerr[c], GGUF_E_NOMEM, UINT64_MAX, "out of memory");
            else crc[c] = vtok__pretok(&st[c], s, sl, cut[c], cut[c + 1], &cerr[c]);
        }
        for (size_t c = 0; c < nchunk; c++) {
            if (!rc && crc[c]) {
                rc = crc[c];
                if (err) *err = cerr[c];
            }
            if (!rc && vtok__push(&out, st[c].out.v, st[c].out.n))
                rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
            vtok__state_free(&st[c]);
        }
        free(cut); free(st); free(crc); free(cerr); free(owned);
    }
    free(spans);
    if (rc) { free(out.v); return rc; }
    *ids = out.v;
    *n = out.n;
    return 0;
}

int vtok_encode(const vtok *t, const char *text, size_t len, bool parse_special,
                int32_t **ids, size_t *n, gguf_error *err)
{
    return vtok__encode(t, text, len, parse_special, 1, ids, n, err);
}

int vtok_encode_mt(const vtok *t, const char *text, size_t len, bool parse_special,
                   int nthreads, int32_t **ids, size_t *n, gguf_error *err)
{
    return vtok__encode(t, text, len, parse_special, nthreads, ids, n, err);
}

/* ------------------------------------------------------------------ decode */

/* Inverse of vtok__byte_cp for code points below 0x144; -1 where there is none. */
static int vtok__cp_byte(uint32_t cp)
{
    static int16_t inv[0x144];
    static int ready;
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        int16_t tmp[0x144];
        for (int i = 0; i < 0x144; i++) tmp[i] = -1;
        for (int b = 0; b < 256; b++) tmp[vtok__byte_cp(b)] = (int16_t)b;
        memcpy(inv, tmp, sizeof inv); /* every thread writes the same values */
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return cp < 0x144 ? inv[cp] : -1;
}

int vtok_decode(const vtok *t, const int32_t *ids, size_t n, char **out, size_t *len, gguf_error *err)
{
    *out = NULL; *len = 0;
    gguf_error_clear(err);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab || t->tok_off[ids[i]] == UINT64_MAX)
            return gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX, "token id %lld at index %zu is not in the vocabulary",
                                  (long long)ids[i], i);
        total += t->tok_len[ids[i]]; /* decoded bytes never exceed the stored text */
    }
    char *o = malloc(total);
    if (!o) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)vtok__text(t, ids[i]);
        size_t sl = t->tok_len[ids[i]];
        int ty = t->tok_type[ids[i]];
        if (ty == VTOK_TYPE_CONTROL || ty == VTOK_TYPE_USER_DEFINED) {
            memcpy(o + k, s, sl);
            k += sl;
            continue;
        }
        for (size_t j = 0; j < sl;) {
            /* the stored text was checked to be UTF-8 only loosely: decode defensively */
            uint32_t cp; size_t cl;
            unsigned c = s[j];
            if (c < 0x80) { cp = c; cl = 1; }
            else if ((c & 0xE0) == 0xC0 && j + 1 < sl) { cp = ((c & 0x1Fu) << 6) | (s[j + 1] & 0x3Fu); cl = 2; }
            else { cp = UINT32_MAX; cl = 1; }
            int b = cp != UINT32_MAX ? vtok__cp_byte(cp) : -1;
            if (b >= 0) { o[k++] = (char)b; j += cl; continue; }
            /* not a byte-map character: copy the whole UTF-8 sequence through unchanged */
            size_t e = j + 1;
            while (e < sl && (s[e] & 0xC0) == 0x80) e++;
            memcpy(o + k, s + j, e - j);
            k += e - j;
            j = e;
        }
    }
    o[k] = 0;
    *out = o;
    *len = k;
    return 0;
}
