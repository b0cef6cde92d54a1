/* test_gguf_rw.c - libgguf writer -> reader round trips, writer misuse, no partial outputs. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf.h"
#include "th.h"

static bool exists(const char *p) { struct stat st; return stat(p, &st) == 0; }

static uint64_t file_size(const char *p) { struct stat st; return stat(p, &st) ? 0 : (uint64_t)st.st_size; }

/* deterministic bytes */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; p[i] = (uint8_t)x; }
}

static uint64_t pad32(uint64_t x) { return (x + 31) & ~31ull; }

/* The tensors of the round-trip file. Quantized data is arbitrary bytes (the reader does not
 * interpret it), float data is finite. */
static const struct { const char *name; uint32_t n_dims; int64_t ne[4]; int type; } T[] = {
    { "tok.f32",   2, { 8, 3, 1, 1 },   GGUF_TYPE_F32 },
    { "a.f16",     1, { 17, 1, 1, 1 },  GGUF_TYPE_F16 },   /* 34 bytes: padding needed */
    { "b.bf16",    3, { 4, 2, 2, 1 },   GGUF_TYPE_BF16 },
    { "c.q8_0",    2, { 64, 3, 1, 1 },  GGUF_TYPE_Q8_0 },
    { "d.q4_k",    2, { 256, 1, 1, 1 }, GGUF_TYPE_Q4_K },
    { "e.q6_k",    4, { 512, 1, 1, 2 }, GGUF_TYPE_Q6_K },
    { "f.empty",   2, { 0, 5, 1, 1 },   GGUF_TYPE_F32 },
    { "g.copyfd",  1, { 1000, 1, 1, 1 },GGUF_TYPE_F32 },
};
#define NT (sizeof T / sizeof T[0])

static const uint8_t  a_u8[]  = { 0, 1, 255 };
static const int8_t   a_i8[]  = { -128, 0, 127 };
static const uint16_t a_u16[] = { 0, 65535, 7 };
static const int16_t  a_i16[] = { -32768, 32767 };
static const uint32_t a_u32[] = { 0, 4294967295u, 32 };
static const int32_t  a_i32[] = { INT32_MIN, -1, INT32_MAX };
static const float    a_f32[] = { 1.5f, -0.0f, 3.25e-10f };
static const uint8_t  a_bool[]= { 1, 0, 1, 1 };
static const uint64_t a_u64[] = { UINT64_MAX, 0 };
static const int64_t  a_i64[] = { INT64_MIN, 42 };
static const double   a_f64[] = { 2.5, -1e300 };

