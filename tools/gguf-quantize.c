/*
 * gguf-quantize - quantize a GGUF model exactly as llama-quantize does (no imatrix), streaming
 * one tensor at a time in row chunks so memory does not grow with the model.
 *
 *   gguf-quantize [options] IN.gguf OUT.gguf TYPE [THREADS]
 *
 * Output layout (byte-identical to llama-quantize): input KVs in input order without
 * general.quantization_version, general.file_type and split.*; then quantization_version u32 2,
 * file_type u32; tensors in llama's weights_map order (quant_tensor_order_cmp), or input order
 * with --keep-split; data padded to 32.
 */
#include "cli.h"
#include "gguf.h"
#include "quant/quant.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SHARDS 65535                        /* split.count is a u16 */
#define CHUNK_F32_BYTES ((uint64_t)64 << 20)   /* rows per chunk: about 64 MB as f32 */

static void usage(FILE *to)
{
    fprintf(to,
        "usage: gguf-quantize [options] IN.gguf OUT.gguf TYPE [THREADS]\n"
        "\n"
        "Quantize a GGUF model, byte-identical to llama-quantize without an imatrix.\n"
        "IN may be the first file of a split set (NAME-00001-of-0000N.gguf).\n"
        "TYPE: Q4_K_M, Q8_0, Q6_K, Q4_0, F16, BF16, F32 (any case).\n"
        "\n"
        "options:\n"
        "  --pure                     no mixture rules: every weight gets TYPE's default type\n"
        "  --output-tensor-type T     type of output.weight (e.g. q8_0, f16)\n"
        "  --token-embedding-type T   type of token_embd.weight\n"
        "  --leave-output-tensor      keep output.weight unquantized\n"
        "  --allow-requantize         allow quantized input tensors to be re-quantized\n"
        "  --keep-split               write one output shard per input shard\n"
        "  --split-max-size N(M|G)    split the output into shards of at most N bytes of data\n"
        "  --dry-run                  print each tensor's type and size and the totals; write nothing\n"
        "  --threads N                worker threads (default: all CPUs; also the THREADS argument)\n"
        "  -q, --quiet                no progress or warnings\n"
        "  --force                    overwrite existing output files\n"
        "  -h, --help                 show this help\n");
}

typedef struct args {
    const char *in, *out;
    int ftype, threads;
    quant_opts q;
    bool allow_requantize, keep_split, dry_run, force;
    uint64_t split_max;
} args;

static int parse_type_opt(const char *opt, const char *v)
{
    int t = gguf_type_from_name(v);
    if (t < 0 || !quant_can_quantize(t)) cli_usage_error("%s: unsupported type '%s'", opt, v);
    return t;
}

static void parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->q.output_type = a->q.token_embd_type = -1;
    a->threads = 0;
    const char *pos[4];
    int npos = 0;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!opts_done && s[0] == '-' && s[1]) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) cli_usage_error("option '%s' needs a value", s); i++; } while (0)
            if (!strcmp(s, "--")) opts_done = true;
            else if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); exit(CLI_OK); }
            else if (!strcmp(s, "--pure")) a->q.pure = true;
            else if (!strcmp(s, "--leave-output-tensor")) a->q.leave_output = true;
            else if (!strcmp(s, "--allow-requantize")) a->allow_requantize = true;
            else if (!strcmp(s, "--keep-split")) a->keep_split = true;
            else if (!strcmp(s, "--dry-run")) a->dry_run = true;
            else if (!strcmp(s, "--force")) a->force = true;
            else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) cli_set_quiet(true);
            else if (!strcmp(s, "--output-tensor-type")) { NEEDV(); a->q.output_type = parse_type_opt(s, v); }
            else if (!strcmp(s, "--token-embedding-type")) { NEEDV(); a->q.token_embd_type = parse_type_opt(s, v); }
            else if (!strcmp(s, "--split-max-size")) {
                NEEDV();
                if (cli_parse_size(v, true, &a->split_max) || a->split_max == 0)
                    cli_usage_error("--split-max-size: invalid size '%s' (use N followed by M or G)", v);
            } else if (!strcmp(s, "--threads") || !strcmp(s, "-t")) {
                NEEDV();
                int64_t n;
                if (cli_parse_int(v, 1, 4096, &n)) cli_usage_error("--threads: invalid count '%s'", v);
                a->threads = (int)n;
            } else cli_usage_error("unknown option '%s'", s);
