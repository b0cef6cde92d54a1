/*
 * gguf_write.c - the streaming GGUF v3 writer.
 *
 * Life of a writer: open (creates "<path>.tmp", O_TRUNC replaces a stale one) -> KVs and
 * tensor infos, held in memory, offsets assigned as tensors are added -> begin_data writes
 * header, KVs, infos and zero padding to 32 -> tensor bytes streamed through a 4 MiB buffer
 * (or copy_file_range from another fd), zero padding to 32 after every tensor, the last one
 * included -> finish: flush, fsync, rename to the final name, fsync the directory. Any
 * failure removes the temp file, so nothing partial ever sits under the final name.
 *
 * Errors: every call records its outcome in the writer's gguf_error (gguf_writer_error).
 * I/O and out-of-memory errors are sticky: every later call returns the same code, and
 * finish removes the temp file and reports it. Validation errors (duplicate key, bad tensor
 * shape, misuse) are returned and recorded but leave the writer usable.
 *
 * Test hook (fault injection): if the environment variable GGUF_FAULT_WRITE_AFTER=N (a
 * decimal byte count) is set when gguf_writer_open() runs, that writer's write path fails
 * with ENOSPC as soon as N bytes have been written to the temp file (the first N bytes are
 * written, then the write returns the error). copy_file_range is not used while the hook is
 * active, so every byte goes through the counted path. Meant for tests of the
 * "no partial output" rule; it costs nothing when the variable is unset.
 * A second hook, GGUF_FAULT_WRITE_DELAY_MS=N, sleeps N ms before every write to the temp file
 * (copy_file_range is then not used either), so tests can interrupt a tool reliably while its
 * temp file is half written (SIGINT, SIGKILL).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf_internal.h"

#define GGUF__WBUF (4u << 20)
#define GGUF__WALIGN GGUF_DEFAULT_ALIGNMENT

typedef struct gguf__wkv {
    char    *key;
    int      type;
    uint8_t *val;    /* serialized value bytes (what follows the type field) */
    uint64_t len;
} gguf__wkv;

typedef struct gguf__wt {
    char    *name;
    uint32_t n_dims;
    int64_t  ne[GGUF_MAX_DIMS];
    int      type;
    uint64_t offset, size;
} gguf__wt;

enum { GGUF__W_META, GGUF__W_DATA };

struct gguf_writer {
    char      *path, *tmp;
    int        fd;
    unsigned   flags;
    int        phase;
    gguf__wkv *kvs;
    int64_t    n_kv, cap_kv;
    gguf__wt  *ts;
    int64_t    n_t, cap_t;
    uint64_t   data_size;     /* sum of PAD(size, 32) */
    int64_t    cur;           /* tensor being written */
    uint64_t   cur_written;
    uint8_t   *buf;
    size_t     buf_n;
    uint64_t   written;       /* bytes handed to the kernel */
    bool       fault;
    uint64_t   fault_after;
    unsigned   delay_ms;
    int        sticky;
    gguf_error err;
};

/* ---------------------------------------------------------------- low level output */

static int gguf__w_ioerr(gguf_writer *w, int e, const char *what)
{
    gguf_error_set(&w->err, GGUF_E_IO, w->written, "'%s': %s failed at offset %" PRIu64 ": %s", w->path, what,
                   w->written, strerror(e));
    w->err.sys_errno = e;
    w->sticky = GGUF_E_IO;
    return GGUF_E_IO;
}

