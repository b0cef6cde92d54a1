/*
 * gguf-split - split a GGUF model into shards, or merge a shard set back into one file.
 *
 *   gguf-split [--split] [--split-max-size N(M|G) | --split-max-tensors N] [--no-tensor-first-split]
 *              [--dry-run] [--force] IN.gguf OUT_PREFIX
 *   gguf-split --merge [--dry-run] [--force] FIRST.gguf OUT.gguf
 *
 * Shards are byte-identical to llama-gguf-split's (FORMATS.md 4): the first shard carries every
 * input KV (copied verbatim, any old split.* keys dropped) followed by split.no (u16),
 * split.tensors.count (i32) and split.count (u16); later shards carry only those three keys.
 * Tensor infos and data are copied unchanged, in input order, padded to 32.
 *
 * Merge writes the first shard's KVs minus the split.* keys and all tensors in shard order, so
 * merge(split(x)) == x byte for byte (llama-gguf-split keeps the split keys instead).
 *
 * Data never passes through user memory: gguf_writer_copy_fd (copy_file_range, or splice
 * through a pipe when the offsets are misaligned) moves it from the input's file descriptor to
 * the output's. All outputs of one run are written to temp files
 * first and renamed only once every one of them is complete; see man/gguf-split.1 for what is
 * left behind on failure (nothing under a final name).
 */
#include "cli.h"
#include "gguf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_NO      "split.no"
#define KEY_COUNT   "split.count"
#define KEY_TENSORS "split.tensors.count"

#define SPLIT_ALIGN      32u
#define DEFAULT_TENSORS  128
#define COPY_CHUNK       (256ull << 20) /* progress granularity of one copy_fd call */

/* ---------------------------------------------------------------- options */

enum { OP_SPLIT = 1, OP_MERGE };
enum { MODE_TENSORS = 1, MODE_SIZE };

typedef struct options {
    int         op;              /* 0 until --split/--merge given */
    int         mode;            /* 0 until --split-max-* given */
    int64_t     max_tensors;
    uint64_t    max_size;
    bool        no_tensor_first;
    bool        dry_run;
    bool        force;
    const char *in, *out;
} options;

enum opt_id { O_HELP, O_SPLIT, O_MERGE, O_MAX_SIZE, O_MAX_TENSORS, O_NO_FIRST, O_DRY, O_FORCE };

static const struct opt_def {
    enum opt_id id;
    const char *name;   /* long name, without "--" */
    const char *arg;    /* NULL for a flag */
    const char *help;
} opt_table[] = {
    { O_SPLIT,       "split",                 NULL,     "split IN into shards OUT_PREFIX-0000i-of-0000n.gguf (default)" },
    { O_MERGE,       "merge",                 NULL,     "merge the set whose first shard is IN into the file OUT" },
    { O_MAX_TENSORS, "split-max-tensors",     "N",      "at most N tensors per shard (default 128)" },
    { O_MAX_SIZE,    "split-max-size",        "N(M|G)", "at most N MB/GB of tensor data per shard (M = 1e6, G = 1e9)" },
    { O_NO_FIRST,    "no-tensor-first-split", NULL,     "put only the metadata into the first shard" },
    { O_DRY,         "dry-run",               NULL,     "print the plan (file, tensors, bytes) and write nothing" },
    { O_FORCE,       "force",                 NULL,     "overwrite existing output files" },
    { O_HELP,        "help",                  NULL,     "show this help and exit" },
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static void print_help(void)
{
    printf("usage: gguf-split [--split] [--split-max-size N(M|G) | --split-max-tensors N]\n"
           "                  [--no-tensor-first-split] [--dry-run] [--force] IN.gguf OUT_PREFIX\n"
           "       gguf-split --merge [--dry-run] [--force] FIRST.gguf OUT.gguf\n"
           "\n"
           "Split a GGUF model into shards that llama.cpp loads as one model (byte-identical to\n"
           "llama-gguf-split's), or merge such a set back into one file (split.* keys dropped).\n"
           "\n"
           "options:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opt_table[i].name, opt_table[i].arg ? " " : "",
                 opt_table[i].arg ? opt_table[i].arg : "");
        printf("  %-30s %s\n", left, opt_table[i].help);
    }
}

