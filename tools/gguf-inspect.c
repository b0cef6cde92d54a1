/*
 * gguf-inspect - show, hash, check and compare GGUF files (man/gguf-inspect.1).
 *
 *   gguf-inspect [--json] [--hash] [--full] FILE    header, every KV, tensor table, totals
 *   gguf-inspect --check [--json] FILE              also scan tensor data for NaN/Inf
 *   gguf-inspect --diff [--full] A B                one line per difference, exit 1 if any
 *
 * A thin program over libgguf: gguf_open() validates the structure (and joins a split set given
 * its first file); this file only formats. Tensor data is read straight from the mapping, one
 * tensor at a time, and gguf_release()d after use, so memory does not grow with the model.
 */
#include "cli.h"
#include "gguf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>
#include <xxhash.h>

/* Arrays longer than this show their first ARR_SHOW items unless --full. */
#define ARR_SHOW 8
/* Text output shows at most this many bytes of a string value unless --full. */
#define STR_SHOW 120

/* ------------------------------------------------------------------ options and help */

static struct {
    bool json, hash, check, diff, full;
} opt;

/* One table generates both getopt's list and the help text. */
static const struct opt_def {
    const char *name;
    int         has_arg;
    int         val;
    const char *help;
} opt_defs[] = {
    { "json",  no_argument, 'j', "print one JSON document instead of text" },
    { "hash",  no_argument, 'H', "add the XXH3-128 of each tensor's data and of all data in order" },
    { "full",  no_argument, 'f', "print every item of long arrays (and whole strings in text)" },
    { "check", no_argument, 'c', "scan every tensor for NaN/Inf (floats, fp16 block scales); exit 1 if any" },
    { "diff",  no_argument, 'd', "compare two files A B: one line per difference; exit 1 if they differ" },
    { "help",  no_argument, 'h', "show this help and exit" },
};
#define N_OPTS (sizeof opt_defs / sizeof opt_defs[0])

static void print_help(void)
{
    printf("Usage: gguf-inspect [--json] [--hash] [--full] FILE\n"
           "       gguf-inspect --check [--json] FILE\n"
           "       gguf-inspect --diff [--full] A B\n"
           "Show a GGUF file: header, metadata (key, type, value) and the tensor table with totals.\n"
           "FILE may be the first file of a split set (NAME-00001-of-0000N.gguf): the whole set is read.\n"
           "\n"
           "Options:\n");
    for (size_t i = 0; i < N_OPTS; i++)
        printf("  --%-8s %s\n", opt_defs[i].name, opt_defs[i].help);
    printf("\n"
           "Exit status: 0 ok (no problem found, files identical), 1 failure (bad input, a problem\n"
           "found by --check, files that differ under --diff), 2 usage error.\n");
}

/* ------------------------------------------------------------------ value formatting */

/* Print v with the fewest significant digits that read back as the same binary32/binary64. */
static void fmt_real(char *buf, size_t size, double v, bool is_f32)
{
    if (isnan(v)) { snprintf(buf, size, "nan"); return; }
    if (isinf(v)) { snprintf(buf, size, v < 0 ? "-inf" : "inf"); return; }
    int max = is_f32 ? 9 : 17;
    for (int p = 1; p <= max; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (is_f32 ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) return;
    }
}

/* A fixed-size value decoded from its little-endian bytes. */
typedef struct scalar {
    enum { SC_INT, SC_UINT, SC_REAL, SC_BOOL } kind;
    int64_t  i;
    uint64_t u;
    double   d;
    bool     is_f32;
} scalar;

static scalar decode_scalar(gguf_kv_type t, const unsigned char *p)
{
    scalar s = { .kind = SC_INT };
    switch (t) {
    case GGUF_KV_UINT8:  { uint8_t v;  memcpy(&v, p, 1); s.kind = SC_UINT; s.u = v; break; }
    case GGUF_KV_INT8:   { int8_t v;   memcpy(&v, p, 1); s.i = v; break; }
    case GGUF_KV_UINT16: { uint16_t v; memcpy(&v, p, 2); s.kind = SC_UINT; s.u = v; break; }
    case GGUF_KV_INT16:  { int16_t v;  memcpy(&v, p, 2); s.i = v; break; }
    case GGUF_KV_UINT32: { uint32_t v; memcpy(&v, p, 4); s.kind = SC_UINT; s.u = v; break; }
    case GGUF_KV_INT32:  { int32_t v;  memcpy(&v, p, 4); s.i = v; break; }
    case GGUF_KV_UINT64: { uint64_t v; memcpy(&v, p, 8); s.kind = SC_UINT; s.u = v; break; }
    case GGUF_KV_INT64:  { int64_t v;  memcpy(&v, p, 8); s.i = v; break; }
    case GGUF_KV_FLOAT32: { float v;   memcpy(&v, p, 4); s.kind = SC_REAL; s.d = v; s.is_f32 = true; break; }
    case GGUF_KV_FLOAT64: { double v;  memcpy(&v, p, 8); s.kind = SC_REAL; s.d = v; break; }
    case GGUF_KV_BOOL:   { s.kind = SC_BOOL; s.u = p[0] != 0; break; }
    default: break;
    }
    return s;
}

