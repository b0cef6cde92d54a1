/* meta.c - general.* and qwen2.* KVs of a converted model; see convert.h. */
#include "convert/convert.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conv_size_label(int64_t n, char *buf, size_t size)
{
    /* gguf-py model_weight_count_rounded_notation(n, min_digits=2) */
    double x = (double)(n < 0 ? -n : n), scaled;
    const char *suf;
    if (x > 1e12) { scaled = x * 1e-12; suf = "T"; }
    else if (x > 1e9) { scaled = x * 1e-9; suf = "B"; }
    else if (x > 1e6) { scaled = x * 1e-6; suf = "M"; }
    else { scaled = x * 1e-3; suf = "K"; }
    /* digits of round(scaled) without leading zeros (Python round: half to even = nearbyint) */
    double r = nearbyint(scaled);
    int digits = 0;
    for (double q = r; q >= 1.0; q = floor(q / 10.0)) digits++;
    int fix = 2 - digits;
    if (fix < 0) fix = 0;
    snprintf(buf, size, "%.*f%s", fix, scaled, suf);
}

void conv_id_to_title(const char *id, char *buf, size_t size)
{
    /* gguf-py Metadata.id_to_title: '-' -> ' ', split on whitespace, title-case all-lowercase
     * words unless they look like a version (v1.2) or start with a digit */
    size_t o = 0;
    const char *p = id;
    if (!size) return;
    buf[0] = 0;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == '-')) p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p) && *p != '-') p++;
        size_t n = (size_t)(p - s);
        bool has_cased = false, all_lower = true;
        for (size_t i = 0; i < n; i++) {
            if (isalpha((unsigned char)s[i])) { has_cased = true; if (isupper((unsigned char)s[i])) all_lower = false; }
        }
        bool version = isdigit((unsigned char)s[0]);
        if (s[0] == 'v' && n > 1 && isdigit((unsigned char)s[1])) {
            /* v\d+(\.\d+)* */
            size_t i = 1;
            bool ok = true;
            while (i < n) {
                if (!isdigit((unsigned char)s[i])) { ok = false; break; }
                while (i < n && isdigit((unsigned char)s[i])) i++;
                if (i < n) {
                    if (s[i] != '.' || i + 1 >= n || !isdigit((unsigned char)s[i + 1])) { ok = false; break; }
                    i++;
                }
            }
            version = version || ok;
        }
        bool title = has_cased && all_lower && !version;
        if (o && o + 1 < size) buf[o++] = ' ';
        bool prev_cased = false;
        for (size_t i = 0; i < n && o + 1 < size; i++) {
            char c = s[i];
            if (title && isalpha((unsigned char)c)) c = prev_cased ? (char)tolower((unsigned char)c) : (char)toupper((unsigned char)c);
            prev_cased = isalpha((unsigned char)c);
            buf[o++] = c;
        }
        buf[o] = 0;
    }
}

int conv_meta_load(const conv_hf_model *m, conv_meta *out, gguf_error *err)
{
    memset(out, 0, sizeof *out);
    /* name from the directory name (trailing slashes ignored) */
    const char *dir = conv_hf_dir(m);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    size_t L = strlen(tmp);
    while (L > 1 && tmp[L - 1] == '/') tmp[--L] = 0;
    const char *base = strrchr(tmp, '/');
    base = base ? base + 1 : tmp;
    if (!strcmp(base, ".") || !strcmp(base, "..") || !*base) {
        char cwd[PATH_MAX];
        if (realpath(tmp, cwd)) {
            const char *b2 = strrchr(cwd, '/');
            snprintf(tmp, sizeof tmp, "%s", b2 && b2[1] ? b2 + 1 : "model");
            base = tmp;
        }
    }
    conv_id_to_title(base, out->name, sizeof out->name);
    if (!out->name[0]) snprintf(out->name, sizeof out->name, "%.255s", base);

    for (int64_t i = 0; i < conv_hf_n_tensors(m); i++) {
        const conv_tensor *t = conv_hf_tensor(m, i);
        int64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
        out->n_params += n;
    }
    if (out->n_params > 0) conv_size_label(out->n_params, out->size_label, sizeof out->size_label);

    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (n < 0 || (size_t)n >= sizeof path) return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "path too long: '%s'", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(errno));
    }
    json_error_t je;
    json_t *g = json_loadf(f, 0, &je);
    fclose(f);
    if (!g)
        return gguf_error_set(err, CONV_E_JSON, UINT64_MAX, "'%s': not valid JSON: line %d, column %d: %s", path,
                              je.line, je.column, je.text);
    int rc = 0;
    if (!json_is_object(g)) { rc = gguf_error_set(err, CONV_E_JSON, 0, "'%s': not a JSON object", path); goto done; }
    json_t *v;
    if ((v = json_object_get(g, "top_k")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX) {
            rc = gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key 'top_k' is not a 32-bit integer", path);
            goto done;
        }
        out->has_top_k = true;
        out->top_k = (int32_t)json_integer_value(v);
    }
    static const struct { const char *key; size_t has, val; } fl[] = {
        { "top_p", offsetof(conv_meta, has_top_p), offsetof(conv_meta, top_p) },
        { "min_p", offsetof(conv_meta, has_min_p), offsetof(conv_meta, min_p) },
        { "temperature", offsetof(conv_meta, has_temp), offsetof(conv_meta, temp) },
        { "repetition_penalty", offsetof(conv_meta, has_penalty_repeat), offsetof(conv_meta, penalty_repeat) },
    };
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        v = json_object_get(g, fl[i].key);
        if (!v || json_is_null(v)) continue;
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            rc = gguf_error_set(err, CONV_E_CONFIG, UINT64_MAX, "'%s': key '%s' is not a number", path, fl[i].key);
            goto done;
        }
        *(bool *)((char *)out + fl[i].has) = true;
        *(float *)((char *)out + fl[i].val) = (float)json_number_value(v);
    }
