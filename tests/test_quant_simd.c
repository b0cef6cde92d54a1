/*
 * test_quant_simd.c - the fast row kernels (AVX-512, one lane per block or sub-block) give the
 * same bytes as the scalar reference kernels, on random data of many scales and on edge rows:
 * zeros, constants, lone outliers, values near 1e-30 (zero/subnormal fp16 scales), fp16-range
 * extremes, exact .5 ties, alternating signs, sparse rows, one-sided rows. Also: the output of
 * quant_from_f32 and quant_convert_rows does not depend on the thread count.
 */
#include "th.h"
#include "gguf.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"

#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return rng_state = x;
}
static float uni(void) { return (float)((rnd() >> 40) + 0.5) / 16777216.0f; }   /* (0,1) */
static float gauss(void) { return sqrtf(-2.0f * logf(uni())) * cosf(6.2831853f * uni()); }

/* fill n floats with pattern p (0..kPatterns-1) */
enum { kPatterns = 16 };
static void fill(float *x, int64_t n, int p)
{
    for (int64_t i = 0; i < n; i++) {
        float g = gauss();
        switch (p) {
        case 0: x[i] = g * 0.02f; break;
        case 1: x[i] = g; break;
        case 2: x[i] = 0.0f; break;
        case 3: x[i] = (i / 16) % 2 ? 0.75f : -0.75f; break;                 /* constant runs */
        case 4: x[i] = (i % 97 == 5) ? 100.0f * g : 0.001f * g; break;       /* lone outliers */
        case 5: x[i] = g * 1e-30f; break;                                    /* zero fp16 scales */
        case 6: x[i] = g * 1e-6f; break;                                     /* subnormal fp16 scales */
        case 7: x[i] = (i % 3 == 0 ? 65504.0f : -60000.0f) * uni(); break;   /* fp16 range */
        case 8: x[i] = (i % 2) ? 1.0f : -1.0f; break;
        case 9: x[i] = fabsf(g) + 0.5f; break;                               /* all positive */
        case 10: x[i] = -fabsf(g) - 0.25f; break;                            /* all negative */
        case 11: x[i] = (float)((int)(rnd() % 33) - 16) * 0.5f; break;       /* exact .5 ties */
        case 12: x[i] = (rnd() % 10 == 0) ? g : 0.0f; break;                 /* sparse */
        case 13: x[i] = g * g * g; break;                                    /* heavy tails */
        case 14: x[i] = ((i / 32) % 2 ? 1e-6f : 1.0f) * g; break;            /* quiet neighbours */
        default: x[i] = g * 1e4f; break;
        }
    }
}

static int compare_kernel(int type, int64_t n_per_row, int nrows)
{
    const int64_t n = n_per_row * nrows;
    float *x = malloc((size_t)n * sizeof *x);
    size_t rs = quant_row_size(type, n_per_row);
    uint8_t *a = malloc(rs * (size_t)nrows), *b = malloc(rs * (size_t)nrows);
    int bad = -1;
    for (int p = 0; p < kPatterns && bad < 0; p++) {
        fill(x, n, p);
        quant_set_reference(1);
        quant_from_f32(type, x, a, nrows, n_per_row, 1);
        quant_set_reference(0);
        quant_from_f32(type, x, b, nrows, n_per_row, 1);
        if (memcmp(a, b, rs * (size_t)nrows)) bad = p;
    }
    free(x); free(a); free(b);
    return bad;
}

TEST(q8_0_simd_equals_scalar) { int p = compare_kernel(GGUF_TYPE_Q8_0, 4096, 8); CHECK_MSG(p < 0, "pattern %d differs", p); }
TEST(q4_k_simd_equals_scalar) { int p = compare_kernel(GGUF_TYPE_Q4_K, 4096, 8); CHECK_MSG(p < 0, "pattern %d differs", p); }
TEST(q4_k_odd_superblocks) { int p = compare_kernel(GGUF_TYPE_Q4_K, 768, 5); CHECK_MSG(p < 0, "pattern %d differs", p); }
TEST(q6_k_simd_equals_scalar) { int p = compare_kernel(GGUF_TYPE_Q6_K, 4096, 8); CHECK_MSG(p < 0, "pattern %d differs", p); }
TEST(f16_simd_equals_scalar) { int p = compare_kernel(GGUF_TYPE_F16, 1000, 7); CHECK_MSG(p < 0, "pattern %d differs", p); }
TEST(bf16_simd_equals_scalar) { int p = compare_kernel(GGUF_TYPE_BF16, 1000, 7); CHECK_MSG(p < 0, "pattern %d differs", p); }

