/* gemm.c - panel-packed float32 matrix product over any weight type; see gemm.h. */
#include "verify/gemm.h"

#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define PM 32    /* weight rows per panel: two 16-float vectors */
#define PN 12    /* X rows per micro-tile: 24 accumulators */
#define KC 256   /* columns per packed block: a 32 KiB panel stays in L1 */
#ifndef KCB
#define KCB 512  /* bf16 path: a 32 KiB panel of bf16 pairs */
#endif

typedef float v16 __attribute__((vector_size(64)));

/* n elements of row r of w starting at column k0 (k0 and n multiples of the block size). */
static void row_segment(const verify_weight *w, int64_t r, int64_t k0, int64_t n, float *dst)
{
    const uint8_t *row = w->data + (uint64_t)r * w->row_bytes;
    switch (w->type) {
    case GGUF_TYPE_F32:
        memcpy(dst, row + k0 * 4, (size_t)n * 4);
        break;
    case GGUF_TYPE_BF16: {
        const uint16_t *s = (const uint16_t *)(row + k0 * 2);
        uint32_t *d = (uint32_t *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint32_t)s[i] << 16;
        break;
    }
    case GGUF_TYPE_F16: {
        const uint8_t *s = row + k0 * 2;
        int64_t i = 0;
#ifdef __AVX512F__
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + 2 * i))));
#endif
        for (; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = quant_fp16_to_fp32(h);
        }
        break;
    }
    default:
        quant_to_f32(w->type, row + gguf_row_bytes(w->type, k0), dst, n);
        break;
    }
}

void verify_weight_row(const verify_weight *w, int64_t r, float *dst)
{
    row_segment(w, r, 0, w->ncols, dst);
}

#ifdef __AVX512F__
/* dst[j*ldd + i] = row_i[j] for 16 rows of 16 u32 each (a 16x16 transpose in registers). */
static inline void transpose16(const uint32_t *const rows[16], uint32_t *dst, int64_t ldd)
{
    __m512i t[16], u[16];
    for (int i = 0; i < 8; i++) {
        const __m512i r0 = _mm512_loadu_si512(rows[2 * i]), r1 = _mm512_loadu_si512(rows[2 * i + 1]);
        t[2 * i] = _mm512_unpacklo_epi32(r0, r1);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r0, r1);
    }
    /* u[4i+c], lane L: rows 4i..4i+3 of column 4L+c */
    for (int i = 0; i < 4; i++) {
        u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int c = 0; c < 4; c++) {
        const __m512i v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
        const __m512i v3 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE), v4 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
        _mm512_store_si512(dst + (0 + c) * ldd, _mm512_shuffle_i32x4(v1, v2, 0x88));
        _mm512_store_si512(dst + (4 + c) * ldd, _mm512_shuffle_i32x4(v1, v2, 0xDD));
        _mm512_store_si512(dst + (8 + c) * ldd, _mm512_shuffle_i32x4(v3, v4, 0x88));
        _mm512_store_si512(dst + (12 + c) * ldd, _mm512_shuffle_i32x4(v3, v4, 0xDD));
    }
}

#endif

/* Pack rows [r0, r0+mv) x columns [k0, k0+kc) into pk[k][PM], zero rows beyond mv. */
static void pack_panel(const verify_weight *w, int64_t r0, int mv, int64_t k0, int64_t kc,
                       float *tmp, float *pk)
{
    /* source rows: F32 weights in place, other types dequantized into tmp (PM rows of KC) */
    const float *src[PM];
    for (int r = 0; r < PM; r++) {
        float *t = tmp + (size_t)r * KC;
        if (r >= mv) {
            memset(t, 0, (size_t)kc * sizeof *tmp);
            src[r] = t;
        } else if (w->type == GGUF_TYPE_F32) {
            src[r] = (const float *)(w->data + (uint64_t)(r0 + r) * w->row_bytes) + k0;
        } else {
            row_segment(w, r0 + r, k0, kc, t);
            src[r] = t;
        }
    }
    int64_t k = 0;
#ifdef __AVX512F__
    for (; k + 16 <= kc; k += 16)
        for (int h = 0; h < PM; h += 16) {
            const uint32_t *rows[16];
            for (int i = 0; i < 16; i++) rows[i] = (const uint32_t *)(src[h + i] + k);
            transpose16(rows, (uint32_t *)(pk + k * PM + h), PM);
        }
#endif
    for (; k < kc; k++)
        for (int r = 0; r < PM; r++) pk[k * PM + r] = src[r][k];
}

