/*
 * gguf-verify - run a Qwen2 model on the CPU to check it: tokenize, dump logits, measure
 * perplexity as llama-perplexity does, and compare a model against a reference (PPL ratio,
 * KL divergence, top-1 agreement, per-layer drift) with pass/fail thresholds.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <jansson.h>

#include "tools/cli.h"
#include "verify/eval.h"
#include "verify/forward.h"
#include "verify/gemm.h"
#include "verify/metrics.h"
#include "verify/model.h"
#include "verify/textio.h"

static const char usage_text[] =
"Usage: gguf-verify COMMAND [options]\n"
"\n"
"Run a Qwen2 model (GGUF file, first file of a split set, or safetensors directory) on the CPU.\n"
"\n"
"Commands:\n"
"  tokenize   -m MODEL (-f FILE | --prompt TEXT)        token ids, space-separated, on stdout\n"
"  logits     -m MODEL (--prompt TEXT | --tokens 1,2,3) -o OUT.f32 [--all]\n"
"             raw little-endian float32 logits of the last position (all positions with --all)\n"
"  perplexity -m MODEL -f TEXT [-c 512] [--chunks N]\n"
"             per-chunk PPL and 'Final estimate: PPL = X +/- Y', scored as llama-perplexity\n"
"  compare    --ref REF -m MODEL -f TEXT [-c 512] [--chunks N] [--max-kld X]\n"
"             [--max-ppl-ratio X] [--min-top1 X] [--json OUT]\n"
"             PPL of both, their ratio, KLD(ref||model) mean/median/p99/max, top-1 agreement,\n"
"             RMS delta-p and per-layer drift; exit 1 if a given threshold fails\n"
"\n"
"Options:\n"
"  -m, --model MODEL     model to run\n"
"      --ref REF         reference model (compare)\n"
"  -f, --file FILE       UTF-8 text file\n"
"  -p, --prompt TEXT     text given on the command line\n"
"      --tokens LIST     comma-separated token ids (logits)\n"
"  -o, --output OUT      output file (logits)\n"
"      --all             logits of every position\n"
"  -c, --ctx-size N      chunk length in tokens (default 512)\n"
"      --chunks N        score at most N chunks (default: all)\n"
"      --max-kld X       fail if mean KLD > X\n"
"      --max-ppl-ratio X fail if PPL(model)/PPL(ref) > X\n"
"      --min-top1 X      fail if top-1 agreement (0..1) < X\n"
"      --json OUT        write the comparison as JSON\n"
"  -t, --threads N       worker threads (default: all CPUs)\n"
"      --device DEV      cpu (default) or cuda (no CUDA backend yet: falls back to cpu)\n"
"      --exact           float32 activations for every weight type (default: weights other\n"
"                        than F32 are multiplied as bf16 with bf16-rounded activations,\n"
"                        vdpbf16ps, as llama.cpp does for BF16; ~1.6x faster, ~1e-2 logits)\n"
"      --fast            the default: bf16 products for non-F32 weights\n"
"  -q, --quiet           no progress or timing on stderr\n"
"  -h, --help            this help\n";

typedef struct opts {
    const char *cmd, *model, *ref, *file, *prompt, *tokens, *output, *json, *device;
    int64_t ctx, chunks, threads;
    double max_kld, max_ppl_ratio, min_top1;
    bool has_max_kld, has_max_ppl_ratio, has_min_top1, all, quiet, exact;
} opts;

static double parse_double(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < 0)
        cli_usage_error("invalid value '%s' for %s", s, opt);
    return v;
}

static int64_t parse_int(const char *opt, const char *s, int64_t min, int64_t max)
{
    int64_t v;
    if (cli_parse_int(s, min, max, &v)) cli_usage_error("invalid value '%s' for %s", s, opt);
    return v;
}

static bool is_input(const opts *o, const char *path);

static void parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->ctx = 512;
    o->device = "cpu";
    if (argc < 2) cli_usage_error("missing command");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage_text, stdout);
        exit(0);
    }
    o->cmd = argv[1];
    if (strcmp(o->cmd, "tokenize") && strcmp(o->cmd, "logits") && strcmp(o->cmd, "perplexity") &&
        strcmp(o->cmd, "compare"))
        cli_usage_error("unknown command '%s'", o->cmd);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
#define IS(s, l) (!strcmp(a, s) || !strcmp(a, l))
#define VAL() (i + 1 < argc ? argv[++i] : (cli_usage_error("option '%s' needs a value", a), ""))
        if (IS("-h", "--help")) { fputs(usage_text, stdout); exit(0); }
        else if (IS("-m", "--model")) o->model = VAL();
        else if (IS("--ref", "--reference")) o->ref = VAL();
        else if (IS("-f", "--file")) o->file = VAL();
        else if (IS("-p", "--prompt")) o->prompt = VAL();
        else if (IS("--tokens", "--tokens")) o->tokens = VAL();
        else if (IS("-o", "--output")) o->output = VAL();
        else if (IS("--json", "--json")) o->json = VAL();
        else if (IS("--all", "--all")) o->all = true;
        else if (IS("-c", "--ctx-size")) o->ctx = parse_int(a, VAL(), 4, 1 << 20);
        else if (IS("--chunks", "--chunks")) o->chunks = parse_int(a, VAL(), 1, INT64_MAX);
        else if (IS("-t", "--threads")) o->threads = parse_int(a, VAL(), 1, 1024);
        else if (IS("--device", "--device")) o->device = VAL();
        else if (IS("--max-kld", "--max-kld")) { o->max_kld = parse_double(a, VAL()); o->has_max_kld = true; }
        else if (IS("--max-ppl-ratio", "--max-ppl-ratio")) { o->max_ppl_ratio = parse_double(a, VAL()); o->has_max_ppl_ratio = true; }
        else if (IS("--min-top1", "--min-top1")) { o->min_top1 = parse_double(a, VAL()); o->has_min_top1 = true; }
        else if (IS("-q", "--quiet")) o->quiet = true;
        else if (IS("--fast", "--fast")) o->exact = false;
        else if (IS("--exact", "--exact")) o->exact = true;
        else cli_usage_error("unknown option '%s'", a);
#undef IS
#undef VAL
    }
    if (!o->model) cli_usage_error("%s needs -m MODEL", o->cmd);
    if (strcmp(o->device, "cpu") && strcmp(o->device, "cuda"))
        cli_usage_error("unknown device '%s' (cpu or cuda)", o->device);
    if (o->has_min_top1 && o->min_top1 > 1) cli_usage_error("--min-top1 is a fraction between 0 and 1");
    const bool tok = !strcmp(o->cmd, "tokenize"), lg = !strcmp(o->cmd, "logits"),
               cmp = !strcmp(o->cmd, "compare");
    if (tok && !o->file == !o->prompt) cli_usage_error("tokenize needs exactly one of -f FILE and --prompt TEXT");
    if (lg && !o->prompt == !o->tokens) cli_usage_error("logits needs exactly one of --prompt TEXT and --tokens LIST");
    if (lg && !o->output) cli_usage_error("logits needs -o OUT");
    if ((!strcmp(o->cmd, "perplexity") || cmp) && !o->file) cli_usage_error("%s needs -f TEXT", o->cmd);
    if (cmp && !o->ref) cli_usage_error("compare needs --ref REF");
    if (o->output && is_input(o, o->output)) cli_usage_error("output '%s' is one of the inputs", o->output);
    if (o->json && is_input(o, o->json)) cli_usage_error("output '%s' is one of the inputs", o->json);
    if (!cmp && (o->ref || o->json || o->has_max_kld || o->has_max_ppl_ratio || o->has_min_top1))
        cli_usage_error("--ref, --json and thresholds belong to compare");
    if (!lg && (o->output || o->all || o->tokens)) cli_usage_error("-o, --all and --tokens belong to logits");
}

static verify_model *open_model(const char *path)
{
    verify_model *m;
    gguf_error err;
    gguf_error_clear(&err);
    if (verify_model_open(path, &m, &err)) {
        cli_error_gguf(&err);
        exit(CLI_FAIL);
    }
    return m;
}

/* Tokens of a text (from -f or --prompt) with the model's tokenizer; exits on failure. */
static int32_t *tokenize_or_die(const verify_model *m, const char *file, const char *prompt, int64_t *n)
{
    gguf_error err;
    gguf_error_clear(&err);
    char *buf = NULL;
    size_t len;
    const char *what = file ? file : "--prompt";
    if (file) {
        if (vtext_read_file(file, &buf, &len, &err)) { cli_error_gguf(&err); exit(CLI_FAIL); }
    } else {
        buf = strdup(prompt);
        if (!buf) { cli_error("out of memory"); exit(CLI_FAIL); }
        len = strlen(buf);
    }
    int32_t *ids = NULL;
    if (vtext_tokenize(m, what, buf, len, &ids, n, &err)) {
        free(buf);
        cli_error_gguf(&err);
        exit(CLI_FAIL);
    }
    free(buf);
    return ids;
}

