/*
 * test_quant_policy.c - quant_plan_types on QwQ-32B's full 64-layer Qwen2 tensor table
 * (FORMATS.md 2.5, 2.7): exact Q6_K layer set, the 385/65/321 tally and the 18926.01 MiB
 * dry-run size for Q4_K_M; the tied-embeddings case; Q8_0; --pure; the overrides; and the
 * fallback rules for rows the block size does not divide (2.6). Also the processing order.
 */
#include "th.h"
#include "gguf.h"
#include "quant/quant.h"

#include <stdint.h>

#define MAXT 800
static char names[MAXT][64];
static quant_tensor tt[MAXT];
static int types[MAXT];
static int nt;

static void add(const char *name, int64_t ne0, int64_t ne1, int type)
{
    snprintf(names[nt], sizeof names[nt], "%s", name);
    quant_tensor *t = &tt[nt++];
    t->name = names[nt - 1];
    t->n_dims = ne1 > 1 ? 2 : 1;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = t->ne[3] = 1;
    t->type = type;
}

/* QwQ-32B in convert's order (attn_* then ffn_*), 2-D F16, 1-D F32; hidden h, ffn f */
static void qwen2_table(int n_layer, int64_t h, int64_t f, int64_t kv, bool with_output)
{
    nt = 0;
    char b[64];
    add("token_embd.weight", h, 152064, GGUF_TYPE_F16);
    for (int l = 0; l < n_layer; l++) {
#define L(s, a, c, ty) snprintf(b, sizeof b, "blk.%d." s, l), add(b, a, c, ty)
        L("attn_norm.weight", h, 1, GGUF_TYPE_F32);
        L("ffn_down.weight", f, h, GGUF_TYPE_F16);
        L("ffn_gate.weight", h, f, GGUF_TYPE_F16);
        L("ffn_up.weight", h, f, GGUF_TYPE_F16);
        L("ffn_norm.weight", h, 1, GGUF_TYPE_F32);
        L("attn_k.bias", kv, 1, GGUF_TYPE_F32);
        L("attn_k.weight", h, kv, GGUF_TYPE_F16);
        L("attn_output.weight", h, h, GGUF_TYPE_F16);
        L("attn_q.bias", h, 1, GGUF_TYPE_F32);
        L("attn_q.weight", h, h, GGUF_TYPE_F16);
        L("attn_v.bias", kv, 1, GGUF_TYPE_F32);
        L("attn_v.weight", h, kv, GGUF_TYPE_F16);
#undef L
    }
    add("output_norm.weight", h, 1, GGUF_TYPE_F32);
    if (with_output) add("output.weight", h, 152064, GGUF_TYPE_F16);
}

static int plan(int ftype, bool pure, int out_t, int emb_t, bool leave, int n_layer, int *nf)
{
    quant_opts o = { .ftype = ftype, .pure = pure, .output_type = out_t, .token_embd_type = emb_t,
                     .leave_output = leave };
    gguf_error err;
    return quant_plan_types(&o, tt, nt, n_layer, types, nf, &err);
}

static int count(int type)
{
    int c = 0;
    for (int i = 0; i < nt; i++) c += types[i] == type;
    return c;
}

static int type_of(const char *name)
{
    for (int i = 0; i < nt; i++)
        if (!strcmp(tt[i].name, name)) return types[i];
    return -1;
}

static double mib_total(void)
{
    uint64_t s = 0;
    for (int i = 0; i < nt; i++) s += gguf_row_bytes(types[i], tt[i].ne[0]) * (uint64_t)tt[i].ne[1];
    return s / 1048576.0;
}

static bool more_bits_layer(int l)
{
    /* FORMATS.md 2.5: layers 0-7, 10, 13, ..., 55, and 56-63 */
    return l < 8 || l >= 56 || (l >= 10 && (l - 10) % 3 == 0);
}

