/*
 * gemm.h - the one matrix product of the forward pass:  Y[n][m] (+)= sum_k X[n][k] * W[m][k].
 *
 * W is a weight in any type verify reads (F32, F16, BF16, Q8_0, Q4_K, Q6_K, Q5_0, ...): panels of
 * 32 rows x 256 columns (512 in the bf16 path) are dequantized on the fly (F32/BF16 rows read in
 * place; Q6_K and Q8_0 with AVX-512), transposed in registers into the layout the micro-kernel
 * streams ([k][32]), and multiplied against every row of X in tiles of 12 (4 or 8 for the last
 * partial tile) with float32 FMA (16-wide vectors with -march=native AVX-512). Threads (OpenMP)
 * split the panels, so each weight byte is read once per call, and the next block is
 * prefetched while one is multiplied. Internal: never prints or exits.
 */
#ifndef VERIFY_GEMM_H
#define VERIFY_GEMM_H

#include <stdbool.h>
#include <stdint.h>
#include "verify/model.h"

/*
 * Y = X W^T (+ bias) or, with accumulate, Y += X W^T.
 *   x:  n rows of w->ncols floats, row stride ldx (floats)
 *   y:  n rows of w->nrows floats, row stride ldy
 *   bias: w->nrows floats or NULL (added once)
 * Runs on the OpenMP threads of the caller's setting (omp_set_num_threads).
 */
void verify_gemm(const verify_weight *w, const float *x, int64_t n, int64_t ldx,
                 float *y, int64_t ldy, const float *bias, bool accumulate);

/*
 * Fast mode (off by default; process-wide, set before any work): weights other than F32 are
 * rounded to bf16 panels and multiplied with bf16-rounded activations by vdpbf16ps (float
 * accumulation), as llama.cpp does for BF16 weights: about twice the float32 FMA rate, at the
 * cost of ~2^-9 relative rounding of every activation (logits agree to ~1e-2, not ~1e-6).
 * Without AVX512-BF16 in the build it has no effect. F32 weights always use float32.
 */
void verify_gemm_set_fast(bool on);
bool verify_gemm_fast(void);

/* Dequantize row r of w into dst (w->ncols floats). */
void verify_weight_row(const verify_weight *w, int64_t r, float *dst);

#endif /* VERIFY_GEMM_H */