/*
 * Micro-kernel: a tile of PN rows of X, packed as xp[k][PN], against a panel pk[k][PM]:
 * PN x PM accumulators (24 zmm with AVX-512), each x element broadcast into the FMAs.
 * Rows beyond nt are zero padding in xp and are not stored; columns beyond mv neither.
 */
static inline void kernel(const float *restrict pk, int64_t kc, const float *restrict xp,
                          float *restrict y, int64_t ldy, int nt, int mv, bool add)
{
    v16 a[PN], b[PN];
    for (int t = 0; t < PN; t++) { a[t] = (v16){0}; b[t] = (v16){0}; }
    for (int64_t k = 0; k < kc; k++) {
        const v16 w0 = *(const v16 *)(pk + k * PM), w1 = *(const v16 *)(pk + k * PM + 16);
        const float *xk = xp + k * PN;
#pragma GCC unroll 12
        for (int t = 0; t < PN; t++) {
            a[t] += w0 * xk[t];
            b[t] += w1 * xk[t];
        }
    }
    if (nt == PN && mv == PM) {
#pragma GCC unroll 12
        for (int t = 0; t < PN; t++) {
            float *yr = y + t * ldy;
            v16 y0 = a[t], y1 = b[t];
            if (add) {
                v16 o0, o1;
                memcpy(&o0, yr, 64); memcpy(&o1, yr + 16, 64);
                y0 += o0; y1 += o1;
            }
            memcpy(yr, &y0, 64); memcpy(yr + 16, &y1, 64);
        }
        return;
    }
    for (int t = 0; t < nt; t++) {
        float *yr = y + t * ldy;
        float tmp[PM];
        memcpy(tmp, &a[t], 64); memcpy(tmp + 16, &b[t], 64);
        for (int j = 0; j < mv; j++) yr[j] = add ? yr[j] + tmp[j] : tmp[j];
    }
}

/* ---------------------------------------------------------------- bf16 path (opt-in) */

static bool g_fast;

void verify_gemm_set_fast(bool on) { g_fast = on; }
bool verify_gemm_fast(void) { return g_fast; }

/* Out of memory for the packed activations: the result becomes NaN, which the forward pass's
 * non-finite check reports as an error rather than printing a wrong number. */
static void fill_nan(float *y, int64_t n, int64_t m, int64_t ldy)
{
    for (int64_t t = 0; t < n; t++)
        for (int64_t j = 0; j < m; j++) y[t * ldy + j] = __builtin_nanf("");
}

#ifdef __AVX512BF16__
#define VERIFY_HAVE_BF16_KERNEL 1

static inline uint16_t to_bf16(float f)   /* round to nearest even; inputs are finite */
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* Q6_K blocks (256 values in 210 bytes: ql[128], qh[64], int8 scales[16], fp16 d) to float, 16
 * lanes at a time; each value is (d * scale) * q rounded as quant_q6_k_to_f32 rounds it, so the
 * floats are the same. n is a multiple of 256. */
static void q6_k_to_f32_avx512(const uint8_t *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / 256; b++, x += 210, y += 256) {
        uint16_t dh;
        memcpy(&dh, x + 208, 2);
        const float d = quant_fp16_to_fp32(dh);
        const uint8_t *ql = x, *qh = x + 128;
        const int8_t *sc = (const int8_t *)(x + 192);
        const __m512i m4 = _mm512_set1_epi32(15), m2 = _mm512_set1_epi32(3), c32 = _mm512_set1_epi32(32);
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8) {
            float *yh = y + 128 * h;
            for (int g = 0; g < 2; g++) {   /* l = 16g .. 16g+15, scale index is = g */
                const __m512i a = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * g)));
                const __m512i bq = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 32 + 16 * g)));
                const __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16 * g)));
                const __m512i q1 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(a, m4),
                                   _mm512_slli_epi32(_mm512_and_si512(c, m2), 4)), c32);
                const __m512i q2 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(bq, m4),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(c, 2), m2), 4)), c32);
                const __m512i q3 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(a, 4),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(c, 4), m2), 4)), c32);
                const __m512i q4 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(bq, 4),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(c, 6), m2), 4)), c32);
                _mm512_storeu_ps(yh + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 0]), _mm512_cvtepi32_ps(q1)));
                _mm512_storeu_ps(yh + 32 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 2]), _mm512_cvtepi32_ps(q2)));
                _mm512_storeu_ps(yh + 64 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 4]), _mm512_cvtepi32_ps(q3)));
                _mm512_storeu_ps(yh + 96 + 16 * g, _mm512_mul_ps(_mm512_set1_ps(d * sc[g + 6]), _mm512_cvtepi32_ps(q4)));
            }
        }
    }
}

