/*
 * metrics.h - scoring of logits as llama-perplexity does it (FORMATS.md 6), and the statistics of
 * a model-vs-reference comparison (KL divergence, top-1 agreement, delta-p, per-layer drift).
 * Internal: never prints or exits.
 */
#ifndef VERIFY_METRICS_H
#define VERIFY_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* Perplexity accumulator: sums of NLL and NLL^2 in double over count scored tokens. */
typedef struct verify_ppl {
    double  nll, nll2;
    int64_t count;
} verify_ppl;

/*
 * Negative log-likelihood of token tok under one row of logits, exactly as llama-perplexity:
 * max in float, terms expf(l_i - max) summed in double, log in double. Returns NaN if the row
 * holds a NaN or Inf (the caller must not report such a number).
 */
double verify_nll(const float *logits, int64_t n_vocab, int32_t tok);
void   verify_ppl_add(verify_ppl *p, double nll);
/* exp(mean NLL), and its uncertainty ppl*sqrt((E[nll^2]-E[nll]^2)/(count-1)) (0 if count < 2). */
double verify_ppl_value(const verify_ppl *p);
double verify_ppl_error(const verify_ppl *p);

/* Per-token comparison of reference logits r and model logits q (both n_vocab floats). */
typedef struct verify_tok_cmp {
    double kld;         /* sum_i p_i (log p_i - log q_i), in double, >= 0 */
    bool   same_top;    /* argmax (first maximum) equal */
    double p_ref, p_model;   /* probability of the correct token */
    double nll_ref, nll_model;
} verify_tok_cmp;

/* Returns 0, or -1 if either row has a NaN/Inf. */
int verify_compare_row(const float *r, const float *q, int64_t n_vocab, int32_t tok, verify_tok_cmp *out);

/* Percentile (0..100) of n values, sorted in place, linear interpolation between neighbours. */
double verify_percentile(double *v, int64_t n, double pct);

#endif /* VERIFY_METRICS_H */