static int gguf__w_sys(gguf_writer *w, const uint8_t *p, size_t n)
{
    if (w->delay_ms) usleep(w->delay_ms * 1000u);
    while (n) {
        size_t chunk = n;
        bool inject = false;
        if (w->fault) {
            uint64_t room = w->fault_after > w->written ? w->fault_after - w->written : 0;
            if (chunk > room) { chunk = (size_t)room; inject = true; }
        }
        if (chunk == 0 && inject) return gguf__w_ioerr(w, ENOSPC, "write");
        ssize_t r = write(w->fd, p, chunk);
        if (r < 0) {
            if (errno == EINTR) continue;
            return gguf__w_ioerr(w, errno, "write");
        }
        w->written += (uint64_t)r;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int gguf__w_flush(gguf_writer *w)
{
    if (!w->buf_n) return 0;
    int rc = gguf__w_sys(w, w->buf, w->buf_n);
    w->buf_n = 0;
    return rc;
}

static int gguf__w_put(gguf_writer *w, const void *src, size_t n)
{
    const uint8_t *p = src;
    if (n >= GGUF__WBUF) {
        /* a large chunk goes straight to the kernel, saving the copy into the buffer */
        int rc = gguf__w_flush(w);
        return rc ? rc : gguf__w_sys(w, p, n);
    }
    while (n) {
        size_t c = GGUF__WBUF - w->buf_n;
        if (c > n) c = n;
        memcpy(w->buf + w->buf_n, p, c);
        w->buf_n += c;
        p += c;
        n -= c;
        if (w->buf_n == GGUF__WBUF) {
            int rc = gguf__w_flush(w);
            if (rc) return rc;
        }
    }
    return 0;
}

static int gguf__w_zeros(gguf_writer *w, size_t n)
{
    static const uint8_t z[GGUF__WALIGN];
    return gguf__w_put(w, z, n);
}

static int gguf__w_u32(gguf_writer *w, uint32_t v) { return gguf__w_put(w, &v, 4); }
static int gguf__w_u64(gguf_writer *w, uint64_t v) { return gguf__w_put(w, &v, 8); }

/* ---------------------------------------------------------------- open / errors */

static void gguf__w_free(gguf_writer *w)
{
    for (int64_t i = 0; i < w->n_kv; i++) { free(w->kvs[i].key); free(w->kvs[i].val); }
    for (int64_t i = 0; i < w->n_t; i++) free(w->ts[i].name);
    free(w->kvs);
    free(w->ts);
    free(w->buf);
    free(w->path);
    free(w->tmp);
    free(w);
}

gguf_writer *gguf_writer_open(const char *path, unsigned flags, gguf_error *err)
{
    gguf_error_clear(err);
    struct stat st;
    if (!(flags & GGUF_W_FORCE) && stat(path, &st) == 0) {
        gguf_error_set(err, GGUF_E_EXISTS, UINT64_MAX, "'%s': output file exists", path);
        return NULL;
    }
    gguf_writer *w = calloc(1, sizeof *w);
    size_t n = strlen(path);
    if (!w || !(w->path = strdup(path)) || !(w->tmp = malloc(n + 5)) || !(w->buf = malloc(GGUF__WBUF))) {
        if (w) gguf__w_free(w);
        gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "'%s': out of memory", path);
        return NULL;
    }
    memcpy(w->tmp, path, n);
    memcpy(w->tmp + n, ".tmp", 5);
    w->flags = flags;
    gguf_error_clear(&w->err);
    const char *fa = getenv("GGUF_FAULT_WRITE_AFTER");
    if (fa && *fa) {
        w->fault = true;
        w->fault_after = strtoull(fa, NULL, 10);
    }
    const char *fd_ = getenv("GGUF_FAULT_WRITE_DELAY_MS");
    if (fd_ && *fd_) w->delay_ms = (unsigned)strtoul(fd_, NULL, 10);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot create '%s': %s", w->tmp, strerror(e));
        if (err) err->sys_errno = e;
        gguf__w_free(w);
        return NULL;
    }
    return w;
}

const char *gguf_writer_tmp_path(const gguf_writer *w) { return w->tmp; }
const gguf_error *gguf_writer_error(const gguf_writer *w) { return &w->err; }

/* Start of every call: a sticky error short-circuits, otherwise the last error is cleared. */
static int gguf__w_enter(gguf_writer *w)
{
    if (w->sticky) return w->sticky;
    gguf_error_clear(&w->err);
    return 0;
}

