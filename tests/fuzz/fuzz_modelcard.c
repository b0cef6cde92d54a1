/*
 * fuzz_modelcard.c - libFuzzer harness for the model-card paths of gguf-convert: the YAML subset
 * parser of README.md front matter (conv_yaml_parse) and gguf-py's model-id heuristic
 * (conv_model_id_components, conv_id_to_title, conv_size_label).
 *
 * Byte 0 picks the target, the rest is the input:
 *   even: YAML text; the tree is walked (every node type, keys, lines) and freed.
 *   odd:  a model id (NUL-terminated copy); bytes 1..8 also seed the parameter count.
 * Properties: parse either succeeds with a well-formed tree or fails with a line >= 1 and a message;
 * every produced id part is a NUL-terminated string no longer than the id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "convert/convert.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_modelcard: property failed: %s\n", what);
        abort();
    }
}

static void walk(const conv_ynode *n, int depth)
{
    check(n != NULL, "non-NULL node");
    check(depth < 10000, "bounded depth");
    switch (n->type) {
    case CONV_Y_STR: check(n->str != NULL, "string node has a string"); (void)strlen(n->str); break;
    case CONV_Y_LIST:
    case CONV_Y_MAP:
        check(n->n >= 0, "item count");
        for (int i = 0; i < n->n; i++) {
            if (n->type == CONV_Y_MAP) { check(n->keys && n->keys[i], "map key"); (void)conv_ynode_get(n, n->keys[i]); }
            walk(n->items[i], depth + 1);
        }
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if ((data[0] & 1) == 0) {
        conv_ynode *root = NULL;
        int line = 0;
        char msg[256];
        int rc = conv_yaml_parse(text, len, &root, &line, msg, sizeof msg);
        if (rc == 0) { if (root) walk(root, 0); conv_ynode_free(root); }
        else check(rc == CONV_E_YAML ? (line >= 1 && msg[0]) : rc == GGUF_E_NOMEM, "error has a line and a message");
        return 0;
    }
    char *id = malloc(len + 1);
    if (!id) return 0;
    memcpy(id, text, len);
    id[len] = 0;
    uint64_t bits = 0;
    for (size_t i = 0; i < 8 && i < len; i++) bits = (bits << 8) | (uint8_t)text[i];
    int64_t params = (int64_t)(bits >> 1);
    conv_id_parts p;
    memset(&p, 0, sizeof p);
    if (conv_model_id_components(id, params, &p) == 0) {
        size_t idl = strlen(id);
        const char *parts[] = {p.full, p.org, p.basename, p.finetune, p.version, p.size_label};
        for (int i = 0; i < 6; i++) if (parts[i]) check(strlen(parts[i]) <= idl + 32, "part length");
        conv_id_parts_free(&p);
    }
    char buf[512];
    conv_id_to_title(id, buf, sizeof buf);
    conv_size_label(params, buf, sizeof buf);
    free(id);
    return 0;
}