static int write_sample(const char *path, unsigned flags, const char *src_path, gguf_error *err)
{
    gguf_writer *w = gguf_writer_open(path, flags | GGUF_W_NOSYNC, err);
    if (!w) return err->code;
    int rc = 0;
    rc |= gguf_writer_kv_str(w, "general.architecture", "llama", 5);
    rc |= gguf_writer_kv_u8(w, "v.u8", 200);
    rc |= gguf_writer_kv_i8(w, "v.i8", -100);
    rc |= gguf_writer_kv_u16(w, "v.u16", 60000);
    rc |= gguf_writer_kv_i16(w, "v.i16", -30000);
    rc |= gguf_writer_kv_u32(w, "v.u32", 4000000000u);
    rc |= gguf_writer_kv_i32(w, "v.i32", -2000000000);
    rc |= gguf_writer_kv_u64(w, "v.u64", 18000000000000000000ull);
    rc |= gguf_writer_kv_i64(w, "v.i64", -9000000000000000000ll);
    rc |= gguf_writer_kv_f32(w, "v.f32", 0.125f);
    rc |= gguf_writer_kv_f64(w, "v.f64", 1e-300);
    rc |= gguf_writer_kv_bool(w, "v.bool", true);
    rc |= gguf_writer_kv_str(w, "v.str.empty", "", 0);
    rc |= gguf_writer_kv_str(w, "v.str.nul", "a\0b", 3);
    rc |= gguf_writer_kv_arr(w, "a.u8", GGUF_KV_UINT8, a_u8, 3);
    rc |= gguf_writer_kv_arr(w, "a.i8", GGUF_KV_INT8, a_i8, 3);
    rc |= gguf_writer_kv_arr(w, "a.u16", GGUF_KV_UINT16, a_u16, 3);
    rc |= gguf_writer_kv_arr(w, "a.i16", GGUF_KV_INT16, a_i16, 2);
    rc |= gguf_writer_kv_arr(w, "a.u32", GGUF_KV_UINT32, a_u32, 3);
    rc |= gguf_writer_kv_arr(w, "a.i32", GGUF_KV_INT32, a_i32, 3);
    rc |= gguf_writer_kv_arr(w, "a.f32", GGUF_KV_FLOAT32, a_f32, 3);
    rc |= gguf_writer_kv_arr(w, "a.bool", GGUF_KV_BOOL, a_bool, 4);
    rc |= gguf_writer_kv_arr(w, "a.u64", GGUF_KV_UINT64, a_u64, 2);
    rc |= gguf_writer_kv_arr(w, "a.i64", GGUF_KV_INT64, a_i64, 2);
    rc |= gguf_writer_kv_arr(w, "a.f64", GGUF_KV_FLOAT64, a_f64, 2);
    rc |= gguf_writer_kv_arr(w, "a.empty", GGUF_KV_INT32, NULL, 0);
    gguf_str ss[4] = { { "hello", 5 }, { "", 0 }, { "w\xc3\xb6rld", 6 }, { "<|im_end|>", 10 } };
    rc |= gguf_writer_kv_arr_str(w, "a.str", ss, 4);
    rc |= gguf_writer_kv_arr_str(w, "a.str.empty", NULL, 0);
    rc |= gguf_writer_kv_u32(w, "general.alignment", 32);
    if (rc) { gguf_writer_abort(w); return -100; }
    for (size_t i = 0; i < NT; i++)
        if ((rc = gguf_writer_add_tensor(w, T[i].name, T[i].n_dims, T[i].ne, T[i].type))) { gguf_writer_abort(w); return rc; }
    if ((rc = gguf_writer_begin_data(w))) { *err = *gguf_writer_error(w); gguf_writer_abort(w); return rc; }
    for (size_t i = 0; i < NT; i++) {
        uint64_t n = gguf_tensor_bytes(T[i].type, T[i].ne, T[i].n_dims, NULL);
        uint8_t *buf = malloc(n + 1);
        fill(buf, n, (uint32_t)i);
        if (T[i].type == GGUF_TYPE_F32 || T[i].type == GGUF_TYPE_F16 || T[i].type == GGUF_TYPE_BF16)
            for (uint64_t j = 0; j < n; j += T[i].type == GGUF_TYPE_F32 ? 4 : 2) buf[j + (T[i].type == GGUF_TYPE_F32 ? 3 : 1)] &= 0x3f;
        if (src_path && i == NT - 1) {
            /* copy_fd from a file holding 7 junk bytes then the data */
            int fd = open(src_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
            if (write(fd, "junk..!", 7) != 7 || write(fd, buf, n) != (ssize_t)n) rc = -101;
            if (!rc) rc = gguf_writer_copy_fd(w, fd, 7, n);
            close(fd);
            if (!rc) rc = gguf_writer_end_tensor(w);
        } else if (i == 3) {
            /* odd chunking */
            for (uint64_t j = 0; j < n && !rc; j += 5) rc = gguf_writer_write(w, buf + j, n - j < 5 ? n - j : 5);
            if (!rc) rc = gguf_writer_end_tensor(w);
        } else {
            rc = gguf_writer_tensor(w, buf, n);
        }
        free(buf);
        if (rc) { *err = *gguf_writer_error(w); gguf_writer_abort(w); return rc; }
    }
    return gguf_writer_finish(w, err);
}

TEST(roundtrip_kvs)
{
    char p[512], s[512];
    gguf_error err;
    th_path(p, "%s/rt.gguf", th_tmp());
    th_path(s, "%s/src.bin", th_tmp());
    CHECK_EQ_INT(write_sample(p, 0, s, &err), 0);
    CHECK(!exists(th_path(s, "%s/rt.gguf.tmp", th_tmp())));
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "open: %s", err.msg);
    CHECK_EQ_INT(gguf_version(f), 3);
    CHECK_EQ_INT(gguf_alignment(f), 32);
    CHECK_EQ_INT(gguf_n_kv(f), 29);
    CHECK_EQ_INT(gguf_n_files(f), 1);
    int64_t i;
    CHECK_EQ_STR(gguf_kv_key(f, 0), "general.architecture");
    gguf_str str = gguf_kv_str(f, 0);
    CHECK(str.len == 5 && !memcmp(str.ptr, "llama", 5));
    CHECK_EQ_INT(gguf_kv_u8(f, gguf_find_key(f, "v.u8")), 200);
    CHECK_EQ_INT(gguf_kv_i8(f, gguf_find_key(f, "v.i8")), -100);
    CHECK_EQ_INT(gguf_kv_u16(f, gguf_find_key(f, "v.u16")), 60000);
    CHECK_EQ_INT(gguf_kv_i16(f, gguf_find_key(f, "v.i16")), -30000);
    CHECK_EQ_INT(gguf_kv_u32(f, gguf_find_key(f, "v.u32")), 4000000000u);
    CHECK_EQ_INT(gguf_kv_i32(f, gguf_find_key(f, "v.i32")), -2000000000);
    CHECK(gguf_kv_u64(f, gguf_find_key(f, "v.u64")) == 18000000000000000000ull);
    CHECK(gguf_kv_i64(f, gguf_find_key(f, "v.i64")) == -9000000000000000000ll);
    CHECK(gguf_kv_f32(f, gguf_find_key(f, "v.f32")) == 0.125f);
    CHECK(gguf_kv_f64(f, gguf_find_key(f, "v.f64")) == 1e-300);
    CHECK(gguf_kv_bool(f, gguf_find_key(f, "v.bool")));
    CHECK_EQ_INT(gguf_kv_str(f, gguf_find_key(f, "v.str.empty")).len, 0);
    str = gguf_kv_str(f, gguf_find_key(f, "v.str.nul"));
    CHECK(str.len == 3 && !memcmp(str.ptr, "a\0b", 3));
    CHECK_EQ_INT(gguf_find_key(f, "missing"), -1);

    static const struct { const char *k; int t; const void *d; uint64_t n; } A[] = {
        { "a.u8", GGUF_KV_UINT8, a_u8, 3 },     { "a.i8", GGUF_KV_INT8, a_i8, 3 },
        { "a.u16", GGUF_KV_UINT16, a_u16, 3 },  { "a.i16", GGUF_KV_INT16, a_i16, 2 },
        { "a.u32", GGUF_KV_UINT32, a_u32, 3 },  { "a.i32", GGUF_KV_INT32, a_i32, 3 },
        { "a.f32", GGUF_KV_FLOAT32, a_f32, 3 }, { "a.bool", GGUF_KV_BOOL, a_bool, 4 },
        { "a.u64", GGUF_KV_UINT64, a_u64, 2 },  { "a.i64", GGUF_KV_INT64, a_i64, 2 },
        { "a.f64", GGUF_KV_FLOAT64, a_f64, 2 }, { "a.empty", GGUF_KV_INT32, NULL, 0 },
    };
    for (size_t k = 0; k < sizeof A / sizeof A[0]; k++) {
        i = gguf_find_key(f, A[k].k);
        CHECK_MSG(i >= 0, "key %s", A[k].k);
        CHECK_EQ_INT(gguf_kv_get_type(f, i), GGUF_KV_ARRAY);
        CHECK_EQ_INT(gguf_kv_arr_type(f, i), A[k].t);
        CHECK_EQ_INT(gguf_kv_arr_n(f, i), A[k].n);
        CHECK(A[k].n == 0 || !memcmp(gguf_kv_arr_data(f, i), A[k].d, A[k].n * gguf_kv_type_size(A[k].t)));
        const void *raw; uint64_t rl;
        gguf_kv_raw(f, i, &raw, &rl);
        CHECK_EQ_INT(rl, 12 + A[k].n * gguf_kv_type_size(A[k].t));
    }
    i = gguf_find_key(f, "a.str");
    CHECK_EQ_INT(gguf_kv_arr_type(f, i), GGUF_KV_STRING);
    CHECK_EQ_INT(gguf_kv_arr_n(f, i), 4);
    CHECK(gguf_kv_arr_data(f, i) == NULL);
    str = gguf_kv_arr_str(f, i, 3);
    CHECK(str.len == 10 && !memcmp(str.ptr, "<|im_end|>", 10));
    str = gguf_kv_arr_str(f, i, 1);
    CHECK_EQ_INT(str.len, 0);
    str = gguf_kv_arr_str(f, i, 2);
    CHECK(str.len == 6 && !memcmp(str.ptr, "w\xc3\xb6rld", 6));
    i = gguf_find_key(f, "a.str.empty");
    CHECK_EQ_INT(gguf_kv_arr_n(f, i), 0);

    /* lookups with conversion */
    int64_t iv; double dv; bool bv; gguf_str sv;
    CHECK_EQ_INT(gguf_get_int(f, "v.i16", &iv, &err), 0); CHECK_EQ_INT(iv, -30000);
    CHECK_EQ_INT(gguf_get_int(f, "v.u32", &iv, &err), 0); CHECK_EQ_INT(iv, 4000000000ll);
    CHECK_EQ_INT(gguf_get_int(f, "v.u64", &iv, &err), GGUF_E_WRONG_TYPE);
    CHECK(strstr(err.msg, "v.u64"));
    CHECK_EQ_INT(gguf_get_int(f, "v.str.nul", &iv, &err), GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(gguf_get_int(f, "nope", &iv, &err), GGUF_E_NOT_FOUND);
    CHECK(strstr(err.msg, "'nope'"));
    CHECK_EQ_INT(gguf_get_float(f, "v.f32", &dv, &err), 0); CHECK(dv == 0.125);
    CHECK_EQ_INT(gguf_get_float(f, "v.f64", &dv, &err), 0); CHECK(dv == 1e-300);
    CHECK_EQ_INT(gguf_get_float(f, "v.u8", &dv, &err), GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(gguf_get_bool(f, "v.bool", &bv, &err), 0); CHECK(bv);
    CHECK_EQ_INT(gguf_get_str(f, "general.architecture", &sv, &err), 0); CHECK_EQ_INT(sv.len, 5);
    CHECK_EQ_INT(gguf_get_str(f, "v.bool", &sv, &err), GGUF_E_WRONG_TYPE);
    gguf_close(f);
}

TEST(roundtrip_tensors)
{
    char p[512], s[512];
    gguf_error err;
    th_path(p, "%s/rt2.gguf", th_tmp());
    th_path(s, "%s/src2.bin", th_tmp());
    CHECK_EQ_INT(write_sample(p, 0, s, &err), 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "open: %s", err.msg);
    CHECK_EQ_INT(gguf_n_tensors(f), NT);
    CHECK_EQ_INT(gguf_file_n_tensors(f, 0), NT);
    CHECK_EQ_INT(gguf_data_offset(f) % 32, 0);
    uint64_t fsz = file_size(p);
    CHECK_EQ_INT(gguf_file_size(f), fsz);
    CHECK_EQ_INT(fsz % 32, 0);
    const uint8_t *base = (const uint8_t *)gguf_tensor(f, 0)->data - gguf_tensor(f, 0)->file_offset;
    uint64_t expect = 0;
    for (size_t i = 0; i < NT; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, (int64_t)i);
        CHECK_EQ_STR(t->name, T[i].name);
        CHECK_EQ_INT(gguf_find_tensor(f, T[i].name), i);
        CHECK_EQ_INT(t->n_dims, T[i].n_dims);
        for (int d = 0; d < 4; d++) CHECK_EQ_INT(t->ne[d], T[i].ne[d]);
        CHECK_EQ_INT(t->type, T[i].type);
        CHECK_EQ_INT(t->offset, expect);
        CHECK_EQ_INT(t->file_offset, gguf_data_offset(f) + expect);
        CHECK_EQ_INT(t->file_index, 0);
        uint64_t n = gguf_tensor_bytes(T[i].type, T[i].ne, T[i].n_dims, NULL);
        CHECK_EQ_INT(t->size, n);
        uint8_t *buf = malloc(n + 1);
        fill(buf, n, (uint32_t)i);
        if (T[i].type == GGUF_TYPE_F32 || T[i].type == GGUF_TYPE_F16 || T[i].type == GGUF_TYPE_BF16)
            for (uint64_t j = 0; j < n; j += T[i].type == GGUF_TYPE_F32 ? 4 : 2) buf[j + (T[i].type == GGUF_TYPE_F32 ? 3 : 1)] &= 0x3f;
        int same = n == 0 || !memcmp(t->data, buf, n);
        free(buf);
        CHECK_MSG(same, "data of %s differs", t->name);
        /* padding after every tensor, the last included, is zero */
        for (uint64_t j = t->file_offset + n; j < pad32(t->file_offset + n); j++) CHECK_MSG(base[j] == 0, "pad byte %llu", (unsigned long long)j);
        expect += pad32(n);
        uint64_t bad;
        CHECK_EQ_INT(gguf_validate_data(t, &bad, &err), 0);
        gguf_release(f, t);
    }
    CHECK_EQ_INT(gguf_data_offset(f) + expect, fsz);
    CHECK_EQ_INT(gguf_find_tensor(f, "nope"), -1);
    CHECK_EQ_INT(gguf_check_unchanged(f, &err), 0);
    /* after release the data reads back the same (it is re-faulted from the file) */
    CHECK(((const uint8_t *)gguf_tensor(f, 0)->data)[0] == base[gguf_tensor(f, 0)->file_offset]);
    gguf_close(f);
}

TEST(kv_copy_is_byte_identical)
{
    char a[512], b[512], s[512];
    gguf_error err;
    th_path(a, "%s/c1.gguf", th_tmp());
    th_path(b, "%s/c2.gguf", th_tmp());
    th_path(s, "%s/c.bin", th_tmp());
    CHECK_EQ_INT(write_sample(a, 0, s, &err), 0);
    gguf_file *fa = gguf_open(a, &err);
    CHECK(fa);
    gguf_writer *w = gguf_writer_open(b, GGUF_W_NOSYNC, &err);
    CHECK(w);
    for (int64_t i = 0; i < gguf_n_kv(fa); i++) CHECK_EQ_INT(gguf_writer_kv_copy(w, fa, i), 0);
    CHECK_EQ_INT(gguf_writer_kv_copy(w, fa, 0), GGUF_E_DUP_KEY);
    CHECK_EQ_INT(gguf_writer_n_kv(w), gguf_n_kv(fa));
    CHECK_EQ_INT(gguf_writer_kv_remove(w, "v.u8"), 0);
    CHECK_EQ_INT(gguf_writer_kv_remove(w, "v.u8"), GGUF_E_NOT_FOUND);
    CHECK_EQ_INT(gguf_writer_n_kv(w), gguf_n_kv(fa) - 1);
    for (int64_t i = 0; i < gguf_n_tensors(fa); i++) {
        const gguf_tensor_info *t = gguf_tensor(fa, i);
        CHECK_EQ_INT(gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type), 0);
    }
    uint64_t total = gguf_writer_total_size(w);
    CHECK_EQ_INT(gguf_writer_begin_data(w), 0);
    for (int64_t i = 0; i < gguf_n_tensors(fa); i++) {
        const gguf_tensor_info *t = gguf_tensor(fa, i);
        CHECK_EQ_INT(gguf_writer_copy_fd(w, gguf_file_fd(fa, 0), t->file_offset, t->size), 0);
        CHECK_EQ_INT(gguf_writer_end_tensor(w), 0);
    }
    CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
    CHECK_EQ_INT(file_size(b), total);
    gguf_file *fb = gguf_open(b, &err);
    CHECK_MSG(fb, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_kv(fb), gguf_n_kv(fa) - 1);
    for (int64_t i = 0; i < gguf_n_kv(fa); i++) {
        int64_t j = gguf_find_key(fb, gguf_kv_key(fa, i));
        if (!strcmp(gguf_kv_key(fa, i), "v.u8")) { CHECK_EQ_INT(j, -1); continue; }
        CHECK(j >= 0);
        const void *p1, *p2; uint64_t l1, l2;
        gguf_kv_raw(fa, i, &p1, &l1);
        gguf_kv_raw(fb, j, &p2, &l2);
        CHECK_EQ_INT(gguf_kv_get_type(fa, i), gguf_kv_get_type(fb, j));
        CHECK(l1 == l2 && !memcmp(p1, p2, l1));
    }
    for (int64_t i = 0; i < gguf_n_tensors(fa); i++) {
        const gguf_tensor_info *t1 = gguf_tensor(fa, i), *t2 = gguf_tensor(fb, i);
        CHECK(t1->size == t2->size && (!t1->size || !memcmp(t1->data, t2->data, t1->size)));
    }
    gguf_close(fa);
    gguf_close(fb);
}

