/*
 * test_verify_cli.c - gguf-verify as a program: exit codes, one-line errors, outputs, JSON.
 *
 * Models are written here: tiny ones without a tokenizer (driven by --tokens), and small ones
 * that carry the real Qwen2 tokenizer (151936 entries, from testdata/qwen/tokenizer.json.gz)
 * so that text can be read: hidden size 32 keeps those to ~20 MB.
 * Text: the start of WikiText-2 (testdata/wikitext-2/wiki.test.raw.gz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "th.h"
#include "verify_gen.h"
#include "verify_tokgen.h"
#include "quant/quant.h"

static const char *bin(void) { return th_env("TH_BIN", "build/bin"); }

/* Run "gguf-verify ARGS" with stdout/stderr into TH_TMP/out, TH_TMP/err; return the exit code. */
static int run(const char *args)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s/gguf-verify %s >%s/out 2>%s/err", bin(), args, th_tmp(), th_tmp());
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *name, size_t *len)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", th_tmp(), name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; if (len) *len = (size_t)n; }
    return b;
}

/* stderr is exactly one line containing needle */
static bool err_line(const char *needle)
{
    char *e = slurp("err", NULL);
    bool ok = e && strstr(e, needle) && strchr(e, '\n') == e + strlen(e) - 1;
    if (!ok) fprintf(stderr, "stderr was: %s\n", e ? e : "(none)");
    free(e);
    return ok;
}

static bool exists(const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", th_tmp(), name);
    return stat(p, &st) == 0;
}

static int gunzip_to(const char *src, const char *dst, size_t max)
{
    gzFile in = gzopen(src, "rb");
    if (!in) return -1;
    FILE *out = fopen(dst, "wb");
    if (!out) { gzclose(in); return -1; }
    static char buf[1 << 16];
    int n, rc = 0;
    size_t total = 0;
    while (total < max && (n = gzread(in, buf, sizeof buf)) > 0) {
        size_t w = (size_t)n < max - total ? (size_t)n : max - total;
        if (fwrite(buf, 1, w, out) != w) { rc = -1; break; }
        total += w;
    }
    gzclose(in);
    if (fclose(out)) rc = -1;
    return rc;
}

/* ---------------------------------------------------------------- tokenizer-bearing models */

/* Copy the GGUF at src to dst with tokenizer KVs added and, if qtype >= 0, every 2-D weight
 * re-quantized to qtype with the project's quantizer. The tokenizer comes from json_path, or,
 * when tok_gguf is given, is copied from that GGUF (parsing the JSON once is enough). */
