/* model.c - Qwen2 model view over a GGUF file; see model.h. */
#include "verify/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant/quant.h"

bool verify_type_supported(int type)
{
    switch (type) {
    case GGUF_TYPE_F32: case GGUF_TYPE_F16: case GGUF_TYPE_BF16:
        return true;
    case GGUF_TYPE_Q8_0: case GGUF_TYPE_Q4_K: case GGUF_TYPE_Q6_K: case GGUF_TYPE_Q5_0:
    case GGUF_TYPE_Q4_0: case GGUF_TYPE_Q5_K:
        return quant_can_dequantize(type);
    default:
        return false;
    }
}

#include "convert/hfmodel.h"

/* ---------------------------------------------------------------- tensors of either source */

static int get_u(const gguf_file *f, const char *key, bool required, int64_t def, int64_t max,
                 int64_t *out, gguf_error *err)
{
    int64_t v;
    int rc = gguf_get_int(f, key, &v, err);
    if (rc == GGUF_E_NOT_FOUND && !required) { gguf_error_clear(err); *out = def; return 0; }
    if (rc == GGUF_E_NOT_FOUND)
        return gguf_error_set(err, rc, UINT64_MAX, "'%s': missing key '%s'", gguf_path(f), key);
    if (rc) return rc;
    if (v < 1 || v > max)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "'%s': key '%s' = %lld is out of range",
                              gguf_path(f), key, (long long)v);
    *out = v;
    return 0;
}

static int get_f(const gguf_file *f, const char *key, bool required, double def, double *out,
                 gguf_error *err)
{
    int rc = gguf_get_float(f, key, out, err);
    if (rc == GGUF_E_NOT_FOUND && !required) { gguf_error_clear(err); *out = def; return 0; }
    if (rc == GGUF_E_NOT_FOUND)
        return gguf_error_set(err, rc, UINT64_MAX, "'%s': missing key '%s'", gguf_path(f), key);
    if (rc) return rc;
    if (!isfinite(*out) || *out <= 0)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "'%s': key '%s' = %g is out of range",
                              gguf_path(f), key, *out);
    return 0;
}

/* A tensor of either source. */
typedef struct tinfo {
    const char *name;
    uint32_t    n_dims;
    int64_t     ne[GGUF_MAX_DIMS];
    int         type;
    const void *data;
    uint64_t    file_offset;
    const void *src;
} tinfo;

static const tinfo *find(const verify_model *m, const char *name, bool required,
                         gguf_error *err, int *rc)
{
    static __thread tinfo ti;
    memset(&ti, 0, sizeof ti);
    if (m->gf) {
        int64_t i = gguf_find_tensor(m->gf, name);
        if (i >= 0) {
            const gguf_tensor_info *t = gguf_tensor(m->gf, i);
            ti.name = t->name; ti.n_dims = t->n_dims; memcpy(ti.ne, t->ne, sizeof ti.ne);
            ti.type = t->type; ti.data = t->data; ti.file_offset = t->file_offset; ti.src = t;
            return &ti;
        }
    }
    if (m->hf) {
        int64_t i = conv_hf_find_tensor(m->hf, name);
        if (i >= 0) {
            const conv_tensor *t = conv_hf_tensor(m->hf, i);
            ti.name = t->name; ti.n_dims = t->n_dims; memcpy(ti.ne, t->ne, sizeof ti.ne);
            ti.type = t->type; ti.data = t->data; ti.file_offset = t->file_offset; ti.src = t;
            return &ti;
        }
    }
    if (required)
        *rc = gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX, "'%s': missing tensor '%s'",
                             m->path, name);
    return NULL;
}

/* A 2-D weight of shape [ncols, nrows]. */
static int load_weight(verify_model *m, const char *name, int64_t ncols, int64_t nrows,
                       verify_weight *w, gguf_error *err)
{
    int rc = 0;
    const tinfo *t = find(m, name, true, err, &rc);
    if (!t) return rc;
    if (t->n_dims > 2 || t->ne[0] != ncols || t->ne[1] != nrows)
        return gguf_error_set(err, GGUF_E_SHAPE, t->file_offset,
                              "'%s': tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]",
                              m->path, name, (long long)t->ne[0], (long long)t->ne[1],
                              (long long)ncols, (long long)nrows);
    if (!verify_type_supported(t->type))
        return gguf_error_set(err, GGUF_E_TYPE, t->file_offset,
                              "'%s': tensor '%s' has type %s, which verify cannot compute with",
                              m->path, name, gguf_type_name(t->type));
    if (!t->data)
        return gguf_error_set(err, GGUF_E_IO, t->file_offset, "'%s': tensor '%s' is not mapped",
                              m->path, name);
    w->name = t->name;
    w->type = t->type;
    w->ncols = ncols;
    w->nrows = nrows;
    w->row_bytes = gguf_row_bytes(t->type, ncols);
    w->data = t->data;
    w->src = t->src;
    return 0;
}

