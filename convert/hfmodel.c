/* hfmodel.c - an HF Qwen2 directory as a validated model; see hfmodel.h. */
#include "convert/hfmodel.h"
#include "convert/safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HF_INDEX "model.safetensors.index.json"

struct conv_hf_model {
    char          *dir;
    conv_hparams   hp;
    uint32_t       n_shards;
    conv_st_file **shards;
    int64_t        n;
    conv_tensor   *t;
    uint64_t       data_bytes;
};

const char *conv_status_str(int code)
{
    switch (code) {
    case CONV_E_JSON: return "JSON does not parse";
    case CONV_E_ARCH: return "unsupported architecture";
    case CONV_E_CONFIG: return "bad config.json";
    case CONV_E_LFS: return "Git LFS pointer instead of data";
    case CONV_E_TENSORS: return "tensor set does not match the config";
    case CONV_E_VOCAB: return "tokenizer files unusable";
    default: return gguf_status_str(code);
    }
}

void conv_hf_close(conv_hf_model *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->n_shards; i++) conv_st_close(m->shards[i]);
    free(m->shards);
    for (int64_t i = 0; i < m->n; i++) free((char *)m->t[i].name);
    free(m->t);
    free(m->dir);
    free(m);
}

const char *conv_hf_dir(const conv_hf_model *m) { return m->dir; }
const conv_hparams *conv_hf_hparams(const conv_hf_model *m) { return &m->hp; }
int64_t conv_hf_n_tensors(const conv_hf_model *m) { return m->n; }
const conv_tensor *conv_hf_tensor(const conv_hf_model *m, int64_t i)
{
    return i >= 0 && i < m->n ? &m->t[i] : NULL;
}
uint32_t conv_hf_n_shards(const conv_hf_model *m) { return m->n_shards; }
const char *conv_hf_shard_path(const conv_hf_model *m, uint32_t i) { return i < m->n_shards ? m->shards[i]->path : NULL; }
uint64_t conv_hf_data_bytes(const conv_hf_model *m) { return m->data_bytes; }

int64_t conv_hf_find_tensor(const conv_hf_model *m, const char *name)
{
    for (int64_t i = 0; i < m->n; i++)
        if (!strcmp(m->t[i].name, name)) return i;
    return -1;
}

void conv_hf_release(const conv_hf_model *m, const conv_tensor *t)
{
    if (!m || !t || t->shard >= m->n_shards || !t->size) return;
    const conv_st_file *f = m->shards[t->shard];
    if (!f->map) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)t->data & ~(page - 1);
    uintptr_t b = (uintptr_t)t->data + t->size;
    uintptr_t lim = (uintptr_t)f->map + f->size;
    if (b > lim) b = lim;
    b = (b + page - 1) & ~(page - 1);
    madvise((void *)a, b - a, MADV_DONTNEED);
}

int conv_hf_check_unchanged(const conv_hf_model *m, gguf_error *err)
{
    for (uint32_t i = 0; i < m->n_shards; i++) {
        struct stat st;
        if (fstat(m->shards[i]->fd, &st) != 0 || (uint64_t)st.st_size != m->shards[i]->size)
            return gguf_error_set(err, GGUF_E_CHANGED, UINT64_MAX, "'%s': file changed size while in use",
                                  m->shards[i]->path);
    }
    return 0;
}

/* ---------------------------------------------------------------- names */

static const struct { const char *hf, *gguf; } hf__layer_map[] = {
    { "input_layernorm.weight", "attn_norm.weight" },
    { "self_attn.q_proj.weight", "attn_q.weight" },
    { "self_attn.q_proj.bias", "attn_q.bias" },
    { "self_attn.k_proj.weight", "attn_k.weight" },
    { "self_attn.k_proj.bias", "attn_k.bias" },
    { "self_attn.v_proj.weight", "attn_v.weight" },
    { "self_attn.v_proj.bias", "attn_v.bias" },
    { "self_attn.o_proj.weight", "attn_output.weight" },
    { "post_attention_layernorm.weight", "ffn_norm.weight" },
    { "mlp.gate_proj.weight", "ffn_gate.weight" },
    { "mlp.up_proj.weight", "ffn_up.weight" },
    { "mlp.down_proj.weight", "ffn_down.weight" },
};
#define HF_N_LAYER_TENSORS ((int)(sizeof hf__layer_map / sizeof hf__layer_map[0]))

