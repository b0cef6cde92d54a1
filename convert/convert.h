/*
 * convert.h - HF Qwen2 directory -> GGUF: the tokenizer metadata (vocab.c), the general and
 * architecture metadata (meta.c) and the tensor plan (plan.c: output types, sizes, splits, and
 * the streaming conversion of one tensor into a gguf_writer).
 *
 * Everything here is checked up front (conv_vocab_load, conv_meta_load, conv_plan_new) so that a
 * tool can refuse bad input before it opens any output. Never prints or exits; destructors
 * accept NULL; pointers returned stay valid until the owning object is freed.
 */
#ifndef CONV_CONVERT_H
#define CONV_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gguf.h"
#include "convert/hfmodel.h"

/* ---------------------------------------------------------------- tokenizer (vocab.c) */

/* GGUF token types (tokenizer.ggml.token_type) */
enum { CONV_TOK_NORMAL = 1, CONV_TOK_UNKNOWN = 2, CONV_TOK_CONTROL = 3, CONV_TOK_USER_DEFINED = 4,
       CONV_TOK_UNUSED = 5, CONV_TOK_BYTE = 6 };

typedef struct conv_vocab conv_vocab;

/* The inputs of the tokenizer metadata, as file contents (any may be NULL = file absent,
 * except tok_json). `name_*` are used in messages. Parsing from memory lets the fuzzer drive it. */
typedef struct conv_vocab_src {
    const char *tok_json;     size_t tok_len;      const char *tok_name;     /* tokenizer.json */
    const char *tcfg_json;    size_t tcfg_len;     const char *tcfg_name;    /* tokenizer_config.json */
    const char *cfg_json;     size_t cfg_len;      const char *cfg_name;     /* config.json */
    const char *jinja;        size_t jinja_len;                              /* chat_template.jinja */
    const char *ctjson;       size_t ctjson_len;   const char *ctjson_name;  /* chat_template.json */
} conv_vocab_src;

/*
 * Build the tokenizer metadata the way convert_hf_to_gguf.py does for a Qwen2 BPE vocab
 * (FORMATS.md 5.1 item 7): n_vocab tokens (ids the tokenizer lacks become "[PADn]", UNUSED),
 * token types, merges, special ids in discovery order, add_bos/add_eos when tokenizer_config
 * has booleans, the chat template. Fails (CONV_E_VOCAB / CONV_E_JSON) naming the file and key.
 */
int  conv_vocab_parse(const conv_vocab_src *src, int64_t n_vocab, conv_vocab **out, gguf_error *err);
/* Read the files from a model directory and parse them. */
int  conv_vocab_load(const char *dir, int64_t n_vocab, conv_vocab **out, gguf_error *err);
void conv_vocab_free(conv_vocab *v);

int64_t     conv_vocab_n_tokens(const conv_vocab *v);
const char *conv_vocab_token(const conv_vocab *v, int64_t id);   /* NUL-terminated */
int32_t     conv_vocab_token_type(const conv_vocab *v, int64_t id);
int64_t     conv_vocab_n_merges(const conv_vocab *v);
const char *conv_vocab_chat_template(const conv_vocab *v);        /* NULL if none */
/* Special token id by kind ("bos", "eos", "unk", "sep", "pad", "cls", "mask"), or -1. */
int64_t     conv_vocab_special(const conv_vocab *v, const char *kind);

/* Append the tokenizer.* KVs, in convert_hf_to_gguf.py's order. */
int conv_vocab_write(const conv_vocab *v, gguf_writer *w, gguf_error *err);

/* ---------------------------------------------------------------- metadata (meta.c) */

/* One general.base_model.{i}.* / general.dataset.{i}.* entry; NULL fields are absent. */
typedef struct conv_meta_src {
    char *name, *author, *version, *organization, *description, *url, *doi, *uuid, *repo_url;
} conv_meta_src;

/* The general.* metadata gguf-py's Metadata.load + ModelBase.prepare_metadata would write (see
 * the comment at the top of meta.c for what is reproduced and what is left out). Every char *
 * is malloc'd and owned (NULL = absent); free with conv_meta_free. */
typedef struct conv_meta {
    char   *name;               /* general.name, never NULL after a successful load */
    char    size_label[64];     /* general.size_label, "" if none */
    int64_t n_params;           /* total elements of all tensors written */
    /* general.sampling.* from generation_config.json (has_* false = absent) */
    bool    has_top_k, has_top_p, has_min_p, has_temp, has_penalty_repeat;
    int32_t top_k;
    float   top_p, min_p, temp, penalty_repeat;
    /* model card (README.md front matter), config.json _name_or_path and directory name */
    char   *author, *version, *organization, *finetune, *basename, *description;
    char   *license, *license_name, *license_link;
    char   *source_url, *source_doi, *source_uuid, *source_repo_url;
    bool    has_base_models, has_datasets;   /* count keys are written (even 0) when true */
    int     n_base_models, n_datasets, n_tags, n_languages;
    conv_meta_src *base_models, *datasets;
    char  **tags, **languages;
    /* things in README.md that were ignored, for the tool to print as warnings */
    int     n_warnings;
    char    warnings[4][256];
} conv_meta;

