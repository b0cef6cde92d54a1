/*
 * q4_k.c - Q4_K: super-blocks of 256 elements = 8 sub-blocks of 32, 144 bytes
 * (FORMATS.md 1.4, 3.5).
 *
 *   byte 0     2      4                16                                   144
 *        +-----+------+----------------+-------------------------------------+
 *        | d   | dmin | scales[12]     | qs[128]                             |
 *        +-----+------+----------------+-------------------------------------+
 *   d, dmin: fp16. Sub-block j has a 6-bit scale sc[j] and a 6-bit min m[j]:
 *     j < 4 : scales[j]   = sc[j] (low 6 bits)      scales[j+4] = m[j] (low 6 bits)
 *     j >= 4: scales[j+4] = (sc[j] & 15) | (m[j] & 15) << 4
 *             top 2 bits of sc[j] -> bits 6-7 of scales[j-4], of m[j] -> bits 6-7 of scales[j]
 *   qs[32g + l] = L[64g + l] | L[64g + 32 + l] << 4     (g = 0..3, l = 0..31, L in 0..15)
 *   x ~= d*sc[j] * L - dmin*m[j]
 *
 * The quantizer is llama.cpp's quantize_row_q4_K_ref: per sub-block a weighted min/scale fit
 * (make_qkx2_quants, 21 trial scales), then 6-bit scale/min codes relative to the super-block
 * maxima, then final levels from the fp16-rounded scales.
 *
 * AVX-512 twin: one zmm lane per sub-block, 16 lanes = two super-blocks. Each lane performs
 * exactly the reference's binary32 operations on its own 32 elements, in the same order, so
 * the bytes are identical (tests/test_quant_simd.c checks this on random and edge data).
 */
#include "quant.h"
#include "quant_impl.h"

#include <math.h>
#if QUANT_HAVE_AVX512
#include <immintrin.h>
#endif