static bool hf__ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !memcmp(s + a - b, suf, b);
}

int conv_hf_map_name(const char *hf, char *buf, size_t size, int64_t *layer)
{
    *layer = -1;
    if (hf__ends_with(hf, ".rotary_emb.inv_freq") || hf__ends_with(hf, ".attention.masked_bias") ||
        hf__ends_with(hf, ".attention.bias"))
        return 0;
    const char *g = NULL;
    if (!strcmp(hf, "model.embed_tokens.weight")) g = "token_embd.weight";
    else if (!strcmp(hf, "model.norm.weight")) g = "output_norm.weight";
    else if (!strcmp(hf, "lm_head.weight")) g = "output.weight";
    if (g) {
        int n = snprintf(buf, size, "%s", g);
        return n > 0 && (size_t)n < size ? 1 : -1;
    }
    static const char pre[] = "model.layers.";
    if (strncmp(hf, pre, sizeof pre - 1)) return -1;
    const char *p = hf + sizeof pre - 1;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return -1;
    int64_t l = 0;
    while (*p >= '0' && *p <= '9') {
        if (l > 1000000) return -1;
        l = l * 10 + (*p++ - '0');
    }
    if (*p++ != '.') return -1;
    for (int i = 0; i < HF_N_LAYER_TENSORS; i++) {
        if (!strcmp(p, hf__layer_map[i].hf)) {
            int n = snprintf(buf, size, "blk.%" PRId64 ".%s", l, hf__layer_map[i].gguf);
            if (n <= 0 || (size_t)n >= size) return -1;
            *layer = l;
            return 1;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- config.json */

static int hf__json_load(const char *path, json_t **out, gguf_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        int rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(e));
        if (err) err->sys_errno = e;
        return rc;
    }
    json_error_t je;
    json_t *j = json_loadf(fp, 0, &je);
    fclose(fp);
    if (!j)
        return gguf_error_set(err, CONV_E_JSON, je.position > 0 ? (uint64_t)je.position : UINT64_MAX,
                              "'%s': not valid JSON: line %d, column %d: %s", path, je.line, je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return gguf_error_set(err, CONV_E_JSON, 0, "'%s': not a JSON object", path);
    }
    *out = j;
    return 0;
}

static int hf__cfg_int(json_t *cfg, const char *path, const char *key, int64_t min, int64_t max, bool required,
                       int64_t *out, bool *present, gguf_error *err)
{
    json_t *v = json_object_get(cfg, key);
    if (present) *present = v != NULL && !json_is_null(v);
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': required key '%s' is missing", path, key);
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX,
                              "'%s': key '%s' must be an integer from %" PRId64 " to %" PRId64, path, key, min, max);
    *out = json_integer_value(v);
    return 0;
}

static int hf__cfg_num(json_t *cfg, const char *path, const char *key, double min, double max, bool required,
                       double *out, bool *present, gguf_error *err)
{
    json_t *v = json_object_get(cfg, key);
    if (present) *present = v != NULL && !json_is_null(v);
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': required key '%s' is missing", path, key);
    }
    double x = json_number_value(v);
    if (!json_is_number(v) || !(x > min) || !(x < max))
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key '%s' must be a number in (%g, %g)",
                              path, key, min, max);
    *out = x;
    return 0;
}