__attribute__((format(printf, 3, 4)))
static int gguf__w_fail(gguf_writer *w, int code, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    gguf_error_set(&w->err, code, UINT64_MAX, "'%s': %s", w->path, what);
    if (code == GGUF_E_NOMEM) w->sticky = code;
    return code;
}

/* ---------------------------------------------------------------- metadata */

static int64_t gguf__w_find_kv(const gguf_writer *w, const char *key)
{
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kvs[i].key, key)) return i;
    return -1;
}

/* Add a KV whose value bytes are built by the caller: takes ownership of val on success and
 * on failure alike. */
static int gguf__w_add(gguf_writer *w, const char *key, int type, uint8_t *val, uint64_t len)
{
    int rc = gguf__w_enter(w);
    if (!rc && w->phase != GGUF__W_META) rc = gguf__w_fail(w, GGUF_E_USAGE, "KV added after begin_data, key '%s'", key ? key : "");
    if (!rc && (!key || !*key)) rc = gguf__w_fail(w, GGUF_E_KEY, "empty key");
    if (!rc && gguf__w_find_kv(w, key) >= 0) rc = gguf__w_fail(w, GGUF_E_DUP_KEY, "duplicate key '%s'", key);
    if (!rc && !val && len) rc = gguf__w_fail(w, GGUF_E_NOMEM, "out of memory, key '%s'", key);
    if (!rc && !strcmp(key, "general.alignment") && (type != GGUF_KV_UINT32 || gguf__ld32(val) != GGUF__WALIGN))
        rc = gguf__w_fail(w, GGUF_E_ALIGNMENT, "the writer lays data out with alignment %d, key '%s' would disagree",
                          GGUF__WALIGN, key);
    if (!rc && w->n_kv == w->cap_kv) {
        int64_t nc = w->cap_kv ? w->cap_kv * 2 : 32;
        gguf__wkv *nk = realloc(w->kvs, (size_t)nc * sizeof *nk);
        if (!nk) rc = gguf__w_fail(w, GGUF_E_NOMEM, "out of memory, key '%s'", key);
        else { w->kvs = nk; w->cap_kv = nc; }
    }
    char *k = rc ? NULL : strdup(key);
    if (!rc && !k) rc = gguf__w_fail(w, GGUF_E_NOMEM, "out of memory, key '%s'", key);
    if (rc) {
        free(val);
        return rc;
    }
    w->kvs[w->n_kv++] = (gguf__wkv){ k, type, val, len };
    return 0;
}

static int gguf__w_fixed(gguf_writer *w, const char *key, int type, const void *v)
{
    size_t n = gguf_kv_type_size(type);
    uint8_t *val = malloc(n);
    if (val) memcpy(val, v, n);
    return gguf__w_add(w, key, type, val, n);
}

int gguf_writer_kv_u8  (gguf_writer *w, const char *key, uint8_t v)  { return gguf__w_fixed(w, key, GGUF_KV_UINT8, &v); }
int gguf_writer_kv_i8  (gguf_writer *w, const char *key, int8_t v)   { return gguf__w_fixed(w, key, GGUF_KV_INT8, &v); }
int gguf_writer_kv_u16 (gguf_writer *w, const char *key, uint16_t v) { return gguf__w_fixed(w, key, GGUF_KV_UINT16, &v); }
int gguf_writer_kv_i16 (gguf_writer *w, const char *key, int16_t v)  { return gguf__w_fixed(w, key, GGUF_KV_INT16, &v); }
int gguf_writer_kv_u32 (gguf_writer *w, const char *key, uint32_t v) { return gguf__w_fixed(w, key, GGUF_KV_UINT32, &v); }
int gguf_writer_kv_i32 (gguf_writer *w, const char *key, int32_t v)  { return gguf__w_fixed(w, key, GGUF_KV_INT32, &v); }
int gguf_writer_kv_u64 (gguf_writer *w, const char *key, uint64_t v) { return gguf__w_fixed(w, key, GGUF_KV_UINT64, &v); }
int gguf_writer_kv_i64 (gguf_writer *w, const char *key, int64_t v)  { return gguf__w_fixed(w, key, GGUF_KV_INT64, &v); }
int gguf_writer_kv_f32 (gguf_writer *w, const char *key, float v)    { return gguf__w_fixed(w, key, GGUF_KV_FLOAT32, &v); }
int gguf_writer_kv_f64 (gguf_writer *w, const char *key, double v)   { return gguf__w_fixed(w, key, GGUF_KV_FLOAT64, &v); }

