/* vocab.c - tokenizer.json / tokenizer_config.json / config.json -> tokenizer.* KVs; see convert.h. */
#include "convert/convert.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Qwen2 pre-tokenizer split regex as tokenizer.json spells it. convert_hf_to_gguf.py names
 * the pre-tokenizer by hashing the token ids of a check string; a Qwen2/2.5/QwQ tokenizer hashes
 * to "qwen2". We recognise the same tokenizers by their split regex instead. */
static const char vocab__qwen2_regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char *const vocab__kinds[] = { "bos", "eos", "unk", "sep", "pad", "cls", "mask" };
#define VOCAB_N_KINDS 7
static const char *const vocab__keys[] = {
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.cls_token_id",
    "tokenizer.ggml.mask_token_id",
};

struct conv_vocab {
    int64_t  n;
    char   **tokens;
    int32_t *types;
    int64_t  n_merges;
    char   **merges;
    int64_t  special[VOCAB_N_KINDS];   /* -1 = unset */
    int      special_order[VOCAB_N_KINDS];
    int      n_special;
    int      add_flag[VOCAB_N_KINDS];  /* -1 unset, 0/1 */
    char    *chat_template;
};

void conv_vocab_free(conv_vocab *v)
{
    if (!v) return;
    for (int64_t i = 0; i < v->n; i++) free(v->tokens ? v->tokens[i] : NULL);
    free(v->tokens);
    free(v->types);
    for (int64_t i = 0; i < v->n_merges; i++) free(v->merges[i]);
    free(v->merges);
    free(v->chat_template);
    free(v);
}

int64_t conv_vocab_n_tokens(const conv_vocab *v) { return v->n; }
const char *conv_vocab_token(const conv_vocab *v, int64_t id) { return id >= 0 && id < v->n ? v->tokens[id] : NULL; }
int32_t conv_vocab_token_type(const conv_vocab *v, int64_t id) { return id >= 0 && id < v->n ? v->types[id] : 0; }
int64_t conv_vocab_n_merges(const conv_vocab *v) { return v->n_merges; }
const char *conv_vocab_chat_template(const conv_vocab *v) { return v->chat_template; }
int64_t conv_vocab_special(const conv_vocab *v, const char *kind)
{
    for (int k = 0; k < VOCAB_N_KINDS; k++)
        if (!strcmp(kind, vocab__kinds[k])) return v->special[k];
    return -1;
}

/* gguf-py does_token_look_special */
static bool vocab__looks_special(const char *s)
{
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]")) return true;
    if (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>")) return true;
    /* "<｜" ... "｜>" (fullwidth vertical line U+FF5C = EF BD 9C) */
    if (n >= 8 && !strncmp(s, "<\xEF\xBD\x9C", 4) && !strcmp(s + n - 4, "\xEF\xBD\x9C>")) return true;
    if (n >= 8 && !strncmp(s, "<unused", 7) && s[n - 1] == '>') return true;
    return false;
}

static int vocab__json(const char *buf, size_t len, const char *name, json_t **out, gguf_error *err)
{
    json_error_t je;
    *out = json_loadb(buf, len, 0, &je);
    if (!*out)
        return gguf_error_set(err, CONV_E_JSON, je.position > 0 ? (uint64_t)je.position : UINT64_MAX,
                              "'%s': not valid JSON: line %d, column %d: %s", name, je.line, je.column, je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return gguf_error_set(err, CONV_E_JSON, 0, "'%s': not a JSON object", name);
    }
    return 0;
}

#define NOMEM() gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory")

static void vocab__set_special(conv_vocab *v, int kind, json_t *id)
{
    /* gguf-py _set_special_token: ints only (a JSON bool is not one here), first one wins */
    if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > UINT32_MAX ||
        v->special[kind] >= 0)
        return;
    v->special[kind] = json_integer_value(id);
    v->special_order[v->n_special++] = kind;
}