#undef NEEDV
        } else {
            if (npos == 4) cli_usage_error("too many arguments");
            pos[npos++] = s;
        }
    }
    if (npos < 3) cli_usage_error("expected IN.gguf OUT.gguf TYPE [THREADS]");
    a->in = pos[0];
    a->out = pos[1];
    a->ftype = quant_ftype_from_name(pos[2]);
    if (a->ftype < 0) cli_usage_error("unknown or unsupported type '%s'", pos[2]);
    if (npos == 4) {
        int64_t n;
        if (cli_parse_int(pos[3], 1, 4096, &n)) cli_usage_error("invalid thread count '%s'", pos[3]);
        a->threads = (int)n;
    }
    if (a->keep_split && a->split_max) cli_usage_error("--keep-split and --split-max-size exclude each other");
    if (a->threads <= 0) a->threads = cli_default_threads();
    a->q.ftype = a->ftype;
    a->q.input_order = a->keep_split;
}

/* ---------------------------------------------------------------- plan */

typedef struct item {
    const gguf_tensor_info *t;
    uint32_t n_dims;      /* ggml_n_dims: what llama's writer stores */
    int out_type;
    uint64_t out_size;
    int shard;
} item;

typedef struct plan {
    item *it;
    int64_t n;
    int n_shards;
    int n_fallback;
} plan;

static int layer_count(const gguf_file *f, const plan *p)
{
    gguf_str arch;
    int64_t v;
    char key[160];
    if (gguf_get_str(f, "general.architecture", &arch, NULL) == 0 && arch.len < 100) {
        snprintf(key, sizeof key, "%.*s.block_count", (int)arch.len, arch.ptr);
        if (gguf_get_int(f, key, &v, NULL) == 0 && v >= 0 && v < INT32_MAX) return (int)v;
    }
    int max = -1;   /* no block_count: count the blk.N. layers */
    for (int64_t i = 0; i < p->n; i++) {
        int l;
        if (sscanf(p->it[i].t->name, "blk.%d.", &l) == 1 && l > max) max = l;
    }
    return max + 1;
}

static int cmp_items(const void *a, const void *b)
{
    const item *x = a, *y = b;
    quant_tensor qa = { .name = x->t->name }, qb = { .name = y->t->name };
    return quant_tensor_order_cmp(&qa, &qb);
}

static uint32_t ggml_n_dims(const int64_t ne[GGUF_MAX_DIMS])
{
    for (int i = GGUF_MAX_DIMS - 1; i >= 1; i--)
        if (ne[i] > 1) return (uint32_t)i + 1;
    return 1;
}

