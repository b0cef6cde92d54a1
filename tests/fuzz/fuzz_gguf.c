/*
 * fuzz_gguf.c - libFuzzer harness for the libgguf reader (built by `make fuzz`).
 *
 * Each input is written to a file under /dev/shm (the reader works on files: it mmaps them),
 * opened with gguf_open and with gguf_open_ex(no_split / no_mmap_data), and every accessor is
 * walked: KVs of every type, array elements, string-array elements, lookups by key and by
 * tensor name, gguf_validate_data and gguf_release on every tensor. A file the reader accepts
 * must also survive a copy through the writer (every KV verbatim, every tensor's data) and
 * read back with identical KV bytes and tensor data; any difference aborts.
 * The input is also opened as the first file of a two-file split set whose second file is a
 * fixed valid shard, so the sibling checks run on fuzzed first files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gguf.h"

static char g_in[64], g_out[64], g_split1[96], g_split2[96];
static volatile uint64_t g_sink;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gguf: property failed: %s\n", what);
        abort();
    }
}

static void touch(const void *p, uint64_t n)
{
    const uint8_t *b = p;
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i += 61) s += b[i];
    if (n) s += b[n - 1];
    g_sink += s;
}

static void walk(gguf_file *f)
{
    gguf_error err;
    g_sink += gguf_version(f) + gguf_alignment(f) + gguf_data_offset(f) + gguf_file_size(f);
    for (uint32_t i = 0; i < gguf_n_files(f); i++) {
        check(gguf_file_path(f, i) != NULL, "file path");
        g_sink += (uint64_t)gguf_file_n_tensors(f, i) + (uint64_t)gguf_file_fd(f, i);
    }
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        const char *key = gguf_kv_key(f, i);
        check(key[0] != 0, "non-empty key");
        check(gguf_find_key(f, key) == i, "find_key finds each key at its index");
        const void *raw;
        uint64_t len;
        gguf_kv_raw(f, i, &raw, &len);
        touch(raw, len);
        int64_t iv; double dv; bool bv; gguf_str sv;
        gguf_get_int(f, key, &iv, &err);
        gguf_get_float(f, key, &dv, &err);
        gguf_get_bool(f, key, &bv, &err);
        gguf_get_str(f, key, &sv, &err);
        switch (gguf_kv_get_type(f, i)) {
        case GGUF_KV_UINT8: g_sink += gguf_kv_u8(f, i); break;
        case GGUF_KV_INT8: g_sink += (uint64_t)gguf_kv_i8(f, i); break;
        case GGUF_KV_UINT16: g_sink += gguf_kv_u16(f, i); break;
        case GGUF_KV_INT16: g_sink += (uint64_t)gguf_kv_i16(f, i); break;
        case GGUF_KV_UINT32: g_sink += gguf_kv_u32(f, i); break;
        case GGUF_KV_INT32: g_sink += (uint64_t)gguf_kv_i32(f, i); break;
        case GGUF_KV_UINT64: g_sink += gguf_kv_u64(f, i); break;
        case GGUF_KV_INT64: g_sink += (uint64_t)gguf_kv_i64(f, i); break;
        case GGUF_KV_FLOAT32: g_sink += (uint64_t)(gguf_kv_f32(f, i) == 0.0f); break;
        case GGUF_KV_FLOAT64: g_sink += (uint64_t)(gguf_kv_f64(f, i) == 0.0); break;
        case GGUF_KV_BOOL: g_sink += gguf_kv_bool(f, i); break;
        case GGUF_KV_STRING: sv = gguf_kv_str(f, i); touch(sv.ptr, sv.len); break;
        case GGUF_KV_ARRAY: {
            uint64_t n = gguf_kv_arr_n(f, i);
            if (gguf_kv_arr_type(f, i) == GGUF_KV_STRING) {
                check(gguf_kv_arr_data(f, i) == NULL, "no data pointer for string arrays");
                for (uint64_t j = 0; j < n; j++) { sv = gguf_kv_arr_str(f, i, j); touch(sv.ptr, sv.len); }
            } else {
                touch(gguf_kv_arr_data(f, i), n * gguf_kv_type_size(gguf_kv_arr_type(f, i)));
            }
            break;
        }
        default: check(0, "known KV type");
        }
    }
    uint64_t expect = 0;
    uint32_t prev_file = 0;
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        check(t->name[0] && strlen(t->name) < GGUF_MAX_NAME, "tensor name length");
        check(gguf_find_tensor(f, t->name) == i, "find_tensor finds each tensor at its index");
        check(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS && gguf_type_valid(t->type), "dims and type");
        bool ovf;
        check(gguf_tensor_bytes(t->type, t->ne, t->n_dims, &ovf) == t->size && !ovf, "size matches shape");
        if (t->file_index != prev_file) { expect = 0; prev_file = t->file_index; }
        check(t->offset == expect, "contiguous offsets");
        expect += (t->size + gguf_alignment(f) - 1) / gguf_alignment(f) * gguf_alignment(f);
        if (t->data) {
            touch(t->data, t->size);
            uint64_t bad;
            gguf_validate_data(t, &bad, &err);
        }
        gguf_release(f, t);
    }
    check(gguf_check_unchanged(f, &err) == 0, "unchanged");
}

/* Copy an accepted file through the writer and compare. */
static void roundtrip(gguf_file *f)
{
    if (gguf_alignment(f) != GGUF_DEFAULT_ALIGNMENT) return;   /* the writer always lays out with 32 */
    gguf_error err;
    gguf_writer *w = gguf_writer_open(g_out, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    check(w != NULL, "writer open");
    for (int64_t i = 0; i < gguf_n_kv(f); i++) check(gguf_writer_kv_copy(w, f, i) == 0, "kv copy");
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        check(gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type) == 0, "add tensor");
    }
    check(gguf_writer_begin_data(w) == 0, "begin data");
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        check(gguf_writer_tensor(w, t->data, t->size) == 0, "write tensor");
    }
    check(gguf_writer_finish(w, &err) == 0, "finish");
    gguf_open_opts o = { .no_split = true };
    gguf_file *g = gguf_open_ex(g_out, &o, &err);
    check(g != NULL, "the copy opens");
    check(gguf_n_kv(g) == gguf_n_kv(f) && gguf_n_tensors(g) == gguf_n_tensors(f), "same counts");
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        const void *p1, *p2;
        uint64_t l1, l2;
        gguf_kv_raw(f, i, &p1, &l1);
        gguf_kv_raw(g, i, &p2, &l2);
        check(l1 == l2 && !memcmp(p1, p2, l1) && !strcmp(gguf_kv_key(f, i), gguf_kv_key(g, i)), "same KV bytes");
    }
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *a = gguf_tensor(f, i), *b = gguf_tensor(g, i);
        check(!strcmp(a->name, b->name) && a->size == b->size && (!a->size || !memcmp(a->data, b->data, a->size)),
              "same tensor");
    }
    gguf_close(g);
    unlink(g_out);
}