done:
    json_decref(g);
    return rc;
}

int conv_write_kvs(gguf_writer *w, const conv_hf_model *m, const conv_meta *meta, const conv_vocab *v,
                   int file_type, gguf_error *err)
{
    const conv_hparams *hp = conv_hf_hparams(m);
    int rc = 0;
#define W(call) do { if ((rc = (call))) goto fail; } while (0)
    W(gguf_writer_kv_str(w, "general.architecture", "qwen2", 5));
    W(gguf_writer_kv_str(w, "general.type", "model", 5));
    if (meta->has_top_k) W(gguf_writer_kv_i32(w, "general.sampling.top_k", meta->top_k));
    if (meta->has_top_p) W(gguf_writer_kv_f32(w, "general.sampling.top_p", meta->top_p));
    if (meta->has_min_p) W(gguf_writer_kv_f32(w, "general.sampling.min_p", meta->min_p));
    if (meta->has_temp) W(gguf_writer_kv_f32(w, "general.sampling.temp", meta->temp));
    if (meta->has_penalty_repeat) W(gguf_writer_kv_f32(w, "general.sampling.penalty_repeat", meta->penalty_repeat));
    W(gguf_writer_kv_str(w, "general.name", meta->name, strlen(meta->name)));
    if (meta->size_label[0]) W(gguf_writer_kv_str(w, "general.size_label", meta->size_label, strlen(meta->size_label)));
    W(gguf_writer_kv_u32(w, "qwen2.block_count", (uint32_t)hp->n_layer));
    W(gguf_writer_kv_u32(w, "qwen2.context_length", (uint32_t)hp->n_ctx));
    W(gguf_writer_kv_u32(w, "qwen2.embedding_length", (uint32_t)hp->n_embd));
    W(gguf_writer_kv_u32(w, "qwen2.feed_forward_length", (uint32_t)hp->n_ff));
    W(gguf_writer_kv_u32(w, "qwen2.attention.head_count", (uint32_t)hp->n_head));
    if (hp->has_n_head_kv) W(gguf_writer_kv_u32(w, "qwen2.attention.head_count_kv", (uint32_t)hp->n_head_kv));
    if (hp->rope_scaling[0]) {
        W(gguf_writer_kv_str(w, "qwen2.rope.scaling.type", hp->rope_scaling, strlen(hp->rope_scaling)));
        W(gguf_writer_kv_f32(w, "qwen2.rope.scaling.factor", (float)hp->rope_factor));
        if (!strcmp(hp->rope_scaling, "yarn") && hp->rope_orig_ctx > 0)
            W(gguf_writer_kv_u32(w, "qwen2.rope.scaling.original_context_length", (uint32_t)hp->rope_orig_ctx));
    }
    if (hp->has_rope_theta) W(gguf_writer_kv_f32(w, "qwen2.rope.freq_base", (float)hp->rope_theta));
    W(gguf_writer_kv_f32(w, "qwen2.attention.layer_norm_rms_epsilon", (float)hp->rms_eps));
    if (hp->has_head_dim) {
        W(gguf_writer_kv_u32(w, "qwen2.attention.key_length", (uint32_t)hp->head_dim));
        W(gguf_writer_kv_u32(w, "qwen2.attention.value_length", (uint32_t)hp->head_dim));
    }
    W(gguf_writer_kv_u32(w, "general.file_type", (uint32_t)file_type));
    W(gguf_writer_kv_u32(w, "general.quantization_version", GGUF_QNT_VERSION));
#undef W
    return conv_vocab_write(v, w, err);
fail:
    if (err) {
        const gguf_error *we = gguf_writer_error(w);
        if (we && we->code) *err = *we;
        else gguf_error_set(err, rc, UINT64_MAX, "cannot add metadata");
    }
    return rc;
}
