/* forward.c - Qwen2 forward pass on the CPU; see forward.h. */
#include "verify/forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verify/gemm.h"
#include "verify/vexp.h"

typedef float v16 __attribute__((vector_size(64)));

struct verify_ctx {
    const verify_model *m;
    int64_t max_T;
    float *xn;      /* [T][n_embd]       normed input of a sublayer */
    float *q;       /* [T][n_head*hd] */
    float *k, *v;   /* [T][n_kv*hd] */
    float *att;     /* [T][n_head*hd]    attention output before o_proj */
    float *g, *u;   /* [T][n_ff]         gate and up */
    float *rcos, *rsin;  /* [T][n_rot/2] */
    float *kt;      /* [n_kv][hd][T rounded up to 16]  K transposed for attention */
};

static void *xalloc(size_t n) { return aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64); }

verify_ctx *verify_ctx_new(const verify_model *m, int64_t max_T)
{
    const verify_hparams *hp = &m->hp;
    verify_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->m = m;
    c->max_T = max_T;
    const size_t T = (size_t)max_T, E = (size_t)hp->n_embd, Q = (size_t)hp->n_head * hp->head_dim,
                 KV = (size_t)hp->n_head_kv * hp->head_dim, F = (size_t)hp->n_ff,
                 R = (size_t)hp->n_rot / 2;
    c->xn = xalloc(T * E);
    c->q = xalloc(T * Q);
    c->k = xalloc(T * KV);
    c->v = xalloc(T * KV);
    c->att = xalloc(T * Q);
    c->g = xalloc(T * F);
    c->u = xalloc(T * F);
    c->rcos = xalloc(T * R);
    c->rsin = xalloc(T * R);
    c->kt = xalloc(KV * ((T + 15) / 16 * 16));
    if (!c->kt || !c->xn || !c->q || !c->k || !c->v || !c->att || !c->g || !c->u || !c->rcos || !c->rsin) {
        verify_ctx_free(c);
        return NULL;
    }
    /* rotation angles computed in double: theta_i = pos * base^(-2i/n_rot) */
    for (size_t p = 0; p < T; p++)
        for (size_t i = 0; i < R; i++) {
            double a = (double)p * pow(hp->rope_theta, -2.0 * (double)i / (double)hp->n_rot);
            c->rcos[p * R + i] = (float)cos(a);
            c->rsin[p * R + i] = (float)sin(a);
        }
    return c;
}

void verify_ctx_free(verify_ctx *c)
{
    if (!c) return;
    free(c->xn); free(c->q); free(c->k); free(c->v); free(c->att); free(c->g); free(c->u);
    free(c->rcos); free(c->rsin); free(c->kt);
    free(c);
}

int verify_embed(verify_ctx *c, const int32_t *tokens, int64_t n, float *x, gguf_error *err)
{
    const verify_model *m = c->m;
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab)
            return gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX,
                                  "token %d at position %lld is outside the vocabulary of '%s' (%d entries)",
                                  tokens[i], (long long)i, m->path, m->hp.n_vocab);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        verify_weight_row(&m->tok_embd, tokens[i], x + i * m->hp.n_embd);
    return 0;
}

/* out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, the sum of squares in double. */
static void rms_norm(const float *x, const float *w, float *out, int64_t n, int64_t E, double eps)
{
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < n; t++) {
        const float *xr = x + t * E;
        float *o = out + t * E;
        double ss = 0;
        for (int64_t i = 0; i < E; i++) ss += (double)xr[i] * xr[i];
        const float scale = (float)(1.0 / sqrt(ss / (double)E + eps));
        for (int64_t i = 0; i < E; i++) o[i] = xr[i] * scale * w[i];
    }
}

/* NEOX rotation of every head of n rows (row stride ld, nh heads of hd floats). */
static void rope(const verify_ctx *c, float *x, int64_t n, int64_t ld, int nh, int hd)
{
    const int R = c->m->hp.n_rot / 2;
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < n; t++) {
        const float *cs = c->rcos + t * R, *sn = c->rsin + t * R;
        for (int h = 0; h < nh; h++) {
            float *v = x + t * ld + (int64_t)h * hd;
            for (int i = 0; i < R; i++) {
                const float x0 = v[i], x1 = v[i + R];
                v[i] = x0 * cs[i] - x1 * sn[i];
                v[i + R] = x0 * sn[i] + x1 * cs[i];
            }
        }
    }
}

