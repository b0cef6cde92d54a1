/*
 * gguf_read.c - the GGUF v2/v3 reader: mmap the whole file read-only and validate every
 * byte of the metadata before handing anything out (FORMATS.md 1.1-1.4), and open split
 * sets as one model (FORMATS.md 4).
 *
 * Error-code choices where the format allows two readings:
 *  - A string whose length is larger than the whole file is GGUF_E_STRING; one that fits the
 *    file but not the bytes left after it is GGUF_E_TRUNCATED. Array counts likewise:
 *    GGUF_E_COUNT when count * element size exceeds the file, else GGUF_E_TRUNCATED.
 *  - n_kv / n_tensors are GGUF_E_COUNT when negative or when their smallest possible
 *    encoding (14 bytes a KV, 33 bytes a tensor info) cannot fit in the file.
 *  - A tensor offset other than the running sum of PAD(size, alignment) is GGUF_E_OFFSET.
 *    A tensor at the right offset whose data runs past the end of the file (or a file
 *    that ends before its data section) is GGUF_E_TRUNCATED.
 */
#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf_internal.h"

#define GGUF__MIN_KV     14u   /* key len 8 + key 1 + type 4 + value 1 */
#define GGUF__MIN_TINFO  33u   /* name len 8 + name 1 + n_dims 4 + ne 8 + type 4 + offset 8 */

typedef struct gguf__kv {
    char          *key;        /* NUL-terminated copy */
    uint64_t       off;        /* file offset of the KV (its key length) */
    int            type;
    const uint8_t *raw;        /* value bytes after the type field */
    uint64_t       raw_len;
    int            arr_type;   /* arrays only */
    uint64_t       arr_n;
    const uint8_t *arr_data;   /* first element */
    uint64_t      *str_off;    /* string arrays: offset of element j from arr_data */
} gguf__kv;

/* Open-addressing name set: slots hold index+1, 0 is empty. */
typedef struct gguf__ht {
    int64_t *slot;
    uint64_t cap;   /* power of two or 0 */
    int64_t  n;
} gguf__ht;

typedef struct gguf__map {
    char     *path;
    int       fd;
    uint8_t  *map;
    uint64_t  size;
    struct timespec mtime;   /* at open: a rewrite in place changes it */
    uint64_t  data_offset;
    uint32_t  version;
    uint32_t  alignment;
    int64_t   first_tensor;  /* index of this file's first tensor in the set */
    int64_t   n_tensors;
    gguf__kv *kvs;
    int64_t   n_kv;
    gguf__ht  kv_ht;
} gguf__map;

struct gguf_file {
    char             *path;
    uint32_t          n_files;
    gguf__map        *files;
    gguf_tensor_info *tensors;
    int64_t           n_tensors;
    int64_t           cap_tensors;
    gguf__ht          t_ht;
};

/* ---------------------------------------------------------------- name sets */

typedef const char *(*gguf__name_fn)(const void *ctx, int64_t i);

static const char *gguf__kv_name(const void *ctx, int64_t i) { return ((const gguf__kv *)ctx)[i].key; }
static const char *gguf__t_name(const void *ctx, int64_t i) { return ((const gguf_tensor_info *)ctx)[i].name; }

static int64_t gguf__ht_find(const gguf__ht *ht, const char *name, gguf__name_fn fn, const void *ctx)
{
    if (!ht->cap) return -1;
    uint64_t mask = ht->cap - 1, h = gguf__hash(name, strlen(name)) & mask;
    for (;; h = (h + 1) & mask) {
        int64_t s = ht->slot[h];
        if (!s) return -1;
        if (!strcmp(fn(ctx, s - 1), name)) return s - 1;
    }
}

/* Insert index i (whose name is fn(ctx, i)). Returns -1 when added, the index of an equal
 * name already present, or -2 when out of memory. */
static int64_t gguf__ht_add(gguf__ht *ht, int64_t i, gguf__name_fn fn, const void *ctx)
{
    const char *name = fn(ctx, i);
    int64_t dup = gguf__ht_find(ht, name, fn, ctx);
    if (dup >= 0) return dup;
    if ((uint64_t)(ht->n + 1) * 2 > ht->cap) {
        uint64_t ncap = ht->cap ? ht->cap * 2 : 64;
        int64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return -2;
        for (uint64_t k = 0; k < ht->cap; k++) {
            int64_t s = ht->slot[k];
            if (!s) continue;
            const char *nm = fn(ctx, s - 1);
            uint64_t h = gguf__hash(nm, strlen(nm)) & (ncap - 1);
            while (ns[h]) h = (h + 1) & (ncap - 1);
            ns[h] = s;
        }
        free(ht->slot);
        ht->slot = ns;
        ht->cap = ncap;
    }
    uint64_t mask = ht->cap - 1, h = gguf__hash(name, strlen(name)) & mask;
    while (ht->slot[h]) h = (h + 1) & mask;
    ht->slot[h] = i + 1;
    ht->n++;
    return -1;
}

/* ---------------------------------------------------------------- cursor */

typedef struct gguf__cur {
    const uint8_t *p;
    uint64_t       size, pos;
    const char    *path;
    gguf_error    *err;
    const char    *ctx_kind;   /* "key" / "tensor" / NULL */
    const char    *ctx_name;
    int64_t        ctx_index;  /* used while the name is not known yet */
} gguf__cur;

