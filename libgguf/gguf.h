/*
 * gguf.h - the one public header of libgguf: a GGUF v2/v3 reader that distrusts its input,
 * a streaming writer that never leaves a partial file under its final name, and the ggml
 * tensor-type table.
 *
 * Conventions
 *  - Every fallible call returns 0 (GGUF_OK) or a negative gguf_status, and fills the
 *    caller-owned gguf_error (which may be NULL) with a one-line message naming the file,
 *    the byte offset and the offending key or tensor.
 *  - The library never prints, never exits and never installs signal handlers.
 *  - Destructors accept NULL.
 *  - Tensor types (ggml ids) use the GGUF_TYPE_ prefix; KV value types use GGUF_KV_.
 *  - All pointers returned by a reader stay valid until gguf_close() of that reader.
 *    Strings inside the file are NOT NUL-terminated: they come as gguf_str {ptr, len}.
 *    Keys and tensor names are copied and ARE NUL-terminated.
 */
#ifndef GGUF_H
#define GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GGUF_MAGIC              0x46554747u /* "GGUF" read as little-endian u32 */
#define GGUF_VERSION            3
#define GGUF_DEFAULT_ALIGNMENT  32
#define GGUF_MAX_NAME           64          /* tensor names must be shorter than this */
#define GGUF_MAX_DIMS           4
#define GGUF_QNT_VERSION        2

/* ---------------------------------------------------------------- errors */

typedef enum gguf_status {
    GGUF_OK            =   0,
    GGUF_E_IO          =  -1,  /* open/read/write/fsync/rename failed (errno kept) */
    GGUF_E_NOMEM       =  -2,
    GGUF_E_NOT_GGUF    =  -3,  /* bad magic: not this format at all */
    GGUF_E_VERSION     =  -4,  /* version 0, 1, > 3, or endianness mismatch */
    GGUF_E_TRUNCATED   =  -5,  /* a read would run past the end of the file */
    GGUF_E_COUNT       =  -6,  /* n_tensors / n_kv / array count absurd for the file size */
    GGUF_E_STRING      =  -7,  /* string length absurd for the file size */
    GGUF_E_KV_TYPE     =  -8,  /* unknown KV value type, or array of arrays */
    GGUF_E_KEY         =  -9,  /* empty key */
    GGUF_E_DUP_KEY     = -10,
    GGUF_E_NAME        = -11,  /* tensor name empty or >= GGUF_MAX_NAME bytes */
    GGUF_E_DUP_TENSOR  = -12,
    GGUF_E_DIMS        = -13,  /* n_dims 0 or > 4 */
    GGUF_E_SHAPE       = -14,  /* ne < 0, or element/byte count overflows */
    GGUF_E_TYPE        = -15,  /* unknown or removed tensor type id */
    GGUF_E_BLOCK       = -16,  /* ne[0] not a multiple of the type's block size */
    GGUF_E_ALIGNMENT   = -17,  /* general.alignment not a u32 power of two */
    GGUF_E_OFFSET      = -18,  /* tensor offset not where the contiguous layout puts it (data past EOF: GGUF_E_TRUNCATED) */
    GGUF_E_SPLIT       = -19,  /* split set inconsistent: missing/extra/foreign shard, bad split.* */
    GGUF_E_NOT_FOUND   = -20,  /* key or tensor absent (lookups) */
    GGUF_E_WRONG_TYPE  = -21,  /* KV exists but has another type than asked */
    GGUF_E_EXISTS      = -22,  /* output exists and GGUF_W_FORCE not given */
    GGUF_E_USAGE       = -23,  /* API misuse detected at run time (writer out of order, ...) */
    GGUF_E_CHANGED     = -24,  /* input file changed size while in use */
    GGUF_E_NONFINITE   = -25,  /* NaN/Inf in float data or in a block's fp16 scale */
    GGUF_E_STATUS_MIN  = -25
} gguf_status;

typedef struct gguf_error {
    int      code;        /* gguf_status, 0 when no error */
    int      sys_errno;   /* errno for GGUF_E_IO, else 0 */
    uint64_t offset;      /* file offset the problem was found at (UINT64_MAX if none) */
    char     msg[512];    /* one line, no trailing newline/period: "'f.gguf': offset 24: ..." */
} gguf_error;