TEST(writer_misuse)
{
    char p[512];
    gguf_error err;
    th_path(p, "%s/misuse.gguf", th_tmp());
    gguf_writer *w = gguf_writer_open(p, GGUF_W_NOSYNC, &err);
    CHECK(w);
    int64_t ne[4] = { 32, 2, 1, 1 }, neg[4] = { -1, 1, 1, 1 }, big[4] = { INT64_MAX, 2, 1, 1 }, odd[4] = { 33, 1, 1, 1 };
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "", 1), GGUF_E_KEY);
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "k", 1), 0);
    CHECK_EQ_INT(gguf_writer_kv_u8(w, "k", 1), GGUF_E_DUP_KEY);
    CHECK(strstr(gguf_writer_error(w)->msg, "'k'"));
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "general.alignment", 64), GGUF_E_ALIGNMENT);
    CHECK_EQ_INT(gguf_writer_kv_arr(w, "arr", GGUF_KV_STRING, NULL, 1), GGUF_E_KV_TYPE);
    CHECK_EQ_INT(gguf_writer_kv_arr(w, "arr", GGUF_KV_ARRAY, NULL, 1), GGUF_E_KV_TYPE);
    CHECK_EQ_INT(gguf_writer_kv_arr(w, "arr", GGUF_KV_UINT8, NULL, 1), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_kv_arr_str(w, "arr", NULL, 2), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_kv_str(w, "arr", NULL, 2), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_n_kv(w), 1);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "", 2, ne, GGUF_TYPE_F32), GGUF_E_NAME);
    char n64[65]; memset(n64, 'x', 64); n64[64] = 0;
    CHECK_EQ_INT(gguf_writer_add_tensor(w, n64, 2, ne, GGUF_TYPE_F32), GGUF_E_NAME);
    n64[63] = 0;
    CHECK_EQ_INT(gguf_writer_add_tensor(w, n64, 2, ne, GGUF_TYPE_F32), 0);   /* 63 bytes is fine */
    CHECK_EQ_INT(gguf_writer_add_tensor(w, n64, 2, ne, GGUF_TYPE_F32), GGUF_E_DUP_TENSOR);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 0, ne, GGUF_TYPE_F32), GGUF_E_DIMS);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 5, ne, GGUF_TYPE_F32), GGUF_E_DIMS);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 2, ne, 4), GGUF_E_TYPE);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 2, ne, GGUF_TYPE_COUNT), GGUF_E_TYPE);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 2, neg, GGUF_TYPE_F32), GGUF_E_SHAPE);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 2, big, GGUF_TYPE_F32), GGUF_E_SHAPE);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t0", 1, odd, GGUF_TYPE_Q8_0), GGUF_E_BLOCK);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "t1", 2, ne, GGUF_TYPE_Q8_0), 0);
    uint8_t buf[512] = { 0 };
    CHECK_EQ_INT(gguf_writer_write(w, buf, 1), GGUF_E_USAGE);        /* before begin_data */
    CHECK_EQ_INT(gguf_writer_end_tensor(w), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_begin_data(w), 0);
    CHECK_EQ_INT(gguf_writer_begin_data(w), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "late", 1), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "late", 2, ne, GGUF_TYPE_F32), GGUF_E_USAGE);
    CHECK_EQ_INT(gguf_writer_write(w, buf, 257), GGUF_E_USAGE);      /* tensor 0 is 256 bytes */
    CHECK_EQ_INT(gguf_writer_write(w, buf, 100), 0);
    CHECK_EQ_INT(gguf_writer_end_tensor(w), GGUF_E_USAGE);           /* incomplete */
    CHECK(strstr(gguf_writer_error(w)->msg, "100 of its 256"));
    CHECK_EQ_INT(gguf_writer_write(w, buf, 156), 0);
    CHECK_EQ_INT(gguf_writer_end_tensor(w), 0);
    CHECK_EQ_INT(gguf_writer_write(w, buf, 68), 0);                  /* t1: 2 blocks of 34 x 2 rows = 136 */
    CHECK_EQ_INT(gguf_writer_finish(w, &err), GGUF_E_USAGE);         /* t1 incomplete */
    CHECK(strstr(err.msg, "t1"));
    CHECK(!exists(p));
    char tmp[600];
    CHECK(!exists(th_path(tmp, "%s.tmp", p)));
}

