/*
 * eval.h - chunked evaluation of token streams, as llama-perplexity does it (FORMATS.md 6.1):
 * chunks of ctx tokens, each evaluated from position 0 with no state carried over, the first
 * token replaced by BOS when the model asks for one (qwen2 does not), and only the second half
 * scored: logits at positions ctx/2 .. ctx-2 predict the tokens after them.
 *
 * Memory: chunks are processed in groups, layer by layer over the whole group (hidden states
 * kept, each layer's weights released after use), so only one layer of weights per model needs
 * to be resident; the LM head runs on the scored rows only, one chunk at a time.
 * Internal: never prints or exits; progress goes through a callback.
 */
#ifndef VERIFY_EVAL_H
#define VERIFY_EVAL_H

#include <stdint.h>
#include "verify/metrics.h"
#include "verify/model.h"

typedef struct verify_cmp_result verify_cmp_result;

typedef struct verify_eval_opts {
    int64_t     ctx;          /* chunk length (>= 4) */
    int64_t     max_chunks;   /* 0: all whole chunks */
    int32_t     bos;          /* token that replaces each chunk's first token, or -1 */
    const char *what;         /* name of the text, for messages */
    uint64_t    group_bytes;  /* hidden-state budget per model for a chunk group (0: 512 MiB) */
    /* Called after each chunk is scored (k counts from 1). cmp is NULL for perplexity. */
    void      (*on_chunk)(void *ud, int64_t k, int64_t n_chunk, const verify_ppl *ppl,
                          const verify_cmp_result *cmp);
    void       *ud;
} verify_eval_opts;

/* Read the BOS policy of a model: the BOS id if the model's tokenizer adds one, else -1. */
int32_t verify_model_bos(const verify_model *m);

/* Number of chunks that will be scored, or GGUF_E_USAGE (err: "'what': N tokens is too short...")
 * when the stream has fewer than 2*ctx tokens. */
int verify_eval_chunks(const verify_eval_opts *o, int64_t n_tokens, int64_t *n_chunk, gguf_error *err);

/* Perplexity of a token stream. */
int verify_eval_perplexity(const verify_model *m, const int32_t *tokens, int64_t n_tokens,
                           const verify_eval_opts *o, verify_ppl *out, gguf_error *err);

struct verify_cmp_result {
    verify_ppl ppl_ref, ppl_model;
    int64_t    n_chunk, n_scored;
    double     kld_sum, dp2_sum;
    int64_t    same_top;
    /* filled at the end */
    double     kld_mean, kld_median, kld_p99, kld_max, top1, rms_dp;
    int        n_layer;
    double    *layer_cos;       /* mean over tokens of the cosine of hidden states after layer i */
    double    *layer_rel_rmse;  /* sqrt(sum (model-ref)^2 / sum ref^2) after layer i */
};

/* Compare model against reference over the same chunks. The models must have the same shape
 * (GGUF_E_SHAPE otherwise). out is filled (free its arrays with verify_cmp_result_free). */
int  verify_eval_compare(const verify_model *ref, const verify_model *m, const int32_t *tokens,
                         int64_t n_tokens, const verify_eval_opts *o, verify_cmp_result *out,
                         gguf_error *err);
void verify_cmp_result_free(verify_cmp_result *r);

#endif /* VERIFY_EVAL_H */