static void print_scalar(FILE *out, scalar s)
{
    char buf[64];
    switch (s.kind) {
    case SC_INT:  fprintf(out, "%" PRId64, s.i); break;
    case SC_UINT: fprintf(out, "%" PRIu64, s.u); break;
    case SC_BOOL: fputs(s.u ? "true" : "false", out); break;
    case SC_REAL: fmt_real(buf, sizeof buf, s.d, s.is_f32); fputs(buf, out); break;
    }
}

static json_t *json_scalar(scalar s)
{
    char buf[64];
    switch (s.kind) {
    case SC_INT:  return json_integer(s.i);
    case SC_UINT:
        if (s.u <= (uint64_t)INT64_MAX) return json_integer((json_int_t)s.u);
        /* JSON integers from jansson are int64: keep the exact value as a decimal string */
        snprintf(buf, sizeof buf, "%" PRIu64, s.u);
        return json_string(buf);
    case SC_BOOL: return json_boolean(s.u);
    case SC_REAL:
        if (isfinite(s.d)) return json_real(s.d);
        /* JSON has no NaN/Infinity: say it as a string */
        fmt_real(buf, sizeof buf, s.d, s.is_f32);
        return json_string(buf);
    }
    return json_null();
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not valid UTF-8. */
static size_t utf8_len(const unsigned char *p, uint64_t n)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate(p, n > 4 ? 4 : (utf8proc_ssize_t)n, &cp);
    return k > 0 ? (size_t)k : 0;
}

/* Write p[0..n) C-escaped: \\ \n \t \r, other control bytes and bytes that are not valid
 * UTF-8 as \xHH, and \" too when quoted. With max > 0 stop at a character boundary after at most
 * max bytes; returns true if it stopped early. */
static bool print_escaped(FILE *out, const char *s, uint64_t n, uint64_t max, bool quoted)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t i = 0;
    while (i < n) {
        if (max && i >= max) return true;
        unsigned char c = p[i];
        if ((c == '"' && quoted) || c == '\\') { fputc('\\', out); fputc(c, out); i++; continue; }
        if (c == '\n') { fputs("\\n", out); i++; continue; }
        if (c == '\t') { fputs("\\t", out); i++; continue; }
        if (c == '\r') { fputs("\\r", out); i++; continue; }
        if (c < 0x20 || c == 0x7f) { fprintf(out, "\\x%02x", c); i++; continue; }
        if (c < 0x80) { fputc(c, out); i++; continue; }
        size_t k = utf8_len(p + i, n - i);
        if (!k) { fprintf(out, "\\x%02x", c); i++; continue; }
        fwrite(p + i, 1, k, out);
        i += k;
    }
    return false;
}

/* Print a file string quoted and escaped; with max > 0 and a longer string, cut it at a character
 * boundary after at most max bytes and append "... (N bytes)". */
static void print_str(FILE *out, gguf_str s, uint64_t max)
{
    fputc('"', out);
    bool cut = print_escaped(out, s.ptr, s.len, max, true);
    fputc('"', out);
    if (cut) fprintf(out, "... (%" PRIu64 " bytes)", s.len);
}

/* A key, tensor name or path made safe for one line of text (see print_escaped; no quotes).
 * Returns s itself when nothing needs escaping, else one of 4 rotating buffers (valid until the
 * 4th next call). */
static const char *E(const char *s)
{
    static char *slot[4];
    static unsigned next;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        size_t k = p[i] < 0x80 ? (p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\') : utf8_len(p + i, n - i);
        if (!k) break;
        i += k;
    }
    if (i == n) return s;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return s;
    print_escaped(m, s, n, 0, false);
    if (fclose(m) != 0) { free(buf); return s; }
    free(slot[next]);
    slot[next] = buf;
    next = (next + 1) % 4;
    return buf;
}

/* A JSON string for a file string: valid UTF-8 kept, each invalid byte becomes U+FFFD
 * (JSON text must be Unicode; the raw bytes are still available through the file). */
