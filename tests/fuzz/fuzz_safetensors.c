/*
 * fuzz_safetensors.c - libFuzzer harness for the safetensors header parser (convert/safetensors.c).
 *
 * The input is a whole .safetensors file. conv_st_parse must either reject it with a message or
 * accept it with every invariant true: tensors sorted by name and findable, each one's bytes
 * inside the data section and of size elements x dtype size, no two overlapping. An accepted file
 * is also parsed as a truncated prefix of itself (file_size one byte less), which must never
 * crash and must fail if the last tensor byte is cut off.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "convert/safetensors.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_safetensors: property failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conv_st_file *f = NULL;
    gguf_error err;
    int rc = conv_st_parse("fuzz.safetensors", data, size, size, &f, &err);
    if (rc != 0) {
        check(f == NULL && err.code == rc && err.msg[0] != 0 && strlen(err.msg) < sizeof err.msg, "error reported");
        check(strchr(err.msg, '\n') == NULL, "one-line message");
        return 0;
    }
    check(f && f->data_start >= 8 && f->data_start <= size, "data start");
    uint64_t data_size = size - f->data_start, max_end = 0;
    for (int64_t i = 0; i < f->n; i++) {
        const conv_st_tensor *t = &f->t[i];
        check(t->name && t->name[0], "name");
        if (i) check(strcmp(f->t[i - 1].name, t->name) < 0, "sorted, unique");
        check(conv_st_find(f, t->name) == i, "findable");
        check(t->begin <= t->end && t->end <= data_size, "inside the data section");
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
        check(n * t->elem_size == t->end - t->begin, "size matches dtype x shape");
        for (int64_t j = 0; j < i; j++) {
            const conv_st_tensor *u = &f->t[j];
            if (t->end > t->begin && u->end > u->begin) check(t->end <= u->begin || u->end <= t->begin, "no overlap");
        }
        if (t->end > max_end) max_end = t->end;
    }
    conv_st_close(f);
    if (size > 8 && max_end > 0 && max_end == data_size) {
        f = NULL;
        rc = conv_st_parse("fuzz.safetensors", data, size - 1, size - 1, &f, &err);
        check(rc != 0 && f == NULL, "a truncated file is refused");
    }
    return 0;
}