__attribute__((format(printf, 4, 5)))
static int gguf__fail(gguf__cur *c, int code, uint64_t off, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->ctx_kind && c->ctx_name)
        return gguf_error_set(c->err, code, off, "'%s': offset %" PRIu64 ": %s, %s '%.80s'", c->path, off, what,
                              c->ctx_kind, c->ctx_name);
    if (c->ctx_kind)
        return gguf_error_set(c->err, code, off, "'%s': offset %" PRIu64 ": %s, %s #%" PRId64, c->path, off, what,
                              c->ctx_kind, c->ctx_index);
    return gguf_error_set(c->err, code, off, "'%s': offset %" PRIu64 ": %s", c->path, off, what);
}

static int gguf__need(gguf__cur *c, uint64_t n, const char *what)
{
    if (n <= c->size - c->pos) return 0;
    return gguf__fail(c, GGUF_E_TRUNCATED, c->pos, "file ends inside %s (%" PRIu64 " bytes needed, %" PRIu64 " left)",
                      what, n, c->size - c->pos);
}

static int gguf__u32(gguf__cur *c, uint32_t *v, const char *what)
{
    int rc = gguf__need(c, 4, what);
    if (rc) return rc;
    *v = gguf__ld32(c->p + c->pos);
    c->pos += 4;
    return 0;
}

static int gguf__u64(gguf__cur *c, uint64_t *v, const char *what)
{
    int rc = gguf__need(c, 8, what);
    if (rc) return rc;
    *v = gguf__ld64(c->p + c->pos);
    c->pos += 8;
    return 0;
}

/* A string: u64 length, then the bytes. */
static int gguf__str(gguf__cur *c, gguf_str *s, const char *what)
{
    uint64_t at = c->pos, len;
    char lw[64];
    snprintf(lw, sizeof lw, "the length of %s", what);
    int rc = gguf__u64(c, &len, lw);
    if (rc) return rc;
    if (len > c->size)
        return gguf__fail(c, GGUF_E_STRING, at, "%s has length %" PRIu64 ", larger than the file (%" PRIu64 " bytes)",
                          what, len, c->size);
    if (len > c->size - c->pos)
        return gguf__fail(c, GGUF_E_TRUNCATED, c->pos, "file ends inside %s (%" PRIu64 " bytes needed, %" PRIu64 " left)",
                          what, len, c->size - c->pos);
    s->ptr = (const char *)c->p + c->pos;
    s->len = len;
    c->pos += len;
    return 0;
}

static char *gguf__strdup(const gguf_str *s)
{
    char *r = malloc(s->len + 1);   /* s->len <= file size, already checked */
    if (!r) return NULL;
    memcpy(r, s->ptr, s->len);
    r[s->len] = 0;
    return r;
}

/* ---------------------------------------------------------------- one file */

static int gguf__nomem(gguf__cur *c)
{
    return gguf__fail(c, GGUF_E_NOMEM, c->pos, "out of memory");
}

static int gguf__parse_kv(gguf__cur *c, gguf__map *m, int64_t i)
{
    gguf__kv *kv = &m->kvs[i];
    gguf_str key;
    int rc;
    kv->off = c->pos;
    c->ctx_kind = "KV";
    c->ctx_name = NULL;
    c->ctx_index = i;
    if ((rc = gguf__str(c, &key, "a key"))) return rc;
    if (key.len == 0) return gguf__fail(c, GGUF_E_KEY, kv->off, "empty key");
    if (!(kv->key = gguf__strdup(&key))) return gguf__nomem(c);
    m->n_kv = i + 1;   /* so the key is freed and findable from here on */
    c->ctx_kind = "key";
    c->ctx_name = kv->key;
    int64_t dup = gguf__ht_add(&m->kv_ht, i, gguf__kv_name, m->kvs);
    if (dup == -2) return gguf__nomem(c);
    if (dup >= 0)
        return gguf__fail(c, GGUF_E_DUP_KEY, kv->off, "duplicate key (first at offset %" PRIu64 ")", m->kvs[dup].off);
    if (memchr(key.ptr, 0, key.len)) return gguf__fail(c, GGUF_E_KEY, kv->off, "key contains a NUL byte");

    uint64_t tat = c->pos;
    uint32_t t;
    if ((rc = gguf__u32(c, &t, "a value type"))) return rc;
    if (t >= GGUF_KV_COUNT) return gguf__fail(c, GGUF_E_KV_TYPE, tat, "unknown value type %" PRId32, (int32_t)t);
    kv->type = (int)t;
    kv->raw = c->p + c->pos;
    uint64_t start = c->pos;
    if (t == GGUF_KV_STRING) {
        gguf_str s;
        if ((rc = gguf__str(c, &s, "a string value"))) return rc;
    } else if (t == GGUF_KV_ARRAY) {
        uint32_t et;
        uint64_t n, eat = c->pos;
        if ((rc = gguf__u32(c, &et, "an array element type"))) return rc;
        if (et == GGUF_KV_ARRAY) return gguf__fail(c, GGUF_E_KV_TYPE, eat, "array of arrays");
        if (et >= GGUF_KV_COUNT)
            return gguf__fail(c, GGUF_E_KV_TYPE, eat, "unknown array element type %" PRId32, (int32_t)et);
        uint64_t nat = c->pos;
        if ((rc = gguf__u64(c, &n, "an array count"))) return rc;
        kv->arr_type = (int)et;
        kv->arr_n = n;
        kv->arr_data = c->p + c->pos;
        uint64_t esz = et == GGUF_KV_STRING ? 8 : gguf_kv_type_size((int)et);
        if (n > c->size / esz)
            return gguf__fail(c, GGUF_E_COUNT, nat, "array count %" PRIu64 " is too large for the file (%" PRIu64 " bytes)",
                              n, c->size);
        if (n * esz > c->size - c->pos)
            return gguf__fail(c, GGUF_E_TRUNCATED, c->pos,
                              "file ends inside an array of %" PRIu64 " elements (%" PRIu64 " bytes left)", n,
                              c->size - c->pos);
        if (et == GGUF_KV_STRING) {
            if (n && !(kv->str_off = malloc(n * sizeof *kv->str_off))) return gguf__nomem(c);
            for (uint64_t j = 0; j < n; j++) {
                gguf_str s;
                kv->str_off[j] = c->pos - (uint64_t)(kv->arr_data - c->p);
                if ((rc = gguf__str(c, &s, "an array string"))) return rc;
            }
        } else {
            c->pos += n * esz;
        }
    } else {
        size_t sz = gguf_kv_type_size((int)t);
        if ((rc = gguf__need(c, sz, "a value"))) return rc;
        c->pos += sz;
    }
    kv->raw_len = c->pos - start;
    return 0;
}

