/*
 * gguf_types.c - the ggml tensor-type table (FORMATS.md 1.4), the KV value-type table
 * (FORMATS.md 1.2) and split-set file naming (FORMATS.md 4.1).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "gguf_internal.h"

/* name, elements per block, bytes per block, quantized. Zero rows are removed/unknown ids. */
static const struct { const char *name; uint32_t blck, bytes; bool quant; } gguf__types[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_F32]     = { "F32",     1,   4,   false },
    [GGUF_TYPE_F16]     = { "F16",     1,   2,   false },
    [GGUF_TYPE_Q4_0]    = { "Q4_0",    32,  18,  true },   /* d fp16, qs[16] */
    [GGUF_TYPE_Q4_1]    = { "Q4_1",    32,  20,  true },   /* d, m fp16, qs[16] */
    [GGUF_TYPE_Q5_0]    = { "Q5_0",    32,  22,  true },   /* d fp16, qh u32, qs[16] */
    [GGUF_TYPE_Q5_1]    = { "Q5_1",    32,  24,  true },   /* d, m fp16, qh u32, qs[16] */
    [GGUF_TYPE_Q8_0]    = { "Q8_0",    32,  34,  true },   /* d fp16, qs[32] */
    [GGUF_TYPE_Q8_1]    = { "Q8_1",    32,  36,  true },   /* d, s fp16, qs[32] */
    [GGUF_TYPE_Q2_K]    = { "Q2_K",    256, 84,  true },
    [GGUF_TYPE_Q3_K]    = { "Q3_K",    256, 110, true },
    [GGUF_TYPE_Q4_K]    = { "Q4_K",    256, 144, true },   /* d, dmin fp16, scales[12], qs[128] */
    [GGUF_TYPE_Q5_K]    = { "Q5_K",    256, 176, true },   /* d, dmin, scales[12], qh[32], qs[128] */
    [GGUF_TYPE_Q6_K]    = { "Q6_K",    256, 210, true },   /* ql[128], qh[64], scales[16], d fp16 */
    [GGUF_TYPE_Q8_K]    = { "Q8_K",    256, 292, true },   /* d f32, qs[256], bsums i16[16] */
    [GGUF_TYPE_IQ2_XXS] = { "IQ2_XXS", 256, 66,  true },
    [GGUF_TYPE_IQ2_XS]  = { "IQ2_XS",  256, 74,  true },
    [GGUF_TYPE_IQ3_XXS] = { "IQ3_XXS", 256, 98,  true },
    [GGUF_TYPE_IQ1_S]   = { "IQ1_S",   256, 50,  true },
    [GGUF_TYPE_IQ4_NL]  = { "IQ4_NL",  32,  18,  true },
    [GGUF_TYPE_IQ3_S]   = { "IQ3_S",   256, 110, true },
    [GGUF_TYPE_IQ2_S]   = { "IQ2_S",   256, 82,  true },
    [GGUF_TYPE_IQ4_XS]  = { "IQ4_XS",  256, 136, true },
    [GGUF_TYPE_I8]      = { "I8",      1,   1,   false },
    [GGUF_TYPE_I16]     = { "I16",     1,   2,   false },
    [GGUF_TYPE_I32]     = { "I32",     1,   4,   false },
    [GGUF_TYPE_I64]     = { "I64",     1,   8,   false },
    [GGUF_TYPE_F64]     = { "F64",     1,   8,   false },
    [GGUF_TYPE_IQ1_M]   = { "IQ1_M",   256, 56,  true },
    [GGUF_TYPE_BF16]    = { "BF16",    1,   2,   false },
    [GGUF_TYPE_TQ1_0]   = { "TQ1_0",   256, 54,  true },
    [GGUF_TYPE_TQ2_0]   = { "TQ2_0",   256, 66,  true },
    [GGUF_TYPE_MXFP4]   = { "MXFP4",   32,  17,  true },   /* e8m0 scale, qs[16] */
    [GGUF_TYPE_NVFP4]   = { "NVFP4",   64,  36,  true },   /* ue4m3 scales[4], qs[32] */
    [GGUF_TYPE_Q1_0]    = { "Q1_0",    128, 18,  true },   /* d fp16, qs[16] */
    [GGUF_TYPE_Q2_0]    = { "Q2_0",    64,  18,  true },   /* d fp16, qs[16] */
};

bool gguf_type_valid(int type)
{
    return type >= 0 && type < GGUF_TYPE_COUNT && gguf__types[type].name != NULL;
}

