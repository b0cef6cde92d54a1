/*
 * fuzz_tokenizer.c - libFuzzer harness for verify/tokenizer.c: arbitrary bytes through
 * vtok_encode (first byte picks parse_special) must either be refused as invalid UTF-8 (with an
 * offset inside the input) or encode, and then decode back to exactly NFC(input).
 * The Qwen2 tokenizer.json comes from $TH_TESTDATA/qwen/tokenizer.json.gz (default testdata/),
 * inflated once into a temp file.
 */
#include "gguf.h"
#include "verify/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

static vtok *g_tok;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *td = getenv("TH_TESTDATA");
    char src[4096], tmp[] = "/tmp/fuzz-tokenizer-XXXXXX";
    snprintf(src, sizeof src, "%s/qwen/tokenizer.json.gz", td && *td ? td : "testdata");
    gzFile in = gzopen(src, "rb");
    int fd = mkstemp(tmp);
    if (!in || fd < 0) { fprintf(stderr, "fuzz_tokenizer: cannot open %s\n", src); abort(); }
    char buf[1 << 16];
    int n;
    while ((n = gzread(in, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) abort();
    gzclose(in);
    close(fd);
    gguf_error err;
    g_tok = vtok_from_json(tmp, &err);
    unlink(tmp);
    if (!g_tok) { fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg); abort(); }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    bool special = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int32_t *ids; size_t n;
    gguf_error err;
    int rc = vtok_encode(g_tok, text, len, special, &ids, &n, &err);
    if (rc) {
        if (rc != GGUF_E_STRING || err.offset >= len) abort();
        return 0;
    }
    char *out; size_t ol;
    if (vtok_decode(g_tok, ids, n, &out, &ol, &err)) abort();
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t nl = len ? utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfc,
                                             UTF8PROC_STABLE | UTF8PROC_COMPOSE) : 0;
    if (nl < 0 || (size_t)nl != ol || (ol && memcmp(out, nfc, ol))) abort();
    free(nfc);
    free(out);
    free(ids);
    return 0;
}
