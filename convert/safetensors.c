/* safetensors.c - validated safetensors header reader; see safetensors.h. */
#include "convert/safetensors.h"
#include "convert/hfmodel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct { const char *name; uint32_t size; int type; } st__dtypes[] = {
    { "F32", 4, GGUF_TYPE_F32 }, { "F16", 2, GGUF_TYPE_F16 }, { "BF16", 2, GGUF_TYPE_BF16 },
    { "F64", 8, -1 }, { "I64", 8, -1 }, { "U64", 8, -1 }, { "I32", 4, -1 }, { "U32", 4, -1 },
    { "I16", 2, -1 }, { "U16", 2, -1 }, { "I8", 1, -1 }, { "U8", 1, -1 }, { "BOOL", 1, -1 },
    { "F8_E4M3", 1, -1 }, { "F8_E5M2", 1, -1 }, { "F8_E8M0", 1, -1 },
};

static int st__cmp(const void *a, const void *b)
{
    return strcmp(((const conv_st_tensor *)a)->name, ((const conv_st_tensor *)b)->name);
}

static int st__cmp_begin(const void *a, const void *b)
{
    const conv_st_tensor *x = *(const conv_st_tensor *const *)a, *y = *(const conv_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

void conv_st_close(conv_st_file *f)
{
    if (!f) return;
    for (int64_t i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    if (f->map) munmap((void *)f->map, f->size);
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f);
}

/* json integer that fits: non-negative */
static bool st__uint(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v)) return false;
    json_int_t x = json_integer_value(v);
    if (x < 0) return false;
    *out = (uint64_t)x;
    return true;
}