int gguf_writer_kv_bool(gguf_writer *w, const char *key, bool v)
{
    uint8_t b = v ? 1 : 0;
    return gguf__w_fixed(w, key, GGUF_KV_BOOL, &b);
}

int gguf_writer_kv_str(gguf_writer *w, const char *key, const char *s, uint64_t len)
{
    if (!s && len) return gguf__w_fail(w, GGUF_E_USAGE, "NULL string of length %" PRIu64 ", key '%s'", len, key ? key : "");
    if (len > SIZE_MAX - 8) return gguf__w_fail(w, GGUF_E_NOMEM, "string too long, key '%s'", key ? key : "");
    uint8_t *val = malloc(8 + len);
    if (val) {
        memcpy(val, &len, 8);
        if (len) memcpy(val + 8, s, len);
    }
    return gguf__w_add(w, key, GGUF_KV_STRING, val, 8 + len);
}

int gguf_writer_kv_arr(gguf_writer *w, const char *key, gguf_kv_type t, const void *data, uint64_t n)
{
    size_t esz = gguf_kv_type_size(t);
    if (!esz) return gguf__w_fail(w, GGUF_E_KV_TYPE, "array element type %d is not a fixed-size type, key '%s'", (int)t,
                                  key ? key : "");
    if (n > (SIZE_MAX - 12) / esz) return gguf__w_fail(w, GGUF_E_NOMEM, "array too long, key '%s'", key ? key : "");
    if (!data && n) return gguf__w_fail(w, GGUF_E_USAGE, "NULL data for %" PRIu64 " elements, key '%s'", n, key ? key : "");
    uint64_t len = 12 + n * esz;
    uint8_t *val = malloc(len);
    if (val) {
        uint32_t et = (uint32_t)t;
        memcpy(val, &et, 4);
        memcpy(val + 4, &n, 8);
        if (n) memcpy(val + 12, data, n * esz);
    }
    return gguf__w_add(w, key, GGUF_KV_ARRAY, val, len);
}

int gguf_writer_kv_arr_str(gguf_writer *w, const char *key, const gguf_str *strs, uint64_t n)
{
    uint64_t len = 12;
    if (!strs && n) return gguf__w_fail(w, GGUF_E_USAGE, "NULL strings for %" PRIu64 " elements, key '%s'", n, key ? key : "");
    for (uint64_t j = 0; j < n; j++) {
        if (!strs[j].ptr && strs[j].len)
            return gguf__w_fail(w, GGUF_E_USAGE, "NULL string %" PRIu64 ", key '%s'", j, key ? key : "");
        if (strs[j].len > UINT64_MAX - 8 || __builtin_add_overflow(len, 8 + strs[j].len, &len) || len > SIZE_MAX)
            return gguf__w_fail(w, GGUF_E_NOMEM, "string array too long, key '%s'", key ? key : "");
    }
    uint8_t *val = malloc(len);
    if (val) {
        uint32_t et = GGUF_KV_STRING;
        memcpy(val, &et, 4);
        memcpy(val + 4, &n, 8);
        uint8_t *p = val + 12;
        for (uint64_t j = 0; j < n; j++) {
            memcpy(p, &strs[j].len, 8);
            if (strs[j].len) memcpy(p + 8, strs[j].ptr, strs[j].len);
            p += 8 + strs[j].len;
        }
    }
    return gguf__w_add(w, key, GGUF_KV_ARRAY, val, len);
}

