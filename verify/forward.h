/*
 * forward.h - the Qwen2 forward pass on the CPU, organised so a caller can stream a model layer
 * by layer: hidden states of many sequences stay in the caller's buffer, a layer is applied to
 * all of them, and then the layer's weights can be released before the next one is touched.
 *
 * Graph (FORMATS.md 5.2), per layer:
 *   h = x + o_proj(attn(rope(q(rms(x))), rope(k(rms(x))), v(rms(x))))     q,k,v with bias
 *   x = h + down(silu(gate(rms(h))) * up(rms(h)))
 * then rms(x) * output_norm -> LM head (output.weight or the tied token_embd).
 * RoPE is NEOX style (pairs i, i + head_dim/2), theta from the model; attention is causal with
 * scale 1/sqrt(head_dim) and grouped KV heads. All arithmetic is float32 with float64 where
 * sums are long (RMS norms, softmax denominators), positions 0..seq_len-1 in every sequence.
 * Internal: never prints or exits.
 */
#ifndef VERIFY_FORWARD_H
#define VERIFY_FORWARD_H

#include <stdint.h>
#include "verify/model.h"

typedef struct verify_ctx verify_ctx;

/* Work space for sequences up to max_seq_len tokens. Returns NULL when out of memory. */
verify_ctx *verify_ctx_new(const verify_model *m, int64_t max_seq_len);
void        verify_ctx_free(verify_ctx *c);   /* NULL-safe */

/* x[i][0..n_embd) = embedding of tokens[i], i < n. Token ids must be < n_vocab (checked:
 * GGUF_E_SHAPE naming the position). */
int verify_embed(verify_ctx *c, const int32_t *tokens, int64_t n, float *x, gguf_error *err);

/*
 * Apply layer il in place to x: n_seq sequences of seq_len tokens each, stored one after the
 * other (x has n_seq*seq_len rows of n_embd floats). Fails with GGUF_E_NONFINITE if the layer
 * output holds a NaN or Inf (err names the layer, sequence and position).
 */
int verify_layer_forward(verify_ctx *c, int il, float *x, int64_t n_seq, int64_t seq_len,
                         gguf_error *err);

/*
 * The same, for a caller that needs only rows row0..seq_len-1 of each sequence afterwards (the
 * last layer before scoring): all rows still feed the attention keys and values, but the output
 * projection, the FFN and the finiteness check run on rows >= row0 only; rows below row0 are
 * left unspecified. row0 = 0 is verify_layer_forward.
 */
int verify_layer_forward_rows(verify_ctx *c, int il, float *x, int64_t n_seq, int64_t seq_len,
                              int64_t row0, gguf_error *err);

/*
 * LM head: for each of the n rows of x (row stride n_embd), final RMS norm then the output
 * projection into logits[n][n_vocab]. x is not modified.
 */
int verify_head(verify_ctx *c, const float *x, int64_t n, float *logits, gguf_error *err);

/* Convenience: logits of one sequence. out_rows selects positions: all positions when
 * all_rows, else only the last; logits must hold that many rows of n_vocab floats.
 * Releases each layer's weights after use. */
int verify_run_sequence(verify_ctx *c, const int32_t *tokens, int64_t n, bool all_rows,
                        float *logits, gguf_error *err);

#endif /* VERIFY_FORWARD_H */