/* Q8_0 blocks (fp16 d + 32 int8 in 34 bytes) to float: q * d as quant_q8_0_to_f32 computes it.
 * n is a multiple of 32. */
static void q8_0_to_f32_avx512(const uint8_t *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / 32; b++, x += 34, y += 32) {
        uint16_t dh;
        memcpy(&dh, x, 2);
        const __m512 d = _mm512_set1_ps(quant_fp16_to_fp32(dh));
        _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + 2)))), d));
        _mm512_storeu_ps(y + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + 18)))), d));
    }
}

/* Pack rows [r0, r0+mv) x columns [k0, k0+kc) (kc even) as bf16 pairs: pw[kc/2][PM] u32, the
 * layout vdpbf16ps reads (lane r holds W[r][k], W[r][k+1]). BF16 rows are read as they are;
 * other types are dequantized to float and rounded into tmp (PM rows of kc/2 pairs). Rows past
 * mv are zero. */
static void pack_panel_bf16(const verify_weight *w, int64_t r0, int mv, int64_t k0, int64_t kc,
                            float *tmp, uint32_t *pw)
{
    static const uint32_t zero[16] __attribute__((aligned(64)));
    const int64_t np = kc / 2;
    const uint32_t *src[PM];
    int64_t ld[PM];
    for (int r = 0; r < PM; r++) {
        if (r >= mv) {
            src[r] = zero;
            ld[r] = 0;
        } else if (w->type == GGUF_TYPE_BF16) {
            src[r] = (const uint32_t *)(w->data + (uint64_t)(r0 + r) * w->row_bytes + (uint64_t)k0 * 2);
            ld[r] = 1;
        } else {
            float *f = tmp + (size_t)PM * KCB / 2;   /* float scratch after the PM pair rows */
            uint32_t *d = (uint32_t *)tmp + (size_t)r * (KCB / 2);
            if (w->type == GGUF_TYPE_Q6_K && kc % 256 == 0)
                q6_k_to_f32_avx512(w->data + (uint64_t)(r0 + r) * w->row_bytes + gguf_row_bytes(w->type, k0), f, kc);
            else if (w->type == GGUF_TYPE_Q8_0 && kc % 32 == 0)
                q8_0_to_f32_avx512(w->data + (uint64_t)(r0 + r) * w->row_bytes + gguf_row_bytes(w->type, k0), f, kc);
            else
                row_segment(w, r0 + r, k0, kc, f);
            int64_t kp = 0;
            for (; kp + 16 <= np; kp += 16)   /* RNE as to_bf16 (finite, non-denormal weights) */
                _mm512_storeu_si512(d + kp, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(f + 2 * kp + 16),
                                                                          _mm512_loadu_ps(f + 2 * kp)));
            for (; kp < np; kp++)
                d[kp] = (uint32_t)to_bf16(f[2 * kp]) | (uint32_t)to_bf16(f[2 * kp + 1]) << 16;
            src[r] = d;
            ld[r] = 1;
        }
    }
    int64_t kp = 0;
    for (; kp + 16 <= np; kp += 16)
        for (int h = 0; h < PM; h += 16) {
            const uint32_t *rows[16];
            for (int i = 0; i < 16; i++) rows[i] = src[h + i] + kp * ld[h + i];
            transpose16(rows, pw + kp * PM + h, PM);
        }
    for (; kp < np; kp++)
        for (int r = 0; r < PM; r++) pw[kp * PM + r] = src[r][kp * ld[r]];
}

/* NR (a compile-time constant after inlining) of the PN tile rows are multiplied: a partial last
 * tile of X costs NR rows, not PN. */
