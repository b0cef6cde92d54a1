/*
 * test_gguf_real.c - libgguf against three real GGUF v3 files written by another
 * implementation (llama.cpp's vocab-only test models, testdata/real-gguf/, gzipped).
 * Expected values come from a small independent Python parser (struct.unpack over the raw
 * bytes; see tests/real_gguf_expect.py), not from this library.
 */
#include <stdint.h>
#include <zlib.h>
#include "gguf.h"
#include "th.h"

/* gunzip testdata/real-gguf/NAME.gz into TH_TMP/NAME; returns the path in out. */
static int unpack(const char *name, char *out, size_t outsz)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/real-gguf/%s.gz", th_testdata(), name);
    snprintf(out, outsz, "%s/%s", th_tmp(), name);
    gzFile in = gzopen(src, "rb");
    if (!in) return -1;
    FILE *o = fopen(out, "wb");
    if (!o) { gzclose(in); return -1; }
    char buf[65536];
    int n, rc = 0;
    while ((n = gzread(in, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)n, o) != (size_t)n) rc = -1;
    if (n < 0) rc = -1;
    gzclose(in);
    if (fclose(o)) rc = -1;
    return rc;
}

static bool str_is(gguf_str s, const char *want) { return s.len == strlen(want) && !memcmp(s.ptr, want, s.len); }

/* sum of the byte lengths of every element of a string array */
static uint64_t str_arr_bytes(const gguf_file *f, int64_t i)
{
    uint64_t n = 0;
    for (uint64_t j = 0; j < gguf_kv_arr_n(f, i); j++) n += gguf_kv_arr_str(f, i, j).len;
    return n;
}

static int64_t i32_arr_sum(const gguf_file *f, int64_t i)
{
    const uint8_t *p = gguf_kv_arr_data(f, i);
    int64_t s = 0;
    for (uint64_t j = 0; j < gguf_kv_arr_n(f, i); j++) { int32_t v; memcpy(&v, p + 4 * j, 4); s += v; }
    return s;
}

static uint32_t u32_of(const gguf_file *f, const char *k)
{
    int64_t i = gguf_find_key(f, k);
    return i >= 0 && gguf_kv_get_type(f, i) == GGUF_KV_UINT32 ? gguf_kv_u32(f, i) : 0xffffffffu;
}

TEST(gpt2)
{
    char p[1024];
    gguf_error err;
    CHECK(unpack("ggml-vocab-gpt-2.gguf", p, sizeof p) == 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_version(f), 3);
    CHECK_EQ_INT(gguf_file_size(f), 1766807);
    CHECK_EQ_INT(gguf_n_kv(f), 16);
    CHECK_EQ_INT(gguf_n_tensors(f), 0);
    CHECK_EQ_STR(gguf_kv_key(f, 0), "general.architecture");
    CHECK_EQ_STR(gguf_kv_key(f, 15), "tokenizer.ggml.eos_token_id");
    gguf_str s;
    CHECK_EQ_INT(gguf_get_str(f, "general.architecture", &s, &err), 0); CHECK(str_is(s, "gpt2"));
    CHECK_EQ_INT(gguf_get_str(f, "tokenizer.ggml.model", &s, &err), 0); CHECK(str_is(s, "gpt2"));
    CHECK_EQ_INT(gguf_get_str(f, "tokenizer.ggml.pre", &s, &err), 0); CHECK(str_is(s, "gpt-2"));
    CHECK_EQ_INT(u32_of(f, "gpt2.context_length"), 1024);
    CHECK_EQ_INT(u32_of(f, "gpt2.embedding_length"), 768);
    CHECK_EQ_INT(u32_of(f, "tokenizer.ggml.bos_token_id"), 50256);
    double eps;
    CHECK_EQ_INT(gguf_get_float(f, "gpt2.attention.layer_norm_epsilon", &eps, &err), 0);
    CHECK(eps == (double)9.999999747378752e-06);
    int64_t t = gguf_find_key(f, "tokenizer.ggml.tokens");
    CHECK(t >= 0);
    CHECK_EQ_INT(gguf_kv_arr_type(f, t), GGUF_KV_STRING);
    CHECK_EQ_INT(gguf_kv_arr_n(f, t), 50257);
    CHECK(str_is(gguf_kv_arr_str(f, t, 0), "!"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 1000), "ale"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 25128), "++++++++"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 50256), "<|endoftext|>"));
    CHECK_EQ_INT(str_arr_bytes(f, t), 356735);
    int64_t tt = gguf_find_key(f, "tokenizer.ggml.token_type");
    CHECK_EQ_INT(gguf_kv_arr_type(f, tt), GGUF_KV_INT32);
    CHECK_EQ_INT(i32_arr_sum(f, tt), 50259);
    int64_t m = gguf_find_key(f, "tokenizer.ggml.merges");
    CHECK_EQ_INT(gguf_kv_arr_n(f, m), 50000);
    CHECK(str_is(gguf_kv_arr_str(f, m, 1000), "\xc4\xa0l ot"));
    CHECK_EQ_INT(str_arr_bytes(f, m), 406304);
    gguf_close(f);
}