/* make_qkx2_quants(n, nmax, x, w, L, &the_min, Laux, rmin=-1, rdelta=0.1, nstep=20, use_mad=0) */
static float q4k__make_qkx2(int n, int nmax, const float *x, const float *w, uint8_t *L,
                            float *the_min, uint8_t *Laux)
{
    const float rmin = -1.0f, rdelta = 0.1f;
    const int nstep = 20;
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float wi = w[i];
        sum_w += wi;
        sum_x += wi * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = quant__nearest_int(iscale * (x[i] - min));
        l = l < 0 ? 0 : l > nmax ? nmax : l;
        L[i] = (uint8_t)l;
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_error += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = quant__nearest_int(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = (uint8_t)l;
            float wi = w[i];
            sum_l += wi * l;
            sum_l2 += wi * l * l;
            sum_xl += wi * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                cur_error += w[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; i++) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Scale codes, d/dmin and final levels of one super-block, given the sub-block fits.
 * L holds the first-pass levels on entry (kept where a sub-block's d*sc is 0). */
static void q4k__finish_block(const float *x, const float scales[8], const float mins[8],
                              uint8_t L[256], uint8_t *y)
{
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t *sc = y + 4;
    memset(sc, 0, 12);
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        uint8_t a = (uint8_t)quant__nearest_int(inv_scale * scales[j]);
        uint8_t b = (uint8_t)quant__nearest_int(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = b < 63 ? b : 63;
        if (j < 4) {
            sc[j] = ls[j];
            sc[j + 4] = lm[j];
        } else {
            sc[j + 4] = (uint8_t)((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
            sc[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            sc[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
    uint16_t dh = quant_fp32_to_fp16(max_scale / 63.f);
    uint16_t mh = quant_fp32_to_fp16(max_min / 63.f);
    memcpy(y, &dh, 2);
    memcpy(y + 2, &mh, 2);
    const float df = quant_fp16_to_fp32(dh), mf = quant_fp16_to_fp32(mh);
    for (int j = 0; j < 8; j++) {
        /* decoding the packed codes gives back ls/lm exactly (both are <= 63) */
        const float d = df * ls[j];
        if (!d) continue;
        const float dm = mf * lm[j];
        for (int ii = 0; ii < 32; ii++) {
            int l = quant__nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)(l < 0 ? 0 : l > 15 ? 15 : l);
        }
    }
    uint8_t *qs = y + 16;
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++)
            qs[32 * g + l] = (uint8_t)(L[64 * g + l] | (L[64 * g + 32 + l] << 4));
}

static void q4k__block_ref(const float *x, uint8_t *y)
{
    uint8_t L[256], Laux[32];
    float w[32], scales[8], mins[8];
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = q4k__make_qkx2(32, 15, x + 32 * j, w, L + 32 * j, &mins[j], Laux);
    }
    q4k__finish_block(x, scales, mins, L, y);
}

void quant_q4_k_row_ref(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK_K; b++) q4k__block_ref(x + b * QK_K, y + b * Q4_K_BYTES);
}

#if QUANT_HAVE_AVX512
/* Two super-blocks (512 floats at x, 288 bytes at y); lane k = sub-block k (k = 8*s + j). */
static void q4k__pair_avx512(const float *x, uint8_t *y)
{
    __m512 xt[32], wt[32], Lf[32], La[32];
    /* xt[l] lane k = x[32k + l]: two 16x16 transposes of the sub-blocks' halves */
    for (int k = 0; k < 16; k++) {
        xt[k] = _mm512_loadu_ps(x + 32 * k);
        xt[16 + k] = _mm512_loadu_ps(x + 32 * k + 16);
    }
    quant__transpose16(xt);
    quant__transpose16(xt + 16);

    const __m512 zero = _mm512_setzero_ps();
    const __m512i izero = _mm512_setzero_si512(), i15 = _mm512_set1_epi32(15);
    const __m512 magic = _mm512_set1_ps(12582912.f);
    const __m512i mant = _mm512_set1_epi32(0x007fffff), off = _mm512_set1_epi32(0x00400000);
#define Q4K_NEAREST_CLAMP(v) _mm512_cvtepi32_ps(_mm512_max_epi32(izero, _mm512_min_epi32(i15, \
        _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(_mm512_add_ps((v), magic)), mant), off))))

    /* weights: w = sqrt(sum x^2 / 32) + |x| */
    __m512 sum_x2 = zero;
    for (int l = 0; l < 32; l++) sum_x2 = _mm512_add_ps(sum_x2, _mm512_mul_ps(xt[l], xt[l]));
    __m512 av_x = _mm512_sqrt_ps(_mm512_div_ps(sum_x2, _mm512_set1_ps(32.f)));
    for (int l = 0; l < 32; l++) wt[l] = _mm512_add_ps(av_x, _mm512_abs_ps(xt[l]));

    /* make_qkx2_quants, lane-wise */
    __m512 min = xt[0], max = xt[0], sum_w = wt[0], sum_x = _mm512_mul_ps(wt[0], xt[0]);
    for (int i = 1; i < 32; i++) {
        min = _mm512_mask_mov_ps(min, _mm512_cmp_ps_mask(xt[i], min, _CMP_LT_OQ), xt[i]);
        max = _mm512_mask_mov_ps(max, _mm512_cmp_ps_mask(xt[i], max, _CMP_GT_OQ), xt[i]);
        sum_w = _mm512_add_ps(sum_w, wt[i]);
        sum_x = _mm512_add_ps(sum_x, _mm512_mul_ps(wt[i], xt[i]));
    }
    min = _mm512_mask_mov_ps(min, _mm512_cmp_ps_mask(min, zero, _CMP_GT_OQ), zero);
    const __mmask16 flat = _mm512_cmp_ps_mask(max, min, _CMP_EQ_OQ);
    const __m512 min0 = min;
    __m512 iscale = _mm512_div_ps(_mm512_set1_ps(15.f), _mm512_sub_ps(max, min));
    __m512 scale = _mm512_div_ps(_mm512_set1_ps(1.f), iscale);
    __m512 best_error = zero;
    for (int i = 0; i < 32; i++) {
        Lf[i] = Q4K_NEAREST_CLAMP(_mm512_mul_ps(iscale, _mm512_sub_ps(xt[i], min0)));
        __m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(scale, Lf[i]), min0), xt[i]);
        best_error = _mm512_add_ps(best_error, _mm512_mul_ps(wt[i], _mm512_mul_ps(diff, diff)));
    }
    for (int is = 0; is <= 20; is++) {
        const float num = -1.0f + 0.1f * (float)is + 15.0f;    /* (rmin + rdelta*is) + nmax */
        /* min is the running one: an adopted trial moves it (as in the reference) */
        iscale = _mm512_div_ps(_mm512_set1_ps(num), _mm512_sub_ps(max, min));
        __m512 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < 32; i++) {
            La[i] = Q4K_NEAREST_CLAMP(_mm512_mul_ps(iscale, _mm512_sub_ps(xt[i], min)));
            __m512 wl = _mm512_mul_ps(wt[i], La[i]);
            sum_l = _mm512_add_ps(sum_l, wl);
            sum_l2 = _mm512_add_ps(sum_l2, _mm512_mul_ps(wl, La[i]));
            sum_xl = _mm512_add_ps(sum_xl, _mm512_mul_ps(wl, xt[i]));
        }
        __m512 D = _mm512_sub_ps(_mm512_mul_ps(sum_w, sum_l2), _mm512_mul_ps(sum_l, sum_l));
        __mmask16 ok = _mm512_cmp_ps_mask(D, zero, _CMP_GT_OQ);
        if (!ok) continue;
        __m512 this_scale = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_w, sum_xl), _mm512_mul_ps(sum_x, sum_l)), D);
        __m512 this_min = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_l2, sum_x), _mm512_mul_ps(sum_l, sum_xl)), D);
        __mmask16 pos = _mm512_cmp_ps_mask(this_min, zero, _CMP_GT_OQ);
        this_min = _mm512_mask_mov_ps(this_min, pos, zero);
        this_scale = _mm512_mask_mov_ps(this_scale, pos, _mm512_div_ps(sum_xl, sum_l2));
        __m512 cur_error = zero;
        for (int i = 0; i < 32; i++) {
            __m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(this_scale, La[i]), this_min), xt[i]);
            cur_error = _mm512_add_ps(cur_error, _mm512_mul_ps(wt[i], _mm512_mul_ps(diff, diff)));
        }
        __mmask16 take = ok & _mm512_cmp_ps_mask(cur_error, best_error, _CMP_LT_OQ);
        if (!take) continue;
        for (int i = 0; i < 32; i++) Lf[i] = _mm512_mask_mov_ps(Lf[i], take, La[i]);
        best_error = _mm512_mask_mov_ps(best_error, take, cur_error);
        scale = _mm512_mask_mov_ps(scale, take, this_scale);
        min = _mm512_mask_mov_ps(min, take, this_min);
    }
    /* flat sub-blocks: L = 0, scale 0, the_min = -min (min as clamped before the fit) */
    scale = _mm512_mask_mov_ps(scale, flat, zero);
    min = _mm512_mask_mov_ps(min, flat, min0);
    for (int i = 0; i < 32; i++) Lf[i] = _mm512_mask_mov_ps(Lf[i], flat, zero);
    __m512 mins_v = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(min), _mm512_set1_epi32((int)0x80000000u))); /* -min */

    float scales[16], mins[16];
    _mm512_storeu_ps(scales, scale);
    _mm512_storeu_ps(mins, mins_v);

    /* per super-block scalar part: codes, d, dmin (cheap: 8 values each) */
    float dj[16], mj[16];
    uint8_t ls[16], lm[16];
    for (int s = 0; s < 2; s++) {
        uint8_t *yb = y + s * Q4_K_BYTES;
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            if (scales[8 * s + j] > max_scale) max_scale = scales[8 * s + j];
            if (mins[8 * s + j] > max_min) max_min = mins[8 * s + j];
        }
        const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        uint8_t *sc = yb + 4;
        memset(sc, 0, 12);
        for (int j = 0; j < 8; j++) {
            uint8_t a = (uint8_t)quant__nearest_int(inv_scale * scales[8 * s + j]);
            uint8_t b = (uint8_t)quant__nearest_int(inv_min * mins[8 * s + j]);
            a = a < 63 ? a : 63;
            b = b < 63 ? b : 63;
            ls[8 * s + j] = a;
            lm[8 * s + j] = b;
            if (j < 4) {
                sc[j] = a;
                sc[j + 4] = b;
            } else {
                sc[j + 4] = (uint8_t)((a & 0xf) | ((b & 0xf) << 4));
                sc[j - 4] |= (uint8_t)((a >> 4) << 6);
                sc[j] |= (uint8_t)((b >> 4) << 6);
            }
        }
        uint16_t dh = quant_fp32_to_fp16(max_scale / 63.f);
        uint16_t mh = quant_fp32_to_fp16(max_min / 63.f);
        memcpy(yb, &dh, 2);
        memcpy(yb + 2, &mh, 2);
        const float df = quant_fp16_to_fp32(dh), mf = quant_fp16_to_fp32(mh);
        for (int j = 0; j < 8; j++) {
            dj[8 * s + j] = df * ls[8 * s + j];
            mj[8 * s + j] = mf * lm[8 * s + j];
        }
    }

    /* final levels, lane-wise; lanes with d*sc == 0 keep the first-pass levels */
    const __m512 dv = _mm512_loadu_ps(dj), mv = _mm512_loadu_ps(mj);
    const __mmask16 live = _mm512_cmp_ps_mask(dv, zero, _CMP_NEQ_UQ);
    uint8_t Lt[32][16];
    for (int i = 0; i < 32; i++) {
        __m512 q = Q4K_NEAREST_CLAMP(_mm512_div_ps(_mm512_add_ps(xt[i], mv), dv));
        q = _mm512_mask_mov_ps(Lf[i], live, q);
        _mm_storeu_si128((__m128i *)Lt[i], _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(q)));
    }