/* Short stable name of a status ("GGUF_E_TRUNCATED"), never NULL. */
const char *gguf_status_name(int code);
/* Human description of a status ("file is truncated"), never NULL. */
const char *gguf_status_str(int code);
/* Clear an error struct (code 0, empty message). NULL-safe. */
void gguf_error_clear(gguf_error *err);
/* Fill err (if non-NULL) printf-style and return code. Used by libgguf and by the other modules. */
int gguf_error_set(gguf_error *err, int code, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- tensor types (ggml ids) */

typedef enum gguf_type {
    GGUF_TYPE_F32  = 0,  GGUF_TYPE_F16  = 1,  GGUF_TYPE_Q4_0 = 2,  GGUF_TYPE_Q4_1 = 3,
    GGUF_TYPE_Q5_0 = 6,  GGUF_TYPE_Q5_1 = 7,  GGUF_TYPE_Q8_0 = 8,  GGUF_TYPE_Q8_1 = 9,
    GGUF_TYPE_Q2_K = 10, GGUF_TYPE_Q3_K = 11, GGUF_TYPE_Q4_K = 12, GGUF_TYPE_Q5_K = 13,
    GGUF_TYPE_Q6_K = 14, GGUF_TYPE_Q8_K = 15,
    GGUF_TYPE_IQ2_XXS = 16, GGUF_TYPE_IQ2_XS = 17, GGUF_TYPE_IQ3_XXS = 18, GGUF_TYPE_IQ1_S = 19,
    GGUF_TYPE_IQ4_NL = 20, GGUF_TYPE_IQ3_S = 21, GGUF_TYPE_IQ2_S = 22, GGUF_TYPE_IQ4_XS = 23,
    GGUF_TYPE_I8 = 24, GGUF_TYPE_I16 = 25, GGUF_TYPE_I32 = 26, GGUF_TYPE_I64 = 27,
    GGUF_TYPE_F64 = 28, GGUF_TYPE_IQ1_M = 29, GGUF_TYPE_BF16 = 30,
    GGUF_TYPE_TQ1_0 = 34, GGUF_TYPE_TQ2_0 = 35, GGUF_TYPE_MXFP4 = 39, GGUF_TYPE_NVFP4 = 40,
    GGUF_TYPE_Q1_0 = 41, GGUF_TYPE_Q2_0 = 42,
    GGUF_TYPE_COUNT = 43
} gguf_type;

/* True for an id below GGUF_TYPE_COUNT that is not one of the removed ids (4, 5, 31-33). */
bool        gguf_type_valid(int type);
/* "Q4_K", "F32", ...; "?" for an invalid id. */
const char *gguf_type_name(int type);
/* Parse a type name, case-insensitive ("q8_0", "BF16"); returns -1 if unknown. */
int         gguf_type_from_name(const char *name);
/* Elements per block (1 for F32/F16/BF16, 32, 256 ...); 0 for an invalid id. */
uint32_t    gguf_type_block_elems(int type);
/* Bytes per block; 0 for an invalid id. */
uint32_t    gguf_type_block_bytes(int type);
/* True if the type is a quantized block format (not F32/F16/BF16/F64/I*). */
bool        gguf_type_is_quantized(int type);
/* Bytes for a row of n elements (n must be a multiple of the block size; else 0). */
uint64_t    gguf_row_bytes(int type, int64_t n);
/* Bytes for a tensor; 0 and *overflow=true (if given) when the product overflows. */
uint64_t    gguf_tensor_bytes(int type, const int64_t ne[GGUF_MAX_DIMS], uint32_t n_dims, bool *overflow);

/* ---------------------------------------------------------------- KV value types */

typedef enum gguf_kv_type {
    GGUF_KV_UINT8 = 0, GGUF_KV_INT8 = 1, GGUF_KV_UINT16 = 2, GGUF_KV_INT16 = 3,
    GGUF_KV_UINT32 = 4, GGUF_KV_INT32 = 5, GGUF_KV_FLOAT32 = 6, GGUF_KV_BOOL = 7,
    GGUF_KV_STRING = 8, GGUF_KV_ARRAY = 9, GGUF_KV_UINT64 = 10, GGUF_KV_INT64 = 11,
    GGUF_KV_FLOAT64 = 12,
    GGUF_KV_COUNT = 13
} gguf_kv_type;

/* "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"; "?" if invalid. */
const char *gguf_kv_type_name(int t);
/* Size of a fixed-size value type; 0 for STRING/ARRAY/invalid. */
size_t      gguf_kv_type_size(int t);

/* A string inside the file (not NUL-terminated). */
typedef struct gguf_str {
    const char *ptr;
    uint64_t    len;
} gguf_str;

/* ---------------------------------------------------------------- reader */

typedef struct gguf_file gguf_file;

typedef struct gguf_tensor_info {
    const char *name;               /* NUL-terminated copy */
    uint32_t    n_dims;
    int64_t     ne[GGUF_MAX_DIMS];  /* unused dims are 1 */
    int         type;               /* gguf_type */
    uint64_t    offset;             /* relative to the data section of its file */
    uint64_t    size;               /* bytes of data (unpadded) */
    uint64_t    file_offset;        /* absolute offset of the data in its file */
    uint32_t    file_index;         /* which file of a split set (0 for a single file) */
    const void *data;               /* points into the mmap of that file; size bytes */
} gguf_tensor_info;

/* Options for gguf_open_ex. Zero-initialise. */
typedef struct gguf_open_opts {
    bool no_split;     /* open only the given file even if it is the first of a split set */
    bool no_mmap_data; /* validate without needing the data section to be mapped (data = NULL) */
} gguf_open_opts;

/*
 * Open a GGUF file (or, given the first file of a split set NAME-00001-of-0000N.gguf, the whole
 * set as one model: the first file's metadata, all tensors in file order, split.* checked for
 * consistency). The file is mmapped read-only; everything is validated before this returns.
 * Returns NULL and fills err on failure. The caller owns the result: gguf_close() it.
 */
gguf_file *gguf_open(const char *path, gguf_error *err);
gguf_file *gguf_open_ex(const char *path, const gguf_open_opts *opts, gguf_error *err);
/* Unmap and free. NULL-safe. */
void       gguf_close(gguf_file *f);

const char *gguf_path(const gguf_file *f);             /* path given to open */
uint32_t    gguf_version(const gguf_file *f);
uint32_t    gguf_alignment(const gguf_file *f);
uint64_t    gguf_data_offset(const gguf_file *f);      /* start of the data section of file 0 */
uint64_t    gguf_file_size(const gguf_file *f);        /* size of file 0 */
uint32_t    gguf_n_files(const gguf_file *f);          /* 1, or N for a split set */
const char *gguf_file_path(const gguf_file *f, uint32_t i);
/* Number of tensors whose info lives in file i of the set. */
int64_t     gguf_file_n_tensors(const gguf_file *f, uint32_t i);

/* KVs (of file 0). Index i is 0..gguf_n_kv()-1, in file order. */
int64_t      gguf_n_kv(const gguf_file *f);
const char  *gguf_kv_key(const gguf_file *f, int64_t i);          /* NUL-terminated */
int64_t      gguf_find_key(const gguf_file *f, const char *key);  /* index or -1 */
gguf_kv_type gguf_kv_get_type(const gguf_file *f, int64_t i);
/* Raw value bytes as stored in the file after the value-type field (for an array: element
 * type, count, elements). Used to copy a KV through unchanged. */
void         gguf_kv_raw(const gguf_file *f, int64_t i, const void **ptr, uint64_t *len);

/* Typed getters. The KV must have exactly that type (asserted). */
uint8_t  gguf_kv_u8  (const gguf_file *f, int64_t i);
int8_t   gguf_kv_i8  (const gguf_file *f, int64_t i);
uint16_t gguf_kv_u16 (const gguf_file *f, int64_t i);
int16_t  gguf_kv_i16 (const gguf_file *f, int64_t i);
uint32_t gguf_kv_u32 (const gguf_file *f, int64_t i);
int32_t  gguf_kv_i32 (const gguf_file *f, int64_t i);
uint64_t gguf_kv_u64 (const gguf_file *f, int64_t i);
int64_t  gguf_kv_i64 (const gguf_file *f, int64_t i);
float    gguf_kv_f32 (const gguf_file *f, int64_t i);
double   gguf_kv_f64 (const gguf_file *f, int64_t i);
bool     gguf_kv_bool(const gguf_file *f, int64_t i);
gguf_str gguf_kv_str (const gguf_file *f, int64_t i);

/* Arrays. */
gguf_kv_type gguf_kv_arr_type(const gguf_file *f, int64_t i);     /* element type */
uint64_t     gguf_kv_arr_n(const gguf_file *f, int64_t i);
/* Pointer to the packed little-endian elements of a fixed-size array (may be unaligned:
 * memcpy out of it). NULL for string arrays. */
const void  *gguf_kv_arr_data(const gguf_file *f, int64_t i);
/* Element j of a string array (O(1)). */
gguf_str     gguf_kv_arr_str(const gguf_file *f, int64_t i, uint64_t j);

/* Convenience lookups by key, with type conversion where lossless:
 * any integer KV -> int64 (u64 above INT64_MAX fails); f32/f64 -> double; returns
 * GGUF_E_NOT_FOUND or GGUF_E_WRONG_TYPE (err filled, naming the key). */
int gguf_get_int(const gguf_file *f, const char *key, int64_t *out, gguf_error *err);
int gguf_get_float(const gguf_file *f, const char *key, double *out, gguf_error *err);
int gguf_get_bool(const gguf_file *f, const char *key, bool *out, gguf_error *err);
int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, gguf_error *err);

