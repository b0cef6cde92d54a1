/*
 * policy.c - which type each tensor gets: llama-quantize's file types, processing order and
 * mixture rules (FORMATS.md 1.4, 2.1-2.7), for the file types this project produces.
 *
 * Per tensor, in processing order (weights_map order, or input order with input_order):
 *   not quantizable (1-D, name not ending in "weight", norms, ...)  -> keep its type
 *   --token-embedding-type / --output-tensor-type on their tensor   -> that type, nothing else
 *   default type of the ftype; if it is a quantized type:
 *       unless --pure: the mixture rules (OUTPUT branch, attn_v / ffn_down counters ...)
 *       then the fallback for a row length the block size does not divide
 */
#include "quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; int ftype; int type; } k_ftypes[] = {
    { "Q4_K_M", QUANT_FTYPE_Q4_K_M,    GGUF_TYPE_Q4_K },
    { "Q8_0",   QUANT_FTYPE_Q8_0,      GGUF_TYPE_Q8_0 },
    { "Q6_K",   QUANT_FTYPE_Q6_K,      GGUF_TYPE_Q6_K },
    { "Q4_0",   QUANT_FTYPE_Q4_0,      GGUF_TYPE_Q4_0 },
    { "F16",    QUANT_FTYPE_MOSTLY_F16, GGUF_TYPE_F16 },
    { "BF16",   QUANT_FTYPE_BF16,      GGUF_TYPE_BF16 },
    { "F32",    QUANT_FTYPE_ALL_F32,   GGUF_TYPE_F32 },
};
#define N_FTYPES (sizeof k_ftypes / sizeof k_ftypes[0])

int quant_ftype_from_name(const char *name)
{
    if (!name) return -1;
    for (size_t i = 0; i < N_FTYPES; i++)
        if (!strcasecmp(name, k_ftypes[i].name)) return k_ftypes[i].ftype;
    return -1;
}

const char *quant_ftype_name(int ftype)
{
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ftype == ftype) return k_ftypes[i].name;
    return "?";
}

int quant_ftype_default_type(int ftype)
{
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ftype == ftype) return k_ftypes[i].type;
    return -1;
}

/* ---------------------------------------------------------------- order */

/* The layer of a "blk.%d." name as sscanf reads it (leading blanks and a sign accepted, the
 * trailing '.' not required), or -1. */
static int layer_of(const char *name)
{
    int layer = -1;
    if (sscanf(name, "blk.%d.", &layer) != 1) layer = -1;
    return layer;
}

