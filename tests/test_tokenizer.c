/*
 * test_tokenizer.c - the Qwen2 tokenizer (verify/tokenizer.h) against llama.cpp's 46 test vectors,
 * from tokenizer.json and from a GGUF written here, plus WikiText-2, UTF-8 policy, added tokens.
 *
 * Data (testdata/): qwen/tokenizer.json.gz, vocab-tests/qwen2.{inp,out} (llama.cpp's
 * models/ggml-vocab-qwen2.gguf.{inp,out}), wikitext-2/wiki.test.raw.gz. Gzipped files are
 * inflated into TH_TMP once.
 */
#include "th.h"
#include "gguf.h"
#include "verify/tokenizer.h"

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <utf8proc.h>
#include <zlib.h>

/* ------------------------------------------------------------------ helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Inflate src (gzip) into dst unless dst already exists. Returns 0 on success. */
static int gunzip_to(const char *src, const char *dst)
{
    struct stat st;
    if (stat(dst, &st) == 0) return 0;
    gzFile in = gzopen(src, "rb");
    if (!in) return -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.part", dst);
    FILE *out = fopen(tmp, "wb");
    if (!out) { gzclose(in); return -1; }
    char buf[1 << 16];
    int n, rc = 0;
    while ((n = gzread(in, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) { rc = -1; break; }
    if (n < 0) rc = -1;
    gzclose(in);
    if (fclose(out)) rc = -1;
    if (!rc) rc = rename(tmp, dst);
    return rc;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) { cap *= 2; char *p = realloc(b, cap + 1); if (!p) { free(b); b = NULL; } else b = p; }
    }
    fclose(f);
    if (!b) return NULL;
    b[n] = 0;
    *len = n;
    return b;
}

static const char *json_path(void)
{
    static char p[4096];
    if (!p[0]) {
        char src[4096];
        snprintf(src, sizeof src, "%s/qwen/tokenizer.json.gz", th_testdata());
        snprintf(p, sizeof p, "%s/tokenizer.json", th_tmp());
        if (gunzip_to(src, p)) { p[0] = 0; return NULL; }
    }
    return p;
}

/* The tokenizer from tokenizer.json, loaded once for the whole file. */
static vtok *g_json;
static vtok *tok_json(void)
{
    if (!g_json) {
        const char *p = json_path();
        if (!p) return NULL;
        gguf_error err;
        double t0 = now_s();
        g_json = vtok_from_json(p, &err);
        if (!g_json) { fprintf(stderr, "vtok_from_json: %s\n", err.msg); return NULL; }
        printf("info: tokenizer.json loaded in %.3f s (%lld ids)\n", now_s() - t0, (long long)vtok_n_vocab(g_json));
    }
    return g_json;
}

/* llama.cpp's vectors: inputs split on "\n__ggml_vocab_test__\n", one output line each. The .inp ends
 * with a separator, so there are 46 inputs (llama.cpp's test-tokenizer-0 reads it the same way). They
 * are tokenized as it does: common_tokenize(text, add_special=false, parse_special=false), no BOS. */
typedef struct vec { char *text; size_t len; int32_t *ids; size_t n; } vec;
typedef struct vecset { vec *v; int n; bool loaded; } vecset;
static vecset g_vec, g_rnd;

/* Read <testdata>/vocab-tests/<name>.inp/.out into vs (once). Returns the number of vectors. */
static int load_vectors_from(vecset *vs, const char *name)
{
    if (vs->loaded) return vs->n;
    vs->loaded = true;
    char p[4096];
    size_t il, ol;
    char *inp = read_all(th_path(p, "%s/vocab-tests/%s.inp", th_testdata(), name), &il);
    char *out = read_all(th_path(p, "%s/vocab-tests/%s.out", th_testdata(), name), &ol);
    if (!inp || !out) { free(inp); free(out); return 0; }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    int cap = 64, n = 0;
    vs->v = calloc((size_t)cap, sizeof *vs->v);
    size_t pos = 0;
    while (vs->v && pos < il) {
        if (n == cap) {
            vec *q = realloc(vs->v, 2 * (size_t)cap * sizeof *q);
            if (!q) break;
            memset(q + cap, 0, (size_t)cap * sizeof *q);
            vs->v = q; cap *= 2;
        }
        char *next = memmem(inp + pos, il - pos, sep, sizeof sep - 1);
        size_t end = next ? (size_t)(next - inp) : il;
        vs->v[n].len = end - pos;
        vs->v[n].text = malloc(end - pos + 1);
        memcpy(vs->v[n].text, inp + pos, end - pos);
        vs->v[n].text[end - pos] = 0;
        n++;
        if (!next) break;
        pos = end + sizeof sep - 1;
    }
    /* outputs: line k holds the ids of input k (space separated, possibly empty) */
    char *line = out;
    for (int k = 0; k < n; k++) {
        char *nl = memchr(line, '\n', (size_t)(out + ol - line));
        if (!nl) { n = k; break; }
        *nl = 0;
        vs->v[k].ids = malloc(sizeof(int32_t) * (strlen(line) / 2 + 1));
        vs->v[k].n = 0;
        char *q = line, *e;
        for (;;) {
            long v = strtol(q, &e, 10);
            if (e == q) break;
            vs->v[k].ids[vs->v[k].n++] = (int32_t)v;
            q = e;
        }
        line = nl + 1;
    }
    free(inp);
    free(out);
    return vs->n = n;
}

