/*
 * textio.h - text input for gguf-verify: read a file that must be UTF-8, and turn text into
 * token ids with the model's own tokenizer (verify/tokenizer.h over the GGUF tokenizer KVs, or
 * tokenizer.json of an HF directory).
 *
 * Policy for bad text: input that is not valid UTF-8 is rejected (GGUF_E_STRING, the message
 * names the file and the byte offset of the first bad sequence); nothing is replaced silently.
 * Internal: never prints or exits.
 */
#ifndef VERIFY_TEXTIO_H
#define VERIFY_TEXTIO_H

#include <stddef.h>
#include <stdint.h>
#include "verify/model.h"

/* Offset of the first invalid UTF-8 sequence in s[0..len), or -1 if all of it is valid
 * (no overlongs, no surrogates, nothing above U+10FFFF). */
int64_t vtext_utf8_invalid(const char *s, size_t len);

/* Read a whole file into *buf (NUL-terminated, free() it) and check it is UTF-8. */
int vtext_read_file(const char *path, char **buf, size_t *len, gguf_error *err);

/*
 * Tokenize text (what: the file name or "--prompt", for messages) as llama.cpp would for
 * perplexity: special tokens parsed, no BOS for qwen2. *ids is malloc'd (free it).
 */
int vtext_tokenize(const verify_model *m, const char *what, const char *text, size_t len,
                   int32_t **ids, int64_t *n, gguf_error *err);

#endif /* VERIFY_TEXTIO_H */