static int gguf__parse_tinfo(gguf__cur *c, gguf_file *f, gguf__map *m, uint32_t file_index, int64_t k, uint64_t *expect)
{
    int64_t i = f->n_tensors;   /* index in the set */
    gguf_tensor_info *t = &f->tensors[i];
    uint64_t at = c->pos, fld;
    gguf_str name;
    int rc;
    memset(t, 0, sizeof *t);
    t->file_index = file_index;
    c->ctx_kind = "tensor";
    c->ctx_name = NULL;
    c->ctx_index = k;
    if ((rc = gguf__str(c, &name, "a tensor name"))) return rc;
    if (name.len == 0) return gguf__fail(c, GGUF_E_NAME, at, "empty tensor name");
    if (name.len >= GGUF_MAX_NAME)
        return gguf__fail(c, GGUF_E_NAME, at, "tensor name of %" PRIu64 " bytes (the limit is %d), name '%.40s...'",
                          name.len, GGUF_MAX_NAME - 1, name.ptr);
    if (memchr(name.ptr, 0, name.len)) return gguf__fail(c, GGUF_E_NAME, at, "tensor name contains a NUL byte");
    if (!(t->name = gguf__strdup(&name))) return gguf__nomem(c);
    f->n_tensors = i + 1;   /* owns the name now */
    c->ctx_name = t->name;
    int64_t dup = gguf__ht_add(&f->t_ht, i, gguf__t_name, f->tensors);
    if (dup == -2) return gguf__nomem(c);
    if (dup >= 0) {
        if (f->tensors[dup].file_index != t->file_index)
            return gguf__fail(c, GGUF_E_DUP_TENSOR, at, "duplicate tensor name (also in '%s')",
                              f->files[f->tensors[dup].file_index].path);
        return gguf__fail(c, GGUF_E_DUP_TENSOR, at, "duplicate tensor name");
    }

    fld = c->pos;
    if ((rc = gguf__u32(c, &t->n_dims, "n_dims"))) return rc;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return gguf__fail(c, GGUF_E_DIMS, fld, "n_dims is %" PRIu32 ", must be 1 to %d", t->n_dims, GGUF_MAX_DIMS);
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t v;
        fld = c->pos;
        if ((rc = gguf__u64(c, &v, "a dimension"))) return rc;
        t->ne[d] = (int64_t)v;
        if (t->ne[d] < 0) return gguf__fail(c, GGUF_E_SHAPE, fld, "ne[%" PRIu32 "] is negative (%" PRId64 ")", d, t->ne[d]);
    }
    uint32_t ty;
    fld = c->pos;
    if ((rc = gguf__u32(c, &ty, "a tensor type"))) return rc;
    t->type = (int32_t)ty;
    if (!gguf_type_valid(t->type)) return gguf__fail(c, GGUF_E_TYPE, fld, "unknown tensor type %d", t->type);
    uint32_t blck = gguf_type_block_elems(t->type);
    /* element-count overflow is checked before block fit, so a huge ne[0] is a shape error */
    bool ovf;
    uint64_t bytes = gguf_tensor_bytes(t->type, t->ne, t->n_dims, &ovf);
    if (ovf)
        return gguf__fail(c, GGUF_E_SHAPE, at, "element or byte count overflows (%" PRId64 " x %" PRId64 " x %" PRId64
                          " x %" PRId64 ")", t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    if (t->ne[0] % blck)
        return gguf__fail(c, GGUF_E_BLOCK, fld, "ne[0] = %" PRId64 " is not a multiple of the %s block size %" PRIu32,
                          t->ne[0], gguf_type_name(t->type), blck);
    t->size = bytes;
    fld = c->pos;
    if ((rc = gguf__u64(c, &t->offset, "a tensor data offset"))) return rc;
    if (t->offset != *expect)
        return gguf__fail(c, GGUF_E_OFFSET, fld, "tensor data offset is %" PRIu64 ", expected %" PRIu64, t->offset, *expect);
    /* sizes larger than the file are caught (as GGUF_E_TRUNCATED) once the data section is
     * known; here only the running sum must not wrap */
    uint64_t next;
    if (t->size > UINT64_MAX - m->alignment || __builtin_add_overflow(*expect, gguf__pad(t->size, m->alignment), &next))
        return gguf__fail(c, GGUF_E_TRUNCATED, fld, "tensor data (%" PRIu64 " bytes) runs past the end of the file (%"
                          PRIu64 " bytes)", t->size, c->size);
    *expect = next;
    return 0;
}

