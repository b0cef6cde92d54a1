/*
 * rows.c - row dispatch: any dequantizable type -> f32 -> any quantizable type, fused per
 * thread so that the f32 intermediate of a few rows stays in cache. Threads (OpenMP) take
 * whole groups of rows; every block depends only on its own inputs, so the bytes written do
 * not depend on the thread count.
 */
#include "quant.h"
#include "quant_impl.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int g_reference;

void quant_set_reference(int on) { g_reference = on; }
int  quant_get_reference(void) { return g_reference; }

bool quant_can_dequantize(int type)
{
    switch (type) {
    case GGUF_TYPE_F32: case GGUF_TYPE_F16: case GGUF_TYPE_BF16: case GGUF_TYPE_Q4_0:
    case GGUF_TYPE_Q5_0: case GGUF_TYPE_Q8_0: case GGUF_TYPE_Q4_K: case GGUF_TYPE_Q5_K:
    case GGUF_TYPE_Q6_K:
        return true;
    default:
        return false;
    }
}

bool quant_can_quantize(int type)
{
    switch (type) {
    case GGUF_TYPE_F32: case GGUF_TYPE_F16: case GGUF_TYPE_BF16: case GGUF_TYPE_Q4_0:
    case GGUF_TYPE_Q5_0: case GGUF_TYPE_Q8_0: case GGUF_TYPE_Q4_K: case GGUF_TYPE_Q6_K:
        return true;
    default:
        return false;
    }
}

/* block geometry of the types this module handles (kept local: quant/ must not depend on the
 * reader being linked for pure row work) */
static int blk_elems(int type)
{
    switch (type) {
    case GGUF_TYPE_F32: case GGUF_TYPE_F16: case GGUF_TYPE_BF16: return 1;
    case GGUF_TYPE_Q4_0: case GGUF_TYPE_Q5_0: case GGUF_TYPE_Q8_0: return 32;
    case GGUF_TYPE_Q4_K: case GGUF_TYPE_Q5_K: case GGUF_TYPE_Q6_K: return 256;
    default: return 0;
    }
}

static int blk_bytes(int type)
{
    switch (type) {
    case GGUF_TYPE_F32: return 4;
    case GGUF_TYPE_F16: case GGUF_TYPE_BF16: return 2;
    case GGUF_TYPE_Q4_0: return Q4_0_BYTES;
    case GGUF_TYPE_Q5_0: return Q5_0_BYTES;
    case GGUF_TYPE_Q8_0: return Q8_0_BYTES;
    case GGUF_TYPE_Q4_K: return Q4_K_BYTES;
    case GGUF_TYPE_Q5_K: return Q5_K_BYTES;
    case GGUF_TYPE_Q6_K: return Q6_K_BYTES;
    default: return 0;
    }
}

size_t quant_row_size(int type, int64_t n)
{
    int be = blk_elems(type);
    if (!be || n % be) return 0;
    return (size_t)(n / be) * (size_t)blk_bytes(type);
}

void quant_to_f32(int type, const void *src, float *dst, int64_t n)
{
    switch (type) {
    case GGUF_TYPE_F32:  memcpy(dst, src, (size_t)n * 4); break;
    case GGUF_TYPE_F16:  quant_f16_to_f32_row(src, dst, n); break;
    case GGUF_TYPE_BF16: quant_bf16_to_f32_row(src, dst, n); break;
    case GGUF_TYPE_Q4_0: quant_q4_0_to_f32(src, dst, n); break;
    case GGUF_TYPE_Q5_0: quant_q5_0_to_f32(src, dst, n); break;
    case GGUF_TYPE_Q8_0: quant_q8_0_to_f32(src, dst, n); break;
    case GGUF_TYPE_Q4_K: quant_q4_k_to_f32(src, dst, n); break;
    case GGUF_TYPE_Q5_K: quant_q5_k_to_f32(src, dst, n); break;
    case GGUF_TYPE_Q6_K: quant_q6_k_to_f32(src, dst, n); break;
    default: break;
    }
}

/* one row (or several contiguous rows: n elements) */
static void quantize_span(int type, const float *src, void *dst, int64_t n)
{
    const int ref = g_reference;
    switch (type) {
    case GGUF_TYPE_F32:  memcpy(dst, src, (size_t)n * 4); break;
    case GGUF_TYPE_F16:  (ref ? quant_f32_to_f16_row_ref : quant_f32_to_f16_row)(src, dst, n); break;
    case GGUF_TYPE_BF16: (ref ? quant_f32_to_bf16_row_ref : quant_f32_to_bf16_row)(src, dst, n); break;
    case GGUF_TYPE_Q4_0: quant_q4_0_row_ref(src, dst, n); break;
    case GGUF_TYPE_Q5_0: quant_q5_0_row_ref(src, dst, n); break;
    case GGUF_TYPE_Q8_0: (ref ? quant_q8_0_row_ref : quant_q8_0_row)(src, dst, n); break;
    case GGUF_TYPE_Q4_K: (ref ? quant_q4_k_row_ref : quant_q4_k_row)(src, dst, n); break;
    case GGUF_TYPE_Q6_K: (ref ? quant_q6_k_row_ref : quant_q6_k_row)(src, dst, n); break;
    default: break;
    }
}

