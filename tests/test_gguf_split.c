/* test_gguf_split.c - split sets written with the writer open as one model through their
 * first file (FORMATS.md 4): tensor order, file_index/data per shard, the split.* checks. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf.h"
#include "th.h"

/* Write shard i of n with the given tensors (each [16 * (k + 1)] F32 filled with k). */
static int shard(const char *prefix, int i, int n, int total, int first_t, int n_t, bool with_arch)
{
    char p[1024];
    gguf_split_path(p, sizeof p, prefix, i, n);
    gguf_error err;
    gguf_writer *w = gguf_writer_open(p, GGUF_W_NOSYNC | GGUF_W_FORCE, &err);
    if (!w) return err.code;
    if (with_arch) gguf_writer_kv_str(w, "general.architecture", "qwen2", 5);
    gguf_writer_kv_u16(w, "split.no", (uint16_t)i);
    gguf_writer_kv_i32(w, "split.tensors.count", total);
    gguf_writer_kv_u16(w, "split.count", (uint16_t)n);
    for (int k = first_t; k < first_t + n_t; k++) {
        char name[32];
        snprintf(name, sizeof name, "t%d.weight", k);
        int64_t ne[4] = { 16 * (k + 1), 1, 1, 1 };
        gguf_writer_add_tensor(w, name, 1, ne, GGUF_TYPE_F32);
    }
    gguf_writer_begin_data(w);
    for (int k = first_t; k < first_t + n_t; k++) {
        float v[16 * 64];
        for (int j = 0; j < 16 * (k + 1); j++) v[j] = (float)k;
        gguf_writer_tensor(w, v, sizeof(float) * 16 * (size_t)(k + 1));
    }
    return gguf_writer_finish(w, &err);
}

TEST(three_shards)
{
    char prefix[1024], p[1100];
    th_path(prefix, "%s/model", th_tmp());
    /* shard 1 holds only metadata (gguf-split --no-tensor-first-split) */
    CHECK_EQ_INT(shard(prefix, 0, 3, 5, 0, 0, true), 0);
    CHECK_EQ_INT(shard(prefix, 1, 3, 5, 0, 2, false), 0);
    CHECK_EQ_INT(shard(prefix, 2, 3, 5, 2, 3, false), 0);
    gguf_error err;
    gguf_file *f = gguf_open(gguf_split_path(p, sizeof p, prefix, 0, 3) > 0 ? p : NULL, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_files(f), 3);
    CHECK_EQ_INT(gguf_n_tensors(f), 5);
    CHECK_EQ_INT(gguf_file_n_tensors(f, 0), 0);
    CHECK_EQ_INT(gguf_file_n_tensors(f, 1), 2);
    CHECK_EQ_INT(gguf_file_n_tensors(f, 2), 3);
    CHECK_EQ_INT(gguf_n_kv(f), 4);   /* the first file's metadata */
    CHECK(gguf_find_key(f, "general.architecture") == 0);
    gguf_split_path(p, sizeof p, prefix, 2, 3);
    CHECK(!strcmp(gguf_file_path(f, 2), p));
    for (int k = 0; k < 5; k++) {
        const gguf_tensor_info *t = gguf_tensor(f, k);
        char name[32];
        snprintf(name, sizeof name, "t%d.weight", k);
        CHECK_EQ_STR(t->name, name);
        CHECK_EQ_INT(gguf_find_tensor(f, name), k);
        CHECK_EQ_INT(t->file_index, k < 2 ? 1 : 2);
        CHECK_EQ_INT(t->offset % 32, 0);
        CHECK_EQ_INT(t->size, 64 * (k + 1));
        float v;
        memcpy(&v, (const uint8_t *)t->data + t->size - 4, 4);
        CHECK(v == (float)k);
        /* data also readable through the shard's fd */
        CHECK(pread(gguf_file_fd(f, t->file_index), &v, 4, (off_t)t->file_offset) == 4 && v == (float)k);
        gguf_release(f, t);
    }
    CHECK_EQ_INT(gguf_check_unchanged(f, &err), 0);
    /* a shard shrinking under us is detected */
    CHECK(truncate(p, 100) == 0);
    CHECK_EQ_INT(gguf_check_unchanged(f, &err), GGUF_E_CHANGED);
    CHECK(strstr(err.msg, p));
    gguf_close(f);
}

TEST(open_options)
{
    char prefix[1024], p[1100];
    th_path(prefix, "%s/m2", th_tmp());
    CHECK_EQ_INT(shard(prefix, 0, 2, 3, 0, 1, true), 0);
    CHECK_EQ_INT(shard(prefix, 1, 2, 3, 1, 2, false), 0);
    gguf_error err;
    gguf_split_path(p, sizeof p, prefix, 0, 2);
    gguf_open_opts o = { .no_split = true };
    gguf_file *f = gguf_open_ex(p, &o, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_files(f), 1);
    CHECK_EQ_INT(gguf_n_tensors(f), 1);
    gguf_close(f);
    /* the second shard given directly: split.no != 0 */
    gguf_split_path(p, sizeof p, prefix, 1, 2);
    CHECK(gguf_open(p, &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_SPLIT);
    CHECK(strstr(err.msg, p));
    f = gguf_open_ex(p, &o, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_tensors(f), 2);
    gguf_close(f);
    /* a shard missing */
    CHECK(unlink(p) == 0);
    gguf_split_path(p, sizeof p, prefix, 0, 2);
    CHECK(gguf_open(p, &err) == NULL);
    CHECK_EQ_INT(err.code, GGUF_E_SPLIT);
    CHECK(strstr(err.msg, "m2-00002-of-00002.gguf"));
}

/* A merged file keeps split.count = 0 and opens as a single file; so does split.count = 1. */
TEST(merged_and_single)
{
    char p[1024];
    gguf_error err;
    for (int count = 0; count <= 1; count++) {
        /* even under a split-pattern name: split.count decides */
        th_path(p, count ? "%s/merged%d.gguf" : "%s/merged%d-00001-of-00003.gguf", th_tmp(), count);
        gguf_writer *w = gguf_writer_open(p, GGUF_W_NOSYNC, &err);
        CHECK(w);
        gguf_writer_kv_u16(w, "split.no", 0);
        gguf_writer_kv_i32(w, "split.tensors.count", 1);
        gguf_writer_kv_u16(w, "split.count", (uint16_t)count);
        int64_t ne[4] = { 8, 1, 1, 1 };
        CHECK_EQ_INT(gguf_writer_add_tensor(w, "x", 1, ne, GGUF_TYPE_F32), 0);
        float v[8] = { 0 };
        CHECK_EQ_INT(gguf_writer_begin_data(w), 0);
        CHECK_EQ_INT(gguf_writer_tensor(w, v, sizeof v), 0);
        CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
        gguf_file *f = gguf_open(p, &err);
        CHECK_MSG(f, "%s", err.msg);
        CHECK_EQ_INT(gguf_n_files(f), 1);
        gguf_close(f);
    }
}

TH_MAIN()