static int hf__parse_config(const char *path, json_t *cfg, conv_hparams *hp, gguf_error *err)
{
    memset(hp, 0, sizeof *hp);
    json_t *arch = json_object_get(cfg, "architectures");
    if (!json_is_array(arch) || json_array_size(arch) < 1 || !json_is_string(json_array_get(arch, 0)))
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key 'architectures' missing or not a list of names", path);
    const char *a = json_string_value(json_array_get(arch, 0));
    if (strcmp(a, "Qwen2ForCausalLM"))
        return gguf_error_set(err, CONV_E_ARCH, UINT64_MAX,
                              "'%s': architecture '%.64s' is not supported (only Qwen2ForCausalLM)", path, a);
    snprintf(hp->arch, sizeof hp->arch, "%s", a);
    int rc;
    if ((rc = hf__cfg_int(cfg, path, "num_hidden_layers", 1, 4096, true, &hp->n_layer, NULL, err)) ||
        (rc = hf__cfg_int(cfg, path, "hidden_size", 1, 1 << 20, true, &hp->n_embd, NULL, err)) ||
        (rc = hf__cfg_int(cfg, path, "intermediate_size", 1, 1 << 22, true, &hp->n_ff, NULL, err)) ||
        (rc = hf__cfg_int(cfg, path, "num_attention_heads", 1, 1 << 16, true, &hp->n_head, NULL, err)) ||
        (rc = hf__cfg_int(cfg, path, "num_key_value_heads", 1, 1 << 16, false, &hp->n_head_kv, &hp->has_n_head_kv, err)) ||
        (rc = hf__cfg_int(cfg, path, "head_dim", 1, 1 << 16, false, &hp->head_dim, &hp->has_head_dim, err)) ||
        (rc = hf__cfg_int(cfg, path, "vocab_size", 1, 1 << 24, true, &hp->n_vocab, NULL, err)) ||
        (rc = hf__cfg_int(cfg, path, "max_position_embeddings", 1, INT32_MAX, true, &hp->n_ctx, NULL, err)) ||
        (rc = hf__cfg_num(cfg, path, "rms_norm_eps", 0.0, 1.0, true, &hp->rms_eps, NULL, err)) ||
        (rc = hf__cfg_num(cfg, path, "rope_theta", 0.0, 1e30, false, &hp->rope_theta, &hp->has_rope_theta, err)))
        return rc;
    if (!hp->has_rope_theta) hp->rope_theta = 10000.0;
    if (!hp->has_n_head_kv) hp->n_head_kv = hp->n_head;
    if (hp->n_head_kv > hp->n_head || hp->n_head % hp->n_head_kv != 0)
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX,
                              "'%s': num_attention_heads %" PRId64 " is not a multiple of num_key_value_heads %" PRId64,
                              path, hp->n_head, hp->n_head_kv);
    if (!hp->has_head_dim) {
        if (hp->n_embd % hp->n_head != 0)
            return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX,
                                  "'%s': hidden_size %" PRId64 " is not a multiple of num_attention_heads %" PRId64,
                                  path, hp->n_embd, hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if (hp->head_dim * hp->n_head > (1 << 22))
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': head_dim x num_attention_heads is absurd", path);
    json_t *tie = json_object_get(cfg, "tie_word_embeddings");
    if (tie && !json_is_boolean(tie))
        return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key 'tie_word_embeddings' is not a boolean", path);
    hp->tied = json_is_true(tie);
    json_t *rs = json_object_get(cfg, "rope_scaling");
    if (rs && !json_is_null(rs)) {
        if (!json_is_object(rs))
            return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key 'rope_scaling' is not an object", path);
        json_t *ty = json_object_get(rs, "rope_type");
        if (!ty) ty = json_object_get(rs, "type");
        const char *tys = json_string_value(ty);
        if (tys && (!strcmp(tys, "linear") || !strcmp(tys, "yarn"))) {
            json_t *fa = json_object_get(rs, "factor");
            if (!json_is_number(fa) || !(json_number_value(fa) > 0) || !(json_number_value(fa) < 1e6))
                return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': rope_scaling.factor missing or absurd", path);
            snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "%s", tys);
            hp->rope_factor = json_number_value(fa);
            json_t *oc = json_object_get(rs, "original_max_position_embeddings");
            if (oc) {
                if (!json_is_integer(oc) || json_integer_value(oc) < 1 || json_integer_value(oc) > INT32_MAX)
                    return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX,
                                          "'%s': rope_scaling.original_max_position_embeddings is not a positive integer", path);
                hp->rope_orig_ctx = json_integer_value(oc);
            }
        } else if (tys && strcmp(tys, "default")) {
            return gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': rope_scaling type '%.32s' is not supported", path, tys);
        }
    }
    return 0;
}

