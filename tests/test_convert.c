/*
 * test_convert.c - gguf-convert end to end on a gguf-synth model with the real Qwen tokenizer:
 * every KV checked by key, type and value in convert_hf_to_gguf.py's order; every tensor checked
 * against the safetensors source (bytes for bf16, exact values for f32/f16, dequantized closeness
 * for q8_0/q4_k_m); tied embeddings; split output opening as one model with identical data.
 */
#include "th.h"
#include "gguf.h"
#include "convert/hfmodel.h"
#include "convert/convert.h"
#include "quant/quant.h"

#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_model[512], g_tied[512];
static int g_ready = -1;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Two synthetic models: untied in 3 shards, tied in 2 (hidden 256, 2 layers, vocab 151936). */
static int setup(void)
{
    if (g_ready >= 0) return g_ready;
    const char *bin = th_env("TH_BIN", "build/bin");
    th_path(g_model, "%s/qwen2-tiny-v1.5", th_tmp());
    th_path(g_tied, "%s/tied", th_tmp());
    g_ready = sh("'%s/gguf-synth' '%s' -q --shards 3 --seed 7 --tokenizer-dir '%s/qwen'", bin, g_model, th_testdata()) == 0 &&
              sh("'%s/gguf-synth' '%s' -q --shards 2 --seed 8 --tied --tokenizer-dir '%s/qwen' --chat-template '%s/qwen/Qwen-QwQ-32B.jinja'",
                 bin, g_tied, th_testdata(), th_testdata()) == 0;
    return g_ready;
}

static int convert(const char *dir, const char *out, const char *args)
{
    return sh("GGUF_TEST_NOSYNC=1 '%s/gguf-convert' '%s' -o '%s' -q %s", th_env("TH_BIN", "build/bin"), dir, out, args);
}

static bool str_is(gguf_str s, const char *c) { return s.len == strlen(c) && !memcmp(s.ptr, c, s.len); }

/* expected KV list, in order */
typedef struct kv_exp { const char *key; int type; int64_t i; double f; const char *s; } kv_exp;

/* entries with a NULL key are left out (keys that only some callers expect) */
static void check_kvs(gguf_file *f, const kv_exp *e_in, int n_in)
{
    kv_exp e[64];
    int n = 0;
    for (int i = 0; i < n_in && n < 64; i++)
        if (e_in[i].key) e[n++] = e_in[i];
    CHECK_EQ_INT(gguf_n_kv(f), n);
    for (int i = 0; i < n; i++) {
        CHECK_MSG(!strcmp(gguf_kv_key(f, i), e[i].key), "KV %d is '%s', expected '%s'", i, gguf_kv_key(f, i), e[i].key);
        CHECK_MSG(gguf_kv_get_type(f, i) == (gguf_kv_type)e[i].type, "KV '%s' has type %s, expected %s", e[i].key,
                  gguf_kv_type_name(gguf_kv_get_type(f, i)), gguf_kv_type_name(e[i].type));
        switch (e[i].type) {
        case GGUF_KV_UINT32: CHECK_MSG(gguf_kv_u32(f, i) == (uint32_t)e[i].i, "KV '%s' = %u, expected %" PRId64, e[i].key, gguf_kv_u32(f, i), e[i].i); break;
        case GGUF_KV_INT32: CHECK_EQ_INT(gguf_kv_i32(f, i), e[i].i); break;
        case GGUF_KV_FLOAT32: CHECK_MSG(gguf_kv_f32(f, i) == (float)e[i].f, "KV '%s' = %.9g, expected %.9g", e[i].key, gguf_kv_f32(f, i), (float)e[i].f); break;
        case GGUF_KV_BOOL: CHECK_EQ_INT(gguf_kv_bool(f, i), e[i].i); break;
        case GGUF_KV_STRING:
            if (e[i].s) CHECK_MSG(str_is(gguf_kv_str(f, i), e[i].s), "KV '%s' = '%.*s', expected '%s'", e[i].key,
                                  (int)gguf_kv_str(f, i).len, gguf_kv_str(f, i).ptr, e[i].s);
            break;
        case GGUF_KV_ARRAY: CHECK_MSG(gguf_kv_arr_n(f, i) == (uint64_t)e[i].i, "KV '%s' has %" PRIu64 " elements, expected %" PRId64,
                                      e[i].key, gguf_kv_arr_n(f, i), e[i].i); break;
        }
    }
}

static json_t *load_json(const char *dir, const char *name)
{
    char p[1024];
    th_path(p, "%s/%s", dir, name);
    return json_load_file(p, 0, NULL);
}

static int64_t n_params(int64_t E, int64_t F, int64_t H, int64_t KV, int64_t L, int64_t V, bool tied)
{
    int64_t hd = E / H, q = E, k = KV * hd;
    int64_t layer = E + (E * q + q) + 2 * (E * k + k) + q * E + E + 3 * E * F;
    return V * E * (tied ? 1 : 2) + E + L * layer;
}