static int load_vectors(void) { return load_vectors_from(&g_vec, "qwen2"); }

/* Encode every vector; returns how many match exactly, and names the first mismatch. */
static int run_vectors(const vtok *t, const vecset *vs, char *why, size_t whylen)
{
    int ok = 0;
    why[0] = 0;
    for (int k = 0; k < vs->n; k++) {
        const vec *x = &vs->v[k];
        int32_t *ids; size_t n;
        gguf_error err;
        if (vtok_encode(t, x->text, x->len, false, &ids, &n, &err)) {
            if (!why[0]) snprintf(why, whylen, "vector %d: %.300s", k, err.msg);
            continue;
        }
        bool same = n == x->n && (n == 0 || !memcmp(ids, x->ids, n * sizeof *ids));
        if (same) ok++;
        else if (!why[0]) {
            int o = snprintf(why, whylen, "vector %d '%.40s': got", k, x->text);
            for (size_t i = 0; i < n && i < 12 && o < (int)whylen; i++) o += snprintf(why + o, whylen - o, " %d", ids[i]);
            if (o < (int)whylen) o += snprintf(why + o, whylen - o, " want");
            for (size_t i = 0; i < x->n && i < 12 && o < (int)whylen; i++)
                o += snprintf(why + o, whylen - o, " %d", x->ids[i]);
        }
        free(ids);
    }
    return ok;
}

static int encode_str(const vtok *t, const char *s, bool special, int32_t **ids, size_t *n)
{
    gguf_error err;
    int rc = vtok_encode(t, s, strlen(s), special, ids, n, &err);
    if (rc) fprintf(stderr, "encode: %s\n", err.msg);
    return rc;
}

/* ------------------------------------------------------------------ tokenizer.json */

TEST(vectors_from_json)
{
    vtok *t = tok_json();
    CHECK_MSG(t, "cannot load testdata/qwen/tokenizer.json.gz");
    CHECK_EQ_INT(load_vectors(), 46);
    CHECK_EQ_INT(vtok_n_vocab(t), 151669);
    char why[512];
    int ok = run_vectors(t, &g_vec, why, sizeof why);
    CHECK_MSG(ok == 46, "%d/46 vectors match; first mismatch: %.400s", ok, why);
}

/* 400 random mixed-script inputs tokenized by the independent Python reference
 * (tests/ref/gen_random_vectors.py): contractions in odd case, many digit systems, decomposed
 * accents, jamo, emoji ZWJ sequences, CR/LF/tab runs, Unicode spaces, punctuation clusters. */
TEST(random_vectors_from_python_reference)
{
    vtok *t = tok_json();
    CHECK(t);
    int n = load_vectors_from(&g_rnd, "qwen2-random");
    CHECK_MSG(n >= 300, "only %d random vectors", n);
    char why[512];
    int ok = run_vectors(t, &g_rnd, why, sizeof why);
    CHECK_MSG(ok == n, "%d/%d random vectors match; first mismatch: %.400s", ok, n, why);
}