static void parse_args(int argc, char **argv, options *o)
{
    const char *pos[2];
    int n_pos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1]) {
            if (n_pos == 2) cli_usage_error("too many arguments: '%s'", a);
            pos[n_pos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { only_pos = true; continue; }
        if (!strcmp(a, "-h")) { print_help(); exit(CLI_OK); }
        if (a[1] != '-') cli_usage_error("unknown option '%s'", a);
        /* "--name", "--name=value"; '_' accepted for '-' as llama-gguf-split does */
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name) cli_usage_error("unknown option '%s'", a);
        for (size_t k = 0; k < len; k++) name[k] = a[2 + k] == '_' ? '-' : a[2 + k];
        name[len] = 0;
        const struct opt_def *d = NULL;
        for (size_t k = 0; k < N_OPTS; k++)
            if (!strcmp(opt_table[k].name, name)) d = &opt_table[k];
        if (!d) cli_usage_error("unknown option '%s'", a);
        const char *val = NULL;
        if (d->arg) {
            if (eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else cli_usage_error("option '--%s' needs a value %s", d->name, d->arg);
        } else if (eq) {
            cli_usage_error("option '--%s' takes no value", d->name);
        }
        switch (d->id) {
        case O_HELP: print_help(); exit(CLI_OK);
        case O_SPLIT:
        case O_MERGE: {
            int op = d->id == O_SPLIT ? OP_SPLIT : OP_MERGE;
            if (o->op && o->op != op) cli_usage_error("give either --split or --merge, not both");
            o->op = op;
            break;
        }
        case O_MAX_TENSORS:
            if (o->mode == MODE_SIZE) cli_usage_error("give either --split-max-tensors or --split-max-size, not both");
            if (cli_parse_int(val, 1, INT32_MAX, &o->max_tensors))
                cli_usage_error("invalid --split-max-tensors '%s': expected an integer from 1 to %d", val, INT32_MAX);
            o->mode = MODE_TENSORS;
            break;
        case O_MAX_SIZE:
            if (o->mode == MODE_TENSORS) cli_usage_error("give either --split-max-tensors or --split-max-size, not both");
            if (cli_parse_size(val, true, &o->max_size) || o->max_size == 0)
                cli_usage_error("invalid --split-max-size '%s': expected a positive number with unit M or G (e.g. 500M, 2G)", val);
            o->mode = MODE_SIZE;
            break;
        case O_NO_FIRST: o->no_tensor_first = true; break;
        case O_DRY:      o->dry_run = true; break;
        case O_FORCE:    o->force = true; break;
        }
    }
    if (!o->op) o->op = OP_SPLIT;
    if (o->op == OP_MERGE && (o->mode || o->no_tensor_first))
        cli_usage_error("--split-max-tensors, --split-max-size and --no-tensor-first-split only apply to --split");
    if (!o->mode) { o->mode = MODE_TENSORS; o->max_tensors = DEFAULT_TENSORS; }
    if (n_pos != 2)
        cli_usage_error(o->op == OP_MERGE ? "expected FIRST.gguf and OUT.gguf" : "expected IN.gguf and OUT_PREFIX");
    o->in = pos[0];
    o->out = pos[1];
}

/* ---------------------------------------------------------------- helpers */

static unsigned g_wflags; /* extra gguf_writer flags (GGUF_W_NOSYNC under GGUF_TEST_NOSYNC) */