int conv_vocab_parse(const conv_vocab_src *src, int64_t n_vocab, conv_vocab **out, gguf_error *err)
{
    *out = NULL;
    int rc = 0;
    json_t *tok = NULL, *tcfg = NULL, *cfg = NULL, *ctj = NULL;
    const char *tn = src->tok_name ? src->tok_name : "tokenizer.json";
    conv_vocab *v = calloc(1, sizeof *v);
    if (!v) return NOMEM();
    for (int k = 0; k < VOCAB_N_KINDS; k++) { v->special[k] = -1; v->add_flag[k] = -1; }
    if (n_vocab < 1 || n_vocab > (1 << 24)) { rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "vocab_size %" PRId64 " is absurd", n_vocab); goto fail; }
    if (!src->tok_json) { rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s' is missing", tn); goto fail; }
    if ((rc = vocab__json(src->tok_json, src->tok_len, tn, &tok, err))) goto fail;

    json_t *model = json_object_get(tok, "model");
    const char *mtype = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(model) || !mtype || strcmp(mtype, "BPE")) {
        rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s': model.type is not \"BPE\"", tn);
        goto fail;
    }
    /* pre-tokenizer: must be Qwen2's */
    {
        json_t *pt = json_object_get(tok, "pre_tokenizer");
        json_t *list = json_object_get(pt, "pretokenizers");
        const char *re = NULL;
        if (json_is_array(list)) {
            size_t i;
            json_t *p;
            json_array_foreach(list, i, p) {
                const char *ty = json_string_value(json_object_get(p, "type"));
                if (ty && !strcmp(ty, "Split")) { re = json_string_value(json_object_get(json_object_get(p, "pattern"), "Regex")); break; }
            }
        }
        if (!re || strcmp(re, vocab__qwen2_regex)) {
            rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX,
                                "'%s': pre_tokenizer is not Qwen2's split regex (only tokenizer.ggml.pre \"qwen2\" is supported)", tn);
            goto fail;
        }
    }

    v->n = n_vocab;
    v->tokens = calloc((size_t)n_vocab, sizeof *v->tokens);
    v->types = calloc((size_t)n_vocab, sizeof *v->types);
    bool *added = calloc((size_t)n_vocab, sizeof *added), *special = calloc((size_t)n_vocab, sizeof *special);
    if (!v->tokens || !v->types || !added || !special) { free(added); free(special); rc = NOMEM(); goto fail; }

    json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab)) { rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s': model.vocab is not an object", tn); goto fail_ab; }
    {
        const char *k;
        json_t *id;
        json_object_foreach(vocab, k, id) {
            if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= n_vocab) {
                rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX,
                                    "'%s': model.vocab token '%.40s' has id outside 0..vocab_size-1 (%" PRId64 ")", tn, k, n_vocab - 1);
                goto fail_ab;
            }
            int64_t i = json_integer_value(id);
            free(v->tokens[i]);
            if (!(v->tokens[i] = strdup(k))) { rc = NOMEM(); goto fail_ab; }
        }
    }
    json_t *atoks = json_object_get(tok, "added_tokens");
    if (atoks && !json_is_array(atoks)) { rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s': added_tokens is not a list", tn); goto fail_ab; }
    {
        size_t i;
        json_t *a;
        json_array_foreach(atoks, i, a) {
            json_t *id = json_object_get(a, "id");
            const char *content = json_string_value(json_object_get(a, "content"));
            if (!content || !json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= n_vocab) {
                rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX,
                                    "'%s': added_tokens[%zu] has no content or an id outside 0..vocab_size-1 (%" PRId64 ")",
                                    tn, i, n_vocab - 1);
                goto fail_ab;
            }
            int64_t t = json_integer_value(id);
            free(v->tokens[t]);
            if (!(v->tokens[t] = strdup(content))) { rc = NOMEM(); goto fail_ab; }
            added[t] = true;
            special[t] = json_is_true(json_object_get(a, "special"));
        }
    }
    for (int64_t i = 0; i < n_vocab; i++) {
        if (!v->tokens[i]) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%" PRId64 "]", i);
            if (!(v->tokens[i] = strdup(pad))) { rc = NOMEM(); goto fail_ab; }
            v->types[i] = CONV_TOK_UNUSED;
        } else if (added[i]) {
            if (special[i] || vocab__looks_special(v->tokens[i])) {
                v->types[i] = CONV_TOK_CONTROL;
            } else {
                /* pre-normalise user-defined spaces: U+2581 -> ' ' */
                char *s = v->tokens[i], *d = s;
                for (; *s; ) {
                    if ((unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x96 && (unsigned char)s[2] == 0x81) { *d++ = ' '; s += 3; }
                    else *d++ = *s++;
                }
                *d = 0;
                v->types[i] = CONV_TOK_USER_DEFINED;
            }
        } else {
            v->types[i] = CONV_TOK_NORMAL;
        }
    }
    free(added);
    free(special);
    added = special = NULL;

    /* merges: "a b" strings, or [a, b] pairs whose spaces become U+0120 */
    json_t *merges = json_object_get(model, "merges");
    if (json_is_array(merges) && json_array_size(merges) > 0) {
        size_t nm = json_array_size(merges);
        v->merges = calloc(nm, sizeof *v->merges);
        if (!v->merges) { rc = NOMEM(); goto fail; }
        bool pairs = json_is_array(json_array_get(merges, 0));
        for (size_t i = 0; i < nm; i++) {
            json_t *e = json_array_get(merges, i);
            char *s = NULL;
            if (!pairs && json_is_string(e)) {
                s = strdup(json_string_value(e));
            } else if (pairs && json_is_array(e) && json_array_size(e) == 2 && json_is_string(json_array_get(e, 0)) &&
                       json_is_string(json_array_get(e, 1))) {
                const char *a = json_string_value(json_array_get(e, 0)), *b = json_string_value(json_array_get(e, 1));
                size_t la = strlen(a), lb = strlen(b);
                s = malloc(2 * (la + lb) + 2);
                if (s) {
                    char *d = s;
                    for (const char *p = a; *p; p++) { if (*p == ' ') { *d++ = (char)0xC4; *d++ = (char)0xA0; } else *d++ = *p; }
                    *d++ = ' ';
                    for (const char *p = b; *p; p++) { if (*p == ' ') { *d++ = (char)0xC4; *d++ = (char)0xA0; } else *d++ = *p; }
                    *d = 0;
                }
            } else {
                rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s': model.merges[%zu] is neither \"a b\" nor [a, b]", tn, i);
                goto fail;
            }
            if (!s) { rc = NOMEM(); goto fail; }
            v->merges[v->n_merges++] = s;
        }
    }

    /* tokenizer_config.json: chat template, add_*_token, *_token strings resolved in added_tokens */
    if (src->tcfg_json) {
        const char *cn = src->tcfg_name ? src->tcfg_name : "tokenizer_config.json";
        if ((rc = vocab__json(src->tcfg_json, src->tcfg_len, cn, &tcfg, err))) goto fail;
        /* gguf-py: cls stands in for a missing bos, sep for a missing eos */
        json_t *b = json_object_get(tcfg, "bos_token"), *c = json_object_get(tcfg, "cls_token");
        if ((!b || json_is_null(b) || (json_is_string(b) && !json_string_length(b))) && c &&
            !(json_is_null(c) || (json_is_string(c) && !json_string_length(c))))
            json_object_set(tcfg, "bos_token", c);
        json_t *e = json_object_get(tcfg, "eos_token"), *s = json_object_get(tcfg, "sep_token");
        if ((!e || json_is_null(e) || (json_is_string(e) && !json_string_length(e))) && s &&
            !(json_is_null(s) || (json_is_string(s) && !json_string_length(s))))
            json_object_set(tcfg, "eos_token", s);

        const char *tmpl = NULL;
        json_t *ct = json_object_get(tcfg, "chat_template");
        if (json_is_string(ct)) {
            tmpl = json_string_value(ct);
        } else if (json_is_array(ct)) {
            /* named templates: keep the "default" one */
            size_t i;
            json_t *x;
            json_array_foreach(ct, i, x) {
                const char *nm = json_string_value(json_object_get(x, "name"));
                if (nm && !strcmp(nm, "default")) tmpl = json_string_value(json_object_get(x, "template"));
            }
        } else if (!ct) {
            if (src->jinja) {
                v->chat_template = strndup(src->jinja, src->jinja_len);
                if (!v->chat_template) { rc = NOMEM(); goto fail; }
            } else if (src->ctjson) {
                if ((rc = vocab__json(src->ctjson, src->ctjson_len, src->ctjson_name ? src->ctjson_name : "chat_template.json", &ctj, err)))
                    goto fail;
                tmpl = json_string_value(json_object_get(ctj, "chat_template"));
            }
        }
        if (tmpl && !(v->chat_template = strdup(tmpl))) { rc = NOMEM(); goto fail; }

        for (int k = 0; k < VOCAB_N_KINDS; k++) {
            char key[32];
            snprintf(key, sizeof key, "add_%s_token", vocab__kinds[k]);
            json_t *af = json_object_get(tcfg, key);
            if (json_is_boolean(af)) v->add_flag[k] = json_is_true(af);
            snprintf(key, sizeof key, "%s_token", vocab__kinds[k]);
            json_t *ent = json_object_get(tcfg, key);
            const char *content = json_is_string(ent) ? json_string_value(ent)
                                : json_is_object(ent) ? json_string_value(json_object_get(ent, "content")) : NULL;
            if (!content) continue;
            size_t i;
            json_t *a;
            json_array_foreach(atoks, i, a) {
                const char *ac = json_string_value(json_object_get(a, "content"));
                if (ac && !strcmp(ac, content)) { vocab__set_special(v, k, json_object_get(a, "id")); break; }
            }
        }
    }
    /* config.json *_token_id fill in the ones still missing */
    if (src->cfg_json) {
        if ((rc = vocab__json(src->cfg_json, src->cfg_len, src->cfg_name ? src->cfg_name : "config.json", &cfg, err))) goto fail;
        for (int k = 0; k < VOCAB_N_KINDS; k++) {
            char key[32];
            snprintf(key, sizeof key, "%s_token_id", vocab__kinds[k]);
            vocab__set_special(v, k, json_object_get(cfg, key));
        }
    }
    json_decref(tok);
    json_decref(tcfg);
    json_decref(cfg);
    json_decref(ctj);
    *out = v;
    return 0;
