/*
 * gguf-convert - Hugging Face Qwen2 safetensors directory -> GGUF, as convert_hf_to_gguf.py writes
 * it (same keys, order, tensor names, shapes and types), optionally quantized on the way
 * (q8_0 / q4_k_m: tensor data identical to llama-quantize run on the conversion) and split by
 * gguf-split's rules. The whole input is validated before any output file is opened.
 */
#include "cli.h"
#include "convert/convert.h"
#include "quant/quant.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: gguf-convert MODEL_DIR -o OUT.gguf [options]\n"
    "Convert a Hugging Face Qwen2ForCausalLM safetensors directory to GGUF.\n"
    "\n"
    "  -o, --outfile OUT.gguf     output file (with --split-*: OUT-00001-of-0000N.gguf, ...)\n"
    "  --type T                   f32, f16, bf16, q8_0 or q4_k_m (default: the source dtype)\n"
    "  --threads N                threads for conversion and quantization (default: all CPUs)\n"
    "  --split-max-size N(M|G)    start a new split before the tensor data would exceed N bytes\n"
    "  --split-max-tensors N      at most N tensors per split\n"
    "  --force                    overwrite existing output files\n"
    "  --dry-run                  print the plan (tensors, types, sizes, splits) and write nothing\n"
    "  -q                         no progress or warnings\n"
    "  -h, --help                 this help\n";