static uint64_t pad32(uint64_t n) { return (n + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN; }

static bool is_split_key(const char *k)
{
    return !strcmp(k, KEY_NO) || !strcmp(k, KEY_COUNT) || !strcmp(k, KEY_TENSORS);
}

/* Bytes a KV takes in a file: key string, value type, raw value. */
static uint64_t kv_bytes(const gguf_file *f, int64_t i)
{
    const void *p;
    uint64_t len;
    gguf_kv_raw(f, i, &p, &len);
    return 8 + strlen(gguf_kv_key(f, i)) + 4 + len;
}

static uint64_t tensor_info_bytes(const gguf_tensor_info *t)
{
    return 8 + strlen(t->name) + 4 + 8ull * t->n_dims + 4 + 8;
}

/* The three split keys as written: split.no u16, split.tensors.count i32, split.count u16. */
static uint64_t split_keys_bytes(void)
{
    return (8 + sizeof KEY_NO - 1 + 4 + 2) + (8 + sizeof KEY_TENSORS - 1 + 4 + 4) +
           (8 + sizeof KEY_COUNT - 1 + 4 + 2);
}

static char *xsplit_path(const char *prefix, int idx, int count)
{
    int n = gguf_split_path(NULL, 0, prefix, idx, count);
    if (n < 0) return NULL;
    char *p = malloc((size_t)n + 1);
    if (p) gguf_split_path(p, (size_t)n + 1, prefix, idx, count);
    return p;
}

/* Same file (device + inode) as any file of reader f? */
static bool is_input_file(const char *path, gguf_file *const *fs, int n_fs)
{
    struct stat so;
    if (stat(path, &so)) return false;
    for (int k = 0; k < n_fs; k++) {
        if (!fs[k]) continue;
        for (uint32_t i = 0; i < gguf_n_files(fs[k]); i++) {
            struct stat si;
            if (!fstat(gguf_file_fd(fs[k], i), &si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
                return true;
        }
    }
    return false;
}

/* Refuse an output that is one of the inputs (always) or that exists (without --force). */
static int check_output(const char *path, bool force, gguf_file *const *fs, int n_fs)
{
    if (is_input_file(path, fs, n_fs)) {
        cli_error("'%s': output would overwrite an input file", path);
        return -1;
    }
    if (!force && access(path, F_OK) == 0) {
        cli_error("'%s': output file exists (use --force to overwrite)", path);
        return -1;
    }
    return 0;
}

/* Make room for n open files (one temp file per shard plus the inputs). */
static int ensure_fds(uint64_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need) return 0;
    if (rl.rlim_cur == RLIM_INFINITY) return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        cli_error("%" PRIu64 " files must be open at once but the open-file limit is %llu",
                  need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        cli_error("cannot raise the open-file limit to %" PRIu64 ": %s", need, strerror(errno));
        return -1;
    }
    return 0;
}

/* The file-level error of a writer call, or a generic one. */
static void writer_fail(const gguf_writer *w, const char *path)
{
    const gguf_error *e = w ? gguf_writer_error(w) : NULL;
    if (e && e->msg[0]) cli_error_gguf(e);
    else cli_error("'%s': write failed", path);
}

/* Copy one tensor's data (and padding) from fd into w, updating progress. */
static int copy_tensor(gguf_writer *w, int fd, const gguf_tensor_info *t, cli_progress *pr,
                       uint64_t *done)
{
    uint64_t off = 0;
    while (off < t->size) {
        uint64_t n = t->size - off < COPY_CHUNK ? t->size - off : COPY_CHUNK;
        if (gguf_writer_copy_fd(w, fd, t->file_offset + off, n) < 0) return -1;
        off += n;
        *done += n;
        cli_progress_update(pr, *done);
    }
    return gguf_writer_end_tensor(w) < 0 ? -1 : 0;
}

/* The data layout written is always 32-aligned; an input that declares another alignment would
 * give a file whose KV disagrees with its layout (FORMATS.md 1.3), so refuse it. */
static int check_alignment(const gguf_file *f, const char *path)
{
    int64_t k = gguf_find_key(f, "general.alignment");
    if (k >= 0 && gguf_kv_get_type(f, k) == GGUF_KV_UINT32 && gguf_kv_u32(f, k) == SPLIT_ALIGN) return 0;
    if (k < 0 && gguf_alignment(f) == SPLIT_ALIGN) return 0;
    cli_error("'%s': general.alignment is %u: only 32-byte aligned files are supported", path,
              gguf_alignment(f));
    return -1;
}

/* ---------------------------------------------------------------- split */

typedef struct shard {
    int64_t      first, n;      /* tensor range [first, first+n) of the input */
    uint64_t     data_bytes;    /* sum of padded tensor sizes */
    uint64_t     file_bytes;    /* whole shard */
    char        *path;
    gguf_writer *w;
    bool         committed;     /* renamed to path by this run */
} shard;

/* Shards of the plan (FORMATS.md 4.4). Returns the number of shards, or -1 (message printed). */
static int plan_split(const options *o, const gguf_file *f, shard **out)
{
    int64_t nt = gguf_n_tensors(f);
    int cap = 16, n = 1;
    shard *s = calloc((size_t)cap, sizeof *s);
    if (!s) goto nomem;
    if (o->no_tensor_first) n = 2;          /* shard 0: metadata only */
    uint64_t cur = 0;
    for (int64_t i = 0; i < nt; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        uint64_t nb = pad32(t->size);
        uint64_t next = cur + nb;
        bool cut = o->mode == MODE_SIZE ? next > o->max_size
                                        : (i > 0 && i % o->max_tensors == 0);
        if (cut) {
            if (s[n - 1].n == 0) {
                char a[32], b[32];
                cli_error("'%s': tensor '%s' (%s) is larger than --split-max-size %s: one of splits "
                          "would have 0 tensors", o->in, t->name, cli_fmt_bytes(a, sizeof a, nb),
                          cli_fmt_bytes(b, sizeof b, o->max_size));
                free(s);
                return -1;
            }
            if (n == 65535) {
                cli_error("'%s': more than 65535 shards (split.count is a u16)", o->in);
                free(s);
                return -1;
            }
            cur = nb;
            n++;
        } else {
            cur = next;
        }
        if (n > cap) {
            shard *g = realloc(s, (size_t)cap * 2 * sizeof *s);
            if (!g) goto nomem;
            memset(g + cap, 0, (size_t)cap * sizeof *g);
            s = g;
            cap *= 2;
        }
        if (s[n - 1].n == 0) s[n - 1].first = i;
        s[n - 1].n++;
        s[n - 1].data_bytes += nb;
    }
    for (int k = 0; k < n; k++) {
        uint64_t meta = 4 + 4 + 8 + 8 + split_keys_bytes();
        if (k == 0)
            for (int64_t i = 0; i < gguf_n_kv(f); i++)
                if (!is_split_key(gguf_kv_key(f, i))) meta += kv_bytes(f, i);
        for (int64_t i = s[k].first; i < s[k].first + s[k].n; i++) meta += tensor_info_bytes(gguf_tensor(f, i));
        s[k].file_bytes = pad32(meta) + s[k].data_bytes;
        s[k].path = xsplit_path(o->out, k, n);
        if (!s[k].path) goto nomem;
    }
    *out = s;
    return n;
nomem:
    cli_error("out of memory");
    free(s);
    return -1;
}

static void free_shards(shard *s, int n)
{
    if (!s) return;
    for (int k = 0; k < n; k++) free(s[k].path);
    free(s);
}

/* Undo a failed run: temp files of unfinished shards and shards this run already renamed. */
static void rollback_shards(shard *s, int n)
{
    for (int k = 0; k < n; k++) {
        if (s[k].w) { cli_writer_abort(s[k].w); s[k].w = NULL; }
        if (s[k].committed) {
            unlink(s[k].path);
            cli_tmp_unregister(s[k].path);
            s[k].committed = false;
        }
    }
}

/* Phase 1 for shard k: open its temp file, write metadata and infos, copy its tensor data
 * (tensor i of f lives in input file src[i]). */
static int write_shard(const options *o, gguf_file *f, const uint32_t *src, shard *s, int k, int n,
                       cli_progress *pr, uint64_t *done)
{
    shard *sh = &s[k];
    gguf_error err;
    gguf_error_clear(&err);
    sh->w = cli_writer_open(sh->path, g_wflags | (o->force ? GGUF_W_FORCE : 0), &err);
    if (!sh->w) { cli_error_gguf(&err); return -1; }
    gguf_writer *w = sh->w;
    if (k == 0)
        for (int64_t i = 0; i < gguf_n_kv(f); i++)
            if (!is_split_key(gguf_kv_key(f, i)) && gguf_writer_kv_copy(w, f, i) < 0) goto fail;
    if (gguf_writer_kv_u16(w, KEY_NO, (uint16_t)k) < 0 ||
        gguf_writer_kv_i32(w, KEY_TENSORS, (int32_t)gguf_n_tensors(f)) < 0 ||
        gguf_writer_kv_u16(w, KEY_COUNT, (uint16_t)n) < 0)
        goto fail;
    for (int64_t i = sh->first; i < sh->first + sh->n; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type) < 0) goto fail;
    }
    if (gguf_writer_total_size(w) != sh->file_bytes) {
        cli_error("'%s': internal error: writer plans %" PRIu64 " bytes, expected %" PRIu64,
                  sh->path, gguf_writer_total_size(w), sh->file_bytes);
        return -1;
    }
    if (gguf_writer_begin_data(w) < 0) goto fail;
    for (int64_t i = sh->first; i < sh->first + sh->n; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (copy_tensor(w, gguf_file_fd(f, src[i]), t, pr, done) < 0) goto fail;
        gguf_release(f, t);
    }
    return 0;
fail:
    writer_fail(w, sh->path);
    return -1;
}

