/*
 * test_quant_fp16.c - fp16 / bf16 conversions (FORMATS.md 1.5): round to nearest even at
 * ties, subnormals, overflow to inf, NaN -> 0x7E00 with the sign (fp16) or the top bits with
 * the quiet bit 0x40 (bf16); fp16 -> fp32 exact (checked exhaustively) and agreeing with the
 * hardware F16C conversion on random non-NaN inputs.
 */
#include "th.h"
#include "quant/quant.h"

#include <stdint.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

TEST(fp16_specials)
{
    CHECK_EQ_INT(quant_fp32_to_fp16(0.0f), 0x0000);
    CHECK_EQ_INT(quant_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ_INT(quant_fp32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ_INT(quant_fp32_to_fp16(65504.0f), 0x7bff);           /* largest finite */
    CHECK_EQ_INT(quant_fp32_to_fp16(65519.996f), 0x7bff);         /* just below the tie */
    CHECK_EQ_INT(quant_fp32_to_fp16(65520.0f), 0x7c00);           /* tie to even: inf */
    CHECK_EQ_INT(quant_fp32_to_fp16(-1e9f), 0xfc00);
    CHECK_EQ_INT(quant_fp32_to_fp16(u2f(0x7f800000u)), 0x7c00);   /* inf */
    CHECK_EQ_INT(quant_fp32_to_fp16(u2f(0xff800000u)), 0xfc00);
    CHECK_EQ_INT(quant_fp32_to_fp16(u2f(0x7f800001u)), 0x7e00);   /* any NaN -> 0x7E00 + sign */
    CHECK_EQ_INT(quant_fp32_to_fp16(u2f(0x7fffffffu)), 0x7e00);
    CHECK_EQ_INT(quant_fp32_to_fp16(u2f(0xffc00000u)), 0xfe00);
}

TEST(fp16_subnormals_and_ties)
{
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1p-24f), 0x0001);            /* smallest subnormal */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1p-25f), 0x0000);            /* tie -> even (0) */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1.000002p-25f), 0x0001);     /* just above the tie */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x3p-25f), 0x0002);            /* 1.5 units: tie -> 2 */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x5p-25f), 0x0002);            /* 2.5 units: tie -> 2 */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1p-14f), 0x0400);            /* smallest normal */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1.ffcp-15f), 0x0400);        /* 1023.5 units: tie -> 1024 */
    CHECK_EQ_INT(quant_fp32_to_fp16(0x1.ff4p-15f), 0x03fe);        /* 1022.5 units -> 1022 */
    CHECK_EQ_INT(quant_fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);     /* tie -> even mantissa */
    CHECK_EQ_INT(quant_fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02);     /* tie -> even (up) */
    CHECK_EQ_INT(quant_fp32_to_fp16(2047.5f), 0x6800);             /* mantissa carry into exponent */
    CHECK_EQ_INT(quant_fp32_to_fp16(-0x1p-30f), 0x8000);
}

TEST(fp16_to_fp32_exhaustive)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = quant_fp16_to_fp32((uint16_t)h);
        uint16_t back = quant_fp32_to_fp16(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        uint16_t want = is_nan ? (uint16_t)((h & 0x8000) | 0x7e00) : (uint16_t)h;
        CHECK_MSG(back == want, "0x%04x -> %g -> 0x%04x", h, f, back);
        if (!is_nan && (h & 0x7c00) != 0x7c00) {
            /* value check: (-1)^s * 2^(e-15) * (1 + m/1024), or m * 2^-24 for subnormals */
            int e = (h >> 10) & 31, m = h & 1023;
            double v = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m, -24);
            if (h & 0x8000) v = -v;
            CHECK_MSG((double)f == v, "0x%04x -> %g, want %g", h, f, v);
        }
    }
}

TEST(fp16_matches_hardware_rne)
{
#if defined(__F16C__)
    uint64_t s = 12345;
    for (int i = 0; i < 2000000; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        uint32_t u = (uint32_t)s;
        if (i & 1) u = (u & 0x8fffffffu) | 0x30000000u;    /* bias toward the fp16 range */
        float f = u2f(u);
        if (f != f) continue;
        uint16_t hw = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
        CHECK_MSG(quant_fp32_to_fp16(f) == hw, "0x%08x: 0x%04x vs hardware 0x%04x", u, quant_fp32_to_fp16(f), hw);
    }
#else
    TH_SKIP("no F16C");
#endif
}

TEST(bf16_rounding_and_nan)
{
    CHECK_EQ_INT(quant_fp32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x3f808000u)), 0x3f80);   /* tie -> even (down) */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x3f818000u)), 0x3f82);   /* tie -> even (up) */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x3f808001u)), 0x3f81);   /* above the tie */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x7f7fffffu)), 0x7f80);   /* max float rounds to inf */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x7f800000u)), 0x7f80);   /* inf stays inf */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0xff800000u)), 0xff80);
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x7f800001u)), 0x7fc0);   /* NaN: quiet bit set */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0xff812345u)), 0xffc1);
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x00008000u)), 0x0000);   /* subnormal tie -> even */
    CHECK_EQ_INT(quant_fp32_to_bf16(u2f(0x00018000u)), 0x0002);
    CHECK_EQ_INT(f2u(quant_bf16_to_fp32(0x3f81)), 0x3f810000u);
}

TH_MAIN()