/* The fixed second shard: split.no = 1, split.count = 2, one F32 tensor "shard2.weight". */
static void write_shard2(void)
{
    gguf_error err;
    gguf_writer *w = gguf_writer_open(g_split2, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    check(w != NULL, "shard 2 writer");
    gguf_writer_kv_u16(w, "split.no", 1);
    gguf_writer_kv_i32(w, "split.tensors.count", 2);
    gguf_writer_kv_u16(w, "split.count", 2);
    int64_t ne[4] = { 8, 1, 1, 1 };
    float v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    gguf_writer_add_tensor(w, "shard2.weight", 1, ne, GGUF_TYPE_F32);
    gguf_writer_begin_data(w);
    gguf_writer_tensor(w, v, sizeof v);
    check(gguf_writer_finish(w, &err) == 0, "shard 2 written");
}

static void cleanup(void)
{
    unlink(g_split2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_in[0]) {
        snprintf(g_in, sizeof g_in, "/dev/shm/fuzz_gguf.%d.gguf", (int)getpid());
        snprintf(g_out, sizeof g_out, "/dev/shm/fuzz_gguf.%d.out.gguf", (int)getpid());
        snprintf(g_split1, sizeof g_split1, "/dev/shm/fuzz_gguf.%d.set-00001-of-00002.gguf", (int)getpid());
        snprintf(g_split2, sizeof g_split2, "/dev/shm/fuzz_gguf.%d.set-00002-of-00002.gguf", (int)getpid());
        write_shard2();
        atexit(cleanup);
    }
    FILE *fp = fopen(g_in, "wb");
    if (!fp) return 0;
    if (size) fwrite(data, 1, size, fp);
    fclose(fp);

    gguf_error err;
    gguf_file *f = gguf_open(g_in, &err);
    if (f) {
        walk(f);
        if (gguf_n_files(f) == 1) roundtrip(f);
        gguf_close(f);
    } else {
        check(err.code < 0 && err.msg[0] && !strchr(err.msg, '\n'), "one-line error");
        check(strstr(err.msg, g_in) != NULL || err.code == GGUF_E_SPLIT, "error names the file");
    }
    gguf_open_opts o1 = { .no_split = true }, o2 = { .no_split = true, .no_mmap_data = true };
    if ((f = gguf_open_ex(g_in, &o1, &err))) { walk(f); gguf_close(f); }
    if ((f = gguf_open_ex(g_in, &o2, &err))) { walk(f); gguf_close(f); }
    unlink(g_in);

    if ((fp = fopen(g_split1, "wb"))) {
        if (size) fwrite(data, 1, size, fp);
        fclose(fp);
        if ((f = gguf_open(g_split1, &err))) {
            /* a file whose own split.count is 0 or 1 opens alone even under a split name */
            int64_t sc = 0;
            bool alone = gguf_get_int(f, "split.count", &sc, &err) == 0 && sc <= 1;
            check(alone ? gguf_n_files(f) == 1 : gguf_n_files(f) == 2 && gguf_find_tensor(f, "shard2.weight") >= 0,
                  "set of two, or a file that says it is alone");
            walk(f);
            gguf_close(f);
        } else {
            check(err.code < 0 && err.msg[0] && !strchr(err.msg, '\n'), "one-line split error");
        }
        unlink(g_split1);
    }
    return 0;
}