static int do_split(const options *o)
{
    gguf_error err;
    gguf_error_clear(&err);
    gguf_file *f = gguf_open(o->in, &err);
    if (!f) { cli_error_gguf(&err); return CLI_FAIL; }

    int rc = CLI_FAIL, n = 0;
    shard *s = NULL;
    uint32_t *src = NULL;
    if (check_alignment(f, o->in)) goto out;
    if (gguf_n_tensors(f) > INT32_MAX) {
        cli_error("'%s': %" PRId64 " tensors do not fit split.tensors.count (i32)", o->in, gguf_n_tensors(f));
        goto out;
    }
    n = plan_split(o, f, &s);
    if (n < 0) { n = 0; goto out; }

    if (o->dry_run) {
        uint64_t total = 0;
        for (int k = 0; k < n; k++) total += s[k].file_bytes;
        printf("split '%s': %" PRId64 " tensors into %d shards, %" PRIu64 " bytes\n", o->in,
               gguf_n_tensors(f), n, total);
        for (int k = 0; k < n; k++)
            printf("%s: %" PRId64 " tensors, %" PRIu64 " bytes\n", s[k].path, s[k].n, s[k].file_bytes);
        rc = CLI_OK;
        goto out;
    }

    for (int k = 0; k < n; k++)
        if (check_output(s[k].path, o->force, &f, 1)) goto out;
    if (ensure_fds((uint64_t)n + gguf_n_files(f) + 32)) goto out;

    /* which input file each tensor's data is in: tensors come in file order, so file j holds
     * the gguf_file_n_tensors(f, j) tensors after those of files 0..j-1 */
    src = malloc((size_t)(gguf_n_tensors(f) ? gguf_n_tensors(f) : 1) * sizeof *src);
    if (!src) { cli_error("out of memory"); goto out; }
    for (uint32_t j = 0, i = 0; j < gguf_n_files(f); j++)
        for (int64_t c = 0; c < gguf_file_n_tensors(f, j) && i < gguf_n_tensors(f); c++) src[i++] = j;

    uint64_t total = 0, done = 0;
    for (int k = 0; k < n; k++) total += s[k].data_bytes;
    cli_progress *pr = cli_progress_new("split", total);
    for (int k = 0; k < n; k++) {
        if (write_shard(o, f, src, s, k, n, pr, &done)) {
            cli_progress_done(pr);
            goto fail;
        }
    }
    cli_progress_done(pr);
    if (gguf_check_unchanged(f, &err) < 0) { cli_error_gguf(&err); goto fail; }

    /* Phase 2: every shard is complete in its temp file; fsync + rename them in order. A shard
     * renamed is registered for removal on a signal until the whole set is in place. */
    for (int k = 0; k < n; k++) {
        gguf_writer *w = s[k].w;
        s[k].w = NULL;
        if (cli_writer_finish(w, &err) < 0) { cli_error_gguf(&err); goto fail; }
        s[k].committed = true;
        cli_tmp_register(s[k].path);
    }
    for (int k = 0; k < n; k++) cli_tmp_unregister(s[k].path);
    rc = CLI_OK;
    goto out;
fail:
    rollback_shards(s, n);
out:
    free(src);
    free_shards(s, n);
    gguf_close(f);
    return rc;
}