/* A 1-D F32/F16/BF16 vector of n elements, copied to floats and checked finite. */
static int load_vec(verify_model *m, const char *name, int64_t n, float **out, gguf_error *err)
{
    int rc = 0;
    const tinfo *t = find(m, name, true, err, &rc);
    if (!t) return rc;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return gguf_error_set(err, GGUF_E_SHAPE, t->file_offset,
                              "'%s': tensor '%s' has %lld elements in %u dims, expected [%lld]",
                              m->path, name, (long long)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]),
                              t->n_dims, (long long)n);
    if (t->type != GGUF_TYPE_F32 && t->type != GGUF_TYPE_F16 && t->type != GGUF_TYPE_BF16)
        return gguf_error_set(err, GGUF_E_TYPE, t->file_offset,
                              "'%s': tensor '%s' has type %s, expected F32", m->path, name,
                              gguf_type_name(t->type));
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    if (t->type == GGUF_TYPE_F32) memcpy(v, t->data, (size_t)n * sizeof *v);
    else quant_to_f32(t->type, t->data, v, n);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            free(v);
            return gguf_error_set(err, GGUF_E_NONFINITE, t->file_offset,
                                  "'%s': tensor '%s' element %lld is not finite", m->path, name,
                                  (long long)i);
        }
    }
    *out = v;
    return 0;
}

static int hparams_gguf(verify_model *m, gguf_error *err)
{
    gguf_file *f = m->gf;
    gguf_str arch;
    int rc = gguf_get_str(f, "general.architecture", &arch, err);
    if (rc == GGUF_E_NOT_FOUND)
        return gguf_error_set(err, rc, UINT64_MAX, "'%s': missing key 'general.architecture'", m->path);
    if (rc) return rc;
    if (arch.len != 5 || memcmp(arch.ptr, "qwen2", 5))
        return gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX,
                              "'%s': architecture '%.*s' is not supported (only qwen2)", m->path,
                              (int)(arch.len > 64 ? 64 : arch.len), arch.ptr);
    verify_hparams *hp = &m->hp;
    int64_t v;
    const int64_t big = 1 << 20;
    if ((rc = get_u(f, "qwen2.block_count", true, 0, 4096, &v, err))) return rc;
    hp->n_layer = (int)v;
    if ((rc = get_u(f, "qwen2.embedding_length", true, 0, big, &v, err))) return rc;
    hp->n_embd = (int)v;
    if ((rc = get_u(f, "qwen2.feed_forward_length", true, 0, big, &v, err))) return rc;
    hp->n_ff = (int)v;
    if ((rc = get_u(f, "qwen2.attention.head_count", true, 0, 4096, &v, err))) return rc;
    hp->n_head = (int)v;
    if ((rc = get_u(f, "qwen2.attention.head_count_kv", false, hp->n_head, 4096, &v, err))) return rc;
    hp->n_head_kv = (int)v;
    if ((rc = get_u(f, "qwen2.context_length", false, 1, INT32_MAX, &v, err))) return rc;
    hp->n_ctx_train = (int)v;
    if ((rc = get_u(f, "qwen2.attention.key_length", false, hp->n_embd / hp->n_head, big, &v, err))) return rc;
    hp->head_dim = (int)v;
    int64_t vlen;
    if ((rc = get_u(f, "qwen2.attention.value_length", false, hp->head_dim, big, &vlen, err))) return rc;
    if ((rc = get_u(f, "qwen2.rope.dimension_count", false, hp->head_dim, big, &v, err))) return rc;
    hp->n_rot = (int)v;
    if ((rc = get_f(f, "qwen2.rope.freq_base", false, 10000.0, &hp->rope_theta, err))) return rc;
    if ((rc = get_f(f, "qwen2.attention.layer_norm_rms_epsilon", true, 0, &hp->rms_eps, err))) return rc;
    if (vlen != hp->head_dim)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                              "'%s': value_length %lld differs from key_length %d (not supported)",
                              m->path, (long long)vlen, hp->head_dim);
    return 0;
}

