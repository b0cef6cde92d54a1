/*
 * q6_k.c - Q6_K: super-blocks of 256 elements = 16 sub-blocks of 16, 210 bytes
 * (FORMATS.md 1.4, 3.6).
 *
 *   byte 0                  128              192             208   210
 *        +------------------+----------------+---------------+-----+
 *        | ql[128]          | qh[64]         | scales[16]    | d   |   scales: int8, d: fp16 (LAST)
 *        +------------------+----------------+---------------+-----+
 *   Levels L in 0..63 (x ~= d * scales[sub-block] * (L - 32)). For each half h = 0,1
 *   (elements 128h .. 128h+127, ql += 64h, qh += 32h), l = 0..31:
 *     ql[l]    = L[l] & 15        | (L[l+64] & 15) << 4
 *     ql[l+32] = L[l+32] & 15     | (L[l+96] & 15) << 4
 *     qh[l]    = L[l] >> 4 | (L[l+32] >> 4) << 2 | (L[l+64] >> 4) << 4 | (L[l+96] >> 4) << 6
 *
 * The quantizer is llama.cpp's quantize_row_q6_K_ref: a signed rmse fit per sub-block
 * (make_qx_quants, nmax 32, 18 trial scales), 8-bit scale codes relative to the largest, then
 * final levels from the fp16-rounded d.
 *
 * AVX-512 twin: one lane per sub-block, 16 lanes = one super-block, each lane running the
 * reference's binary32 operations on its 16 elements in the same order.
 */
#include "quant.h"
#include "quant_impl.h"

#include <math.h>
#if QUANT_HAVE_AVX512
#include <immintrin.h>
#endif

#define GROUP_MAX_EPS 1e-15f