TEST(q4_k_m_qwq32b_tally)
{
    qwen2_table(64, 5120, 27648, 1024, true);
    int nf = -1;
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, -1, -1, false, 64, &nf), 0);
    CHECK_EQ_INT(nt, 771);
    CHECK_EQ_INT(count(GGUF_TYPE_Q4_K), 385);
    CHECK_EQ_INT(count(GGUF_TYPE_Q6_K), 65);
    CHECK_EQ_INT(count(GGUF_TYPE_F32), 321);
    CHECK_EQ_INT(nf, 0);
    CHECK_EQ_INT(type_of("output.weight"), GGUF_TYPE_Q6_K);
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_Q4_K);
    char b[64];
    for (int l = 0; l < 64; l++) {
        int want = more_bits_layer(l) ? GGUF_TYPE_Q6_K : GGUF_TYPE_Q4_K;
        snprintf(b, sizeof b, "blk.%d.attn_v.weight", l);
        CHECK_MSG(type_of(b) == want, "%s: %s", b, gguf_type_name(type_of(b)));
        snprintf(b, sizeof b, "blk.%d.ffn_down.weight", l);
        CHECK_MSG(type_of(b) == want, "%s: %s", b, gguf_type_name(type_of(b)));
        snprintf(b, sizeof b, "blk.%d.attn_q.weight", l);
        CHECK_EQ_INT(type_of(b), GGUF_TYPE_Q4_K);
        snprintf(b, sizeof b, "blk.%d.attn_q.bias", l);
        CHECK_EQ_INT(type_of(b), GGUF_TYPE_F32);
    }
    CHECK_EQ_INT(count(GGUF_TYPE_Q6_K), 65);
    /* llama-quantize --dry-run: 18926.01 MiB */
    char s[32];
    snprintf(s, sizeof s, "%.2f", mib_total());
    CHECK_EQ_STR(s, "18926.01");
}

TEST(q4_k_m_tied_embeddings)
{
    qwen2_table(64, 5120, 27648, 1024, false);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, -1, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_Q6_K);   /* takes the OUTPUT rule */
    CHECK_EQ_INT(count(GGUF_TYPE_Q6_K), 65);
    CHECK_EQ_INT(count(GGUF_TYPE_Q4_K), 384);
    CHECK_EQ_INT(count(GGUF_TYPE_F32), 321);
    /* --output-tensor-type applies to the tied token_embd through the OUTPUT rule */
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, GGUF_TYPE_Q8_0, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_Q8_0);
}

TEST(q8_0_everything)
{
    qwen2_table(64, 5120, 27648, 1024, true);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q8_0, false, -1, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(count(GGUF_TYPE_Q8_0), 450);
    CHECK_EQ_INT(count(GGUF_TYPE_F32), 321);
    char s[32];
    snprintf(s, sizeof s, "%.2f", mib_total());
    CHECK_EQ_STR(s, "33202.08");
}

TEST(pure_and_overrides)
{
    qwen2_table(64, 5120, 27648, 1024, true);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, true, -1, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(count(GGUF_TYPE_Q4_K), 450);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, GGUF_TYPE_Q8_0, GGUF_TYPE_F16, false, 64, NULL), 0);
    CHECK_EQ_INT(type_of("output.weight"), GGUF_TYPE_Q8_0);
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_F16);
    CHECK_EQ_INT(count(GGUF_TYPE_Q6_K), 64);
    /* overrides apply with --pure and with a float file type too */
    CHECK_EQ_INT(plan(QUANT_FTYPE_MOSTLY_F16, false, GGUF_TYPE_Q8_0, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(type_of("output.weight"), GGUF_TYPE_Q8_0);
    CHECK_EQ_INT(count(GGUF_TYPE_F16), 449);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, -1, -1, true, 64, NULL), 0);   /* --leave-output-tensor */
    CHECK_EQ_INT(type_of("output.weight"), GGUF_TYPE_F16);
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_Q4_K);             /* not tied: output exists */
    CHECK_EQ_INT(plan(QUANT_FTYPE_BF16, false, -1, -1, false, 64, NULL), 0);
    CHECK_EQ_INT(count(GGUF_TYPE_BF16), 450);
}