TEST(vocab_lookup)
{
    vtok *t = tok_json();
    CHECK(t);
    size_t len;
    const char *s = vtok_token(t, 21927, &len); /* " Hello" in byte-level form */
    CHECK(s && len == 7 && !memcmp(s, "\xc4\xa0Hello", 7));
    CHECK_EQ_INT(vtok_find(t, "\xc4\xa0Hello", 7), 21927);
    CHECK_EQ_INT(vtok_find(t, "<|im_start|>", 12), 151644);
    CHECK_EQ_INT(vtok_token_type(t, 151644), VTOK_TYPE_CONTROL);
    CHECK_EQ_INT(vtok_token_type(t, 151667), VTOK_TYPE_USER_DEFINED); /* <think>: special=false */
    CHECK_EQ_INT(vtok_token_type(t, 151659), VTOK_TYPE_CONTROL);      /* <|fim_prefix|> looks special */
    CHECK_EQ_INT(vtok_token_type(t, 9707), VTOK_TYPE_NORMAL);
    CHECK(vtok_token(t, -1, &len) == NULL && len == 0);
    CHECK(vtok_token(t, 151669, NULL) == NULL);
    CHECK_EQ_INT(vtok_find(t, "no such token \x01", 15), -1);
}

TEST(empty_text)
{
    vtok *t = tok_json();
    CHECK(t);
    int32_t *ids = NULL; size_t n = 99;
    gguf_error err;
    CHECK_EQ_INT(vtok_encode(t, "", 0, true, &ids, &n, &err), 0);
    CHECK(ids != NULL);
    CHECK_EQ_INT(n, 0);
    char *out; size_t len;
    CHECK_EQ_INT(vtok_decode(t, ids, 0, &out, &len, &err), 0);
    CHECK(out && len == 0 && out[0] == 0);
    free(out);
    free(ids);
}

TEST(invalid_utf8_rejected_with_offset)
{
    vtok *t = tok_json();
    CHECK(t);
    static const struct { const char *s; size_t len, off; } bad[] = {
        { "abc\xff" "def", 7, 3 },               /* byte never valid */
        { "Hello \xc0\xaf", 8, 6 },              /* overlong '/' */
        { "ok \xed\xa0\x80 x", 8, 3 },           /* UTF-16 surrogate */
        { "\xe2\x82\xac" "ab\xe2\x82", 7, 5 },   /* truncated at the end */
        { "x\xf4\x90\x80\x80", 5, 1 },           /* above U+10FFFF */
        { "\x80", 1, 0 },                        /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t *ids = (int32_t *)1; size_t n = 7;
        gguf_error err;
        int rc = vtok_encode(t, bad[i].s, bad[i].len, false, &ids, &n, &err);
        CHECK_MSG(rc == GGUF_E_STRING, "case %zu: rc %d", i, rc);
        CHECK_EQ_INT(err.code, GGUF_E_STRING);
        CHECK_MSG(err.offset == bad[i].off, "case %zu: offset %llu, wanted %zu", i, (unsigned long long)err.offset, bad[i].off);
        char want[64];
        snprintf(want, sizeof want, "offset %zu", bad[i].off);
        CHECK_MSG(strstr(err.msg, want), "case %zu: message '%.300s' lacks '%s'", i, err.msg, want);
        CHECK(ids == NULL && n == 0);
    }
    /* the same bytes are fine once valid: a NUL inside the text is a character like any other */
    int32_t *ids; size_t n;
    gguf_error err;
    CHECK_EQ_INT(vtok_encode(t, "a\0b", 3, false, &ids, &n, &err), 0);
    CHECK(n >= 2);
    free(ids);
}