/* Tensors: all tensors of the (possibly split) model, in file order. */
int64_t                 gguf_n_tensors(const gguf_file *f);
const gguf_tensor_info *gguf_tensor(const gguf_file *f, int64_t i);
int64_t                 gguf_find_tensor(const gguf_file *f, const char *name); /* index or -1 */
/* File descriptor of file i of the set (for copy_file_range / pread). */
int                     gguf_file_fd(const gguf_file *f, uint32_t i);
/* Tell the kernel we are done with these data bytes (madvise DONTNEED on the mapping), so
 * resident memory does not grow with the model size. Safe to call with any range. */
void                    gguf_release(const gguf_file *f, const gguf_tensor_info *t);
/* Re-check that no file of the set changed size or mtime since open (a shrinking input turns
 * mmap reads into SIGBUS; a rewrite in place changes the bytes under the mapping).
 * Returns 0 or GGUF_E_CHANGED. */
int                     gguf_check_unchanged(const gguf_file *f, gguf_error *err);

/* Scan a tensor's data for non-finite values: every element of F32/F16/BF16/F64, and the fp16
 * scales (d, and dmin where present) of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/Q5_K/Q6_K blocks. Other types
 * are accepted unchecked. Returns 0, or GGUF_E_NONFINITE with *bad_elem (if given) set to the
 * first bad element (or first element of the bad block) and err naming the tensor. */