static void check_common_kvs(gguf_file *f, const char *dir, int file_type, bool tied, const char *name)
{
    json_t *tc = load_json(dir, "tokenizer_config.json");
    CHECK(tc);
    const char *tmpl = json_string_value(json_object_get(tc, "chat_template"));
    char label[32];
    conv_size_label(n_params(256, 768, 4, 2, 2, 151936, tied), label, sizeof label);
    /* the label is what gguf-py prints for the parameter count: check the formula independently */
    CHECK_EQ_STR(label, tied ? "40M" : "79M");
    kv_exp e[] = {
        { "general.architecture", GGUF_KV_STRING, 0, 0, "qwen2" },
        { "general.type", GGUF_KV_STRING, 0, 0, "model" },
        { "general.name", GGUF_KV_STRING, 0, 0, name },
        /* directory "qwen2-tiny-v1.5": get_model_id_components gives version "v1.5" (a trailing
         * version leaves the basename) and basename "qwen2-tiny"; "tied" alone is too ambiguous
         * (no size/finetune/version), so no basename. set_gguf_meta_model order: name, version,
         * (organization, finetune), basename, ..., size_label. */
        { tied ? "general.size_label" : "general.version", GGUF_KV_STRING, 0, 0, tied ? label : "v1.5" },
        { tied ? NULL : "general.basename", GGUF_KV_STRING, 0, 0, "qwen2-tiny" },
        { tied ? NULL : "general.size_label", GGUF_KV_STRING, 0, 0, label },
        { "qwen2.block_count", GGUF_KV_UINT32, 2, 0, NULL },
        { "qwen2.context_length", GGUF_KV_UINT32, 32768, 0, NULL },
        { "qwen2.embedding_length", GGUF_KV_UINT32, 256, 0, NULL },
        { "qwen2.feed_forward_length", GGUF_KV_UINT32, 768, 0, NULL },
        { "qwen2.attention.head_count", GGUF_KV_UINT32, 4, 0, NULL },
        { "qwen2.attention.head_count_kv", GGUF_KV_UINT32, 2, 0, NULL },
        { "qwen2.rope.freq_base", GGUF_KV_FLOAT32, 0, 1e6, NULL },
        { "qwen2.attention.layer_norm_rms_epsilon", GGUF_KV_FLOAT32, 0, 1e-6, NULL },
        { "general.file_type", GGUF_KV_UINT32, file_type, 0, NULL },
        { "general.quantization_version", GGUF_KV_UINT32, 2, 0, NULL },
        { "tokenizer.ggml.model", GGUF_KV_STRING, 0, 0, "gpt2" },
        { "tokenizer.ggml.pre", GGUF_KV_STRING, 0, 0, "qwen2" },
        { "tokenizer.ggml.tokens", GGUF_KV_ARRAY, 151936, 0, NULL },
        { "tokenizer.ggml.token_type", GGUF_KV_ARRAY, 151936, 0, NULL },
        { "tokenizer.ggml.merges", GGUF_KV_ARRAY, 151387, 0, NULL },
        /* tokenizer_config.json: eos "<|endoftext|>", pad "<|endoftext|>"; then config.json bos_token_id */
        { "tokenizer.ggml.eos_token_id", GGUF_KV_UINT32, 151643, 0, NULL },
        { "tokenizer.ggml.padding_token_id", GGUF_KV_UINT32, 151643, 0, NULL },
        { "tokenizer.ggml.bos_token_id", GGUF_KV_UINT32, 151643, 0, NULL },
        { "tokenizer.ggml.add_bos_token", GGUF_KV_BOOL, 0, 0, NULL },
        { "tokenizer.chat_template", GGUF_KV_STRING, 0, 0, tmpl },
    };
    check_kvs(f, e, (int)(sizeof e / sizeof e[0]));
    json_decref(tc);
    if (th_failed_now) return;
    /* token strings and types */
    int64_t it = gguf_find_key(f, "tokenizer.ggml.tokens"), ty = gguf_find_key(f, "tokenizer.ggml.token_type");
    int64_t im = gguf_find_key(f, "tokenizer.ggml.merges");
    CHECK(gguf_kv_arr_type(f, it) == GGUF_KV_STRING && gguf_kv_arr_type(f, ty) == GGUF_KV_INT32);
    const int32_t *types = gguf_kv_arr_data(f, ty);
    int32_t t0;
    struct { int64_t id; const char *tok; int type; } probe[] = {
        { 0, "!", 1 }, { 151642, NULL, 1 }, { 151643, "<|endoftext|>", 3 }, { 151645, "<|im_end|>", 3 },
        { 151657, "<tool_call>", 4 }, { 151668, "</think>", 4 }, { 151669, "[PAD151669]", 5 }, { 151935, "[PAD151935]", 5 },
    };
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        if (probe[i].tok) CHECK_MSG(str_is(gguf_kv_arr_str(f, it, (uint64_t)probe[i].id), probe[i].tok), "token %" PRId64, probe[i].id);
        memcpy(&t0, types + probe[i].id, 4);
        CHECK_MSG(t0 == probe[i].type, "token %" PRId64 " type %d, expected %d", probe[i].id, t0, probe[i].type);
    }
    CHECK(str_is(gguf_kv_arr_str(f, im, 0), "\xC4\xA0 \xC4\xA0"));
    /* every token string equals tokenizer.json's */
    json_t *tok = load_json(dir, "tokenizer.json");
    CHECK(tok);
    const char *k;
    json_t *v;
    int bad = 0;
    json_object_foreach(json_object_get(json_object_get(tok, "model"), "vocab"), k, v) {
        if (!str_is(gguf_kv_arr_str(f, it, (uint64_t)json_integer_value(v)), k) && !bad++)
            TH_FAILF("token %" PRId64 " differs from tokenizer.json '%s'", (int64_t)json_integer_value(v), k);
    }
    size_t mi;
    json_t *mv;
    json_array_foreach(json_object_get(json_object_get(tok, "model"), "merges"), mi, mv) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s %s", json_string_value(json_array_get(mv, 0)), json_string_value(json_array_get(mv, 1)));
        if (!str_is(gguf_kv_arr_str(f, im, mi), buf) && !bad++) TH_FAILF("merge %zu differs: '%.200s'", mi, buf);
    }
    json_decref(tok);
    CHECK_EQ_INT(bad, 0);
}

static float bf16f(uint16_t h) { uint32_t u = (uint32_t)h << 16; float x; memcpy(&x, &u, 4); return x; }