TEST(special_tokens)
{
    vtok *t = tok_json();
    CHECK(t);
    int32_t *a, *b, *c; size_t na, nb, nc;
    /* parse_special: control tokens are matched, the rest tokenized as usual */
    CHECK_EQ_INT(encode_str(t, "<|im_start|>user\nhi there<|im_end|>\n", true, &a, &na), 0);
    CHECK_EQ_INT(encode_str(t, "user\nhi there", false, &b, &nb), 0);
    CHECK(na == nb + 3);
    CHECK_EQ_INT(a[0], 151644);
    CHECK(!memcmp(a + 1, b, nb * sizeof *b));
    CHECK_EQ_INT(a[nb + 1], 151645);
    CHECK_EQ_INT(a[nb + 2], 198);
    free(a); free(b);
    /* without parse_special a control token is plain text: no id above the regular vocab */
    CHECK_EQ_INT(encode_str(t, "<|im_start|>user", false, &a, &na), 0);
    CHECK(na > 2);
    for (size_t i = 0; i < na; i++) CHECK(a[i] < 151643);
    char *out; size_t len;
    gguf_error err;
    CHECK_EQ_INT(vtok_decode(t, a, na, &out, &len, &err), 0);
    CHECK_EQ_STR(out, "<|im_start|>user");
    free(out); free(a);
    /* user-defined added tokens (<think>) are matched either way, as llama.cpp does */
    CHECK_EQ_INT(encode_str(t, "<think>\nok</think>", false, &a, &na), 0);
    CHECK_EQ_INT(encode_str(t, "\nok", false, &b, &nb), 0);
    CHECK(na == nb + 2 && a[0] == 151667 && a[na - 1] == 151668);
    CHECK(!memcmp(a + 1, b, nb * sizeof *b));
    /* decode gives added tokens back as their text */
    CHECK_EQ_INT(encode_str(t, "x<|endoftext|><think>", true, &c, &nc), 0);
    CHECK(nc == 3 && c[1] == 151643 && c[2] == 151667);
    CHECK_EQ_INT(vtok_decode(t, c, nc, &out, &len, &err), 0);
    CHECK_EQ_STR(out, "x<|endoftext|><think>");
    free(out); free(a); free(b); free(c);
}