int conv_st_parse(const char *name, const uint8_t *buf, uint64_t len, uint64_t file_size,
                  conv_st_file **out, gguf_error *err)
{
    *out = NULL;
    static const char lfs[] = "version https://git-lfs";
    if (len >= sizeof lfs - 1 && !memcmp(buf, lfs, sizeof lfs - 1))
        return gguf_error_set(err, CONV_E_LFS, 0,
                              "'%s': is a Git LFS pointer file, not the tensor data (run 'git lfs pull')", name);
    if (file_size < 8 || len < 8)
        return gguf_error_set(err, GGUF_E_TRUNCATED, 0, "'%s': file is %" PRIu64 " bytes, too short for a safetensors header",
                              name, file_size);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)buf[i] << (8 * i);
    if (hlen < 2 || hlen > CONV_ST_MAX_HEADER || hlen > file_size - 8)
        return gguf_error_set(err, GGUF_E_COUNT, 0,
                              "'%s': offset 0: header length %" PRIu64 " is absurd for a file of %" PRIu64 " bytes",
                              name, hlen, file_size);
    if (len < 8 + hlen)
        return gguf_error_set(err, GGUF_E_TRUNCATED, 8, "'%s': header runs past the bytes given", name);

    json_error_t je;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return gguf_error_set(err, CONV_E_JSON, 8 + (uint64_t)(je.position > 0 ? je.position : 0),
                              "'%s': header is not valid JSON: line %d, column %d: %s", name, je.line, je.column, je.text);
    int rc = 0;
    conv_st_file *f = calloc(1, sizeof *f);
    if (!f) { json_decref(root); return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); }
    f->fd = -1;
    f->size = file_size;
    f->data_start = 8 + hlen;
    f->path = strdup(name);
    if (!f->path) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    if (!json_is_object(root)) {
        rc = gguf_error_set(err, CONV_E_JSON, 8, "'%s': header is not a JSON object", name);
        goto fail;
    }
    size_t cap = json_object_size(root);
    f->t = calloc(cap ? cap : 1, sizeof *f->t);
    if (!f->t) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
    const uint64_t data_size = file_size - f->data_start;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                rc = gguf_error_set(err, CONV_E_JSON, 8, "'%s': __metadata__ is not an object", name);
                goto fail;
            }
            continue;
        }
        if (!key[0] || strlen(key) > 1024) {
            rc = gguf_error_set(err, GGUF_E_NAME, 8, "'%s': tensor name empty or longer than 1024 bytes", name);
            goto fail;
        }
        conv_st_tensor *t = &f->t[f->n];
        t->name = strdup(key);
        if (!t->name) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
        f->n++;
        if (!json_is_object(val)) {
            rc = gguf_error_set(err, CONV_E_JSON, 8, "'%s': tensor '%s': entry is not an object", name, key);
            goto fail;
        }
        json_t *dt = json_object_get(val, "dtype"), *sh = json_object_get(val, "shape"),
               *of = json_object_get(val, "data_offsets");
        if (!json_is_string(dt)) {
            rc = gguf_error_set(err, CONV_E_JSON, 8, "'%s': tensor '%s': no 'dtype' string", name, key);
            goto fail;
        }
        const char *dts = json_string_value(dt);
        size_t k;
        for (k = 0; k < sizeof st__dtypes / sizeof st__dtypes[0]; k++)
            if (!strcmp(dts, st__dtypes[k].name)) break;
        if (k == sizeof st__dtypes / sizeof st__dtypes[0]) {
            rc = gguf_error_set(err, GGUF_E_TYPE, 8, "'%s': tensor '%s': unknown dtype '%.16s'", name, key, dts);
            goto fail;
        }
        snprintf(t->dtype, sizeof t->dtype, "%s", st__dtypes[k].name);
        t->type = st__dtypes[k].type;
        t->elem_size = st__dtypes[k].size;
        if (!json_is_array(sh) || json_array_size(sh) > CONV_ST_MAX_DIMS) {
            rc = gguf_error_set(err, GGUF_E_DIMS, 8, "'%s': tensor '%s': 'shape' is not a list of at most %d integers",
                                name, key, CONV_ST_MAX_DIMS);
            goto fail;
        }
        t->n_dims = (uint32_t)json_array_size(sh);
        uint64_t elems = 1;
        bool ovf = false;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            uint64_t x;
            if (!st__uint(json_array_get(sh, d), &x) || x > (uint64_t)INT64_MAX) {
                rc = gguf_error_set(err, GGUF_E_SHAPE, 8, "'%s': tensor '%s': shape[%u] is not a non-negative integer",
                                    name, key, d);
                goto fail;
            }
            t->shape[d] = (int64_t)x;
            if (x && elems > UINT64_MAX / x) ovf = true;
            elems *= x;
        }
        if (ovf || (elems && t->elem_size > UINT64_MAX / elems)) {
            rc = gguf_error_set(err, GGUF_E_SHAPE, 8, "'%s': tensor '%s': byte size overflows", name, key);
            goto fail;
        }
        uint64_t nbytes = elems * t->elem_size;
        if (!json_is_array(of) || json_array_size(of) != 2 || !st__uint(json_array_get(of, 0), &t->begin) ||
            !st__uint(json_array_get(of, 1), &t->end)) {
            rc = gguf_error_set(err, CONV_E_JSON, 8, "'%s': tensor '%s': 'data_offsets' is not [begin, end]", name, key);
            goto fail;
        }
        if (t->end < t->begin) {
            rc = gguf_error_set(err, GGUF_E_OFFSET, 8, "'%s': tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before begin",
                                name, key, t->begin, t->end);
            goto fail;
        }
        if (t->end - t->begin != nbytes) {
            rc = gguf_error_set(err, GGUF_E_SHAPE, 8,
                                "'%s': tensor '%s': data_offsets span %" PRIu64 " bytes but %s x shape needs %" PRIu64,
                                name, key, t->end - t->begin, t->dtype, nbytes);
            goto fail;
        }
        if (t->end > data_size) {
            rc = gguf_error_set(err, GGUF_E_TRUNCATED, f->data_start + t->begin,
                                "'%s': tensor '%s': data [%" PRIu64 ", %" PRIu64 ") runs past the end of the file "
                                "(%" PRIu64 " data bytes): truncated download?",
                                name, key, t->begin, t->end, data_size);
            goto fail;
        }
    }
    /* no two tensors may share bytes */
    if (f->n > 1) {
        conv_st_tensor **by = malloc((size_t)f->n * sizeof *by);
        if (!by) { rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); goto fail; }
        for (int64_t i = 0; i < f->n; i++) by[i] = &f->t[i];
        qsort(by, (size_t)f->n, sizeof *by, st__cmp_begin);
        const conv_st_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
        for (int64_t i = 0; i < f->n; i++) {
            if (by[i]->end == by[i]->begin) continue;
            if (last && by[i]->begin < last->end) {
                rc = gguf_error_set(err, GGUF_E_OFFSET, f->data_start + by[i]->begin,
                                    "'%s': tensor '%s' overlaps tensor '%s'", name, by[i]->name, last->name);
                free(by);
                goto fail;
            }
            if (!last || by[i]->end > last->end) last = by[i];
        }
        free(by);
    }
    qsort(f->t, (size_t)f->n, sizeof *f->t, st__cmp);
    json_decref(root);
    *out = f;
    return 0;
fail:
    json_decref(root);
    conv_st_close(f);
    return rc;
}

int conv_st_open(const char *path, conv_st_file **out, gguf_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        int rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(e));
        if (err) err->sys_errno = e;
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "'%s': not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    const uint8_t *map = NULL;
    if (size > 0) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot map '%s': %s", path, strerror(e));
        }
        map = m;
    }
    static const uint8_t empty[1];
    int rc = conv_st_parse(path, map ? map : empty, size, size, out, err);
    if (rc != 0) {
        if (map) munmap((void *)map, (size_t)size);
        close(fd);
        return rc;
    }
    (*out)->fd = fd;
    (*out)->map = map;
    return 0;
}

int64_t conv_st_find(const conv_st_file *f, const char *name)
{
    int64_t lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->t[mid].name, name);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}