static void gguf__map_free(gguf__map *m)
{
    for (int64_t i = 0; i < m->n_kv; i++) {
        free(m->kvs[i].key);
        free(m->kvs[i].str_off);
    }
    free(m->kvs);
    free(m->kv_ht.slot);
    if (m->map) munmap(m->map, m->size);
    if (m->fd >= 0) close(m->fd);
    free(m->path);
    memset(m, 0, sizeof *m);
    m->fd = -1;
}

static int gguf__io_err(gguf_error *err, const char *path, const char *what)
{
    int e = errno;
    gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot %s '%s': %s", what, path, strerror(e));
    if (err) err->sys_errno = e;
    return GGUF_E_IO;
}

/* Ensure room for n more tensor infos in the set. */
static int gguf__reserve_tensors(gguf_file *f, int64_t n)
{
    if (f->n_tensors + n <= f->cap_tensors) return 0;
    int64_t ncap = f->n_tensors + n;
    gguf_tensor_info *nt = realloc(f->tensors, (size_t)ncap * sizeof *nt);
    if (!nt) return GGUF_E_NOMEM;
    f->tensors = nt;
    f->cap_tensors = ncap;
    return 0;
}

/* Map and validate file number idx of f (already allocated in f->files). */
static int gguf__open_one(gguf_file *f, uint32_t idx, const char *path, const gguf_open_opts *opts, gguf_error *err)
{
    gguf__map *m = &f->files[idx];
    m->fd = -1;
    if (!(m->path = strdup(path))) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "'%s': out of memory", path);
    m->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (m->fd < 0) return gguf__io_err(err, path, "open");
    struct stat st;
    if (fstat(m->fd, &st)) return gguf__io_err(err, path, "stat");
    if (!S_ISREG(st.st_mode))
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot read '%s': not a regular file", path);
    m->size = (uint64_t)st.st_size;
    m->mtime = st.st_mtim;
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, m->fd, 0);
        if (p == MAP_FAILED) return gguf__io_err(err, path, "mmap");
        m->map = p;
    }
    gguf__cur cc = { .p = m->map, .size = m->size, .pos = 0, .path = path, .err = err }, *c = &cc;
    int rc;

    static const char magic[4] = { 'G', 'G', 'U', 'F' };
    if (m->size < 4) {
        if (m->size == 0 || !memcmp(m->map, magic, m->size))
            return gguf__fail(c, GGUF_E_TRUNCATED, 0, "file ends inside the magic (%" PRIu64 " bytes)", m->size);
        return gguf__fail(c, GGUF_E_NOT_GGUF, 0, "not a GGUF file (bad magic)");
    }
    if (memcmp(m->map, magic, 4)) return gguf__fail(c, GGUF_E_NOT_GGUF, 0, "not a GGUF file (bad magic)");
    c->pos = 4;
    if ((rc = gguf__u32(c, &m->version, "the version"))) return rc;
    if (m->version != 0 && (m->version & 0xffff) == 0)
        return gguf__fail(c, GGUF_E_VERSION, 4, "version 0x%08" PRIx32 " looks byte-swapped (endianness mismatch)",
                          m->version);
    if (m->version < 2 || m->version > 3)
        return gguf__fail(c, GGUF_E_VERSION, 4, "unsupported GGUF version %" PRIu32 " (only 2 and 3 are read)", m->version);
    uint64_t nt, nk;
    if ((rc = gguf__u64(c, &nt, "the tensor count"))) return rc;
    if ((rc = gguf__u64(c, &nk, "the KV count"))) return rc;
    if ((int64_t)nt < 0) return gguf__fail(c, GGUF_E_COUNT, 8, "tensor count is negative (%" PRId64 ")", (int64_t)nt);
    if ((int64_t)nk < 0) return gguf__fail(c, GGUF_E_COUNT, 16, "KV count is negative (%" PRId64 ")", (int64_t)nk);
    if (nt > m->size / GGUF__MIN_TINFO)
        return gguf__fail(c, GGUF_E_COUNT, 8, "tensor count %" PRIu64 " is impossible for a file of %" PRIu64 " bytes",
                          nt, m->size);
    if (nk > m->size / GGUF__MIN_KV)
        return gguf__fail(c, GGUF_E_COUNT, 16, "KV count %" PRIu64 " is impossible for a file of %" PRIu64 " bytes",
                          nk, m->size);
    if (nt * GGUF__MIN_TINFO + nk * GGUF__MIN_KV > m->size)
        return gguf__fail(c, GGUF_E_COUNT, 8, "%" PRIu64 " tensors and %" PRIu64 " KVs cannot fit in %" PRIu64 " bytes",
                          nt, nk, m->size);

    if (nk && !(m->kvs = calloc(nk, sizeof *m->kvs))) return gguf__nomem(c);
    for (uint64_t i = 0; i < nk; i++)
        if ((rc = gguf__parse_kv(c, m, (int64_t)i))) return rc;
    c->ctx_kind = NULL;

    m->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = gguf__ht_find(&m->kv_ht, "general.alignment", gguf__kv_name, m->kvs);
    if (ai >= 0) {
        c->ctx_kind = "key";
        c->ctx_name = "general.alignment";
        if (m->kvs[ai].type != GGUF_KV_UINT32)
            return gguf__fail(c, GGUF_E_ALIGNMENT, m->kvs[ai].off, "alignment has type %s, must be u32",
                              gguf_kv_type_name(m->kvs[ai].type));
        uint32_t a = gguf__ld32(m->kvs[ai].raw);
        if (a == 0 || (a & (a - 1)))
            return gguf__fail(c, GGUF_E_ALIGNMENT, m->kvs[ai].off, "alignment %" PRIu32 " is not a power of two", a);
        m->alignment = a;
        c->ctx_kind = NULL;
    }

    if (gguf__reserve_tensors(f, (int64_t)nt)) return gguf__nomem(c);
    m->first_tensor = f->n_tensors;
    uint64_t expect = 0;
    for (uint64_t k = 0; k < nt; k++) {
        rc = gguf__parse_tinfo(c, f, m, idx, (int64_t)k, &expect);
        if (rc) return rc;
        m->n_tensors++;
    }
    c->ctx_kind = NULL;

    /* c->pos <= size, alignment <= 2^31: no overflow */
    m->data_offset = gguf__pad(c->pos, m->alignment);
    if (nt > 0 && m->data_offset > m->size)
        return gguf__fail(c, GGUF_E_TRUNCATED, c->pos, "file ends before its data section (at offset %" PRIu64 ")",
                          m->data_offset);
    for (int64_t i = m->first_tensor; i < f->n_tensors; i++) {
        gguf_tensor_info *t = &f->tensors[i];
        t->file_offset = m->data_offset + t->offset;
        if (t->offset > m->size - m->data_offset || t->size > m->size - t->file_offset) {
            c->ctx_kind = "tensor";
            c->ctx_name = t->name;
            return gguf__fail(c, GGUF_E_TRUNCATED, t->file_offset,
                              "tensor data (%" PRIu64 " bytes) runs past the end of the file (%" PRIu64 " bytes)",
                              t->size, m->size);
        }
        t->data = opts && opts->no_mmap_data ? NULL : m->map + t->file_offset;
    }
    return 0;
}

