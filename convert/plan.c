/* plan.c - output types, sizes and splits of a conversion, and streaming one tensor; see convert.h. */
#include "convert/convert.h"
#include "quant/quant.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PAD32(x) (((x) + 31) & ~(uint64_t)31)

int conv_out_from_name(const char *s)
{
    static const char *const names[] = { "f32", "f16", "bf16", "q8_0", "q4_k_m" };
    for (int i = 0; i < 5; i++)
        if (!strcasecmp(s, names[i])) return i;
    return -1;
}

void conv_plan_free(conv_plan *p)
{
    if (!p) return;
    free(p->t);
    free(p->split_n);
    free(p);
}

int conv_plan_new(const conv_hf_model *m, int out, uint64_t split_max_bytes, int64_t split_max_tensors,
                  conv_plan **plan, gguf_error *err)
{
    *plan = NULL;
    const conv_hparams *hp = conv_hf_hparams(m);
    conv_plan *p = calloc(1, sizeof *p);
    int64_t n = conv_hf_n_tensors(m);
    quant_tensor *qt = NULL;
    int *qtypes = NULL;
    int rc = 0;
    if (!p || !(p->t = calloc((size_t)(n ? n : 1), sizeof *p->t))) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    if (out == CONV_OUT_SOURCE)
        out = hp->src_type == GGUF_TYPE_F32 ? CONV_OUT_F32 : hp->src_type == GGUF_TYPE_F16 ? CONV_OUT_F16 : CONV_OUT_BF16;
    p->out = out;
    p->n = n;
    static const int ftypes[] = { QUANT_FTYPE_ALL_F32, QUANT_FTYPE_MOSTLY_F16, QUANT_FTYPE_BF16, QUANT_FTYPE_Q8_0,
                                  QUANT_FTYPE_Q4_K_M };
    p->file_type = ftypes[out];

    /* the conversion convert_hf_to_gguf.py would write: 1-D (norms, biases) F32, 2-D weights in
     * the float type; quantized outputs are what llama-quantize makes of the source-type conversion */
    int float_type = out == CONV_OUT_F32 ? GGUF_TYPE_F32 : out == CONV_OUT_F16 ? GGUF_TYPE_F16
                   : out == CONV_OUT_BF16 ? GGUF_TYPE_BF16 : -1;
    for (int64_t i = 0; i < n; i++) {
        const conv_tensor *t = conv_hf_tensor(m, i);
        p->t[i].src = t;
        if (t->n_dims < 2) p->t[i].type = GGUF_TYPE_F32;
        else p->t[i].type = float_type >= 0 ? float_type : t->type;
    }
    if (float_type < 0) {
        qt = calloc((size_t)(n ? n : 1), sizeof *qt);
        qtypes = calloc((size_t)(n ? n : 1), sizeof *qtypes);
        if (!qt || !qtypes) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
        for (int64_t i = 0; i < n; i++) {
            const conv_tensor *t = p->t[i].src;
            qt[i].name = t->name;
            qt[i].n_dims = t->n_dims;
            memcpy(qt[i].ne, t->ne, sizeof qt[i].ne);
            qt[i].type = p->t[i].type;
        }
        quant_opts qo;
        memset(&qo, 0, sizeof qo);
        qo.ftype = p->file_type;
        qo.output_type = -1;
        qo.token_embd_type = -1;
        if ((rc = quant_plan_types(&qo, qt, n, (int)hp->n_layer, qtypes, &p->n_fallback, err))) goto fail;
        for (int64_t i = 0; i < n; i++) {
            if (!quant_can_quantize(qtypes[i]) && qtypes[i] != p->t[i].type) {
                rc = gguf_error_set(err, GGUF_E_TYPE, UINT64_MAX, "tensor '%s': type %s is not supported as output",
                                    qt[i].name, gguf_type_name(qtypes[i]));
                goto fail;
            }
            p->t[i].type = qtypes[i];
        }
    }
    for (int64_t i = 0; i < n; i++) {
        bool ovf = false;
        p->t[i].size = gguf_tensor_bytes(p->t[i].type, p->t[i].src->ne, p->t[i].src->n_dims, &ovf);
        if (ovf || !p->t[i].size) {
            rc = gguf_error_set(err, GGUF_E_SHAPE, UINT64_MAX, "tensor '%s': cannot be stored as %s", p->t[i].src->name,
                                gguf_type_name(p->t[i].type));
            goto fail;
        }
        p->data_bytes += PAD32(p->t[i].size);
    }

    /* splits, by gguf-split's rules (FORMATS.md 4.4) */
    p->split_n = calloc((size_t)(n ? n : 1), sizeof *p->split_n);
    if (!p->split_n) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    int s = 0;
    uint64_t cur = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t sz = PAD32(p->t[i].size);
        if (split_max_tensors > 0) {
            if (i > 0 && i % split_max_tensors == 0) s++;
        } else if (split_max_bytes > 0) {
            if (i == 0 && sz > split_max_bytes) {
                rc = gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX,
                                    "tensor '%s' (%" PRIu64 " bytes) alone exceeds --split-max-size %" PRIu64
                                    ": the first split would have 0 tensors", p->t[i].src->name, sz, split_max_bytes);
                goto fail;
            }
            if (i > 0 && cur + sz > split_max_bytes) { s++; cur = 0; }
            cur += sz;
        }
        p->t[i].split = s;
        p->split_n[s]++;
    }
    p->n_splits = n ? s + 1 : 1;
    if (p->n_splits > 99999) {
        rc = gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX, "%d splits: more than 99999", p->n_splits);
        goto fail;
    }
    free(qt);
    free(qtypes);
    *plan = p;
    return 0;