TEST(llama_spm)
{
    char p[1024];
    gguf_error err;
    CHECK(unpack("ggml-vocab-llama-spm.gguf", p, sizeof p) == 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_kv(f), 22);
    CHECK_EQ_INT(gguf_n_tensors(f), 0);
    gguf_str s;
    CHECK_EQ_INT(gguf_get_str(f, "general.architecture", &s, &err), 0); CHECK(str_is(s, "llama"));
    CHECK_EQ_INT(gguf_get_str(f, "general.name", &s, &err), 0); CHECK(str_is(s, "llama-spm"));
    CHECK_EQ_INT(gguf_get_str(f, "tokenizer.ggml.model", &s, &err), 0); CHECK(str_is(s, "llama"));
    CHECK_EQ_INT(u32_of(f, "llama.vocab_size"), 32000);
    CHECK_EQ_INT(u32_of(f, "tokenizer.ggml.unknown_token_id"), 0);
    bool b;
    CHECK_EQ_INT(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b, &err), 0); CHECK(b);
    CHECK_EQ_INT(gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b, &err), 0); CHECK(!b);
    int64_t t = gguf_find_key(f, "tokenizer.ggml.tokens");
    CHECK_EQ_INT(gguf_kv_arr_n(f, t), 32000);
    CHECK(str_is(gguf_kv_arr_str(f, t, 0), "<unk>"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 1), "<s>"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 100), "<0x61>"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 16000), "\xe2\x96\x81" "deleg"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 31999), "\xe7\xbb\x99"));
    CHECK_EQ_INT(str_arr_bytes(f, t), 210919);
    int64_t sc = gguf_find_key(f, "tokenizer.ggml.scores");
    CHECK_EQ_INT(gguf_kv_arr_type(f, sc), GGUF_KV_FLOAT32);
    float v;
    memcpy(&v, (const uint8_t *)gguf_kv_arr_data(f, sc) + 4 * 1000, 4);
    CHECK(v == -741.0f);
    memcpy(&v, (const uint8_t *)gguf_kv_arr_data(f, sc) + 4 * 31999, 4);
    CHECK(v == -31740.0f);
    CHECK_EQ_INT(i32_arr_sum(f, gguf_find_key(f, "tokenizer.ggml.token_type")), 33285);
    CHECK_EQ_INT(gguf_find_key(f, "tokenizer.ggml.merges"), -1);
    gguf_close(f);
}

TEST(deepseek_coder)
{
    char p[1024];
    gguf_error err;
    CHECK(unpack("ggml-vocab-deepseek-coder.gguf", p, sizeof p) == 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_kv(f), 25);
    CHECK_EQ_INT(gguf_n_tensors(f), 0);
    gguf_str s;
    CHECK_EQ_INT(gguf_get_str(f, "tokenizer.ggml.pre", &s, &err), 0); CHECK(str_is(s, "deepseek-coder"));
    CHECK_EQ_INT(gguf_get_str(f, "llama.rope.scaling.type", &s, &err), 0); CHECK(str_is(s, "linear"));
    double d;
    CHECK_EQ_INT(gguf_get_float(f, "llama.rope.freq_base", &d, &err), 0); CHECK(d == 100000.0);
    CHECK_EQ_INT(gguf_get_float(f, "llama.rope.scaling.factor", &d, &err), 0); CHECK(d == 4.0);
    int64_t iv;
    CHECK_EQ_INT(gguf_get_int(f, "llama.context_length", &iv, &err), 0); CHECK_EQ_INT(iv, 16384);
    CHECK_EQ_INT(gguf_get_int(f, "tokenizer.ggml.bos_token_id", &iv, &err), 0); CHECK_EQ_INT(iv, 32013);
    CHECK_EQ_INT(gguf_get_int(f, "tokenizer.ggml.padding_token_id", &iv, &err), 0); CHECK_EQ_INT(iv, 32014);
    int64_t t = gguf_find_key(f, "tokenizer.ggml.tokens");
    CHECK_EQ_INT(gguf_kv_arr_n(f, t), 32256);
    CHECK(str_is(gguf_kv_arr_str(f, t, 100), "\xc2\xa7"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 16128), "fony"));
    CHECK(str_is(gguf_kv_arr_str(f, t, 32255), "[PAD32255]"));
    CHECK_EQ_INT(str_arr_bytes(f, t), 242498);
    CHECK_EQ_INT(i32_arr_sum(f, gguf_find_key(f, "tokenizer.ggml.token_type")), 33022);
    int64_t m = gguf_find_key(f, "tokenizer.ggml.merges");
    CHECK_EQ_INT(gguf_kv_arr_n(f, m), 31757);
    CHECK(str_is(gguf_kv_arr_str(f, m, 1000), "\xc4\xa0pe ople"));
    CHECK_EQ_INT(str_arr_bytes(f, m), 271354);
    gguf_close(f);
}

/* Copying every KV of a real file through the writer reproduces its metadata bytes exactly:
 * the output equals the input up to the end of the KVs (both have 0 tensors). */
TEST(kv_copy_reproduces_real_file)
{
    char p[1024], o[1024];
    gguf_error err;
    CHECK(unpack("ggml-vocab-llama-spm.gguf", p, sizeof p) == 0);
    gguf_file *f = gguf_open(p, &err);
    CHECK(f);
    th_path(o, "%s/copy.gguf", th_tmp());
    gguf_writer *w = gguf_writer_open(o, GGUF_W_NOSYNC, &err);
    CHECK(w);
    for (int64_t i = 0; i < gguf_n_kv(f); i++) CHECK_EQ_INT(gguf_writer_kv_copy(w, f, i), 0);
    CHECK_EQ_INT(gguf_writer_finish(w, &err), 0);
    gguf_file *g = gguf_open(o, &err);
    CHECK(g);
    uint64_t n = gguf_file_size(f);   /* the input ends right after its KVs */
    CHECK_EQ_INT(gguf_file_size(g), (n + 31) / 32 * 32);
    FILE *a = fopen(p, "rb"), *b = fopen(o, "rb");
    int same = 1;
    for (uint64_t i = 0; i < n; i++) if (fgetc(a) != fgetc(b)) { same = 0; break; }
    fclose(a);
    fclose(b);
    CHECK(same);
    gguf_close(f);
    gguf_close(g);
}

TH_MAIN()
