/*
 * modelcard.c - gguf-py's Metadata.get_model_id_components (the name heuristic that splits
 * "Qwen2.5-0.5B-Instruct" into basename / size_label / finetune / version); see convert.h.
 *
 * Reproduced from gguf-py/gguf/metadata.py (facts only, written from scratch):
 *  - a model id with a space is a plain name: (id, None, ...);
 *  - "org/name" splits at the first '/'; an org starting with '.' is dropped;
 *  - the name splits on '-' (empty parts dropped) and each part is annotated, first match wins:
 *    version  (v|iter)?\d+([.]\d+)*            (any position)
 *    type     i?q\d(_\w)*|b?fp?(16|32)          (upper-cased, then ignored)
 *    size     ([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl   (not first part;
 *             normalised: '_' -> '.', "7b1" -> "7.1B", k/m/b/t upper-cased after a digit; with a
 *             parameter count, a label more than 7/8 of the count away becomes a finetune with
 *             a lower-case suffix, e.g. "32k" context lengths, unless the next part is a matching
 *             active-parameter label "A3B")
 *    finetune chat|instruct|vision|lora         (not first part)
 *    all case-insensitive, matched as whole parts;
 *  - word sizes ("small") are dropped when a numeric size exists; leading untyped parts that
 *    start with a letter, and versions, form the basename; other untyped parts are finetunes;
 *    trailing versions leave the basename;
 *  - basename/size_label/finetune/version are the '-' joins (size labels deduplicated), and the
 *    basename is dropped when the other three are all None.
 * Python's str.isalpha/isdecimal and \d, \w are Unicode-aware; here they are ASCII, with any
 * non-ASCII byte counted as a letter. LoRA (negative parameter counts) is left out.
 */
#include "convert/convert.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Whole-string, case-insensitive match of `pat` (Python re.fullmatch(pat, s, re.IGNORECASE)). */
static bool full_match(const char *pat, const char *s)
{
    int e;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_CASELESS | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &e, &eo, NULL);
    if (!re) return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = md ? pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

enum { T_BASENAME = 1, T_SIZE = 2, T_FINETUNE = 4, T_VERSION = 8, T_TYPE = 16 };

static bool py_alpha(unsigned char c) { return isalpha(c) || c >= 0x80; }

/* normalize_size_label; returns malloc'd */
static char *norm_size(const char *in)
{
    size_t L = strlen(in);
    char *s = malloc(L + 2);
    if (!s) return NULL;
    for (size_t i = 0; i <= L; i++) s[i] = in[i] == '_' ? '.' : in[i];
    if (L >= 2 && isdigit((unsigned char)s[L - 1])) { /* bloom "7b1" -> "7.1b" */
        char d = s[L - 1], u = s[L - 2];
        s[L - 2] = '.';
        s[L - 1] = d;
        s[L] = u;
        s[++L] = 0;
    }
    if (L > 1 && isdigit((unsigned char)s[L - 2]) && strchr("kmbt", s[L - 1])) s[L - 1] = (char)toupper((unsigned char)s[L - 1]);
    return s;
}

/* get_size_label_params: float(label[:-1]) * 1000 ** " KMBT".find(label[-1]); false = ValueError */
static bool size_params(const char *label, double *out)
{
    size_t L = strlen(label);
    if (L < 2) return false;
    char num[64];
    if (L - 1 >= sizeof num) return false;
    memcpy(num, label, L - 1);
    num[L - 1] = 0;
    for (const char *c = num; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != '.') return false;
    char *end;
    double v = strtod(num, &end);
    if (end == num || *end || !strcmp(num, ".")) return false;
    const char *suf = " KMBT";
    const char *f = L ? strchr(suf, label[L - 1]) : NULL;
    int idx = f && label[L - 1] ? (int)(f - suf) : -1;
    *out = v * pow(1000.0, idx);
    return true;
}

void conv_id_parts_free(conv_id_parts *p)
{
    if (!p) return;
    free(p->full); free(p->org); free(p->basename); free(p->finetune); free(p->version); free(p->size_label);
    memset(p, 0, sizeof *p);
}

/* '-'-join of the parts whose type has `bit` (and not `unless`), dedup for size labels; NULL if none */
static char *join(char **parts, const unsigned *t, int n, unsigned bit, unsigned unless, bool dedup, bool *oom)
{
    size_t cap = 1;
    for (int i = 0; i < n; i++) cap += strlen(parts[i]) + 1;
    char *o = malloc(cap);
    if (!o) { *oom = true; return NULL; }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (!(t[i] & bit) || (t[i] & unless)) continue;
        if (dedup) {
            bool seen = false;
            for (int j = 0; j < i; j++)
                if ((t[j] & bit) && !(t[j] & unless) && !strcmp(parts[j], parts[i])) seen = true;
            if (seen) continue;
        }
        if (k) o[k++] = '-';
        size_t m = strlen(parts[i]);
        memcpy(o + k, parts[i], m);
        k += m;
    }
    o[k] = 0;
    if (!k) { free(o); return NULL; }
    return o;
}