int quant_tensor_order_cmp(const void *a, const void *b)
{
    const quant_tensor *x = a, *y = b;
    int lx = layer_of(x->name), ly = layer_of(y->name);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* ---------------------------------------------------------------- rules */

enum cat { CAT_TOKEN_EMBD, CAT_ATTN_Q, CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_QKV, CAT_ATTN_KV_B,
           CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN, CAT_OUTPUT, CAT_OTHER };

static enum cat category(const char *n)
{
    if (!strcmp(n, "output.weight")) return CAT_OUTPUT;
    if (!strcmp(n, "token_embd.weight") || !strcmp(n, "per_layer_token_embd.weight")) return CAT_TOKEN_EMBD;
    if (strstr(n, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (strstr(n, "attn_kv_b.weight")) return CAT_ATTN_KV_B;
    if (strstr(n, "attn_v.weight")) return CAT_ATTN_V;
    if (strstr(n, "attn_k.weight")) return CAT_ATTN_K;
    if (strstr(n, "attn_q.weight")) return CAT_ATTN_Q;
    if (strstr(n, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (strstr(n, "ffn_up")) return CAT_FFN_UP;
    if (strstr(n, "ffn_gate")) return CAT_FFN_GATE;
    if (strstr(n, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool cat_is_attn_v(enum cat c) { return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B; }

/* ggml_n_dims: trailing dimensions of size 1 do not count, minimum 1 */
static int n_dims_of(const quant_tensor *t)
{
    for (int i = GGUF_MAX_DIMS - 1; i >= 1; i--)
        if (t->ne[i] > 1) return i + 1;
    return 1;
}

static bool allows_quantization(const quant_opts *o, const quant_tensor *t)
{
    static const char *const k_never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
        "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
        "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
        "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
        "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
        "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd",
        "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook",
        "mm.a.code_embd",
    };
    if (n_dims_of(t) < 2) return false;
    const char *n = t->name;
    const size_t len = strlen(n);
    /* "ends with weight", as std::string::rfind("weight") == size() - 6 answers it (a name of
     * exactly 5 bytes passes there: npos == size_t(-1)) */
    bool q = len >= 6 ? !strcmp(n + len - 6, "weight") : len == 5;
    if (o->leave_output && !strcmp(n, "output.weight")) q = false;
    for (size_t i = 0; q && i < sizeof k_never / sizeof k_never[0]; i++)
        if (strstr(n, k_never[i])) q = false;
    if (!strcmp(n, "position_embd.weight") || !strcmp(n, "token_types.weight")) q = false;
    return q;
}

static bool use_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

typedef struct state {
    int n_attention_wv, n_ffn_down, n_ffn_gate, n_ffn_up;
    int i_attention_wv, i_ffn_down, i_ffn_gate, i_ffn_up;
    int n_fallback;
    bool tied;
} state;

static int mixture(state *s, const quant_opts *o, const quant_tensor *t, enum cat c, int type)
{
    const int ftype = o->ftype;
    if (c == CAT_OUTPUT || (s->tied && c == CAT_TOKEN_EMBD)) {
        if (o->output_type >= 0) return o->output_type;
        if (t->ne[0] % (int64_t)gguf_type_block_elems(type) != 0) return GGUF_TYPE_Q8_0;
        if (type != GGUF_TYPE_Q8_0) return GGUF_TYPE_Q6_K;
        return type;
    }
    if (c == CAT_TOKEN_EMBD) {
        if (o->token_embd_type >= 0) return o->token_embd_type;
        return type;
    }
    if (cat_is_attn_v(c)) {
        if ((ftype == QUANT_FTYPE_Q4_K_M) && use_more_bits(s->i_attention_wv, s->n_attention_wv))
            type = GGUF_TYPE_Q6_K;
        else if (ftype == QUANT_FTYPE_Q4_K_S && s->i_attention_wv < 4)
            type = GGUF_TYPE_Q5_K;
        s->i_attention_wv++;
        return type;
    }
    if (c == CAT_FFN_DOWN) {
        const int i = s->i_ffn_down, n = s->n_ffn_down;
        if (ftype == QUANT_FTYPE_Q4_K_M) {
            if (use_more_bits(i, n)) type = GGUF_TYPE_Q6_K;
        } else if (ftype == QUANT_FTYPE_Q4_K_S && i < n / 8) {
            type = GGUF_TYPE_Q5_K;
        }
        s->i_ffn_down++;
        return type;
    }
    if (c == CAT_ATTN_QKV) {
        if (ftype == QUANT_FTYPE_Q4_K_M) type = GGUF_TYPE_Q5_K;
        return type;
    }
    if (c == CAT_FFN_GATE) s->i_ffn_gate++;
    if (c == CAT_FFN_UP) s->i_ffn_up++;
    return type;
}

static int fallback(state *s, const quant_tensor *t, int type, gguf_error *err)
{
    const int64_t nx = t->ne[0];
    if (nx % (int64_t)gguf_type_block_elems(type) == 0) return type;
    s->n_fallback++;
    int r;
    switch (type) {
    case GGUF_TYPE_IQ1_S: case GGUF_TYPE_IQ1_M: case GGUF_TYPE_IQ2_XXS: case GGUF_TYPE_IQ2_XS:
    case GGUF_TYPE_IQ2_S: case GGUF_TYPE_IQ3_XXS: case GGUF_TYPE_IQ3_S: case GGUF_TYPE_IQ4_XS:
        r = GGUF_TYPE_IQ4_NL; break;
    case GGUF_TYPE_Q2_0: case GGUF_TYPE_Q2_K: case GGUF_TYPE_Q3_K: case GGUF_TYPE_TQ1_0:
    case GGUF_TYPE_TQ2_0:
        r = GGUF_TYPE_Q4_0; break;
    case GGUF_TYPE_Q4_K: r = GGUF_TYPE_Q5_0; break;
    case GGUF_TYPE_Q5_K: r = GGUF_TYPE_Q5_1; break;
    case GGUF_TYPE_Q6_K: r = GGUF_TYPE_Q8_0; break;
    default:
        return gguf_error_set(err, GGUF_E_BLOCK, UINT64_MAX,
                              "tensor '%s': row length %lld is not a multiple of %u and no fallback "
                              "is defined for type %s", t->name, (long long)nx,
                              gguf_type_block_elems(type), gguf_type_name(type));
    }
    if (nx % (int64_t)gguf_type_block_elems(r) != 0) r = GGUF_TYPE_F16;
    return r;
}

typedef struct ord { const quant_tensor *t; int64_t i; } ord;

static int ord_cmp(const void *a, const void *b)
{
    const ord *x = a, *y = b;
    int c = quant_tensor_order_cmp(x->t, y->t);
    if (c) return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

int quant_plan_types(const quant_opts *o, const quant_tensor *t, int64_t n, int n_layer,
                     int *out_types, int *n_fallback, gguf_error *err)
{
    const int def = quant_ftype_default_type(o->ftype);
    if (n_fallback) *n_fallback = 0;
    if (def < 0) return gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX, "unknown file type %d", o->ftype);
    state s;
    memset(&s, 0, sizeof s);
    s.tied = true;
    for (int64_t i = 0; i < n; i++) {
        enum cat c = category(t[i].name);
        if (cat_is_attn_v(c)) s.n_attention_wv++;
        if (c == CAT_OUTPUT) s.tied = false;
    }
    s.n_ffn_down = s.n_ffn_gate = s.n_ffn_up = n_layer;

    ord *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    if (!order) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    for (int64_t i = 0; i < n; i++) order[i] = (ord){ &t[i], i };
    if (!o->input_order) qsort(order, (size_t)n, sizeof *order, ord_cmp);

    int rc = 0;
    for (int64_t k = 0; k < n && !rc; k++) {
        const quant_tensor *x = order[k].t;
        int *out = &out_types[order[k].i];
        *out = x->type;
        if (!allows_quantization(o, x)) continue;
        enum cat c = category(x->name);
        int type;
        if (o->token_embd_type >= 0 && c == CAT_TOKEN_EMBD) {
            type = o->token_embd_type;
        } else if (o->output_type >= 0 && c == CAT_OUTPUT) {
            type = o->output_type;
        } else {
            type = def;
            if (gguf_type_is_quantized(def)) {
                if (!o->pure) type = mixture(&s, o, x, c, type);
                type = fallback(&s, x, type, err);
                if (type < 0) { rc = type; break; }
            }
        }
        if (!gguf_type_valid(type) || gguf_type_block_elems(type) == 0 ||
            x->ne[0] % (int64_t)gguf_type_block_elems(type) != 0) {
            rc = gguf_error_set(err, GGUF_E_BLOCK, UINT64_MAX,
                                "tensor '%s': row length %lld does not fit type %s (block of %u)",
                                x->name, (long long)x->ne[0], gguf_type_name(type),
                                gguf_type_block_elems(type));
            break;
        }
        *out = type;
    }
    free(order);
    if (n_fallback) *n_fallback = s.n_fallback;
    return rc;
}