static inline __attribute__((always_inline)) void
kernel_bf16_rows(const int NR, const uint32_t *restrict pw, int64_t kc, const uint32_t *restrict xp,
                 float *restrict y, int64_t ldy, int nt, int mv, bool add)
{
    __m512 a[PN], b[PN];
#pragma GCC unroll 12
    for (int t = 0; t < PN; t++) { a[t] = _mm512_setzero_ps(); b[t] = _mm512_setzero_ps(); }
    for (int64_t kp = 0; kp < kc / 2; kp++) {
        const __m512bh w0 = (__m512bh)_mm512_load_si512(pw + kp * PM);
        const __m512bh w1 = (__m512bh)_mm512_load_si512(pw + kp * PM + 16);
        const uint32_t *xk = xp + kp * PN;
#pragma GCC unroll 12
        for (int t = 0; t < NR; t++) {
            const __m512bh xv = (__m512bh)_mm512_set1_epi32((int)xk[t]);
            a[t] = _mm512_dpbf16_ps(a[t], w0, xv);
            b[t] = _mm512_dpbf16_ps(b[t], w1, xv);
        }
    }
    /* vector epilogue, masked to the mv valid columns; the unrolled t keeps a[]/b[] in registers */
    const __mmask16 m0 = mv >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << mv) - 1);
    const __mmask16 m1 = mv >= 32 ? (__mmask16)0xFFFF : mv <= 16 ? (__mmask16)0 : (__mmask16)((1u << (mv - 16)) - 1);
#pragma GCC unroll 12
    for (int t = 0; t < PN; t++) {
        if (t < nt) {
            float *yr = y + t * ldy;
            __m512 y0 = a[t], y1 = b[t];
            if (add) {
                y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, yr));
                y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, yr + 16));
            }
            _mm512_mask_storeu_ps(yr, m0, y0);
            _mm512_mask_storeu_ps(yr + 16, m1, y1);
        }
    }
}

static void kernel_bf16(const uint32_t *restrict pw, int64_t kc, const uint32_t *restrict xp,
                        float *restrict y, int64_t ldy, int nt, int mv, bool add)
{
    if (nt > 8) kernel_bf16_rows(PN, pw, kc, xp, y, ldy, nt, mv, add);
    else if (nt > 4) kernel_bf16_rows(8, pw, kc, xp, y, ldy, nt, mv, add);
    else kernel_bf16_rows(4, pw, kc, xp, y, ldy, nt, mv, add);
}

/* Y (+)= X W^T with X rounded to bf16 and W as bf16 (vdpbf16ps, float accumulation). */
static void gemm_bf16(const verify_weight *w, const float *x, int64_t n, int64_t ldx,
                      float *y, int64_t ldy, const float *bias, bool accumulate)
{
    const int64_t M = w->nrows, K = w->ncols, KP = K / 2;
    const int64_t npanel = (M + PM - 1) / PM, ntile = (n + PN - 1) / PN;
    uint32_t *xp = aligned_alloc(64, ((size_t)(ntile * PN * KP) * 4 + 63) / 64 * 64);
    if (!xp) {
        fill_nan(y, n, M, ldy);
        return;
    }
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int64_t tt = 0; tt < ntile; tt++) {
            uint32_t *dst = xp + tt * PN * KP;
            for (int i = 0; i < PN; i++) {
                const int64_t t = tt * PN + i;
                const float *src = x + t * ldx;
                for (int64_t kp = 0; kp < KP; kp++)
                    dst[kp * PN + i] = t < n ? ((uint32_t)to_bf16(src[2 * kp]) | (uint32_t)to_bf16(src[2 * kp + 1]) << 16) : 0;
            }
        }
        float *tmp = aligned_alloc(64, (size_t)(PM * KCB / 2 + KCB) * sizeof(float));
        uint32_t *pw = aligned_alloc(64, (size_t)PM * KCB / 2 * sizeof(uint32_t));
        const bool ok = tmp && pw;
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < npanel; p++) {
            const int64_t r0 = p * PM;
            const int mv = (int)(M - r0 < PM ? M - r0 : PM);
            if (!ok) {
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] = __builtin_nanf("");
                continue;
            }
            for (int64_t k0 = 0; k0 < K; k0 += KCB) {
                const int64_t kc = K - k0 < KCB ? K - k0 : KCB;
                pack_panel_bf16(w, r0, mv, k0, kc, tmp, pw);
                const bool add = accumulate || k0 > 0;
                /* Prefetch the next block in panel order (the next K block, else the next panel)
                 * into L2, spread over the tiles, so the next pack does not wait on memory: the
                 * weights (above all the LM head) stream from DRAM. */
                int64_t nk0 = k0 + KCB, np = p;
                if (nk0 >= K) { nk0 = 0; np = p + 1; }
                int64_t pf_total = 0, pf_lines = 1, pf_per = 0, pf_i = 0;
                const uint8_t *pf_base = NULL;
                if (np < npanel) {
                    const int64_t nmv = M - np * PM < PM ? M - np * PM : PM;
                    const int64_t nkc = K - nk0 < KCB ? K - nk0 : KCB;
                    pf_base = w->data + (uint64_t)(np * PM) * w->row_bytes + gguf_row_bytes(w->type, nk0);
                    pf_lines = (int64_t)(gguf_row_bytes(w->type, nkc) + 63) / 64;
                    pf_total = nmv * pf_lines;
                    pf_per = (pf_total + ntile - 1) / ntile;
                }
                for (int64_t tt = 0; tt < ntile; tt++) {
                    const int nt = (int)(n - tt * PN < PN ? n - tt * PN : PN);
                    for (int64_t q = 0; q < pf_per && pf_i < pf_total; q++, pf_i++)
                        _mm_prefetch((const char *)(pf_base + (uint64_t)(pf_i / pf_lines) * w->row_bytes
                                                    + (uint64_t)(pf_i % pf_lines) * 64), _MM_HINT_T1);
                    kernel_bf16(pw, kc, xp + (tt * KP + k0 / 2) * PN, y + tt * PN * ldy + r0, ldy, nt, mv, add);
                }
            }
            if (bias)
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] += bias[r0 + j];
        }
        free(tmp);
        free(pw);
    }
    free(xp);
}
#else
#define VERIFY_HAVE_BF16_KERNEL 0
#endif

