/*
 * model.h - a read-only view of a Qwen2 model for the forward pass: hyperparameters and the
 * weight tensors, checked for shape and type, pointing into the mmapped file(s).
 *
 * Sources: a GGUF file (or the first file of a split set), opened with libgguf; or a Hugging
 * Face safetensors directory, when the HF reader (convert/hfmodel.h) is built in.
 * Internal module: never prints or exits. Errors come back as gguf_status codes with a one-line
 * message in the caller's gguf_error naming the file and the key or tensor at fault.
 */
#ifndef VERIFY_MODEL_H
#define VERIFY_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "gguf.h"

/* One weight matrix in ggml orientation: nrows rows (ne[1], output features) of ncols
 * elements (ne[0], input features), each row row_bytes long, rows contiguous. */
typedef struct verify_weight {
    const char    *name;       /* tensor name (GGUF naming), owned by the model */
    int            type;       /* gguf_type */
    int64_t        ncols;      /* K: ne[0] */
    int64_t        nrows;      /* M: ne[1] */
    uint64_t       row_bytes;
    const uint8_t *data;       /* nrows * row_bytes bytes, in the mapping */
    const void    *src;        /* opaque: what verify_model_release() gives back to the kernel */
} verify_weight;

typedef struct verify_hparams {
    int    n_layer;
    int    n_embd;
    int    n_ff;
    int    n_head;
    int    n_head_kv;
    int    head_dim;     /* key_length, else n_embd / n_head */
    int    n_rot;        /* rope.dimension_count, else head_dim */
    int    n_vocab;      /* rows of token_embd */
    int    n_ctx_train;  /* context_length (0 if absent) */
    double rope_theta;
    double rms_eps;
    bool   tied;         /* no output.weight: the LM head is token_embd */
} verify_hparams;

typedef struct verify_layer {
    verify_weight wq, wk, wv, wo, gate, up, down;
    float *attn_norm;    /* [n_embd] */
    float *ffn_norm;     /* [n_embd] */
    float *bq;           /* [n_head*head_dim] */
    float *bk, *bv;      /* [n_head_kv*head_dim] */
} verify_layer;

typedef struct verify_model {
    verify_hparams hp;
    char          *path;
    verify_weight  tok_embd;   /* [n_embd] x n_vocab */
    verify_weight  output;     /* LM head; equals tok_embd when tied */
    float         *output_norm;
    verify_layer  *layers;     /* n_layer */
    gguf_file     *gf;         /* GGUF source, or NULL */
    void          *hf;         /* HF source, or NULL */
} verify_model;

/* True if the forward pass can read weights of this type. */
bool verify_type_supported(int type);

/*
 * Open a model: a GGUF file (split sets through their first file) or an HF safetensors
 * directory. Checks the architecture (qwen2 only), the hyperparameters, the presence, shape and
 * type of every tensor, and that small tensors (norms, biases) are finite; those are copied to
 * float arrays. Large weights stay in the mapping. Returns 0 and *out (close with
 * verify_model_close), or a negative gguf_status with err filled.
 */
int  verify_model_open(const char *path, verify_model **out, gguf_error *err);
void verify_model_close(verify_model *m);   /* NULL-safe */

/* Tell the kernel we are done with a weight's bytes for now (keeps RSS flat while streaming).
 * The weight stays usable: later reads fault the pages back in. */
void verify_model_release(const verify_model *m, const verify_weight *w);
/* Release every large weight of layer il (-1: embeddings and LM head). */
void verify_model_release_layer(const verify_model *m, int il);

/* Sum of the byte sizes of all large weights (for reports). */
uint64_t verify_model_weight_bytes(const verify_model *m);

/* Same architecture shape (layers, widths, heads, vocabulary): compare needs it. Returns 0 or
 * GGUF_E_SHAPE with err naming the first difference. */
int verify_model_same_shape(const verify_model *a, const verify_model *b, gguf_error *err);

#endif /* VERIFY_MODEL_H */