static inline float dot(const float *a, const float *b, int n)
{
    int i = 0;
    float s = 0;
    if (n >= 16) {
        v16 acc = {0};
        for (; i + 16 <= n; i += 16) {
            v16 x, y;
            memcpy(&x, a + i, 64); memcpy(&y, b + i, 64);
            acc += x * y;
        }
        for (int j = 0; j < 16; j++) s += acc[j];
    }
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* o = inv * sum_j s[j] v[j] for a head dimension known at compile time: the accumulators stay
 * in registers (HD/16 vectors). */
static inline __attribute__((always_inline)) void
pv_fixed(const int HD, const float *s, int64_t nj, const float *vb, int64_t ldk, float inv, float *o)
{
    v16 acc[8];
    for (int d = 0; d < HD / 16; d++) acc[d] = (v16){0};
    for (int64_t j = 0; j < nj; j++) {
        const float p = s[j];
        const float *vj = vb + j * ldk;
        for (int d = 0; d < HD / 16; d++) {
            v16 v;
            memcpy(&v, vj + 16 * d, 64);
            acc[d] += v * p;
        }
    }
    for (int d = 0; d < HD / 16; d++) {
        v16 r = acc[d] * inv;
        memcpy(o + 16 * d, &r, 64);
    }
}

/* Scores of HB query heads (q, q + hd, ...) against keys 0..nj-1 of one KV head (kt[d][Tp]):
 * s[b*Tp + j] = scale * sum_d q_b[d] k_j[d], summed in d order per key (FMA chains of four
 * 16-key blocks). Every K vector load feeds HB heads. Writes s up to nj rounded up to 16. */
static inline __attribute__((always_inline)) void
qk_scores(const int HB, const float *q, int hd, const float *kg, int64_t Tp, int64_t nj, float scale, float *s)
{
    int64_t j0 = 0;
    for (; j0 + 64 <= nj + 15; j0 += 64) {
        v16 a[4][4];
        for (int b = 0; b < HB; b++)
            for (int u = 0; u < 4; u++) a[b][u] = (v16){0};
        for (int d = 0; d < hd; d++) {
            const float *kr = kg + (int64_t)d * Tp + j0;
            v16 k[4];
            for (int u = 0; u < 4; u++) memcpy(&k[u], kr + 16 * u, 64);
            for (int b = 0; b < HB; b++) {
                const float qd = q[(int64_t)b * hd + d];
                for (int u = 0; u < 4; u++) a[b][u] += k[u] * qd;
            }
        }
        for (int b = 0; b < HB; b++)
            for (int u = 0; u < 4; u++) {
                const v16 r = a[b][u] * scale;
                memcpy(s + (int64_t)b * Tp + j0 + 16 * u, &r, 64);
            }
    }
    for (; j0 < nj; j0 += 16) {
        v16 a[4];
        for (int b = 0; b < HB; b++) a[b] = (v16){0};
        for (int d = 0; d < hd; d++) {
            v16 kv;
            memcpy(&kv, kg + (int64_t)d * Tp + j0, 64);
            for (int b = 0; b < HB; b++) a[b] += kv * q[(int64_t)b * hd + d];
        }
        for (int b = 0; b < HB; b++) {
            const v16 r = a[b] * scale;
            memcpy(s + (int64_t)b * Tp + j0, &r, 64);
        }
    }
}

/*
 * Causal attention of one sequence of T tokens: att[t][h] = sum_j softmax_j(q.k/sqrt(hd)) v[j].
 * K is first transposed per KV head (kt[g][d][j]) so that the scores of 16 keys come out of one
 * vector FMA chain over d, with no horizontal sums. Softmax: float expf, double sum.
 */
static void attention(verify_ctx *c, int64_t T)
{
    const verify_hparams *hp = &c->m->hp;
    const int nh = hp->n_head, nkv = hp->n_head_kv, hd = hp->head_dim, grp = nh / nkv;
    const int64_t ldq = (int64_t)nh * hd, ldk = (int64_t)nkv * hd;
    const int64_t Tp = (T + 15) / 16 * 16;
    const float scale = (float)(1.0 / sqrt((double)hd));
    float *kt = c->kt;
#pragma omp parallel
    {
#pragma omp for schedule(static) collapse(2)
        for (int g = 0; g < nkv; g++)
            for (int d = 0; d < hd; d++) {
                float *dst = kt + ((int64_t)g * hd + d) * Tp;
                for (int64_t j = 0; j < T; j++) dst[j] = c->k[j * ldk + (int64_t)g * hd + d];
                for (int64_t j = T; j < Tp; j++) dst[j] = 0.0f;
            }
        float *s = aligned_alloc(64, (size_t)(4 * Tp) * sizeof *s);
        float *acc = malloc((size_t)hd * sizeof *acc);
#pragma omp for collapse(2) schedule(dynamic, 8)
        for (int g = 0; g < nkv; g++)
            for (int64_t i = 0; i < T; i++)
            for (int h0 = g * grp; h0 < (g + 1) * grp; ) {
                /* the query heads of one KV group share every K load: 4 heads at a time */
                const int hb = (g + 1) * grp - h0 >= 4 ? 4 : 1;
                const float *kg = kt + (int64_t)g * hd * Tp;
                const int64_t nj = i + 1;
                if (!s || !acc) {
                    for (int b = 0; b < hb; b++) c->att[i * ldq + (int64_t)(h0 + b) * hd] = __builtin_nanf("");
                    h0 += hb;
                    continue;
                }
                if (hb == 4) qk_scores(4, c->q + i * ldq + (int64_t)h0 * hd, hd, kg, Tp, nj, scale, s);
                else qk_scores(1, c->q + i * ldq + (int64_t)h0 * hd, hd, kg, Tp, nj, scale, s);
                for (int b = 0; b < hb; b++) {
                    const int h = h0 + b;
                    float *o = c->att + i * ldq + (int64_t)h * hd;
                    const float *vb = c->v + (int64_t)g * hd;
                    float *sb = s + (int64_t)b * Tp;
                    float mx = -INFINITY;
                    double sum = 0;
#ifdef __AVX512F__
                    {
                        /* sb holds scores up to nj rounded up to 16; lanes past nj are masked out */
                        __m512 vm = _mm512_set1_ps(-INFINITY);
                        for (int64_t j = 0; j < nj; j += 16) {
                            const __mmask16 mk = nj - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nj - j)) - 1);
                            vm = _mm512_mask_max_ps(vm, mk, vm, _mm512_load_ps(sb + j));
                        }
                        mx = _mm512_reduce_max_ps(vm);
                        const __m256 vmx = _mm256_set1_ps(mx);
                        __m512d vs = _mm512_setzero_pd();
                        for (int64_t j = 0; j < nj; j += 8) {
                            const __mmask8 mk = nj - j >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (nj - j)) - 1);
                            const __m512d e = verify_exp_to_float_pd(_mm256_sub_ps(_mm256_load_ps(sb + j), vmx));
                            _mm256_mask_storeu_ps(sb + j, mk, _mm512_cvtpd_ps(e));
                            vs = _mm512_mask_add_pd(vs, mk, vs, e);
                        }
                        sum = _mm512_reduce_add_pd(vs);
                    }
