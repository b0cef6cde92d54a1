/*
 * test_verify.c - the forward pass against an independent float64 numpy reference
 * (tests/ref_qwen2.py) on tiny synthetic models of every weight type, perplexity against values
 * computed by hand, model comparison properties, and bad inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "th.h"
#include "verify_gen.h"
#include "quant/quant.h"
#include "verify/eval.h"
#include "verify/forward.h"
#include "verify/gemm.h"
#include "verify/metrics.h"
#include "verify/model.h"

#define PY "/usr/bin/python3"

static bool have_numpy(void)
{
    static int have = -1;
    if (have < 0) have = system(PY " -c 'import numpy' >/dev/null 2>&1") == 0;
    return have;
}

static const char *ref_script(void)
{
    return "tests/ref_qwen2.py";   /* tests/run.sh runs from the top of the tree */
}

static void rand_tokens(int32_t *t, int64_t n, int vocab, uint64_t seed)
{
    uint64_t s = seed * 2654435761u + 7;
    for (int64_t i = 0; i < n; i++) t[i] = (int32_t)(vgen_rand(&s) % (uint64_t)vocab);
}

/* Logits of all positions from the C forward pass and from the reference; returns the worst
 * error relative to the reference's overall scale (max |ref|), or -1 when something failed. */
static double ref_error(const char *model, const int32_t *tok, int64_t n, double *worst_elem)
{
    verify_model *m;
    gguf_error err;
    if (verify_model_open(model, &m, &err)) { fprintf(stderr, "%s\n", err.msg); return -1; }
    const int64_t V = m->hp.n_vocab;
    float *ours = malloc((size_t)(n * V) * sizeof *ours);
    verify_ctx *c = verify_ctx_new(m, n);
    int rc = verify_run_sequence(c, tok, n, true, ours, &err);
    verify_ctx_free(c);
    verify_model_close(m);
    if (rc) { fprintf(stderr, "%s\n", err.msg); free(ours); return -1; }

    char cmd[16384], out[4200];
    int len = snprintf(cmd, sizeof cmd, PY " %s %s ", ref_script(), model);
    for (int64_t i = 0; i < n; i++) len += snprintf(cmd + len, sizeof cmd - (size_t)len, i ? ",%d" : "%d", tok[i]);
    snprintf(out, sizeof out, "%s.ref.f64", model);
    snprintf(cmd + len, sizeof cmd - (size_t)len, " %s", out);
    if (system(cmd) != 0) { free(ours); return -1; }
    double *ref = malloc((size_t)(n * V) * sizeof *ref);
    FILE *f = fopen(out, "rb");
    size_t got = f ? fread(ref, sizeof *ref, (size_t)(n * V), f) : 0;
    if (f) fclose(f);
    if (got != (size_t)(n * V)) { free(ours); free(ref); return -1; }
    double scale = 0, worst = 0, we = 0;
    for (int64_t i = 0; i < n * V; i++) if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    for (int64_t i = 0; i < n * V; i++) {
        const double d = fabs((double)ours[i] - ref[i]);
        if (d > worst) worst = d;
        const double e = d / (fabs(ref[i]) + 1e-2 * scale);
        if (e > we) we = e;
    }
    free(ours);
    free(ref);
    *worst_elem = we;
    return scale > 0 ? worst / scale : worst;
}

static void check_against_ref(vgen g, const char *name, int64_t n, double tol)
{
    if (!have_numpy()) TH_SKIP("no numpy in " PY);
    char path[4096];
    th_path(path, "%s/%s.gguf", th_tmp(), name);
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    int32_t tok[64];
    rand_tokens(tok, n, g.n_vocab, g.seed);
    double we = 0;
    double e = ref_error(path, tok, n, &we);
    CHECK_MSG(e >= 0, "reference run failed");
    CHECK_MSG(e <= tol, "%s: logits differ from the float64 reference by %.3g of max|logit| (tol %.3g), worst element %.3g",
              name, e, tol, we);
    CHECK_MSG(we <= 10 * tol, "%s: worst element error %.3g relative", name, we);
}

TEST(logits_f32_vs_reference)
{
    vgen g = vgen_defaults();
    check_against_ref(g, "f32", 40, 1e-4);
}

