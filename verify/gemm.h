/*
 * gemm.h - the one matrix product of the forward pass:  Y[n][m] (+)= sum_k X[n][k] * W[m][k].
 *
 * W is a weight in any type verify reads (F32, F16, BF16, Q8_0, Q4_K, Q6_K, Q5_0, ...): panels of
 * 32 rows x 256 columns are dequantized to float on the fly, transposed into the layout the
 * micro-kernel streams ([k][32]), and multiplied against every row of X in tiles of 12 with
 * float32 FMA (16-wide vectors with -march=native AVX-512). Threads (OpenMP) split the panels,
 * so each weight byte is read once per call. Internal: never prints or exits.
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

/* Dequantize row r of w into dst (w->ncols floats). */
void verify_weight_row(const verify_weight *w, int64_t r, float *dst);

#endif /* VERIFY_GEMM_H */
