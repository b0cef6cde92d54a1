/*
 * q8_0.c - Q8_0: blocks of 32 elements, 34 bytes (FORMATS.md 1.4, 3.4).
 *
 *   byte  0      2                                  34
 *         +------+----------------------------------+
 *         | d    | qs[0] qs[1] ...          qs[31]  |   d: fp16, qs: int8
 *         +------+----------------------------------+
 *   x[j] ~= d * qs[j]
 *
 * Quantize: amax = max |x| (float max from 0), d = amax/127, id = d ? 1/d : 0,
 * qs[j] = roundf(x[j]*id) (half away from zero), with id from the UNROUNDED d.
 */
#include "quant.h"
#include "quant_impl.h"

#include <math.h>
#if QUANT_HAVE_AVX512
#include <immintrin.h>
#endif

void quant_q8_0_row_ref(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0, y += Q8_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            float v = fabsf(x[j]);
            amax = amax > v ? amax : v;
        }
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = quant_fp32_to_fp16(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < QK8_0; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}

#if QUANT_HAVE_AVX512
/* Same per-element operations as the reference: the max is exact in any order, each quant is
 * one multiply and one round-half-away (trunc, then +-1 when the exact remainder is >= 0.5). */
static inline __m512i q8__round_away(__m512 v)
{
    const __m512 half = _mm512_set1_ps(0.5f);
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(v, t);                               /* exact */
    __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(r), half, _CMP_GE_OQ);
    __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f),
                              _mm512_and_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u))));
    t = _mm512_mask_add_ps(t, up, t, one);
    return _mm512_cvttps_epi32(t);
}

/* One 34-byte block from its 32 values a (0..15) and c (16..31), the only body both entry
 * points share. A NaN makes the max order-dependent: such a block takes the reference path. */
static inline void q8__block(__m512 a, __m512 c, uint8_t *y)
{
    if (_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q)) {
        float x[QK8_0];
        _mm512_storeu_ps(x, a);
        _mm512_storeu_ps(x + 16, c);
        quant_q8_0_row_ref(x, y, QK8_0);
        return;
    }
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(c)));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    uint16_t dh = quant_fp32_to_fp16(d);
    memcpy(y, &dh, 2);
    __m512 vid = _mm512_set1_ps(id);
    _mm_storeu_si128((__m128i *)(y + 2), _mm512_cvtepi32_epi8(q8__round_away(_mm512_mul_ps(a, vid))));
    _mm_storeu_si128((__m128i *)(y + 18), _mm512_cvtepi32_epi8(q8__round_away(_mm512_mul_ps(c, vid))));
}

void quant_q8_0_row(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0, y += Q8_0_BYTES)
        q8__block(_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16), y);
}

/* Straight from fp16 (widening is exact, so this equals widening a row and quantizing it):
 * saves the f32 round trip through memory for F16 -> Q8_0, the common case. */
void quant_q8_0_row_from_f16(const uint16_t *h, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK8_0; b++, h += QK8_0, y += Q8_0_BYTES)
        q8__block(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h)),
                  _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + 16))), y);
}
#else
void quant_q8_0_row(const float *x, void *y, int64_t n) { quant_q8_0_row_ref(x, y, n); }
void quant_q8_0_row_from_f16(const uint16_t *h, void *vy, int64_t n)
{
    float x[QK8_0];
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK8_0; b++, h += QK8_0, y += Q8_0_BYTES) {
        for (int j = 0; j < QK8_0; j++) x[j] = quant_fp16_to_fp32(h[j]);
        quant_q8_0_row_ref(x, y, QK8_0);
    }
}
#endif

void quant_q8_0_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK8_0; b++, x += Q8_0_BYTES, y += QK8_0) {
        uint16_t dh; memcpy(&dh, x, 2);
        const float d = quant_fp16_to_fp32(dh);
        for (int j = 0; j < QK8_0; j++) y[j] = (float)(int8_t)x[2 + j] * d;
    }
}