TEST(logits_f32_tied_gqa1_vs_reference)
{
    vgen g = vgen_defaults();
    g.tied = true;
    g.n_head_kv = 4;   /* no grouping */
    g.theta = 1e6f;
    g.seed = 5;
    check_against_ref(g, "f32tied", 33, 1e-4);
}

TEST(logits_f16_vs_reference)
{
    vgen g = vgen_defaults();
    g.type_default = GGUF_TYPE_F16;
    g.seed = 2;
    check_against_ref(g, "f16", 24, 1e-4);
}

TEST(logits_bf16_vs_reference)
{
    vgen g = vgen_defaults();
    g.type_default = GGUF_TYPE_BF16;
    g.seed = 3;
    check_against_ref(g, "bf16", 24, 1e-4);
}

/* Fast mode on BF16 weights: activations rounded to bf16, so only ~1e-2 agreement. */
TEST(logits_bf16_fast_vs_reference)
{
    vgen g = vgen_defaults();
    g.type_default = GGUF_TYPE_BF16;
    g.seed = 3;
    verify_gemm_set_fast(true);
    check_against_ref(g, "bf16fast", 24, 2e-2);
    verify_gemm_set_fast(false);
}

TEST(logits_q8_0_vs_reference)
{
    vgen g = vgen_defaults();
    g.type_default = GGUF_TYPE_Q8_0;
    g.type_embd = GGUF_TYPE_Q8_0;
    g.seed = 4;
    check_against_ref(g, "q8_0", 24, 1e-4);
}

TEST(logits_q5_0_vs_reference)
{
    vgen g = vgen_defaults();
    g.type_default = GGUF_TYPE_Q5_0;
    g.type_output = GGUF_TYPE_Q8_0;
    g.seed = 6;
    check_against_ref(g, "q5_0", 24, 1e-4);
}

/* The Q4_K_M mix: Q4_K matrices, Q6_K attn_v / ffn_down / output (rows of 256). */
TEST(logits_q4_k_m_vs_reference)
{
    vgen g = vgen_defaults();
    g.n_embd = 256; g.n_ff = 512; g.n_head = 4; g.n_head_kv = 2; g.n_vocab = 80;
    g.type_default = GGUF_TYPE_Q4_K;
    g.type_attn_v = GGUF_TYPE_Q6_K;
    g.type_ffn_down = GGUF_TYPE_Q6_K;
    g.type_output = GGUF_TYPE_Q6_K;
    g.seed = 7;
    check_against_ref(g, "q4_k_m", 20, 1e-4);
}

/* gemm: every shape remainder (rows not a multiple of 32, tokens not of 12, K over one block). */
TEST(gemm_matches_naive)
{
    const int64_t K = 544, M = 77, N = 29;
    float *w = malloc((size_t)(K * M) * 4), *x = malloc((size_t)(K * N) * 4), *y = malloc((size_t)(M * N) * 4);
    uint64_t s = 99;
    for (int64_t i = 0; i < K * M; i++) w[i] = vgen_unif(&s);
    for (int64_t i = 0; i < K * N; i++) x[i] = vgen_unif(&s);
    verify_weight vw = { .name = "w", .type = GGUF_TYPE_F32, .ncols = K, .nrows = M, .row_bytes = (uint64_t)K * 4,
                         .data = (const uint8_t *)w };
    float bias[77];
    for (int i = 0; i < 77; i++) bias[i] = (float)i;
    for (int pass = 0; pass < 2; pass++) {
        if (pass) for (int64_t i = 0; i < M * N; i++) y[i] = 1.0f;
        verify_gemm(&vw, x, N, K, y, M, bias, pass == 1);
        for (int64_t t = 0; t < N; t++)
            for (int64_t m = 0; m < M; m++) {
                double r = bias[m] + (pass ? 1.0 : 0.0);
                for (int64_t k = 0; k < K; k++) r += (double)x[t * K + k] * w[m * K + k];
                CHECK_NEAR(y[t * M + m], r, 1e-4 * (1 + fabs(r)));
            }
    }
    free(w); free(x); free(y);
}

