/*
 * gguf-synth - write a synthetic Hugging Face Qwen2 model directory (config.json, safetensors
 * shards + model.safetensors.index.json, tokenizer files, generation_config.json) with seeded,
 * deterministic weights. Used by the tests and benchmarks of every module.
 *
 * Weights are generated and written streaming, a few MB at a time, so a QwQ-32B-shaped model
 * never sits in memory. Values depend only on (seed, tensor name, element index): the shard
 * count and the thread count do not change them.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

static const char usage_text[] =
    "usage: gguf-synth OUT_DIR [options]\n"
    "Write a synthetic Hugging Face Qwen2ForCausalLM model directory with seeded random weights.\n"
    "\n"
    "shape (defaults: hidden 256, ffn 768, heads 4, kv-heads 2, layers 2, vocab 151936):\n"
    "  --config FILE.json   take the shape from a Hugging Face config.json (copied, keys kept)\n"
    "  --hidden N           hidden_size\n"
    "  --ffn N              intermediate_size\n"
    "  --heads N            num_attention_heads\n"
    "  --kv-heads N         num_key_value_heads\n"
    "  --layers N           num_hidden_layers (also overrides --config)\n"
    "  --vocab N            vocab_size (>= 151669 for the Qwen tokenizer)\n"
    "  --tied               tie_word_embeddings: no lm_head.weight\n"
    "output:\n"
    "  --shards N           number of safetensors shards (default 2; 1 writes model.safetensors)\n"
    "  --dtype T            bf16 (default, or the config's torch_dtype), f16 or f32\n"
    "  --seed S             PRNG seed (default 1)\n"
    "  --tokenizer-dir DIR  copy tokenizer.json(.gz), tokenizer_config.json, generation_config.json\n"
    "                       from DIR (default: the project's testdata/qwen)\n"
    "  --chat-template FILE also write FILE as chat_template.jinja\n"
    "  --force              write into an OUT_DIR that already holds a model\n"
    "  -q                   no progress\n"
    "  -h, --help           this help\n";

enum dtype { DT_BF16, DT_F16, DT_F32 };
static const char *dtype_st_name[] = { "BF16", "F16", "F32" };
static const char *dtype_torch_name[] = { "bfloat16", "float16", "float32" };
static const int dtype_size[] = { 2, 2, 4 };

enum kind { K_WEIGHT, K_NORM, K_BIAS };

typedef struct synth_tensor {
    char     name[96];
    int64_t  shape[2];   /* HF (PyTorch) shape, row-major */
    int      n_dims;
    int      kind;
    uint64_t nbytes;
    int      shard;
    uint64_t off;        /* data offset within its shard's data section */
} synth_tensor;

/* ---------------------------------------------------------------- PRNG */

static inline uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint16_t f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1); /* round to nearest even; values are finite */
    return (uint16_t)(u >> 16);
}

static inline uint16_t f32_to_f16(float f)
{
    _Float16 h = (_Float16)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

#define CHUNK_ELEMS (1u << 20)

/* Fill elements [c*CHUNK_ELEMS, c*CHUNK_ELEMS + n) of a tensor into dst (n <= CHUNK_ELEMS).
 * Irwin-Hall sum of four 16-bit uniforms: mean 0, close to normal, std scaled to 0.02. */
static void gen_chunk(uint64_t tensor_seed, uint64_t c, int kind, int dt, void *dst, uint64_t n)
{
    uint64_t s = tensor_seed ^ (c * 0xD1B54A32D192ED03ull);
    splitmix64(&s);
    const float scale = 0.02f / (0.57735027f * 65536.0f);
    const float base = kind == K_NORM ? 1.0f : 0.0f;
    const float mul = kind == K_BIAS ? 0.5f : 1.0f;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = splitmix64(&s);
        int32_t sum = (int32_t)(r & 0xFFFF) + (int32_t)((r >> 16) & 0xFFFF) +
                      (int32_t)((r >> 32) & 0xFFFF) + (int32_t)(r >> 48) - 2 * 65535;
        float v = base + mul * scale * (float)sum;
        if (dt == DT_BF16) ((uint16_t *)dst)[i] = f32_to_bf16(v);
        else if (dt == DT_F16) ((uint16_t *)dst)[i] = f32_to_f16(v);
        else ((float *)dst)[i] = v;
    }
}

/* ---------------------------------------------------------------- files */