int                     gguf_validate_data(const gguf_tensor_info *t, uint64_t *bad_elem, gguf_error *err);

/* Split-set naming (FORMATS.md 4.1): "<prefix>-%05d-of-%05d.gguf" with idx 0-based.
 * Returns the length snprintf would, like snprintf. */
int  gguf_split_path(char *buf, size_t size, const char *prefix, int idx, int count);
/* If path matches the pattern with this idx/count, write the prefix and return its length,
 * else return 0. */
int  gguf_split_prefix(char *buf, size_t size, const char *path, int idx, int count);

/* ---------------------------------------------------------------- writer */

typedef struct gguf_writer gguf_writer;

enum {
    GGUF_W_FORCE = 1u << 0,   /* overwrite an existing output (never an input: caller checks) */
    GGUF_W_NOSYNC = 1u << 1,  /* skip fsync (tests only) */
};

/*
 * Start writing a GGUF v3 file. Data goes to "<path>.tmp" in the same directory (a stale one
 * from a killed run is replaced); gguf_writer_finish() fsyncs and renames it to path.
 * Fails with GGUF_E_EXISTS if path exists and GGUF_W_FORCE is not set.
 * Alignment is always GGUF_DEFAULT_ALIGNMENT (32) in the layout.
 * The writer holds metadata in memory and never more than the caller hands it of tensor data.
 */
