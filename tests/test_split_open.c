/*
 * test_split_open.c - a set written by gguf-split opens through gguf_open(first shard) as the
 * same model as its input: same KVs (plus the three split keys), same tensors in the same order
 * with the same shapes, types and data (XXH3-128 of every tensor), spread over the expected files;
 * and the merged file opens as the original. Runs the built tool ($TH_BIN/gguf-split) on a real
 * llama-quantize output from testdata/golden-quant.
 */
#include "th.h"
#include "gguf.h"

#include <stdint.h>
#include <xxhash.h>

static int run_tool(const char *args)
{
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "'%s/gguf-split' %s >/dev/null 2>&1", th_env("TH_BIN", "build/bin"), args);
    if (n < 0 || (size_t)n >= sizeof cmd) return -1;
    return system(cmd);
}

static bool same_hash(const gguf_tensor_info *a, const gguf_tensor_info *b)
{
    XXH128_hash_t ha = XXH3_128bits(a->data, a->size), hb = XXH3_128bits(b->data, b->size);
    return XXH128_isEqual(ha, hb);
}

/* Every tensor of got equals the one of want at the same index. Returns a failure text or NULL. */
static const char *same_tensors(const gguf_file *want, const gguf_file *got)
{
    static char why[256];
    if (gguf_n_tensors(want) != gguf_n_tensors(got)) return "tensor count differs";
    for (int64_t i = 0; i < gguf_n_tensors(want); i++) {
        const gguf_tensor_info *a = gguf_tensor(want, i), *b = gguf_tensor(got, i);
        bool ne_eq = a->n_dims == b->n_dims;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) ne_eq = ne_eq && a->ne[d] == b->ne[d];
        if (strcmp(a->name, b->name) || a->type != b->type || a->size != b->size || !ne_eq ||
            !a->data || !b->data || !same_hash(a, b)) {
            snprintf(why, sizeof why, "tensor %lld ('%s') differs", (long long)i, a->name);
            return why;
        }
    }
    return NULL;
}

/* got has want's KVs, byte for byte, in the same order, then exactly the three split keys. */
static const char *same_kvs_plus_split(const gguf_file *want, const gguf_file *got, int count)
{
    static char why[256];
    int64_t n = gguf_n_kv(want);
    if (gguf_n_kv(got) != n + 3) return "KV count is not the input's + 3";
    for (int64_t i = 0; i < n; i++) {
        const void *pa, *pb;
        uint64_t la, lb;
        gguf_kv_raw(want, i, &pa, &la);
        gguf_kv_raw(got, i, &pb, &lb);
        if (strcmp(gguf_kv_key(want, i), gguf_kv_key(got, i)) || gguf_kv_get_type(want, i) != gguf_kv_get_type(got, i) ||
            la != lb || memcmp(pa, pb, la)) {
            snprintf(why, sizeof why, "KV %lld ('%s') differs", (long long)i, gguf_kv_key(want, i));
            return why;
        }
    }
    if (strcmp(gguf_kv_key(got, n), "split.no") || gguf_kv_get_type(got, n) != GGUF_KV_UINT16 || gguf_kv_u16(got, n) != 0)
        return "split.no is not u16 0 after the input KVs";
    if (strcmp(gguf_kv_key(got, n + 1), "split.tensors.count") || gguf_kv_get_type(got, n + 1) != GGUF_KV_INT32 ||
        gguf_kv_i32(got, n + 1) != gguf_n_tensors(want))
        return "split.tensors.count is not i32 n_tensors";
    if (strcmp(gguf_kv_key(got, n + 2), "split.count") || gguf_kv_get_type(got, n + 2) != GGUF_KV_UINT16 ||
        gguf_kv_u16(got, n + 2) != count)
        return "split.count is not u16 count";
    return NULL;
}

static void check_set(const char *opts, const char *prefix, int count, const int64_t *per_file)
{
    char in[1024], first[1024], merged[1024], args[4096], pfx[1024];
    th_path(in, "%s/golden-quant/fallback-q80.gguf", th_testdata());
    th_path(pfx, "%s/%s", th_tmp(), prefix);
    int n = snprintf(args, sizeof args, "%s '%s' '%s'", opts, in, pfx);
    CHECK(n > 0 && (size_t)n < sizeof args);
    CHECK_EQ_INT(run_tool(args), 0);
    CHECK(gguf_split_path(first, sizeof first, pfx, 0, count) > 0);

    gguf_error err;
    gguf_file *orig = gguf_open(in, &err);
    CHECK_MSG(orig, "open %.300s: %.300s", in, err.msg);
    gguf_file *set = gguf_open(first, &err);
    if (!set) { gguf_close(orig); CHECK_MSG(0, "open %.300s: %.300s", first, err.msg); }
    const char *why = NULL;
    if (gguf_n_files(set) != (uint32_t)count) why = "wrong number of files in the set";
    for (int i = 0, t = 0; !why && i < count; i++) {
        if (gguf_file_n_tensors(set, (uint32_t)i) != per_file[i]) why = "wrong tensors per file";
        for (int64_t j = 0; !why && j < per_file[i]; j++, t++)
            if (gguf_tensor(set, t)->file_index != (uint32_t)i) why = "a tensor's file_index is not its file";
    }
    if (!why) why = same_tensors(orig, set);
    if (!why) why = same_kvs_plus_split(orig, set, count);
    gguf_close(set);
    if (why) { gguf_close(orig); CHECK_MSG(0, "%.300s: %.300s", first, why); }

    th_path(merged, "%s/%s-merged.gguf", th_tmp(), prefix);
    n = snprintf(args, sizeof args, "--merge '%s' '%s'", first, merged);
    if (n < 0 || (size_t)n >= sizeof args) { gguf_close(orig); CHECK(0); }
    if (run_tool(args)) { gguf_close(orig); CHECK_MSG(0, "merge of %.300s failed", first); }
    gguf_file *m = gguf_open(merged, &err);
    if (!m) { gguf_close(orig); CHECK_MSG(0, "open %.300s: %.300s", merged, err.msg); }
    why = gguf_n_files(m) != 1 ? "merged file is a set" : same_tensors(orig, m);
    if (!why && gguf_n_kv(m) != gguf_n_kv(orig)) why = "merged KV count differs";
    if (!why && gguf_find_key(m, "split.count") >= 0) why = "merged file kept split.count";
    gguf_close(m);
    gguf_close(orig);
    CHECK_MSG(!why, "%.300s: %.300s", merged, why);
}

/* fallback-q80.gguf has 6 tensors */
TEST(set_by_tensors_opens_as_original)
{
    static const int64_t per[] = { 2, 2, 2 };
    check_set("--split-max-tensors 2", "t", 3, per);
}

TEST(set_with_metadata_only_first_shard_opens_as_original)
{
    static const int64_t per[] = { 0, 4, 2 };
    check_set("--no-tensor-first-split --split-max-tensors 4", "n", 3, per);
}

TEST(one_shard_set_opens_as_original)
{
    static const int64_t per[] = { 6 };
    check_set("", "one", 1, per);
}

TH_MAIN()