TEST(fallback_shapes)
{
    /* Qwen2.5-0.5B-like: hidden 896 (not a multiple of 256), ffn 4864 (= 19*256), 24 layers */
    qwen2_table(24, 896, 4864, 128, true);
    int nf = 0;
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, -1, -1, false, 24, &nf), 0);
    CHECK_EQ_INT(type_of("output.weight"), GGUF_TYPE_Q8_0);            /* OUTPUT branch */
    CHECK_EQ_INT(type_of("token_embd.weight"), GGUF_TYPE_Q5_0);        /* Q4_K -> Q5_0 */
    CHECK_EQ_INT(type_of("blk.0.attn_q.weight"), GGUF_TYPE_Q5_0);
    CHECK_EQ_INT(type_of("blk.0.attn_v.weight"), GGUF_TYPE_Q8_0);      /* Q6_K -> Q8_0 */
    CHECK_EQ_INT(type_of("blk.5.attn_v.weight"), GGUF_TYPE_Q8_0);      /* (5-3)%3 == 2: more bits */
    CHECK_EQ_INT(type_of("blk.6.attn_v.weight"), GGUF_TYPE_Q5_0);      /* (6-3)%3 == 0: Q4_K -> Q5_0 */
    CHECK_EQ_INT(type_of("blk.0.ffn_down.weight"), GGUF_TYPE_Q6_K);    /* 4864 % 256 == 0 */
    CHECK_EQ_INT(type_of("blk.0.ffn_gate.weight"), GGUF_TYPE_Q5_0);
    CHECK_EQ_INT(nf, 24 * 6 + 1);   /* q, k, v, o, gate, up per layer, and token_embd */
    /* a row of 40: no 32-block type fits -> F16 */
    nt = 0;
    add("blk.0.attn_q.weight", 40, 8, GGUF_TYPE_F32);
    add("blk.0.attn_v.weight", 40, 8, GGUF_TYPE_F32);
    CHECK_EQ_INT(plan(QUANT_FTYPE_Q4_K_M, false, -1, -1, false, 1, &nf), 0);
    CHECK_EQ_INT(types[0], GGUF_TYPE_F16);
    CHECK_EQ_INT(types[1], GGUF_TYPE_F16);
    CHECK_EQ_INT(nf, 2);
    /* Q8_0 has no fallback type: llama-quantize stops, and so do we */
    CHECK(plan(QUANT_FTYPE_Q8_0, false, -1, -1, false, 1, &nf) < 0);
}

TEST(processing_order)
{
    static const char *sorted[] = { "output.weight", "output_norm.weight", "token_embd.weight",
        "blk.2.attn_k.bias", "blk.2.attn_q.weight", "blk.2.ffn_up.weight", "blk.10.attn_k.weight" };
    quant_tensor a[7];
    for (int i = 0; i < 7; i++) a[i] = (quant_tensor){ .name = sorted[6 - i] };
    qsort(a, 7, sizeof a[0], quant_tensor_order_cmp);
    for (int i = 0; i < 7; i++) CHECK_EQ_STR(a[i].name, sorted[i]);
}

TEST(ftype_names)
{
    CHECK_EQ_INT(quant_ftype_from_name("q4_k_m"), QUANT_FTYPE_Q4_K_M);
    CHECK_EQ_INT(quant_ftype_from_name("Q8_0"), QUANT_FTYPE_Q8_0);
    CHECK_EQ_INT(quant_ftype_from_name("bf16"), QUANT_FTYPE_BF16);
    CHECK_EQ_INT(quant_ftype_from_name("F32"), QUANT_FTYPE_ALL_F32);
    CHECK_EQ_INT(quant_ftype_from_name("q4_k_s"), -1);
    CHECK_EQ_INT(quant_ftype_default_type(QUANT_FTYPE_Q4_K_M), GGUF_TYPE_Q4_K);
    CHECK_EQ_STR(quant_ftype_name(QUANT_FTYPE_Q8_0), "Q8_0");
}

TH_MAIN()
