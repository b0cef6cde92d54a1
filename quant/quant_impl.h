/*
 * quant_impl.h - internals of the quant module shared between its files and its unit tests:
 * per-format row kernels (a scalar reference and, where it pays, an AVX-512 twin that is
 * bit-identical to it) and the nearest_int helper. Not installed; tools use quant.h only.
 *
 * Every *_ref function is the readable scalar algorithm of FORMATS.md section 3, in plain
 * binary32 arithmetic in source order (quant/ is compiled with -ffp-contract=off). The
 * unsuffixed function is the one rows.c calls: the SIMD path when compiled with AVX-512,
 * the reference otherwise. All n are element counts, multiples of the block size.
 */
#ifndef QUANT_IMPL_H
#define QUANT_IMPL_H

#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define QUANT_HAVE_AVX512 1
#else
#define QUANT_HAVE_AVX512 0
#endif

/* Round to nearest, ties to even, by adding 1.5*2^23 (FORMATS.md 3.3). Valid for |f| <= 4194303;
 * outside that it returns the same garbage llama.cpp's does, which is what bit-exactness needs. */
static inline int quant__nearest_int(float f)
{
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Q4_K/Q5_K: the 6-bit scale and min of sub-block j from the 12 packed bytes q (FORMATS.md 3.5). */
static inline void quant__k_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#if QUANT_HAVE_AVX512
#include <immintrin.h>
/* Transpose a 16x16 float matrix held in 16 zmm rows: r[i][L] becomes r[L][i]. Four stages;
 * stage b swaps bit b of the row index with bit b of the lane index (a 2x2 block transpose of
 * b x b blocks), two permutes per register pair. Pure data movement, so exact. Used to turn
 * 16 contiguous sub-blocks into one vector per element position (lane = sub-block) without
 * gathers. */
static inline void quant__transpose16(__m512 r[16])
{
    for (int b = 8; b >= 1; b >>= 1) {
        int lo[16], hi[16];
        for (int L = 0; L < 16; L++) {
            lo[L] = (L & b) ? 16 + (L - b) : L;
            hi[L] = (L & b) ? 16 + L : L + b;
        }
        const __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
        for (int i = 0; i < 16; i++) {
            if (i & b) continue;
            const __m512 a = r[i], c = r[i + b];
            r[i] = _mm512_permutex2var_ps(a, ilo, c);
            r[i + b] = _mm512_permutex2var_ps(a, ihi, c);
        }
    }
}
#endif

/* Byte sizes of the blocks (FORMATS.md 1.4). */
enum {
    QK4_0 = 32, QK5_0 = 32, QK8_0 = 32, QK_K = 256,
    Q4_0_BYTES = 18, Q5_0_BYTES = 22, Q8_0_BYTES = 34,
    Q4_K_BYTES = 144, Q5_K_BYTES = 176, Q6_K_BYTES = 210,
};

/* fp16 / bf16 rows */
void quant_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void quant_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n);
void quant_f32_to_f16_row_ref(const float *src, uint16_t *dst, int64_t n);
void quant_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void quant_f32_to_bf16_row(const float *src, uint16_t *dst, int64_t n);
void quant_f32_to_bf16_row_ref(const float *src, uint16_t *dst, int64_t n);

/* Q8_0 */
void quant_q8_0_row_ref(const float *x, void *y, int64_t n);
void quant_q8_0_row(const float *x, void *y, int64_t n);
void quant_q8_0_to_f32(const void *x, float *y, int64_t n);
void quant_q8_0_row_from_f16(const uint16_t *h, void *y, int64_t n);   /* fused F16 -> Q8_0 */
/* Q4_0, Q5_0 (small fallback targets: scalar only) */
void quant_q4_0_row_ref(const float *x, void *y, int64_t n);
void quant_q4_0_to_f32(const void *x, float *y, int64_t n);
void quant_q5_0_row_ref(const float *x, void *y, int64_t n);
void quant_q5_0_to_f32(const void *x, float *y, int64_t n);
/* Q4_K */
void quant_q4_k_row_ref(const float *x, void *y, int64_t n);
void quant_q4_k_row(const float *x, void *y, int64_t n);
void quant_q4_k_to_f32(const void *x, float *y, int64_t n);
/* Q5_K (dequantize only) */
void quant_q5_k_to_f32(const void *x, float *y, int64_t n);
/* Q6_K */
void quant_q6_k_row_ref(const float *x, void *y, int64_t n);
void quant_q6_k_row(const float *x, void *y, int64_t n);
void quant_q6_k_to_f32(const void *x, float *y, int64_t n);

/* Force the scalar reference kernels in quant_from_f32 / quant_convert_rows (tests, and a
 * safety switch): 1 = reference, 0 = fastest available. Not thread-safe; set before use. */
void quant_set_reference(int on);
int  quant_get_reference(void);

#endif /* QUANT_IMPL_H */