static int add_tokenizer(const char *src, const char *dst, const char *json_path, const char *tok_gguf, int qtype)
{
    gguf_error err;
    gguf_file *f = gguf_open(src, &err);
    if (!f) return err.code;
    gguf_file *tf = tok_gguf ? gguf_open(tok_gguf, &err) : NULL;
    gguf_writer *w = gguf_writer_open(dst, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    int rc = w && (tf || !tok_gguf) ? 0 : err.code;
    for (int64_t i = 0; !rc && i < gguf_n_kv(f); i++) rc = gguf_writer_kv_copy(w, f, i);
    if (!rc && !tf) rc = vgen_write_tokenizer(w, json_path, QWEN_VOCAB);
    for (int64_t i = 0; !rc && tf && i < gguf_n_kv(tf); i++)
        if (!strncmp(gguf_kv_key(tf, i), "tokenizer.", 10)) rc = gguf_writer_kv_copy(w, tf, i);
    gguf_close(tf);
    for (int64_t i = 0; !rc && i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        rc = gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->n_dims == 2 && qtype >= 0 ? qtype : t->type);
    }
    if (!rc) rc = gguf_writer_begin_data(w);
    for (int64_t i = 0; !rc && i < gguf_n_tensors(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (t->n_dims != 2 || qtype < 0) { rc = gguf_writer_tensor(w, t->data, t->size); continue; }
        size_t sz = gguf_row_bytes(qtype, t->ne[0]) * (size_t)t->ne[1];
        void *q = malloc(sz);
        quant_from_f32(qtype, t->data, q, t->ne[1], t->ne[0], 1);
        rc = gguf_writer_tensor(w, q, sz);
        free(q);
    }
    gguf_close(f);
    if (rc) { if (w) gguf_writer_abort(w); return rc; }
    return gguf_writer_finish(w, &err);
}

/* Prepare (once per run) tiny models, tokenizer models and the text. Returns false to skip. */
static bool fixtures(void)
{
    static int state = 0;
    if (state) return state > 0;
    state = -1;
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/qwen/tokenizer.json.gz", th_testdata());
    snprintf(dst, sizeof dst, "%s/tokenizer.json", th_tmp());
    if (gunzip_to(src, dst, SIZE_MAX)) return false;
    char wsrc[4096], wdst[4096];
    snprintf(wsrc, sizeof wsrc, "%s/wikitext-2/wiki.test.raw.gz", th_testdata());
    snprintf(wdst, sizeof wdst, "%s/wiki.txt", th_tmp());
    if (gunzip_to(wsrc, wdst, 6000)) return false;

    char p[4096], q[4096];
    vgen g = vgen_defaults();
    th_path(p, "%s/tiny.gguf", th_tmp());
    if (vgen_write(p, &g)) return false;
    g.nan_in_attn_q = true;
    th_path(p, "%s/nan.gguf", th_tmp());
    if (vgen_write(p, &g)) return false;
    g = vgen_defaults();
    g.arch = "llama";
    th_path(p, "%s/llama.gguf", th_tmp());
    if (vgen_write(p, &g)) return false;

    /* tokenizer-bearing: random F32, its Q8_0 twin, and an all-zero one */
    g = vgen_defaults();
    g.n_vocab = QWEN_VOCAB; g.n_embd = 32; g.n_ff = 64; g.n_head = 2; g.n_head_kv = 1; g.n_layer = 2;
    g.tied = true;
    g.seed = 77;
    th_path(p, "%s/tok-f32-raw.gguf", th_tmp());
    if (vgen_write(p, &g)) return false;
    char tokg[4096];
    th_path(tokg, "%s/tok-f32.gguf", th_tmp());
    if (add_tokenizer(p, tokg, dst, NULL, -1)) return false;
    th_path(q, "%s/tok-q8.gguf", th_tmp());
    if (add_tokenizer(p, q, NULL, tokg, GGUF_TYPE_Q8_0)) return false;
    g.zero = true;
    th_path(p, "%s/tok-zero-raw.gguf", th_tmp());
    if (vgen_write(p, &g)) return false;
    th_path(q, "%s/tok-zero.gguf", th_tmp());
    if (add_tokenizer(p, q, NULL, tokg, -1)) return false;
    state = 1;
    return true;
}

#define NEED_FIXTURES() do { if (!fixtures()) TH_SKIP("fixtures unavailable (testdata/qwen, testdata/wikitext-2)"); } while (0)

/* ---------------------------------------------------------------- usage */

TEST(help_and_usage_errors)
{
    CHECK_EQ_INT(run("--help"), 0);
    char *o = slurp("out", NULL);
    CHECK(o && strstr(o, "Usage: gguf-verify"));
    free(o);
    CHECK_EQ_INT(run("perplexity --help"), 0);
    CHECK_EQ_INT(run(""), 2);
    CHECK_EQ_INT(run("frobnicate -m x"), 2);
    CHECK_EQ_INT(run("logits -m x --tokens 1,2"), 2);            /* no -o */
    CHECK_EQ_INT(run("logits -m x --tokens 1,,2 -o y"), 2);
    CHECK_EQ_INT(run("perplexity -m x"), 2);                      /* no -f */
    CHECK_EQ_INT(run("compare -m x -f y"), 2);                    /* no --ref */
    CHECK_EQ_INT(run("perplexity -m x -f y -c 0"), 2);
    CHECK_EQ_INT(run("perplexity -m x -f y --device tpu"), 2);
    CHECK_EQ_INT(run("compare --ref a -m b -f t --min-top1 2"), 2);
}

/* ---------------------------------------------------------------- logits */

TEST(logits_files)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "logits -m %s/tiny.gguf --tokens 5,17,3,90,2 -o %s/last.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    snprintf(a, sizeof a, "logits -m %s/tiny.gguf --tokens 5,17,3,90,2 -o %s/all.f32 --all -t 1", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    size_t nl, na;
    char *l = slurp("last.f32", &nl), *al = slurp("all.f32", &na);
    CHECK(l && al);
    CHECK_EQ_INT(nl, 96 * 4);
    CHECK_EQ_INT(na, 5 * 96 * 4);
    /* the last row of --all equals the last-position output (threads do not change results
     * beyond float rounding of the same sums: they split rows, not sums) */
    CHECK(memcmp(l, al + 4 * 96 * 4, 96 * 4) == 0);
    CHECK(!exists("last.f32.tmp"));
    /* never overwrite an input */
    struct stat before, after;
    char tp[4096];
    CHECK(stat(th_path(tp, "%s/tiny.gguf", th_tmp()), &before) == 0);
    snprintf(a, sizeof a, "logits -m %s/tiny.gguf --tokens 5 -o %s/tiny.gguf", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 2);
    char *e = slurp("err", NULL);
    CHECK(e && strstr(e, "output '") && strstr(e, "tiny.gguf' is one of the inputs"));
    free(e);
    CHECK(stat(tp, &after) == 0 && after.st_size == before.st_size && after.st_mtime == before.st_mtime);
    free(l);
    free(al);
}