/* Compare every tensor of f to the source model. */
static void check_tensors(gguf_file *f, const char *dir, int want2d /* -1: quantized, check closeness */)
{
    conv_hf_model *m = NULL;
    gguf_error err;
    CHECK_MSG(conv_hf_open(dir, &m, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_tensors(f), conv_hf_n_tensors(m));
    float *a = NULL, *b = NULL;
    for (int64_t i = 0; i < conv_hf_n_tensors(m); i++) {
        const conv_tensor *s = conv_hf_tensor(m, i);
        const gguf_tensor_info *t = gguf_tensor(f, i);
        CHECK_MSG(!strcmp(t->name, s->name), "tensor %" PRId64 " is '%s', expected '%s' (convert order)", i, t->name, s->name);
        CHECK_EQ_INT(t->n_dims, s->n_dims);
        for (int d = 0; d < 4; d++) CHECK_EQ_INT(t->ne[d], s->ne[d]);
        int64_t n = s->ne[0] * s->ne[1];
        if (s->n_dims == 1) CHECK_MSG(t->type == GGUF_TYPE_F32, "1-D '%s' is %s", t->name, gguf_type_name(t->type));
        else if (want2d >= 0) CHECK_MSG(t->type == want2d, "'%s' is %s", t->name, gguf_type_name(t->type));
        const uint16_t *src = s->data;
        if (t->type == GGUF_TYPE_BF16) {
            CHECK_MSG(t->size == s->size && !memcmp(t->data, s->data, s->size), "'%s' bytes differ", t->name);
        } else if (t->type == GGUF_TYPE_F32) {
            for (int64_t j = 0; j < n; j++) {
                float x;
                memcpy(&x, (const char *)t->data + 4 * j, 4);
                CHECK_MSG(x == bf16f(src[j]), "'%s'[%" PRId64 "] = %g, source %g", t->name, j, x, bf16f(src[j]));
            }
        } else if (t->type == GGUF_TYPE_F16) {
            for (int64_t j = 0; j < n; j++) {
                uint16_t h;
                memcpy(&h, (const char *)t->data + 2 * j, 2);
                CHECK_MSG(fabsf(quant_fp16_to_fp32(h) - bf16f(src[j])) <= 6e-8f, "'%s'[%" PRId64 "]", t->name, j);
            }
        } else {
            /* quantized: dequantize, compare with the source */
            CHECK(gguf_type_is_quantized(t->type));
            a = realloc(a, (size_t)n * sizeof *a);
            b = realloc(b, (size_t)n * sizeof *b);
            quant_to_f32(t->type, t->data, a, n);
            double se = 0, ss = 0, maxerr = 0;
            for (int64_t j = 0; j < n; j++) {
                b[j] = bf16f(src[j]);
                double d = (double)a[j] - b[j];
                se += d * d;
                ss += (double)b[j] * b[j];
                if (fabs(d) > maxerr) maxerr = fabs(d);
            }
            double rel = sqrt(se / ss);
            double lim = t->type == GGUF_TYPE_Q8_0 ? 0.01 : t->type == GGUF_TYPE_Q6_K ? 0.03 : 0.12;
            CHECK_MSG(rel < lim, "'%s' (%s): relative RMS error %.4f >= %.3f", t->name, gguf_type_name(t->type), rel, lim);
            if (t->type == GGUF_TYPE_Q8_0) CHECK_MSG(maxerr <= 0.07 / 127 * 0.5 + 1e-4, "'%s' max error %g", t->name, maxerr);
        }
    }
    free(a);
    free(b);
    conv_hf_close(m);
}

TEST(bf16_default_keys_and_bytes)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    char out[600];
    th_path(out, "%s/bf16.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_model, out, ""), 0);
    gguf_error err;
    gguf_file *f = gguf_open(out, &err);
    CHECK_MSG(f, "%s", err.msg);
    check_common_kvs(f, g_model, 32, false, "Qwen2 Tiny v1.5");
    if (!th_failed_now) check_tensors(f, g_model, GGUF_TYPE_BF16);
    gguf_close(f);
}

TEST(f32_and_f16_values)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    const char *types[] = { "f32", "f16" };
    const int ft[] = { 0, 1 }, tt[] = { GGUF_TYPE_F32, GGUF_TYPE_F16 };
    for (int k = 0; k < 2; k++) {
        char out[600], args[64];
        th_path(out, "%s/%s.gguf", th_tmp(), types[k]);
        snprintf(args, sizeof args, "--type %s", types[k]);
        /* the tied model: half the bytes of the untied one */
        CHECK_EQ_INT(convert(g_tied, out, args), 0);
        gguf_error err;
        gguf_file *f = gguf_open(out, &err);
        CHECK_MSG(f, "%s", err.msg);
        int64_t i = gguf_find_key(f, "general.file_type");
        CHECK(i >= 0 && gguf_kv_u32(f, i) == (uint32_t)ft[k]);
        check_tensors(f, g_tied, tt[k]);
        gguf_close(f);
        unlink(out);
        if (th_failed_now) return;
    }
}