const char *gguf_type_name(int type)
{
    return gguf_type_valid(type) ? gguf__types[type].name : "?";
}

int gguf_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int t = 0; t < GGUF_TYPE_COUNT; t++)
        if (gguf__types[t].name && !strcasecmp(gguf__types[t].name, name)) return t;
    return -1;
}

uint32_t gguf_type_block_elems(int type) { return gguf_type_valid(type) ? gguf__types[type].blck : 0; }
uint32_t gguf_type_block_bytes(int type) { return gguf_type_valid(type) ? gguf__types[type].bytes : 0; }
bool     gguf_type_is_quantized(int type) { return gguf_type_valid(type) && gguf__types[type].quant; }

uint64_t gguf_row_bytes(int type, int64_t n)
{
    if (!gguf_type_valid(type) || n < 0) return 0;
    uint64_t blck = gguf__types[type].blck;
    if ((uint64_t)n % blck) return 0;
    uint64_t r;
    if (__builtin_mul_overflow((uint64_t)n / blck, (uint64_t)gguf__types[type].bytes, &r)) return 0;
    return r;
}

uint64_t gguf_tensor_bytes(int type, const int64_t ne[GGUF_MAX_DIMS], uint32_t n_dims, bool *overflow)
{
    if (overflow) *overflow = false;
    if (!gguf_type_valid(type) || n_dims < 1 || n_dims > GGUF_MAX_DIMS) return 0;
    /* element count must fit in int64 (ggml's rule), and so must the byte count */
    int64_t nelem = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] < 0) return 0;
        if (__builtin_mul_overflow(nelem, ne[i], &nelem)) goto ovf;
    }
    if (ne[0] % gguf__types[type].blck) return 0;
    /* with ne[0] == 0 the element count is 0 while the row count can still overflow */
    int64_t rows = 1;
    for (uint32_t i = 1; i < n_dims; i++)
        if (__builtin_mul_overflow(rows, ne[i], &rows)) goto ovf;
    int64_t bytes;
    if (__builtin_mul_overflow(ne[0] / (int64_t)gguf__types[type].blck, (int64_t)gguf__types[type].bytes, &bytes) ||
        __builtin_mul_overflow(bytes, rows, &bytes))
        goto ovf;
    return (uint64_t)bytes;
ovf:
    if (overflow) *overflow = true;
    return 0;
}

static const struct { const char *name; size_t size; } gguf__kv_types[GGUF_KV_COUNT] = {
    [GGUF_KV_UINT8] = { "u8", 1 },   [GGUF_KV_INT8] = { "i8", 1 },
    [GGUF_KV_UINT16] = { "u16", 2 }, [GGUF_KV_INT16] = { "i16", 2 },
    [GGUF_KV_UINT32] = { "u32", 4 }, [GGUF_KV_INT32] = { "i32", 4 },
    [GGUF_KV_FLOAT32] = { "f32", 4 }, [GGUF_KV_BOOL] = { "bool", 1 },
    [GGUF_KV_STRING] = { "str", 0 }, [GGUF_KV_ARRAY] = { "arr", 0 },
    [GGUF_KV_UINT64] = { "u64", 8 }, [GGUF_KV_INT64] = { "i64", 8 },
    [GGUF_KV_FLOAT64] = { "f64", 8 },
};

const char *gguf_kv_type_name(int t) { return t >= 0 && t < GGUF_KV_COUNT ? gguf__kv_types[t].name : "?"; }
size_t      gguf_kv_type_size(int t) { return t >= 0 && t < GGUF_KV_COUNT ? gguf__kv_types[t].size : 0; }

/* ---------------------------------------------------------------- split naming */

int gguf_split_path(char *buf, size_t size, const char *prefix, int idx, int count)
{
    return snprintf(buf, size, "%s-%05d-of-%05d.gguf", prefix, idx + 1, count);
}

int gguf_split_prefix(char *buf, size_t size, const char *path, int idx, int count)
{
    char suffix[64];
    int ns = snprintf(suffix, sizeof suffix, "-%05d-of-%05d.gguf", idx + 1, count);
    size_t np = strlen(path);
    if (ns <= 0 || (size_t)ns >= np || strcmp(path + np - (size_t)ns, suffix)) return 0;
    size_t plen = np - (size_t)ns;
    if (size) {
        size_t c = plen < size - 1 ? plen : size - 1;
        memcpy(buf, path, c);
        buf[c] = 0;
    }
    return (int)plen;
}
