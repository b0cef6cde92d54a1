/*
 * q5_0.c - Q5_0: blocks of 32 elements, 22 bytes (FORMATS.md 1.4, 3.7).
 *
 *   byte  0      2          6                        22
 *         +------+----------+------------------------+
 *         | d    | qh (u32) | qs[16]                 |   d: fp16, qh little-endian
 *         +------+----------+------------------------+
 *   q[j] = (qs[j%16] nibble: low for j<16, high for j>=16) | ((qh >> j) & 1) << 4
 *   x ~= d * (q - 16)
 *
 * Quantize: max = the signed x of largest |x|, d = max / -16, id = d ? 1/d : 0,
 * q = min(31, (int8)(x*id + 16.5f)).
 */
#include "quant.h"
#include "quant_impl.h"

#include <math.h>

void quant_q5_0_row_ref(const float *x, void *vy, int64_t n)
{
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / QK5_0; b++, x += QK5_0, y += Q5_0_BYTES) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK5_0; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = quant_fp32_to_fp16(d);
        memcpy(y, &dh, 2);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            int8_t a = (int8_t)(x[j] * id + 16.5f), c = (int8_t)(x[j + 16] * id + 16.5f);
            uint8_t q0 = (uint8_t)(a < 31 ? a : 31), q1 = (uint8_t)(c < 31 ? c : 31);
            y[6 + j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + 16);
        }
        uint8_t le[4] = { (uint8_t)qh, (uint8_t)(qh >> 8), (uint8_t)(qh >> 16), (uint8_t)(qh >> 24) };
        memcpy(y + 2, le, 4);
    }
}

void quant_q5_0_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK5_0; b++, x += Q5_0_BYTES, y += QK5_0) {
        uint16_t dh; memcpy(&dh, x, 2);
        const float d = quant_fp16_to_fp32(dh);
        uint32_t qh = (uint32_t)x[2] | (uint32_t)x[3] << 8 | (uint32_t)x[4] << 16 | (uint32_t)x[5] << 24;
        for (int j = 0; j < 16; j++) {
            int q0 = (x[6 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int q1 = (x[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)(q0 - 16) * d;
            y[j + 16] = (float)(q1 - 16) * d;
        }
    }
}
