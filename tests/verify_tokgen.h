/*
 * verify_tokgen.h - write the tokenizer.ggml.* KVs of a Hugging Face tokenizer.json (the Qwen2
 * byte-level BPE) into a GGUF being written, as convert_hf_to_gguf.py lays them out (FORMATS.md
 * 5.1): n_vocab tokens, ids nobody uses become "[PADn]" (type 5), added tokens CONTROL (3) when
 * special else USER_DEFINED (4), merges as "a b". For tests and benches.
 */
#ifndef VERIFY_TOKGEN_H
#define VERIFY_TOKGEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gguf.h"

#define QWEN_VOCAB 151936

/* Write tokenizer.ggml.* KVs of the Qwen2 tokenizer.json into w. */
static inline int vgen_write_tokenizer(gguf_writer *w, const char *json_path, int n_vocab)
{
    json_error_t je;
    json_t *root = json_load_file(json_path, 0, &je);
    if (!root) return -1;
    json_t *model = json_object_get(root, "model"), *vocab = json_object_get(model, "vocab"),
           *merges = json_object_get(model, "merges"), *added = json_object_get(root, "added_tokens");
    char **tok = calloc(n_vocab, sizeof *tok);
    int32_t *type = calloc(n_vocab, sizeof *type);
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (id >= 0 && id < n_vocab) { tok[id] = strdup(key); type[id] = 1; }
    }
    size_t i;
    json_array_foreach(added, i, val) {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        if (id < 0 || id >= n_vocab) continue;
        free(tok[id]);
        tok[id] = strdup(json_string_value(json_object_get(val, "content")));
        type[id] = json_is_true(json_object_get(val, "special")) ? 3 : 4;
    }
    gguf_str *ts = calloc(n_vocab, sizeof *ts);
    for (int id = 0; id < n_vocab; id++) {
        if (!tok[id]) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", id);
            tok[id] = strdup(pad);
            type[id] = 5;
        }
        ts[id].ptr = tok[id];
        ts[id].len = strlen(tok[id]);
    }
    size_t nm = json_array_size(merges);
    gguf_str *ms = calloc(nm, sizeof *ms);
    char **mbuf = calloc(nm, sizeof *mbuf);
    json_array_foreach(merges, i, val) {
        if (json_is_string(val)) mbuf[i] = strdup(json_string_value(val));
        else {
            const char *a = json_string_value(json_array_get(val, 0)), *b = json_string_value(json_array_get(val, 1));
            mbuf[i] = malloc(strlen(a) + strlen(b) + 2);
            sprintf(mbuf[i], "%s %s", a, b);
        }
        ms[i].ptr = mbuf[i];
        ms[i].len = strlen(mbuf[i]);
    }
    int rc = gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", 4);
    if (!rc) rc = gguf_writer_kv_str(w, "tokenizer.ggml.pre", "qwen2", 5);
    if (!rc) rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", ts, n_vocab);
    if (!rc) rc = gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_KV_INT32, type, n_vocab);
    if (!rc) rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges", ms, nm);
    for (int id = 0; id < n_vocab; id++) free(tok[id]);
    for (i = 0; i < nm; i++) free(mbuf[i]);
    free(tok); free(type); free(ts); free(ms); free(mbuf);
    json_decref(root);
    return rc;
}

#endif /* VERIFY_TOKGEN_H */