static json_t *json_str(gguf_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    bool valid = true;
    for (uint64_t i = 0; i < s.len;) {
        size_t k = p[i] < 0x80 ? 1 : utf8_len(p + i, s.len - i);
        if (!k) { valid = false; break; }
        i += k;
    }
    if (valid) return json_stringn(s.ptr, (size_t)s.len);
    if (s.len > SIZE_MAX / 3) return json_null();
    char *buf = malloc((size_t)s.len * 3 + 1);
    if (!buf) return NULL;
    size_t o = 0;
    for (uint64_t i = 0; i < s.len;) {
        size_t k = p[i] < 0x80 ? 1 : utf8_len(p + i, s.len - i);
        if (!k) { memcpy(buf + o, "\xef\xbf\xbd", 3); o += 3; i++; continue; }
        memcpy(buf + o, p + i, k);
        o += k;
        i += k;
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j;
}

static json_t *json_cstr(const char *s)
{
    gguf_str g = { s, strlen(s) };
    return json_str(g);
}

/* Print KV i's type as "u32", "str" or "arr[f32,151936]" (only measure it when out is NULL).
 * Returns the width. */
static int print_kv_type(FILE *out, const gguf_file *f, int64_t i)
{
    char buf[64];
    gguf_kv_type t = gguf_kv_get_type(f, i);
    if (t != GGUF_KV_ARRAY) snprintf(buf, sizeof buf, "%s", gguf_kv_type_name(t));
    else snprintf(buf, sizeof buf, "arr[%s,%" PRIu64 "]", gguf_kv_type_name(gguf_kv_arr_type(f, i)), gguf_kv_arr_n(f, i));
    if (out) fputs(buf, out);
    return (int)strlen(buf);
}

/* Print array element j of KV i. */
static void print_arr_item(FILE *out, const gguf_file *f, int64_t i, uint64_t j, uint64_t str_max)
{
    gguf_kv_type et = gguf_kv_arr_type(f, i);
    if (et == GGUF_KV_STRING) { print_str(out, gguf_kv_arr_str(f, i, j), str_max); return; }
    const unsigned char *d = gguf_kv_arr_data(f, i);
    print_scalar(out, decode_scalar(et, d + j * gguf_kv_type_size(et)));
}

/* Print KV i's value: a scalar, a quoted string, or "[a, b, ...]" (first ARR_SHOW items unless
 * full). */
static void print_kv_value(FILE *out, const gguf_file *f, int64_t i, bool full)
{
    gguf_kv_type t = gguf_kv_get_type(f, i);
    uint64_t str_max = full ? 0 : STR_SHOW;
    if (t == GGUF_KV_STRING) { print_str(out, gguf_kv_str(f, i), str_max); return; }
    if (t != GGUF_KV_ARRAY) {
        const void *raw; uint64_t len;
        gguf_kv_raw(f, i, &raw, &len);
        print_scalar(out, decode_scalar(t, raw));
        return;
    }
    uint64_t n = gguf_kv_arr_n(f, i);
    uint64_t show = full || n <= ARR_SHOW ? n : ARR_SHOW;
    fputc('[', out);
    for (uint64_t j = 0; j < show; j++) {
        if (j) fputs(", ", out);
        print_arr_item(out, f, i, j, str_max);
    }
    if (show < n) fputs(show ? ", ..." : "...", out);
    fputc(']', out);
}

static json_t *json_arr_item(const gguf_file *f, int64_t i, uint64_t j)
{
    gguf_kv_type et = gguf_kv_arr_type(f, i);
    if (et == GGUF_KV_STRING) return json_str(gguf_kv_arr_str(f, i, j));
    const unsigned char *d = gguf_kv_arr_data(f, i);
    return json_scalar(decode_scalar(et, d + j * gguf_kv_type_size(et)));
}

/* {"type": "u32", "value": 5} or {"type":"arr","elem_type":"str","n":N,"truncated":bool,"value":[...]}.
 * Returns NULL on allocation failure. */
static json_t *json_kv(const gguf_file *f, int64_t i, bool full)
{
    gguf_kv_type t = gguf_kv_get_type(f, i);
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = json_object_set_new(o, "type", json_string(gguf_kv_type_name(t)));
    if (t == GGUF_KV_STRING) {
        bad |= json_object_set_new(o, "value", json_str(gguf_kv_str(f, i)));
    } else if (t != GGUF_KV_ARRAY) {
        const void *raw; uint64_t len;
        gguf_kv_raw(f, i, &raw, &len);
        bad |= json_object_set_new(o, "value", json_scalar(decode_scalar(t, raw)));
    } else {
        uint64_t n = gguf_kv_arr_n(f, i);
        uint64_t show = full || n <= ARR_SHOW ? n : ARR_SHOW;
        json_t *a = json_array();
        for (uint64_t j = 0; a && j < show; j++) bad |= json_array_append_new(a, json_arr_item(f, i, j));
        bad |= json_object_set_new(o, "elem_type", json_string(gguf_kv_type_name(gguf_kv_arr_type(f, i))));
        bad |= json_object_set_new(o, "n", json_integer((json_int_t)n));
        bad |= json_object_set_new(o, "truncated", json_boolean(show < n));
        bad |= json_object_set_new(o, "value", a);
    }
    if (bad) { json_decref(o); return NULL; }
    return o;
}

/* ------------------------------------------------------------------ tensors */

static uint64_t tensor_params(const gguf_tensor_info *t)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) n *= (uint64_t)t->ne[d];
    return n;
}

static int fmt_shape(char *buf, size_t size, const gguf_tensor_info *t)
{
    int o = snprintf(buf, size, "[");
    for (uint32_t d = 0; d < t->n_dims && o < (int)size; d++)
        o += snprintf(buf + o, size - o, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (o < (int)size) o += snprintf(buf + o, size - o, "]");
    return o;
}

static void hex128(char out[33], XXH128_hash_t h)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    for (int k = 0; k < 16; k++) snprintf(out + 2 * k, 3, "%02x", c.digest[k]);
}

/* The hash states of --hash: all = every tensor's bytes in order, one = scratch for one tensor. */
typedef struct hasher {
    XXH3_state_t *all, *one;
} hasher;