int gguf_writer_kv_copy(gguf_writer *w, const gguf_file *src, int64_t i)
{
    const void *p;
    uint64_t len;
    gguf_kv_raw(src, i, &p, &len);
    if (len > SIZE_MAX) return gguf__w_fail(w, GGUF_E_NOMEM, "value too long, key '%s'", gguf_kv_key(src, i));
    uint8_t *val = malloc(len ? len : 1);
    if (val) memcpy(val, p, len);
    return gguf__w_add(w, gguf_kv_key(src, i), gguf_kv_get_type(src, i), val, len);
}

int64_t gguf_writer_n_kv(const gguf_writer *w) { return w->n_kv; }

int gguf_writer_kv_remove(gguf_writer *w, const char *key)
{
    int rc = gguf__w_enter(w);
    if (rc) return rc;
    if (w->phase != GGUF__W_META) return gguf__w_fail(w, GGUF_E_USAGE, "KV removed after begin_data, key '%s'", key);
    int64_t i = gguf__w_find_kv(w, key);
    if (i < 0) return gguf__w_fail(w, GGUF_E_NOT_FOUND, "key '%s' not found", key);
    free(w->kvs[i].key);
    free(w->kvs[i].val);
    memmove(&w->kvs[i], &w->kvs[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kvs);
    w->n_kv--;
    return 0;
}

/* ---------------------------------------------------------------- tensor infos */

int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t n_dims, const int64_t ne[GGUF_MAX_DIMS], int type)
{
    int rc = gguf__w_enter(w);
    if (rc) return rc;
    if (w->phase != GGUF__W_META) return gguf__w_fail(w, GGUF_E_USAGE, "tensor added after begin_data, tensor '%s'", name);
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0) return gguf__w_fail(w, GGUF_E_NAME, "empty tensor name");
    if (nl >= GGUF_MAX_NAME)
        return gguf__w_fail(w, GGUF_E_NAME, "tensor name of %zu bytes (the limit is %d), tensor '%s'", nl, GGUF_MAX_NAME - 1,
                            name);
    for (int64_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->ts[i].name, name)) return gguf__w_fail(w, GGUF_E_DUP_TENSOR, "duplicate tensor '%s'", name);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return gguf__w_fail(w, GGUF_E_DIMS, "n_dims %" PRIu32 " not in 1..%d, tensor '%s'", n_dims, GGUF_MAX_DIMS, name);
    if (!gguf_type_valid(type)) return gguf__w_fail(w, GGUF_E_TYPE, "unknown tensor type %d, tensor '%s'", type, name);
    for (uint32_t d = 0; d < n_dims; d++)
        if (ne[d] < 0) return gguf__w_fail(w, GGUF_E_SHAPE, "ne[%" PRIu32 "] is negative, tensor '%s'", d, name);
    bool ovf;
    uint64_t size = gguf_tensor_bytes(type, ne, n_dims, &ovf);
    if (ovf) return gguf__w_fail(w, GGUF_E_SHAPE, "element count overflows, tensor '%s'", name);
    if (ne[0] % gguf_type_block_elems(type))
        return gguf__w_fail(w, GGUF_E_BLOCK, "ne[0] = %" PRId64 " is not a multiple of the %s block size %" PRIu32
                            ", tensor '%s'", ne[0], gguf_type_name(type), gguf_type_block_elems(type), name);
    uint64_t next;
    if (size > UINT64_MAX - GGUF__WALIGN || __builtin_add_overflow(w->data_size, gguf__pad(size, GGUF__WALIGN), &next))
        return gguf__w_fail(w, GGUF_E_SHAPE, "total data size overflows, tensor '%s'", name);
    if (w->n_t == w->cap_t) {
        int64_t nc = w->cap_t ? w->cap_t * 2 : 64;
        gguf__wt *nt = realloc(w->ts, (size_t)nc * sizeof *nt);
        if (!nt) return gguf__w_fail(w, GGUF_E_NOMEM, "out of memory, tensor '%s'", name);
        w->ts = nt;
        w->cap_t = nc;
    }
    gguf__wt *t = &w->ts[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return gguf__w_fail(w, GGUF_E_NOMEM, "out of memory, tensor '%s'", name);
    t->n_dims = n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = (uint32_t)d < n_dims ? ne[d] : 1;
    t->type = type;
    t->offset = w->data_size;
    t->size = size;
    w->data_size = next;
    w->n_t++;
    return 0;
}