/* ---------------------------------------------------------------- merge */

/* Read a u16 split key of file f (path for messages). Returns 0 or -1 (message printed). */
static int get_split_key(const gguf_file *f, const char *path, const char *key, gguf_kv_type want,
                         int64_t *out)
{
    int64_t k = gguf_find_key(f, key);
    if (k < 0) {
        cli_error("'%s': no %s key: not a shard of a split set", path, key);
        return -1;
    }
    gguf_kv_type t = gguf_kv_get_type(f, k);
    if (t != want) {
        cli_error("'%s': %s has type %s, expected %s", path, key, gguf_kv_type_name(t), gguf_kv_type_name(want));
        return -1;
    }
    *out = want == GGUF_KV_UINT16 ? (int64_t)gguf_kv_u16(f, k) : (int64_t)gguf_kv_i32(f, k);
    return 0;
}

/* Check the split keys of shard idx of a set of count shards holding n_total tensors. */
static int check_shard_keys(const gguf_file *f, const char *path, int idx, int64_t count, int64_t n_total)
{
    int64_t no, cnt, tc;
    if (get_split_key(f, path, KEY_NO, GGUF_KV_UINT16, &no) ||
        get_split_key(f, path, KEY_COUNT, GGUF_KV_UINT16, &cnt) ||
        get_split_key(f, path, KEY_TENSORS, GGUF_KV_INT32, &tc))
        return -1;
    if (cnt != count) {
        cli_error("'%s': split.count is %" PRId64 ", expected %" PRId64 " as in the first shard: not part of this set",
                  path, cnt, count);
        return -1;
    }
    if (no != idx) {
        cli_error("'%s': split.no is %" PRId64 ", expected %d for shard %d of %" PRId64, path, no, idx,
                  idx + 1, count);
        return -1;
    }
    if (tc != n_total) {
        cli_error("'%s': split.tensors.count is %" PRId64 ", expected %" PRId64 " as in the first shard: "
                  "not part of this set", path, tc, n_total);
        return -1;
    }
    return 0;
}

