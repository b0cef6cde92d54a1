/*
 * test_quant_golden.c - bit-exactness against llama-quantize (testdata/golden-quant, made by
 * llama.cpp build 10587 without imatrix): every tensor of the golden Q4_K_M and Q8_0 outputs
 * must come out of quant_from_f32 byte for byte from the F32 input, with the reference kernels
 * and with the fast ones, on 1 and 2 threads; and quant_plan_types must pick the golden types.
 */
#include "th.h"
#include "gguf.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"

#include <zlib.h>

/* testdata/golden-quant/NAME, gunzipped into TH_TMP first when only NAME.gz exists */
static const char *golden_path(const char *name)
{
    static char buf[8][1024];
    static int k;
    char *out = buf[k++ & 7];
    snprintf(out, sizeof buf[0], "%s/golden-quant/%s", th_testdata(), name);
    FILE *f = fopen(out, "rb");
    if (f) { fclose(f); return out; }
    char gz[1100];
    snprintf(gz, sizeof gz, "%s.gz", out);
    snprintf(out, sizeof buf[0], "%s/%s", th_tmp(), name);
    if ((f = fopen(out, "rb"))) { fclose(f); return out; }
    gzFile in = gzopen(gz, "rb");
    if (!in) return NULL;
    FILE *o = fopen(out, "wb");
    char chunk[65536];
    int n;
    while (o && (n = gzread(in, chunk, sizeof chunk)) > 0) fwrite(chunk, 1, (size_t)n, o);
    gzclose(in);
    if (!o || fclose(o)) return NULL;
    return out;
}

static int n_layer_of(const gguf_file *f)
{
    int64_t v = 0;
    gguf_str arch;
    char key[128];
    if (gguf_get_str(f, "general.architecture", &arch, NULL) == 0 && arch.len < 64) {
        snprintf(key, sizeof key, "%.*s.block_count", (int)arch.len, arch.ptr);
        if (gguf_get_int(f, key, &v, NULL) == 0) return (int)v;
    }
    return 0;
}

/* quantize every tensor of `in` to the golden's type and compare bytes; returns mismatches */
static int compare_tensors(const char *in_name, const char *gold_name, char *why, size_t wsz)
{
    gguf_error err;
    gguf_file *in = gguf_open(golden_path(in_name), &err);
    gguf_file *gold = gguf_open(golden_path(gold_name), &err);
    if (!in || !gold) { snprintf(why, wsz, "open: %.300s", err.msg); gguf_close(in); gguf_close(gold); return 1; }
    int bad = 0;
    for (int64_t i = 0; i < gguf_n_tensors(gold) && !bad; i++) {
        const gguf_tensor_info *g = gguf_tensor(gold, i);
        int64_t j = gguf_find_tensor(in, g->name);
        if (j < 0) { snprintf(why, wsz, "%s missing in input", g->name); bad = 1; break; }
        const gguf_tensor_info *t = gguf_tensor(in, j);
        if (t->type != GGUF_TYPE_F32) { snprintf(why, wsz, "%s not F32", t->name); bad = 1; break; }
        const int64_t n_per_row = t->ne[0], nrows = t->ne[1] * t->ne[2] * t->ne[3];
        uint8_t *out = malloc(g->size + 1);
        for (int mode = 0; mode < 4 && !bad; mode++) {
            quant_set_reference(mode & 1);
            memset(out, 0xA5, g->size);
            size_t w = quant_from_f32(g->type, t->data, out, nrows, n_per_row, mode & 2 ? 2 : 1);
            if (w != g->size) {
                snprintf(why, wsz, "%s: wrote %zu bytes, golden has %llu", g->name, w, (unsigned long long)g->size);
                bad = 1;
            } else if (memcmp(out, g->data, g->size)) {
                size_t k = 0;
                while (out[k] == ((const uint8_t *)g->data)[k]) k++;
                snprintf(why, wsz, "%s (%s, %s, %d threads): first differing byte %zu of %llu",
                         g->name, gguf_type_name(g->type), mode & 1 ? "reference" : "fast",
                         mode & 2 ? 2 : 1, k, (unsigned long long)g->size);
                bad = 1;
            }
        }
        quant_set_reference(0);
        free(out);
    }
    gguf_close(in);
    gguf_close(gold);
    return bad;
}