fail_ab:
    free(added);
    free(special);
fail:
    json_decref(tok);
    json_decref(tcfg);
    json_decref(cfg);
    json_decref(ctj);
    conv_vocab_free(v);
    return rc;
}

/* Read a whole file; NULL with *missing = true if it does not exist. */
static char *vocab__read(const char *path, size_t *len, bool *missing, gguf_error *err, int *rc)
{
    *missing = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) { *missing = true; return NULL; }
        *rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = cap > (SIZE_MAX / 4) ? NULL : realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        *rc = gguf_error_set(err, bad ? GGUF_E_IO : GGUF_E_NOMEM, UINT64_MAX, "cannot read '%s'", path);
        return NULL;
    }
    *len = n;
    return buf;
}

int conv_vocab_load(const char *dir, int64_t n_vocab, conv_vocab **out, gguf_error *err)
{
    *out = NULL;
    static const char *const names[5] = { "tokenizer.json", "tokenizer_config.json", "config.json",
                                          "chat_template.jinja", "chat_template.json" };
    char paths[5][PATH_MAX];
    char *bufs[5] = { 0 };
    size_t lens[5] = { 0 };
    int rc = 0;
    for (int i = 0; i < 5 && !rc; i++) {
        int n = snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
        if (n < 0 || (size_t)n >= sizeof paths[i]) { rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "path too long: '%s'", dir); break; }
        bool missing;
        bufs[i] = vocab__read(paths[i], &lens[i], &missing, err, &rc);
        if (missing && i == 0)
            rc = gguf_error_set(err, CONV_E_VOCAB, UINT64_MAX, "'%s': missing (a Qwen2 BPE tokenizer.json is required)", paths[0]);
    }
    if (!rc) {
        conv_vocab_src s = { bufs[0], lens[0], paths[0], bufs[1], lens[1], paths[1], bufs[2], lens[2], paths[2],
                             bufs[3], lens[3], bufs[4], lens[4], paths[4] };
        rc = conv_vocab_parse(&s, n_vocab, out, err);
    }
    for (int i = 0; i < 5; i++) free(bufs[i]);
    return rc;
}