static uint64_t gguf__w_meta_size(const gguf_writer *w)
{
    uint64_t n = 24;
    for (int64_t i = 0; i < w->n_kv; i++) n += 8 + strlen(w->kvs[i].key) + 4 + w->kvs[i].len;
    for (int64_t i = 0; i < w->n_t; i++) n += 8 + strlen(w->ts[i].name) + 4 + 8ull * w->ts[i].n_dims + 4 + 8;
    return gguf__pad(n, GGUF__WALIGN);
}

uint64_t gguf_writer_total_size(const gguf_writer *w) { return gguf__w_meta_size(w) + w->data_size; }

/* ---------------------------------------------------------------- data */

int gguf_writer_begin_data(gguf_writer *w)
{
    int rc = gguf__w_enter(w);
    if (rc) return rc;
    if (w->phase != GGUF__W_META) return gguf__w_fail(w, GGUF_E_USAGE, "begin_data called twice");
    w->phase = GGUF__W_DATA;
    w->cur = 0;
    w->cur_written = 0;
    if ((rc = gguf__w_put(w, "GGUF", 4)) || (rc = gguf__w_u32(w, GGUF_VERSION)) ||
        (rc = gguf__w_u64(w, (uint64_t)w->n_t)) || (rc = gguf__w_u64(w, (uint64_t)w->n_kv)))
        return rc;
    for (int64_t i = 0; i < w->n_kv; i++) {
        const gguf__wkv *kv = &w->kvs[i];
        size_t kl = strlen(kv->key);
        if ((rc = gguf__w_u64(w, kl)) || (rc = gguf__w_put(w, kv->key, kl)) || (rc = gguf__w_u32(w, (uint32_t)kv->type)) ||
            (rc = gguf__w_put(w, kv->val, kv->len)))
            return rc;
    }
    for (int64_t i = 0; i < w->n_t; i++) {
        const gguf__wt *t = &w->ts[i];
        size_t nl = strlen(t->name);
        if ((rc = gguf__w_u64(w, nl)) || (rc = gguf__w_put(w, t->name, nl)) || (rc = gguf__w_u32(w, t->n_dims)) ||
            (rc = gguf__w_put(w, t->ne, 8ull * t->n_dims)) || (rc = gguf__w_u32(w, (uint32_t)t->type)) ||
            (rc = gguf__w_u64(w, t->offset)))
            return rc;
    }
    uint64_t pos = w->written + w->buf_n;
    return gguf__w_zeros(w, gguf__pad(pos, GGUF__WALIGN) - pos);
}

/* Common checks of write/copy_fd: n more bytes for the current tensor. */
static int gguf__w_room(gguf_writer *w, uint64_t n)
{
    int rc = gguf__w_enter(w);
    if (rc) return rc;
    if (w->phase != GGUF__W_DATA) return gguf__w_fail(w, GGUF_E_USAGE, "tensor data written before begin_data");
    if (w->cur >= w->n_t) return gguf__w_fail(w, GGUF_E_USAGE, "tensor data written after the last tensor");
    const gguf__wt *t = &w->ts[w->cur];
    if (n > t->size - w->cur_written)
        return gguf__w_fail(w, GGUF_E_USAGE, "%" PRIu64 " bytes written past the %" PRIu64 " bytes of tensor '%s'",
                            n - (t->size - w->cur_written), t->size, t->name);
    return 0;
}