TEST(logits_bad_inputs_leave_no_file)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "logits -m %s/nan.gguf --tokens 1,2,3 -o %s/nan.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("non-finite activation after layer 0"));
    CHECK(!exists("nan.f32") && !exists("nan.f32.tmp"));
    snprintf(a, sizeof a, "logits -m %s/tiny.gguf --tokens 1,96 -o %s/oob.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("token 96 at position 1 is outside the vocabulary"));
    CHECK(!exists("oob.f32"));
    snprintf(a, sizeof a, "logits -m %s/llama.gguf --tokens 1 -o %s/arch.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("architecture 'llama' is not supported"));
    snprintf(a, sizeof a, "logits -m %s/missing.gguf --tokens 1 -o %s/m.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("missing.gguf"));
    snprintf(a, sizeof a, "logits -m %s/tiny.gguf --prompt hi -o %s/m.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);   /* no tokenizer in this file */
    CHECK(err_line("tokenizer"));
}

/* ---------------------------------------------------------------- text */

TEST(tokenize_prompt_and_file)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "tokenize -m %s/tok-f32.gguf --prompt 'Hello world'", th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *o = slurp("out", NULL);
    CHECK_MSG(o && !strcmp(o, "9707 1879\n"), "got '%s'", o ? o : "");
    free(o);
    snprintf(a, sizeof a, "tokenize -m %s/tok-f32.gguf -f %s/wiki.txt", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    /* non-UTF-8 text is rejected, naming the file and the offset */
    char bad[4096];
    th_path(bad, "%s/bad.txt", th_tmp());
    FILE *f = fopen(bad, "wb");
    fputs("good text \xff\xfe then", f);
    fclose(f);
    snprintf(a, sizeof a, "tokenize -m %s/tok-f32.gguf -f %s", th_tmp(), bad);
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("bad.txt': not valid UTF-8 at byte offset 10"));
    snprintf(a, sizeof a, "perplexity -m %s/tok-f32.gguf -f %s", th_tmp(), bad);
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("not valid UTF-8"));
}

TEST(perplexity_uniform_model_is_vocab_size)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "perplexity -m %s/tok-zero.gguf -f %s/wiki.txt -c 64 --chunks 3 -t 2", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *o = slurp("out", NULL);
    CHECK(o);
    CHECK_MSG(strstr(o, "[1]151936.0000,[2]151936.0000,[3]151936.0000,"), "out: %s", o);
    /* the +/- term is llama's formula on identical NLLs: only rounding noise is left */
    const char *fe = strstr(o, "Final estimate: PPL = 151936.0000 +/- ");
    CHECK_MSG(fe && atof(fe + 38) < 0.1, "out: %s", o);
    free(o);
}

TEST(perplexity_too_short_and_device)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "perplexity -m %s/tok-f32.gguf -f %s/wiki.txt -c 4096", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("tokens is too short: need at least 2*c = 8192"));
    snprintf(a, sizeof a, "perplexity -m %s/tok-f32.gguf -f %s/wiki.txt -c 64 --chunks 2 --device cuda", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *e = slurp("err", NULL);
    CHECK(e && strstr(e, "warning: no CUDA backend in this build: running on the CPU"));
    free(e);
    char *o = slurp("out", NULL);
    CHECK(o && strstr(o, "Final estimate: PPL = "));
    free(o);
}

