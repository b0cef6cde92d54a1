/*
 * tokenizer.h - the Qwen2 byte-level BPE tokenizer of the verify module (vtok_).
 *
 * One tokenizer, two sources: a GGUF's tokenizer.ggml.* arrays (what llama.cpp reads) or a
 * Hugging Face tokenizer.json (what transformers reads). Both give the same ids for the same
 * text. The pipeline, in order, is the one of HF tokenizers for Qwen2 (and of llama.cpp's
 * "qwen2" pre-tokenizer):
 *
 *   1. added tokens are split out of the raw text first (longest match wins at each byte);
 *   2. every other span is NFC-normalised (utf8proc);
 *   3. split into words by the Qwen2 pre-tokenizer regex (PCRE2, UTF + UCP, JIT):
 *        (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
 *        |\s*[\r\n]+|\s+(?!\S)|\s+
 *   4. each word's bytes go through GPT-2's byte->unicode map and are merged by BPE, lowest
 *      merge rank first, leftmost first among equal ranks.
 *
 * No BOS/EOS is ever added: Qwen2 has add_bos = false, and llama.cpp's test vectors and
 * llama-perplexity (FORMATS.md 6.1) both tokenize without one.
 *
 * Step 2 follows tokenizer.json's NFC normalizer on both paths. llama.cpp's BPE does not
 * normalise, so for text that is not already NFC the ids can differ from llama.cpp's (never for
 * WikiText-2, which is NFC throughout, nor for llama.cpp's qwen2 test vectors).
 *
 * Added-token policy (parse_special): llama.cpp's common_tokenize(..., parse_special=false),
 * which both llama-perplexity and test-tokenizer-0 use, still matches USER_DEFINED added tokens
 * (type 4, e.g. <think>, <tool_call>, <|fim_prefix|>) but treats CONTROL tokens (type 3, e.g.
 * <|im_start|>, <|endoftext|>) as plain text. parse_special=true matches both kinds. From
 * tokenizer.json an added token is CONTROL if it has "special": true or looks like <|...|>, else
 * USER_DEFINED (the rule convert_hf_to_gguf.py applies). The 47 llama.cpp vectors contain no added
 * token, so they come out the same either way.
 *
 * Text policy: input must be valid UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF); anything else is rejected with GGUF_E_STRING and the byte offset of the first bad
 * byte in err->offset and in the message. Nothing is replaced silently.
 *
 * Thread safety: a vtok is immutable after construction; any number of threads may call
 * vtok_encode/vtok_decode on the same vtok at once (each call keeps its own word cache).
 * Library code: nothing here prints or exits.
 */
#ifndef VERIFY_TOKENIZER_H
#define VERIFY_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gguf.h"

typedef struct vtok vtok;

/* Token types as stored in tokenizer.ggml.token_type (llama.cpp's values). */
enum {
    VTOK_TYPE_NORMAL       = 1,
    VTOK_TYPE_UNKNOWN      = 2,
    VTOK_TYPE_CONTROL      = 3,
    VTOK_TYPE_USER_DEFINED = 4,
    VTOK_TYPE_UNUSED       = 5,
    VTOK_TYPE_BYTE         = 6,
};

/*
 * Build a tokenizer from a GGUF's tokenizer.ggml.{model,pre,tokens,token_type,merges}.
 * model must be "gpt2" and pre "qwen2" (others: GGUF_E_TYPE naming the value); missing keys give
 * GGUF_E_NOT_FOUND, keys of the wrong type GGUF_E_WRONG_TYPE, token_type of another length than
 * tokens GGUF_E_COUNT. token_type may be absent (all NORMAL). Everything needed is copied: f may
 * be closed right after. Returns NULL and fills err on failure; the caller vtok_free()s the result.
 */
vtok *vtok_from_gguf(const gguf_file *f, gguf_error *err);

/*
 * Build a tokenizer from a Hugging Face tokenizer.json (model.type "BPE", model.vocab,
 * model.merges as "a b" strings or [a, b] pairs, added_tokens, an NFC or absent normalizer, and a
 * Split pre-tokenizer whose Regex is compiled as is). Ids between the vocab and the added tokens
 * that nobody uses stay empty (vtok_token gives NULL). Errors: GGUF_E_IO (cannot open),
 * GGUF_E_STRING (JSON syntax, with line/column), GGUF_E_NOT_FOUND / GGUF_E_WRONG_TYPE (missing or
 * mistyped member), GGUF_E_TYPE (not a byte-level BPE), GGUF_E_COUNT (ids out of range or
 * duplicated). Returns NULL and fills err on failure.
 */
vtok *vtok_from_json(const char *path, gguf_error *err);

/* Free everything. NULL-safe. */
void vtok_free(vtok *t);

/* Number of token ids (tokens array length for GGUF; max id + 1 for tokenizer.json). */
int64_t vtok_n_vocab(const vtok *t);

/*
 * The stored text of token id (byte-level form, e.g. "Ġthe" for " the"; added tokens as
 * written), with its length in *len (if len is non-NULL). A NUL follows the len bytes, but use
 * len: a stored text may itself contain NUL. NULL for an id out of range or unused.
 * Valid until vtok_free(t).
 */
const char *vtok_token(const vtok *t, int32_t id, size_t *len);

/* Token type (VTOK_TYPE_*) of id, or 0 for an id out of range or unused. */
int vtok_token_type(const vtok *t, int32_t id);

/* Id of the token whose stored text is exactly s (len bytes), or -1. */
int32_t vtok_find(const vtok *t, const char *s, size_t len);

/*
 * Encode text (len bytes, need not be NUL-terminated, may contain NUL) into token ids. See the
 * file comment for parse_special and the UTF-8 policy. On success *ids is malloc'ed (the caller
 * free()s it; it is non-NULL even when *n is 0) and *n is the count. Returns 0, or GGUF_E_STRING
 * (invalid UTF-8, err->offset = byte offset) / GGUF_E_NOMEM, with *ids = NULL and *n = 0.
 */
int vtok_encode(const vtok *t, const char *text, size_t len, bool parse_special,
                int32_t **ids, size_t *n, gguf_error *err);

/* Like vtok_encode with nthreads workers (OpenMP when built with it; <= 0 means all CPUs). The
 * text is cut only where a word boundary is certain, so the ids are identical to vtok_encode. */
int vtok_encode_mt(const vtok *t, const char *text, size_t len, bool parse_special,
                   int nthreads, int32_t **ids, size_t *n, gguf_error *err);

/*
 * Decode ids back to bytes: normal tokens through the inverse GPT-2 byte map, added tokens
 * (CONTROL, USER_DEFINED) as their text. On success *out is malloc'ed and NUL-terminated (the
 * caller free()s it) and *len excludes the NUL. Returns 0, or GGUF_E_NOT_FOUND for an id out of
 * range or unused (the message names the id and its index).
 */
int vtok_decode(const vtok *t, const int32_t *ids, size_t n, char **out, size_t *len, gguf_error *err);

#endif /* VERIFY_TOKENIZER_H */