TEST(exists_and_force)
{
    char p[512];
    gguf_error err;
    th_path(p, "%s/ex.gguf", th_tmp());
    FILE *fp = fopen(p, "w");
    fputs("keep", fp);
    fclose(fp);
    CHECK(gguf_writer_open(p, 0, &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_EXISTS);
    CHECK(strstr(err.msg, p));
    CHECK_EQ_INT(file_size(p), 4);
    gguf_writer *w = gguf_writer_open(p, GGUF_W_FORCE, &err);
    CHECK(w);
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "x", 7), 0);
    CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_tensors(f), 0);
    CHECK_EQ_INT(gguf_kv_u32(f, 0), 7);
    CHECK_EQ_INT(gguf_file_size(f) % 32, 0);
    gguf_close(f);
}

TEST(abort_and_stale_tmp)
{
    char p[512], tmp[600];
    gguf_error err;
    th_path(p, "%s/ab.gguf", th_tmp());
    th_path(tmp, "%s.tmp", p);
    /* a stale temp file from a killed run is replaced */
    FILE *fp = fopen(tmp, "w");
    fputs("stale stale stale stale stale stale stale stale stale", fp);
    fclose(fp);
    gguf_writer *w = gguf_writer_open(p, GGUF_W_NOSYNC, &err);
    CHECK(w);
    CHECK_EQ_STR(gguf_writer_tmp_path(w), tmp);
    CHECK(exists(tmp));
    CHECK_EQ_INT(gguf_writer_kv_u32(w, "x", 1), 0);
    gguf_writer_abort(w);
    CHECK(!exists(p));
    CHECK(!exists(tmp));
    gguf_writer_abort(NULL);
    w = gguf_writer_open(p, GGUF_W_NOSYNC, &err);
    CHECK(w);
    CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
    CHECK_EQ_INT(file_size(p), 32);   /* header 24 bytes, padded */
}