typedef struct prog_ctx { cli_progress *p; } prog_ctx;
static void on_progress(void *ctx, uint64_t done) { cli_progress_update(((prog_ctx *)ctx)->p, done); }

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    const char *dir = NULL, *outp = NULL;
    int out = CONV_OUT_SOURCE;
    int64_t threads = cli_default_threads(), max_tensors = 0;
    uint64_t max_bytes = 0;
    bool force = false, dry = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--outfile")) { if (!v) cli_usage_error("option '%s' needs a value", a); outp = v; i++; }
        else if (!strcmp(a, "--type")) {
            if (!v) cli_usage_error("option '--type' needs a value");
            if ((out = conv_out_from_name(v)) < 0) cli_usage_error("invalid --type '%s' (f32, f16, bf16, q8_0 or q4_k_m)", v);
            i++;
        }
        else if (!strcmp(a, "--threads")) {
            if (!v || cli_parse_int(v, 1, 1024, &threads) != 0) cli_usage_error("invalid --threads '%s' (1 to 1024)", v ? v : "");
            i++;
        }
        else if (!strcmp(a, "--split-max-size")) {
            if (!v || cli_parse_size(v, true, &max_bytes) != 0 || !max_bytes)
                cli_usage_error("invalid --split-max-size '%s' (a number with M or G, e.g. 500M)", v ? v : "");
            i++;
        }
        else if (!strcmp(a, "--split-max-tensors")) {
            if (!v || cli_parse_int(v, 1, INT32_MAX, &max_tensors) != 0)
                cli_usage_error("invalid --split-max-tensors '%s' (a positive integer)", v ? v : "");
            i++;
        }
        else if (!strcmp(a, "--force")) force = true;
        else if (!strcmp(a, "--dry-run")) dry = true;
        else if (!strcmp(a, "-q")) quiet = true;
        else if (a[0] == '-' && a[1]) cli_usage_error("unknown option '%s'", a);
        else if (!dir) dir = a;
        else cli_usage_error("unexpected argument '%s'", a);
    }
    if (!dir) cli_usage_error("missing MODEL_DIR");
    if (!outp && !dry) cli_usage_error("missing -o OUT.gguf");
    if (max_bytes && max_tensors) cli_usage_error("give --split-max-size or --split-max-tensors, not both");
    cli_set_quiet(quiet);

    /* ---- check everything before writing anything */
    gguf_error err;
    gguf_error_clear(&err);
    conv_hf_model *m = NULL;
    conv_vocab *voc = NULL;
    conv_plan *plan = NULL;
    conv_meta meta = { 0 };
    int rc;
    if ((rc = conv_hf_open(dir, &m, &err)) ||
        (rc = conv_vocab_load(dir, conv_hf_hparams(m)->n_vocab, &voc, &err)) ||
        (rc = conv_meta_load(m, &meta, &err)) ||
        (rc = conv_plan_new(m, out, max_bytes, max_tensors, &plan, &err))) {
        cli_error_gguf(&err);
        conv_vocab_free(voc);
        conv_meta_free(&meta);
        conv_hf_close(m);
        return CLI_FAIL;
    }
    for (int i = 0; i < meta.n_warnings; i++) cli_warn("%s", meta.warnings[i]);

    /* output names */
    int ns = plan->n_splits;
    char (*names)[PATH_MAX] = calloc((size_t)ns, sizeof *names);
    int status = CLI_FAIL;
    if (!names) { cli_error("out of memory"); goto done; }
    if (outp) {
        if (ns == 1) {
            snprintf(names[0], sizeof names[0], "%s", outp);
        } else {
            char prefix[PATH_MAX];
            snprintf(prefix, sizeof prefix, "%s", outp);
            size_t L = strlen(prefix);
            if (L > 5 && !strcmp(prefix + L - 5, ".gguf")) prefix[L - 5] = 0;
            for (int s = 0; s < ns; s++) {
                int n = gguf_split_path(names[s], sizeof names[s], prefix, s, ns);
                if (n < 0 || (size_t)n >= sizeof names[s]) { cli_error("output name too long: '%s'", outp); goto done; }
            }
        }
    }

    if (dry) {
        char b1[32], b2[32];
        printf("model: %s (%s, %" PRId64 " layers, %" PRId64 " tensors, %s of source data)\n", dir, meta.name,
               conv_hf_hparams(m)->n_layer, plan->n, cli_fmt_bytes(b1, sizeof b1, conv_hf_data_bytes(m)));
        printf("type: %s (general.file_type %d), %" PRId64 " tokens, %" PRId64 " merges, size label %s\n",
               quant_ftype_name(plan->file_type), plan->file_type, conv_vocab_n_tokens(voc), conv_vocab_n_merges(voc),
               meta.size_label[0] ? meta.size_label : "-");
        for (int64_t i = 0; i < plan->n; i++) {
            const conv_plan_tensor *t = &plan->t[i];
            char shape[96];
            if (t->src->n_dims == 1) snprintf(shape, sizeof shape, "[%" PRId64 "]", t->src->ne[0]);
            else snprintf(shape, sizeof shape, "[%" PRId64 ", %" PRId64 "]", t->src->ne[0], t->src->ne[1]);
            printf("  %-32s %-20s %-5s -> %-5s %12" PRIu64 " bytes", t->src->name, shape, gguf_type_name(t->src->type),
                   gguf_type_name(t->type), t->size);
            if (ns > 1) printf("  split %d", t->split + 1);
            putchar('\n');
        }
        printf("output: %s of tensor data in %d file%s\n", cli_fmt_bytes(b2, sizeof b2, plan->data_bytes), ns, ns > 1 ? "s" : "");
        if (outp)
            for (int s = 0; s < ns; s++) printf("  %s (%" PRId64 " tensors)\n", names[s], plan->split_n[s]);
        status = 0;
        goto done;
    }

    for (int s = 0; s < ns; s++) {
        for (uint32_t j = 0; j < conv_hf_n_shards(m); j++) {
            if (same_file(names[s], conv_hf_shard_path(m, j))) {
                cli_error("refusing to overwrite input '%s'", names[s]);
                goto done;
            }
        }
        if (!force && access(names[s], F_OK) == 0) {
            cli_error("'%s' already exists (use --force to overwrite)", names[s]);
            goto done;
        }
    }

    /* ---- write */
    unsigned wflags = force ? GGUF_W_FORCE : 0;
    if (getenv("GGUF_TEST_NOSYNC")) wflags |= GGUF_W_NOSYNC;
    uint64_t done = 0;
    prog_ctx pc = { cli_progress_new("gguf-convert", conv_hf_data_bytes(m)) };
    int64_t ti = 0;
    int s;
    for (s = 0; s < ns; s++) {
        gguf_writer *w = cli_writer_open(names[s], wflags, &err);
        if (!w) { rc = err.code ? err.code : GGUF_E_IO; break; }
#define WR(call) do { if ((rc = (call))) { const gguf_error *we = gguf_writer_error(w); if (we && we->code && !err.code) err = *we; goto wfail; } } while (0)
        if (s == 0 && (rc = conv_write_kvs(w, m, &meta, voc, plan->file_type, &err))) goto wfail;
        if (ns > 1) {
            WR(gguf_writer_kv_u16(w, "split.no", (uint16_t)s));
            WR(gguf_writer_kv_u16(w, "split.count", (uint16_t)ns));
            WR(gguf_writer_kv_i32(w, "split.tensors.count", (int32_t)plan->n));
        }
        int64_t first = ti;
        for (int64_t i = first; i < plan->n && plan->t[i].split == s; i++)
            WR(gguf_writer_add_tensor(w, plan->t[i].src->name, plan->t[i].src->n_dims, plan->t[i].src->ne, plan->t[i].type));
        WR(gguf_writer_begin_data(w));
        for (; ti < plan->n && plan->t[ti].split == s; ti++)
            if ((rc = conv_write_tensor(w, m, &plan->t[ti], (int)threads, &done, on_progress, &pc, &err))) goto wfail;
        if ((rc = conv_hf_check_unchanged(m, &err))) goto wfail;
        if ((rc = cli_writer_finish(w, &err))) break;
        continue;
wfail:
        cli_writer_abort(w);
        break;
#undef WR
    }
    cli_progress_done(pc.p);
    if (rc) {
        /* a split set missing files is no model: remove the splits already finished */
        for (int k = 0; k < s && k < ns; k++) unlink(names[k]);
        if (err.msg[0]) cli_error_gguf(&err);
        else cli_error("cannot write '%s': %s", names[s < ns ? s : 0], conv_status_str(rc));
    }
    status = rc ? CLI_FAIL : 0;
done:
    conv_plan_free(plan);
    conv_vocab_free(voc);
    conv_meta_free(&meta);
    conv_hf_close(m);
    free(names);
    return status;
}
