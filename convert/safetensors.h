/*
 * safetensors.h - reader of one .safetensors file: u64 LE header length, JSON header
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, data.
 *
 * Every check is done before a pointer is handed out: header length absurd for the file size,
 * Git LFS pointer instead of data, header not JSON (line/column), duplicate names, unknown dtype,
 * shape not a list of non-negative integers, data_offsets outside the data section (truncated
 * download), not matching dtype x shape, or overlapping another tensor.
 * Never prints or exits. Destructors accept NULL.
 */
#ifndef CONV_SAFETENSORS_H
#define CONV_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "gguf.h"

#define CONV_ST_MAX_DIMS   8
#define CONV_ST_MAX_HEADER (100u << 20)   /* the safetensors library's own limit is 100 MB */

typedef struct conv_st_tensor {
    char    *name;                     /* NUL-terminated copy */
    char     dtype[12];                /* as written: "BF16", "F32", "I8", ... */
    int      type;                     /* GGUF_TYPE_F32/F16/BF16, or -1 for another valid dtype */
    uint32_t elem_size;                /* bytes per element */
    uint32_t n_dims;                   /* 0 (scalar) .. CONV_ST_MAX_DIMS */
    int64_t  shape[CONV_ST_MAX_DIMS];  /* row-major, as written */
    uint64_t begin, end;               /* data_offsets, relative to the data section */
} conv_st_tensor;

typedef struct conv_st_file {
    char           *path;
    int             fd;          /* -1 when parsed from memory */
    const uint8_t  *map;         /* whole file, read-only (NULL when parsed from memory) */
    uint64_t        size;        /* file size */
    uint64_t        data_start;  /* 8 + header length */
    int64_t         n;           /* number of tensors */
    conv_st_tensor *t;           /* sorted byte-wise by name */
} conv_st_file;

/*
 * Parse and validate a header from memory. buf holds the first len bytes of a file of
 * file_size bytes (len >= min(file_size, 8 + header length) is needed; len == file_size is the
 * simple case). name is used in messages. Returns 0 and *out (free with conv_st_close), or a
 * negative status with err filled.
 */
int  conv_st_parse(const char *name, const uint8_t *buf, uint64_t len, uint64_t file_size,
                   conv_st_file **out, gguf_error *err);
/* Open, mmap and validate a file. Same results as conv_st_parse. */
int  conv_st_open(const char *path, conv_st_file **out, gguf_error *err);
void conv_st_close(conv_st_file *f);
/* Index of a tensor by name (binary search), or -1. */
int64_t conv_st_find(const conv_st_file *f, const char *name);

#endif /* CONV_SAFETENSORS_H */