TEST(q8_0_and_q4_k_m)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    char out[600];
    th_path(out, "%s/q8.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_model, out, "--type q8_0 --threads 2"), 0);
    gguf_error err;
    gguf_file *f = gguf_open(out, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_kv_u32(f, gguf_find_key(f, "general.file_type")), 7);
    check_tensors(f, g_model, GGUF_TYPE_Q8_0);
    gguf_close(f);
    unlink(out);
    if (th_failed_now) return;

    th_path(out, "%s/q4km.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_model, out, "--type q4_k_m"), 0);
    f = gguf_open(out, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_kv_u32(f, gguf_find_key(f, "general.file_type")), 15);
    check_tensors(f, g_model, -1);
    /* FORMATS.md 2.5: output Q6_K, token_embd Q4_K (untied), attn_q Q4_K */
    CHECK_EQ_INT(gguf_tensor(f, gguf_find_tensor(f, "output.weight"))->type, GGUF_TYPE_Q6_K);
    CHECK_EQ_INT(gguf_tensor(f, gguf_find_tensor(f, "token_embd.weight"))->type, GGUF_TYPE_Q4_K);
    CHECK_EQ_INT(gguf_tensor(f, gguf_find_tensor(f, "blk.0.attn_q.weight"))->type, GGUF_TYPE_Q4_K);
    gguf_close(f);
    unlink(out);
}

/* The promise of --type q8_0/q4_k_m: every tensor's data equals llama-quantize (here gguf-quantize,
 * byte-identical to it on the golden files) run on the bf16 conversion; KVs equal up to order. */
static void check_same_as_quantize(const char *dir, const char *type)
{
    char q[1024], conv[600], bf[600], ref[600];
    th_path(q, "%s/gguf-quantize", th_env("TH_BIN", "build/bin"));
    if (access(q, X_OK) != 0) TH_SKIP("no gguf-quantize in TH_BIN");
    th_path(bf, "%s/cmp-bf16.gguf", th_tmp());
    th_path(conv, "%s/cmp-conv-%s.gguf", th_tmp(), type);
    th_path(ref, "%s/cmp-ref-%s.gguf", th_tmp(), type);
    char args[64];
    snprintf(args, sizeof args, "--type %s --force", type);
    CHECK_EQ_INT(convert(dir, bf, "--force"), 0);
    CHECK_EQ_INT(convert(dir, conv, args), 0);
    CHECK_EQ_INT(sh("'%s' '%s' '%s' %s 2 >/dev/null 2>&1", q, bf, ref, type), 0);
    gguf_error err;
    gguf_file *a = gguf_open(conv, &err), *b = gguf_open(ref, &err);
    CHECK_MSG(a && b, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_tensors(a), gguf_n_tensors(b));
    for (int64_t i = 0; i < gguf_n_tensors(a); i++) {
        const gguf_tensor_info *x = gguf_tensor(a, i);
        int64_t j = gguf_find_tensor(b, x->name);
        CHECK_MSG(j >= 0, "'%s' missing from the gguf-quantize output", x->name);
        const gguf_tensor_info *y = gguf_tensor(b, j);
        CHECK_MSG(x->type == y->type, "'%s': %s vs gguf-quantize %s", x->name, gguf_type_name(x->type), gguf_type_name(y->type));
        CHECK_MSG(x->size == y->size && !memcmp(x->data, y->data, x->size), "'%s' (%s): data differs from gguf-quantize",
                  x->name, gguf_type_name(x->type));
    }
    CHECK_EQ_INT(gguf_n_kv(a), gguf_n_kv(b));
    for (int64_t i = 0; i < gguf_n_kv(a); i++) {
        int64_t j = gguf_find_key(b, gguf_kv_key(a, i));
        CHECK_MSG(j >= 0, "key '%s' missing from the gguf-quantize output", gguf_kv_key(a, i));
        const void *pa, *pb;
        uint64_t la, lb;
        gguf_kv_raw(a, i, &pa, &la);
        gguf_kv_raw(b, j, &pb, &lb);
        CHECK_MSG(gguf_kv_get_type(a, i) == gguf_kv_get_type(b, j) && la == lb && !memcmp(pa, pb, la),
                  "key '%s' differs from the gguf-quantize output", gguf_kv_key(a, i));
    }
    gguf_close(a);
    gguf_close(b);
    unlink(bf);
    unlink(conv);
    unlink(ref);
}

TEST(q4_k_m_equals_gguf_quantize_of_bf16)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    check_same_as_quantize(g_model, "q4_k_m");
}

TEST(q8_0_equals_gguf_quantize_of_bf16_tied)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    check_same_as_quantize(g_tied, "q8_0");
}

TEST(q4_k_m_equals_gguf_quantize_of_bf16_tied)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    check_same_as_quantize(g_tied, "q4_k_m");
}

TEST(tied_embeddings)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    char out[600];
    th_path(out, "%s/tied.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_tied, out, "--type q4_k_m"), 0);
    gguf_error err;
    gguf_file *f = gguf_open(out, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK(gguf_find_tensor(f, "output.weight") < 0);
    CHECK_EQ_INT(gguf_n_tensors(f), 2 + 2 * 12);
    /* tied: token_embd takes the OUTPUT rule -> Q6_K */
    CHECK_EQ_INT(gguf_tensor(f, gguf_find_tensor(f, "token_embd.weight"))->type, GGUF_TYPE_Q6_K);
    /* chat_template.jinja is ignored when tokenizer_config.json has one */
    json_t *tc = load_json(g_tied, "tokenizer_config.json");
    gguf_str s;
    CHECK(gguf_get_str(f, "tokenizer.chat_template", &s, NULL) == 0);
    CHECK(str_is(s, json_string_value(json_object_get(tc, "chat_template"))));
    json_decref(tc);
    gguf_close(f);
    unlink(out);
    th_path(out, "%s/tied-bf16.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_tied, out, ""), 0);
    f = gguf_open(out, &err);
    CHECK_MSG(f, "%s", err.msg);
    check_common_kvs(f, g_tied, 32, true, "Tied");
    if (!th_failed_now) check_tensors(f, g_tied, GGUF_TYPE_BF16);
    gguf_close(f);
    unlink(out);
}

TEST(split_loads_as_one_model)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    char one[600], pre[600], first[700];
    th_path(one, "%s/one.gguf", th_tmp());
    th_path(pre, "%s/sp.gguf", th_tmp());
    CHECK_EQ_INT(convert(g_model, one, ""), 0);
    CHECK_EQ_INT(convert(g_model, pre, "--split-max-tensors 10"), 0);
    th_path(first, "%s/sp-00001-of-00003.gguf", th_tmp());
    gguf_error err;
    gguf_file *a = gguf_open(one, &err), *b = gguf_open(first, &err);
    CHECK_MSG(a && b, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_files(b), 3);
    CHECK_EQ_INT(gguf_n_tensors(a), gguf_n_tensors(b));
    for (int64_t i = 0; i < gguf_n_tensors(a); i++) {
        const gguf_tensor_info *x = gguf_tensor(a, i), *y = gguf_tensor(b, i);
        CHECK(!strcmp(x->name, y->name) && x->type == y->type && x->size == y->size && !memcmp(x->data, y->data, x->size));
        CHECK_EQ_INT(y->file_index, i / 10);
    }
    /* first split: all KVs then split.no, split.count, split.tensors.count */
    int64_t n = gguf_n_kv(b);
    CHECK_EQ_INT(n, gguf_n_kv(a) + 3);
    CHECK_EQ_STR(gguf_kv_key(b, n - 3), "split.no");
    CHECK_EQ_STR(gguf_kv_key(b, n - 2), "split.count");
    CHECK_EQ_STR(gguf_kv_key(b, n - 1), "split.tensors.count");
    CHECK(gguf_kv_get_type(b, n - 3) == GGUF_KV_UINT16 && gguf_kv_get_type(b, n - 2) == GGUF_KV_UINT16 &&
          gguf_kv_get_type(b, n - 1) == GGUF_KV_INT32);
    CHECK_EQ_INT(gguf_kv_i32(b, n - 1), gguf_n_tensors(a));
    gguf_close(a);
    gguf_close(b);
    /* later splits carry only the split keys */
    th_path(first, "%s/sp-00002-of-00003.gguf", th_tmp());
    gguf_open_opts o = { .no_split = true };
    gguf_file *c = gguf_open_ex(first, &o, &err);
    CHECK_MSG(c, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_kv(c), 3);
    CHECK_EQ_INT(gguf_kv_u16(c, gguf_find_key(c, "split.no")), 1);
    gguf_close(c);
}

TEST(split_by_size)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    char pre[600], p[700];
    th_path(pre, "%s/sz.gguf", th_tmp());
    /* token_embd 77.8 MB, layers ~1.3 MB each, output 77.8 MB: 80M -> 2 splits */
    CHECK_EQ_INT(convert(g_model, pre, "--split-max-size 80M"), 0);
    th_path(p, "%s/sz-00001-of-00002.gguf", th_tmp());
    gguf_error err;
    gguf_file *f = gguf_open(p, &err);
    CHECK_MSG(f, "%s", err.msg);
    CHECK_EQ_INT(gguf_n_files(f), 2);
    uint64_t sum = 0;
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (t->file_index == 0) sum += (t->size + 31) & ~31ull;
    }
    CHECK(sum <= 80000000ull);
    gguf_close(f);
}