/* ---------------------------------------------------------------- split sets */

/* Parse "<prefix>-NNNNN-of-MMMMM.gguf"; returns count (> 0) and sets *idx (0-based), or 0. */
static int gguf__split_name(const char *path, int *idx)
{
    size_t n = strlen(path);
    const char *p = path + n;
    /* walk back over ".gguf", digits, "-of-", digits, "-" */
    if (n < 5 || strcmp(p - 5, ".gguf")) return 0;
    p -= 5;
    const char *e2 = p;
    while (p > path && p[-1] >= '0' && p[-1] <= '9') p--;
    if (e2 - p < 5 || e2 - p > 9) return 0;
    int count = atoi(p);
    if (p - path < 4 || memcmp(p - 4, "-of-", 4)) return 0;
    p -= 4;
    const char *e1 = p;
    while (p > path && p[-1] >= '0' && p[-1] <= '9') p--;
    if (e1 - p < 5 || e1 - p > 9 || p == path || p[-1] != '-') return 0;
    int no = atoi(p);
    if (count < 1 || no < 1 || no > count) return 0;
    char buf[8];
    if (!gguf_split_prefix(buf, sizeof buf, path, no - 1, count)) return 0;
    *idx = no - 1;
    return count;
}

/* Typed split key of file m: returns 1 and the value, 0 if absent, or an error. */
static int gguf__split_key(gguf__map *m, const char *key, int type, int64_t *v, gguf_error *err)
{
    int64_t i = gguf__ht_find(&m->kv_ht, key, gguf__kv_name, m->kvs);
    if (i < 0) return 0;
    if (m->kvs[i].type != type)
        return gguf_error_set(err, GGUF_E_SPLIT, m->kvs[i].off, "'%s': offset %" PRIu64 ": %s has type %s, must be %s, key '%s'",
                              m->path, m->kvs[i].off, key, gguf_kv_type_name(m->kvs[i].type), gguf_kv_type_name(type), key);
    if (type == GGUF_KV_UINT16) *v = gguf__ld16(m->kvs[i].raw);
    else *v = (int32_t)gguf__ld32(m->kvs[i].raw);
    return 1;
}