static double final_ppl(void)
{
    char *o = slurp("out", NULL);
    const char *p = o ? strstr(o, "Final estimate: PPL = ") : NULL;
    double v = p ? atof(p + 22) : -1;
    free(o);
    return v;
}

/* Default bf16 products vs --exact float32 on a Q8_0 model: close, and --fast is the default. */
TEST(perplexity_exact_and_fast_agree)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "perplexity -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 2 -q --exact", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    const double exact = final_ppl();
    snprintf(a, sizeof a, "perplexity -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 2 -q", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    const double def = final_ppl();
    snprintf(a, sizeof a, "perplexity -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 2 -q --fast", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    const double fast = final_ppl();
    CHECK(exact > 0 && def > 0);
    CHECK_NEAR(fast, def, 0);
    CHECK_MSG(fabs(def - exact) <= 0.01 * exact, "default %g vs exact %g", def, exact);
}

/* ---------------------------------------------------------------- compare */

static json_t *load_json(const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", th_tmp(), name);
    json_error_t je;
    return json_load_file(p, 0, &je);
}

TEST(compare_identical_passes_with_exact_numbers)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "compare --ref %s/tok-f32.gguf -m %s/tok-f32.gguf -f %s/wiki.txt -c 64 --chunks 2 "
             "--max-kld 0 --max-ppl-ratio 1 --min-top1 1 --json %s/same.json", th_tmp(), th_tmp(), th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    json_t *j = load_json("same.json");
    CHECK(j);
    CHECK(json_is_true(json_object_get(j, "pass")));
    CHECK_NEAR(json_real_value(json_object_get(j, "kld_mean")), 0, 0);
    CHECK_NEAR(json_real_value(json_object_get(j, "kld_max")), 0, 0);
    CHECK_NEAR(json_real_value(json_object_get(j, "top1_agreement")), 1, 0);
    CHECK_NEAR(json_real_value(json_object_get(j, "ppl_ratio")), 1, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "tokens_scored")), 2 * 31);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "layers")), 2);
    /* compare's PPL is the perplexity command's PPL over the same chunks */
    const double ppl = json_real_value(json_object_get(j, "ppl"));
    json_decref(j);
    snprintf(a, sizeof a, "perplexity -m %s/tok-f32.gguf -f %s/wiki.txt -c 64 --chunks 2 -q", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *o = slurp("out", NULL), want[128];
    snprintf(want, sizeof want, "Final estimate: PPL = %.4f +/- ", ppl);
    CHECK_MSG(o && strstr(o, want), "perplexity printed '%s', compare had %.6f", o ? o : "", ppl);
    free(o);
}