TEST(fault_injection_leaves_nothing)
{
    char p[512], s[512], tmp[600];
    gguf_error err;
    th_path(p, "%s/fault.gguf", th_tmp());
    th_path(s, "%s/fault.bin", th_tmp());
    th_path(tmp, "%s.tmp", p);
    /* a clean write first, to know the size */
    CHECK_EQ_INT(write_sample(p, 0, s, &err), 0);
    uint64_t full = file_size(p);
    unlink(p);
    uint64_t cuts[] = { 0, 1, 24, 100, full / 2, full - 33, full - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        char v[32];
        snprintf(v, sizeof v, "%llu", (unsigned long long)cuts[k]);
        setenv("GGUF_FAULT_WRITE_AFTER", v, 1);
        int rc = write_sample(p, 0, s, &err);
        unsetenv("GGUF_FAULT_WRITE_AFTER");
        CHECK_MSG(rc == GGUF_E_IO, "cut %s: rc %d", v, rc);
        CHECK_EQ_INT(err.sys_errno, ENOSPC);
        CHECK(strstr(err.msg, p));
        CHECK_MSG(!exists(p), "cut %s left the output", v);
        CHECK_MSG(!exists(tmp), "cut %s left the temp file", v);
    }
    setenv("GGUF_FAULT_WRITE_AFTER", "999999999", 1);
    CHECK_EQ_INT(write_sample(p, 0, s, &err), 0);
    unsetenv("GGUF_FAULT_WRITE_AFTER");
    CHECK_EQ_INT(file_size(p), full);
}