/* random bit patterns, NaN and Inf included, through the f16/bf16 rows */
TEST(half_rows_on_any_bits)
{
    enum { N = 1 << 16 };
    uint32_t *u = malloc(N * 4);
    uint16_t *a = malloc(N * 2), *b = malloc(N * 2);
    for (int i = 0; i < N; i++) u[i] = (uint32_t)rnd();
    u[0] = 0x7f800000u; u[1] = 0xff800000u; u[2] = 0x7fc00000u; u[3] = 0xffffffffu; u[4] = 0x7f800001u;
    quant_f32_to_f16_row_ref((const float *)u, a, N);
    quant_f32_to_f16_row((const float *)u, b, N);
    int ok16 = !memcmp(a, b, N * 2);
    quant_f32_to_bf16_row_ref((const float *)u, a, N);
    quant_f32_to_bf16_row((const float *)u, b, N);
    int okbf = !memcmp(a, b, N * 2);
    free(u); free(a); free(b);
    CHECK(ok16);
    CHECK(okbf);
}

/* thread count does not change bytes: from f32 and fused from f16 */
TEST(threads_do_not_change_output)
{
    const int64_t n_per_row = 2560, nrows = 64;
    float *x = malloc((size_t)(n_per_row * nrows) * sizeof *x);
    uint16_t *h = malloc((size_t)(n_per_row * nrows) * 2);
    fill(x, n_per_row * nrows, 1);
    quant_f32_to_f16_row(x, h, n_per_row * nrows);
    static const int types[] = { GGUF_TYPE_Q8_0, GGUF_TYPE_Q4_K, GGUF_TYPE_Q6_K, GGUF_TYPE_Q5_0,
                                 GGUF_TYPE_Q4_0, GGUF_TYPE_BF16 };
    int bad = -1;
    for (size_t k = 0; k < sizeof types / sizeof types[0] && bad < 0; k++) {
        size_t sz = quant_row_size(types[k], n_per_row) * (size_t)nrows;
        uint8_t *a = malloc(sz), *b = malloc(sz), *c = malloc(sz);
        float *xf = malloc((size_t)(n_per_row * nrows) * sizeof *xf);
        quant_to_f32(GGUF_TYPE_F16, h, xf, n_per_row * nrows);
        quant_from_f32(types[k], xf, a, nrows, n_per_row, 1);
        quant_convert_rows(GGUF_TYPE_F16, h, types[k], b, nrows, n_per_row, 2);
        quant_convert_rows(GGUF_TYPE_F16, h, types[k], c, nrows, n_per_row, 3);
        if (memcmp(a, b, sz) || memcmp(a, c, sz)) bad = types[k];
        free(a); free(b); free(c); free(xf);
    }
    free(x); free(h);
    CHECK_MSG(bad < 0, "type %s differs across thread counts", gguf_type_name(bad));
}

/* fused F16 -> Q8_0 equals widening + the scalar reference, NaN and Inf halves included */
TEST(f16_to_q8_0_fused_equals_reference)
{
    const int64_t n_per_row = 1024, nrows = 16, n = n_per_row * nrows;
    uint16_t *h = malloc((size_t)n * 2);
    size_t sz = quant_row_size(GGUF_TYPE_Q8_0, n_per_row) * (size_t)nrows;
    uint8_t *a = malloc(sz), *b = malloc(sz);
    float *x = malloc((size_t)n * sizeof *x);
    int bad = -1;
    for (int p = 0; p < kPatterns + 1 && bad < 0; p++) {
        if (p < kPatterns) {
            fill(x, n, p);
            quant_f32_to_f16_row_ref(x, h, n);
        } else {
            for (int64_t i = 0; i < n; i++) h[i] = (uint16_t)rnd();   /* any bits: NaN, Inf */
        }
        quant_set_reference(1);
        quant_convert_rows(GGUF_TYPE_F16, h, GGUF_TYPE_Q8_0, a, nrows, n_per_row, 1);
        quant_set_reference(0);
        quant_convert_rows(GGUF_TYPE_F16, h, GGUF_TYPE_Q8_0, b, nrows, n_per_row, 2);
        if (memcmp(a, b, sz)) bad = p;
    }
    free(h); free(a); free(b); free(x);
    CHECK_MSG(bad < 0, "pattern %d differs", bad);
}

static void count_task(void *arg) { (*(int *)arg)++; }

/* the side task of quant_convert_rows_with runs exactly once, whatever the thread count */
TEST(side_task_runs_once)
{
    float x[256 * 4] = { 0 };
    uint8_t y[4 * 144];
    for (int t = 1; t <= 3; t++) {
        int calls = 0;
        CHECK_EQ_INT(quant_convert_rows_with(GGUF_TYPE_F32, x, GGUF_TYPE_Q4_K, y, 4, 256, t, count_task, &calls), 0);
        CHECK_EQ_INT(calls, 1);
        calls = 0;
        CHECK_EQ_INT(quant_convert_rows_with(GGUF_TYPE_F32, x, GGUF_TYPE_Q4_K, y, 0, 256, t, count_task, &calls), 0);
        CHECK_EQ_INT(calls, 1);
    }
}

TH_MAIN()