int conv_model_id_components(const char *model_id, int64_t total_params, conv_id_parts *out)
{
    memset(out, 0, sizeof *out);
    if (!model_id) return 0;
    if (strchr(model_id, ' ')) {
        out->full = strdup(model_id);
        return out->full ? 0 : GGUF_E_NOMEM;
    }
    const char *slash = strchr(model_id, '/');
    const char *name = slash ? slash + 1 : model_id;
    if (slash && slash != model_id && model_id[0] != '.') {
        out->org = strndup(model_id, (size_t)(slash - model_id));
        if (!out->org) goto oom;
    } else if (slash && slash == model_id) {
        out->org = strdup(""); /* Python keeps an empty org ("" is not None) */
        if (!out->org) goto oom;
    }
    out->full = strdup(name);
    if (!out->full) goto oom;

    size_t L = strlen(name);
    char **parts = calloc(L / 2 + 2, sizeof *parts);
    unsigned *t = calloc(L / 2 + 2, sizeof *t);
    int n = 0;
    bool oom = !parts || !t;
    for (const char *s = name; !oom && *s; ) {
        const char *e = strchr(s, '-');
        size_t m = e ? (size_t)(e - s) : strlen(s);
        if (m && !(parts[n++] = strndup(s, m))) oom = true;
        s += m;
        if (*s == '-') s++;
    }
    for (int i = 0; !oom && i < n; i++) {
        char *part = parts[i];
        if (full_match("(v|iter)?\\d+([.]\\d+)*", part)) {
            t[i] |= T_VERSION;
        } else if (full_match("i?q\\d(_\\w)*|b?fp?(16|32)", part)) {
            t[i] |= T_TYPE;
            for (char *c = part; *c; c++) *c = (char)toupper((unsigned char)*c);
        } else if (i > 0 && full_match("(([A]|\\d+[x])?\\d+([._]\\d+)?[KMBT][\\d]?|small|mini|medium|large|x?xl)", part)) {
            char *p2 = norm_size(part);
            if (!p2) { oom = true; break; }
            if (total_params != 0) {
                double lp, np;
                bool ok = size_params(p2, &lp), follows = false;
                if (ok && i + 1 < n) {
                    char *next = norm_size(parts[i + 1]);
                    if (!next) { free(p2); oom = true; break; }
                    if (full_match("A\\d+([._]\\d+)?[KMBT][\\d]?", next)) {
                        if (size_params(next + 1, &np)) {
                            /* gguf-py: abs(np - total) <= 7 * total / 8, a float division; in double
                             * so absurd counts cannot overflow */
                            double tp = fabs((double)total_params);
                            follows = fabs(np - tp) <= tp * 7.0 / 8.0;
                        } else ok = false;
                    }
                    free(next);
                }
                if (ok && !follows && total_params > 0 &&
                    fabs(lp - (double)total_params) > (double)total_params * 7.0 / 8.0) {
                    t[i] |= T_FINETUNE; /* likely a context length: lower-case its suffix */
                    size_t m = strlen(p2);
                    p2[m - 1] = (char)tolower((unsigned char)p2[m - 1]);
                }
            }
            if (!t[i]) t[i] |= T_SIZE;
            free(parts[i]);
            parts[i] = p2;
        } else if (i > 0 && full_match("chat|instruct|vision|lora", part)) {
            t[i] |= T_FINETUNE;
        }
    }
    if (!oom) {
        bool numeric = false;
        for (int i = 0; i < n; i++)
            if (t[i] & T_SIZE)
                for (const char *c = parts[i]; *c; c++) numeric |= isdigit((unsigned char)*c) != 0;
        if (numeric)
            for (int i = 0; i < n; i++) {
                if (!(t[i] & T_SIZE)) continue;
                bool alpha = true;
                for (const char *c = parts[i]; *c; c++) alpha &= py_alpha((unsigned char)*c);
                if (alpha) t[i] &= ~(unsigned)T_SIZE;
            }
        bool at_start = true;
        for (int i = 0; i < n; i++) {
            if (at_start && ((!t[i] && py_alpha((unsigned char)parts[i][0])) || (t[i] & T_VERSION))) {
                t[i] |= T_BASENAME;
            } else {
                at_start = false;
                if (!t[i]) t[i] |= T_FINETUNE;
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            if ((t[i] & T_BASENAME) && (t[i] & ~(unsigned)T_BASENAME)) t[i] &= ~(unsigned)T_BASENAME;
            else break;
        }
        out->basename = join(parts, t, n, T_BASENAME, 0, false, &oom);
        out->size_label = join(parts, t, n, T_SIZE, 0, true, &oom);
        out->finetune = join(parts, t, n, T_FINETUNE, 0, false, &oom);
        out->version = join(parts, t, n, T_VERSION, T_BASENAME, false, &oom);
        if (!out->size_label && !out->finetune && !out->version) { free(out->basename); out->basename = NULL; }
    }
    for (int i = 0; parts && i < n; i++) free(parts[i]);
    free(parts);
    free(t);
    if (oom) goto oom;
    return 0;
oom:
    conv_id_parts_free(out);
    return GGUF_E_NOMEM;
}