/* XXH3-128 of one tensor's bytes, fed also to hs->all (hs may be NULL); releases the pages after.
 * Both states are fed chunk by chunk, so each byte comes from memory once. */
static XXH128_hash_t hash_tensor(const gguf_file *f, const gguf_tensor_info *t, hasher *hs)
{
    enum { CHUNK = 128 * 1024 };
    XXH128_hash_t h;
    if (!hs) {
        h = XXH3_128bits(t->data, (size_t)t->size);
    } else {
        const unsigned char *p = t->data;
        XXH3_128bits_reset(hs->one);
        for (uint64_t o = 0; o < t->size; o += CHUNK) {
            size_t n = t->size - o < CHUNK ? (size_t)(t->size - o) : CHUNK;
            XXH3_128bits_update(hs->one, p + o, n);
            XXH3_128bits_update(hs->all, p + o, n);
        }
        h = XXH3_128bits_digest(hs->one);
    }
    gguf_release(f, t);
    return h;
}

static uint64_t fd_size(const gguf_file *f, uint32_t i)
{
    struct stat st;
    if (fstat(gguf_file_fd(f, i), &st) != 0) return 0;
    return (uint64_t)st.st_size;
}

/* ------------------------------------------------------------------ the dump (text or JSON) */

typedef struct totals {
    uint64_t bytes, params;
    char     data_hash[33];
} totals;

static void print_text(const gguf_file *f, hasher *hs)
{
    char buf[128];
    int64_t n_kv = gguf_n_kv(f), n_t = gguf_n_tensors(f);
    uint32_t n_files = gguf_n_files(f);

    printf("file:        %s\n", E(gguf_path(f)));
    printf("version:     %" PRIu32 "\n", gguf_version(f));
    printf("alignment:   %" PRIu32 "\n", gguf_alignment(f));
    printf("n_kv:        %" PRId64 "\n", n_kv);
    printf("n_tensors:   %" PRId64 "\n", n_t);
    printf("data offset: %" PRIu64 "\n", gguf_data_offset(f));
    printf("file size:   %" PRIu64 " (%s)\n", gguf_file_size(f), cli_fmt_bytes(buf, sizeof buf, gguf_file_size(f)));
    if (n_files > 1) {
        printf("split files: %" PRIu32 "\n", n_files);
        for (uint32_t i = 0; i < n_files; i++)
            printf("  %3" PRIu32 "  %s  %" PRId64 " tensors, %" PRIu64 " bytes\n", i, E(gguf_file_path(f, i)),
                   gguf_file_n_tensors(f, i), fd_size(f, i));
    }

    int kw = 3, tw = 4;
    for (int64_t i = 0; i < n_kv; i++) {
        int l = (int)strlen(E(gguf_kv_key(f, i)));
        if (l > kw) kw = l;
        l = print_kv_type(NULL, f, i);
        if (l > tw) tw = l;
    }
    if (kw > 48) kw = 48;
    if (tw > 24) tw = 24;
    printf("\nmetadata: %" PRId64 " keys\n", n_kv);
    for (int64_t i = 0; i < n_kv; i++) {
        printf("  %-*s  ", kw, E(gguf_kv_key(f, i)));
        int w = print_kv_type(stdout, f, i);
        printf("%*s  ", w < tw ? tw - w : 0, "");
        print_kv_value(stdout, f, i, opt.full);
        putchar('\n');
    }

    int nw = 4, sw = 5;
    for (int64_t i = 0; i < n_t; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        int l = (int)strlen(E(t->name));
        if (l > nw) nw = l;
        l = fmt_shape(buf, sizeof buf, t);
        if (l > sw) sw = l;
    }
    printf("\ntensors: %" PRId64 "\n", n_t);
    printf("  %5s  %-*s  %-7s  %-*s  ", "#", nw, "name", "type", sw, "shape");
    if (n_files > 1) printf("%4s  ", "file");
    printf("%14s  %14s%s\n", "offset", "bytes", opt.hash ? "  xxh3_128" : "");
    totals tot = { 0 };
    for (int64_t i = 0; i < n_t; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        fmt_shape(buf, sizeof buf, t);
        printf("  %5" PRId64 "  %-*s  %-7s  %-*s  ", i, nw, E(t->name), gguf_type_name(t->type), sw, buf);
        if (n_files > 1) printf("%4" PRIu32 "  ", t->file_index);
        printf("%14" PRIu64 "  %14" PRIu64, t->offset, t->size);
        if (opt.hash) {
            char hx[33];
            hex128(hx, hash_tensor(f, t, hs));
            printf("  %s", hx);
        }
        putchar('\n');
        tot.bytes += t->size;
        tot.params += tensor_params(t);
    }
    printf("\ntotal: %" PRId64 " tensors, %" PRIu64 " bytes (%s), %" PRIu64 " parameters, ", n_t, tot.bytes,
           cli_fmt_bytes(buf, sizeof buf, tot.bytes), tot.params);
    if (tot.params) printf("%.4f bits per weight\n", 8.0 * (double)tot.bytes / (double)tot.params);
    else printf("- bits per weight\n");
    if (opt.hash) {
        char hx[33];
        hex128(hx, XXH3_128bits_digest(hs->all));
        printf("data xxh3_128: %s\n", hx);
    }
}