/* A vtok is read-only after load: many threads encoding at once get the single-thread ids. */
TEST(concurrent_encode)
{
    vtok *t = tok_json();
    CHECK(t);
    CHECK_EQ_INT(load_vectors_from(&g_rnd, "qwen2-random") > 0, 1);
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(4) schedule(dynamic, 1) reduction(+ : bad)
#endif
    for (int rep = 0; rep < 8; rep++) {
        char why[512];
        if (run_vectors(t, &g_rnd, why, sizeof why) != g_rnd.n) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(nfc_normalization)
{
    vtok *t = tok_json();
    CHECK(t);
    int32_t *a, *b; size_t na, nb;
    /* "Äpfel café" decomposed (A + U+0308, e + U+0301) tokenizes like the precomposed text */
    CHECK_EQ_INT(encode_str(t, "A\xcc\x88pfel cafe\xcc\x81", false, &a, &na), 0);
    CHECK_EQ_INT(encode_str(t, "\xc3\x84pfel caf\xc3\xa9", false, &b, &nb), 0);
    CHECK(na == nb && !memcmp(a, b, na * sizeof *a));
    free(a); free(b);
}

/* Long runs of one class (one huge pre-token word, or a huge whitespace run) must neither blow
 * up nor change bytes: BPE is O(n log n) per word and the regex does not recurse per character. */
TEST(long_runs_roundtrip)
{
    vtok *t = tok_json();
    CHECK(t);
    static const char *unit[] = { "a", "ab", " ", "\n", "!", "\xe6\x88\x91", "7", "\r\n", " \t", "\xc3\xa9" };
    const size_t target = 60000;
    char *buf = malloc(target + 8);
    CHECK(buf);
    for (size_t u = 0; u < sizeof unit / sizeof *unit; u++) {
        size_t ul = strlen(unit[u]), n = 0;
        while (n + ul <= target) { memcpy(buf + n, unit[u], ul); n += ul; }
        int32_t *ids; size_t ni;
        gguf_error err;
        int rc = vtok_encode(t, buf, n, false, &ids, &ni, &err);
        if (rc) free(buf);
        CHECK_MSG(rc == 0, "unit %zu: %.400s", u, err.msg);
        char *out; size_t ol;
        rc = vtok_decode(t, ids, ni, &out, &ol, &err);
        bool same = rc == 0 && ol == n && !memcmp(out, buf, n);
        free(ids); free(out);
        if (!same) free(buf);
        CHECK_MSG(same, "unit %zu: round trip differs", u);
        CHECK(ni > 0 && ni <= n);
    }
    free(buf);
}

TEST(decode_roundtrip_vectors)
{
    vtok *t = tok_json();
    CHECK(t);
    CHECK_EQ_INT(load_vectors(), 46);
    for (int k = 0; k < g_vec.n; k++) {
        char *out; size_t len;
        gguf_error err;
        CHECK_EQ_INT(vtok_decode(t, g_vec.v[k].ids, g_vec.v[k].n, &out, &len, &err), 0);
        CHECK_MSG(len == g_vec.v[k].len && !memcmp(out, g_vec.v[k].text, len), "vector %d decodes to '%.200s'", k, out);
        free(out);
    }
    int32_t bad[2] = { 9707, 151669 };
    char *out; size_t len;
    gguf_error err;
    CHECK_EQ_INT(vtok_decode(t, bad, 2, &out, &len, &err), GGUF_E_NOT_FOUND);
    CHECK(out == NULL && strstr(err.msg, "151669") && strstr(err.msg, "index 1"));
}

TEST(json_errors)
{
    gguf_error err;
    char p[4096];
    CHECK(vtok_from_json(th_path(p, "%s/no-such-tokenizer.json", th_tmp()), &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_IO);
    CHECK(strstr(err.msg, "no-such-tokenizer.json"));
    FILE *f = fopen(th_path(p, "%s/broken.json", th_tmp()), "w");
    CHECK(f);
    fputs("{\"model\": {\"type\": \"BPE\",\n \"vocab\": {\"a\": 0,}", f);
    fclose(f);
    CHECK(vtok_from_json(p, &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_STRING);
    CHECK(strstr(err.msg, "broken.json") && strstr(err.msg, "line 2"));
    f = fopen(th_path(p, "%s/wordpiece.json", th_tmp()), "w");
    CHECK(f);
    fputs("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"merges\": []}}", f);
    fclose(f);
    CHECK(vtok_from_json(p, &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_TYPE);
    CHECK(strstr(err.msg, "WordPiece"));
    vtok_free(NULL);
}

/* ------------------------------------------------------------------ WikiText-2 */

/* Expected for wiki.test.raw (1,290,590 bytes), computed by this implementation and cross-checked
 * by tests/ref/qwen2_tokenize.py (an independent pure-Python tokenizer): token count and FNV-1a 64
 * over the ids as little-endian u32. */
#define WIKI_N_TOKENS  299078ull
#define WIKI_FNV       0xb6183fb61275fd2aull

static uint64_t fnv_ids(const int32_t *ids, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) { h ^= ((uint32_t)ids[i] >> (8 * k)) & 0xFF; h *= 0x100000001b3ull; }
    return h;
}

/* WikiText-2 test split, inflated into TH_TMP once; malloc'ed copy. */
static char *wiki_text(size_t *len)
{
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/wikitext-2/wiki.test.raw.gz", th_testdata());
    snprintf(dst, sizeof dst, "%s/wiki.test.raw", th_tmp());
    if (gunzip_to(src, dst)) return NULL;
    return read_all(dst, len);
}

TEST(wikitext2)
{
    vtok *t = tok_json();
    CHECK(t);
    size_t len;
    char *text = wiki_text(&len);
    CHECK_MSG(text, "cannot inflate testdata/wikitext-2/wiki.test.raw.gz");
    CHECK_EQ_INT(len, 1290590);
    int32_t *ids, *ids1; size_t n, n1;
    gguf_error err;
    double t0 = now_s();
    CHECK_EQ_INT(vtok_encode_mt(t, text, len, false, 0, &ids, &n, &err), 0);
    double t1 = now_s();
    CHECK_EQ_INT(vtok_encode(t, text, len, false, &ids1, &n1, &err), 0);
    double t2 = now_s();
    printf("info: wiki.test.raw: %zu tokens, fnv %016llx; encode_mt %.3f s, encode %.3f s\n", n,
           (unsigned long long)fnv_ids(ids, n), t1 - t0, t2 - t1);
    /* threads change nothing */
    CHECK(n == n1 && !memcmp(ids, ids1, n * sizeof *ids));
    free(ids1);
    CHECK_EQ_INT(n, WIKI_N_TOKENS);
    CHECK_EQ_INT(fnv_ids(ids, n), WIKI_FNV);
    /* decode(encode(x)) == NFC(x) over the whole file */
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t nl = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfc,
                                       UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    CHECK(nl >= 0);
    char *dec; size_t dl;
    CHECK_EQ_INT(vtok_decode(t, ids, n, &dec, &dl, &err), 0);
    size_t at = 0;
    while (at < dl && at < (size_t)nl && dec[at] == (char)nfc[at]) at++;
    CHECK_MSG(dl == (size_t)nl && at == dl, "decode differs from NFC(text) at byte %zu (%zu vs %zd bytes)", at, dl, nl);
    free(dec); free(nfc); free(ids); free(text);
}

/* ------------------------------------------------------------------ GGUF */

/* Write a GGUF the way convert does: tokens in id order padded to n_pad with [PADn] (type
 * UNUSED), token_type, merges "a b" from tokenizer.json. */
static int write_vocab_gguf(const char *path, const vtok *t, int64_t n_pad, const char *model, const char *pre)
{
    gguf_error err;
    json_error_t je;
    json_t *root = json_load_file(json_path(), 0, &je);
    if (!root) return -1;
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    size_t nm = json_array_size(merges);
    gguf_str *ms = calloc(nm, sizeof *ms);
    gguf_str *toks = calloc((size_t)n_pad, sizeof *toks);
    int32_t *types = calloc((size_t)n_pad, sizeof *types);
    char *pads = malloc((size_t)n_pad * 16);
    int rc = -1;
    gguf_writer *w = NULL;
    if (!ms || !toks || !types || !pads) goto out;
    for (size_t i = 0; i < nm; i++) {
        json_t *m = json_array_get(merges, i);
        const char *a = json_string_value(json_array_get(m, 0)), *b = json_string_value(json_array_get(m, 1));
        size_t la = strlen(a), lb = strlen(b);
        char *s = malloc(la + lb + 2);
        memcpy(s, a, la); s[la] = ' '; memcpy(s + la + 1, b, lb);
        ms[i].ptr = s; ms[i].len = la + lb + 1;
    }
    for (int64_t id = 0; id < n_pad; id++) {
        size_t len;
        const char *s = id < vtok_n_vocab(t) ? vtok_token(t, (int32_t)id, &len) : NULL;
        if (s) { toks[id].ptr = s; toks[id].len = len; types[id] = vtok_token_type(t, (int32_t)id); }
        else {
            char *p = pads + 16 * id;
            toks[id].len = (uint64_t)snprintf(p, 16, "[PAD%lld]", (long long)id);
            toks[id].ptr = p;
            types[id] = VTOK_TYPE_UNUSED;
        }
    }
    w = gguf_writer_open(path, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    if (!w) goto out;
    if (gguf_writer_kv_str(w, "general.architecture", "qwen2", 5) ||
        gguf_writer_kv_str(w, "tokenizer.ggml.model", model, strlen(model)) ||
        gguf_writer_kv_str(w, "tokenizer.ggml.pre", pre, strlen(pre)) ||
        gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, (uint64_t)n_pad) ||
        gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_KV_INT32, types, (uint64_t)n_pad) ||
        gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges", ms, nm) ||
        gguf_writer_begin_data(w)) { gguf_writer_abort(w); goto out; }
    rc = gguf_writer_finish(w, &err) ? -1 : 0;
out:
    if (rc) fprintf(stderr, "write_vocab_gguf: %s\n", err.msg);
    for (size_t i = 0; ms && i < nm; i++) free((void *)ms[i].ptr);
    free(ms); free(toks); free(types); free(pads);
    json_decref(root);
    return rc;
}

TEST(vectors_from_gguf)
{
    vtok *tj = tok_json();
    CHECK(tj);
    CHECK_EQ_INT(load_vectors(), 46);
    char p[4096];
    th_path(p, "%s/qwen2-vocab.gguf", th_tmp());
    CHECK_MSG(write_vocab_gguf(p, tj, 151936, "gpt2", "qwen2") == 0, "cannot write %.200s", p);
    gguf_error err;
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "gguf_open: %.400s", err.msg);
    double t0 = now_s();
    vtok *tg = vtok_from_gguf(f, &err);
    printf("info: GGUF vocab loaded in %.3f s\n", now_s() - t0);
    gguf_close(f); /* the tokenizer keeps its own copy */
    CHECK_MSG(tg, "vtok_from_gguf: %.400s", err.msg);
    CHECK_EQ_INT(vtok_n_vocab(tg), 151936);
    size_t len;
    CHECK(vtok_token(tg, 151935, &len) && len == 11 && !memcmp(vtok_token(tg, 151935, NULL), "[PAD151935]", 11));
    char why[512];
    int ok = run_vectors(tg, &g_vec, why, sizeof why);
    if (ok != 46) vtok_free(tg);
    CHECK_MSG(ok == 46, "%d/46 vectors match from GGUF; first mismatch: %.400s", ok, why);
    int nr = load_vectors_from(&g_rnd, "qwen2-random");
    ok = run_vectors(tg, &g_rnd, why, sizeof why);
    if (ok != nr) vtok_free(tg);
    CHECK_MSG(ok == nr, "%d/%d random vectors match from GGUF; first mismatch: %.400s", ok, nr, why);
    /* WikiText-2: the same ids as from tokenizer.json */
    size_t wl;
    char *wt = wiki_text(&wl);
    if (!wt) vtok_free(tg);
    CHECK(wt);
    int32_t *wa, *wb; size_t nwa, nwb;
    int rwa = vtok_encode(tj, wt, wl, false, &wa, &nwa, &err);
    int rwb = vtok_encode(tg, wt, wl, false, &wb, &nwb, &err);
    free(wt);
    bool same = rwa == 0 && rwb == 0 && nwa == nwb && !memcmp(wa, wb, nwa * sizeof *wa);
    free(wa); free(wb);
    if (!same) vtok_free(tg);
    CHECK_MSG(same, "WikiText-2 ids differ between tokenizer.json and GGUF");
    /* the same ids as tokenizer.json on text with added tokens and NFC work too */
    static const char s[] = "<|im_start|>system\nA\xcc\x88pfel <think>\xe6\x88\x91\xe6\x83\xb3</think><|im_end|>";
    int32_t *a, *b; size_t na, nb;
    int ra = vtok_encode(tj, s, sizeof s - 1, true, &a, &na, &err);
    int rb = vtok_encode(tg, s, sizeof s - 1, true, &b, &nb, &err);
    vtok_free(tg);
    CHECK(ra == 0 && rb == 0);
    CHECK(na == nb && !memcmp(a, b, na * sizeof *a));
    free(a); free(b);
}

TEST(gguf_refuses_other_tokenizers)
{
    vtok *tj = tok_json();
    CHECK(tj);
    static const struct { const char *model, *pre, *want; } cases[] = {
        { "gpt2", "llama-bpe", "'llama-bpe'" },
        { "llama", "qwen2", "'llama'" },
    };
    for (size_t i = 0; i < 2; i++) {
        char p[4096];
        th_path(p, "%s/other-%zu.gguf", th_tmp(), i);
        CHECK(write_vocab_gguf(p, tj, 151669, cases[i].model, cases[i].pre) == 0);
        gguf_error err;
        gguf_file *f = gguf_open(p, &err);
        CHECK_MSG(f, "gguf_open: %.400s", err.msg);
        vtok *t = vtok_from_gguf(f, &err);
        gguf_close(f);
        CHECK(t == NULL);
        CHECK_EQ_INT(err.code, GGUF_E_TYPE);
        CHECK_MSG(strstr(err.msg, cases[i].want) && strstr(err.msg, "other-"), "message: %.400s", err.msg);
    }
}

/* A tiny GGUF with the given tokenizer keys, for the loader's error paths. */
enum { BAD_NO_MERGES, BAD_TYPE_U32, BAD_TYPE_COUNT, BAD_TOKENS_NOT_STR, BAD_NO_BYTES };

static int write_bad_gguf(const char *path, int variant)
{
    gguf_error err;
    gguf_writer *w = gguf_writer_open(path, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    if (!w) return -1;
    gguf_str toks[3] = { { "a", 1 }, { "b", 1 }, { "ab", 2 } };
    gguf_str merges[1] = { { "a b", 3 } };
    int32_t types[3] = { 1, 1, 1 };
    uint32_t utypes[3] = { 1, 1, 1 };
    int rc = gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", 4) |
             gguf_writer_kv_str(w, "tokenizer.ggml.pre", "qwen2", 5);
    if (variant == BAD_TOKENS_NOT_STR) rc |= gguf_writer_kv_arr(w, "tokenizer.ggml.tokens", GGUF_KV_INT32, types, 3);
    else rc |= gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
    if (variant == BAD_TYPE_U32) rc |= gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_KV_UINT32, utypes, 3);
    else rc |= gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_KV_INT32, types, variant == BAD_TYPE_COUNT ? 2 : 3);
    if (variant != BAD_NO_MERGES) rc |= gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    rc |= gguf_writer_begin_data(w);
    if (rc) { gguf_writer_abort(w); return -1; }
    return gguf_writer_finish(w, &err) ? -1 : 0;
}

TEST(gguf_loader_errors)
{
    static const struct { int variant, code; const char *want; } cases[] = {
        { BAD_NO_MERGES, GGUF_E_NOT_FOUND, "tokenizer.ggml.merges" },
        { BAD_TYPE_U32, GGUF_E_WRONG_TYPE, "tokenizer.ggml.token_type" },
        { BAD_TYPE_COUNT, GGUF_E_COUNT, "token_type has 2 entries" },
        { BAD_TOKENS_NOT_STR, GGUF_E_WRONG_TYPE, "tokenizer.ggml.tokens" },
        { BAD_NO_BYTES, GGUF_E_NOT_FOUND, "no token for byte 0x00" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char p[4096];
        th_path(p, "%s/bad-%zu.gguf", th_tmp(), i);
        CHECK(write_bad_gguf(p, cases[i].variant) == 0);
        gguf_error err;
        gguf_file *f = gguf_open(p, &err);
        CHECK_MSG(f, "gguf_open: %.400s", err.msg);
        vtok *t = vtok_from_gguf(f, &err);
        gguf_close(f);
        vtok_free(t);
        CHECK_MSG(t == NULL, "case %zu accepted", i);
        CHECK_MSG(err.code == cases[i].code && strstr(err.msg, cases[i].want) && strstr(err.msg, "bad-"),
                  "case %zu: code %d, message '%.400s'", i, err.code, err.msg);
    }
}

/* End to end with the project's converter: gguf-synth writes a tiny Qwen2 model directory around
 * testdata/qwen/tokenizer.json.gz, gguf-convert turns it into a GGUF, and the tokenizer read back
 * from that GGUF must agree with tokenizer.json token by token and on every vector. */
TEST(converted_gguf_matches_json)
{
    vtok *tj = tok_json();
    CHECK(tj);
    const char *bin = th_env("TH_BIN", "build/bin");
    char synth[4096], conv[4096], dir[4096], out[4096], cmd[16384];
    th_path(synth, "%s/gguf-synth", bin);
    th_path(conv, "%s/gguf-convert", bin);
    struct stat st;
    if (stat(synth, &st) || stat(conv, &st)) TH_SKIP("gguf-synth/gguf-convert not built in %s", bin);
    th_path(dir, "%s/synth-model", th_tmp());
    th_path(out, "%s/synth-model.gguf", th_tmp());
    snprintf(cmd, sizeof cmd, "'%s' '%s' --hidden 32 --ffn 64 --heads 4 --kv-heads 2 --layers 1 --tied --shards 1 "
             "-q --force --tokenizer-dir '%s/qwen' && '%s' '%s' -o '%s' -q --force", synth, dir, th_testdata(), conv, dir, out);
    CHECK_MSG(system(cmd) == 0, "failed: %.900s", cmd);
    gguf_error err;
    gguf_file *f = gguf_open(out, &err);
    CHECK_MSG(f, "gguf_open: %.400s", err.msg);
    vtok *tg = vtok_from_gguf(f, &err);
    gguf_close(f);
    CHECK_MSG(tg, "vtok_from_gguf: %.400s", err.msg);
    int64_t nv = vtok_n_vocab(tg);
    int bad_id = -1;
    for (int32_t id = 0; id < nv && bad_id < 0; id++) {
        size_t lj, lg;
        const char *sj = vtok_token(tj, id, &lj), *sg = vtok_token(tg, id, &lg);
        if (!sg) bad_id = id;
        else if (sj ? (lj != lg || memcmp(sj, sg, lj) || vtok_token_type(tj, id) != vtok_token_type(tg, id))
                    : vtok_token_type(tg, id) != VTOK_TYPE_UNUSED)
            bad_id = id;
    }
    char why[512];
    int ok = bad_id < 0 ? run_vectors(tg, &g_vec, why, sizeof why) : -1;
    int nr = load_vectors_from(&g_rnd, "qwen2-random");
    int okr = bad_id < 0 ? run_vectors(tg, &g_rnd, why, sizeof why) : -1;
    vtok_free(tg);
    CHECK_EQ_INT(nv, 151936);
    CHECK_MSG(bad_id < 0, "token %d differs between tokenizer.json and the converted GGUF", bad_id);
    CHECK_MSG(ok == g_vec.n && okr == nr, "vectors %d/%d, random %d/%d: %.400s", ok, g_vec.n, okr, nr, why);
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
    vtok_free(g_json);
    vecset *sets[2] = { &g_vec, &g_rnd };
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < sets[i]->n; k++) { free(sets[i]->v[k].text); free(sets[i]->v[k].ids); }
        free(sets[i]->v);
    }
}

TH_MAIN()