TEST(hf_api_contract)
{
    if (!setup()) TH_SKIP("gguf-synth failed");
    conv_hf_model *m = NULL;
    gguf_error err;
    CHECK_MSG(conv_hf_open(g_model, &m, &err) == 0, "%s", err.msg);
    const conv_hparams *hp = conv_hf_hparams(m);
    CHECK_EQ_INT(hp->n_layer, 2);
    CHECK_EQ_INT(hp->n_embd, 256);
    CHECK_EQ_INT(hp->n_head_kv, 2);
    CHECK_EQ_INT(hp->head_dim, 64);
    CHECK(!hp->tied);
    CHECK_EQ_INT(hp->src_type, GGUF_TYPE_BF16);
    CHECK_EQ_INT(conv_hf_n_shards(m), 3);
    CHECK_EQ_INT(conv_hf_n_tensors(m), 27);
    /* convert order: shards sorted, names sorted inside: lm_head first in the last shard */
    int64_t io = conv_hf_find_tensor(m, "output.weight");
    CHECK(io > 0);
    CHECK_EQ_STR(conv_hf_tensor(m, io)->hf_name, "lm_head.weight");
    CHECK_EQ_INT(conv_hf_tensor(m, io)->shard, 2);
    CHECK(conv_hf_tensor(m, io - 1)->shard < 2);
    const conv_tensor *q = conv_hf_tensor(m, conv_hf_find_tensor(m, "blk.1.attn_k.weight"));
    CHECK(q && q->ne[0] == 256 && q->ne[1] == 128 && q->n_dims == 2 && q->size == 256 * 128 * 2);
    conv_hf_release(m, q);
    conv_hf_close(m);
    conv_hf_close(NULL);
    char buf[64];
    int64_t l;
    CHECK_EQ_INT(conv_hf_map_name("model.layers.12.mlp.down_proj.weight", buf, sizeof buf, &l), 1);
    CHECK_EQ_STR(buf, "blk.12.ffn_down.weight");
    CHECK_EQ_INT(l, 12);
    CHECK_EQ_INT(conv_hf_map_name("model.layers.0.self_attn.rotary_emb.inv_freq", buf, sizeof buf, &l), 0);
    CHECK_EQ_INT(conv_hf_map_name("model.layers.01.mlp.up_proj.weight", buf, sizeof buf, &l), -1);
    CHECK_EQ_INT(conv_hf_map_name("vision.tower.weight", buf, sizeof buf, &l), -1);
}

TEST(size_label_and_title)
{
    char b[64];
    conv_size_label(494032768, b, sizeof b); CHECK_EQ_STR(b, "494M");
    conv_size_label(32763876352LL, b, sizeof b); CHECK_EQ_STR(b, "33B");
    conv_size_label(1543714304, b, sizeof b); CHECK_EQ_STR(b, "1.5B");
    conv_size_label(7615616512LL, b, sizeof b); CHECK_EQ_STR(b, "7.6B");
    conv_size_label(999, b, sizeof b); CHECK_EQ_STR(b, "1.0K");
    conv_id_to_title("qwq-32b-preview", b, sizeof b); CHECK_EQ_STR(b, "Qwq 32b Preview");
    conv_id_to_title("QwQ-32B", b, sizeof b); CHECK_EQ_STR(b, "QwQ 32B");
    conv_id_to_title("my-model-v2.5", b, sizeof b); CHECK_EQ_STR(b, "My Model v2.5");
}

/* NULL-aware string equality for optional fields */
static bool opt_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }
#define CHECK_OPT(a, b) CHECK_MSG(opt_eq((a), (b)), "%s: \"%s\", expected \"%s\"", #a, (a) ? (a) : "(None)", (b) ? (b) : "(None)")

/* Expectations worked out by hand from gguf-py metadata.py Metadata.get_model_id_components
 * (annotation regexes, the 7/8 size-vs-parameter-count rule, basename/finetune assignment),
 * columns: id, total_params, full, org, basename, finetune, version, size_label. */