/* make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): returns the signed scale */
static float q6k__make_qx(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = quant__nearest_int(iscale * x[i]);
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = quant__nearest_int(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = quant__nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static void q6k__pack(const int8_t L[256], uint8_t *y)
{
    uint8_t *ql = y, *qh = y + 128;
    for (int h = 0; h < 2; h++) {
        const int8_t *Lh = L + 128 * h;
        for (int l = 0; l < 32; l++) {
            const uint8_t q1 = (uint8_t)Lh[l], q2 = (uint8_t)Lh[l + 32];
            const uint8_t q3 = (uint8_t)Lh[l + 64], q4 = (uint8_t)Lh[l + 96];
            ql[l] = (uint8_t)((q1 & 0xf) | ((q3 & 0xf) << 4));
            ql[l + 32] = (uint8_t)((q2 & 0xf) | ((q4 & 0xf) << 4));
            qh[l] = (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

/* The super-block part after the 16 fits: returns 0 and fills y, or 1 if the block is all
 * zero (y zeroed). On success *d_out is the decoded fp16 d and sc[] the int8 codes. */
static int q6k__codes(const float scales[16], uint8_t *y, float *d_out)
{
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ib++) {
        const float abs_scale = fabsf(scales[ib]);
        if (abs_scale > max_abs_scale) { max_abs_scale = abs_scale; max_scale = scales[ib]; }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(y, 0, Q6_K_BYTES);
        return 1;
    }
    const float iscale = -128.f / max_scale;
    uint16_t dh = quant_fp32_to_fp16(1 / iscale);
    memcpy(y + 208, &dh, 2);
    for (int ib = 0; ib < 16; ib++) {
        int v = quant__nearest_int(iscale * scales[ib]);
        y[192 + ib] = (uint8_t)(int8_t)(v < 127 ? v : 127);
    }
    *d_out = quant_fp16_to_fp32(dh);
    return 0;
}

static void q6k__block_ref(const float *x, uint8_t *y)
{
    int8_t L[256];
    float scales[16], df;
    for (int ib = 0; ib < 16; ib++) scales[ib] = q6k__make_qx(16, 32, x + 16 * ib, L + 16 * ib);
    if (q6k__codes(scales, y, &df)) return;
    for (int j = 0; j < 16; j++) {
        const float d = df * (int8_t)y[192 + j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ii++) {
            int l = quant__nearest_int(x[16 * j + ii] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
    q6k__pack(L, y);
}

void quant_q6_k_row_ref(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK_K; b++) q6k__block_ref(x + b * QK_K, y + b * Q6_K_BYTES);
}

#if QUANT_HAVE_AVX512
static void q6k__block_avx512(const float *x, uint8_t *y)
{
    __m512 xt[16], w[16], wx[16];
    __m512i L[16], Lt[16];
    /* xt[l] lane k = x[16k + l] */
    for (int k = 0; k < 16; k++) xt[k] = _mm512_loadu_ps(x + 16 * k);
    quant__transpose16(xt);

    const __m512 zero = _mm512_setzero_ps();
    const __m512 magic = _mm512_set1_ps(12582912.f);
    const __m512i mant = _mm512_set1_epi32(0x007fffff), off = _mm512_set1_epi32(0x00400000);
    const __m512i lo = _mm512_set1_epi32(-32), hi = _mm512_set1_epi32(31), i32 = _mm512_set1_epi32(32);
#define Q6K_NEAREST_CLAMP(v) _mm512_max_epi32(lo, _mm512_min_epi32(hi, \
        _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(_mm512_add_ps((v), magic)), mant), off)))

    __m512 max = zero, amax = zero;
    for (int i = 0; i < 16; i++) {
        __m512 ax = _mm512_abs_ps(xt[i]);
        __mmask16 gt = _mm512_cmp_ps_mask(ax, amax, _CMP_GT_OQ);
        amax = _mm512_mask_mov_ps(amax, gt, ax);
        max = _mm512_mask_mov_ps(max, gt, xt[i]);
        w[i] = _mm512_mul_ps(xt[i], xt[i]);
        wx[i] = _mm512_mul_ps(w[i], xt[i]);
    }
    const __mmask16 tiny = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(GROUP_MAX_EPS), _CMP_LT_OQ);
    __m512 iscale = _mm512_div_ps(_mm512_set1_ps(-32.f), max);
    __m512 sumlx = zero, suml2 = zero;
    for (int i = 0; i < 16; i++) {
        __m512i l = Q6K_NEAREST_CLAMP(_mm512_mul_ps(iscale, xt[i]));
        L[i] = _mm512_add_epi32(l, i32);
        __m512 lf = _mm512_cvtepi32_ps(l);
        sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(wx[i], lf));
        suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w[i], lf), lf));
    }
    __m512 scale = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(suml2, zero, _CMP_NEQ_UQ), sumlx, suml2);
    __m512 best = _mm512_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const float t = -(32 + 0.1f * (float)is);
        iscale = _mm512_div_ps(_mm512_set1_ps(t), max);
        sumlx = suml2 = zero;
        for (int i = 0; i < 16; i++) {
            __m512i l = Q6K_NEAREST_CLAMP(_mm512_mul_ps(iscale, xt[i]));
            Lt[i] = l;
            __m512 lf = _mm512_cvtepi32_ps(l);
            sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(wx[i], lf));
            suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w[i], lf), lf));
        }
        __mmask16 take = _mm512_cmp_ps_mask(suml2, zero, _CMP_GT_OQ) &
                         _mm512_cmp_ps_mask(_mm512_mul_ps(sumlx, sumlx), _mm512_mul_ps(best, suml2), _CMP_GT_OQ);
        if (!take) continue;
        for (int i = 0; i < 16; i++) L[i] = _mm512_mask_add_epi32(L[i], take, Lt[i], i32);
        scale = _mm512_mask_div_ps(scale, take, sumlx, suml2);
        best = _mm512_mask_mul_ps(best, take, scale, sumlx);
    }
    scale = _mm512_mask_mov_ps(scale, tiny, zero);
    for (int i = 0; i < 16; i++) L[i] = _mm512_mask_mov_epi32(L[i], tiny, _mm512_setzero_si512());

    float scales[16], df;
    _mm512_storeu_ps(scales, scale);
    if (q6k__codes(scales, y, &df)) return;

    /* final levels: lanes with d*sc == 0 keep the fit's levels */
    __m512 dv = _mm512_mul_ps(_mm512_set1_ps(df),
                              _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(y + 192)))));
    const __mmask16 live = _mm512_cmp_ps_mask(dv, zero, _CMP_NEQ_UQ);
    int8_t Lb[16][16];   /* Lb[l][k]: element 16k + l */
    for (int i = 0; i < 16; i++) {
        __m512i q = _mm512_add_epi32(Q6K_NEAREST_CLAMP(_mm512_div_ps(xt[i], dv)), i32);
        q = _mm512_mask_mov_epi32(L[i], live, q);
        _mm_storeu_si128((__m128i *)Lb[i], _mm512_cvtepi32_epi8(q));
    }
#undef Q6K_NEAREST_CLAMP
    int8_t Lf[256];
    for (int k = 0; k < 16; k++)
        for (int l = 0; l < 16; l++) Lf[16 * k + l] = Lb[l][k];
    q6k__pack(Lf, y);
}

void quant_q6_k_row(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK_K; b++) q6k__block_avx512(x + b * QK_K, y + b * Q6_K_BYTES);
}
#else
void quant_q6_k_row(const float *x, void *y, int64_t n) { quant_q6_k_row_ref(x, y, n); }
#endif

void quant_q6_k_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK_K; b++, x += Q6_K_BYTES) {
        uint16_t dh;
        memcpy(&dh, x + 208, 2);
        const float d = quant_fp16_to_fp32(dh);
        const uint8_t *ql = x, *qh = x + 128;
        const int8_t *sc = (const int8_t *)(x + 192);
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}