#else
                    for (int64_t j = 0; j < nj; j++) if (sb[j] > mx) mx = sb[j];
                    for (int64_t j = 0; j < nj; j++) {
                        sb[j] = expf(sb[j] - mx);
                        sum += sb[j];
                    }
#endif
                    const float inv = (float)(1.0 / sum);
                    if (hd == 128) pv_fixed(128, sb, nj, vb, ldk, inv, o);
                    else if (hd == 64) pv_fixed(64, sb, nj, vb, ldk, inv, o);
                    else {
                        memset(acc, 0, (size_t)hd * sizeof *acc);
                        for (int64_t j = 0; j < nj; j++) {
                            const float p = sb[j];
                            const float *vj = vb + j * ldk;
                            for (int d = 0; d < hd; d++) acc[d] += p * vj[d];
                        }
                        for (int d = 0; d < hd; d++) o[d] = acc[d] * inv;
                    }
                }
                h0 += hb;
            }
        free(s);
        free(acc);
    }
}

static int check_finite(const verify_ctx *c, const float *x, int64_t n, int64_t E, int il,
                        int64_t seq, int64_t pos0, gguf_error *err)
{
    int64_t bad = -1;
#pragma omp parallel for schedule(static) reduction(max:bad)
    for (int64_t t = 0; t < n; t++) {
        const float *r = x + t * E;
        float s = 0;
        for (int64_t i = 0; i < E; i++) s += r[i] * 0.0f;   /* NaN iff some r[i] is NaN or Inf */
        if (s != s && t > bad) bad = t;
    }
    if (bad >= 0)
        return gguf_error_set(err, GGUF_E_NONFINITE, UINT64_MAX,
                              "'%s': non-finite activation after layer %d (sequence %lld, position %lld)",
                              c->m->path, il, (long long)seq, (long long)(pos0 + bad));
    return 0;
}