int conv_hf_parse_config(const char *name, const char *buf, size_t len, conv_hparams *hp, gguf_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, 0, &je);
    if (!j)
        return gguf_error_set(err, CONV_E_JSON, je.position > 0 ? (uint64_t)je.position : UINT64_MAX,
                              "'%s': not valid JSON: line %d, column %d: %s", name, je.line, je.column, je.text);
    int rc = json_is_object(j) ? hf__parse_config(name, j, hp, err)
                               : gguf_error_set(err, CONV_E_JSON, 0, "'%s': not a JSON object", name);
    json_decref(j);
    return rc;
}

/* ---------------------------------------------------------------- open */

static int hf__cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int hf__path(char *buf, size_t size, const char *dir, const char *name, gguf_error *err)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "path too long: '%s/%s'", dir, name);
    return 0;
}

typedef struct hf__expect {
    char    name[GGUF_MAX_NAME];
    uint32_t n_dims;
    int64_t ne[2];
    int64_t found;  /* index into m->t or -1 */
} hf__expect;

int conv_hf_open(const char *dir, conv_hf_model **out, gguf_error *err)
{
    *out = NULL;
    char path[PATH_MAX];
    int rc;
    conv_hf_model *m = calloc(1, sizeof *m);
    json_t *cfg = NULL, *idx = NULL;
    char **shard_names = NULL;
    size_t n_shard_names = 0;
    hf__expect *ex = NULL;
    if (!m || !(m->dir = strdup(dir))) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }

    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int e = errno;
        rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open model directory '%s': %s", dir,
                            stat(dir, &st) != 0 ? strerror(e) : "Not a directory");
        goto fail;
    }
    if ((rc = hf__path(path, sizeof path, dir, "config.json", err)) || (rc = hf__json_load(path, &cfg, err)) ||
        (rc = hf__parse_config(path, cfg, &m->hp, err)))
        goto fail;

    /* ---- shards: from the index, else the single model.safetensors */
    char ipath[PATH_MAX];
    if ((rc = hf__path(ipath, sizeof ipath, dir, HF_INDEX, err))) goto fail;
    json_t *wm = NULL;
    if (access(ipath, F_OK) == 0) {
        if ((rc = hf__json_load(ipath, &idx, err))) goto fail;
        wm = json_object_get(idx, "weight_map");
        if (!json_is_object(wm) || json_object_size(wm) == 0) {
            rc = gguf_error_set(err, CONV_E_JSON, UINT64_MAX, "'%s': no 'weight_map' object with tensors", ipath);
            goto fail;
        }
        shard_names = calloc(json_object_size(wm), sizeof *shard_names);
        if (!shard_names) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
        const char *k;
        json_t *v;
        json_object_foreach(wm, k, v) {
            const char *fn = json_string_value(v);
            if (!fn || !fn[0] || strchr(fn, '/') || !strcmp(fn, ".") || !strcmp(fn, "..")) {
                rc = gguf_error_set(err, CONV_E_JSON, UINT64_MAX, "'%s': weight_map entry '%.80s' is not a file name in the directory",
                                    ipath, k);
                goto fail;
            }
            size_t j;
            for (j = 0; j < n_shard_names; j++)
                if (!strcmp(shard_names[j], fn)) break;
            if (j == n_shard_names) shard_names[n_shard_names++] = (char *)fn;
        }
        qsort(shard_names, n_shard_names, sizeof *shard_names, hf__cmp_str);
    } else {
        if ((rc = hf__path(path, sizeof path, dir, "model.safetensors", err))) goto fail;
        if (access(path, F_OK) != 0) {
            rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "'%s': no model.safetensors and no %s", dir, HF_INDEX);
            goto fail;
        }
        shard_names = calloc(1, sizeof *shard_names);
        if (!shard_names) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
        shard_names[n_shard_names++] = (char *)"model.safetensors";
    }
    m->shards = calloc(n_shard_names, sizeof *m->shards);
    if (!m->shards) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    for (size_t j = 0; j < n_shard_names; j++) {
        if ((rc = hf__path(path, sizeof path, dir, shard_names[j], err))) goto fail;
        if (idx && access(path, F_OK) != 0) {
            rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "'%s': shard listed in %s is missing", path, HF_INDEX);
            goto fail;
        }
        if ((rc = conv_st_open(path, &m->shards[j], err))) goto fail;
        m->n_shards++;
    }
    /* the index and the shards must agree both ways */
    if (idx) {
        const char *k;
        json_t *v;
        json_object_foreach(wm, k, v) {
            const char *fn = json_string_value(v);
            uint32_t j;
            for (j = 0; j < m->n_shards; j++)
                if (!strcmp(shard_names[j], fn)) break;
            if (conv_st_find(m->shards[j], k) < 0) {
                rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX,
                                    "'%s': tensor '%.80s' is listed in %s but absent from this shard",
                                    m->shards[j]->path, k, HF_INDEX);
                goto fail;
            }
        }
        for (uint32_t j = 0; j < m->n_shards; j++) {
            for (int64_t i = 0; i < m->shards[j]->n; i++) {
                const char *fn = json_string_value(json_object_get(wm, m->shards[j]->t[i].name));
                if (!fn || strcmp(fn, shard_names[j])) {
                    rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX, "'%s': tensor '%.80s' is %s in %s",
                                        m->shards[j]->path, m->shards[j]->t[i].name,
                                        fn ? "listed for another shard" : "not listed", HF_INDEX);
                    goto fail;
                }
            }
        }
    }

    /* ---- the tensors we expect from the config */
    const conv_hparams *hp = &m->hp;
    const int64_t n_ex = 3 + (int64_t)HF_N_LAYER_TENSORS * hp->n_layer;
    ex = calloc((size_t)n_ex, sizeof *ex);
    if (!ex) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    {
        const int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff, Q = hp->n_head * hp->head_dim,
                      K = hp->n_head_kv * hp->head_dim;
        int64_t e = 0;
#define EX(nd, a, b, ...) do { snprintf(ex[e].name, sizeof ex[e].name, __VA_ARGS__); ex[e].n_dims = nd; \
        ex[e].ne[0] = a; ex[e].ne[1] = b; ex[e].found = -1; e++; } while (0)
        EX(2, E, V, "token_embd.weight");
        EX(1, E, 1, "output_norm.weight");
        EX(2, E, V, "output.weight");
        for (int64_t l = 0; l < hp->n_layer; l++) {
            EX(1, E, 1, "blk.%" PRId64 ".attn_norm.weight", l);
            EX(2, E, Q, "blk.%" PRId64 ".attn_q.weight", l);
            EX(1, Q, 1, "blk.%" PRId64 ".attn_q.bias", l);
            EX(2, E, K, "blk.%" PRId64 ".attn_k.weight", l);
            EX(1, K, 1, "blk.%" PRId64 ".attn_k.bias", l);
            EX(2, E, K, "blk.%" PRId64 ".attn_v.weight", l);
            EX(1, K, 1, "blk.%" PRId64 ".attn_v.bias", l);
            EX(2, Q, E, "blk.%" PRId64 ".attn_output.weight", l);
            EX(1, E, 1, "blk.%" PRId64 ".ffn_norm.weight", l);
            EX(2, E, F, "blk.%" PRId64 ".ffn_gate.weight", l);
            EX(2, E, F, "blk.%" PRId64 ".ffn_up.weight", l);
            EX(2, F, E, "blk.%" PRId64 ".ffn_down.weight", l);
        }