/* Build the JSON document; NULL on allocation failure. */
static json_t *build_json(const gguf_file *f, hasher *hs)
{
    int bad = 0;
    int64_t n_kv = gguf_n_kv(f), n_t = gguf_n_tensors(f);
    uint32_t n_files = gguf_n_files(f);
    json_t *root = json_object(), *hdr = json_object(), *files = json_array();
    json_t *meta = json_object(), *tens = json_array(), *tot = json_object();
    if (!root || !hdr || !files || !meta || !tens || !tot) bad = 1;

    bad |= json_object_set_new(hdr, "file", json_cstr(gguf_path(f)));
    bad |= json_object_set_new(hdr, "version", json_integer(gguf_version(f)));
    bad |= json_object_set_new(hdr, "alignment", json_integer(gguf_alignment(f)));
    bad |= json_object_set_new(hdr, "n_kv", json_integer(n_kv));
    bad |= json_object_set_new(hdr, "n_tensors", json_integer(n_t));
    bad |= json_object_set_new(hdr, "data_offset", json_integer((json_int_t)gguf_data_offset(f)));
    bad |= json_object_set_new(hdr, "file_size", json_integer((json_int_t)gguf_file_size(f)));
    for (uint32_t i = 0; i < n_files && !bad; i++) {
        json_t *o = json_pack("{s:o, s:I, s:I}", "path", json_cstr(gguf_file_path(f, i)),
                              "n_tensors", (json_int_t)gguf_file_n_tensors(f, i), "size", (json_int_t)fd_size(f, i));
        bad |= json_array_append_new(files, o);
    }
    bad |= json_object_set_new(hdr, "files", files);
    bad |= json_object_set_new(root, "header", hdr);

    for (int64_t i = 0; i < n_kv && !bad; i++) {
        /* JSON keys must be UTF-8: an invalid byte becomes U+FFFD as in values */
        json_t *k = json_cstr(gguf_kv_key(f, i));
        bad |= !k || json_object_set_new(meta, json_string_value(k), json_kv(f, i, opt.full));
        json_decref(k);
    }
    bad |= json_object_set_new(root, "metadata", meta);

    uint64_t bytes = 0, params = 0;
    for (int64_t i = 0; i < n_t && !bad; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        json_t *shape = json_array();
        for (uint32_t d = 0; d < t->n_dims && shape; d++) bad |= json_array_append_new(shape, json_integer(t->ne[d]));
        json_t *o = json_pack("{s:o, s:s, s:o, s:I, s:I}", "name", json_cstr(t->name), "type", gguf_type_name(t->type),
                              "shape", shape, "offset", (json_int_t)t->offset, "size", (json_int_t)t->size);
        if (o && n_files > 1) bad |= json_object_set_new(o, "file", json_integer(t->file_index));
        if (o && opt.hash) {
            char hx[33];
            hex128(hx, hash_tensor(f, t, hs));
            bad |= json_object_set_new(o, "xxh3_128", json_string(hx));
        }
        bad |= json_array_append_new(tens, o);
        bytes += t->size;
        params += tensor_params(t);
    }
    bad |= json_object_set_new(root, "tensors", tens);

    bad |= json_object_set_new(tot, "n_tensors", json_integer(n_t));
    bad |= json_object_set_new(tot, "bytes", json_integer((json_int_t)bytes));
    bad |= json_object_set_new(tot, "params", json_integer((json_int_t)params));
    bad |= json_object_set_new(tot, "bits_per_weight",
                               params ? json_real(8.0 * (double)bytes / (double)params) : json_null());
    bad |= json_object_set_new(root, "totals", tot);
    if (opt.hash && !bad) {
        char hx[33];
        hex128(hx, XXH3_128bits_digest(hs->all));
        bad |= json_object_set_new(root, "data_xxh3_128", json_string(hx));
    }
    if (bad) { json_decref(root); return NULL; }
    return root;
}