/* Fast mode: bf16 panels x bf16 activations by vdpbf16ps, against a double product of the
 * bf16-rounded operands (so the check is tight), and loosely against the exact product. */
TEST(gemm_fast_bf16)
{
    const int64_t K = 544, M = 70, N = 27;
    uint16_t *w = malloc((size_t)(K * M) * 2);
    float *x = malloc((size_t)(K * N) * 4), *y = malloc((size_t)(M * N) * 4);
    uint64_t s = 7;
    for (int64_t i = 0; i < K * M; i++) w[i] = vgen_bf16(vgen_unif(&s));
    for (int64_t i = 0; i < K * N; i++) x[i] = vgen_unif(&s);
    verify_weight vw = { .name = "w", .type = GGUF_TYPE_BF16, .ncols = K, .nrows = M, .row_bytes = (uint64_t)K * 2,
                         .data = (const uint8_t *)w };
    verify_gemm_set_fast(true);
    verify_gemm(&vw, x, N, K, y, M, NULL, false);
    verify_gemm_set_fast(false);
    for (int64_t t = 0; t < N; t++)
        for (int64_t m = 0; m < M; m++) {
            double r = 0, rb = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                uint32_t u = (uint32_t)w[m * K + k] << 16;
                float wf;
                memcpy(&wf, &u, 4);
                uint16_t xb = vgen_bf16(x[t * K + k]);
                uint32_t ux = (uint32_t)xb << 16;
                float xf;
                memcpy(&xf, &ux, 4);
                r += (double)wf * x[t * K + k];
                rb += (double)wf * xf;
                mag += fabs((double)wf * x[t * K + k]);
            }
            CHECK_NEAR(y[t * M + m], rb, 1e-5 * mag);
            CHECK_NEAR(y[t * M + m], r, 1e-2 * mag);
        }
    free(w); free(x); free(y);
}