void verify_gemm(const verify_weight *w, const float *x, int64_t n, int64_t ldx,
                 float *y, int64_t ldy, const float *bias, bool accumulate)
{
    const int64_t M = w->nrows, K = w->ncols;
    const int64_t npanel = (M + PM - 1) / PM, ntile = (n + PN - 1) / PN;
    if (n <= 0 || M <= 0) return;
#if VERIFY_HAVE_BF16_KERNEL
    if (g_fast && w->type != GGUF_TYPE_F32 && K % 2 == 0) {
        gemm_bf16(w, x, n, ldx, y, ldy, bias, accumulate);
        return;
    }
#endif
    /* X packed once per call into tiles xp[tile][k][PN] (zero rows past n): the kernel then
     * streams it contiguously instead of hopping between PN rows 4 KiB apart. */
    float *xp = aligned_alloc(64, ((size_t)(ntile * PN * K) * sizeof(float) + 63) / 64 * 64);
    if (!xp) {
        fill_nan(y, n, M, ldy);
        return;
    }
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int64_t tt = 0; tt < ntile; tt++) {
            float *dst = xp + tt * PN * K;
            for (int i = 0; i < PN; i++) {
                const int64_t t = tt * PN + i;
                if (t < n) {
                    const float *src = x + t * ldx;
                    for (int64_t k = 0; k < K; k++) dst[k * PN + i] = src[k];
                } else {
                    for (int64_t k = 0; k < K; k++) dst[k * PN + i] = 0.0f;
                }
            }
        }
        float *tmp = aligned_alloc(64, (size_t)PM * KC * sizeof(float));
        float *pk = aligned_alloc(64, (size_t)PM * KC * sizeof(float));
        const bool ok = tmp && pk;
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < npanel; p++) {
            const int64_t r0 = p * PM;
            const int mv = (int)(M - r0 < PM ? M - r0 : PM);
            if (!ok) {   /* out of memory for 64 KiB: poison, callers check finiteness */
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] = __builtin_nanf("");
                continue;
            }
            for (int64_t k0 = 0; k0 < K; k0 += KC) {
                const int64_t kc = K - k0 < KC ? K - k0 : KC;
                pack_panel(w, r0, mv, k0, kc, tmp, pk);
                const bool add = accumulate || k0 > 0;
                for (int64_t tt = 0; tt < ntile; tt++) {
                    const int nt = (int)(n - tt * PN < PN ? n - tt * PN : PN);
                    kernel(pk, kc, xp + (tt * K + k0) * PN, y + tt * PN * ldy + r0, ldy, nt, mv, add);
                }
            }
            if (bias)
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] += bias[r0 + j];
        }
        free(tmp);
        free(pk);
    }
    free(xp);
}