static int gguf__open_split(gguf_file *f, const char *path, const gguf_open_opts *opts, gguf_error *err)
{
    gguf__map *m0 = &f->files[0];
    int64_t count = 0, no = 0, total = 0;
    int rc, has_count, has_no, has_total;
    if ((has_count = gguf__split_key(m0, "split.count", GGUF_KV_UINT16, &count, err)) < 0) return has_count;
    int name_idx = 0, name_count = gguf__split_name(path, &name_idx);
    /* split.count, when present, decides (a merged file keeps split.count = 0); without it, a
     * name of the split pattern claims a set the file cannot back up */
    if (has_count ? count <= 1 : name_count <= 1) return 0;
    if (!has_count)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': named as part %d of a %d-file split set but has no "
                              "split.count key", path, name_idx + 1, name_count);
    if ((has_no = gguf__split_key(m0, "split.no", GGUF_KV_UINT16, &no, err)) < 0) return has_no;
    if (!has_no)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.count is %" PRId64 " but split.no is missing",
                              path, count);
    if (no != 0)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.no is %" PRId64 ", the first file of a split "
                              "set must have 0 (open the -00001-of- file)", path, no);
    char prefix[4096];
    int pl = gguf_split_prefix(prefix, sizeof prefix, path, 0, (int)count);
    if (pl <= 0 || (size_t)pl >= sizeof prefix)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.count is %" PRId64 " but the file is not named "
                              "PREFIX-00001-of-%05" PRId64 ".gguf", path, count, count);
    if ((has_total = gguf__split_key(m0, "split.tensors.count", GGUF_KV_INT32, &total, err)) < 0) return has_total;
    if (!has_total)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split set without a split.tensors.count key", path);

    gguf__map *nf = realloc(f->files, (size_t)count * sizeof *nf);
    if (!nf) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "'%s': out of memory", path);
    f->files = nf;
    for (int64_t i = 1; i < count; i++) {
        char sp[4200];
        gguf_split_path(sp, sizeof sp, prefix, (int)i, (int)count);
        memset(&f->files[i], 0, sizeof f->files[i]);
        f->files[i].fd = -1;
        f->n_files = (uint32_t)i + 1;
        if (access(sp, F_OK)) {
            int e = errno;
            gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split file %" PRId64 " of %" PRId64 " is missing: %s", sp,
                           i + 1, count, strerror(e));
            if (err) err->sys_errno = e;
            return GGUF_E_SPLIT;
        }
        if ((rc = gguf__open_one(f, (uint32_t)i, sp, opts, err))) return rc;
        gguf__map *m = &f->files[i];
        int64_t c2 = 0, n2 = 0;
        if ((rc = gguf__split_key(m, "split.count", GGUF_KV_UINT16, &c2, err)) < 0) return rc;
        if (!rc)
            return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.count is missing (the first file says %"
                                  PRId64 ")", sp, count);
        if (c2 != count)
            return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.count is %" PRId64 ", the first file says %"
                                  PRId64, sp, c2, count);
        if ((rc = gguf__split_key(m, "split.no", GGUF_KV_UINT16, &n2, err)) < 0) return rc;
        if (!rc)
            return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.no is missing (expected %" PRId64 ")", sp, i);
        if (n2 != i)
            return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.no is %" PRId64 ", expected %" PRId64, sp,
                                  n2, i);
    }
    if (total != f->n_tensors)
        return gguf_error_set(err, GGUF_E_SPLIT, UINT64_MAX, "'%s': split.tensors.count is %" PRId64 " but the %" PRId64
                              " files hold %" PRId64 " tensors", path, total, count, f->n_tensors);
    return 0;
}

/* ---------------------------------------------------------------- open / close */

gguf_file *gguf_open(const char *path, gguf_error *err)
{
    return gguf_open_ex(path, NULL, err);
}

gguf_file *gguf_open_ex(const char *path, const gguf_open_opts *opts, gguf_error *err)
{
    gguf_error_clear(err);
    gguf_file *f = calloc(1, sizeof *f);
    if (f) f->files = calloc(1, sizeof *f->files);
    if (!f || !f->files || !(f->path = strdup(path))) {
        gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "'%s': out of memory", path);
        gguf_close(f);
        return NULL;
    }
    f->n_files = 1;
    f->files[0].fd = -1;
    int rc = gguf__open_one(f, 0, path, opts, err);
    if (!rc && !(opts && opts->no_split)) rc = gguf__open_split(f, path, opts, err);
    if (rc) {
        gguf_close(f);
        return NULL;
    }
    return f;
}

void gguf_close(gguf_file *f)
{
    if (!f) return;
    for (uint32_t i = 0; i < f->n_files; i++) gguf__map_free(&f->files[i]);
    free(f->files);
    for (int64_t i = 0; i < f->n_tensors; i++) free((char *)f->tensors[i].name);
    free(f->tensors);
    free(f->t_ht.slot);
    free(f->path);
    free(f);
}

/* ---------------------------------------------------------------- accessors */