int gguf_writer_write(gguf_writer *w, const void *buf, size_t n)
{
    int rc = gguf__w_room(w, n);
    if (rc) return rc;
    if ((rc = gguf__w_put(w, buf, n))) return rc;
    w->cur_written += n;
    return 0;
}

/* Copy from fd through a 256 KiB pipe with splice(2), for copy_fd when the source offset and the
 * output position differ modulo the page size (every split shard and every merge). Through
 * copy_file_range's 64 KiB internal pipe such a copy costs ~40% more kernel time than an aligned
 * one on ext4 (Linux 6.18: every batch ends in a partial output page); a 256 KiB pipe brings it
 * to cp's cost (bench/split.sh: 2.1 GB, sys 0.7-0.8 s like cp, was 1.0-1.1 s). 1 MiB was worse
 * again when the source was itself written this way (large page-cache folios). Advances *off and
 * *n past what was copied. Returns 0 when done, 1 when splice cannot be used here (the pipe is
 * then empty: the caller carries on from *off its own way, which also reports a short source),
 * or a negative status on an output error. */
static int gguf__w_splice(gguf_writer *w, int fd, uint64_t *off, uint64_t *n)
{
    enum { PIPE = 1 << 18 };
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return 1;
    int rc = 1;
    if (fcntl(p[1], F_SETPIPE_SZ, PIPE) < PIPE) goto out;
    while (*n) {
        loff_t o = (loff_t)*off;
        ssize_t r = splice(fd, &o, p[1], NULL, *n > PIPE ? PIPE : (size_t)*n, SPLICE_F_MOVE);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) goto out; /* source ended or cannot splice: the caller's path reports or copies */
        for (ssize_t left = r; left > 0;) {
            ssize_t m = splice(p[0], NULL, w->fd, NULL, (size_t)left, SPLICE_F_MOVE);
            if (m < 0 && errno == EINTR) continue;
            if (m <= 0) {
                rc = gguf__w_ioerr(w, m < 0 ? errno : EIO, "copy");
                goto out;
            }
            left -= m;
            w->written += (uint64_t)m;
            w->cur_written += (uint64_t)m;
        }
        *off += (uint64_t)r;
        *n -= (uint64_t)r;
    }
    rc = 0;
out:
    close(p[0]);
    close(p[1]);
    return rc;
}

int gguf_writer_copy_fd(gguf_writer *w, int fd, uint64_t off, uint64_t n)
{
    int rc = gguf__w_room(w, n);
    if (rc) return rc;
    if ((rc = gguf__w_flush(w))) return rc;
    bool use_cfr = !w->fault && !w->delay_ms;
    if (use_cfr && n >= (1u << 20) && (off - w->written) % 4096 != 0) {
        rc = gguf__w_splice(w, fd, &off, &n);
        if (rc <= 0) return rc;
    }
    while (n) {
        if (use_cfr) {
            loff_t o = (loff_t)off;
            size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
            ssize_t r = copy_file_range(fd, &o, w->fd, NULL, chunk, 0);
            if (r > 0) {
                off += (uint64_t)r;
                n -= (uint64_t)r;
                w->written += (uint64_t)r;
                w->cur_written += (uint64_t)r;
                continue;
            }
            if (r == 0) return gguf__w_fail(w, GGUF_E_IO, "source ends early at offset %" PRIu64 ", tensor '%s'", off,
                                            w->ts[w->cur].name);
            if (errno == EINTR) continue;
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF ||
                errno == EPERM || errno == ETXTBSY) {
                use_cfr = false;
                continue;
            }
            return gguf__w_ioerr(w, errno, "copy");
        }
        size_t chunk = n > GGUF__WBUF ? GGUF__WBUF : (size_t)n;
        ssize_t r = pread(fd, w->buf, chunk, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return gguf__w_ioerr(w, errno, "read of the source");
        if (r == 0) return gguf__w_fail(w, GGUF_E_IO, "source ends early at offset %" PRIu64 ", tensor '%s'", off,
                                        w->ts[w->cur].name);
        w->buf_n = (size_t)r;
        if ((rc = gguf__w_flush(w))) return rc;
        off += (uint64_t)r;
        n -= (uint64_t)r;
        w->cur_written += (uint64_t)r;
    }
    return 0;
}

