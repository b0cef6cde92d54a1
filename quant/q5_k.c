/*
 * q5_k.c - Q5_K, dequantization only (input of --allow-requantize): super-blocks of 256
 * elements = 8 sub-blocks of 32, 176 bytes (FORMATS.md 1.4).
 *
 *   byte 0     2      4                16           48                                176
 *        +-----+------+----------------+------------+-----------------------------------+
 *        | d   | dmin | scales[12]     | qh[32]     | qs[128]                           |
 *        +-----+------+----------------+------------+-----------------------------------+
 *   scales: 6-bit sc/m per sub-block, packed as in Q4_K. Element 64g + l (low nibble of
 *   qs[32g + l]) takes bit 2g of qh[l] as its 5th bit; element 64g + 32 + l (high nibble)
 *   takes bit 2g+1.   x ~= d*sc * q - dmin*m, q in 0..31.
 */
#include "quant.h"
#include "quant_impl.h"

void quant_q5_k_to_f32(const void *vx, float *y, int64_t n)
{
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / QK_K; b++, x += Q5_K_BYTES) {
        uint16_t dh, mh;
        memcpy(&dh, x, 2);
        memcpy(&mh, x + 2, 2);
        const float d = quant_fp16_to_fp32(dh), dmin = quant_fp16_to_fp32(mh);
        const uint8_t *qh = x + 16, *qs = x + 48;
        for (int g = 0; g < 4; g++) {
            uint8_t sc, m;
            quant__k_scale_min(2 * g, x + 4, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            quant__k_scale_min(2 * g + 1, x + 4, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t u1 = (uint8_t)(1u << (2 * g)), u2 = (uint8_t)(2u << (2 * g));
            for (int l = 0; l < 32; l++) *y++ = d1 * ((qs[l] & 0xf) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((qs[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            qs += 32;
        }
    }
}