const char *gguf_path(const gguf_file *f) { return f->path; }
uint32_t    gguf_version(const gguf_file *f) { return f->files[0].version; }
uint32_t    gguf_alignment(const gguf_file *f) { return f->files[0].alignment; }
uint64_t    gguf_data_offset(const gguf_file *f) { return f->files[0].data_offset; }
uint64_t    gguf_file_size(const gguf_file *f) { return f->files[0].size; }
uint32_t    gguf_n_files(const gguf_file *f) { return f->n_files; }

const char *gguf_file_path(const gguf_file *f, uint32_t i)
{
    assert(i < f->n_files);
    return f->files[i].path;
}

int64_t gguf_file_n_tensors(const gguf_file *f, uint32_t i)
{
    assert(i < f->n_files);
    return f->files[i].n_tensors;
}

int gguf_file_fd(const gguf_file *f, uint32_t i)
{
    assert(i < f->n_files);
    return f->files[i].fd;
}

int64_t gguf_n_kv(const gguf_file *f) { return f->files[0].n_kv; }

static const gguf__kv *gguf__kv_at(const gguf_file *f, int64_t i)
{
    assert(i >= 0 && i < f->files[0].n_kv);
    return &f->files[0].kvs[i];
}

const char *gguf_kv_key(const gguf_file *f, int64_t i) { return gguf__kv_at(f, i)->key; }

int64_t gguf_find_key(const gguf_file *f, const char *key)
{
    const gguf__map *m = &f->files[0];
    return gguf__ht_find(&m->kv_ht, key, gguf__kv_name, m->kvs);
}

gguf_kv_type gguf_kv_get_type(const gguf_file *f, int64_t i) { return (gguf_kv_type)gguf__kv_at(f, i)->type; }

void gguf_kv_raw(const gguf_file *f, int64_t i, const void **ptr, uint64_t *len)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    *ptr = kv->raw;
    *len = kv->raw_len;
}

static const uint8_t *gguf__val(const gguf_file *f, int64_t i, int type)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    assert(kv->type == type);
    (void)type;
    return kv->raw;
}

uint8_t  gguf_kv_u8  (const gguf_file *f, int64_t i) { return *gguf__val(f, i, GGUF_KV_UINT8); }
int8_t   gguf_kv_i8  (const gguf_file *f, int64_t i) { return (int8_t)*gguf__val(f, i, GGUF_KV_INT8); }
uint16_t gguf_kv_u16 (const gguf_file *f, int64_t i) { return gguf__ld16(gguf__val(f, i, GGUF_KV_UINT16)); }
int16_t  gguf_kv_i16 (const gguf_file *f, int64_t i) { return (int16_t)gguf__ld16(gguf__val(f, i, GGUF_KV_INT16)); }
uint32_t gguf_kv_u32 (const gguf_file *f, int64_t i) { return gguf__ld32(gguf__val(f, i, GGUF_KV_UINT32)); }
int32_t  gguf_kv_i32 (const gguf_file *f, int64_t i) { return (int32_t)gguf__ld32(gguf__val(f, i, GGUF_KV_INT32)); }
uint64_t gguf_kv_u64 (const gguf_file *f, int64_t i) { return gguf__ld64(gguf__val(f, i, GGUF_KV_UINT64)); }
int64_t  gguf_kv_i64 (const gguf_file *f, int64_t i) { return (int64_t)gguf__ld64(gguf__val(f, i, GGUF_KV_INT64)); }
bool     gguf_kv_bool(const gguf_file *f, int64_t i) { return *gguf__val(f, i, GGUF_KV_BOOL) != 0; }

float gguf_kv_f32(const gguf_file *f, int64_t i)
{
    float v;
    memcpy(&v, gguf__val(f, i, GGUF_KV_FLOAT32), 4);
    return v;
}

double gguf_kv_f64(const gguf_file *f, int64_t i)
{
    double v;
    memcpy(&v, gguf__val(f, i, GGUF_KV_FLOAT64), 8);
    return v;
}

gguf_str gguf_kv_str(const gguf_file *f, int64_t i)
{
    const uint8_t *p = gguf__val(f, i, GGUF_KV_STRING);
    gguf_str s = { (const char *)p + 8, gguf__ld64(p) };
    return s;
}

gguf_kv_type gguf_kv_arr_type(const gguf_file *f, int64_t i)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    assert(kv->type == GGUF_KV_ARRAY);
    return (gguf_kv_type)kv->arr_type;
}

uint64_t gguf_kv_arr_n(const gguf_file *f, int64_t i)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    assert(kv->type == GGUF_KV_ARRAY);
    return kv->arr_n;
}

const void *gguf_kv_arr_data(const gguf_file *f, int64_t i)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    assert(kv->type == GGUF_KV_ARRAY);
    return kv->arr_type == GGUF_KV_STRING ? NULL : kv->arr_data;
}

gguf_str gguf_kv_arr_str(const gguf_file *f, int64_t i, uint64_t j)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    assert(kv->type == GGUF_KV_ARRAY && kv->arr_type == GGUF_KV_STRING && j < kv->arr_n);
    const uint8_t *p = kv->arr_data + kv->str_off[j];
    gguf_str s = { (const char *)p + 8, gguf__ld64(p) };
    return s;
}

/* ---------------------------------------------------------------- lookups by key */