/* Writes of 4 MiB and more bypass the buffer: mixed with small writes the bytes still land
 * in order, and an injected fault inside such a write still leaves nothing behind. */
static int write_big(const char *path, const uint8_t *data, size_t n, gguf_error *err)
{
    gguf_writer *w = gguf_writer_open(path, GGUF_W_NOSYNC, err);
    if (!w) return err->code;
    int64_t ne[4] = { (int64_t)n, 1, 1, 1 };
    int rc = gguf_writer_add_tensor(w, "big", 1, ne, GGUF_TYPE_I8);
    if (!rc) rc = gguf_writer_begin_data(w);
    if (!rc) rc = gguf_writer_write(w, data, 3);                       /* buffered */
    if (!rc) rc = gguf_writer_write(w, data + 3, (5u << 20) - 3);      /* direct, after a flush */
    if (!rc) rc = gguf_writer_write(w, data + (5u << 20), n - (5u << 20));
    if (!rc) rc = gguf_writer_end_tensor(w);
    if (rc) { *err = *gguf_writer_error(w); gguf_writer_abort(w); return rc; }
    return gguf_writer_finish(w, err);
}

TEST(big_writes)
{
    char p[512], tmp[600];
    gguf_error err;
    size_t n = (6u << 20) + 5;
    uint8_t *data = malloc(n);
    fill(data, n, 99);
    th_path(p, "%s/big.gguf", th_tmp());
    th_path(tmp, "%s.tmp", p);
    setenv("GGUF_FAULT_WRITE_AFTER", "3000000", 1);
    int rc = write_big(p, data, n, &err);
    unsetenv("GGUF_FAULT_WRITE_AFTER");
    if (rc != GGUF_E_IO || exists(p) || exists(tmp)) { free(data); CHECK_MSG(0, "fault: rc %d", rc); }
    rc = write_big(p, data, n, &err);
    if (rc) { free(data); CHECK_MSG(0, "%s", err.msg); }
    gguf_file *f = gguf_open(p, &err);
    int same = f && gguf_tensor(f, 0)->size == n && !memcmp(gguf_tensor(f, 0)->data, data, n);
    gguf_close(f);
    free(data);
    CHECK(same);
    CHECK_EQ_INT(file_size(p) % 32, 0);
}