/* snprintf that reports truncation (paths longer than the buffer) instead of hiding it. */
__attribute__((format(printf, 3, 4)))
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        cli_error("path too long: '%s...'", buf);
        exit(CLI_FAIL);
    }
    return n;
}


static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write a whole small file through "<path>.tmp" + rename. Returns 0 or -1 (errno kept). */
static int write_file(const char *path, const void *buf, size_t n)
{
    char tmp[PATH_MAX + 8];
    pathf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    cli_tmp_register(tmp);
    int rc = write_all(fd, buf, n);
    if (close(fd) != 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    int e = errno;
    if (rc != 0) unlink(tmp);
    cli_tmp_unregister(tmp);
    errno = e;
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); errno = EIO; return NULL; }
    *len = n;
    return buf;
}

/* Read a file, or its gzip-compressed sibling "<path>.gz" decompressed with zlib. */
static char *read_maybe_gz(const char *path, size_t *len)
{
    char *buf = read_file(path, len);
    if (buf || errno != ENOENT) return buf;
    char gz[PATH_MAX + 4];
    pathf(gz, sizeof gz, "%s.gz", path);
    gzFile g = gzopen(gz, "rb");
    if (!g) { errno = ENOENT; return NULL; }
    size_t cap = 1 << 20, n = 0;
    buf = malloc(cap);
    while (buf) {
        int r = gzread(g, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (r < 0) { free(buf); buf = NULL; errno = EIO; break; }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    gzclose(g);
    if (buf) *len = n;
    return buf;
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Default tokenizer dir: $GGUF_TESTDATA/qwen, else <exe dir>/../../testdata/qwen. */
static void default_tokenizer_dir(char *buf, size_t size)
{
    const char *td = getenv("GGUF_TESTDATA");
    if (td && *td) { pathf(buf, size, "%s/qwen", td); return; }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) *s = 0;
        pathf(buf, size, "%s/../../testdata/qwen", exe);
        return;
    }
    pathf(buf, size, "testdata/qwen");
}

/* ---------------------------------------------------------------- main */

typedef struct synth_opts {
    const char *out_dir, *config, *tok_dir, *chat_template;
    int64_t hidden, ffn, heads, kv_heads, layers, vocab;
    int64_t shards;
    int dtype;          /* -1: from config or bf16 */
    uint64_t seed;
    bool tied, force, quiet;
} synth_opts;

static int64_t opt_int(const char *opt, const char *v, int64_t min, int64_t max)
{
    int64_t x;
    if (!v) cli_usage_error("option '%s' needs a value", opt);
    if (cli_parse_int(v, min, max, &x) != 0)
        cli_usage_error("invalid value '%s' for %s (an integer from %" PRId64 " to %" PRId64 ")", v, opt, min, max);
    return x;
}

static int64_t cfg_int(json_t *cfg, const char *key, const char *path)
{
    json_t *v = json_object_get(cfg, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        cli_error("'%s': key '%s' missing or not a positive integer", path, key);
        exit(CLI_FAIL);
    }
    return json_integer_value(v);
}

static void add_tensor(synth_tensor *t, int *n, const char *name, int n_dims, int64_t r, int64_t c,
                       int kind, int dt)
{
    synth_tensor *x = &t[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n_dims = n_dims;
    x->shape[0] = r;
    x->shape[1] = n_dims == 2 ? c : 1;
    x->kind = kind;
    x->nbytes = (uint64_t)r * (uint64_t)x->shape[1] * (uint64_t)dtype_size[dt];
}

static int cmp_name(const void *a, const void *b)
{
    const synth_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static void copy_aux(const char *src_dir, const char *name, const char *out_dir, bool required)
{
    char src[PATH_MAX], dst[PATH_MAX];
    pathf(src, sizeof src, "%s/%s", src_dir, name);
    pathf(dst, sizeof dst, "%s/%s", out_dir, name);
    size_t len = 0;
    char *buf = read_maybe_gz(src, &len);
    if (!buf) {
        if (!required && errno == ENOENT) return;
        cli_error("cannot read '%s': %s", src, strerror(errno));
        exit(CLI_FAIL);
    }
    if (write_file(dst, buf, len) != 0) {
        cli_error("cannot write '%s': %s", dst, strerror(errno));
        free(buf);
        exit(CLI_FAIL);
    }
    free(buf);
}

/* Fatal errors below print one line and exit(CLI_FAIL) on the spot (any temp file already
 * removed): the process owns nothing else worth unwinding. */
int main(int argc, char **argv)
{
    cli_init(argv[0]);
    synth_opts o = { .hidden = -1, .ffn = -1, .heads = -1, .kv_heads = -1, .layers = -1, .vocab = -1,
                     .shards = 2, .dtype = -1, .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        else if (!strcmp(a, "--config")) { if (!v) cli_usage_error("option '--config' needs a value"); o.config = v; i++; }
        else if (!strcmp(a, "--hidden")) { o.hidden = opt_int(a, v, 1, 1 << 20); i++; }
        else if (!strcmp(a, "--ffn")) { o.ffn = opt_int(a, v, 1, 1 << 22); i++; }
        else if (!strcmp(a, "--heads")) { o.heads = opt_int(a, v, 1, 1 << 12); i++; }
        else if (!strcmp(a, "--kv-heads")) { o.kv_heads = opt_int(a, v, 1, 1 << 12); i++; }
        else if (!strcmp(a, "--layers")) { o.layers = opt_int(a, v, 1, 4096); i++; }
        else if (!strcmp(a, "--vocab")) { o.vocab = opt_int(a, v, 1, 1 << 24); i++; }
        else if (!strcmp(a, "--shards")) { o.shards = opt_int(a, v, 1, 99999); i++; }
        else if (!strcmp(a, "--seed")) { o.seed = (uint64_t)opt_int(a, v, 0, INT64_MAX); i++; }
        else if (!strcmp(a, "--dtype")) {
            if (!v) cli_usage_error("option '--dtype' needs a value");
            if (!strcmp(v, "bf16")) o.dtype = DT_BF16;
            else if (!strcmp(v, "f16")) o.dtype = DT_F16;
            else if (!strcmp(v, "f32")) o.dtype = DT_F32;
            else cli_usage_error("invalid --dtype '%s' (bf16, f16 or f32)", v);
            i++;
        }
        else if (!strcmp(a, "--tokenizer-dir")) { if (!v) cli_usage_error("option '--tokenizer-dir' needs a value"); o.tok_dir = v; i++; }
        else if (!strcmp(a, "--chat-template")) { if (!v) cli_usage_error("option '--chat-template' needs a value"); o.chat_template = v; i++; }
        else if (!strcmp(a, "--tied")) o.tied = true;
        else if (!strcmp(a, "--force")) o.force = true;
        else if (!strcmp(a, "-q")) o.quiet = true;
        else if (a[0] == '-' && a[1]) cli_usage_error("unknown option '%s'", a);
        else if (!o.out_dir) o.out_dir = a;
        else cli_usage_error("unexpected argument '%s'", a);
    }
    if (!o.out_dir) cli_usage_error("missing OUT_DIR");
    cli_set_quiet(o.quiet);

    /* ---- config */
    json_t *cfg;
    if (o.config) {
        json_error_t je;
        cfg = json_load_file(o.config, 0, &je);
        if (!cfg) {
            cli_error("'%s': line %d, column %d: %s", o.config, je.line, je.column, je.text);
            exit(CLI_FAIL);
        }
        if (!json_is_object(cfg)) { cli_error("'%s': not a JSON object", o.config); exit(CLI_FAIL); }
        if (o.hidden < 0) o.hidden = cfg_int(cfg, "hidden_size", o.config);
        if (o.ffn < 0) o.ffn = cfg_int(cfg, "intermediate_size", o.config);
        if (o.heads < 0) o.heads = cfg_int(cfg, "num_attention_heads", o.config);
        if (o.kv_heads < 0) {
            json_t *kv = json_object_get(cfg, "num_key_value_heads");
            o.kv_heads = kv ? cfg_int(cfg, "num_key_value_heads", o.config) : o.heads;
        }
        if (o.layers < 0) o.layers = cfg_int(cfg, "num_hidden_layers", o.config);
        if (o.vocab < 0) o.vocab = cfg_int(cfg, "vocab_size", o.config);
        if (!o.tied) o.tied = json_is_true(json_object_get(cfg, "tie_word_embeddings"));
        if (o.dtype < 0) {
            const char *td = json_string_value(json_object_get(cfg, "torch_dtype"));
            o.dtype = td && !strcmp(td, "float16") ? DT_F16 : td && !strcmp(td, "float32") ? DT_F32 : DT_BF16;
        }
    } else {
        cfg = json_object();
        json_object_set_new(cfg, "architectures", json_pack("[s]", "Qwen2ForCausalLM"));
        json_object_set_new(cfg, "attention_dropout", json_real(0.0));
        json_object_set_new(cfg, "bos_token_id", json_integer(151643));
        json_object_set_new(cfg, "eos_token_id", json_integer(151645));
        json_object_set_new(cfg, "hidden_act", json_string("silu"));
        json_object_set_new(cfg, "hidden_size", json_integer(0));
        json_object_set_new(cfg, "initializer_range", json_real(0.02));
        json_object_set_new(cfg, "intermediate_size", json_integer(0));
        json_object_set_new(cfg, "max_position_embeddings", json_integer(32768));
        json_object_set_new(cfg, "max_window_layers", json_integer(0));
        json_object_set_new(cfg, "model_type", json_string("qwen2"));
        json_object_set_new(cfg, "num_attention_heads", json_integer(0));
        json_object_set_new(cfg, "num_hidden_layers", json_integer(0));
        json_object_set_new(cfg, "num_key_value_heads", json_integer(0));
        json_object_set_new(cfg, "rms_norm_eps", json_real(1e-6));
        json_object_set_new(cfg, "rope_theta", json_real(1000000.0));
        json_object_set_new(cfg, "sliding_window", json_integer(32768));
        json_object_set_new(cfg, "tie_word_embeddings", json_false());
        json_object_set_new(cfg, "torch_dtype", json_string("bfloat16"));
        json_object_set_new(cfg, "use_cache", json_true());
        json_object_set_new(cfg, "use_sliding_window", json_false());
        json_object_set_new(cfg, "vocab_size", json_integer(0));
    }
    if (o.hidden < 0) o.hidden = 256;
    if (o.ffn < 0) o.ffn = 768;
    if (o.heads < 0) o.heads = 4;
    if (o.kv_heads < 0) o.kv_heads = 2;
    if (o.layers < 0) o.layers = 2;
    if (o.vocab < 0) o.vocab = 151936;
    if (o.dtype < 0) o.dtype = DT_BF16;
    if (o.hidden % o.heads != 0) cli_usage_error("hidden size %" PRId64 " is not a multiple of %" PRId64 " heads", o.hidden, o.heads);
    if (o.heads % o.kv_heads != 0) cli_usage_error("%" PRId64 " heads are not a multiple of %" PRId64 " kv heads", o.heads, o.kv_heads);
    const int64_t kvdim = o.hidden / o.heads * o.kv_heads;
    json_object_set_new(cfg, "hidden_size", json_integer(o.hidden));
    json_object_set_new(cfg, "intermediate_size", json_integer(o.ffn));
    json_object_set_new(cfg, "num_attention_heads", json_integer(o.heads));
    json_object_set_new(cfg, "num_key_value_heads", json_integer(o.kv_heads));
    json_object_set_new(cfg, "num_hidden_layers", json_integer(o.layers));
    if (json_object_get(cfg, "max_window_layers")) json_object_set_new(cfg, "max_window_layers", json_integer(o.layers));
    json_object_set_new(cfg, "vocab_size", json_integer(o.vocab));
    json_object_set_new(cfg, "tie_word_embeddings", json_boolean(o.tied));
    json_object_set_new(cfg, "torch_dtype", json_string(dtype_torch_name[o.dtype]));

    /* ---- tensors, in the order transformers saves them */
    int64_t n_max = 2 + 12 * o.layers + 1;
    synth_tensor *t = calloc((size_t)n_max, sizeof *t);
    if (!t) { cli_error("out of memory"); exit(CLI_FAIL); }
    int n = 0, dt = o.dtype;
    char nm[96];
    add_tensor(t, &n, "model.embed_tokens.weight", 2, o.vocab, o.hidden, K_WEIGHT, dt);
    for (int64_t l = 0; l < o.layers; l++) {
#define L(suffix) (snprintf(nm, sizeof nm, "model.layers.%" PRId64 ".%s", l, suffix), nm)
        add_tensor(t, &n, L("self_attn.q_proj.weight"), 2, o.hidden, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("self_attn.q_proj.bias"), 1, o.hidden, 1, K_BIAS, dt);
        add_tensor(t, &n, L("self_attn.k_proj.weight"), 2, kvdim, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("self_attn.k_proj.bias"), 1, kvdim, 1, K_BIAS, dt);
        add_tensor(t, &n, L("self_attn.v_proj.weight"), 2, kvdim, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("self_attn.v_proj.bias"), 1, kvdim, 1, K_BIAS, dt);
        add_tensor(t, &n, L("self_attn.o_proj.weight"), 2, o.hidden, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("mlp.gate_proj.weight"), 2, o.ffn, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("mlp.up_proj.weight"), 2, o.ffn, o.hidden, K_WEIGHT, dt);
        add_tensor(t, &n, L("mlp.down_proj.weight"), 2, o.hidden, o.ffn, K_WEIGHT, dt);
        add_tensor(t, &n, L("input_layernorm.weight"), 1, o.hidden, 1, K_NORM, dt);
        add_tensor(t, &n, L("post_attention_layernorm.weight"), 1, o.hidden, 1, K_NORM, dt);
#undef L
    }
    add_tensor(t, &n, "model.norm.weight", 1, o.hidden, 1, K_NORM, dt);
    if (!o.tied) add_tensor(t, &n, "lm_head.weight", 2, o.vocab, o.hidden, K_WEIGHT, dt);

    if (o.shards > n) cli_usage_error("--shards %" PRId64 " is more than the %d tensors", o.shards, n);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += t[i].nbytes;
    /* shard k takes tensors, in save order, while the running total is below (k+1)/N of it */
    {
        uint64_t cum = 0;
        int k = 0;
        for (int i = 0; i < n; i++) {
            int remaining_tensors = n - i, remaining_shards = (int)o.shards - k;
            if (k + 1 < o.shards && i > 0 && t[i - 1].shard == k &&
                (cum >= (uint64_t)((double)total * (k + 1) / (double)o.shards) || remaining_tensors == remaining_shards))
                k++;
            t[i].shard = k;
            cum += t[i].nbytes;
        }
    }

    /* ---- output directory */
    if (mkdir(o.out_dir, 0755) != 0 && errno != EEXIST) {
        cli_error("cannot create '%s': %s", o.out_dir, strerror(errno));
        exit(CLI_FAIL);
    }
    char path[PATH_MAX];
    pathf(path, sizeof path, "%s/config.json", o.out_dir);
    if (file_exists(path) && !o.force) {
        cli_error("'%s' already holds a model (use --force to overwrite)", o.out_dir);
        exit(CLI_FAIL);
    }
    /* a previous run with another shard count leaves stale shards: remove what we may have written */
    if (o.force) {
        pathf(path, sizeof path, "%s/model.safetensors", o.out_dir);
        unlink(path);
        pathf(path, sizeof path, "%s/model.safetensors.index.json", o.out_dir);
        unlink(path);
        pathf(path, sizeof path, "%s/chat_template.jinja", o.out_dir);
        unlink(path);
    }

    char tok_dir[PATH_MAX];
    if (o.tok_dir) pathf(tok_dir, sizeof tok_dir, "%s", o.tok_dir);
    else default_tokenizer_dir(tok_dir, sizeof tok_dir);
    copy_aux(tok_dir, "tokenizer.json", o.out_dir, true);
    copy_aux(tok_dir, "tokenizer_config.json", o.out_dir, true);
    copy_aux(tok_dir, "generation_config.json", o.out_dir, false);
    if (o.chat_template) {
        size_t len;
        char *buf = read_file(o.chat_template, &len);
        pathf(path, sizeof path, "%s/chat_template.jinja", o.out_dir);
        if (!buf || write_file(path, buf, len) != 0) {
            cli_error("cannot copy '%s': %s", o.chat_template, strerror(errno));
            exit(CLI_FAIL);
        }
        free(buf);
    }

    /* ---- shards */
    synth_tensor **sorted = calloc((size_t)n, sizeof *sorted);
    void *buf = malloc((size_t)CHUNK_ELEMS * 8 * 4);
    if (!sorted || !buf) { cli_error("out of memory"); exit(CLI_FAIL); }
    json_t *weight_map = json_object();
    cli_progress *prog = cli_progress_new("gguf-synth", total);
    uint64_t done = 0;
    for (int k = 0; k < o.shards; k++) {
        char fname[64];
        if (o.shards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", k + 1, (int)o.shards);
        int m = 0;
        for (int i = 0; i < n; i++)
            if (t[i].shard == k) sorted[m++] = &t[i];
        /* safetensors writes one dtype's tensors sorted by name */
        qsort(sorted, (size_t)m, sizeof *sorted, cmp_name);
        json_t *hdr = json_object();
        json_object_set_new(hdr, "__metadata__", json_pack("{s:s}", "format", "pt"));
        uint64_t off = 0;
        for (int j = 0; j < m; j++) {
            synth_tensor *x = sorted[j];
            x->off = off;
            json_t *shape = x->n_dims == 2 ? json_pack("[I,I]", (json_int_t)x->shape[0], (json_int_t)x->shape[1])
                                           : json_pack("[I]", (json_int_t)x->shape[0]);
            json_object_set_new(hdr, x->name, json_pack("{s:s,s:o,s:[I,I]}", "dtype", dtype_st_name[dt],
                                                        "shape", shape, "data_offsets",
                                                        (json_int_t)off, (json_int_t)(off + x->nbytes)));
            off += x->nbytes;
            json_object_set_new(weight_map, x->name, json_string(fname));
        }
        char *hj = json_dumps(hdr, JSON_COMPACT);
        json_decref(hdr);
        size_t hlen = strlen(hj), padded = (hlen + 7) & ~(size_t)7;
        char *hbuf = malloc(8 + padded);
        uint64_t le = padded;
        for (int b = 0; b < 8; b++) hbuf[b] = (char)(le >> (8 * b));
        memcpy(hbuf + 8, hj, hlen);
        memset(hbuf + 8 + hlen, ' ', padded - hlen);
        free(hj);

        pathf(path, sizeof path, "%s/%s", o.out_dir, fname);
        char tmp[PATH_MAX + 8];
        pathf(tmp, sizeof tmp, "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { cli_error("cannot create '%s': %s", tmp, strerror(errno)); exit(CLI_FAIL); }
        cli_tmp_register(tmp);
        bool ok = write_all(fd, hbuf, 8 + padded) == 0;
        free(hbuf);
        for (int j = 0; ok && j < m; j++) {
            synth_tensor *x = sorted[j];
            uint64_t tseed = XXH64(x->name, strlen(x->name), o.seed);
            uint64_t ne = x->nbytes / (uint64_t)dtype_size[dt];
            uint64_t nchunks = (ne + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
            for (uint64_t c0 = 0; ok && c0 < nchunks; c0 += 8) {
                uint64_t cn = nchunks - c0 < 8 ? nchunks - c0 : 8;
                #pragma omp parallel for schedule(static)
                for (uint64_t c = c0; c < c0 + cn; c++) {
                    uint64_t first = c * CHUNK_ELEMS;
                    uint64_t cnt = ne - first < CHUNK_ELEMS ? ne - first : CHUNK_ELEMS;
                    gen_chunk(tseed, c, x->kind, dt, (char *)buf + (c - c0) * CHUNK_ELEMS * dtype_size[dt], cnt);
                }
                uint64_t first = c0 * CHUNK_ELEMS;
                uint64_t cnt = ne - first < cn * CHUNK_ELEMS ? ne - first : cn * CHUNK_ELEMS;
                ok = write_all(fd, buf, cnt * dtype_size[dt]) == 0;
                done += cnt * dtype_size[dt];
                cli_progress_update(prog, done);
            }
        }
        if (close(fd) != 0) ok = false;
        if (ok && rename(tmp, path) != 0) ok = false;
        if (!ok) {
            cli_error("cannot write '%s': %s", path, strerror(errno));
            unlink(tmp);
            exit(CLI_FAIL);
        }
        cli_tmp_unregister(tmp);
    }
    cli_progress_done(prog);
    free(buf);

    if (o.shards > 1) {
        json_t *idx = json_pack("{s:{s:I},s:o}", "metadata", "total_size", (json_int_t)total,
                                "weight_map", weight_map);
        char *s = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(idx);
        pathf(path, sizeof path, "%s/model.safetensors.index.json", o.out_dir);
        size_t sl = strlen(s);
        s[sl] = '\n';
        if (write_file(path, s, sl + 1) != 0) { cli_error("cannot write '%s': %s", path, strerror(errno)); exit(CLI_FAIL); }
        free(s);
    } else {
        json_decref(weight_map);
    }

    /* config.json last: its presence marks a complete model directory */
    char *cs = json_dumps(cfg, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    json_decref(cfg);
    size_t cl = strlen(cs);
    pathf(path, sizeof path, "%s/config.json", o.out_dir);
    int wrc = write_file(path, cs, cl);
    free(cs);
    if (wrc != 0) { cli_error("cannot write '%s': %s", path, strerror(errno)); exit(CLI_FAIL); }
    free(sorted);
    free(t);
    return 0;
}