TEST(model_id_components)
{
    static const struct { const char *id; int64_t np; const char *full, *org, *base, *ft, *ver, *size; } c[] = {
        /* the real QwQ-32B directory: 32.76e9 parameters are within 7/8 of "32B" */
        { "QwQ-32B", 32763876352LL, "QwQ-32B", NULL, "QwQ", NULL, NULL, "32B" },
        /* a tiny test model in a "QwQ-32B" directory: 32e9 is far from 79M, so "32B" reads as a
         * finetune (a context length, like "4k") and is lower-cased */
        { "QwQ-32B", 79000000, "QwQ-32B", NULL, "QwQ", "32b", NULL, NULL },
        { "Qwen2.5-0.5B-Instruct", 494032768, "Qwen2.5-0.5B-Instruct", NULL, "Qwen2.5", "Instruct", NULL, "0.5B" },
        { "Qwen/Qwen2.5-32B", 32763876352LL, "Qwen2.5-32B", "Qwen", "Qwen2.5", NULL, NULL, "32B" },
        { "qwen2-tiny-v1.5", 1000, "qwen2-tiny-v1.5", NULL, "qwen2-tiny", NULL, "v1.5", NULL },
        { "Mixtral-8x7B-Instruct-v0.1", 46702792704LL, "Mixtral-8x7B-Instruct-v0.1", NULL, "Mixtral", "Instruct", "v0.1", "8x7B" },
        /* a leading version stays in the basename */
        { "Meta-Llama-3-8B", 8030261248LL, "Meta-Llama-3-8B", NULL, "Meta-Llama-3", NULL, NULL, "8B" },
        /* word size kept (no numeric one), "4k" far from 3.8e9 -> finetune */
        { "Phi-3-mini-4k-instruct", 3821079552LL, "Phi-3-mini-4k-instruct", NULL, "Phi-3", "4k-instruct", NULL, "mini" },
        /* bloom's 7b1 notation, quant type parts are ignored */
        { "bloom-7b1-Q8_0", 7069016064LL, "bloom-7b1-Q8_0", NULL, "bloom", NULL, NULL, "7.1B" },
        /* MoE total-active label: both kept */
        { "Qwen3-30B-A3B", 30532122624LL, "Qwen3-30B-A3B", NULL, "Qwen3", NULL, NULL, "30B-A3B" },
        /* no size/finetune/version: too ambiguous, no basename */
        { "tied", 1000, "tied", NULL, NULL, NULL, NULL, NULL },
        /* a sentence is a plain name; "./x" has no organisation */
        { "My fine model", 1000, "My fine model", NULL, NULL, NULL, NULL, NULL },
        { "../Qwen2.5-7B", 7615616512LL, "Qwen2.5-7B", NULL, "Qwen2.5", NULL, NULL, "7B" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        conv_id_parts p;
        CHECK_EQ_INT(conv_model_id_components(c[i].id, c[i].np, &p), 0);
        bool ok = opt_eq(p.full, c[i].full) && opt_eq(p.org, c[i].org) && opt_eq(p.basename, c[i].base) &&
                  opt_eq(p.finetune, c[i].ft) && opt_eq(p.version, c[i].ver) && opt_eq(p.size_label, c[i].size);
        if (!ok)
            TH_FAILF("'%s': got full=%s org=%s basename=%s finetune=%s version=%s size=%s", c[i].id,
                     p.full ? p.full : "-", p.org ? p.org : "-", p.basename ? p.basename : "-",
                     p.finetune ? p.finetune : "-", p.version ? p.version : "-", p.size_label ? p.size_label : "-");
        conv_id_parts_free(&p);
        if (!ok) return;
    }
}

TEST(yaml_subset)
{
    const char *y =
        "# comment\n"
        "license: apache-2.0\n"
        "license_link: https://example.com/a#b   # trailing comment\n"
        "language:\n- en\n- 'fr'\n"
        "tags: [chat, \"a, b\", 'it''s']\n"
        "base_model:\n"
        "  - name: Foo Bar\n"
        "    organization: Org\n"
        "  - \"Qwen/Qwen2.5-32B\"\n"
        "empty:\n"
        "nested:\n  a:\n    b: c\n"
        "flowmap: {a: 1}\n"
        "desc: >\n  one\n  two\n"
        "plain: multi\n  line\n";
    conv_ynode *r = NULL;
    int line = 0;
    char msg[160];
    CHECK_EQ_INT(conv_yaml_parse(y, strlen(y), &r, &line, msg, sizeof msg), 0);
    CHECK(r->type == CONV_Y_MAP);
    CHECK_EQ_STR(conv_ynode_get(r, "license")->str, "apache-2.0");
    CHECK_EQ_STR(conv_ynode_get(r, "license_link")->str, "https://example.com/a#b");
    const conv_ynode *l = conv_ynode_get(r, "language");
    CHECK(l && l->type == CONV_Y_LIST && l->n == 2);
    CHECK_EQ_STR(l->items[1]->str, "fr");
    const conv_ynode *t = conv_ynode_get(r, "tags");
    CHECK(t && t->type == CONV_Y_LIST && t->n == 3);
    CHECK_EQ_STR(t->items[1]->str, "a, b");
    CHECK_EQ_STR(t->items[2]->str, "it's");
    const conv_ynode *b = conv_ynode_get(r, "base_model");
    CHECK(b && b->type == CONV_Y_LIST && b->n == 2 && b->items[0]->type == CONV_Y_MAP);
    CHECK_EQ_STR(conv_ynode_get(b->items[0], "organization")->str, "Org");
    CHECK_EQ_STR(b->items[1]->str, "Qwen/Qwen2.5-32B");
    CHECK(conv_ynode_get(r, "empty")->type == CONV_Y_NULL);
    CHECK_EQ_STR(conv_ynode_get(conv_ynode_get(conv_ynode_get(r, "nested"), "a"), "b")->str, "c");
    CHECK(conv_ynode_get(r, "flowmap")->type == CONV_Y_BAD);
    CHECK_EQ_STR(conv_ynode_get(r, "desc")->str, "one two\n");
    CHECK_EQ_STR(conv_ynode_get(r, "plain")->str, "multi line");
    conv_ynode_free(r);
    /* broken structure: the line is reported */
    const char *bad = "a: 1\n  b: 2\nc: 3\n";
    CHECK_EQ_INT(conv_yaml_parse(bad, strlen(bad), &r, &line, msg, sizeof msg), CONV_E_YAML);
    CHECK(r == NULL);
    CHECK_EQ_INT(line, 2);
    const char *bad2 = "a: 1\njust words\n";
    CHECK_EQ_INT(conv_yaml_parse(bad2, strlen(bad2), &r, &line, msg, sizeof msg), CONV_E_YAML);
    CHECK_EQ_INT(line, 2);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
}

/* The real QwQ-32B model card front matter (huggingface.co/Qwen/QwQ-32B, README.md). */
static const char qwq_card[] =
    "---\n"
    "license: apache-2.0\n"
    "license_link: https://huggingface.co/Qwen/QWQ-32B/blob/main/LICENSE\n"
    "language:\n"
    "- en\n"
    "pipeline_tag: text-generation\n"
    "base_model: Qwen/Qwen2.5-32B\n"
    "tags:\n"
    "- chat\n"
    "library_name: transformers\n"
    "---\n"
    "\n"
    "# QwQ-32B\n"
    "\n"
    "QwQ is the reasoning model of the Qwen series.\n";

/* conv_meta_load_dir on a "QwQ-32B" directory with the real card and the real parameter count.
 * Expected values from gguf-py: apply_metadata_heuristic (card keys; base_model "ORG/NAME" ->
 * name id_to_title(NAME), organization id_to_title(ORG), repo_url; tags then pipeline_tag;
 * language), then the directory-name fallback (get_model_id_components("QwQ-32B")), then
 * prepare_metadata (the name-derived "32B" wins over the count's "33B"). */
TEST(model_card_qwq)
{
    char dir[1024], p[1100];
    th_path(dir, "%s/card/QwQ-32B", th_tmp());
    CHECK(sh("mkdir -p '%s'", dir) == 0);
    write_text(th_path(p, "%s/README.md", dir), qwq_card);
    conv_meta m;
    gguf_error err;
    gguf_error_clear(&err);
    CHECK_EQ_INT(conv_meta_load_dir(dir, 32763876352LL, &m, &err), 0);
    CHECK_EQ_INT(m.n_warnings, 0);
    CHECK_EQ_STR(m.name, "QwQ 32B");
    CHECK_EQ_STR(m.basename, "QwQ");
    CHECK_EQ_STR(m.size_label, "32B");
    CHECK_OPT(m.finetune, NULL);
    CHECK_OPT(m.version, NULL);
    CHECK_OPT(m.organization, NULL);
    CHECK_EQ_STR(m.license, "apache-2.0");
    CHECK_EQ_STR(m.license_link, "https://huggingface.co/Qwen/QWQ-32B/blob/main/LICENSE");
    CHECK(m.has_base_models && m.n_base_models == 1);
    CHECK_EQ_STR(m.base_models[0].name, "Qwen2.5 32B");
    CHECK_EQ_STR(m.base_models[0].organization, "Qwen");
    CHECK_EQ_STR(m.base_models[0].repo_url, "https://huggingface.co/Qwen/Qwen2.5-32B");
    CHECK_OPT(m.base_models[0].version, NULL);
    CHECK(!m.has_datasets);
    CHECK_EQ_INT(m.n_tags, 2);
    CHECK_EQ_STR(m.tags[0], "chat");
    CHECK_EQ_STR(m.tags[1], "text-generation");
    CHECK_EQ_INT(m.n_languages, 1);
    CHECK_EQ_STR(m.languages[0], "en");
    conv_meta_free(&m);

    /* Qwen2.5-0.5B-Instruct's card (abridged): license_link, base_model, language list, and a
     * config.json _name_or_path that is a local path (two slashes: ignored) */
    th_path(dir, "%s/card/Qwen2.5-0.5B-Instruct", th_tmp());
    CHECK(sh("mkdir -p '%s'", dir) == 0);
    write_text(th_path(p, "%s/README.md", dir),
               "---\nlicense: apache-2.0\nlicense_link: https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/LICENSE\n"
               "language:\n- en\npipeline_tag: text-generation\nbase_model: Qwen/Qwen2.5-0.5B\ntags:\n- chat\n"
               "library_name: transformers\n---\n");
    write_text(th_path(p, "%s/config.json", dir), "{\"_name_or_path\": \"/home/x/Qwen2.5-0.5B-Instruct\"}");
    CHECK_EQ_INT(conv_meta_load_dir(dir, 494032768, &m, &err), 0);
    CHECK_EQ_STR(m.name, "Qwen2.5 0.5B Instruct");
    CHECK_EQ_STR(m.basename, "Qwen2.5");
    CHECK_EQ_STR(m.finetune, "Instruct");
    CHECK_EQ_STR(m.size_label, "0.5B");
    CHECK_EQ_STR(m.base_models[0].name, "Qwen2.5 0.5B");
    conv_meta_free(&m);

    /* card name/keys win over the heuristics; _name_or_path "org/name" gives the organisation;
     * base model URLs and mappings; dataset count; license list joined with ',' */
    th_path(dir, "%s/card/other-dir", th_tmp());
    CHECK(sh("mkdir -p '%s'", dir) == 0);
    write_text(th_path(p, "%s/README.md", dir),
               "---\r\nmodel_name: My Model\r\nlicense: [mit, apache-2.0]\r\nurl: https://example.com\r\n"
               "base_model:\r\n- https://huggingface.co/acme/Foo-7B-v2\r\n- name: Bar\r\n  author: Someone\r\n"
               "datasets: acme/data-v1\r\n---\r\n");
    write_text(th_path(p, "%s/config.json", dir), "{\"_name_or_path\": \"acme-labs/Thing-1.5B-Chat\"}");
    CHECK_EQ_INT(conv_meta_load_dir(dir, 1500000000, &m, &err), 0);
    CHECK_EQ_STR(m.name, "My Model");
    CHECK_EQ_STR(m.organization, "Acme Labs");
    CHECK_EQ_STR(m.basename, "Thing");
    CHECK_EQ_STR(m.finetune, "Chat");
    CHECK_EQ_STR(m.size_label, "1.5B");
    CHECK_EQ_STR(m.license, "mit,apache-2.0");
    CHECK_EQ_STR(m.source_url, "https://example.com");
    CHECK_EQ_INT(m.n_base_models, 2);
    CHECK_EQ_STR(m.base_models[0].repo_url, "https://huggingface.co/acme/Foo-7B-v2");
    CHECK_EQ_STR(m.base_models[0].name, "Foo 7B v2");
    CHECK_EQ_STR(m.base_models[0].organization, "Acme");
    CHECK_EQ_STR(m.base_models[0].version, "v2");
    CHECK_EQ_STR(m.base_models[1].name, "Bar");
    CHECK_EQ_STR(m.base_models[1].author, "Someone");
    CHECK(m.has_datasets && m.n_datasets == 1);
    CHECK_EQ_STR(m.datasets[0].name, "Data v1");
    CHECK_EQ_STR(m.datasets[0].version, "v1");
    CHECK_EQ_STR(m.datasets[0].repo_url, "https://huggingface.co/acme/data-v1");
    conv_meta_free(&m);

    /* malformed front matter: ignored with one warning naming the file and line */
    th_path(dir, "%s/card/Broken-7B", th_tmp());
    CHECK(sh("mkdir -p '%s'", dir) == 0);
    write_text(th_path(p, "%s/README.md", dir), "---\nlicense: mit\n   bad: indent\n---\n");
    CHECK_EQ_INT(conv_meta_load_dir(dir, 7000000000LL, &m, &err), 0);
    CHECK_EQ_INT(m.n_warnings, 1);
    CHECK_MSG(strstr(m.warnings[0], "README.md' line 3:"), "warning: %s", m.warnings[0]);
    CHECK_OPT(m.license, NULL);
    CHECK_EQ_STR(m.name, "Broken 7B");
    CHECK_EQ_STR(m.size_label, "7B");
    conv_meta_free(&m);
    /* no front matter at all: nothing, silently */
    write_text(th_path(p, "%s/README.md", dir), "# Broken\n---\nlicense: mit\n---\n");
    CHECK_EQ_INT(conv_meta_load_dir(dir, 7000000000LL, &m, &err), 0);
    CHECK_EQ_INT(m.n_warnings, 0);
    CHECK_OPT(m.license, NULL);
    conv_meta_free(&m);
}

/* The shapes real cards have besides the keys gguf-py reads (gated-access forms, widgets with
 * nested lists of mappings, block scalars, model-index) must not stop the card from being read. */
TEST(model_card_real_world_shapes)
{
    char dir[1024], p[1100];
    th_path(dir, "%s/card/Meta-Llama-3-8B-Instruct", th_tmp());
    CHECK(sh("mkdir -p '%s'", dir) == 0);
    write_text(th_path(p, "%s/README.md", dir),
        "---\n"
        "language:\n- en\npipeline_tag: text-generation\ntags:\n- facebook\n- meta\n- llama-3\nlicense: llama3\n"
        "extra_gated_prompt: >-\n  ### META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n\n"
        "  Meta Llama 3 Version Release Date: April 18, 2024\n"
        "  \"Agreement\" means the terms: and conditions.\n"
        "extra_gated_fields:\n  First Name: text\n  Date of birth: date_picker\n  geo: ip_location  \n"
        "  By clicking Submit below I accept the terms of the license: checkbox\n"
        "extra_gated_description: The information you provide ... [Meta Privacy Policy](https://www.facebook.com/privacy/policy/).\n"
        "widget:\n  - example_title: Hello\n    messages:\n      - role: user\n        content: Hey my name is Julien! How are you?\n"
        "inference:\n  parameters:\n    max_new_tokens: 300\n    stop:\n      - <|end_of_text|>\n      - <|eot_id|>\n"
        "model-index:\n- name: Foo\n  results:\n  - task:\n      type: text-generation\n    dataset:\n      name: AI2 (25-Shot)\n"
        "      args:\n        num_few_shot: 25\n    metrics:\n    - type: acc_norm\n      value: 60.24\n"
        "    source:\n      url: https://huggingface.co/spaces/x?query=Foo\n"
        "base_model:\n  - meta-llama/Meta-Llama-3-8B   # the pretrained model\n"
        "datasets:\n- HuggingFaceH4/ultrachat_200k\n"
        "---\n\n# Model card\n---\nnot front matter: [\n");
    conv_meta m;
    gguf_error err;
    gguf_error_clear(&err);
    CHECK_EQ_INT(conv_meta_load_dir(dir, 8030261248LL, &m, &err), 0);
    CHECK_MSG(m.n_warnings == 0, "warning: %s", m.warnings[0]);
    CHECK_EQ_STR(m.name, "Meta Llama 3 8B Instruct");
    CHECK_EQ_STR(m.basename, "Meta-Llama-3");
    CHECK_EQ_STR(m.finetune, "Instruct");
    CHECK_EQ_STR(m.size_label, "8B");
    CHECK_EQ_STR(m.license, "llama3");
    CHECK_EQ_INT(m.n_tags, 4);
    CHECK_EQ_STR(m.tags[3], "text-generation");
    CHECK_EQ_INT(m.n_base_models, 1);
    CHECK_EQ_STR(m.base_models[0].name, "Meta Llama 3 8B");
    CHECK_EQ_STR(m.base_models[0].organization, "Meta Llama");
    CHECK_EQ_STR(m.base_models[0].repo_url, "https://huggingface.co/meta-llama/Meta-Llama-3-8B");
    CHECK_EQ_INT(m.n_datasets, 1);
    /* id_to_title: "ultrachat_200k" is all lower case, so str.title(): every letter after a
     * non-letter is upper-cased */
    CHECK_EQ_STR(m.datasets[0].name, "Ultrachat_200K");
    CHECK_EQ_STR(m.datasets[0].organization, "HuggingFaceH4");
    conv_meta_free(&m);
}

TH_MAIN()
