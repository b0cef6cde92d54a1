/*
 * verify_mkmodel.c - bench helper for bench/verify.sh: writes a random-weight Qwen2 GGUF of a
 * given shape carrying the real Qwen2 tokenizer, in F32, and re-quantized copies (BF16, Q8_0,
 * Q4_K_M with llama-quantize's type mix from quant_plan_types).
 *
 *   verify_mkmodel TOKENIZER.json OUTDIR n_layer n_embd n_ff n_head n_head_kv n_vocab [types...]
 *   types: f32 bf16 q8_0 q4_k_m (default: all four); files OUTDIR/<type>.gguf
 *   verify_mkmodel TOKENIZER.json OUTDIR n_layer ... n_vocab --direct
 *     writes OUTDIR/bf16.gguf and OUTDIR/q4_k_m.gguf straight from random values and random
 *     Q4_K/Q6_K blocks (no F32 intermediate: for full-size shapes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/verify_gen.h"
#include "tests/verify_tokgen.h"
#include "quant/quant.h"

static int die(const char *what, int rc)
{
    fprintf(stderr, "verify_mkmodel: %s failed (%d)\n", what, rc);
    return 1;
}

/* Copy src to dst adding the tokenizer and converting types per the ftype's plan. */
static int convert(const char *src, const char *dst, const char *json, int n_vocab, int ftype)
{
    gguf_error err;
    gguf_file *f = gguf_open(src, &err);
    if (!f) return err.code;
    const int64_t n = gguf_n_tensors(f);
    int64_t n_layer = 0;
    gguf_get_int(f, "qwen2.block_count", &n_layer, &err);
    quant_tensor *qt = calloc((size_t)n, sizeof *qt);
    int *types = calloc((size_t)n, sizeof *types);
    for (int64_t i = 0; i < n; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        qt[i].name = t->name; qt[i].n_dims = t->n_dims; memcpy(qt[i].ne, t->ne, sizeof t->ne); qt[i].type = t->type;
    }
    int rc = 0;
    if (ftype >= 0) {
        quant_opts o = { .ftype = ftype, .output_type = -1, .token_embd_type = -1 };
        rc = quant_plan_types(&o, qt, n, (int)n_layer, types, NULL, &err);
    } else {
        for (int64_t i = 0; i < n; i++) types[i] = qt[i].type;
    }
    gguf_writer *w = rc ? NULL : gguf_writer_open(dst, GGUF_W_FORCE, &err);
    if (!rc && !w) rc = err.code;
    for (int64_t i = 0; !rc && i < gguf_n_kv(f); i++) rc = gguf_writer_kv_copy(w, f, i);
    if (!rc) rc = vgen_write_tokenizer(w, json, n_vocab);
    for (int64_t i = 0; !rc && i < n; i++)
        rc = gguf_writer_add_tensor(w, qt[i].name, qt[i].n_dims, qt[i].ne, types[i]);
    if (!rc) rc = gguf_writer_begin_data(w);
    for (int64_t i = 0; !rc && i < n; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (types[i] == t->type) { rc = gguf_writer_tensor(w, t->data, t->size); continue; }
        const size_t sz = gguf_row_bytes(types[i], t->ne[0]) * (size_t)t->ne[1];
        void *q = malloc(sz);
        quant_from_f32(types[i], t->data, q, t->ne[1], t->ne[0], 2);
        rc = gguf_writer_tensor(w, q, sz);
        free(q);
        gguf_release(f, t);
    }
    free(qt);
    free(types);
    gguf_close(f);
    if (rc) { if (w) gguf_writer_abort(w); return rc; }
    return gguf_writer_finish(w, &err);
}

typedef struct tokarg { const char *json; int n_vocab; } tokarg;
static int add_tok(gguf_writer *w, void *ud)
{
    const tokarg *t = ud;
    return vgen_write_tokenizer(w, t->json, t->n_vocab);
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: verify_mkmodel TOKENIZER.json OUTDIR n_layer n_embd n_ff n_head n_head_kv n_vocab [types]\n");
        return 2;
    }
    vgen g = vgen_defaults();
    g.n_layer = atoi(argv[3]); g.n_embd = atoi(argv[4]); g.n_ff = atoi(argv[5]);
    g.n_head = atoi(argv[6]); g.n_head_kv = atoi(argv[7]); g.n_vocab = atoi(argv[8]);
    g.theta = 1e6f; g.eps = 1e-6f; g.seed = 2026;
    char raw[4096], out[4096];
    int rc;
    if (argc > 9 && !strcmp(argv[9], "--direct")) {
        tokarg ta = { argv[1], g.n_vocab };
        g.extra_kv = add_tok;
        g.extra_ud = &ta;
        g.type_default = g.type_embd = g.type_output = GGUF_TYPE_BF16;
        snprintf(out, sizeof out, "%s/bf16.gguf", argv[2]);
        if ((rc = vgen_write(out, &g))) return die(out, rc);
        g.type_default = g.type_embd = GGUF_TYPE_Q4_K;
        g.type_output = g.type_attn_v = g.type_ffn_down = GGUF_TYPE_Q6_K;
        snprintf(out, sizeof out, "%s/q4_k_m.gguf", argv[2]);
        if ((rc = vgen_write(out, &g))) return die(out, rc);
        return 0;
    }
    snprintf(raw, sizeof raw, "%s/raw-f32.gguf", argv[2]);
    if ((rc = vgen_write(raw, &g))) return die("writing the F32 model", rc);
    const char *all[] = { "f32", "bf16", "q8_0", "q4_k_m" };
    const char **types = argc > 9 ? (const char **)argv + 9 : all;
    const int nt = argc > 9 ? argc - 9 : 4;
    for (int i = 0; i < nt; i++) {
        int ft = !strcmp(types[i], "f32") ? -1 : quant_ftype_from_name(types[i]);
        if (ft < -1 || (ft == -1 && strcmp(types[i], "f32"))) return die(types[i], -1);
        snprintf(out, sizeof out, "%s/%s.gguf", argv[2], types[i]);
        if ((rc = convert(raw, out, argv[1], g.n_vocab, ft))) return die(out, rc);
    }
    remove(raw);
    return 0;
}