TEST(validate_data)
{
    char p[512];
    gguf_error err;
    th_path(p, "%s/nan.gguf", th_tmp());
    gguf_writer *w = gguf_writer_open(p, GGUF_W_NOSYNC, &err);
    int64_t ne32[4] = { 8, 1, 1, 1 }, ne256[4] = { 256, 2, 1, 1 };
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "f32", 1, ne32, GGUF_TYPE_F32), 0);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "f16", 1, ne32, GGUF_TYPE_F16), 0);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "bf16", 1, ne32, GGUF_TYPE_BF16), 0);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "q6k", 2, ne256, GGUF_TYPE_Q6_K), 0);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "q4k", 2, ne256, GGUF_TYPE_Q4_K), 0);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "q8", 1, ne256, GGUF_TYPE_Q8_0), 0);
    CHECK_EQ_INT(gguf_writer_begin_data(w), 0);
    float f[8] = { 1, 2, 3, 4, 5, INFINITY, 7, NAN };
    CHECK_EQ_INT(gguf_writer_tensor(w, f, sizeof f), 0);
    uint16_t h[8] = { 0x3c00, 0x3c00, 0x3c00, 0x7e00, 0, 0, 0, 0 };
    CHECK_EQ_INT(gguf_writer_tensor(w, h, sizeof h), 0);
    uint16_t b[8] = { 0x3f80, 0x3f80, 0xff80, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(gguf_writer_tensor(w, b, sizeof b), 0);
    uint8_t q6[420] = { 0 };
    q6[210 + 208] = 0x00; q6[210 + 209] = 0x7c;   /* block 1: d = +inf (d is last) */
    q6[0] = 0xff; q6[1] = 0x7f;                     /* ql bytes of block 0: not a scale */
    CHECK_EQ_INT(gguf_writer_tensor(w, q6, sizeof q6), 0);
    uint8_t q4[288] = { 0 };
    q4[144 + 2] = 0x01; q4[144 + 3] = 0xfe;         /* block 1: dmin = NaN */
    CHECK_EQ_INT(gguf_writer_tensor(w, q4, sizeof q4), 0);
    uint8_t q8[272] = { 0 };
    q8[34 * 5 + 1] = 0x7c;                          /* block 5: d = inf */
    q8[34 * 2 + 3] = 0xff;                          /* qs byte, not a scale */
    CHECK_EQ_INT(gguf_writer_tensor(w, q8, sizeof q8), 0);
    CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
    gguf_file *gf = gguf_open(p, &err);
    CHECK(gf);
    uint64_t bad = 0;
    static const uint64_t want[] = { 5, 3, 2, 256, 256, 160 };
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(gguf_validate_data(gguf_tensor(gf, i), &bad, &err), GGUF_E_NONFINITE);
        CHECK_EQ_INT(bad, want[i]);
        CHECK(strstr(err.msg, gguf_tensor(gf, i)->name));
    }
    gguf_close(gf);
}

