/* eval.c - chunked perplexity and model comparison; see eval.h. */
#include "verify/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verify/forward.h"

int32_t verify_model_bos(const verify_model *m)
{
    if (!m->gf) return -1;
    bool add = false;
    int64_t bos;
    gguf_error e;
    if (gguf_get_bool(m->gf, "tokenizer.ggml.add_bos_token", &add, &e) || !add) return -1;
    if (gguf_get_int(m->gf, "tokenizer.ggml.bos_token_id", &bos, &e) || bos < 0 || bos >= m->hp.n_vocab)
        return -1;
    return (int32_t)bos;
}

int verify_eval_chunks(const verify_eval_opts *o, int64_t n_tokens, int64_t *n_chunk, gguf_error *err)
{
    if (o->ctx < 4)
        return gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX, "chunk length %lld is too small", (long long)o->ctx);
    if (n_tokens < 2 * o->ctx)
        return gguf_error_set(err, GGUF_E_USAGE, UINT64_MAX,
                              "'%s': %lld tokens is too short: need at least 2*c = %lld",
                              o->what ? o->what : "text", (long long)n_tokens, (long long)(2 * o->ctx));
    int64_t n = n_tokens / o->ctx;
    if (o->max_chunks > 0 && o->max_chunks < n) n = o->max_chunks;
    *n_chunk = n;
    return 0;
}

static int64_t group_chunks(const verify_eval_opts *o, int64_t n_embd, int64_t n_chunk)
{
    const uint64_t budget = o->group_bytes ? o->group_bytes : (512ull << 20);
    int64_t g = (int64_t)(budget / ((uint64_t)o->ctx * (uint64_t)n_embd * sizeof(float)));
    return g < 1 ? 1 : g > n_chunk ? n_chunk : g;
}

/* Tokens of chunks [c0, c0+nc), BOS-replaced. */
static void chunk_tokens(const int32_t *ids, int64_t ctx, int64_t c0, int64_t nc, int32_t bos, int32_t *buf)
{
    memcpy(buf, ids + c0 * ctx, (size_t)(nc * ctx) * sizeof *buf);
    if (bos >= 0)
        for (int64_t k = 0; k < nc; k++) buf[k * ctx] = bos;
}

/* Logits of the scored rows (first .. ctx-2) of chunk k of a group. */
static int head_rows(verify_ctx *c, const verify_model *m, const float *x, int64_t ctx, int64_t k,
                     float *logits, gguf_error *err)
{
    const int64_t E = m->hp.n_embd, first = ctx / 2, n = ctx - 1 - first;
    int rc = verify_head(c, x + (k * ctx + first) * E, n, logits, err);
    verify_model_release_layer(m, -1);
    return rc;
}

int verify_eval_perplexity(const verify_model *m, const int32_t *ids, int64_t n_tokens,
                           const verify_eval_opts *o, verify_ppl *out, gguf_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t n_chunk;
    int rc = verify_eval_chunks(o, n_tokens, &n_chunk, err);
    if (rc) return rc;
    const int64_t ctx = o->ctx, E = m->hp.n_embd, V = m->hp.n_vocab;
    const int64_t first = ctx / 2, n_scored = ctx - 1 - first;
    const int64_t group = group_chunks(o, E, n_chunk);
    verify_ctx *c = verify_ctx_new(m, ctx);
    float *x = malloc((size_t)(group * ctx * E) * sizeof *x);
    float *logits = malloc((size_t)(n_scored * V) * sizeof *logits);
    int32_t *tok = malloc((size_t)(group * ctx) * sizeof *tok);
    double *nlls = malloc((size_t)n_scored * sizeof *nlls);
    if (!c || !x || !logits || !tok || !nlls) {
        rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
        goto out;
    }
    for (int64_t c0 = 0; c0 < n_chunk; c0 += group) {
        const int64_t nc = n_chunk - c0 < group ? n_chunk - c0 : group;
        chunk_tokens(ids, ctx, c0, nc, o->bos, tok);
        rc = verify_embed(c, tok, nc * ctx, x, err);
        verify_model_release_layer(m, -1);
        for (int il = 0; !rc && il < m->hp.n_layer; il++) {
            /* the last layer's rows below `first` are never scored: skip their FFN */
            rc = verify_layer_forward_rows(c, il, x, nc, ctx, il == m->hp.n_layer - 1 ? first : 0, err);
            verify_model_release_layer(m, il);
        }
        for (int64_t k = 0; !rc && k < nc; k++) {
            if ((rc = head_rows(c, m, x, ctx, k, logits, err))) break;
            const int32_t *next = tok + k * ctx + first + 1;
            /* rows in parallel, sums in row order: the result does not depend on threads */
#pragma omp parallel for schedule(dynamic, 4)
            for (int64_t j = 0; j < n_scored; j++) nlls[j] = verify_nll(logits + j * V, V, next[j]);
            for (int64_t j = 0; j < n_scored; j++) {
                const double nll = nlls[j];
                if (!isfinite(nll)) {
                    rc = gguf_error_set(err, GGUF_E_NONFINITE, UINT64_MAX,
                                        "'%s': non-finite logits in chunk %lld at position %lld", m->path,
                                        (long long)(c0 + k + 1), (long long)(first + j));
                    break;
                }
                verify_ppl_add(out, nll);
            }
            if (!rc && o->on_chunk) o->on_chunk(o->ud, c0 + k + 1, n_chunk, out, NULL);
        }
        if (rc) break;
    }
out:
    free(x);
    free(logits);
    free(tok);
    free(nlls);
    verify_ctx_free(c);
    return rc;
}