#undef Q4K_NEAREST_CLAMP
    for (int s = 0; s < 2; s++) {
        uint8_t *qs = y + s * Q4_K_BYTES + 16;
        for (int g = 0; g < 4; g++) {
            const int lo = 8 * s + 2 * g, hi = lo + 1;
            for (int l = 0; l < 32; l++) qs[32 * g + l] = (uint8_t)(Lt[l][lo] | (Lt[l][hi] << 4));
        }
    }
}

void quant_q4_k_row(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    const int64_t nb = n / QK_K;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) q4k__pair_avx512(x + b * QK_K, y + b * Q4_K_BYTES);
    for (; b < nb; b++) q4k__block_ref(x + b * QK_K, y + b * Q4_K_BYTES);
}
#else
void quant_q4_k_row(const float *x, void *y, int64_t n) { quant_q4_k_row_ref(x, y, n); }
#endif

/* ---------------------------------------------------------------- dequantize */

void quant_q4_k_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK_K; b++, x += Q4_K_BYTES) {
        uint16_t dh, mh;
        memcpy(&dh, x, 2);
        memcpy(&mh, x + 2, 2);
        const float d = quant_fp16_to_fp32(dh), dmin = quant_fp16_to_fp32(mh);
        const uint8_t *qs = x + 16;
        for (int g = 0; g < 4; g++) {
            uint8_t sc, m;
            quant__k_scale_min(2 * g, x + 4, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            quant__k_scale_min(2 * g + 1, x + 4, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (qs[l] & 0xf) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (qs[l] >> 4) - m2;
            qs += 32;
        }
    }
}