int conv_vocab_write(const conv_vocab *v, gguf_writer *w, gguf_error *err)
{
    int rc;
    gguf_str *strs = NULL;
    if ((rc = gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", 4)) ||
        (rc = gguf_writer_kv_str(w, "tokenizer.ggml.pre", "qwen2", 5)))
        goto out;
    int64_t nmax = v->n > v->n_merges ? v->n : v->n_merges;
    strs = malloc((size_t)(nmax ? nmax : 1) * sizeof *strs);
    if (!strs) { rc = NOMEM(); return rc; }
    for (int64_t i = 0; i < v->n; i++) strs[i] = (gguf_str){ v->tokens[i], strlen(v->tokens[i]) };
    if ((rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", strs, (uint64_t)v->n)) ||
        (rc = gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_KV_INT32, v->types, (uint64_t)v->n)))
        goto out;
    if (v->n_merges) {
        for (int64_t i = 0; i < v->n_merges; i++) strs[i] = (gguf_str){ v->merges[i], strlen(v->merges[i]) };
        if ((rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges", strs, (uint64_t)v->n_merges))) goto out;
    }
    for (int j = 0; j < v->n_special; j++) {
        int k = v->special_order[j];
        if ((rc = gguf_writer_kv_u32(w, vocab__keys[k], (uint32_t)v->special[k]))) goto out;
    }
    if (v->add_flag[0] >= 0 && (rc = gguf_writer_kv_bool(w, "tokenizer.ggml.add_bos_token", v->add_flag[0]))) goto out;
    if (v->add_flag[1] >= 0 && (rc = gguf_writer_kv_bool(w, "tokenizer.ggml.add_eos_token", v->add_flag[1]))) goto out;
    if (v->chat_template &&
        (rc = gguf_writer_kv_str(w, "tokenizer.chat_template", v->chat_template, strlen(v->chat_template))))
        goto out;
out:
    free(strs);
    if (rc && err && !err->code) {
        const gguf_error *we = gguf_writer_error(w);
        if (we) *err = *we;
        else gguf_error_set(err, rc, UINT64_MAX, "cannot write tokenizer metadata");
    }
    return rc;
}
