/*
 * hfmodel.h - a Hugging Face Qwen2 checkpoint directory read as a model: config.json
 * hyperparameters, and the tensors of every safetensors shard under their GGUF names, with
 * ggml shapes and types and data pointers straight into the read-only mmapped shards.
 *
 * Contract
 *  - conv_hf_open() validates everything before it returns: config.json (architecture must be
 *    Qwen2ForCausalLM, required keys present with sane values), model.safetensors.index.json
 *    (every listed shard present, every listed tensor in its shard and nothing unlisted), every
 *    shard header (see safetensors.h), the tensor set (exactly the tensors num_hidden_layers
 *    implies, lm_head.weight optional only when tie_word_embeddings is true) and every shape
 *    against the config. On failure it returns a negative status and a one-line message naming
 *    the file and the key or tensor.
 *  - Tensors come in the order convert_hf_to_gguf.py writes them (FORMATS.md 5.2): shards in
 *    sorted file-name order, inside a shard sorted byte-wise by HF name.
 *  - All pointers (names, data) stay valid until conv_hf_close(). Data is mmapped read-only:
 *    call conv_hf_release() when done with a tensor so resident memory stays flat.
 *  - Never prints, never exits. Destructors accept NULL.
 */
#ifndef CONV_HFMODEL_H
#define CONV_HFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gguf.h"

/* Status codes beyond gguf_status (the message in gguf_error says more). */
enum {
    CONV_E_JSON     = -64,  /* a JSON file does not parse (message has line/column) */
    CONV_E_ARCH     = -65,  /* config.json names another architecture */
    CONV_E_CONFIG   = -66,  /* config.json key missing or with an insane value */
    CONV_E_LFS      = -67,  /* a shard is a Git LFS pointer, not the data */
    CONV_E_TENSORS  = -68,  /* tensor missing / unexpected / wrong shape / wrong dtype / index mismatch */
    CONV_E_VOCAB    = -69,  /* tokenizer files unusable */
};
/* Text of a status: CONV_E_* or any gguf_status; never NULL. */
const char *conv_status_str(int code);

typedef struct conv_hparams {
    char    arch[64];          /* "Qwen2ForCausalLM" */
    int64_t n_layer;           /* num_hidden_layers */
    int64_t n_embd;            /* hidden_size */
    int64_t n_ff;              /* intermediate_size */
    int64_t n_head;            /* num_attention_heads */
    int64_t n_head_kv;         /* num_key_value_heads (= n_head when absent) */
    bool    has_n_head_kv;     /* config.json has num_key_value_heads */
    int64_t head_dim;          /* head_dim, else n_embd / n_head */
    bool    has_head_dim;      /* config.json has head_dim */
    int64_t n_vocab;           /* vocab_size */
    int64_t n_ctx;             /* max_position_embeddings */
    double  rms_eps;           /* rms_norm_eps */
    double  rope_theta;        /* rope_theta (10000 when absent) */
    bool    has_rope_theta;
    bool    tied;              /* no lm_head.weight: output shares token_embd */
    char    rope_scaling[16];  /* "" or "linear" / "yarn" (rope_scaling.{rope_,}type) */
    double  rope_factor;
    int64_t rope_orig_ctx;     /* original_max_position_embeddings, 0 if absent */
    int     src_type;          /* GGUF_TYPE_* of the first 2-D tensor (F32/F16/BF16) */
} conv_hparams;

typedef struct conv_tensor {
    const char *name;              /* GGUF name: "blk.0.attn_q.weight" (NUL-terminated) */
    const char *hf_name;           /* HF name: "model.layers.0.self_attn.q_proj.weight" */
    uint32_t    n_dims;            /* 1 or 2 */
    int64_t     ne[GGUF_MAX_DIMS]; /* ggml order (HF shape reversed), unused dims 1 */
    int         type;              /* source type: GGUF_TYPE_F32, F16 or BF16 */
    uint64_t    size;              /* bytes */
    const void *data;              /* into the read-only mmap of its shard, size bytes */
    uint32_t    shard;             /* index into conv_hf_shard_path() */
    int         fd;                /* the shard's file descriptor (for gguf_writer_copy_fd) */
    uint64_t    file_offset;       /* absolute offset of the data in the shard */
} conv_tensor;

typedef struct conv_hf_model conv_hf_model;

/* Open and validate a model directory. Returns 0 and *out (caller owns: conv_hf_close), or a
 * negative status with err filled and *out NULL. */
int  conv_hf_open(const char *dir, conv_hf_model **out, gguf_error *err);
void conv_hf_close(conv_hf_model *m);

const char         *conv_hf_dir(const conv_hf_model *m);
const conv_hparams *conv_hf_hparams(const conv_hf_model *m);
int64_t             conv_hf_n_tensors(const conv_hf_model *m);
const conv_tensor  *conv_hf_tensor(const conv_hf_model *m, int64_t i);
/* Index of the tensor with this GGUF name, or -1. */
int64_t             conv_hf_find_tensor(const conv_hf_model *m, const char *gguf_name);
uint32_t            conv_hf_n_shards(const conv_hf_model *m);
const char         *conv_hf_shard_path(const conv_hf_model *m, uint32_t i);
/* Total bytes of tensor data over all shards. */
uint64_t            conv_hf_data_bytes(const conv_hf_model *m);
/* Drop the pages of a tensor's data from memory (madvise DONTNEED). Safe with any tensor. */
void                conv_hf_release(const conv_hf_model *m, const conv_tensor *t);
/* 0, or GGUF_E_CHANGED if a shard changed size since open (mmap reads would SIGBUS). */
int                 conv_hf_check_unchanged(const conv_hf_model *m, gguf_error *err);

/* Parse and check a config.json held in memory (name used in messages): the same checks as
 * conv_hf_open applies. Returns 0 with *hp filled, or a negative status with err set. */
int conv_hf_parse_config(const char *name, const char *buf, size_t len, conv_hparams *hp, gguf_error *err);

/* Map an HF tensor name to its GGUF name (FORMATS.md 5.2). Returns 1 and writes buf, 0 if the
 * tensor is dropped by convert (rotary_emb.inv_freq, ...), -1 if the name is not a Qwen2 tensor.
 * *layer receives the layer number (-1 for none). */
int conv_hf_map_name(const char *hf_name, char *buf, size_t size, int64_t *layer);

#endif /* CONV_HFMODEL_H */