/* Accumulate hidden-state drift of n tokens: cosine per token, squared error and reference. */
static void add_drift(double *cos_sum, double *diff2, double *ref2, const float *xr, const float *xm,
                      int64_t n, int64_t E)
{
    double cs = 0, df = 0, rf = 0;
#pragma omp parallel for schedule(static) reduction(+:cs, df, rf)
    for (int64_t t = 0; t < n; t++) {
        const float *a = xr + t * E, *b = xm + t * E;
        double ab = 0, aa = 0, bb = 0, dd = 0;
        for (int64_t i = 0; i < E; i++) {
            const double d = (double)b[i] - (double)a[i];
            ab += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
            dd += d * d;
        }
        cs += (aa > 0 && bb > 0) ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
        df += dd;
        rf += aa;
    }
    *cos_sum += cs;
    *diff2 += df;
    *ref2 += rf;
}

void verify_cmp_result_free(verify_cmp_result *r)
{
    if (!r) return;
    free(r->layer_cos);
    free(r->layer_rel_rmse);
    r->layer_cos = r->layer_rel_rmse = NULL;
}

int verify_eval_compare(const verify_model *r, const verify_model *m, const int32_t *ids,
                        int64_t n_tokens, const verify_eval_opts *o, verify_cmp_result *out,
                        gguf_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = verify_model_same_shape(r, m, err);
    if (rc) return rc;
    int64_t n_chunk;
    if ((rc = verify_eval_chunks(o, n_tokens, &n_chunk, err))) return rc;
    const int64_t ctx = o->ctx, E = m->hp.n_embd, V = m->hp.n_vocab;
    const int NL = m->hp.n_layer;
    const int64_t first = ctx / 2, n_scored = ctx - 1 - first;
    verify_eval_opts half = *o;
    half.group_bytes = (o->group_bytes ? o->group_bytes : (512ull << 20)) / 2;
    const int64_t group = group_chunks(&half, E, n_chunk);
    verify_ctx *cr = verify_ctx_new(r, ctx), *cm = verify_ctx_new(m, ctx);
    const size_t gx = (size_t)(group * ctx * E);
    float *xr = malloc(gx * sizeof *xr), *xm = malloc(gx * sizeof *xm);
    float *lr = malloc((size_t)(n_scored * V) * sizeof *lr);
    float *lm = malloc((size_t)(n_scored * V) * sizeof *lm);
    int32_t *tok = malloc((size_t)(group * ctx) * sizeof *tok);
    double *klds = malloc((size_t)(n_chunk * n_scored) * sizeof *klds);
    verify_tok_cmp *tcs = malloc((size_t)n_scored * sizeof *tcs);
    bool *tcs_ok = malloc((size_t)n_scored * sizeof *tcs_ok);
    double *dcos = calloc((size_t)NL, sizeof *dcos), *ddiff = calloc((size_t)NL, sizeof *ddiff),
           *dref = calloc((size_t)NL, sizeof *dref);
    out->n_chunk = n_chunk;
    out->n_layer = NL;
    out->layer_cos = calloc((size_t)NL, sizeof *out->layer_cos);
    out->layer_rel_rmse = calloc((size_t)NL, sizeof *out->layer_rel_rmse);
    int64_t n_drift = 0;
    if (!cr || !cm || !xr || !xm || !lr || !lm || !tok || !klds || !tcs || !tcs_ok || !dcos || !ddiff || !dref ||
        !out->layer_cos || !out->layer_rel_rmse) {
        rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
        goto out;
    }
    for (int64_t c0 = 0; !rc && c0 < n_chunk; c0 += group) {
        const int64_t nc = n_chunk - c0 < group ? n_chunk - c0 : group;
        chunk_tokens(ids, ctx, c0, nc, o->bos, tok);
        if ((rc = verify_embed(cr, tok, nc * ctx, xr, err))) break;
        if ((rc = verify_embed(cm, tok, nc * ctx, xm, err))) break;
        verify_model_release_layer(r, -1);
        verify_model_release_layer(m, -1);
        /* layer by layer: one layer of one model is being read at any time */
        for (int il = 0; !rc && il < NL; il++) {
            rc = verify_layer_forward(cr, il, xr, nc, ctx, err);
            verify_model_release_layer(r, il);
            if (rc) break;
            rc = verify_layer_forward(cm, il, xm, nc, ctx, err);
            verify_model_release_layer(m, il);
            if (!rc) add_drift(&dcos[il], &ddiff[il], &dref[il], xr, xm, nc * ctx, E);
        }
        n_drift += nc * ctx;
        for (int64_t k = 0; !rc && k < nc; k++) {
            if ((rc = head_rows(cr, r, xr, ctx, k, lr, err))) break;
            if ((rc = head_rows(cm, m, xm, ctx, k, lm, err))) break;
            const int32_t *next = tok + k * ctx + first + 1;
#pragma omp parallel for schedule(dynamic, 4)
            for (int64_t j = 0; j < n_scored; j++)
                tcs_ok[j] = verify_compare_row(lr + j * V, lm + j * V, V, next[j], &tcs[j]) == 0 && isfinite(tcs[j].kld);
            for (int64_t j = 0; j < n_scored; j++) {
                const verify_tok_cmp tc = tcs[j];
                if (!tcs_ok[j]) {
                    rc = gguf_error_set(err, GGUF_E_NONFINITE, UINT64_MAX,
                                        "non-finite logits in chunk %lld at position %lld",
                                        (long long)(c0 + k + 1), (long long)(first + j));
                    break;
                }
                verify_ppl_add(&out->ppl_ref, tc.nll_ref);
                verify_ppl_add(&out->ppl_model, tc.nll_model);
                klds[out->n_scored++] = tc.kld;
                out->kld_sum += tc.kld;
                out->same_top += tc.same_top;
                out->dp2_sum += (tc.p_model - tc.p_ref) * (tc.p_model - tc.p_ref);
            }
            if (!rc && o->on_chunk) {
                const double ns = (double)out->n_scored;
                out->kld_mean = out->kld_sum / ns;
                out->top1 = (double)out->same_top / ns;
                out->rms_dp = sqrt(out->dp2_sum / ns);
                o->on_chunk(o->ud, c0 + k + 1, n_chunk, &out->ppl_model, out);
            }
        }
    }
    if (!rc) {
        const double ns = (double)out->n_scored;
        out->kld_mean = out->kld_sum / ns;
        out->top1 = (double)out->same_top / ns;
        out->rms_dp = sqrt(out->dp2_sum / ns);
        out->kld_max = verify_percentile(klds, out->n_scored, 100);
        out->kld_p99 = verify_percentile(klds, out->n_scored, 99);
        out->kld_median = verify_percentile(klds, out->n_scored, 50);
        for (int il = 0; il < NL; il++) {
            out->layer_cos[il] = dcos[il] / (double)n_drift;
            out->layer_rel_rmse[il] = dref[il] > 0 ? sqrt(ddiff[il] / dref[il]) : sqrt(ddiff[il]);
        }
    }
out:
    if (rc) verify_cmp_result_free(out);
    free(xr); free(xm); free(lr); free(lm); free(tok); free(klds); free(tcs); free(tcs_ok); free(dcos); free(ddiff); free(dref);
    verify_ctx_free(cr);
    verify_ctx_free(cm);
    return rc;
}