static int make_plan(const gguf_file *f, const args *a, plan *p)
{
    gguf_error err;
    p->n = gguf_n_tensors(f);
    p->it = calloc((size_t)(p->n ? p->n : 1), sizeof *p->it);
    quant_tensor *qt = calloc((size_t)(p->n ? p->n : 1), sizeof *qt);
    int *types = calloc((size_t)(p->n ? p->n : 1), sizeof *types);
    if (!p->it || !qt || !types) {
        cli_error("out of memory");
        free(qt); free(types);
        return -1;
    }
    for (int64_t i = 0; i < p->n; i++) p->it[i].t = gguf_tensor(f, i);
    if (!a->keep_split) qsort(p->it, (size_t)p->n, sizeof *p->it, cmp_items);
    for (int64_t i = 0; i < p->n; i++) {
        const gguf_tensor_info *t = p->it[i].t;
        qt[i].name = t->name;
        qt[i].n_dims = t->n_dims;
        memcpy(qt[i].ne, t->ne, sizeof qt[i].ne);
        qt[i].type = t->type;
    }
    quant_opts q = a->q;
    q.input_order = true;   /* p->it is already in processing order */
    int rc = quant_plan_types(&q, qt, p->n, layer_count(f, p), types, &p->n_fallback, &err);
    if (rc) {
        cli_error("'%s': %s", a->in, err.msg);
        free(qt); free(types);
        return -1;
    }
    uint64_t shard_bytes = 0;
    int shard = 0;
    for (int64_t i = 0; i < p->n; i++) {
        item *x = &p->it[i];
        const gguf_tensor_info *t = x->t;
        x->out_type = types[i];
        x->n_dims = ggml_n_dims(t->ne);
        if (x->out_type == t->type) {
            x->out_size = t->size;
        } else {
            if (gguf_type_is_quantized(t->type) && !a->allow_requantize) {
                cli_error("'%s': tensor '%s' is already quantized (%s); requantizing needs --allow-requantize",
                          a->in, t->name, gguf_type_name(t->type));
                rc = -1;
                break;
            }
            if (!quant_can_dequantize(t->type)) {
                cli_error("'%s': tensor '%s': cannot convert from type %s", a->in, t->name, gguf_type_name(t->type));
                rc = -1;
                break;
            }
            if (!quant_can_quantize(x->out_type)) {
                cli_error("'%s': tensor '%s': the mixture asks for type %s, which gguf-quantize cannot produce",
                          a->in, t->name, gguf_type_name(x->out_type));
                rc = -1;
                break;
            }
            int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
            x->out_size = quant_row_size(x->out_type, t->ne[0]) * (uint64_t)rows;
        }
        /* shards */
        uint64_t padded = (x->out_size + 31) & ~(uint64_t)31;
        if (a->keep_split) {
            shard = (int)t->file_index;
        } else if (a->split_max && i > 0 && shard_bytes + padded > a->split_max) {
            shard++;
            shard_bytes = 0;
        }
        shard_bytes += padded;
        x->shard = shard;
        if (shard + 1 > p->n_shards) p->n_shards = shard + 1;
    }
    if (p->n_shards == 0) p->n_shards = 1;
    if (a->keep_split && (int)gguf_n_files(f) > p->n_shards) p->n_shards = (int)gguf_n_files(f);
    if (!rc && p->n_shards > MAX_SHARDS) {
        cli_error("'%s': %d output files are too many (at most %d)", a->out, p->n_shards, MAX_SHARDS);
        rc = -1;
    }
    free(qt);
    free(types);
    return rc;
}

/* ---------------------------------------------------------------- output */