/* All-zero weights give all-zero logits: every token has probability 1/V, so PPL = V exactly. */
TEST(perplexity_uniform_is_vocab_size)
{
    vgen g = vgen_defaults();
    g.zero = true;
    g.n_vocab = 97;
    char path[4096];
    th_path(path, "%s/zero.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    verify_model *m;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(path, &m, &err), 0);
    int32_t tok[16 * 5 + 3];
    rand_tokens(tok, 83, g.n_vocab, 11);
    verify_eval_opts o = { .ctx = 16, .bos = -1, .what = "t" };
    verify_ppl p;
    int rc = verify_eval_perplexity(m, tok, 83, &o, &p, &err);
    verify_model_close(m);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(p.count, 5 * (16 - 1 - 8));   /* 5 whole chunks, 7 scored each */
    CHECK_NEAR(verify_ppl_value(&p), 97.0, 97.0 * 1e-12);
    CHECK_NEAR(verify_ppl_error(&p), 0.0, 1e-9);
}

/* Chunked perplexity equals the hand computation from full-sequence logits of each chunk. */
TEST(perplexity_matches_per_chunk_logits)
{
    vgen g = vgen_defaults();
    g.seed = 21;
    char path[4096];
    th_path(path, "%s/pplhand.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    verify_model *m;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(path, &m, &err), 0);
    const int64_t ctx = 20, n = 3 * ctx + 7, V = g.n_vocab;
    int32_t tok[67];
    rand_tokens(tok, n, g.n_vocab, 3);
    verify_eval_opts o = { .ctx = ctx, .max_chunks = 2, .bos = -1, .what = "t",
                           .group_bytes = (uint64_t)ctx * g.n_embd * 4 };  /* one chunk per group */
    verify_ppl p;
    CHECK_EQ_INT(verify_eval_perplexity(m, tok, n, &o, &p, &err), 0);
    /* by hand: log-softmax in double over full logits of each chunk */
    float *lg = malloc((size_t)(ctx * V) * 4);
    verify_ctx *c = verify_ctx_new(m, ctx);
    double nll = 0;
    int64_t cnt = 0;
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(verify_run_sequence(c, tok + k * ctx, ctx, true, lg, &err), 0);
        for (int64_t i = ctx / 2; i < ctx - 1; i++) {
            double mx = -1e300, s = 0;
            for (int64_t j = 0; j < V; j++) if (lg[i * V + j] > mx) mx = lg[i * V + j];
            for (int64_t j = 0; j < V; j++) s += exp(lg[i * V + j] - mx);
            nll += -(lg[i * V + tok[k * ctx + i + 1]] - mx - log(s));
            cnt++;
        }
    }
    verify_ctx_free(c);
    free(lg);
    verify_model_close(m);
    CHECK_EQ_INT(p.count, cnt);
    CHECK_NEAR(verify_ppl_value(&p), exp(nll / (double)cnt), 1e-6 * exp(nll / (double)cnt));
}

TEST(ppl_error_formula)
{
    verify_ppl p = {0};
    const double v[] = { 1.0, 2.0, 4.0, 3.0 };
    for (int i = 0; i < 4; i++) verify_ppl_add(&p, v[i]);
    const double mean = 2.5, var = (1 + 4 + 16 + 9) / 4.0 - mean * mean;
    CHECK_NEAR(verify_ppl_value(&p), exp(mean), 1e-12);
    CHECK_NEAR(verify_ppl_error(&p), exp(mean) * sqrt(var / 3.0), 1e-12);
    double pc[] = { 5, 1, 3, 2, 4 };
    CHECK_NEAR(verify_percentile(pc, 5, 50), 3.0, 0);
    CHECK_NEAR(verify_percentile(pc, 5, 100), 5.0, 0);
    CHECK_NEAR(verify_percentile(pc, 5, 90), 4.6, 1e-12);
}

TEST(compare_identical_is_exact)
{
    vgen g = vgen_defaults();
    g.seed = 31;
    char path[4096];
    th_path(path, "%s/same.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    verify_model *a, *b;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(path, &a, &err), 0);
    CHECK_EQ_INT(verify_model_open(path, &b, &err), 0);
    int32_t tok[64];
    rand_tokens(tok, 64, g.n_vocab, 5);
    verify_eval_opts o = { .ctx = 16, .bos = -1, .what = "t" };
    verify_cmp_result r;
    int rc = verify_eval_compare(a, b, tok, 64, &o, &r, &err);
    verify_model_close(a);
    verify_model_close(b);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(r.n_scored, 4 * 7);
    CHECK_NEAR(r.kld_mean, 0, 0);
    CHECK_NEAR(r.kld_max, 0, 0);
    CHECK_NEAR(r.top1, 1.0, 0);
    CHECK_NEAR(verify_ppl_value(&r.ppl_model) / verify_ppl_value(&r.ppl_ref), 1.0, 0);
    CHECK_NEAR(r.rms_dp, 0, 0);
    for (int il = 0; il < r.n_layer; il++) {
        CHECK_NEAR(r.layer_cos[il], 1.0, 1e-12);
        CHECK_NEAR(r.layer_rel_rmse[il], 0, 0);
    }
    verify_cmp_result_free(&r);
}

/* Re-quantize every 2-D weight of an F32 model to type t with the project's quantizer. */
static int requantize(const char *src, const char *dst, int t)
{
    gguf_error err;
    gguf_file *f = gguf_open(src, &err);
    if (!f) return err.code;
    gguf_writer *w = gguf_writer_open(dst, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    int rc = w ? 0 : err.code;
    for (int64_t i = 0; !rc && i < gguf_n_kv(f); i++) rc = gguf_writer_kv_copy(w, f, i);
    for (int64_t i = 0; !rc && i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *ti = gguf_tensor(f, i);
        rc = gguf_writer_add_tensor(w, ti->name, ti->n_dims, ti->ne, ti->n_dims == 2 ? t : ti->type);
    }
    if (!rc) rc = gguf_writer_begin_data(w);
    for (int64_t i = 0; !rc && i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *ti = gguf_tensor(f, i);
        if (ti->n_dims != 2) { rc = gguf_writer_tensor(w, ti->data, ti->size); continue; }
        size_t sz = gguf_row_bytes(t, ti->ne[0]) * (size_t)ti->ne[1];
        void *q = malloc(sz);
        quant_from_f32(t, ti->data, q, ti->ne[1], ti->ne[0], 1);
        rc = gguf_writer_tensor(w, q, sz);
        free(q);
    }
    gguf_close(f);
    if (rc) { gguf_writer_abort(w); return rc; }
    return gguf_writer_finish(w, &err);
}

TEST(compare_quantized_has_small_positive_kld)
{
    vgen g = vgen_defaults();
    g.seed = 41;
    char p32[4096], p8[4096];
    th_path(p32, "%s/cmp32.gguf", th_tmp());
    th_path(p8, "%s/cmp8.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(p32, &g), 0);
    CHECK_EQ_INT(requantize(p32, p8, GGUF_TYPE_Q8_0), 0);
    verify_model *a, *b;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(p32, &a, &err), 0);
    CHECK_EQ_INT(verify_model_open(p8, &b, &err), 0);
    int32_t tok[64];
    rand_tokens(tok, 64, g.n_vocab, 6);
    verify_eval_opts o = { .ctx = 32, .bos = -1, .what = "t" };
    verify_cmp_result r;
    int rc = verify_eval_compare(a, b, tok, 64, &o, &r, &err);
    verify_model_close(a);
    verify_model_close(b);
    CHECK_EQ_INT(rc, 0);
    CHECK_MSG(r.kld_mean > 0 && r.kld_mean < 1e-3, "Q8_0 mean KLD %g", r.kld_mean);
    CHECK(r.kld_max >= r.kld_p99 && r.kld_p99 >= r.kld_median && r.kld_median >= 0);
    CHECK(r.top1 > 0.8);
    for (int il = 0; il < r.n_layer; il++) {
        CHECK(r.layer_cos[il] > 0.999 && r.layer_cos[il] < 1.0);
        CHECK(r.layer_rel_rmse[il] > 0 && r.layer_rel_rmse[il] < 0.05);
    }
    verify_cmp_result_free(&r);
}

/* ---------------------------------------------------------------- bad input */

static int open_err(const vgen *g, const char *name, gguf_error *err)
{
    char path[4096];
    th_path(path, "%s/%s.gguf", th_tmp(), name);
    if (vgen_write(path, g)) return 1;
    verify_model *m = NULL;
    int rc = verify_model_open(path, &m, err);
    verify_model_close(m);
    return rc;
}

TEST(bad_architecture)
{
    vgen g = vgen_defaults();
    g.arch = "llama";
    gguf_error err;
    CHECK(open_err(&g, "llama", &err) < 0);
    CHECK_MSG(strstr(err.msg, "architecture 'llama'") != NULL, "message: %s", err.msg);
}

TEST(bad_shape_heads)
{
    vgen g = vgen_defaults();
    g.n_head = 4; g.n_head_kv = 3;
    gguf_error err;
    CHECK(open_err(&g, "heads", &err) < 0);
    CHECK_MSG(strstr(err.msg, "head_count") != NULL, "message: %s", err.msg);
}

TEST(bad_unsupported_type)
{
    vgen g = vgen_defaults();
    g.n_embd = 256; g.n_ff = 256;
    g.type_default = GGUF_TYPE_Q2_K;
    gguf_error err;
    CHECK(open_err(&g, "q2k", &err) < 0);
    CHECK_MSG(strstr(err.msg, "Q2_K") != NULL, "message: %s", err.msg);
}

TEST(bad_nan_activation)
{
    vgen g = vgen_defaults();
    g.nan_in_attn_q = true;
    char path[4096];
    th_path(path, "%s/nan.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    verify_model *m;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(path, &m, &err), 0);
    int32_t tok[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    float *lg = malloc((size_t)g.n_vocab * 4);
    verify_ctx *c = verify_ctx_new(m, 8);
    int rc = verify_run_sequence(c, tok, 8, false, lg, &err);
    verify_ctx_free(c);
    verify_model_close(m);
    free(lg);
    CHECK_EQ_INT(rc, GGUF_E_NONFINITE);
    CHECK_MSG(strstr(err.msg, "layer 0") != NULL, "message: %s", err.msg);
}

TEST(bad_token_id_and_short_text)
{
    vgen g = vgen_defaults();
    char path[4096];
    th_path(path, "%s/tokid.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(path, &g), 0);
    verify_model *m;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(path, &m, &err), 0);
    int32_t tok[40] = { 1, 2, 96 };
    float *lg = malloc((size_t)g.n_vocab * 4);
    verify_ctx *c = verify_ctx_new(m, 3);
    int rc = verify_run_sequence(c, tok, 3, false, lg, &err);
    verify_ctx_free(c);
    free(lg);
    CHECK_EQ_INT(rc, GGUF_E_SHAPE);
    CHECK_MSG(strstr(err.msg, "token 96 at position 2") != NULL, "message: %s", err.msg);
    verify_eval_opts o = { .ctx = 32, .bos = -1, .what = "short.txt" };
    verify_ppl p;
    memset(tok, 0, sizeof tok);
    rc = verify_eval_perplexity(m, tok, 40, &o, &p, &err);
    verify_model_close(m);
    CHECK_EQ_INT(rc, GGUF_E_USAGE);
    CHECK_MSG(strstr(err.msg, "'short.txt': 40 tokens is too short: need at least 2*c = 64") != NULL, "message: %s", err.msg);
}

TEST(bad_compare_shapes)
{
    vgen g = vgen_defaults(), h = vgen_defaults();
    h.n_vocab = 100;
    char pa[4096], pb[4096];
    th_path(pa, "%s/va.gguf", th_tmp());
    th_path(pb, "%s/vb.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(pa, &g), 0);
    CHECK_EQ_INT(vgen_write(pb, &h), 0);
    verify_model *a, *b;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(pa, &a, &err), 0);
    CHECK_EQ_INT(verify_model_open(pb, &b, &err), 0);
    int32_t tok[64] = {0};
    verify_eval_opts o = { .ctx = 16, .bos = -1, .what = "t" };
    verify_cmp_result r;
    int rc = verify_eval_compare(a, b, tok, 64, &o, &r, &err);
    verify_model_close(a);
    verify_model_close(b);
    CHECK_EQ_INT(rc, GGUF_E_SHAPE);
    CHECK_MSG(strstr(err.msg, "vocabulary size (96 vs 100)") != NULL, "message: %s", err.msg);
}

static int small_vocab_kv(gguf_writer *w, void *ud)
{
    const int odd = *(const int *)ud;   /* index of the token to spell differently, or -1 */
    gguf_str t[96];
    char buf[96][16];
    for (int i = 0; i < 96; i++) {
        snprintf(buf[i], sizeof buf[i], i == odd ? "x%d" : "t%d", i);
        t[i].ptr = buf[i];
        t[i].len = strlen(buf[i]);
    }
    return gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", t, 96);
}

TEST(bad_compare_vocabularies)
{
    int same = -1, odd = 41;
    vgen g = vgen_defaults(), h = vgen_defaults();
    g.extra_kv = small_vocab_kv; g.extra_ud = &same;
    h.extra_kv = small_vocab_kv; h.extra_ud = &odd;
    char pa[4096], pb[4096], pc[4096];
    th_path(pa, "%s/wa.gguf", th_tmp());
    th_path(pb, "%s/wb.gguf", th_tmp());
    th_path(pc, "%s/wc.gguf", th_tmp());
    CHECK_EQ_INT(vgen_write(pa, &g), 0);
    CHECK_EQ_INT(vgen_write(pb, &h), 0);
    g.type_default = GGUF_TYPE_Q8_0;
    CHECK_EQ_INT(vgen_write(pc, &g), 0);
    verify_model *a, *b, *c;
    gguf_error err;
    CHECK_EQ_INT(verify_model_open(pa, &a, &err), 0);
    CHECK_EQ_INT(verify_model_open(pb, &b, &err), 0);
    CHECK_EQ_INT(verify_model_open(pc, &c, &err), 0);
    int rc = verify_model_same_shape(a, b, &err);
    int rc2 = verify_model_same_shape(a, c, NULL);
    verify_model_close(a);
    verify_model_close(b);
    verify_model_close(c);
    CHECK_EQ_INT(rc, GGUF_E_SHAPE);
    CHECK_MSG(strstr(err.msg, "different vocabularies (token 41 differs)") != NULL, "message: %s", err.msg);
    CHECK_EQ_INT(rc2, 0);   /* same tokens, other weight types: comparable */
}

TH_MAIN()
