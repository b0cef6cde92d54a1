/*
 * verify_gen.h - tiny synthetic Qwen2 GGUF models for gguf-verify's tests, written with the
 * libgguf writer. Weights are random but deterministic (seeded); quantized types get random
 * block bytes with sane scales, so the tests never depend on a quantizer: the float64 reference
 * (tests/ref_qwen2.py) dequantizes the very same blocks itself.
 */
#ifndef VERIFY_GEN_H
#define VERIFY_GEN_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"

typedef struct vgen {
    int   n_layer, n_embd, n_ff, n_head, n_head_kv, n_vocab;
    int   type_default;      /* type of the 2-D weights */
    int   type_embd, type_output, type_attn_v, type_ffn_down;   /* -1: type_default */
    bool  tied;
    bool  zero;              /* every weight zero (norms too): logits all zero */
    float theta, eps;
    uint64_t seed;
    const char *arch;        /* default "qwen2" */
    bool  nan_in_attn_q;     /* poison one F32 element of blk.0.attn_q.weight */
    /* optional: more KVs (e.g. a tokenizer), called after the hyperparameters */
    int  (*extra_kv)(gguf_writer *w, void *ud);
    void *extra_ud;
} vgen;

static inline vgen vgen_defaults(void)
{
    vgen g = { .n_layer = 2, .n_embd = 64, .n_ff = 128, .n_head = 4, .n_head_kv = 2, .n_vocab = 96,
               .type_default = GGUF_TYPE_F32, .type_embd = -1, .type_output = -1, .type_attn_v = -1,
               .type_ffn_down = -1, .theta = 10000.0f, .eps = 1e-6f, .seed = 1 };
    return g;
}

static inline uint64_t vgen_rand(uint64_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}
/* uniform in [-1, 1) */
static inline float vgen_unif(uint64_t *s) { return (float)((double)(vgen_rand(s) >> 11) / 4503599627370496.0 - 1.0); }

static inline uint16_t vgen_fp16(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static inline uint16_t vgen_bf16(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16); }

/* Fill nrows x ncols of type t with values of magnitude about amp. Returns malloc'd bytes. */
static inline void *vgen_data(int t, int64_t ncols, int64_t nrows, float amp, bool zero, uint64_t *s, size_t *size)
{
    const size_t rb = gguf_row_bytes(t, ncols);
    *size = rb * (size_t)nrows;
    uint8_t *p = calloc(1, *size ? *size : 1);
    if (!p || zero) return p;
    const int64_t n = ncols * nrows;
    switch (t) {
    case GGUF_TYPE_F32:
        for (int64_t i = 0; i < n; i++) ((float *)p)[i] = amp * vgen_unif(s);
        break;
    case GGUF_TYPE_F16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)p)[i] = vgen_fp16(amp * vgen_unif(s));
        break;
    case GGUF_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)p)[i] = vgen_bf16(amp * vgen_unif(s));
        break;
    default: {
        const uint32_t bb = gguf_type_block_bytes(t);
        const int64_t nb = n / gguf_type_block_elems(t);
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *q = p + (size_t)b * bb;
            for (uint32_t i = 0; i < bb; i++) q[i] = (uint8_t)vgen_rand(s);
            const float r = 0.5f + 0.5f * fabsf(vgen_unif(s));
            uint16_t d;
            switch (t) {
            case GGUF_TYPE_Q8_0: d = vgen_fp16(amp * r / 64.0f); memcpy(q, &d, 2); break;
            case GGUF_TYPE_Q5_0: d = vgen_fp16(amp * r / 9.0f); memcpy(q, &d, 2); break;
            case GGUF_TYPE_Q4_0: d = vgen_fp16(amp * r / 5.0f); memcpy(q, &d, 2); break;
            case GGUF_TYPE_Q4_K:
                d = vgen_fp16(amp * r / 250.0f); memcpy(q, &d, 2);
                d = vgen_fp16(amp * r / 64.0f); memcpy(q + 2, &d, 2);
                break;
            case GGUF_TYPE_Q6_K:
                for (int i = 0; i < 16; i++) q[192 + i] = (uint8_t)(int8_t)((int)(vgen_rand(s) % 61) - 30);
                d = vgen_fp16(amp * r / 300.0f); memcpy(q + 208, &d, 2);
                break;
            default: break;
            }
        }
        break;
    }
    }
    return p;
}