static int hparams_hf(verify_model *m, gguf_error *err)
{
    const conv_hparams *h = conv_hf_hparams(m->hf);
    verify_hparams *hp = &m->hp;
    if (h->n_layer > 4096 || h->n_embd > (1 << 20) || h->n_ff > (1 << 20) || h->n_head > 4096 ||
        h->n_head_kv > 4096 || h->head_dim > (1 << 20) || h->n_ctx > INT32_MAX)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "'%s': config.json values out of range", m->path);
    hp->n_layer = (int)h->n_layer;
    hp->n_embd = (int)h->n_embd;
    hp->n_ff = (int)h->n_ff;
    hp->n_head = (int)h->n_head;
    hp->n_head_kv = (int)h->n_head_kv;
    hp->head_dim = (int)h->head_dim;
    hp->n_rot = (int)h->head_dim;
    hp->n_ctx_train = (int)h->n_ctx;
    hp->rope_theta = h->rope_theta;
    hp->rms_eps = h->rms_eps;
    if (h->rope_scaling[0])
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "'%s': rope scaling '%s' is not supported",
                              m->path, h->rope_scaling);
    return 0;
}

/* Checks and tensors common to both sources, once m->hp holds the hyperparameters. */
static int load_tensors(verify_model *m, gguf_error *err)
{
    verify_hparams *hp = &m->hp;
    int rc;
    if (hp->n_head % hp->n_head_kv)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                              "'%s': head_count %d is not a multiple of head_count_kv %d", m->path,
                              hp->n_head, hp->n_head_kv);
    if (hp->head_dim % 2 || hp->n_rot % 2 || hp->n_rot > hp->head_dim)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                              "'%s': head dimension %d / rope dimension %d not supported", m->path,
                              hp->head_dim, hp->n_rot);
    if (hp->n_rot != hp->head_dim)
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                              "'%s': partial rotary embedding (%d of %d) is not supported", m->path,
                              hp->n_rot, hp->head_dim);

    int rc2 = 0;
    const tinfo *te = find(m, "token_embd.weight", true, err, &rc2);
    if (!te) return rc2;
    if (te->ne[1] < 1 || te->ne[1] > INT32_MAX)
        return gguf_error_set(err, GGUF_E_SHAPE, te->file_offset, "'%s': tensor 'token_embd.weight' has a bad vocabulary size", m->path);
    hp->n_vocab = (int)te->ne[1];
    const int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim,
                  KV = (int64_t)hp->n_head_kv * hp->head_dim;
    if ((rc = load_weight(m, "token_embd.weight", E, hp->n_vocab, &m->tok_embd, err))) return rc;
    {
        int dummy = 0;
        hp->tied = find(m, "output.weight", false, err, &dummy) == NULL;
    }
    if (hp->tied) m->output = m->tok_embd;
    else if ((rc = load_weight(m, "output.weight", E, hp->n_vocab, &m->output, err))) return rc;
    if ((rc = load_vec(m, "output_norm.weight", E, &m->output_norm, err))) return rc;

    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    for (int il = 0; il < hp->n_layer; il++) {
        verify_layer *L = &m->layers[il];
        char nm[GGUF_MAX_NAME + 16];
#define W(field, suffix, k, n) \
        snprintf(nm, sizeof nm, "blk.%d." suffix, il); \
        if ((rc = load_weight(m, nm, k, n, &L->field, err))) return rc;
#define V(field, suffix, n) \
        snprintf(nm, sizeof nm, "blk.%d." suffix, il); \
        if ((rc = load_vec(m, nm, n, &L->field, err))) return rc;
        W(wq, "attn_q.weight", E, Q)
        W(wk, "attn_k.weight", E, KV)
        W(wv, "attn_v.weight", E, KV)
        W(wo, "attn_output.weight", Q, E)
        W(gate, "ffn_gate.weight", E, hp->n_ff)
        W(up, "ffn_up.weight", E, hp->n_ff)
        W(down, "ffn_down.weight", hp->n_ff, E)
        V(attn_norm, "attn_norm.weight", E)
        V(ffn_norm, "ffn_norm.weight", E)
        V(bq, "attn_q.bias", Q)
        V(bk, "attn_k.bias", KV)
        V(bv, "attn_v.bias", KV)
#undef W
#undef V
    }
    return 0;
}


static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---------------------------------------------------------------- public */

