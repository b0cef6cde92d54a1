/*
 * test_quant_roundtrip.c - quantize -> dequantize error bounds per type on random data, each
 * bound derived from the format (stated per test), plus dequantizer sanity on hand-made blocks.
 */
#include "th.h"
#include "gguf.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"

#include <stdint.h>

static uint64_t st = 0x2545F4914F6CDD1Dull;
static float gauss(void)
{
    st ^= st << 13; st ^= st >> 7; st ^= st << 17;
    double u1 = ((st >> 11) + 0.5) / 9007199254740992.0;
    st ^= st << 13; st ^= st >> 7; st ^= st << 17;
    double u2 = ((st >> 11) + 0.5) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

enum { NROW = 64, NCOL = 4096, N = NROW * NCOL };
static float x[N], y[N];
static uint8_t q[N * 4];

/* round trip through type; returns RMSE / RMS(x) */
static double roundtrip(int type, float sigma)
{
    for (int i = 0; i < N; i++) x[i] = gauss() * sigma;
    quant_from_f32(type, x, q, NROW, NCOL, 2);
    quant_to_f32(type, q, y, N);
    double se = 0, sx = 0;
    for (int i = 0; i < N; i++) { se += (double)(x[i] - y[i]) * (x[i] - y[i]); sx += (double)x[i] * x[i]; }
    return sqrt(se / sx);
}

/* max over blocks of (max |x - y| in the block) / (max |x| in the block) */
static double worst_block_rel(int bs)
{
    double worst = 0;
    for (int b = 0; b < N / bs; b++) {
        double amax = 0, emax = 0;
        for (int j = 0; j < bs; j++) {
            amax = fmax(amax, fabs(x[b * bs + j]));
            emax = fmax(emax, fabs(x[b * bs + j] - y[b * bs + j]));
        }
        if (amax > 0) worst = fmax(worst, emax / amax);
    }
    return worst;
}

/* Q8_0: q = round(x/d) with d = amax/127, so |x - q*d| <= d/2 = amax/254; storing d as fp16
 * moves q*d by at most |q| * d * 2^-11 <= amax * 2^-11. Bound: amax * (1/254 + 2^-11). */
TEST(q8_0_bound)
{
    double r = roundtrip(GGUF_TYPE_Q8_0, 1.0f);
    double w = worst_block_rel(32);
    CHECK_MSG(w <= (1.0 / 254 + 1.0 / 2048) * 1.001, "worst block error %.6f of amax", w);
    CHECK_MSG(r < 0.01, "relative rmse %.5f", r);
}

/* Q4_0: d = max/-8; levels -8..7 cover [-amax, 7/8 amax] in steps of amax/8, so the error is at
 * most half a step inside, one step at the clamped end: amax/8, plus the fp16 scale error
 * 8 * d * 2^-11. Q5_0 likewise with 16: amax/16 * (1 + 16 * 2^-11). */
TEST(q4_0_q5_0_bound)
{
    roundtrip(GGUF_TYPE_Q4_0, 1.0f);
    double w4 = worst_block_rel(32);
    CHECK_MSG(w4 <= (1.0 / 8) * (1 + 8.0 / 2048) * 1.001, "Q4_0 worst block error %.5f of amax", w4);
    roundtrip(GGUF_TYPE_Q5_0, 1.0f);
    double w5 = worst_block_rel(32);
    CHECK_MSG(w5 <= (1.0 / 16) * (1 + 16.0 / 2048) * 1.001, "Q5_0 worst block error %.5f of amax", w5);
}

/* Q4_K: 16 levels per sub-block of 32 spread over about its range; for Gaussian data the range
 * of 32 samples is about 4 sigma, a step about 0.27 sigma and a uniform rounding error step/sqrt(12)
 * = 0.077 sigma; 6-bit scale codes and the weighted fit add a little. Bound: 0.10. The per-element
 * error stays within one step of the sub-block's range: (max - min)/15. */
TEST(q4_k_bound)
{
    double r = roundtrip(GGUF_TYPE_Q4_K, 0.02f);
    CHECK_MSG(r < 0.10, "relative rmse %.5f", r);
    double worst = 0;
    for (int b = 0; b < N / 32; b++) {
        float mn = x[32 * b], mx = x[32 * b];
        double emax = 0;
        for (int j = 0; j < 32; j++) {
            mn = fminf(mn, x[32 * b + j]); mx = fmaxf(mx, x[32 * b + j]);
            emax = fmax(emax, fabs(x[32 * b + j] - y[32 * b + j]));
        }
        worst = fmax(worst, emax / ((mx - (mn < 0 ? mn : 0)) / 15));
    }
    CHECK_MSG(worst <= 1.0, "an element is %.3f steps off", worst);
}

/* Q6_K: 64 signed levels per sub-block of 16: step about 2*amax/63, amax of 16 Gaussian samples
 * about 2 sigma, so a step about 0.064 sigma and the rounding error 0.018 sigma. Bound: 0.03. */
TEST(q6_k_bound)
{
    double r = roundtrip(GGUF_TYPE_Q6_K, 0.02f);
    CHECK_MSG(r < 0.03, "relative rmse %.5f", r);
    double w = worst_block_rel(16);
    CHECK_MSG(w <= 2.0 / 63, "worst sub-block error %.5f of amax (one step is 2/63)", w);
}

/* F16: 11 significant bits, RNE: relative error <= 2^-11 for normal values. BF16: 8 bits, 2^-8. */
TEST(f16_bf16_bound)
{
    roundtrip(GGUF_TYPE_F16, 1.0f);
    double w = 0;
    for (int i = 0; i < N; i++) if (fabsf(x[i]) > 0x1p-14f) w = fmax(w, fabs(x[i] - y[i]) / fabs(x[i]));
    CHECK_MSG(w <= 0x1p-11, "f16 relative error %.3g", w);
    roundtrip(GGUF_TYPE_BF16, 1.0f);
    w = 0;
    for (int i = 0; i < N; i++) if (x[i] != 0) w = fmax(w, fabs(x[i] - y[i]) / fabs(x[i]));
    CHECK_MSG(w <= 0x1p-8, "bf16 relative error %.3g", w);
}

/* Requantizing the dequantized values is a fixed point for Q8_0: the grid points come back. */
TEST(q8_0_requantize_fixed_point)
{
    roundtrip(GGUF_TYPE_Q8_0, 1.0f);
    static uint8_t q2[N * 2];
    quant_from_f32(GGUF_TYPE_Q8_0, y, q2, NROW, NCOL, 1);
    CHECK(!memcmp(q, q2, quant_row_size(GGUF_TYPE_Q8_0, NCOL) * NROW));
}

/* Hand-made blocks decode to the values the layout says. */
TEST(dequantize_hand_blocks)
{
    uint8_t b[Q6_K_BYTES];
    float out[256];
    /* Q4_K: d = 1, dmin = 0.5, sub-block 0 sc 2 m 4, sub-block 5 sc 33 m 17, level 3 everywhere */
    memset(b, 0, sizeof b);
    uint16_t one = quant_fp32_to_fp16(1.0f), half = quant_fp32_to_fp16(0.5f);
    memcpy(b, &one, 2); memcpy(b + 2, &half, 2);
    b[4 + 0] = 2; b[4 + 4] = 4;
    b[4 + 9] = (33 & 15) | ((17 & 15) << 4); b[4 + 1] |= (33 >> 4) << 6; b[4 + 5] |= (17 >> 4) << 6;
    memset(b + 16, 0x33, 128);
    quant_q4_k_to_f32(b, out, 256);
    CHECK_NEAR(out[0], 2 * 3 - 0.5 * 4, 0);
    CHECK_NEAR(out[160], 33 * 3 - 0.5 * 17, 0);
    /* Q5_K: same scales, qh all ones -> level 3 + 16 */
    uint8_t k5[Q5_K_BYTES];
    memcpy(k5, b, 16);
    memset(k5 + 16, 0xff, 32);
    memset(k5 + 48, 0x33, 128);
    quant_q5_k_to_f32(k5, out, 256);
    CHECK_NEAR(out[0], 2 * 19 - 0.5 * 4, 0);
    CHECK_NEAR(out[160], 33 * 19 - 0.5 * 17, 0);
    /* Q6_K: d = 0.25, scales[j] = j - 8, level (L - 32) with L = 40 everywhere */
    memset(b, 0, sizeof b);
    for (int i = 0; i < 128; i++) b[i] = 0x88;            /* low 4 bits 8 */
    for (int i = 0; i < 64; i++) b[128 + i] = 0xaa;       /* high 2 bits 2 -> L = 40 */
    for (int j = 0; j < 16; j++) b[192 + j] = (uint8_t)(int8_t)(j - 8);
    uint16_t qd = quant_fp32_to_fp16(0.25f);
    memcpy(b + 208, &qd, 2);
    quant_q6_k_to_f32(b, out, 256);
    for (int i = 0; i < 256; i++) CHECK_NEAR(out[i], 0.25 * (i / 16 - 8) * 8, 0);
}

TH_MAIN()