/* Write the model to path. Returns 0 or a gguf_status. */
static inline int vgen_write(const char *path, const vgen *g)
{
    gguf_error err;
    gguf_writer *w = gguf_writer_open(path, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    if (!w) return err.code;
    const char *arch = g->arch ? g->arch : "qwen2";
    char k[128];
    gguf_writer_kv_str(w, "general.architecture", arch, strlen(arch));
    gguf_writer_kv_str(w, "general.name", "vgen", 4);
#define KU(key, v) snprintf(k, sizeof k, "%s." key, arch); gguf_writer_kv_u32(w, k, (uint32_t)(v));
    KU("block_count", g->n_layer)
    KU("context_length", 4096)
    KU("embedding_length", g->n_embd)
    KU("feed_forward_length", g->n_ff)
    KU("attention.head_count", g->n_head)
    KU("attention.head_count_kv", g->n_head_kv)
#undef KU
    snprintf(k, sizeof k, "%s.rope.freq_base", arch); gguf_writer_kv_f32(w, k, g->theta);
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", arch); gguf_writer_kv_f32(w, k, g->eps);
    gguf_writer_kv_u32(w, "general.file_type", 0);
    if (g->extra_kv) {
        int xrc = g->extra_kv(w, g->extra_ud);
        if (xrc) { gguf_writer_abort(w); return xrc; }
    }

    const int64_t E = g->n_embd, hd = g->n_embd / g->n_head, Q = g->n_head * hd, KV = g->n_head_kv * hd,
                  F = g->n_ff, V = g->n_vocab;
    typedef struct { char name[64]; int64_t ne0, ne1; int type; float amp; } spec;
    spec *sp = calloc((size_t)(3 + 12 * g->n_layer), sizeof *sp);
    int ns = 0;
#define T(nm_, a, b, ty, am) do { snprintf(sp[ns].name, 64, "%s", nm_); sp[ns].ne0 = a; sp[ns].ne1 = b; \
        sp[ns].type = ty; sp[ns].amp = am; ns++; } while (0)
    const int td = g->type_default;
    const int te = g->type_embd >= 0 ? g->type_embd : td, to = g->type_output >= 0 ? g->type_output : td;
    const int tv = g->type_attn_v >= 0 ? g->type_attn_v : td, tdn = g->type_ffn_down >= 0 ? g->type_ffn_down : td;
    const float wa = 1.5f / sqrtf((float)E);
    T("token_embd.weight", E, V, te, 1.0f);
    T("output_norm.weight", E, 1, GGUF_TYPE_F32, -1.0f);
    if (!g->tied) T("output.weight", E, V, to, wa);
    for (int il = 0; il < g->n_layer; il++) {
        char nm[64];
#define L(suf, a, b, ty, am) snprintf(nm, sizeof nm, "blk.%d." suf, il); T(nm, a, b, ty, am);
        L("attn_norm.weight", E, 1, GGUF_TYPE_F32, -1.0f)
        L("attn_q.weight", E, Q, td, wa)
        L("attn_q.bias", Q, 1, GGUF_TYPE_F32, 0.2f)
        L("attn_k.weight", E, KV, td, wa)
        L("attn_k.bias", KV, 1, GGUF_TYPE_F32, 0.2f)
        L("attn_v.weight", E, KV, tv, wa)
        L("attn_v.bias", KV, 1, GGUF_TYPE_F32, 0.2f)
        L("attn_output.weight", Q, E, td, wa)
        L("ffn_norm.weight", E, 1, GGUF_TYPE_F32, -1.0f)
        L("ffn_gate.weight", E, F, td, wa)
        L("ffn_up.weight", E, F, td, wa)
        L("ffn_down.weight", F, E, tdn, 1.5f / sqrtf((float)F))
#undef L
    }
#undef T
    int rc = 0;
    for (int i = 0; i < ns && !rc; i++) {
        int64_t ne[4] = { sp[i].ne0, sp[i].ne1, 1, 1 };
        rc = gguf_writer_add_tensor(w, sp[i].name, sp[i].ne1 > 1 ? 2 : 1, ne, sp[i].type);
    }
    if (!rc) rc = gguf_writer_begin_data(w);
    uint64_t s = g->seed * 0x9E3779B97F4A7C15ull + 12345;
    for (int i = 0; i < ns && !rc; i++) {
        size_t size;
        void *d;
        if (sp[i].amp < 0) {   /* norm weight: around 1 */
            size = (size_t)sp[i].ne0 * 4;
            d = malloc(size);
            for (int64_t j = 0; j < sp[i].ne0; j++) ((float *)d)[j] = g->zero ? 0.0f : 1.0f + 0.25f * vgen_unif(&s);
        } else {
            d = vgen_data(sp[i].type, sp[i].ne0, sp[i].ne1, sp[i].amp, g->zero, &s, &size);
        }
        if (g->nan_in_attn_q && !strcmp(sp[i].name, "blk.0.attn_q.weight") && sp[i].type == GGUF_TYPE_F32)
            ((float *)d)[3] = NAN;
        rc = d ? gguf_writer_tensor(w, d, size) : GGUF_E_NOMEM;
        free(d);
    }
    free(sp);
    if (rc) { gguf_writer_abort(w); return rc; }
    return gguf_writer_finish(w, &err);
}

#endif /* VERIFY_GEN_H */