static void shard_path(const args *a, int idx, int count, char *buf, size_t size)
{
    if (count <= 1) {
        snprintf(buf, size, "%s", a->out);
        return;
    }
    char prefix[4096];
    size_t len = strlen(a->out);
    if (len > 5 && !strcmp(a->out + len - 5, ".gguf")) len -= 5;
    snprintf(prefix, sizeof prefix, "%.*s", (int)len, a->out);
    gguf_split_path(buf, size, prefix, idx, count);
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void print_dry_run(const gguf_file *f, const args *a, const plan *p)
{
    uint64_t tin = 0, tout = 0, nel = 0;
    for (int64_t i = 0; i < p->n; i++) {
        const item *x = &p->it[i];
        const gguf_tensor_info *t = x->t;
        char shape[96];
        int o = snprintf(shape, sizeof shape, "[%" PRId64, t->ne[0]);
        for (uint32_t d = 1; d < x->n_dims && o < (int)sizeof shape; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, ", %" PRId64, t->ne[d]);
        if (o < (int)sizeof shape) snprintf(shape + o, sizeof shape - (size_t)o, "]");
        printf("[%4" PRId64 "/%4" PRId64 "] %-36s %-16s %5s -> %-5s %10.3f MiB -> %10.3f MiB",
               i + 1, p->n, t->name, shape, gguf_type_name(t->type), gguf_type_name(x->out_type),
               t->size / 1048576.0, x->out_size / 1048576.0);
        if (p->n_shards > 1) printf("  (file %d)", x->shard + 1);
        printf("\n");
        tin += t->size;
        tout += x->out_size;
        nel += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    }
    printf("model size: %.2f MiB (%.2f BPW)\n", tin / 1048576.0, nel ? tin * 8.0 / nel : 0.0);
    printf("quant size: %.2f MiB (%.2f BPW) as %s in %d file%s\n", tout / 1048576.0,
           nel ? tout * 8.0 / nel : 0.0, quant_ftype_name(a->ftype), p->n_shards, p->n_shards > 1 ? "s" : "");
    /* tally of output types, in type-id order: "types: F32 321, Q4_K 385, Q6_K 65" */
    printf("types:");
    const char *sep = " ";
    for (int ty = 0; ty < GGUF_TYPE_COUNT; ty++) {
        int64_t c = 0;
        for (int64_t i = 0; i < p->n; i++) c += p->it[i].out_type == ty;
        if (c) { printf("%s%s %" PRId64, sep, gguf_type_name(ty), c); sep = ", "; }
    }
    printf("\n");
    if (p->n_fallback) printf("fallback: %d of %" PRId64 " tensors\n", p->n_fallback, p->n);
    (void)f;
}

static int add_metadata(gguf_writer *w, const gguf_file *f, const args *a, const plan *p, int shard)
{
    int rc = 0;
    if (shard == 0) {
        for (int64_t i = 0; i < gguf_n_kv(f) && !rc; i++) {
            const char *k = gguf_kv_key(f, i);
            if (!strcmp(k, "general.quantization_version") || !strcmp(k, "general.file_type") ||
                !strcmp(k, "split.no") || !strcmp(k, "split.count") || !strcmp(k, "split.tensors.count"))
                continue;
            rc = gguf_writer_kv_copy(w, f, i);
        }
        if (!rc) rc = gguf_writer_kv_u32(w, "general.quantization_version", GGUF_QNT_VERSION);
        if (!rc) rc = gguf_writer_kv_u32(w, "general.file_type", (uint32_t)a->ftype);
    }
    if (!rc && p->n_shards > 1) {
        rc = gguf_writer_kv_u16(w, "split.no", (uint16_t)shard);
        if (!rc) rc = gguf_writer_kv_u16(w, "split.count", (uint16_t)p->n_shards);
        if (!rc) rc = gguf_writer_kv_i32(w, "split.tensors.count", (int32_t)p->n);
    }
    for (int64_t i = 0; i < p->n && !rc; i++) {
        const item *x = &p->it[i];
        if (x->shard == shard) rc = gguf_writer_add_tensor(w, x->t->name, x->n_dims, x->t->ne, x->out_type);
    }
    if (!rc) rc = gguf_writer_begin_data(w);
    return rc;
}

/* release the input pages of bytes [off, off+len) of tensor t */
static void release_range(const gguf_file *f, const gguf_tensor_info *t, uint64_t off, uint64_t len)
{
    gguf_tensor_info r = *t;
    r.file_offset += off;
    r.offset += off;
    r.size = len;
    r.data = (const uint8_t *)t->data + off;
    gguf_release(f, &r);
}

/* A chunk computed but not yet written: written by one thread while the next chunk is being
 * computed (quant_convert_rows_with's side task), or at the end of the tensor. */
typedef struct pending {
    gguf_writer *w;
    const gguf_file *f;
    const gguf_tensor_info *t;
    const uint8_t *buf;
    size_t len;               /* bytes to write; 0 when nothing is pending */
    uint64_t in_off, in_len;  /* the input bytes it came from, released once written */
    cli_progress *prog;
    uint64_t *done;
    int sync_fd;              /* the temp file, to start its writeback early; -1 if none */
    int rc;                   /* -1 once a write failed */
} pending;

static void flush_pending(void *arg)
{
    pending *p = arg;
    if (!p->len || p->rc) return;
    if (gguf_writer_write(p->w, p->buf, p->len)) {
        p->rc = -1;
        return;
    }
    p->len = 0;
    release_range(p->f, p->t, p->in_off, p->in_len);
    *p->done += p->in_len;
    cli_progress_update(p->prog, *p->done);
    /* let the kernel write back what we have so far, so the final fsync has little left to do
     * and the disk works while we compute */
    if (p->sync_fd >= 0) (void)sync_file_range(p->sync_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

static int write_tensor(gguf_writer *w, int sync_fd, const gguf_file *f, const args *a, const item *x,
                        uint8_t *buf[2], size_t bufsz[2], cli_progress *prog, uint64_t *done)
{
    const gguf_tensor_info *t = x->t;
    if (x->out_type == t->type) {
        if (gguf_writer_copy_fd(w, gguf_file_fd(f, t->file_index), t->file_offset, t->size)) return -1;
        release_range(f, t, 0, t->size);
        *done += t->size;
        cli_progress_update(prog, *done);
        return gguf_writer_end_tensor(w) ? -1 : 0;
    }
    const int64_t n_per_row = t->ne[0], nrows = t->ne[1] * t->ne[2] * t->ne[3];
    const uint64_t rin = gguf_row_bytes(t->type, n_per_row);
    const uint64_t rout = quant_row_size(x->out_type, n_per_row);
    /* at most ~64 MB of f32 per chunk, and at least 4 chunks, so that writing one overlaps
     * computing the next also for small tensors */
    int64_t chunk = (int64_t)(CHUNK_F32_BYTES / ((uint64_t)n_per_row * 4));
    if (chunk > (nrows + 3) / 4) chunk = (nrows + 3) / 4;
    if (chunk < 1) chunk = 1;
    const size_t need = (size_t)(chunk * (int64_t)rout);
    for (int k = 0; k < 2; k++) {
        if (need > bufsz[k]) {
            uint8_t *nb = realloc(buf[k], need);
            if (!nb) { cli_error("out of memory (%zu bytes for tensor '%s')", need, t->name); return -2; }
            buf[k] = nb;
            bufsz[k] = need;
        }
    }
    pending pd = { .w = w, .f = f, .t = t, .prog = prog, .done = done, .sync_fd = sync_fd };
    int k = 0;
    for (int64_t r0 = 0; r0 < nrows; r0 += chunk, k ^= 1) {
        const int64_t nr = r0 + chunk <= nrows ? chunk : nrows - r0;
        const uint8_t *src = (const uint8_t *)t->data + (uint64_t)r0 * rin;
        int rc = quant_convert_rows_with(t->type, src, x->out_type, buf[k], nr, n_per_row, a->threads,
                                         flush_pending, &pd);
        if (pd.rc) return -1;
        if (rc) {
            cli_error("tensor '%s': cannot convert %s to %s: %s", t->name, gguf_type_name(t->type),
                      gguf_type_name(x->out_type), gguf_status_str(rc));
            return -2;
        }
        int64_t bad = quant_check_finite(x->out_type, buf[k], nr, n_per_row);
        if (bad >= 0) {
            cli_error("'%s': tensor '%s': element %" PRId64 " gives a non-finite %s value (NaN or Inf in the input?)",
                      a->in, t->name, r0 * n_per_row + bad, gguf_type_name(x->out_type));
            return -2;
        }
        pd.buf = buf[k];
        pd.len = (size_t)(nr * (int64_t)rout);
        pd.in_off = (uint64_t)r0 * rin;
        pd.in_len = (uint64_t)nr * rin;
    }
    flush_pending(&pd);
    if (pd.rc) return -1;
    return gguf_writer_end_tensor(w) ? -1 : 0;
}

/* The shard being written, and the ones finished before it. */
typedef struct out_state {
    const gguf_file *f;
    const args *a;
    const plan *p;
    int cur;                  /* shard of w, -1 before the first */
    gguf_writer *w;
    int sync_fd;
} out_state;

static void out_close_sync(out_state *o)
{
    if (o->sync_fd >= 0) close(o->sync_fd);
    o->sync_fd = -1;
}

/* Finish the current shard and open the following ones up to `to` (to == n_shards: just
 * finish). Returns 0, or -2 with the error printed. */
static int out_advance(out_state *o, int to)
{
    gguf_error err;
    char path[4200];
    while (o->cur < to) {
        if (o->w) {
            out_close_sync(o);
            if (gguf_check_unchanged(o->f, &err)) {
                cli_error_gguf(&err);
                return -2;
            }
            gguf_writer *w = o->w;
            o->w = NULL;
            if (cli_writer_finish(w, &err)) {   /* shard cur is not there; 0..cur-1 are */
                cli_error_gguf(&err);
                return -2;
            }
        }
        if (o->cur + 1 >= o->p->n_shards) { o->cur = to; return 0; }
        o->cur++;
        shard_path(o->a, o->cur, o->p->n_shards, path, sizeof path);
        o->w = cli_writer_open(path, o->a->force ? GGUF_W_FORCE : 0, &err);
        if (!o->w) {
            cli_error_gguf(&err);
            return -2;
        }
        /* a second descriptor on the temp file, to start its writeback early (sync_file_range) */
        o->sync_fd = open(gguf_writer_tmp_path(o->w), O_RDONLY | O_CLOEXEC);
        if (add_metadata(o->w, o->f, o->a, o->p, o->cur)) {
            err = *gguf_writer_error(o->w);
            cli_error_gguf(&err);
            return -2;
        }
    }
    return 0;
}

/* After a failure: drop the shard in progress and the shards already finished, so no partial
 * set is left under the final names. */
static void out_fail(out_state *o)
{
    char path[4200];
    out_close_sync(o);
    if (o->w) {
        cli_writer_abort(o->w);
        o->w = NULL;
    }
    for (int k = 0; k < o->cur && k < o->p->n_shards; k++) {
        shard_path(o->a, k, o->p->n_shards, path, sizeof path);
        unlink(path);
    }
}

/* OpenMP's default is to spin at barriers for a while. Here one thread writes the previous chunk
 * while the others compute, so a spinning thread only burns a core the writer or another
 * process needs (measured on this 2-core machine under load: 2.5x the CPU time for Q8_0).
 * libgomp reads OMP_WAIT_POLICY before main() runs, so set it and start again, once. */
static void prefer_passive_waiting(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
    execv("/proc/self/exe", argv);
    /* no /proc: carry on with the default policy */
}

int main(int argc, char **argv)
{
    prefer_passive_waiting(argv);
    cli_init(argv[0]);
    args a;
    parse_args(argc, argv, &a);

    gguf_error err;
    gguf_file *f = gguf_open(a.in, &err);
    if (!f) { cli_error_gguf(&err); return CLI_FAIL; }

    plan p = { 0 };
    if (make_plan(f, &a, &p)) { free(p.it); gguf_close(f); return CLI_FAIL; }

    if (a.dry_run) {
        print_dry_run(f, &a, &p);
        free(p.it);
        gguf_close(f);
        return CLI_OK;
    }

    /* outputs: never an input, never an existing file without --force (checked for every
     * shard before anything is written) */
    char path[4200];
    for (int s = 0; s < p.n_shards; s++) {
        shard_path(&a, s, p.n_shards, path, sizeof path);
        for (uint32_t k = 0; k < gguf_n_files(f); k++) {
            if (same_file(path, gguf_file_path(f, k))) {
                cli_error("'%s': refusing to overwrite an input file", path);
                free(p.it); gguf_close(f);
                return CLI_FAIL;
            }
        }
        struct stat st;
        if (!a.force && !stat(path, &st)) {
            cli_error("'%s': output file exists (use --force to overwrite)", path);
            free(p.it); gguf_close(f);
            return CLI_FAIL;
        }
    }

    /* Shards are opened one at a time: processing order never goes back to an earlier shard
     * (--split-max-size cuts the processing order, --keep-split processes in input order). */
    out_state o = { .f = f, .a = &a, .p = &p, .cur = -1, .sync_fd = -1 };
    int rc = 0;
    uint64_t total = 0, done = 0;
    for (int64_t i = 0; i < p.n; i++) total += p.it[i].t->size;
    cli_progress *prog = cli_progress_new("quantize", total);
    uint8_t *buf[2] = { NULL, NULL };
    size_t bufsz[2] = { 0, 0 };
    for (int64_t i = 0; i < p.n && !rc; i++) {
        if ((rc = out_advance(&o, p.it[i].shard))) break;
        rc = write_tensor(o.w, o.sync_fd, f, &a, &p.it[i], buf, bufsz, prog, &done);
        if (rc == -1) {
            err = *gguf_writer_error(o.w);
            cli_error_gguf(&err);
        }
    }
    if (!rc) rc = out_advance(&o, p.n_shards);   /* finish the last shard (and any empty ones) */
    free(buf[0]);
    free(buf[1]);
    cli_progress_done(prog);
    if (rc) out_fail(&o);
    if (!rc && !cli_quiet() && p.n_fallback)
        cli_warn("%d of %" PRId64 " tensors required fallback quantization", p.n_fallback, p.n);
    free(p.it);
    gguf_close(f);
    return rc ? CLI_FAIL : CLI_OK;
}