static int cmd_show(const gguf_file *f)
{
    hasher h = { NULL, NULL }, *hs = NULL;
    if (opt.hash) {
        h.all = XXH3_createState();
        h.one = XXH3_createState();
        if (!h.all || !h.one || XXH3_128bits_reset(h.all) != XXH_OK) {
            XXH3_freeState(h.all);
            XXH3_freeState(h.one);
            cli_error("out of memory");
            return CLI_FAIL;
        }
        hs = &h;
    }
    int rc = CLI_OK;
    if (opt.json) {
        json_t *root = build_json(f, hs);
        if (!root) { cli_error("out of memory building the JSON document"); rc = CLI_FAIL; }
        else {
            json_dumpf(root, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(root);
        }
    } else {
        print_text(f, hs);
    }
    XXH3_freeState(h.all);
    XXH3_freeState(h.one);
    /* hashes of bytes that changed under the mapping would be wrong: say so */
    gguf_error err;
    gguf_error_clear(&err);
    if (rc == CLI_OK && opt.hash && gguf_check_unchanged(f, &err)) {
        fflush(stdout);
        cli_error_gguf(&err);
        rc = CLI_FAIL;
    }
    return rc;
}

/* ------------------------------------------------------------------ --check */

/* Describe the first non-finite value of tensor t (found at element e) in buf:
 * "'file': offset N: tensor 'x' (F32): element 5 is nan". */
static void describe_nonfinite(char *buf, size_t size, const gguf_file *f, const gguf_tensor_info *t, uint64_t e)
{
    const char *path = gguf_file_path(f, t->file_index);
    uint32_t be = gguf_type_block_elems(t->type), bb = gguf_type_block_bytes(t->type);
    uint64_t off = t->file_offset + (be ? e / be * bb : 0);
    if (gguf_type_is_quantized(t->type)) {
        snprintf(buf, size, "'%s': offset %" PRIu64 ": tensor '%s' (%s): non-finite fp16 scale in block %" PRIu64
                 " (elements %" PRIu64 "..%" PRIu64 ")", E(path), off, E(t->name), gguf_type_name(t->type),
                 be ? e / be : 0, e, e + be - 1);
        return;
    }
    const unsigned char *p = (const unsigned char *)t->data + (off - t->file_offset);
    double v = NAN;
    switch (t->type) {
    case GGUF_TYPE_F32: { float x; memcpy(&x, p, 4); v = x; break; }
    case GGUF_TYPE_F64: { memcpy(&v, p, 8); break; }
    case GGUF_TYPE_F16: { uint16_t h; memcpy(&h, p, 2);
        v = (h & 0x3ff) ? NAN : INFINITY; if (h & 0x8000) v = -v; break; }
    case GGUF_TYPE_BF16: { uint16_t h; memcpy(&h, p, 2);
        v = (h & 0x7f) ? NAN : INFINITY; if (h & 0x8000) v = -v; break; }
    default: break;
    }
    char vb[32];
    fmt_real(vb, sizeof vb, v, false);
    uint64_t row = t->ne[0] ? e / (uint64_t)t->ne[0] : 0, col = t->ne[0] ? e % (uint64_t)t->ne[0] : 0;
    snprintf(buf, size, "'%s': offset %" PRIu64 ": tensor '%s' (%s): element %" PRIu64 " (row %" PRIu64
             ", column %" PRIu64 ") is %s", E(path), off, E(t->name), gguf_type_name(t->type), e, row, col, vb);
}

static int cmd_check(const gguf_file *f)
{
    int64_t n_t = gguf_n_tensors(f), n_bad = 0;
    uint64_t bytes = 0;
    json_t *probs = opt.json ? json_array() : NULL;
    if (opt.json && !probs) { cli_error("out of memory"); return CLI_FAIL; }
    char msg[1024];
    for (int64_t i = 0; i < n_t; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        gguf_error err;
        gguf_error_clear(&err);
        uint64_t e = 0;
        int rc = gguf_validate_data(t, &e, &err);
        if (rc == GGUF_E_NONFINITE && e < tensor_params(t)) describe_nonfinite(msg, sizeof msg, f, t, e);
        else if (rc) snprintf(msg, sizeof msg, "%s", err.msg[0] ? err.msg : gguf_status_str(rc));
        gguf_release(f, t);
        bytes += t->size;
        if (!rc) continue;
        n_bad++;
        if (probs) {
            json_t *o = json_pack("{s:o, s:s, s:o}", "tensor", json_cstr(t->name), "error", gguf_status_name(rc),
                                  "message", json_cstr(msg));
            if (o && rc == GGUF_E_NONFINITE) json_object_set_new(o, "element", json_integer((json_int_t)e));
            json_array_append_new(probs, o);
        } else {
            printf("%s\n", msg);
        }
    }
    gguf_error err;
    gguf_error_clear(&err);
    int changed = gguf_check_unchanged(f, &err);
    if (changed) {
        n_bad++;
        if (probs) json_array_append_new(probs, json_pack("{s:s, s:s}", "error", gguf_status_name(changed),
                                                         "message", err.msg));
        else printf("%s\n", err.msg);
    }
    if (probs) {
        json_t *root = json_pack("{s:o, s:b, s:I, s:I, s:o}", "file", json_cstr(gguf_path(f)), "ok", n_bad == 0,
                                 "tensors_checked", (json_int_t)n_t, "bytes_checked", (json_int_t)bytes,
                                 "problems", probs);
        if (!root) { cli_error("out of memory"); return CLI_FAIL; }
        json_dumpf(root, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(root);
    } else if (!n_bad) {
        printf("'%s': ok: %" PRId64 " tensors, %" PRIu64 " bytes checked\n", E(gguf_path(f)), n_t, bytes);
    }
    if (n_bad) {
        fflush(stdout);
        cli_error("'%s': %" PRId64 " problem%s found in %" PRId64 " tensors", E(gguf_path(f)), n_bad,
                  n_bad == 1 ? "" : "s", n_t);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------ --diff */

static void print_kv_brief(FILE *out, const gguf_file *f, int64_t i)
{
    print_kv_type(out, f, i);
    fputc(' ', out);
    print_kv_value(out, f, i, opt.full);
}

static bool kv_equal(const gguf_file *a, int64_t ia, const gguf_file *b, int64_t ib)
{
    if (gguf_kv_get_type(a, ia) != gguf_kv_get_type(b, ib)) return false;
    const void *pa, *pb;
    uint64_t la, lb;
    gguf_kv_raw(a, ia, &pa, &la);
    gguf_kv_raw(b, ib, &pb, &lb);
    return la == lb && !memcmp(pa, pb, (size_t)la);
}

static bool arr_item_equal(const gguf_file *a, int64_t ia, const gguf_file *b, int64_t ib, uint64_t j)
{
    gguf_kv_type et = gguf_kv_arr_type(a, ia);
    if (et == GGUF_KV_STRING) {
        gguf_str sa = gguf_kv_arr_str(a, ia, j), sb = gguf_kv_arr_str(b, ib, j);
        return sa.len == sb.len && !memcmp(sa.ptr, sb.ptr, (size_t)sa.len);
    }
    size_t es = gguf_kv_type_size(et);
    return !memcmp((const char *)gguf_kv_arr_data(a, ia) + j * es, (const char *)gguf_kv_arr_data(b, ib) + j * es, es);
}

/* "kv changed: KEY: ..." for two KVs with the same key that differ. Arrays of the same element
 * type say where they first differ and how many items differ, so a one-token change in a
 * 150k-item vocabulary reads as one line. */
static void diff_kv_changed(const gguf_file *a, int64_t ia, const gguf_file *b, int64_t ib)
{
    printf("kv changed: %s: ", E(gguf_kv_key(a, ia)));
    if (gguf_kv_get_type(a, ia) == GGUF_KV_ARRAY && gguf_kv_get_type(b, ib) == GGUF_KV_ARRAY &&
        gguf_kv_arr_type(a, ia) == gguf_kv_arr_type(b, ib)) {
        uint64_t na = gguf_kv_arr_n(a, ia), nb = gguf_kv_arr_n(b, ib), m = na < nb ? na : nb;
        uint64_t first = UINT64_MAX, n_diff = 0;
        for (uint64_t j = 0; j < m; j++) {
            if (arr_item_equal(a, ia, b, ib, j)) continue;
            if (first == UINT64_MAX) first = j;
            n_diff++;
        }
        print_kv_type(stdout, a, ia);
        if (na != nb) { fputs(" -> ", stdout); print_kv_type(stdout, b, ib); }
        if (first != UINT64_MAX) {
            printf(": %" PRIu64 " of %" PRIu64 " common items differ, first at [%" PRIu64 "]: ", n_diff, m, first);
            print_arr_item(stdout, a, ia, first, opt.full ? 0 : STR_SHOW);
            fputs(" -> ", stdout);
            print_arr_item(stdout, b, ib, first, opt.full ? 0 : STR_SHOW);
        } else {
            printf(": the first %" PRIu64 " items are equal", m);
        }
        putchar('\n');
        return;
    }
    print_kv_brief(stdout, a, ia);
    fputs(" -> ", stdout);
    print_kv_brief(stdout, b, ib);
    putchar('\n');
}

static bool same_shape(const gguf_tensor_info *x, const gguf_tensor_info *y)
{
    if (x->n_dims != y->n_dims) return false;
    for (uint32_t d = 0; d < x->n_dims; d++)
        if (x->ne[d] != y->ne[d]) return false;
    return true;
}

/* Lines, in this order: header (version), KVs of A in A's order (removed, changed), KVs only in
 * B in B's order (added), KV order, then the same for tensors (type, shape, data), tensor order. */
static int cmd_diff(const gguf_file *a, const gguf_file *b)
{
    int64_t n_diff = 0;
    char sa[128], sb[128], order_msg[512] = "";

    if (gguf_version(a) != gguf_version(b)) {
        printf("header version: %" PRIu32 " -> %" PRIu32 "\n", gguf_version(a), gguf_version(b));
        n_diff++;
    }

    int64_t na = gguf_n_kv(a), nb = gguf_n_kv(b), last_j = -1;
    bool order_same = true;
    for (int64_t i = 0; i < na; i++) {
        const char *key = gguf_kv_key(a, i);
        int64_t j = gguf_find_key(b, key);
        if (j < 0) {
            printf("kv removed: %s: ", E(key));
            print_kv_brief(stdout, a, i);
            putchar('\n');
            n_diff++;
            continue;
        }
        /* the common keys keep their relative order iff they come at increasing indices in B */
        if (j < last_j && order_same) {
            order_same = false;
            snprintf(order_msg, sizeof order_msg, "kv order: the common keys come in another order, first '%s'"
                     " (#%" PRId64 " in A, #%" PRId64 " in B, before '%s')", E(key), i, j, E(gguf_kv_key(b, last_j)));
        }
        last_j = j;
        if (!kv_equal(a, i, b, j)) { diff_kv_changed(a, i, b, j); n_diff++; }
    }
    for (int64_t j = 0; j < nb; j++) {
        if (gguf_find_key(a, gguf_kv_key(b, j)) >= 0) continue;
        printf("kv added: %s: ", E(gguf_kv_key(b, j)));
        print_kv_brief(stdout, b, j);
        putchar('\n');
        n_diff++;
    }
    if (!order_same) { printf("%s\n", order_msg); n_diff++; }

    int64_t ta = gguf_n_tensors(a), tb = gguf_n_tensors(b);
    last_j = -1;
    order_same = true;
    for (int64_t i = 0; i < ta; i++) {
        const gguf_tensor_info *x = gguf_tensor(a, i);
        int64_t j = gguf_find_tensor(b, x->name);
        fmt_shape(sa, sizeof sa, x);
        if (j < 0) {
            printf("tensor removed: %s: %s %s\n", E(x->name), gguf_type_name(x->type), sa);
            n_diff++;
            continue;
        }
        if (j < last_j && order_same) {
            order_same = false;
            snprintf(order_msg, sizeof order_msg, "tensor order: the common tensors come in another order, first"
                     " '%s' (#%" PRId64 " in A, #%" PRId64 " in B, before '%s')", E(x->name), i, j,
                     E(gguf_tensor(b, last_j)->name));
        }
        last_j = j;
        const gguf_tensor_info *y = gguf_tensor(b, j);
        fmt_shape(sb, sizeof sb, y);
        if (x->type != y->type) {
            printf("tensor type: %s: %s -> %s\n", E(x->name), gguf_type_name(x->type), gguf_type_name(y->type));
            n_diff++;
        }
        if (!same_shape(x, y)) {
            printf("tensor shape: %s: %s -> %s\n", E(x->name), sa, sb);
            n_diff++;
        }
        if (x->type == y->type && same_shape(x, y)) {
            char hx[33], hy[33];
            XXH128_hash_t h1 = hash_tensor(a, x, NULL), h2 = hash_tensor(b, y, NULL);
            if (!XXH128_isEqual(h1, h2)) {
                hex128(hx, h1);
                hex128(hy, h2);
                printf("tensor data: %s: xxh3_128 %s -> %s\n", E(x->name), hx, hy);
                n_diff++;
            }
        }
    }
    for (int64_t j = 0; j < tb; j++) {
        const gguf_tensor_info *y = gguf_tensor(b, j);
        if (gguf_find_tensor(a, y->name) >= 0) continue;
        fmt_shape(sb, sizeof sb, y);
        printf("tensor added: %s: %s %s\n", E(y->name), gguf_type_name(y->type), sb);
        n_diff++;
    }
    if (!order_same) { printf("%s\n", order_msg); n_diff++; }
    gguf_error err;
    gguf_error_clear(&err);
    if (gguf_check_unchanged(a, &err) || gguf_check_unchanged(b, &err)) {
        fflush(stdout);
        cli_error_gguf(&err);
        return CLI_FAIL;
    }
    return n_diff ? CLI_FAIL : CLI_OK;
}

/* ------------------------------------------------------------------ main */

static gguf_file *open_or_say(const char *path)
{
    gguf_error err;
    gguf_error_clear(&err);
    gguf_file *f = gguf_open(path, &err);
    if (!f) {
        if (err.msg[0]) cli_error_gguf(&err);
        else cli_error("'%s': %s", path, gguf_status_str(err.code));
    }
    return f;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    struct option longopts[N_OPTS + 1];
    memset(longopts, 0, sizeof longopts);
    for (size_t i = 0; i < N_OPTS; i++) {
        longopts[i].name = opt_defs[i].name;
        longopts[i].has_arg = opt_defs[i].has_arg;
        longopts[i].val = opt_defs[i].val;
    }
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': opt.json = true; break;
        case 'H': opt.hash = true; break;
        case 'f': opt.full = true; break;
        case 'c': opt.check = true; break;
        case 'd': opt.diff = true; break;
        case 'h': print_help(); return fflush(stdout) ? CLI_FAIL : CLI_OK;
        default:
            for (size_t i = 0; optopt && i < N_OPTS; i++)
                if (opt_defs[i].val == optopt && optopt != 'h')
                    cli_usage_error("option '--%s' takes no argument", opt_defs[i].name);
            if (optopt) cli_usage_error("unknown option '-%c'", optopt);
            cli_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    int n_files = argc - optind;
    if (opt.diff && opt.check) cli_usage_error("--diff and --check cannot be combined");
    if (opt.diff && opt.json) cli_usage_error("--diff prints text only; --json cannot be combined with it");
    if (opt.check && opt.hash) cli_usage_error("--check and --hash cannot be combined");
    if (opt.diff && n_files != 2) cli_usage_error("--diff needs two files, got %d", n_files);
    if (!opt.diff && n_files == 0) cli_usage_error("no input file");
    if (!opt.diff && n_files != 1) cli_usage_error("expected one file, got %d", n_files);

    int rc;
    gguf_file *a = open_or_say(argv[optind]);
    if (!a) return CLI_FAIL;
    if (opt.diff) {
        gguf_file *b = open_or_say(argv[optind + 1]);
        if (!b) { gguf_close(a); return CLI_FAIL; }
        rc = cmd_diff(a, b);
        gguf_close(b);
    } else if (opt.check) {
        rc = cmd_check(a);
    } else {
        rc = cmd_show(a);
    }
    gguf_close(a);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        return CLI_FAIL;
    }
    return rc;
}
