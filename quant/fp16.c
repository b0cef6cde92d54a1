/*
 * fp16.c - IEEE binary16 and bfloat16 conversions (FORMATS.md 1.5), scalar and row-wise.
 *
 *   binary16:  | s | eeeee | mmmmmmmmmm |     bias 15, subnormals below 2^-14
 *   bfloat16:  | s | eeeeeeee | mmmmmmm |     the top 16 bits of a binary32
 *
 * fp32 -> fp16 rounds to nearest, ties to even, overflows to +-inf and turns any NaN into
 * 0x7E00 with the sign kept (what ggml's software conversion does). fp32 -> bf16 rounds to
 * nearest even; a NaN keeps its top 16 bits and gets the quiet bit 0x40 set.
 * The AVX-512 row versions use the hardware RNE conversion (identical bits for non-NaN input)
 * and patch the NaN lanes, so they equal the scalar versions everywhere.
 */
#include "quant.h"
#include "quant_impl.h"

#include <string.h>
#if QUANT_HAVE_AVX512
#include <immintrin.h>
#endif

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t quant_fp32_to_fp16(float f)
{
    uint32_t x = f2u(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u;          /* NaN */
    if (ax >= 0x477ff000u) return sign | 0x7c00u;         /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                              /* normal half: >= 2^-14 */
        uint32_t e = (ax >> 23) - 127 + 15;
        uint32_t m = ax & 0x7fffffu;
        uint32_t h = (e << 10) | (m >> 13);
        uint32_t rem = m & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;  /* carry may bump e */
        return (uint16_t)(sign | h);
    }
    if (ax <= 0x33000000u) return sign;                   /* <= 2^-25: rounds to 0 */
    /* subnormal half: count units of 2^-24, value = m * 2^(E-150) = (m >> (126-E)) units */
    uint32_t E = ax >> 23;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - E;                             /* 14..24 */
    uint32_t h = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) h++;     /* 0x3ff + 1 = smallest normal */
    return (uint16_t)(sign | h);
}

float quant_fp16_to_fp32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return u2f(sign | 0x7f800000u | (m << 13));
    if (e != 0) return u2f(sign | ((e - 15 + 127) << 23) | (m << 13));
    if (m == 0) return u2f(sign);
    /* subnormal: m * 2^-24, exact in binary32 */
    float v = (float)m * 0x1p-24f;
    return sign ? -v : v;
}

uint16_t quant_fp32_to_bf16(float f)
{
    uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float quant_bf16_to_fp32(uint16_t h) { return u2f((uint32_t)h << 16); }

/* ---------------------------------------------------------------- rows */

void quant_f32_to_f16_row_ref(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = quant_fp32_to_fp16(src[i]);
}

void quant_f32_to_bf16_row_ref(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = quant_fp32_to_bf16(src[i]);
}

void quant_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
#if QUANT_HAVE_AVX512
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));     /* exact */
    }
#endif
    for (; i < n; i++) dst[i] = quant_fp16_to_fp32(src[i]);
}

void quant_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
#if QUANT_HAVE_AVX512
    const __m512i k_sign = _mm512_set1_epi32(0x8000), k_qnan = _mm512_set1_epi32(0x7e00);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(src + i);
        __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        if (nan) {
            __m512i s = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(v), 16), k_sign);
            __m256i fix = _mm512_cvtepi32_epi16(_mm512_or_si512(s, k_qnan));
            h = _mm256_mask_mov_epi16(h, nan, fix);
        }
        _mm256_storeu_si256((__m256i *)(dst + i), h);
    }
#endif
    for (; i < n; i++) dst[i] = quant_fp32_to_fp16(src[i]);
}

void quant_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
#if QUANT_HAVE_AVX512
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + i)));
        _mm512_storeu_si512((void *)(dst + i), _mm512_slli_epi32(w, 16));
    }
#endif
    for (; i < n; i++) dst[i] = quant_bf16_to_fp32(src[i]);
}

void quant_f32_to_bf16_row(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
#if QUANT_HAVE_AVX512
    const __m512i k_abs = _mm512_set1_epi32(0x7fffffff), k_inf = _mm512_set1_epi32(0x7f800000);
    const __m512i k_round = _mm512_set1_epi32(0x7fff), k_one = _mm512_set1_epi32(1);
    const __m512i k_quiet = _mm512_set1_epi32(0x40);
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, k_abs), k_inf);
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), k_one);
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, k_round), odd), 16);
        __m512i q = _mm512_or_si512(_mm512_srli_epi32(x, 16), k_quiet);
        r = _mm512_mask_mov_epi32(r, nan, q);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(r));
    }
#endif
    for (; i < n; i++) dst[i] = quant_fp32_to_bf16(src[i]);
}