/* the types quant_plan_types picks for the input equal the golden file's */
static int compare_plan(const char *in_name, const char *gold_name, int ftype, char *why, size_t wsz)
{
    gguf_error err;
    gguf_file *in = gguf_open(golden_path(in_name), &err);
    gguf_file *gold = gguf_open(golden_path(gold_name), &err);
    if (!in || !gold) { snprintf(why, wsz, "open: %.300s", err.msg); gguf_close(in); gguf_close(gold); return 1; }
    int64_t n = gguf_n_tensors(in);
    quant_tensor *qt = calloc((size_t)n, sizeof *qt);
    int *types = calloc((size_t)n, sizeof *types);
    for (int64_t i = 0; i < n; i++) {
        const gguf_tensor_info *t = gguf_tensor(in, i);
        qt[i].name = t->name;
        qt[i].n_dims = t->n_dims;
        memcpy(qt[i].ne, t->ne, sizeof qt[i].ne);
        qt[i].type = t->type;
    }
    quant_opts o = { .ftype = ftype, .output_type = -1, .token_embd_type = -1 };
    int nf = 0, bad = 0;
    if (quant_plan_types(&o, qt, n, n_layer_of(in), types, &nf, &err)) {
        snprintf(why, wsz, "plan: %.300s", err.msg);
        bad = 1;
    }
    for (int64_t i = 0; i < n && !bad; i++) {
        int64_t j = gguf_find_tensor(gold, qt[i].name);
        if (j < 0 || gguf_tensor(gold, j)->type != types[i]) {
            snprintf(why, wsz, "%s: planned %s, golden %s", qt[i].name, gguf_type_name(types[i]),
                     j < 0 ? "(absent)" : gguf_type_name(gguf_tensor(gold, j)->type));
            bad = 1;
        }
    }
    /* and the golden file's tensor order is quant_tensor_order_cmp order */
    for (int64_t i = 1; i < gguf_n_tensors(gold) && !bad; i++) {
        quant_tensor a = { .name = gguf_tensor(gold, i - 1)->name }, b = { .name = gguf_tensor(gold, i)->name };
        if (quant_tensor_order_cmp(&a, &b) >= 0) {
            snprintf(why, wsz, "golden order %s before %s disagrees", a.name, b.name);
            bad = 1;
        }
    }
    free(qt);
    free(types);
    gguf_close(in);
    gguf_close(gold);
    return bad;
}

static char why[512];

TEST(edge_q4km_tensors) { CHECK_MSG(!compare_tensors("edge-f32.gguf", "edge-q4km.gguf", why, sizeof why), "%s", why); }
TEST(edge_q80_tensors) { CHECK_MSG(!compare_tensors("edge-f32.gguf", "edge-q80.gguf", why, sizeof why), "%s", why); }
TEST(fallback_q4km_tensors) { CHECK_MSG(!compare_tensors("fallback-f32.gguf", "fallback-q4km.gguf", why, sizeof why), "%s", why); }
TEST(fallback_q80_tensors) { CHECK_MSG(!compare_tensors("fallback-f32.gguf", "fallback-q80.gguf", why, sizeof why), "%s", why); }
TEST(edge_q4km_plan) { CHECK_MSG(!compare_plan("edge-f32.gguf", "edge-q4km.gguf", QUANT_FTYPE_Q4_K_M, why, sizeof why), "%s", why); }
TEST(edge_q80_plan) { CHECK_MSG(!compare_plan("edge-f32.gguf", "edge-q80.gguf", QUANT_FTYPE_Q8_0, why, sizeof why), "%s", why); }
TEST(fallback_q4km_plan) { CHECK_MSG(!compare_plan("fallback-f32.gguf", "fallback-q4km.gguf", QUANT_FTYPE_Q4_K_M, why, sizeof why), "%s", why); }
TEST(fallback_q80_plan) { CHECK_MSG(!compare_plan("fallback-f32.gguf", "fallback-q80.gguf", QUANT_FTYPE_Q8_0, why, sizeof why), "%s", why); }

TH_MAIN()