/* rows per work item: about 64 Ki elements (256 KiB of f32) */
static int64_t rows_per_item(int64_t n_per_row)
{
    int64_t r = 65536 / (n_per_row > 0 ? n_per_row : 1);
    return r < 1 ? 1 : r;
}

size_t quant_from_f32(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row,
                      int nthreads)
{
    const size_t rs = quant_row_size(type, n_per_row);
    if (!rs || !quant_can_quantize(type) || nrows <= 0) return 0;
    const int64_t per = rows_per_item(n_per_row);
    const int64_t nitems = (nrows + per - 1) / per;
    if (nthreads < 1) nthreads = 1;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1 && nitems > 1)
    for (int64_t it = 0; it < nitems; it++) {
        const int64_t r0 = it * per, nr = (r0 + per <= nrows ? per : nrows - r0);
        quantize_span(type, src + r0 * n_per_row, (uint8_t *)dst + (size_t)r0 * rs, nr * n_per_row);
    }
    return (size_t)nrows * rs;
}

int quant_convert_rows(int src_type, const void *src, int dst_type, void *dst, int64_t nrows,
                       int64_t n_per_row, int nthreads)
{
    return quant_convert_rows_with(src_type, src, dst_type, dst, nrows, n_per_row, nthreads, NULL, NULL);
}

int quant_convert_rows_with(int src_type, const void *src, int dst_type, void *dst, int64_t nrows,
                            int64_t n_per_row, int nthreads, void (*task)(void *), void *task_arg)
{
    const size_t rin = quant_row_size(src_type, n_per_row), rout = quant_row_size(dst_type, n_per_row);
    if (!quant_can_dequantize(src_type) || !quant_can_quantize(dst_type)) return GGUF_E_TYPE;
    if (!rin || !rout) return GGUF_E_BLOCK;
    if (nrows <= 0) {
        if (task) task(task_arg);
        return 0;
    }
    /* f32 input needs no conversion; F16 -> Q8_0 has a fused kernel */
    const bool direct = src_type == GGUF_TYPE_F32 || src_type == dst_type ||
                        (src_type == GGUF_TYPE_F16 && dst_type == GGUF_TYPE_Q8_0 && !g_reference);
    const int64_t per = rows_per_item(n_per_row);
    const int64_t nitems = (nrows + per - 1) / per;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > nitems + (task != NULL)) nthreads = (int)nitems + (task != NULL);
    int failed = 0;
    #pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        /* one thread runs the side task (e.g. writing the previous chunk) while the others
         * start on the rows; it joins them when done (dynamic schedule, no wait) */
        if (task) {
            #pragma omp single nowait
            task(task_arg);
        }
        float *buf = direct ? NULL : malloc((size_t)(per * n_per_row) * sizeof(float));
        if (!direct && !buf) {
            #pragma omp atomic write
            failed = 1;
        }
        #pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < nitems; it++) {
            const int64_t r0 = it * per, nr = (r0 + per <= nrows ? per : nrows - r0);
            const uint8_t *in = (const uint8_t *)src + (size_t)r0 * rin;
            uint8_t *out = (uint8_t *)dst + (size_t)r0 * rout;
            if (src_type == dst_type) {
                memcpy(out, in, (size_t)nr * rin);
            } else if (src_type == GGUF_TYPE_F32) {
                quantize_span(dst_type, (const float *)in, out, nr * n_per_row);
            } else if (direct) {
                quant_q8_0_row_from_f16((const uint16_t *)in, out, nr * n_per_row);
            } else if (buf) {
                quant_to_f32(src_type, in, buf, nr * n_per_row);
                quantize_span(dst_type, buf, out, nr * n_per_row);
            }
        }
        free(buf);
    }
    return failed ? GGUF_E_NOMEM : 0;
}

int64_t quant_check_finite(int type, const void *data, int64_t nrows, int64_t n_per_row)
{
    const size_t rs = quant_row_size(type, n_per_row);
    const uint8_t *p = data;
    const int64_t n = nrows * n_per_row;
    switch (type) {
    case GGUF_TYPE_F32:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u; memcpy(&u, p + 4 * i, 4);
            if ((u & 0x7f800000u) == 0x7f800000u) return i;
        }
        return -1;
    case GGUF_TYPE_F16:
    case GGUF_TYPE_BF16: {
        const uint16_t m = type == GGUF_TYPE_F16 ? 0x7c00u : 0x7f80u;
        for (int64_t i = 0; i < n; i++) {
            uint16_t u; memcpy(&u, p + 2 * i, 2);
            if ((u & m) == m) return i;
        }
        return -1;
    }
    default: break;
    }
    /* quantized: the fp16 d (and dmin) of every block */
    int dofs = 0, mofs = -1;
    if (type == GGUF_TYPE_Q4_K || type == GGUF_TYPE_Q5_K) mofs = 2;
    if (type == GGUF_TYPE_Q6_K) dofs = 208;
    const int be = blk_elems(type), bb = blk_bytes(type);
    if (!be || !rs) return -1;
    const int64_t nb = n / be;
    for (int64_t b = 0; b < nb; b++) {
        uint16_t d; memcpy(&d, p + b * bb + dofs, 2);
        if ((d & 0x7c00u) == 0x7c00u) return b * be;
        if (mofs >= 0) {
            memcpy(&d, p + b * bb + mofs, 2);
            if ((d & 0x7c00u) == 0x7c00u) return b * be;
        }
    }
    return -1;
}