#undef EX
    }

    /* ---- map every shard tensor, in convert order */
    int64_t total = 0;
    for (uint32_t j = 0; j < m->n_shards; j++) total += m->shards[j]->n;
    m->t = calloc((size_t)(total ? total : 1), sizeof *m->t);
    if (!m->t) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    m->hp.src_type = -1;
    for (uint32_t j = 0; j < m->n_shards; j++) {
        const conv_st_file *f = m->shards[j];
        for (int64_t i = 0; i < f->n; i++) {
            const conv_st_tensor *s = &f->t[i];
            char gname[GGUF_MAX_NAME];
            int64_t layer;
            int r = conv_hf_map_name(s->name, gname, sizeof gname, &layer);
            if (r == 0) continue;
            int64_t k = -1;
            if (r > 0 && (layer < 0 || layer < hp->n_layer)) {
                int64_t lo = layer < 0 ? 0 : 3 + layer * HF_N_LAYER_TENSORS;
                int64_t hi = layer < 0 ? 3 : lo + HF_N_LAYER_TENSORS;
                for (int64_t q = lo; q < hi; q++)
                    if (!strcmp(ex[q].name, gname)) { k = q; break; }
            }
            if (k < 0) {
                rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX,
                                    "'%s': unexpected tensor '%.80s' for a Qwen2 model with %" PRId64 " layers",
                                    f->path, s->name, hp->n_layer);
                goto fail;
            }
            if (ex[k].found >= 0) {
                rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX, "'%s': tensor '%.80s' appears twice (also in '%s')",
                                    f->path, s->name, m->shards[m->t[ex[k].found].shard]->path);
                goto fail;
            }
            if (s->type < 0) {
                rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX,
                                    "'%s': tensor '%.80s' has dtype %s (only F32, F16 and BF16 are converted)",
                                    f->path, s->name, s->dtype);
                goto fail;
            }
            bool shape_ok = s->n_dims == ex[k].n_dims &&
                            (s->n_dims == 1 ? s->shape[0] == ex[k].ne[0]
                                            : s->shape[0] == ex[k].ne[1] && s->shape[1] == ex[k].ne[0]);
            if (!shape_ok) {
                char got[96] = "[", want[64];
                for (uint32_t d = 0; d < s->n_dims; d++) {
                    size_t L = strlen(got);
                    snprintf(got + L, sizeof got - L, "%s%" PRId64, d ? ", " : "", s->shape[d]);
                }
                strncat(got, "]", sizeof got - strlen(got) - 1);
                if (ex[k].n_dims == 1) snprintf(want, sizeof want, "[%" PRId64 "]", ex[k].ne[0]);
                else snprintf(want, sizeof want, "[%" PRId64 ", %" PRId64 "]", ex[k].ne[1], ex[k].ne[0]);
                rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX,
                                    "'%s': tensor '%.80s' has shape %s, config.json implies %s", f->path, s->name, got, want);
                goto fail;
            }
            conv_tensor *t = &m->t[m->n];
            t->name = strdup(gname);
            if (!t->name) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
            m->n++;
            t->hf_name = s->name;
            t->n_dims = s->n_dims;
            for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
            for (uint32_t d = 0; d < s->n_dims; d++) t->ne[d] = s->shape[s->n_dims - 1 - d];
            t->type = s->type;
            t->size = s->end - s->begin;
            t->data = f->map ? f->map + f->data_start + s->begin : NULL;
            t->shard = j;
            t->fd = f->fd;
            t->file_offset = f->data_start + s->begin;
            m->data_bytes += t->size;
            if (m->hp.src_type < 0 && t->n_dims >= 2) m->hp.src_type = t->type;
            ex[k].found = m->n - 1;
        }
    }
    for (int64_t k = 0; k < n_ex; k++) {
        if (ex[k].found >= 0) continue;
        if (!strcmp(ex[k].name, "output.weight") && hp->tied) continue;
        const char *hfn = ex[k].name;
        char hbuf[128];
        /* name the missing tensor the way the checkpoint would */
        if (!strcmp(hfn, "token_embd.weight")) hfn = "model.embed_tokens.weight";
        else if (!strcmp(hfn, "output_norm.weight")) hfn = "model.norm.weight";
        else if (!strcmp(hfn, "output.weight")) hfn = "lm_head.weight";
        else {
            int64_t l = (k - 3) / HF_N_LAYER_TENSORS;
            snprintf(hbuf, sizeof hbuf, "model.layers.%" PRId64 ".%s", l, hf__layer_map[(k - 3) % HF_N_LAYER_TENSORS].hf);
            hfn = hbuf;
        }
        rc = gguf_error_set(err, CONV_E_TENSORS, UINT64_MAX, "'%s': tensor '%s' is missing (%" PRId64 " layers in config.json%s)",
                            dir, hfn, hp->n_layer, !strcmp(ex[k].name, "output.weight") ? ", tie_word_embeddings false" : "");
        goto fail;
    }
    if (conv_hf_find_tensor(m, "output.weight") < 0) m->hp.tied = true;

    free(ex);
    free(shard_names);
    json_decref(cfg);
    json_decref(idx);
    *out = m;
    return 0;
fail:
    free(ex);
    free(shard_names);
    json_decref(cfg);
    json_decref(idx);
    conv_hf_close(m);
    return rc;
}