int gguf_writer_end_tensor(gguf_writer *w)
{
    int rc = gguf__w_enter(w);
    if (rc) return rc;
    if (w->phase != GGUF__W_DATA) return gguf__w_fail(w, GGUF_E_USAGE, "end_tensor before begin_data");
    if (w->cur >= w->n_t) return gguf__w_fail(w, GGUF_E_USAGE, "end_tensor after the last tensor");
    const gguf__wt *t = &w->ts[w->cur];
    if (w->cur_written != t->size)
        return gguf__w_fail(w, GGUF_E_USAGE, "tensor '%s' ended after %" PRIu64 " of its %" PRIu64 " bytes", t->name,
                            w->cur_written, t->size);
    if ((rc = gguf__w_zeros(w, gguf__pad(t->size, GGUF__WALIGN) - t->size))) return rc;
    w->cur++;
    w->cur_written = 0;
    return 0;
}

int gguf_writer_tensor(gguf_writer *w, const void *buf, size_t n)
{
    int rc = gguf_writer_write(w, buf, n);
    return rc ? rc : gguf_writer_end_tensor(w);
}

/* ---------------------------------------------------------------- finish / abort */

static int gguf__w_sync_dir(gguf_writer *w)
{
    char *copy = strdup(w->path);
    if (!copy) return gguf__w_fail(w, GGUF_E_NOMEM, "out of memory");
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (dfd < 0) return gguf__w_ioerr(w, errno, "open of the directory");
    int rc = fsync(dfd) && errno != EINVAL ? gguf__w_ioerr(w, errno, "fsync of the directory") : 0;
    close(dfd);
    return rc;
}

int gguf_writer_finish(gguf_writer *w, gguf_error *err)
{
    int rc = gguf__w_enter(w);
    if (!rc && w->phase == GGUF__W_META) rc = gguf_writer_begin_data(w);
    if (!rc && w->cur != w->n_t)
        rc = gguf__w_fail(w, GGUF_E_USAGE, "finish with tensor '%s' not written (%" PRId64 " of %" PRId64 " complete)",
                          w->ts[w->cur].name, w->cur, w->n_t);
    if (!rc) rc = gguf__w_flush(w);
    if (!rc && !(w->flags & GGUF_W_NOSYNC) && fsync(w->fd)) rc = gguf__w_ioerr(w, errno, "fsync");
    if (w->fd >= 0 && close(w->fd) && !rc) rc = gguf__w_ioerr(w, errno, "close");
    w->fd = -1;
    if (!rc) {
        int r;
        if (w->flags & GGUF_W_FORCE) {
            r = rename(w->tmp, w->path);
        } else {
            r = renameat2(AT_FDCWD, w->tmp, AT_FDCWD, w->path, RENAME_NOREPLACE);
            if (r && (errno == EINVAL || errno == ENOSYS)) {
                struct stat st;
                if (stat(w->path, &st) == 0) { r = -1; errno = EEXIST; }
                else r = rename(w->tmp, w->path);
            }
        }
        if (r && errno == EEXIST) rc = gguf__w_fail(w, GGUF_E_EXISTS, "output file appeared while writing");
        else if (r) rc = gguf__w_ioerr(w, errno, "rename");
    }
    if (!rc && !(w->flags & GGUF_W_NOSYNC)) rc = gguf__w_sync_dir(w);
    if (rc) unlink(w->tmp);   /* after a successful rename there is no temp file left to remove */
    if (err) *err = w->err;
    gguf__w_free(w);
    return rc;
}

void gguf_writer_abort(gguf_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    unlink(w->tmp);
    gguf__w_free(w);
}
