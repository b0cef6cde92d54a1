/*
 * yaml.c - the small YAML subset that Hugging Face model-card front matter uses; see convert.h.
 *
 * Supported: a block mapping of `key: value` at any indentation; block sequences `- x` (also at the
 * same indentation as their key, as HF cards write them); sequence items that are mappings
 * (`- name: x` + more keys below); flow sequences `[a, 'b', "c"]` (over several lines too); plain,
 * 'single' and "double" quoted scalars (\\ \" \n \t \r \/ \0 \xXX \uXXXX escapes), multi-line plain
 * scalars, `|` / `>` block scalars (blank lines inside them are dropped), `#` comments.
 * Every scalar stays a string (no int/bool/float typing; "null", "~" and nothing are null).
 * Flow mappings `{...}`, anchors/aliases/tags and multi-document streams give a CONV_Y_BAD node
 * at that value only (the caller decides whether it cares); broken structure (bad indentation, a
 * line that is neither key nor item) fails the whole parse with the line number.
 */
#include "convert/convert.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct yline { int indent; char *s; int no; } yline;
typedef struct yparser {
    yline *l;
    int    n, i;
    int    err_line;
    char   err[160];
    bool   nomem;
} yparser;

static void y_fail(yparser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void y_fail(yparser *p, int line, const char *fmt, ...)
{
    if (p->err[0] || p->nomem) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    p->err_line = line;
}

static conv_ynode *y_new(yparser *p, conv_ytype t, int line)
{
    conv_ynode *n = calloc(1, sizeof *n);
    if (!n) { p->nomem = true; return NULL; }
    n->type = t;
    n->line = line;
    return n;
}

void conv_ynode_free(conv_ynode *n)
{
    if (!n) return;
    free(n->str);
    for (int i = 0; i < n->n; i++) {
        conv_ynode_free(n->items[i]);
        if (n->keys) free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n);
}

static bool y_push(yparser *p, conv_ynode *c, char *key, conv_ynode *item)
{
    if (!item) { free(key); return false; }
    if ((c->n & (c->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = c->n ? (size_t)c->n * 2 : 1;
        conv_ynode **ni = realloc(c->items, cap * sizeof *ni);
        if (!ni) goto oom;
        c->items = ni;
        if (c->type == CONV_Y_MAP) {
            char **nk = realloc(c->keys, cap * sizeof *nk);
            if (!nk) goto oom;
            c->keys = nk;
        }
    }
    c->items[c->n] = item;
    if (c->type == CONV_Y_MAP) c->keys[c->n] = key;
    c->n++;
    return true;
oom:
    p->nomem = true;
    free(key);
    conv_ynode_free(item);
    return false;
}

/* ---------------------------------------------------------------- scalars */

static char *rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

static void put_utf8(char *o, size_t *k, unsigned c)
{
    if (c < 0x80) o[(*k)++] = (char)c;
    else if (c < 0x800) { o[(*k)++] = (char)(0xC0 | c >> 6); o[(*k)++] = (char)(0x80 | (c & 63)); }
    else { o[(*k)++] = (char)(0xE0 | c >> 12); o[(*k)++] = (char)(0x80 | ((c >> 6) & 63)); o[(*k)++] = (char)(0x80 | (c & 63)); }
}

/* One scalar (already trimmed). Returns a STR / NULL / BAD node. */
static conv_ynode *y_scalar(yparser *p, const char *s, int line)
{
    size_t L = strlen(s);
    if (!L || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return y_new(p, CONV_Y_NULL, line);
    if (s[0] == '{' || s[0] == '&' || s[0] == '*' || s[0] == '!' || s[0] == '|' || s[0] == '>' || s[0] == '@' || s[0] == '`')
        return y_new(p, CONV_Y_BAD, line);
    char *o = malloc(L + 1);
    if (!o) { p->nomem = true; return NULL; }
    size_t k = 0;
    if (s[0] == '\'' || s[0] == '"') {
        char q = s[0];
        size_t i = 1;
        bool closed = false;
        while (i < L) {
            char c = s[i];
            if (q == '\'' && c == '\'') {
                if (s[i + 1] == '\'') { o[k++] = '\''; i += 2; continue; }
                closed = true; i++; break;
            }
            if (q == '"' && c == '"') { closed = true; i++; break; }
            if (q == '"' && c == '\\' && i + 1 < L) {
                char e = s[i + 1];
                i += 2;
                switch (e) {
                case 'n': o[k++] = '\n'; break;
                case 't': o[k++] = '\t'; break;
                case 'r': o[k++] = '\r'; break;
                case '0': o[k++] = 0; break;
                case 'x': case 'u': {
                    int nd = e == 'x' ? 2 : 4;
                    unsigned c2 = 0;
                    for (int d = 0; d < nd; d++, i++) {
                        if (!isxdigit((unsigned char)s[i])) { free(o); return y_new(p, CONV_Y_BAD, line); }
                        c2 = c2 * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
                    }
                    if (c2 == 0 || (c2 >= 0xD800 && c2 < 0xE000)) { free(o); return y_new(p, CONV_Y_BAD, line); }
                    put_utf8(o, &k, c2); /* at most 3 bytes for <= 6 source chars */
                    break;
                }
                default: o[k++] = e; break; /* \\ \" \/ and the rest: the character itself */
                }
                continue;
            }
            o[k++] = c;
            i++;
        }
        while (i < L && s[i] == ' ') i++;
        if (!closed || i < L) { free(o); return y_new(p, CONV_Y_BAD, line); }
        if (memchr(o, 0, k)) { free(o); return y_new(p, CONV_Y_BAD, line); }
    } else {
        memcpy(o, s, L);
        k = L;
    }
    o[k] = 0;
    conv_ynode *n = y_new(p, CONV_Y_STR, line);
    if (!n) { free(o); return NULL; }
    n->str = o;
    return n;
}

/* ---------------------------------------------------------------- structure */

static bool is_item(const char *s) { return s[0] == '-' && (s[1] == 0 || s[1] == ' '); }

/* Offset of the ':' that ends a mapping key on this line, or -1. */
static int key_colon(const char *s)
{
    if (s[0] == '[' || s[0] == '{' || is_item(s)) return -1;
    size_t i = 0;
    if (s[0] == '"' || s[0] == '\'') {
        char q = s[0];
        for (i = 1; s[i]; i++) {
            if (q == '"' && s[i] == '\\' && s[i + 1]) { i++; continue; }
            if (s[i] == q) { if (q == '\'' && s[i + 1] == '\'') { i++; continue; } break; }
        }
        if (!s[i]) return -1;
        i++;
        while (s[i] == ' ') i++;
        return s[i] == ':' && (s[i + 1] == 0 || s[i + 1] == ' ') ? (int)i : -1;
    }
    for (; s[i]; i++)
        if (s[i] == ':' && (s[i + 1] == 0 || s[i + 1] == ' ')) return (int)i;
    return -1;
}

static conv_ynode *y_block(yparser *p);
static conv_ynode *y_map(yparser *p, int ind);
static conv_ynode *y_seq(yparser *p, int ind);

/* Append the lines more indented than `ind` to `first`, joined by `sep`; returns malloc'd text. */
static char *y_join_more(yparser *p, const char *first, int ind, char sep)
{
    size_t L = strlen(first), cap = L + 1;
    for (int j = p->i; j < p->n && p->l[j].indent > ind; j++) cap += strlen(p->l[j].s) + 1;
    char *o = malloc(cap + 1);
    if (!o) { p->nomem = true; return NULL; }
    memcpy(o, first, L);
    for (; p->i < p->n && p->l[p->i].indent > ind; p->i++) {
        size_t m = strlen(p->l[p->i].s);
        if (L) o[L++] = sep;
        memcpy(o + L, p->l[p->i].s, m);
        L += m;
    }
    o[L] = 0;
    return o;
}

static conv_ynode *y_flow_seq(yparser *p, char *txt, int line)
{
    conv_ynode *seq = y_new(p, CONV_Y_LIST, line);
    if (!seq) return NULL;
    char *s = txt + 1;
    char *end = s + strlen(s);
    while (end > s && end[-1] == ' ') end--;
    if (end == s || end[-1] != ']') { seq->type = CONV_Y_BAD; return seq; }
    *--end = 0;
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        char *st = s;
        char q = 0;
        for (; *s; s++) {
            if (q) {
                if (q == '"' && *s == '\\' && s[1]) { s++; continue; }
                if (*s == q) q = 0;
            } else if ((*s == '"' || *s == '\'') && s == st) q = *s;
            else if (*s == ',') break;
            else if (*s == '[' || *s == '{' || *s == ']' || *s == '}') { seq->type = CONV_Y_BAD; return seq; }
        }
        char c = *s;
        *s = 0;
        rtrim(st);
        if (*st) {
            conv_ynode *it = y_scalar(p, st, line);
            if (!y_push(p, seq, NULL, it)) { conv_ynode_free(seq); return NULL; }
        } else if (c == ',') { seq->type = CONV_Y_BAD; return seq; } /* "[a,,b]" */
        if (c) s++;
    }
    return seq;
}

/* The value after "key:" or "- " whose own line (already consumed) had indentation `ind`. */
static conv_ynode *y_value(yparser *p, const char *rest, int ind, int line, bool in_map)
{
    if (!*rest) {
        if (p->i < p->n && (p->l[p->i].indent > ind || (in_map && p->l[p->i].indent == ind && is_item(p->l[p->i].s))))
            return y_block(p);
        return y_new(p, CONV_Y_NULL, line);
    }
    if (rest[0] == '|' || rest[0] == '>') {
        char *t = y_join_more(p, "", ind, rest[0] == '|' ? '\n' : ' ');
        if (!t) return NULL;
        size_t L = strlen(t);
        char *o = realloc(t, L + 2);
        if (!o) { free(t); p->nomem = true; return NULL; }
        if (rest[1] != '-' && L) { o[L] = '\n'; o[L + 1] = 0; } /* clip chomping keeps one newline */
        conv_ynode *n = y_new(p, CONV_Y_STR, line);
        if (!n) { free(o); return NULL; }
        n->str = o;
        return n;
    }
    if (rest[0] != '"' && rest[0] != '\'' && rest[0] != '[')
        for (int j = p->i; j < p->n && p->l[j].indent > ind; j++)
            if (key_colon(p->l[j].s) >= 0) { /* PyYAML: "mapping values are not allowed here" */
                y_fail(p, p->l[j].no, "unexpected indentation");
                return NULL;
            }
    char *t = y_join_more(p, rest, ind, ' ');
    if (!t) return NULL;
    conv_ynode *n = t[0] == '[' ? y_flow_seq(p, t, line) : y_scalar(p, rtrim(t), line);
    free(t);
    return n;
}

static conv_ynode *y_map(yparser *p, int ind)
{
    conv_ynode *m = y_new(p, CONV_Y_MAP, p->l[p->i].no);
    if (!m) return NULL;
    while (p->i < p->n && p->l[p->i].indent == ind && !is_item(p->l[p->i].s)) {
        yline *ln = &p->l[p->i];
        int c = key_colon(ln->s);
        if (c < 0) { y_fail(p, ln->no, "expected 'key: value'"); break; }
        ln->s[c] = 0;
        char *k = rtrim(ln->s);
        conv_ynode *kn = (k[0] == '"' || k[0] == '\'') ? y_scalar(p, k, ln->no) : NULL;
        char *key = strdup(kn && kn->type == CONV_Y_STR ? kn->str : k);
        conv_ynode_free(kn);
        if (!key) { p->nomem = true; break; }
        const char *rest = ln->s + c + 1;
        while (*rest == ' ') rest++;
        int no = ln->no;
        p->i++;
        if (!y_push(p, m, key, y_value(p, rest, ind, no, true))) break;
        if (p->err[0]) break;
    }
    if (!p->err[0] && !p->nomem && p->i < p->n && p->l[p->i].indent > ind)
        y_fail(p, p->l[p->i].no, "unexpected indentation");
    if (p->err[0] || p->nomem) { conv_ynode_free(m); return NULL; }
    return m;
}

static conv_ynode *y_seq(yparser *p, int ind)
{
    conv_ynode *sq = y_new(p, CONV_Y_LIST, p->l[p->i].no);
    if (!sq) return NULL;
    while (p->i < p->n && p->l[p->i].indent == ind && is_item(p->l[p->i].s)) {
        yline *ln = &p->l[p->i];
        char *rest = ln->s + 1;
        while (*rest == ' ') rest++;
        conv_ynode *it;
        if (*rest && (is_item(rest) || (key_colon(rest) >= 0))) {
            /* "- key: v" or "- - x": the item is a block starting at the column of `rest` */
            ln->indent += (int)(rest - ln->s);
            ln->s = rest;
            it = y_block(p);
        } else {
            int no = ln->no;
            p->i++;
            it = y_value(p, rest, ind, no, false);
        }
        if (!y_push(p, sq, NULL, it) || p->err[0]) break;
    }
    if (!p->err[0] && !p->nomem && p->i < p->n && p->l[p->i].indent > ind)
        y_fail(p, p->l[p->i].no, "unexpected indentation");
    if (p->err[0] || p->nomem) { conv_ynode_free(sq); return NULL; }
    return sq;
}

static conv_ynode *y_block(yparser *p)
{
    yline *ln = &p->l[p->i];
    if (is_item(ln->s)) return y_seq(p, ln->indent);
    if (key_colon(ln->s) >= 0) return y_map(p, ln->indent);
    int ind = ln->indent, no = ln->no;
    p->i++;
    return y_value(p, ln->s, ind - 1, no, false);
}

/* Strip a comment: '#' at the start or after a blank, outside quotes. */
static void strip_comment(char *s)
{
    char q = 0;
    for (char *c = s; *c; c++) {
        if (q) {
            if (q == '"' && *c == '\\' && c[1]) { c++; continue; }
            if (*c == q) q = 0;
            continue;
        }
        bool at_tok = c == s || strchr(" [,:-{", c[-1]);
        if ((*c == '"' || *c == '\'') && at_tok) q = *c;
        else if (*c == '#' && (c == s || c[-1] == ' ')) { *c = 0; return; }
    }
}

int conv_yaml_parse(const char *text, size_t len, conv_ynode **out, int *err_line, char *msg, size_t msg_size)
{
    *out = NULL;
    if (err_line) *err_line = 0;
    if (msg && msg_size) msg[0] = 0;
    /* a mutable copy with tabs as two spaces, as gguf-py does before yaml.safe_load */
    size_t ntab = 0;
    for (size_t i = 0; i < len; i++) ntab += text[i] == '\t';
    char *buf = malloc(len + ntab + 1);
    yparser p = { 0 };
    int nl = 1;
    for (size_t i = 0; i < len; i++) nl += text[i] == '\n';
    p.l = calloc((size_t)nl, sizeof *p.l);
    if (!buf || !p.l) { free(buf); free(p.l); return GGUF_E_NOMEM; }
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\t') { buf[k++] = ' '; buf[k++] = ' '; }
        else buf[k++] = text[i] ? text[i] : ' ';
    }
    buf[k] = 0;
    int no = 0;
    for (char *s = buf; s; ) {
        char *e = strchr(s, '\n');
        if (e) *e = 0;
        no++;
        strip_comment(s);
        rtrim(s);
        int ind = 0;
        while (s[ind] == ' ') ind++;
        if (s[ind] && !(ind == 0 && (!strcmp(s, "---") || !strcmp(s, "...")))) {
            p.l[p.n].indent = ind;
            p.l[p.n].s = s + ind;
            p.l[p.n].no = no;
            p.n++;
        }
        s = e ? e + 1 : NULL;
    }
    conv_ynode *root = NULL;
    if (p.n) {
        root = y_block(&p);
        if (root && p.i < p.n) { y_fail(&p, p.l[p.i].no, "unexpected indentation"); conv_ynode_free(root); root = NULL; }
    } else {
        root = y_new(&p, CONV_Y_NULL, 0);
    }
    free(buf);
    free(p.l);
    if (p.nomem) { conv_ynode_free(root); return GGUF_E_NOMEM; }
    if (!root) {
        if (err_line) *err_line = p.err_line;
        if (msg && msg_size) snprintf(msg, msg_size, "%s", p.err[0] ? p.err : "syntax error");
        return CONV_E_YAML;
    }
    *out = root;
    return 0;
}

const conv_ynode *conv_ynode_get(const conv_ynode *map, const char *key)
{
    if (!map || map->type != CONV_Y_MAP) return NULL;
    for (int i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return map->items[i]; /* YAML: keys unique; first wins here */
    return NULL;
}