/* Fill *out for model m: conv_meta_load_dir(conv_hf_dir(m), <elements of every tensor>, ...). */
int conv_meta_load(const conv_hf_model *m, conv_meta *out, gguf_error *err);
/* The metadata of model directory `dir` holding n_params parameters: README.md front matter,
 * config.json "_name_or_path", the directory name, generation_config.json. A README that cannot
 * be parsed (or parts of it) is ignored with a warning in out->warnings; an unreadable file or a
 * broken generation_config.json fails (GGUF_E_IO / CONV_E_JSON / CONV_E_CONFIG). On failure
 * *out holds nothing to free. */
int conv_meta_load_dir(const char *dir, int64_t n_params, conv_meta *out, gguf_error *err);
void conv_meta_free(conv_meta *meta);

/* gguf-py's size label of a parameter count: "494M", "33B", "1.5B", ... */
void conv_size_label(int64_t n_params, char *buf, size_t size);
/* gguf-py's Metadata.id_to_title: "qwq-32b-preview" -> "Qwq 32b Preview" rules. */
void conv_id_to_title(const char *id, char *buf, size_t size);

/* gguf-py's Metadata.get_model_id_components(model_id, total_params): malloc'd strings, NULL =
 * None. Returns 0 or GGUF_E_NOMEM. */
typedef struct conv_id_parts {
    char *full, *org, *basename, *finetune, *version, *size_label;
} conv_id_parts;
int conv_model_id_components(const char *model_id, int64_t total_params, conv_id_parts *out);
void conv_id_parts_free(conv_id_parts *p);

/* ---- a YAML subset for model-card front matter (yaml.c; its header comment lists the subset) */
#define CONV_E_YAML (-70)
typedef enum { CONV_Y_NULL, CONV_Y_STR, CONV_Y_LIST, CONV_Y_MAP, CONV_Y_BAD } conv_ytype;
typedef struct conv_ynode {
    conv_ytype type;
    int        line;               /* 1-based line of the text where it starts */
    char      *str;                /* CONV_Y_STR */
    int        n;                  /* LIST / MAP: number of items */
    struct conv_ynode **items;
    char     **keys;               /* MAP */
} conv_ynode;
/* Parse `text` (no "---" lines needed; they are skipped). 0 and *out (free with conv_ynode_free),
 * CONV_E_YAML with *err_line and msg set, or GGUF_E_NOMEM. */
int conv_yaml_parse(const char *text, size_t len, conv_ynode **out, int *err_line, char *msg, size_t msg_size);
void conv_ynode_free(conv_ynode *n);
/* The value of `key` in a MAP node, NULL if absent or not a map. */
const conv_ynode *conv_ynode_get(const conv_ynode *map, const char *key);

/* Append every KV of the converted file, in convert_hf_to_gguf.py's order (FORMATS.md 5.1). */
int conv_write_kvs(gguf_writer *w, const conv_hf_model *m, const conv_meta *meta, const conv_vocab *v,
                   int file_type, gguf_error *err);

/* ---------------------------------------------------------------- plan (plan.c) */

/* Output choices of gguf-convert --type */
enum { CONV_OUT_F32, CONV_OUT_F16, CONV_OUT_BF16, CONV_OUT_Q8_0, CONV_OUT_Q4_K_M, CONV_OUT_SOURCE };
/* Parse "f32", "f16", "bf16", "q8_0", "q4_k_m" (case-insensitive); -1 if unknown. */
int conv_out_from_name(const char *s);

typedef struct conv_plan_tensor {
    const conv_tensor *src;
    int      type;         /* output gguf_type */
    uint64_t size;         /* output bytes (unpadded) */
    int      split;        /* which output file (0 when not splitting) */
} conv_plan_tensor;

typedef struct conv_plan {
    int               out;         /* CONV_OUT_* resolved (never SOURCE) */
    int               file_type;   /* general.file_type */
    int64_t           n;
    conv_plan_tensor *t;           /* in output order (= convert order) */
    uint64_t          data_bytes;  /* sum of PAD(size, 32) */
    int               n_splits;    /* 1 when not splitting */
    int64_t          *split_n;     /* tensors per split */
    int               n_fallback;  /* tensors that took a fallback quant type */
} conv_plan;

/* Choose output types (q8_0/q4_k_m: quant_plan_types, as llama-quantize on the conversion),
 * sizes and splits (gguf-split's rules, FORMATS.md 4.4; 0 = no limit). */
int  conv_plan_new(const conv_hf_model *m, int out, uint64_t split_max_bytes, int64_t split_max_tensors,
                   conv_plan **plan, gguf_error *err);
void conv_plan_free(conv_plan *p);

/* Stream one tensor's data into w (after gguf_writer_add_tensor/begin_data): unchanged bytes via
 * gguf_writer_copy_fd, else converted 8M elements at a time (quant_convert_rows on
 * nthreads). Calls gguf_writer_end_tensor. *done is advanced by source bytes as they go,
 * and progress(ctx, *done) is called after each chunk when non-NULL. */
int conv_write_tensor(gguf_writer *w, const conv_hf_model *m, const conv_plan_tensor *t, int nthreads,
                      uint64_t *done, void (*progress)(void *ctx, uint64_t done), void *ctx, gguf_error *err);

#endif /* CONV_CONVERT_H */