TEST(compare_quantized_thresholds_and_json_schema)
{
    NEED_FIXTURES();
    char a[8192];
    /* loose thresholds: pass */
    snprintf(a, sizeof a, "compare --ref %s/tok-f32.gguf -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 2 "
             "--max-kld 0.5 --max-ppl-ratio 2 --min-top1 0.5 --json %s/q8.json", th_tmp(), th_tmp(), th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    json_t *j = load_json("q8.json");
    CHECK(j);
    const char *num[] = { "ppl", "ppl_ref", "ppl_ratio", "kld_mean", "kld_median", "kld_p99", "kld_max",
                          "top1_agreement", "rms_dp" };
    for (size_t i = 0; i < sizeof num / sizeof *num; i++)
        CHECK_MSG(json_is_real(json_object_get(j, num[i])), "key %s missing or not a number", num[i]);
    CHECK(json_is_integer(json_object_get(j, "tokens_scored")));
    CHECK(json_is_true(json_object_get(j, "pass")));
    const double kld = json_real_value(json_object_get(j, "kld_mean"));
    const double top1 = json_real_value(json_object_get(j, "top1_agreement"));
    CHECK_MSG(kld > 0 && kld < 0.05, "kld %g", kld);
    CHECK(top1 > 0.5 && top1 <= 1);
    CHECK(json_real_value(json_object_get(j, "kld_max")) >= json_real_value(json_object_get(j, "kld_p99")));
    json_t *layers = json_object_get(j, "layers");
    CHECK_EQ_INT(json_array_size(layers), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *l = json_array_get(layers, i);
        CHECK_EQ_INT(json_integer_value(json_object_get(l, "layer")), (long long)i);
        const double c = json_real_value(json_object_get(l, "cosine")), r = json_real_value(json_object_get(l, "rel_rmse"));
        CHECK_MSG(c > 0.99 && c < 1 && r > 0 && r < 0.1, "layer %zu: cosine %g rel_rmse %g", i, c, r);
    }
    json_decref(j);
    /* a KLD threshold of 0 fails: exit 1, names the failed threshold, JSON says pass=false */
    snprintf(a, sizeof a, "compare --ref %s/tok-f32.gguf -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 2 "
             "--max-kld 0 --min-top1 0 --json %s/q8f.json -q", th_tmp(), th_tmp(), th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("threshold failed: mean KLD"));
    j = load_json("q8f.json");
    CHECK(j && json_is_false(json_object_get(j, "pass")));
    json_decref(j);
    snprintf(a, sizeof a, "compare --ref %s/tok-f32.gguf -m %s/tok-q8.gguf -f %s/wiki.txt -c 64 --chunks 1 "
             "--max-ppl-ratio 0.9 -q", th_tmp(), th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("PPL ratio"));
}

TEST(compare_different_vocabularies)
{
    NEED_FIXTURES();
    char a[8192];
    snprintf(a, sizeof a, "compare --ref %s/tok-f32.gguf -m %s/tiny.gguf -f %s/wiki.txt -c 64", th_tmp(), th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 1);
    CHECK(err_line("differ in vocabulary size (151936 vs 96)"));
}

/* ---------------------------------------------------------------- HF directories */

static int sh(const char *cmd)
{
    char c[16384];
    snprintf(c, sizeof c, "%s >%s/sh.out 2>&1", cmd, th_tmp());
    int st = system(c);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A safetensors directory (2 shards, F32) runs exactly as the GGUF converted from it. */
TEST(hf_directory_matches_converted_gguf)
{
    char a[8192];
    struct stat st;
    snprintf(a, sizeof a, "%s/gguf-synth", bin());
    if (stat(a, &st)) TH_SKIP("gguf-synth not built");
    snprintf(a, sizeof a, "%s/gguf-synth %s/hf --hidden 64 --ffn 128 --heads 4 --kv-heads 2 --layers 2 "
             "--dtype f32 --shards 2 --seed 9 --tokenizer-dir %s/qwen -q", bin(), th_tmp(), th_testdata());
    CHECK_EQ_INT(sh(a), 0);
    snprintf(a, sizeof a, "%s/gguf-convert %s/hf -o %s/hf.gguf -q", bin(), th_tmp(), th_tmp());
    CHECK_EQ_INT(sh(a), 0);
    snprintf(a, sizeof a, "logits -m %s/hf --tokens 9707,1879,11,220,151643 --all -o %s/hf.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    snprintf(a, sizeof a, "logits -m %s/hf.gguf --tokens 9707,1879,11,220,151643 --all -o %s/gg.f32", th_tmp(), th_tmp());
    CHECK_EQ_INT(run(a), 0);
    size_t n1, n2;
    char *l1 = slurp("hf.f32", &n1), *l2 = slurp("gg.f32", &n2);
    CHECK(l1 && l2 && n1 == n2 && n1 == (size_t)5 * 151936 * 4);
    CHECK(memcmp(l1, l2, n1) == 0);
    free(l1);
    free(l2);
    /* its tokenizer.json gives the same ids as the GGUF's tokenizer KVs */
    snprintf(a, sizeof a, "tokenize -m %s/hf --prompt 'Hello world, <think>x</think>'", th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *t1 = slurp("out", NULL);
    snprintf(a, sizeof a, "tokenize -m %s/hf.gguf --prompt 'Hello world, <think>x</think>'", th_tmp());
    CHECK_EQ_INT(run(a), 0);
    char *t2 = slurp("out", NULL);
    CHECK(t1 && t2 && !strcmp(t1, t2) && !strncmp(t1, "9707 1879 11", 12));
    free(t1);
    free(t2);
}

TH_MAIN()
