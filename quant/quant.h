/*
 * quant.h - block formats (quantize and dequantize rows), fp16/bf16 conversions, and the
 * llama-quantize per-tensor type policy (Q4_K_M / Q8_0 mixtures), bit-exact with llama.cpp's
 * reference quantizers (FORMATS.md sections 1.5, 2, 3). Internal module: never prints or exits.
 * Tensor type ids are gguf_type (libgguf/gguf.h).
 */
#ifndef QUANT_H
#define QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gguf.h"

/* ---- scalar conversions (FORMATS.md 1.5): RNE, NaN -> 0x7E00 with sign for fp16,
 *      quiet NaN for bf16 */
uint16_t quant_fp32_to_fp16(float f);
float    quant_fp16_to_fp32(uint16_t h);
uint16_t quant_fp32_to_bf16(float f);
float    quant_bf16_to_fp32(uint16_t h);

/* ---- rows */

/* True if quant_to_f32 handles the type: F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K. */
bool quant_can_dequantize(int type);
/* True if quant_from_f32 produces the type: F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q6_K. */
bool quant_can_quantize(int type);

/* Convert n elements (a multiple of the block size) of type `type` at src to float at dst. */
void quant_to_f32(int type, const void *src, float *dst, int64_t n);

/* Quantize nrows rows of n_per_row floats (n_per_row a multiple of the block size) into dst,
 * which must hold nrows * gguf_row_bytes(type, n_per_row) bytes. Bit-exact with
 * llama-quantize's reference path (no imatrix). nthreads <= 1 runs on the calling thread;
 * the output does not depend on nthreads. Returns bytes written. */
size_t quant_from_f32(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                      int nthreads);

/* Bytes of a row of n elements of a type this module handles (0 if unknown or n does not fit
 * the block size). Needs no reader: usable with the quant module alone. */
size_t quant_row_size(int type, int64_t n);

/* Convert nrows rows of n_per_row elements from src_type (quant_can_dequantize) to dst_type
 * (quant_can_quantize), fused per thread (dequantize a few rows to f32 in a thread-local
 * buffer, quantize them). Same bytes as quant_to_f32 followed by quant_from_f32, for any
 * nthreads. dst holds nrows * quant_row_size(dst_type, n_per_row) bytes.
 * Returns 0, GGUF_E_TYPE (a type not handled), GGUF_E_BLOCK (n_per_row does not fit a block
 * size) or GGUF_E_NOMEM. */
int quant_convert_rows(int src_type, const void *src, int dst_type, void *dst, int64_t nrows,
                       int64_t n_per_row, int nthreads);

/* The same, with a side task: one thread runs task(task_arg) while the others start on the rows,
 * then helps with the rest (used to write the previous chunk while this one is computed). The
 * task runs exactly once whenever the types and row length are valid (also for nrows 0 or
 * nthreads 1), and not at all when the call fails with GGUF_E_TYPE / GGUF_E_BLOCK; it must not
 * touch dst. */
int quant_convert_rows_with(int src_type, const void *src, int dst_type, void *dst, int64_t nrows,
                            int64_t n_per_row, int nthreads, void (*task)(void *), void *task_arg);

/* First element whose value (F32/F16/BF16) or whose block's fp16 scale d/dmin (quantized
 * types) is Inf or NaN, or -1 if all are finite: llama-quantize's validation of its output. */
int64_t quant_check_finite(int type, const void *data, int64_t nrows, int64_t n_per_row);

/* ---- llama file types (FORMATS.md 1.4) */
enum {
    QUANT_FTYPE_ALL_F32    = 0,
    QUANT_FTYPE_MOSTLY_F16 = 1,
    QUANT_FTYPE_Q4_0       = 2,
    QUANT_FTYPE_Q8_0       = 7,
    QUANT_FTYPE_Q4_K_S     = 14,
    QUANT_FTYPE_Q4_K_M     = 15,
    QUANT_FTYPE_Q6_K       = 18,
    QUANT_FTYPE_BF16       = 32,
};
/* Parse "q4_k_m", "Q8_0", "f16", "bf16", "f32" (case-insensitive) -> ftype, or -1. */
int         quant_ftype_from_name(const char *name);
const char *quant_ftype_name(int ftype);     /* "Q4_K_M", ... */
int         quant_ftype_default_type(int ftype); /* Q4_K_M -> GGUF_TYPE_Q4_K, ... */

/* ---- type policy (FORMATS.md 2.3-2.7) */

typedef struct quant_opts {
    int  ftype;               /* QUANT_FTYPE_* */
    bool pure;                /* --pure: no mixture rules (fallback still applies) */
    int  output_type;         /* --output-tensor-type, or -1 */
    int  token_embd_type;     /* --token-embedding-type, or -1 */
    bool leave_output;        /* --leave-output-tensor */
    bool input_order;         /* advance the counters in t[] order, not quant_tensor_order_cmp
                                 order (llama-quantize --keep-split sorts by input position) */
} quant_opts;

typedef struct quant_tensor {
    const char *name;
    uint32_t    n_dims;
    int64_t     ne[GGUF_MAX_DIMS];
    int         type;         /* current (input) type */
} quant_tensor;

/*
 * Order in which llama-quantize processes and writes tensors (weights_map order, FORMATS.md 2.1):
 * by the layer number of a "blk.N." prefix (-1 if none), then byte-wise by name.
 * qsort-compatible comparator over (const quant_tensor *).
 */
int quant_tensor_order_cmp(const void *a, const void *b);

/*
 * Choose the output type of every tensor, as llama-quantize would for this ftype and options.
 * t[] may be in any order: the running counters (attn_v, ffn_down) are advanced in
 * quant_tensor_order_cmp order, as llama-quantize does. n_layer is the model's block_count.
 * out_types[i] receives the target type of t[i] (equal to t[i].type when not quantized).
 * *n_fallback (if non-NULL) receives the number of tensors that took a fallback type.
 * Returns 0, or a negative gguf_status with err set (e.g. a fallback that cannot apply).
 */
int quant_plan_types(const quant_opts *o, const quant_tensor *t, int64_t n, int n_layer,
                     int *out_types, int *n_fallback, gguf_error *err);

#endif /* QUANT_H */
