/*
 * fuzz_hfjson.c - libFuzzer harness for the JSON inputs of a Hugging Face directory:
 * config.json (conv_hf_parse_config), tokenizer.json, tokenizer_config.json and
 * chat_template.json (conv_vocab_parse).
 *
 * Byte 0 picks the target, the rest is the file:
 *   0: config.json;  1: tokenizer.json (vocab_size 256 + byte 1);
 *   2: tokenizer_config.json, config.json and chat_template.json all = the payload, with a fixed
 *      small valid tokenizer.json.
 * Properties: failure comes with a one-line message; an accepted config has sane values; an
 * accepted vocab has exactly vocab_size non-NULL tokens with valid types and writes its KVs
 * through a gguf_writer without error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "convert/convert.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_hfjson: property failed: %s\n", what);
        abort();
    }
}

static const char tiny_tok[] =
    "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3},\"merges\":[[\"a\",\"b\"]]},"
    "\"added_tokens\":[{\"id\":4,\"content\":\"<|endoftext|>\",\"special\":true},"
    "{\"id\":5,\"content\":\"<tool_call>\",\"special\":false}],"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|"
    "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}}]}}";

static void one_line(const gguf_error *e, int rc)
{
    check(e->code == rc && e->msg[0] && !strchr(e->msg, '\n'), "one-line error");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int sel = data[0] % 3;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    gguf_error err;
    if (sel == 0) {
        conv_hparams hp;
        int rc = conv_hf_parse_config("config.json", p, n, &hp, &err);
        if (rc) { one_line(&err, rc); return 0; }
        check(hp.n_layer > 0 && hp.n_embd > 0 && hp.n_head > 0 && hp.n_head_kv > 0 && hp.n_head % hp.n_head_kv == 0 &&
              hp.head_dim > 0 && hp.n_vocab > 0 && hp.rms_eps > 0 && hp.rms_eps < 1, "sane hparams");
        return 0;
    }
    conv_vocab_src src;
    memset(&src, 0, sizeof src);
    int64_t n_vocab;
    if (sel == 1) {
        src.tok_json = p;
        src.tok_len = n;
        n_vocab = 256 + data[1];
    } else {
        src.tok_json = tiny_tok;
        src.tok_len = sizeof tiny_tok - 1;
        src.tcfg_json = src.cfg_json = src.ctjson = p;
        src.tcfg_len = src.cfg_len = src.ctjson_len = n;
        n_vocab = 8;
    }
    conv_vocab *v = NULL;
    int rc = conv_vocab_parse(&src, n_vocab, &v, &err);
    if (rc) { check(v == NULL, "no vocab on failure"); one_line(&err, rc); return 0; }
    check(conv_vocab_n_tokens(v) == n_vocab, "vocab_size tokens");
    for (int64_t i = 0; i < n_vocab; i++) {
        int32_t t = conv_vocab_token_type(v, i);
        check(conv_vocab_token(v, i) != NULL && t >= 1 && t <= 6, "token and type");
    }
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/dev/shm/fuzz-hfjson-%d.gguf", (int)getpid());
    gguf_writer *w = gguf_writer_open(path, GGUF_W_FORCE | GGUF_W_NOSYNC, &err);
    if (w) {
        /* duplicate keys are impossible; a token string with an embedded NUL cannot come out of JSON text here */
        check(conv_vocab_write(v, w, &err) == 0, "vocab KVs write");
        gguf_writer_abort(w);
    }
    conv_vocab_free(v);
    return 0;
}
