/*
 * gguf_validate.c - gguf_validate_data: find NaN/Inf in float tensors and in the fp16 scales
 * of the common block formats (scale positions from FORMATS.md 1.4: d first in
 * Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, d then dmin first in Q4_K/Q5_K, d last in Q6_K).
 */
#include <inttypes.h>
#include "gguf_internal.h"

static bool gguf__f16_bad(uint16_t h)  { return (h & 0x7c00) == 0x7c00; }
static bool gguf__bf16_bad(uint16_t h) { return (h & 0x7f80) == 0x7f80; }

int gguf_validate_data(const gguf_tensor_info *t, uint64_t *bad_elem, gguf_error *err)
{
    if (!t->data && t->size)
        return gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX, "tensor '%s': data not mapped", t->name);
    const uint8_t *p = t->data;
    uint64_t n = 0, bad = UINT64_MAX;
    switch (t->type) {
    case GGUF_TYPE_F32:
        n = t->size / 4;
        for (uint64_t i = 0; i < n; i++)
            if ((gguf__ld32(p + 4 * i) & 0x7f800000u) == 0x7f800000u) { bad = i; break; }
        break;
    case GGUF_TYPE_F64:
        n = t->size / 8;
        for (uint64_t i = 0; i < n; i++)
            if ((gguf__ld64(p + 8 * i) & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) { bad = i; break; }
        break;
    case GGUF_TYPE_F16:
    case GGUF_TYPE_BF16: {
        bool bf = t->type == GGUF_TYPE_BF16;
        n = t->size / 2;
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = gguf__ld16(p + 2 * i);
            if (bf ? gguf__bf16_bad(h) : gguf__f16_bad(h)) { bad = i; break; }
        }
        break;
    }
    default: {
        int o1 = -1, o2 = -1;   /* byte offsets of fp16 scales in a block */
        switch (t->type) {
        case GGUF_TYPE_Q4_0: case GGUF_TYPE_Q5_0: case GGUF_TYPE_Q8_0: o1 = 0; break;
        case GGUF_TYPE_Q4_1: case GGUF_TYPE_Q5_1: case GGUF_TYPE_Q4_K: case GGUF_TYPE_Q5_K: o1 = 0; o2 = 2; break;
        case GGUF_TYPE_Q6_K: o1 = 208; break;
        default: return 0;   /* accepted unchecked */
        }
        uint64_t bb = gguf_type_block_bytes(t->type), be = gguf_type_block_elems(t->type), nb = t->size / bb;
        for (uint64_t b = 0; b < nb; b++) {
            const uint8_t *blk = p + b * bb;
            if (gguf__f16_bad(gguf__ld16(blk + o1)) || (o2 >= 0 && gguf__f16_bad(gguf__ld16(blk + o2)))) {
                bad = b * be;
                break;
            }
        }
    }
    }
    if (bad == UINT64_MAX) return 0;
    if (bad_elem) *bad_elem = bad;
    return gguf_error_set(err, GGUF_E_NONFINITE, t->file_offset, "tensor '%s': non-finite value at element %" PRIu64 "%s",
                          t->name, bad, gguf_type_is_quantized(t->type) ? " (a block scale)" : "");
}
