/*
 * q4_0.c - Q4_0: blocks of 32 elements, 18 bytes (FORMATS.md 1.4, 3.7).
 *
 *   byte  0      2                        18
 *         +------+------------------------+
 *         | d    | qs[16]                 |   d: fp16
 *         +------+------------------------+
 *   qs[j] = q[j] | q[j+16] << 4        (q in 0..15),   x ~= d * (q - 8)
 *
 * Quantize: max = the signed x of largest |x| (first one wins), d = max / -8,
 * id = d ? 1/d : 0, q = min(15, (int8)(x*id + 8.5f)) (truncating conversion).
 */
#include "quant.h"
#include "quant_impl.h"

#include <math.h>

void quant_q4_0_row_ref(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK4_0; b++, x += QK4_0, y += Q4_0_BYTES) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK4_0; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = quant_fp32_to_fp16(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int8_t a = (int8_t)(x[j] * id + 8.5f), c = (int8_t)(x[j + 16] * id + 8.5f);
            uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(c < 15 ? c : 15);
            y[2 + j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
        }
    }
}

void quant_q4_0_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK4_0; b++, x += Q4_0_BYTES, y += QK4_0) {
        uint16_t dh; memcpy(&dh, x, 2);
        const float d = quant_fp16_to_fp32(dh);
        for (int j = 0; j < 16; j++) {
            y[j]      = (float)((x[2 + j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((x[2 + j] >> 4) - 8) * d;
        }
    }
}