int verify_layer_forward(verify_ctx *c, int il, float *x, int64_t n_seq, int64_t T, gguf_error *err)
{
    return verify_layer_forward_rows(c, il, x, n_seq, T, 0, err);
}

int verify_layer_forward_rows(verify_ctx *c, int il, float *x, int64_t n_seq, int64_t T, int64_t row0,
                              gguf_error *err)
{
    const verify_model *m = c->m;
    const verify_hparams *hp = &m->hp;
    const verify_layer *L = &m->layers[il];
    const int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim,
                  KV = (int64_t)hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    if (T > c->max_T)
        return gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX, "sequence of %lld tokens exceeds the work space (%lld)",
                              (long long)T, (long long)c->max_T);
    if (row0 < 0 || row0 >= T) row0 = 0;
    const int64_t nr = T - row0;   /* rows that get the output projection and the FFN */
    for (int64_t s = 0; s < n_seq; s++) {
        float *xs = x + s * T * E;
        /* attention block */
        rms_norm(xs, L->attn_norm, c->xn, T, E, hp->rms_eps);
        verify_gemm(&L->wq, c->xn, T, E, c->q, Q, L->bq, false);
        verify_gemm(&L->wk, c->xn, T, E, c->k, KV, L->bk, false);
        verify_gemm(&L->wv, c->xn, T, E, c->v, KV, L->bv, false);
        rope(c, c->q, T, Q, hp->n_head, hp->head_dim);
        rope(c, c->k, T, KV, hp->n_head_kv, hp->head_dim);
        attention(c, T);
        /* from here on only rows >= row0: every key and value was needed above */
        float *xo = xs + row0 * E;
        verify_gemm(&L->wo, c->att + row0 * Q, nr, Q, xo, E, NULL, true);
        /* feed-forward block */
        rms_norm(xo, L->ffn_norm, c->xn, nr, E, hp->rms_eps);
        verify_gemm(&L->gate, c->xn, nr, E, c->g, F, NULL, false);
        verify_gemm(&L->up, c->xn, nr, E, c->u, F, NULL, false);
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < nr; t++) {
            float *g = c->g + t * F;
            const float *u = c->u + t * F;
            int64_t i = 0;
#ifdef __AVX512F__
            /* SiLU with the vector exp (expf's float to its last bit; inf for large -g, so g -> 0) */
            for (; i + 8 <= F; i += 8) {
                const __m256 gv = _mm256_loadu_ps(g + i);
                const __m256 e = _mm512_cvtpd_ps(verify_exp_to_float_pd(_mm256_sub_ps(_mm256_setzero_ps(), gv)));
                _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(_mm256_set1_ps(1.0f), e)),
                                                      _mm256_loadu_ps(u + i)));
            }
#endif
            for (; i < F; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
        }
        verify_gemm(&L->down, c->g, nr, F, xo, E, NULL, true);
        int rc = check_finite(c, xo, nr, E, il, s, row0, err);
        if (rc) return rc;
    }
    return 0;
}

int verify_head(verify_ctx *c, const float *x, int64_t n, float *logits, gguf_error *err)
{
    const verify_model *m = c->m;
    const int64_t E = m->hp.n_embd;
    float *xn = xalloc((size_t)(n > 0 ? n : 1) * (size_t)E);
    if (!xn) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    rms_norm(x, m->output_norm, xn, n, E, m->hp.rms_eps);
    verify_gemm(&m->output, xn, n, E, logits, m->hp.n_vocab, NULL, false);
    free(xn);
    return 0;
}

int verify_run_sequence(verify_ctx *c, const int32_t *tokens, int64_t n, bool all_rows,
                        float *logits, gguf_error *err)
{
    const verify_model *m = c->m;
    const int64_t E = m->hp.n_embd;
    float *x = xalloc((size_t)n * (size_t)E);
    if (!x) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    int rc = verify_embed(c, tokens, n, x, err);
    verify_model_release_layer(m, -1);
    for (int il = 0; !rc && il < m->hp.n_layer; il++) {
        const int64_t row0 = !all_rows && il == m->hp.n_layer - 1 ? n - 1 : 0;
        rc = verify_layer_forward_rows(c, il, x, 1, n, row0, err);
        verify_model_release_layer(m, il);
    }
    if (!rc) rc = all_rows ? verify_head(c, x, n, logits, err)
                           : verify_head(c, x + (n - 1) * E, 1, logits, err);
    verify_model_release_layer(m, -1);
    free(x);
    return rc;
}