TEST(types_and_names)
{
    CHECK(gguf_type_valid(GGUF_TYPE_Q4_K));
    CHECK(!gguf_type_valid(4) && !gguf_type_valid(5) && !gguf_type_valid(31) && !gguf_type_valid(32) &&
          !gguf_type_valid(33) && !gguf_type_valid(-1) && !gguf_type_valid(GGUF_TYPE_COUNT));
    CHECK_EQ_STR(gguf_type_name(GGUF_TYPE_Q6_K), "Q6_K");
    CHECK_EQ_STR(gguf_type_name(4), "?");
    CHECK_EQ_INT(gguf_type_from_name("q8_0"), GGUF_TYPE_Q8_0);
    CHECK_EQ_INT(gguf_type_from_name("bf16"), GGUF_TYPE_BF16);
    CHECK_EQ_INT(gguf_type_from_name("Q9_9"), -1);
    CHECK_EQ_INT(gguf_type_block_elems(GGUF_TYPE_Q4_K), 256);
    CHECK_EQ_INT(gguf_type_block_bytes(GGUF_TYPE_Q4_K), 144);
    CHECK_EQ_INT(gguf_type_block_bytes(GGUF_TYPE_Q6_K), 210);
    CHECK_EQ_INT(gguf_type_block_bytes(GGUF_TYPE_Q5_0), 22);
    CHECK_EQ_INT(gguf_type_block_bytes(GGUF_TYPE_Q8_0), 34);
    CHECK(gguf_type_is_quantized(GGUF_TYPE_Q8_0) && !gguf_type_is_quantized(GGUF_TYPE_BF16));
    CHECK_EQ_INT(gguf_row_bytes(GGUF_TYPE_Q8_0, 64), 68);
    CHECK_EQ_INT(gguf_row_bytes(GGUF_TYPE_Q8_0, 65), 0);
    bool ovf;
    int64_t ne[4] = { INT64_MAX / 2, 3, 1, 1 };
    CHECK_EQ_INT(gguf_tensor_bytes(GGUF_TYPE_F32, ne, 2, &ovf), 0);
    CHECK(ovf);
    int64_t ne2[4] = { 5120, 27648, 1, 1 };
    CHECK_EQ_INT(gguf_tensor_bytes(GGUF_TYPE_Q4_K, ne2, 2, &ovf), 5120ll / 256 * 144 * 27648);
    CHECK(!ovf);
    CHECK_EQ_STR(gguf_kv_type_name(GGUF_KV_FLOAT64), "f64");
    CHECK_EQ_INT(gguf_kv_type_size(GGUF_KV_UINT16), 2);
    CHECK_EQ_INT(gguf_kv_type_size(GGUF_KV_STRING), 0);
    CHECK_EQ_STR(gguf_status_name(GGUF_E_TRUNCATED), "GGUF_E_TRUNCATED");
    CHECK_EQ_STR(gguf_status_name(GGUF_E_NONFINITE), "GGUF_E_NONFINITE");
    CHECK_EQ_STR(gguf_status_name(GGUF_OK), "GGUF_OK");
    CHECK(gguf_status_str(-999) != NULL);
    char buf[256];
    CHECK_EQ_INT(gguf_split_path(buf, sizeof buf, "out/m", 1, 3), 25);
    CHECK_EQ_STR(buf, "out/m-00002-of-00003.gguf");
    CHECK_EQ_INT(gguf_split_prefix(buf, sizeof buf, "out/m-00002-of-00003.gguf", 1, 3), 5);
    CHECK_EQ_STR(buf, "out/m");
    CHECK_EQ_INT(gguf_split_prefix(buf, sizeof buf, "out/m-00002-of-00003.gguf", 0, 3), 0);
    CHECK_EQ_INT(gguf_split_prefix(buf, sizeof buf, "m.gguf", 0, 1), 0);
    gguf_error e;
    gguf_error_clear(&e);
    CHECK_EQ_INT(e.code, 0);
    CHECK_EQ_INT(gguf_error_set(&e, GGUF_E_KEY, 7, "a\nb %d", 3), GGUF_E_KEY);
    CHECK_EQ_STR(e.msg, "a b 3");
    CHECK_EQ_INT(gguf_error_set(NULL, GGUF_E_KEY, 7, "x"), GGUF_E_KEY);
}

TH_MAIN()