static int64_t gguf__lookup(const gguf_file *f, const char *key, gguf_error *err)
{
    int64_t i = gguf_find_key(f, key);
    if (i < 0) gguf_error_set(err, GGUF_E_NOT_FOUND, UINT64_MAX, "'%s': key '%s' not found", f->path, key);
    return i;
}

static int gguf__wrong(const gguf_file *f, int64_t i, const char *want, gguf_error *err)
{
    const gguf__kv *kv = gguf__kv_at(f, i);
    return gguf_error_set(err, GGUF_E_WRONG_TYPE, kv->off, "'%s': offset %" PRIu64 ": key '%s' has type %s, expected %s",
                          f->path, kv->off, kv->key, gguf_kv_type_name(kv->type), want);
}

int gguf_get_int(const gguf_file *f, const char *key, int64_t *out, gguf_error *err)
{
    int64_t i = gguf__lookup(f, key, err);
    if (i < 0) return GGUF_E_NOT_FOUND;
    switch (gguf_kv_get_type(f, i)) {
    case GGUF_KV_UINT8:  *out = gguf_kv_u8(f, i); return 0;
    case GGUF_KV_INT8:   *out = gguf_kv_i8(f, i); return 0;
    case GGUF_KV_UINT16: *out = gguf_kv_u16(f, i); return 0;
    case GGUF_KV_INT16:  *out = gguf_kv_i16(f, i); return 0;
    case GGUF_KV_UINT32: *out = gguf_kv_u32(f, i); return 0;
    case GGUF_KV_INT32:  *out = gguf_kv_i32(f, i); return 0;
    case GGUF_KV_INT64:  *out = gguf_kv_i64(f, i); return 0;
    case GGUF_KV_UINT64: {
        uint64_t v = gguf_kv_u64(f, i);
        if (v > INT64_MAX) return gguf__wrong(f, i, "an integer below 2^63", err);
        *out = (int64_t)v;
        return 0;
    }
    default: return gguf__wrong(f, i, "an integer", err);
    }
}

int gguf_get_float(const gguf_file *f, const char *key, double *out, gguf_error *err)
{
    int64_t i = gguf__lookup(f, key, err);
    if (i < 0) return GGUF_E_NOT_FOUND;
    switch (gguf_kv_get_type(f, i)) {
    case GGUF_KV_FLOAT32: *out = gguf_kv_f32(f, i); return 0;
    case GGUF_KV_FLOAT64: *out = gguf_kv_f64(f, i); return 0;
    default: return gguf__wrong(f, i, "a float", err);
    }
}

int gguf_get_bool(const gguf_file *f, const char *key, bool *out, gguf_error *err)
{
    int64_t i = gguf__lookup(f, key, err);
    if (i < 0) return GGUF_E_NOT_FOUND;
    if (gguf_kv_get_type(f, i) != GGUF_KV_BOOL) return gguf__wrong(f, i, "bool", err);
    *out = gguf_kv_bool(f, i);
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, gguf_error *err)
{
    int64_t i = gguf__lookup(f, key, err);
    if (i < 0) return GGUF_E_NOT_FOUND;
    if (gguf_kv_get_type(f, i) != GGUF_KV_STRING) return gguf__wrong(f, i, "str", err);
    *out = gguf_kv_str(f, i);
    return 0;
}

/* ---------------------------------------------------------------- tensors */

int64_t gguf_n_tensors(const gguf_file *f) { return f->n_tensors; }

const gguf_tensor_info *gguf_tensor(const gguf_file *f, int64_t i)
{
    assert(i >= 0 && i < f->n_tensors);
    return &f->tensors[i];
}

int64_t gguf_find_tensor(const gguf_file *f, const char *name)
{
    return gguf__ht_find(&f->t_ht, name, gguf__t_name, f->tensors);
}

void gguf_release(const gguf_file *f, const gguf_tensor_info *t)
{
    if (!f || !t || t->file_index >= f->n_files) return;
    const gguf__map *m = &f->files[t->file_index];
    if (!m->map || t->file_offset > m->size) return;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t end = t->size > m->size - t->file_offset ? m->size : t->file_offset + t->size;
    uint64_t a = gguf__pad(t->file_offset, page), b = end & ~(page - 1);
    if (b > a) madvise(m->map + a, b - a, MADV_DONTNEED);
}

int gguf_check_unchanged(const gguf_file *f, gguf_error *err)
{
    for (uint32_t i = 0; i < f->n_files; i++) {
        struct stat st;
        const gguf__map *m = &f->files[i];
        memset(&st, 0, sizeof st);
        if (fstat(m->fd, &st) || (uint64_t)st.st_size != m->size)
            return gguf_error_set(err, GGUF_E_CHANGED, UINT64_MAX, "'%s': file changed size while in use (%" PRIu64
                                  " bytes at open, now %lld)", m->path, m->size, (long long)st.st_size);
        if (st.st_mtim.tv_sec != m->mtime.tv_sec || st.st_mtim.tv_nsec != m->mtime.tv_nsec)
            return gguf_error_set(err, GGUF_E_CHANGED, UINT64_MAX,
                                  "'%s': file was modified while in use (its mtime changed)", m->path);
    }
    return 0;
}
