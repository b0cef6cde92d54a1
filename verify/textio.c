/* textio.c - UTF-8 text input and tokenization for gguf-verify; see textio.h. */
#include "verify/textio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/tokenizer.h"

int64_t vtext_utf8_invalid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        const unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t n;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return (int64_t)i;
        if (len - i <= n) return (int64_t)i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return (int64_t)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (int64_t)i;
        i += n + 1;
    }
    return -1;
}

int vtext_read_file(const char *path, char **buf, size_t *len, gguf_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        int rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(e));
        if (err) err->sys_errno = e;
        return rc;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n + 1 >= cap) {
            char *nb = cap > (SIZE_MAX >> 2) ? NULL : realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    const int rerr = ferror(f);
    fclose(f);
    if (!b) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "'%s': out of memory", path);
    if (rerr) {
        free(b);
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot read '%s'", path);
    }
    b[n] = 0;
    int64_t bad = vtext_utf8_invalid(b, n);
    if (bad >= 0) {
        free(b);
        return gguf_error_set(err, GGUF_E_STRING, (uint64_t)bad,
                              "'%s': not valid UTF-8 at byte offset %lld", path, (long long)bad);
    }
    *buf = b;
    *len = n;
    return 0;
}


int vtext_tokenize(const verify_model *m, const char *what, const char *text, size_t len,
                   int32_t **ids, int64_t *n, gguf_error *err)
{
    *ids = NULL;
    *n = 0;
    int64_t bad = vtext_utf8_invalid(text, len);
    if (bad >= 0)
        return gguf_error_set(err, GGUF_E_STRING, (uint64_t)bad, "'%s': not valid UTF-8 at byte offset %lld",
                              what, (long long)bad);
    vtok *t = NULL;
    if (m->gf) {
        t = vtok_from_gguf(m->gf, err);
    } else {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/tokenizer.json", m->path) >= (int)sizeof path)
            return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "'%s': path too long", m->path);
        t = vtok_from_json(path, err);
    }
    if (!t) return err && err->code ? err->code : GGUF_E_NOT_FOUND;
    size_t cnt = 0;
    int rc = vtok_encode_mt(t, text, len, false, 0, ids, &cnt, err);
    vtok_free(t);
    if (rc) {
        /* name the text, not just the offset */
        if (err && rc == GGUF_E_STRING)
            gguf_error_set(err, rc, err->offset, "'%s': not valid UTF-8 at byte offset %llu", what,
                           (unsigned long long)err->offset);
        return rc;
    }
    *n = (int64_t)cnt;
    return 0;
}