static int32_t *parse_tokens(const char *s, int64_t *n)
{
    int64_t cap = 16, k = 0;
    int32_t *v = malloc((size_t)cap * sizeof *v);
    const char *p = s;
    while (v) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9') break;
        long long x = strtoll(p, &end, 10);
        if (errno || x > INT32_MAX) break;
        if (k == cap) {
            int32_t *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) { free(v); v = NULL; break; }
            v = nv;
        }
        v[k++] = (int32_t)x;
        p = end;
        if (!*p) { *n = k; return v; }
        if (*p != ',') break;
        p++;
    }
    free(v);
    cli_usage_error("invalid --tokens list '%s' (comma-separated token ids)", s);
}

/* True if path names an existing file that is also one of the inputs. */
static bool is_input(const opts *o, const char *path)
{
    struct stat so, si;
    if (stat(path, &so)) return false;
    const char *in[] = { o->model, o->ref, o->file };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        if (in[i] && !stat(in[i], &si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino) return true;
    return false;
}

/* Write a whole buffer to path through path.tmp, fsync and rename (no partial file ever sits
 * under the final name). */
static int write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        cli_error("output path '%s' is too long", path);
        return -1;
    }
    cli_tmp_register(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error("cannot create '%s': %s", tmp, strerror(errno));
        cli_tmp_unregister(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left > (1u << 30) ? (1u << 30) : left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            cli_error("cannot write '%s': %s", tmp, strerror(w < 0 ? errno : EIO));
            close(fd); unlink(tmp); cli_tmp_unregister(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        cli_tmp_unregister(tmp);
        return -1;
    }
    cli_tmp_unregister(tmp);
    return 0;
}

/* ---------------------------------------------------------------- tokenize */

static int cmd_tokenize(const opts *o)
{
    verify_model *m = open_model(o->model);
    int64_t n;
    int32_t *ids = tokenize_or_die(m, o->file, o->prompt, &n);
    for (int64_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    verify_model_close(m);
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}

/* ---------------------------------------------------------------- logits */

static int cmd_logits(const opts *o)
{
    int64_t n;
    int32_t *ids = o->tokens ? parse_tokens(o->tokens, &n) : NULL;
    verify_model *m = open_model(o->model);
    if (!ids) ids = tokenize_or_die(m, NULL, o->prompt, &n);
    int rc = CLI_FAIL;
    if (n < 1) {
        cli_error("no tokens to run");
        goto out;
    }
    const int64_t rows = o->all ? n : 1, V = m->hp.n_vocab;
    float *logits = malloc((size_t)rows * (size_t)V * sizeof *logits);
    verify_ctx *c = verify_ctx_new(m, n);
    gguf_error err;
    gguf_error_clear(&err);
    if (!logits || !c) cli_error("out of memory for %lld tokens", (long long)n);
    else if (verify_run_sequence(c, ids, n, o->all, logits, &err)) cli_error_gguf(&err);
    else {
        for (int64_t i = 0; i < rows * V; i++)
            if (!isfinite(logits[i])) {
                cli_error("'%s': non-finite logit at position %lld, token %lld", m->path,
                          (long long)(o->all ? i / V : n - 1), (long long)(i % V));
                goto done;
            }
        if (!write_atomic(o->output, logits, (size_t)rows * (size_t)V * sizeof *logits)) rc = CLI_OK;
    }
done:
    verify_ctx_free(c);
    free(logits);
out:
    free(ids);
    verify_model_close(m);
    return rc;
}

/* ---------------------------------------------------------------- perplexity, compare */

static void set_threads(const opts *o)
{
#ifdef _OPENMP
    omp_set_num_threads((int)(o->threads ? o->threads : cli_default_threads()));
#endif
    if (!strcmp(o->device, "cuda"))
        cli_warn("no CUDA backend in this build: running on the CPU");
    verify_gemm_set_fast(!o->exact);
}

static void ppl_progress(void *ud, int64_t k, int64_t n_chunk, const verify_ppl *ppl,
                         const verify_cmp_result *cmp)
{
    const opts *o = ud;
    if (!cmp) {
        printf("[%lld]%.4f,", (long long)k, verify_ppl_value(ppl));
        if (k == n_chunk) printf("\n");
        fflush(stdout);
    } else if (!o->quiet) {
        fprintf(stderr, "[%lld/%lld] PPL(ref) %.4f  PPL(model) %.4f  mean KLD %.6f  top-1 %.4f\n",
                (long long)k, (long long)n_chunk, verify_ppl_value(&cmp->ppl_ref),
                verify_ppl_value(&cmp->ppl_model), cmp->kld_mean, cmp->top1);
    }
}

static void eval_opts(const opts *o, const verify_model *m, verify_eval_opts *e)
{
    memset(e, 0, sizeof *e);
    e->ctx = o->ctx;
    e->max_chunks = o->chunks;
    e->bos = verify_model_bos(m);
    e->what = o->file;
    e->on_chunk = ppl_progress;
    e->ud = (void *)o;
}

static int cmd_perplexity(const opts *o)
{
    verify_model *m = open_model(o->model);
    int64_t n_tok, n_chunk;
    int32_t *ids = tokenize_or_die(m, o->file, NULL, &n_tok);
    verify_eval_opts e;
    eval_opts(o, m, &e);
    gguf_error err;
    gguf_error_clear(&err);
    int rc = CLI_FAIL;
    if (verify_eval_chunks(&e, n_tok, &n_chunk, &err)) {
        cli_error_gguf(&err);
        goto out;
    }
    if (!o->quiet)
        fprintf(stderr, "%s: %lld tokens, %lld chunks of %lld, %lld scored per chunk\n", cli_prog(),
                (long long)n_tok, (long long)n_chunk, (long long)o->ctx, (long long)(o->ctx - 1 - o->ctx / 2));
    verify_ppl ppl;
    const double t0 = cli_now();
    if (verify_eval_perplexity(m, ids, n_tok, &e, &ppl, &err)) {
        fflush(stdout);
        cli_error_gguf(&err);
        goto out;
    }
    const double secs = cli_now() - t0;
    printf("Final estimate: PPL = %.4f +/- %.5f\n", verify_ppl_value(&ppl), verify_ppl_error(&ppl));
    if (!o->quiet) {
        char rss[32];
        fprintf(stderr, "%s: %lld tokens evaluated in %.2f s (%.1f tok/s), peak RSS %s\n", cli_prog(),
                (long long)(n_chunk * o->ctx), secs, (double)(n_chunk * o->ctx) / secs,
                cli_fmt_bytes(rss, sizeof rss, cli_peak_rss()));
    }
    rc = fflush(stdout) ? CLI_FAIL : CLI_OK;
out:
    free(ids);
    verify_model_close(m);
    return rc;
}

static int write_json(const opts *o, const verify_cmp_result *res, bool pass, const char *why)
{
    json_t *j = json_object(), *layers = json_array(), *th = json_object();
    json_object_set_new(j, "ref", json_string(o->ref));
    json_object_set_new(j, "model", json_string(o->model));
    json_object_set_new(j, "text", json_string(o->file));
    json_object_set_new(j, "ctx", json_integer(o->ctx));
    json_object_set_new(j, "chunks", json_integer(res->n_chunk));
    json_object_set_new(j, "tokens_scored", json_integer(res->n_scored));
    json_object_set_new(j, "ppl", json_real(verify_ppl_value(&res->ppl_model)));
    json_object_set_new(j, "ppl_err", json_real(verify_ppl_error(&res->ppl_model)));
    json_object_set_new(j, "ppl_ref", json_real(verify_ppl_value(&res->ppl_ref)));
    json_object_set_new(j, "ppl_ref_err", json_real(verify_ppl_error(&res->ppl_ref)));
    json_object_set_new(j, "ppl_ratio", json_real(verify_ppl_value(&res->ppl_model) / verify_ppl_value(&res->ppl_ref)));
    json_object_set_new(j, "kld_mean", json_real(res->kld_mean));
    json_object_set_new(j, "kld_median", json_real(res->kld_median));
    json_object_set_new(j, "kld_p99", json_real(res->kld_p99));
    json_object_set_new(j, "kld_max", json_real(res->kld_max));
    json_object_set_new(j, "top1_agreement", json_real(res->top1));
    json_object_set_new(j, "rms_dp", json_real(res->rms_dp));
    for (int il = 0; il < res->n_layer; il++) {
        json_t *l = json_object();
        json_object_set_new(l, "layer", json_integer(il));
        json_object_set_new(l, "cosine", json_real(res->layer_cos[il]));
        json_object_set_new(l, "rel_rmse", json_real(res->layer_rel_rmse[il]));
        json_array_append_new(layers, l);
    }
    json_object_set_new(j, "layers", layers);
    if (o->has_max_kld) json_object_set_new(th, "max_kld", json_real(o->max_kld));
    if (o->has_max_ppl_ratio) json_object_set_new(th, "max_ppl_ratio", json_real(o->max_ppl_ratio));
    if (o->has_min_top1) json_object_set_new(th, "min_top1", json_real(o->min_top1));
    json_object_set_new(j, "thresholds", th);
    json_object_set_new(j, "pass", json_boolean(pass));
    if (!pass) json_object_set_new(j, "failed", json_string(why));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(j);
    if (!s) { cli_error("out of memory"); return -1; }
    size_t sl = strlen(s);
    char *s2 = realloc(s, sl + 2);
    if (!s2) { free(s); cli_error("out of memory"); return -1; }
    s2[sl] = '\n';
    int wr = write_atomic(o->json, s2, sl + 1);
    free(s2);
    return wr;
}

static int cmd_compare(const opts *o)
{
    verify_model *r = open_model(o->ref);
    verify_model *m = open_model(o->model);
    gguf_error err;
    gguf_error_clear(&err);
    int rc = CLI_FAIL;
    int64_t n_tok = 0, n_tok_m = 0, n_chunk;
    int32_t *ids = NULL, *ids_m = NULL;
    verify_cmp_result res;
    memset(&res, 0, sizeof res);
    if (verify_model_same_shape(r, m, &err)) { cli_error_gguf(&err); goto out; }
    ids = tokenize_or_die(r, o->file, NULL, &n_tok);
    ids_m = tokenize_or_die(m, o->file, NULL, &n_tok_m);
    if (n_tok != n_tok_m || memcmp(ids, ids_m, (size_t)n_tok * sizeof *ids)) {
        cli_error("'%s' and '%s' tokenize '%s' differently: their vocabularies differ", o->ref, o->model, o->file);
        goto out;
    }
    verify_eval_opts e;
    eval_opts(o, r, &e);
    if (verify_eval_chunks(&e, n_tok, &n_chunk, &err)) { cli_error_gguf(&err); goto out; }
    if (!o->quiet)
        fprintf(stderr, "%s: %lld tokens, %lld chunks of %lld, %lld scored per chunk\n", cli_prog(),
                (long long)n_tok, (long long)n_chunk, (long long)o->ctx, (long long)(o->ctx - 1 - o->ctx / 2));
    const double t0 = cli_now();
    if (verify_eval_compare(r, m, ids, n_tok, &e, &res, &err)) { cli_error_gguf(&err); goto out; }
    const double secs = cli_now() - t0;
    const double ppl_r = verify_ppl_value(&res.ppl_ref), ppl_m = verify_ppl_value(&res.ppl_model);
    const double ratio = ppl_m / ppl_r;
    bool pass = true;
    char why[512] = "";
    size_t wl = 0;
#define FAIL_IF(cond, ...) if (cond) { pass = false; if (wl < sizeof why) \
        wl += (size_t)snprintf(why + wl, sizeof why - wl, __VA_ARGS__); }
    FAIL_IF(o->has_max_kld && !(res.kld_mean <= o->max_kld), "%smean KLD %.6g > --max-kld %g",
            wl ? "; " : "", res.kld_mean, o->max_kld)
    FAIL_IF(o->has_max_ppl_ratio && !(ratio <= o->max_ppl_ratio), "%sPPL ratio %.6g > --max-ppl-ratio %g",
            wl ? "; " : "", ratio, o->max_ppl_ratio)
    FAIL_IF(o->has_min_top1 && !(res.top1 >= o->min_top1), "%stop-1 agreement %.6g < --min-top1 %g",
            wl ? "; " : "", res.top1, o->min_top1)
#undef FAIL_IF
    printf("tokens scored:    %lld (%lld chunks of %lld)\n", (long long)res.n_scored, (long long)res.n_chunk, (long long)o->ctx);
    printf("PPL(ref):         %.4f +/- %.5f\n", ppl_r, verify_ppl_error(&res.ppl_ref));
    printf("PPL(model):       %.4f +/- %.5f\n", ppl_m, verify_ppl_error(&res.ppl_model));
    printf("PPL ratio:        %.6f\n", ratio);
    printf("KLD mean:         %.6g\n", res.kld_mean);
    printf("KLD median:       %.6g\n", res.kld_median);
    printf("KLD p99:          %.6g\n", res.kld_p99);
    printf("KLD max:          %.6g\n", res.kld_max);
    printf("top-1 agreement:  %.6f\n", res.top1);
    printf("RMS delta-p:      %.6g\n", res.rms_dp);
    printf("layer  cosine      rel_rmse\n");
    for (int il = 0; il < res.n_layer; il++)
        printf("%5d  %.8f  %.6e\n", il, res.layer_cos[il], res.layer_rel_rmse[il]);
    printf("result:           %s\n", pass ? "PASS" : "FAIL");
    if (fflush(stdout)) goto out;
    if (!o->quiet)
        fprintf(stderr, "%s: compared %lld tokens in %.2f s, peak RSS %.1f MB\n", cli_prog(),
                (long long)(res.n_chunk * o->ctx), secs, (double)cli_peak_rss() / 1e6);
    if (o->json && write_json(o, &res, pass, why)) goto out;
    if (!pass) cli_error("threshold failed: %s", why);
    rc = pass ? CLI_OK : CLI_FAIL;
out:
    verify_cmp_result_free(&res);
    free(ids);
    free(ids_m);
    verify_model_close(m);
    verify_model_close(r);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init("gguf-verify");
    opts o;
    parse_args(argc, argv, &o);
    cli_set_quiet(o.quiet);
    set_threads(&o);
    if (!strcmp(o.cmd, "tokenize")) return cmd_tokenize(&o);
    if (!strcmp(o.cmd, "logits")) return cmd_logits(&o);
    if (!strcmp(o.cmd, "perplexity")) return cmd_perplexity(&o);
    return cmd_compare(&o);
}
