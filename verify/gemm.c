/* gemm.c - panel-packed float32 matrix product over any weight type; see gemm.h. */
#include "verify/gemm.h"

#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

#define PM 32    /* weight rows per panel: two 16-float vectors */
#define PN 12    /* X rows per micro-tile: 24 accumulators */
#define KC 256   /* columns per packed block: a 32 KiB panel stays in L1 */

typedef float v16 __attribute__((vector_size(64)));

/* n elements of row r of w starting at column k0 (k0 and n multiples of the block size). */
static void row_segment(const verify_weight *w, int64_t r, int64_t k0, int64_t n, float *dst)
{
    const uint8_t *row = w->data + (uint64_t)r * w->row_bytes;
    switch (w->type) {
    case GGUF_TYPE_F32:
        memcpy(dst, row + k0 * 4, (size_t)n * 4);
        break;
    case GGUF_TYPE_BF16: {
        const uint16_t *s = (const uint16_t *)(row + k0 * 2);
        uint32_t *d = (uint32_t *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint32_t)s[i] << 16;
        break;
    }
    case GGUF_TYPE_F16: {
        const _Float16 *s = (const _Float16 *)(row + k0 * 2);
        for (int64_t i = 0; i < n; i++) dst[i] = (float)s[i];
        break;
    }
    default:
        quant_to_f32(w->type, row + gguf_row_bytes(w->type, k0), dst, n);
        break;
    }
}

void verify_weight_row(const verify_weight *w, int64_t r, float *dst)
{
    row_segment(w, r, 0, w->ncols, dst);
}

/* Pack rows [r0, r0+mv) x columns [k0, k0+kc) into pk[k][PM], zero rows beyond mv. */
static void pack_panel(const verify_weight *w, int64_t r0, int mv, int64_t k0, int64_t kc,
                       float *tmp, float *pk)
{
    for (int r = 0; r < mv; r++) row_segment(w, r0 + r, k0, kc, tmp + (size_t)r * KC);
    for (int r = mv; r < PM; r++) memset(tmp + (size_t)r * KC, 0, (size_t)kc * sizeof *tmp);
    for (int64_t k = 0; k < kc; k++)
        for (int r = 0; r < PM; r++) pk[k * PM + r] = tmp[(size_t)r * KC + k];
}

/* acc[t] = sum_k x[t][k] * pk[k][0..31] for NT rows of x; then store into y (+=). */
static inline __attribute__((always_inline)) void
kernel(const int NT, const float *restrict pk, int64_t kc, const float *restrict x, int64_t ldx,
       float *restrict y, int64_t ldy, int mv, bool add)
{
    v16 a0[PN], a1[PN];
    for (int t = 0; t < NT; t++) { a0[t] = (v16){0}; a1[t] = (v16){0}; }
    for (int64_t k = 0; k < kc; k++) {
        v16 w0 = *(const v16 *)(pk + k * PM);
        v16 w1 = *(const v16 *)(pk + k * PM + 16);
        for (int t = 0; t < NT; t++) {
            float xv = x[t * ldx + k];
            a0[t] += w0 * xv;
            a1[t] += w1 * xv;
        }
    }
    if (mv == PM) {
        for (int t = 0; t < NT; t++) {
            float *yr = y + t * ldy;
            v16 y0, y1;
            if (add) {
                memcpy(&y0, yr, 64); memcpy(&y1, yr + 16, 64);
                y0 += a0[t]; y1 += a1[t];
            } else {
                y0 = a0[t]; y1 = a1[t];
            }
            memcpy(yr, &y0, 64); memcpy(yr + 16, &y1, 64);
        }
    } else {
        for (int t = 0; t < NT; t++) {
            float *yr = y + t * ldy;
            float tmp[PM];
            memcpy(tmp, &a0[t], 64); memcpy(tmp + 16, &a1[t], 64);
            for (int j = 0; j < mv; j++) yr[j] = add ? yr[j] + tmp[j] : tmp[j];
        }
    }
}

static void kernel_n(int nt, const float *pk, int64_t kc, const float *x, int64_t ldx,
                     float *y, int64_t ldy, int mv, bool add)
{
    switch (nt) {
#define K(n) case n: kernel(n, pk, kc, x, ldx, y, ldy, mv, add); break;
    K(1) K(2) K(3) K(4) K(5) K(6) K(7) K(8) K(9) K(10) K(11) K(12)
#undef K
    default: break;
    }
}

void verify_gemm(const verify_weight *w, const float *x, int64_t n, int64_t ldx,
                 float *y, int64_t ldy, const float *bias, bool accumulate)
{
    const int64_t M = w->nrows, K = w->ncols;
    const int64_t npanel = (M + PM - 1) / PM;
    if (n <= 0 || M <= 0) return;
#pragma omp parallel
    {
        float *tmp = aligned_alloc(64, (size_t)PM * KC * sizeof(float));
        float *pk = aligned_alloc(64, (size_t)PM * KC * sizeof(float));
        /* Allocation failure of 64 KiB is not survivable in a sensible way here; the kernel
         * below would fault. Skip the work instead and leave y untouched (callers check
         * activations for finiteness only, so poison y with NaN). */
        bool ok = tmp && pk;
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < npanel; p++) {
            const int64_t r0 = p * PM;
            const int mv = (int)(M - r0 < PM ? M - r0 : PM);
            if (!ok) {
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] = __builtin_nanf("");
                continue;
            }
            for (int64_t k0 = 0; k0 < K; k0 += KC) {
                const int64_t kc = K - k0 < KC ? K - k0 : KC;
                pack_panel(w, r0, mv, k0, kc, tmp, pk);
                const bool add = accumulate || k0 > 0;
                for (int64_t t0 = 0; t0 < n; t0 += PN) {
                    const int nt = (int)(n - t0 < PN ? n - t0 : PN);
                    kernel_n(nt, pk, kc, x + t0 * ldx + k0, ldx, y + t0 * ldy + r0, ldy, mv, add);
                }
            }
            if (bias)
                for (int64_t t = 0; t < n; t++)
                    for (int j = 0; j < mv; j++) y[t * ldy + r0 + j] += bias[r0 + j];
        }
        free(tmp);
        free(pk);
    }
}