fail:
    free(qt);
    free(qtypes);
    conv_plan_free(p);
    return rc;
}

static int plan__werr(gguf_writer *w, int rc, gguf_error *err)
{
    if (err) {
        const gguf_error *we = gguf_writer_error(w);
        if (we && we->code) *err = *we;
        else gguf_error_set(err, rc, UINT64_MAX, "write failed");
    }
    return rc;
}

int conv_write_tensor(gguf_writer *w, const conv_hf_model *m, const conv_plan_tensor *pt, int nthreads,
                      uint64_t *done, void (*progress)(void *ctx, uint64_t done), void *ctx, gguf_error *err)
{
    const conv_tensor *t = pt->src;
    int rc;
    if (pt->type == t->type) {
        /* unchanged bytes: let the kernel copy them (no pages of ours) */
        const uint64_t step = 64u << 20;
        for (uint64_t off = 0; off < t->size; off += step) {
            uint64_t n = t->size - off < step ? t->size - off : step;
            if ((rc = gguf_writer_copy_fd(w, t->fd, t->file_offset + off, n))) return plan__werr(w, rc, err);
            *done += n;
            if (progress) progress(ctx, *done);
        }
    } else {
        const int64_t ne0 = t->ne[0];
        const int64_t nrows = t->ne[1] * t->ne[2] * t->ne[3];
        const size_t src_row = (size_t)gguf_row_bytes(t->type, ne0);
        const size_t dst_row = (size_t)gguf_row_bytes(pt->type, ne0);
        if (!src_row || !dst_row)
            return gguf_error_set(err, GGUF_E_BLOCK, UINT64_MAX, "tensor '%s': row of %" PRId64 " does not fit %s", t->name,
                                  ne0, gguf_type_name(pt->type));
        int64_t rows_per = (int64_t)((8u << 20) / (uint64_t)ne0);
        if (rows_per < 1) rows_per = 1;
        if (rows_per > nrows) rows_per = nrows;
        void *dst = malloc((size_t)rows_per * dst_row);
        if (!dst) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
        rc = 0;
        for (int64_t r = 0; r < nrows && !rc; r += rows_per) {
            int64_t nr = nrows - r < rows_per ? nrows - r : rows_per;
            const uint8_t *src = (const uint8_t *)t->data + (size_t)r * src_row;
            /* dequantize + quantize fused per thread: same bytes as quant_to_f32 + quant_from_f32 */
            int qrc = quant_convert_rows(t->type, src, pt->type, dst, nr, ne0, nthreads);
            if (qrc) {
                rc = gguf_error_set(err, qrc, UINT64_MAX, "tensor '%s': conversion %s -> %s failed", t->name,
                                    gguf_type_name(t->type), gguf_type_name(pt->type));
                break;
            }
            if ((rc = gguf_writer_write(w, dst, (size_t)nr * dst_row))) { plan__werr(w, rc, err); break; }
            /* drop the source pages we are done with, so RSS stays flat on huge tensors */
            conv_tensor part = *t;
            part.data = src;
            part.size = (uint64_t)nr * src_row;
            conv_hf_release(m, &part);
            *done += (uint64_t)nr * src_row;
            if (progress) progress(ctx, *done);
        }
        free(dst);
        if (rc) return rc;
    }
    if ((rc = gguf_writer_end_tensor(w))) return plan__werr(w, rc, err);
    conv_hf_release(m, t);
    return 0;
}