int verify_model_open(const char *path, verify_model **out, gguf_error *err)
{
    *out = NULL;
    verify_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    }
    int rc;
    if (is_dir(path)) {
        conv_hf_model *hf = NULL;
        rc = conv_hf_open(path, &hf, err);
        m->hf = hf;
        if (!rc) rc = hparams_hf(m, err);
    } else {
        m->gf = gguf_open(path, err);
        rc = m->gf ? hparams_gguf(m, err) : (err && err->code ? err->code : GGUF_E_IO);
    }
    if (!rc) rc = load_tensors(m, err);
    if (rc) {
        verify_model_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

void verify_model_close(verify_model *m)
{
    if (!m) return;
    if (m->layers) {
        for (int il = 0; il < m->hp.n_layer; il++) {
            verify_layer *L = &m->layers[il];
            free(L->attn_norm); free(L->ffn_norm); free(L->bq); free(L->bk); free(L->bv);
        }
        free(m->layers);
    }
    free(m->output_norm);
    gguf_close(m->gf);
    conv_hf_close(m->hf);
    free(m->path);
    free(m);
}

void verify_model_release(const verify_model *m, const verify_weight *w)
{
    if (!m || !w || !w->src) return;
    if (m->gf) gguf_release(m->gf, (const gguf_tensor_info *)w->src);
    else if (m->hf) conv_hf_release(m->hf, (const conv_tensor *)w->src);
}

void verify_model_release_layer(const verify_model *m, int il)
{
    if (il < 0) {
        verify_model_release(m, &m->tok_embd);
        if (!m->hp.tied) verify_model_release(m, &m->output);
        return;
    }
    const verify_layer *L = &m->layers[il];
    const verify_weight *ws[] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down };
    for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) verify_model_release(m, ws[i]);
}

uint64_t verify_model_weight_bytes(const verify_model *m)
{
    uint64_t s = m->tok_embd.row_bytes * (uint64_t)m->tok_embd.nrows;
    if (!m->hp.tied) s += m->output.row_bytes * (uint64_t)m->output.nrows;
    for (int il = 0; il < m->hp.n_layer; il++) {
        const verify_layer *L = &m->layers[il];
        const verify_weight *ws[] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down };
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) s += ws[i]->row_bytes * (uint64_t)ws[i]->nrows;
    }
    return s;
}

int verify_model_same_shape(const verify_model *a, const verify_model *b, gguf_error *err)
{
    const verify_hparams *x = &a->hp, *y = &b->hp;
#define SAME(field, what) \
    if (x->field != y->field) \
        return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "'%s' and '%s' differ in %s (%lld vs %lld)", \
                              a->path, b->path, what, (long long)x->field, (long long)y->field);
    SAME(n_vocab, "vocabulary size")
    SAME(n_layer, "layer count")
    SAME(n_embd, "embedding length")
    SAME(n_ff, "feed-forward length")
    SAME(n_head, "head count")
    SAME(n_head_kv, "KV head count")
    SAME(head_dim, "head dimension")
#undef SAME
    /* same token strings, when both files carry their vocabulary */
    if (a->gf && b->gf) {
        int64_t ia = gguf_find_key(a->gf, "tokenizer.ggml.tokens"), ib = gguf_find_key(b->gf, "tokenizer.ggml.tokens");
        if (ia >= 0 && ib >= 0 && gguf_kv_get_type(a->gf, ia) == GGUF_KV_ARRAY && gguf_kv_get_type(b->gf, ib) == GGUF_KV_ARRAY &&
            gguf_kv_arr_type(a->gf, ia) == GGUF_KV_STRING && gguf_kv_arr_type(b->gf, ib) == GGUF_KV_STRING) {
            const uint64_t na = gguf_kv_arr_n(a->gf, ia), nb = gguf_kv_arr_n(b->gf, ib);
            if (na != nb)
                return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                                      "'%s' and '%s' have different vocabularies (%llu vs %llu tokens)",
                                      a->path, b->path, (unsigned long long)na, (unsigned long long)nb);
            for (uint64_t j = 0; j < na; j++) {
                gguf_str sa = gguf_kv_arr_str(a->gf, ia, j), sb = gguf_kv_arr_str(b->gf, ib, j);
                if (sa.len != sb.len || memcmp(sa.ptr, sb.ptr, sa.len))
                    return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                                          "'%s' and '%s' have different vocabularies (token %llu differs)",
                                          a->path, b->path, (unsigned long long)j);
            }
        }
    }
    return 0;
}