typedef struct name_ref { const char *name; int shard; } name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->shard > y->shard) - (x->shard < y->shard);
}

/* No tensor name may occur in two shards (each reader already rejects duplicates within a file). */
static int check_duplicates(gguf_file **fs, int count, int64_t total)
{
    if (total == 0) return 0;
    name_ref *r = malloc((size_t)total * sizeof *r);
    if (!r) { cli_error("out of memory"); return -1; }
    int64_t m = 0;
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < gguf_n_tensors(fs[k]); i++)
            r[m++] = (name_ref){ gguf_tensor(fs[k], i)->name, k };
    qsort(r, (size_t)m, sizeof *r, cmp_name_ref);
    int rc = 0;
    for (int64_t i = 1; i < m; i++) {
        if (!strcmp(r[i - 1].name, r[i].name)) {
            cli_error("'%s': tensor '%s' is also in '%s'", gguf_path(fs[r[i].shard]), r[i].name,
                      gguf_path(fs[r[i - 1].shard]));
            rc = -1;
            break;
        }
    }
    free(r);
    return rc;
}

static int do_merge(const options *o)
{
    gguf_error err;
    gguf_error_clear(&err);
    const gguf_open_opts single = { .no_split = true };
    gguf_file **fs = NULL;
    char *prefix = NULL;
    int count = 0, rc = CLI_FAIL;
    gguf_writer *w = NULL;

    gguf_file *f0 = gguf_open_ex(o->in, &single, &err);
    if (!f0) { cli_error_gguf(&err); return CLI_FAIL; }
    int64_t cnt, no, n_total;
    if (get_split_key(f0, o->in, KEY_COUNT, GGUF_KV_UINT16, &cnt)) goto out;
    if (cnt == 0) {
        cli_error("'%s': split.count is 0: already a merged file, nothing to merge", o->in);
        goto out;
    }
    if (get_split_key(f0, o->in, KEY_NO, GGUF_KV_UINT16, &no) ||
        get_split_key(f0, o->in, KEY_TENSORS, GGUF_KV_INT32, &n_total))
        goto out;
    if (no != 0) {
        cli_error("'%s': split.no is %" PRId64 ": give the first shard of the set", o->in, no);
        goto out;
    }
    count = (int)cnt;
    size_t plen = strlen(o->in) + 1;
    prefix = malloc(plen);
    fs = calloc((size_t)count, sizeof *fs);
    if (!prefix || !fs) { cli_error("out of memory"); goto out; }
    if (gguf_split_prefix(prefix, plen, o->in, 0, count) <= 0) {
        cli_error("'%s': name does not end in -00001-of-%05d.gguf as split.count %d requires",
                  o->in, count, count);
        goto out;
    }
    fs[0] = f0;
    f0 = NULL;
    if (check_shard_keys(fs[0], o->in, 0, count, n_total)) goto out;
    if (check_alignment(fs[0], o->in)) goto out;
    if (ensure_fds((uint64_t)count + 32)) goto out;

    /* every shard must exist and be one of this set before anything is written */
    int64_t sum = gguf_n_tensors(fs[0]);
    for (int k = 1; k < count; k++) {
        char *p = xsplit_path(prefix, k, count);
        if (!p) { cli_error("out of memory"); goto out; }
        if (access(p, F_OK)) {
            cli_error("'%s': missing shard %d of %d: %s", p, k + 1, count, strerror(errno));
            free(p);
            goto out;
        }
        gguf_error_clear(&err);
        fs[k] = gguf_open_ex(p, &single, &err);
        if (!fs[k]) { cli_error_gguf(&err); free(p); goto out; }
        free(p);
        if (check_shard_keys(fs[k], gguf_path(fs[k]), k, count, n_total)) goto out;
        sum += gguf_n_tensors(fs[k]);
    }
    if (sum != n_total) {
        cli_error("'%s': split.tensors.count is %" PRId64 " but the %d shards hold %" PRId64 " tensors",
                  o->in, n_total, count, sum);
        goto out;
    }
    if (check_duplicates(fs, count, sum)) goto out;
    /* what every other tool will do with this set: the reader's own view must agree */
    {
        gguf_error_clear(&err);
        gguf_file *set = gguf_open(o->in, &err);
        if (!set) { cli_error_gguf(&err); goto out; }
        int64_t nt = gguf_n_tensors(set);
        gguf_close(set);
        if (nt != sum) {
            cli_error("'%s': the set opens with %" PRId64 " tensors, the shards hold %" PRId64, o->in, nt, sum);
            goto out;
        }
    }

    uint64_t meta = 4 + 4 + 8 + 8, data = 0;
    for (int64_t i = 0; i < gguf_n_kv(fs[0]); i++)
        if (!is_split_key(gguf_kv_key(fs[0], i))) meta += kv_bytes(fs[0], i);
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < gguf_n_tensors(fs[k]); i++) {
            meta += tensor_info_bytes(gguf_tensor(fs[k], i));
            data += pad32(gguf_tensor(fs[k], i)->size);
        }
    uint64_t file_bytes = pad32(meta) + data;

    if (o->dry_run) {
        printf("merge '%s': %" PRId64 " tensors from %d shards\n", o->in, sum, count);
        printf("%s: %" PRId64 " tensors, %" PRIu64 " bytes\n", o->out, sum, file_bytes);
        rc = CLI_OK;
        goto out;
    }
    if (check_output(o->out, o->force, fs, count)) goto out;

    gguf_error_clear(&err);
    w = cli_writer_open(o->out, g_wflags | (o->force ? GGUF_W_FORCE : 0), &err);
    if (!w) { cli_error_gguf(&err); goto out; }
    for (int64_t i = 0; i < gguf_n_kv(fs[0]); i++)
        if (!is_split_key(gguf_kv_key(fs[0], i)) && gguf_writer_kv_copy(w, fs[0], i) < 0) goto wfail;
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < gguf_n_tensors(fs[k]); i++) {
            const gguf_tensor_info *t = gguf_tensor(fs[k], i);
            if (gguf_writer_add_tensor(w, t->name, t->n_dims, t->ne, t->type) < 0) goto wfail;
        }
    if (gguf_writer_total_size(w) != file_bytes) {
        cli_error("'%s': internal error: writer plans %" PRIu64 " bytes, expected %" PRIu64,
                  o->out, gguf_writer_total_size(w), file_bytes);
        goto out;
    }
    if (gguf_writer_begin_data(w) < 0) goto wfail;
    {
        uint64_t done = 0;
        cli_progress *pr = cli_progress_new("merge", data);
        for (int k = 0; k < count; k++) {
            for (int64_t i = 0; i < gguf_n_tensors(fs[k]); i++) {
                const gguf_tensor_info *t = gguf_tensor(fs[k], i);
                if (copy_tensor(w, gguf_file_fd(fs[k], 0), t, pr, &done) < 0) {
                    cli_progress_done(pr);
                    goto wfail;
                }
                gguf_release(fs[k], t);
            }
            if (gguf_check_unchanged(fs[k], &err) < 0) {
                cli_progress_done(pr);
                cli_error_gguf(&err);
                goto out;
            }
        }
        cli_progress_done(pr);
    }
    gguf_writer *wf = w;
    w = NULL;
    if (cli_writer_finish(wf, &err) < 0) { cli_error_gguf(&err); goto out; }
    rc = CLI_OK;
    goto out;
wfail:
    writer_fail(w, o->out);
out:
    cli_writer_abort(w);
    if (fs)
        for (int k = 0; k < count; k++) gguf_close(fs[k]);
    free(fs);
    free(prefix);
    gguf_close(f0);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    options o = { 0 };
    parse_args(argc, argv, &o);
    /* test suites on a shared disk skip fsync, as gguf-convert does */
    if (getenv("GGUF_TEST_NOSYNC")) g_wflags |= GGUF_W_NOSYNC;
    return o.op == OP_MERGE ? do_merge(&o) : do_split(&o);
}