gguf_writer *gguf_writer_open(const char *path, unsigned flags, gguf_error *err);
/* Path of the temp file (for a signal handler to unlink). Valid until finish/abort. */
const char  *gguf_writer_tmp_path(const gguf_writer *w);

/* Phase 1: metadata, in the order it will appear. Keys must be unique and non-empty
 * (GGUF_E_DUP_KEY / GGUF_E_KEY). Strings are copied. */
int gguf_writer_kv_u8  (gguf_writer *w, const char *key, uint8_t v);
int gguf_writer_kv_i8  (gguf_writer *w, const char *key, int8_t v);
int gguf_writer_kv_u16 (gguf_writer *w, const char *key, uint16_t v);
int gguf_writer_kv_i16 (gguf_writer *w, const char *key, int16_t v);
int gguf_writer_kv_u32 (gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_kv_i32 (gguf_writer *w, const char *key, int32_t v);
int gguf_writer_kv_u64 (gguf_writer *w, const char *key, uint64_t v);
int gguf_writer_kv_i64 (gguf_writer *w, const char *key, int64_t v);
int gguf_writer_kv_f32 (gguf_writer *w, const char *key, float v);
int gguf_writer_kv_f64 (gguf_writer *w, const char *key, double v);
int gguf_writer_kv_bool(gguf_writer *w, const char *key, bool v);
int gguf_writer_kv_str (gguf_writer *w, const char *key, const char *s, uint64_t len);
/* Fixed-size array: n elements of type t, packed little-endian at data. */
int gguf_writer_kv_arr (gguf_writer *w, const char *key, gguf_kv_type t, const void *data, uint64_t n);
/* String array. */
int gguf_writer_kv_arr_str(gguf_writer *w, const char *key, const gguf_str *strs, uint64_t n);
/* Copy a KV verbatim from a reader (same key, type and value bytes). */
int gguf_writer_kv_copy(gguf_writer *w, const gguf_file *src, int64_t i);
/* Copy with a different key name is not offered: keys are part of the value's identity. */
/* Number of KVs added so far, and removal by key (returns GGUF_E_NOT_FOUND if absent). */
int64_t gguf_writer_n_kv(const gguf_writer *w);
int     gguf_writer_kv_remove(gguf_writer *w, const char *key);

/* Phase 1: tensor infos, in data order. Offsets are assigned contiguously, padded to 32.
 * Checks name length/uniqueness, dims, type validity and block fit. */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t n_dims,
                           const int64_t ne[GGUF_MAX_DIMS], int type);
/* Bytes the whole file will have once all tensor data is written (valid after the infos). */
uint64_t gguf_writer_total_size(const gguf_writer *w);

/* Phase 2: write header, KVs, infos and padding. No more KVs or tensors after this. */
int gguf_writer_begin_data(gguf_writer *w);
/* Append bytes of the current tensor (any chunking). Exceeding its size is GGUF_E_USAGE. */
int gguf_writer_write(gguf_writer *w, const void *buf, size_t n);
/* Append n bytes of the current tensor straight from a file descriptor at offset off
 * (copy_file_range where possible, else pread+write). */
int gguf_writer_copy_fd(gguf_writer *w, int fd, uint64_t off, uint64_t n);
/* Finish the current tensor: checks its size is complete and writes the padding. */
int gguf_writer_end_tensor(gguf_writer *w);
/* Convenience: write one whole tensor (write + end_tensor). */
int gguf_writer_tensor(gguf_writer *w, const void *buf, size_t n);

/* Phase 3: all tensors must be complete; fsync, rename over the final name, fsync the
 * directory, free w. On any error the temp file is removed and w is freed all the same. */
int  gguf_writer_finish(gguf_writer *w, gguf_error *err);
/* Abandon: remove the temp file, free w. NULL-safe. */
void gguf_writer_abort(gguf_writer *w);
/* The last error of a writer call (every gguf_writer_* call above records into it). */
const gguf_error *gguf_writer_error(const gguf_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* GGUF_H */
