/* meta.c - general.* and qwen2.* KVs of a converted model; see convert.h. */
#include "convert/convert.h"

#include <ctype.h>
#include <stdarg.h>
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

/* ---------------------------------------------------------------- model card -> conv_meta
 *
 * What this reproduces of gguf-py (gguf/metadata.py Metadata.load, load_model_card,
 * apply_metadata_heuristic, set_gguf_meta_model; convert_hf_to_gguf.py ModelBase.prepare_metadata):
 *  1. README.md: front matter only if the first line is exactly "---", up to the next "---" line;
 *     tabs become two spaces. A card that does not parse, or is not a mapping, is ignored with a
 *     warning (gguf-py logs an error for a non-mapping; a YAML syntax error would stop it).
 *  2. Card keys, first non-null wins: name/model_name, author/model_author/model_creator,
 *     version/model_version, organization/model_organization, description/model_description,
 *     finetune/model_finetune, basename/model_basename/model_type, size_label/model_size_label,
 *     url/model_url -> source.url, doi -> source.doi, uuid -> source.uuid, repo_url -> source.repo_url;
 *     license (a list is joined with ","), license_name, license_link.
 *  3. base_model (else base_models, else base_model_sources; a string or a list): each string is an
 *     http(s)/ssh URL (repo_url, plus name/organization/version when it is
 *     https://huggingface.co/ORG/NAME) or an HF id "ORG/NAME" (name = id_to_title(NAME),
 *     organization = id_to_title(ORG), version from the name heuristic, repo_url =
 *     https://huggingface.co/ORG/NAME); a mapping is taken as is (name, author, version,
 *     organization, description, url, doi, uuid, repo_url). The key present at all means
 *     general.base_model.count is written, even 0. datasets / dataset / dataset_sources likewise.
 *  4. tags += tags, pipeline_tag; languages += languages, language (a string or a list each).
 *  5. config.json "_name_or_path" with at most one '/', then the directory name, through
 *     get_model_id_components (modelcard.c): name = id_to_title(full name), organization,
 *     basename, finetune, version, size_label, each only where still unset.
 *  6. name falls back to the directory name; size_label to the parameter count (conv_size_label).
 *  7. Written in set_gguf_meta_model's order with gguf_writer's rules: strings only when non-empty,
 *     arrays only when non-empty, counts as u32.
 * Left out: the --metadata override JSON and --model-name (this tool has neither), so url, doi,
 * uuid, repo_url and quantized_by are never written; general.sampling.sequence, xtc_*,
 * penalty_last_n and mirostat*; YAML typing (every scalar is a string, so `version: 1.0` gives
 * "1.0" where PyYAML gives a float); list items that are not strings are skipped with a warning.
 */

typedef struct card_ctx {
    conv_meta  *m;
    const char *path;
} card_ctx;

static void meta_warn(conv_meta *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void meta_warn(conv_meta *m, const char *fmt, ...)
{
    if (m->n_warnings >= (int)(sizeof m->warnings / sizeof m->warnings[0])) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->warnings[m->n_warnings++], sizeof m->warnings[0], fmt, ap);
    va_end(ap);
}

/* use_model_card_metadata: set *field from card[key] if the key exists and *field is unset. */
static int card_str(card_ctx *c, const conv_ynode *card, char **field, const char *key)
{
    const conv_ynode *v = conv_ynode_get(card, key);
    if (!v || *field) return 0;
    if (v->type == CONV_Y_NULL) return 0;
    if (v->type == CONV_Y_LIST && !strcmp(key, "license")) { /* gguf-py joins a license list with ',' */
        size_t cap = 1;
        for (int i = 0; i < v->n; i++) cap += (v->items[i]->str ? strlen(v->items[i]->str) : 0) + 1;
        char *o = malloc(cap);
        if (!o) return GGUF_E_NOMEM;
        size_t k = 0;
        for (int i = 0; i < v->n; i++) {
            if (v->items[i]->type != CONV_Y_STR) continue;
            if (k) o[k++] = ',';
            size_t n = strlen(v->items[i]->str);
            memcpy(o + k, v->items[i]->str, n);
            k += n;
        }
        o[k] = 0;
        *field = o;
        return 0;
    }
    if (v->type != CONV_Y_STR) {
        meta_warn(c->m, "'%s' line %d: key '%s' is not a string, ignored", c->path, v->line, key);
        return 0;
    }
    return (*field = strdup(v->str)) ? 0 : GGUF_E_NOMEM;
}

/* use_array_model_card_metadata: append card[key] (string or list of strings) to a list. */
static int card_list(card_ctx *c, const conv_ynode *card, char ***list, int *n, const char *key)
{
    const conv_ynode *v = conv_ynode_get(card, key);
    if (!v || v->type == CONV_Y_NULL) return 0;
    const conv_ynode *one[1] = { v };
    const conv_ynode *const *items = v->type == CONV_Y_LIST ? (const conv_ynode *const *)v->items : one;
    int k = v->type == CONV_Y_LIST ? v->n : v->type == CONV_Y_STR ? 1 : 0;
    if (v->type != CONV_Y_LIST && v->type != CONV_Y_STR)
        meta_warn(c->m, "'%s' line %d: key '%s' is not a string or a list, ignored", c->path, v->line, key);
    char **nl = realloc(*list, (size_t)(*n + k + 1) * sizeof *nl);
    if (!nl) return GGUF_E_NOMEM;
    *list = nl;
    for (int i = 0; i < k; i++) {
        if (items[i]->type != CONV_Y_STR) {
            meta_warn(c->m, "'%s' line %d: an item of '%s' is not a string, ignored", c->path, items[i]->line, key);
            continue;
        }
        if (!(nl[*n] = strdup(items[i]->str))) return GGUF_E_NOMEM;
        (*n)++;
    }
    return 0;
}

static char *title_dup(const char *s)
{
    char *o = malloc(strlen(s) + 1);
    if (o) conv_id_to_title(s, o, strlen(s) + 1);
    return o;
}

static void src_free(conv_meta_src *s)
{
    free(s->name); free(s->author); free(s->version); free(s->organization); free(s->description);
    free(s->url); free(s->doi); free(s->uuid); free(s->repo_url);
}

/* Fill one base model / dataset entry from an id or URL string (apply_metadata_heuristic). */
static int src_from_id(conv_meta_src *e, const char *id, int64_t n_params)
{
    conv_id_parts ip;
    const char *hf = NULL;
    char hfbuf[1024];
    int rc = 0;
    bool url = !strncmp(id, "http://", 7) || !strncmp(id, "https://", 8) || !strncmp(id, "ssh://", 6);
    if (url) {
        if (!(e->repo_url = strdup(id))) return GGUF_E_NOMEM;
        /* re.match(r"https?://huggingface.co/([^/]+/[^/]+)$") ('.' matches any character) */
        const char *p = !strncmp(id, "https://", 8) ? id + 8 : !strncmp(id, "http://", 7) ? id + 7 : NULL;
        if (p && strstr(id, "huggingface.co") && !strncmp(p, "huggingface", 11) && p[11] && !strncmp(p + 12, "co/", 3)) {
            const char *q = p + 15, *sl = strchr(q, '/');
            if (sl && sl > q && sl[1] && !strchr(sl + 1, '/') && strlen(q) < sizeof hfbuf) {
                snprintf(hfbuf, sizeof hfbuf, "%s", q);
                size_t L = strlen(hfbuf);
                if (L && hfbuf[L - 1] == '\n') hfbuf[L - 1] = 0;
                hf = hfbuf;
            }
        }
        if (!hf) return 0;
    } else {
        hf = id;
    }
    if ((rc = conv_model_id_components(hf, n_params, &ip))) return rc;
    if (ip.full && !(e->name = title_dup(ip.full))) rc = GGUF_E_NOMEM;
    if (!rc && ip.org && !(e->organization = title_dup(ip.org))) rc = GGUF_E_NOMEM;
    if (!rc && ip.version && !(e->version = strdup(ip.version))) rc = GGUF_E_NOMEM;
    if (!rc && !url && ip.org && ip.full) {
        size_t n = strlen(ip.org) + strlen(ip.full) + 32;
        if (!(e->repo_url = malloc(n))) rc = GGUF_E_NOMEM;
        else snprintf(e->repo_url, n, "https://huggingface.co/%s/%s", ip.org, ip.full);
    }
    conv_id_parts_free(&ip);
    return rc;
}

static int card_sources(card_ctx *c, const conv_ynode *card, const char *const keys[3], bool *has,
                        conv_meta_src **out, int *n, int64_t n_params)
{
    const conv_ynode *v = NULL;
    int which = -1;
    for (int i = 0; i < 3 && which < 0; i++)
        if ((v = conv_ynode_get(card, keys[i]))) which = i;
    if (which < 0) return 0;
    *has = true;
    const conv_ynode *one[1] = { v };
    const conv_ynode *const *items = v->type == CONV_Y_LIST ? (const conv_ynode *const *)v->items : one;
    int k = v->type == CONV_Y_LIST ? v->n : v->type == CONV_Y_STR ? 1 : 0;
    if (v->type == CONV_Y_MAP || v->type == CONV_Y_BAD)
        meta_warn(c->m, "'%s' line %d: key '%s' is not a string or a list, ignored", c->path, v->line, keys[which]);
    if (!k) return 0;
    conv_meta_src *arr = realloc(*out, (size_t)(*n + k) * sizeof *arr);
    if (!arr) return GGUF_E_NOMEM;
    *out = arr;
    for (int i = 0; i < k; i++) {
        conv_meta_src *e = &arr[(*n)++];
        memset(e, 0, sizeof *e);
        const conv_ynode *it = items[i];
        int rc = 0;
        if (it->type == CONV_Y_STR) {
            rc = src_from_id(e, it->str, n_params);
        } else if (it->type == CONV_Y_MAP) {
            static const char *const fk[] = { "name", "author", "version", "organization", "description", "url", "doi", "uuid", "repo_url" };
            char **fp[] = { &e->name, &e->author, &e->version, &e->organization, &e->description, &e->url, &e->doi, &e->uuid, &e->repo_url };
            for (int f = 0; f < 9 && !rc; f++) rc = card_str(c, it, fp[f], fk[f]);
        } else {
            /* gguf-py: "entry not in a known format", and an empty entry still counts */
            meta_warn(c->m, "'%s' line %d: an entry of '%s' is not a string or a mapping, ignored", c->path, it->line, keys[which]);
        }
        if (rc) return rc;
    }
    return 0;
}

/* Apply the id heuristics of one model id (config _name_or_path or the directory name). */
static int apply_id(conv_meta *m, const char *id, int64_t n_params)
{
    conv_id_parts ip;
    int rc = conv_model_id_components(id, n_params, &ip);
    if (rc) return rc;
    if (!m->name && ip.full && !(m->name = title_dup(ip.full))) rc = GGUF_E_NOMEM;
    if (!rc && !m->organization && ip.org && !(m->organization = title_dup(ip.org))) rc = GGUF_E_NOMEM;
#define TAKE(f) if (!rc && !m->f && ip.f) { m->f = ip.f; ip.f = NULL; }
    TAKE(basename) TAKE(finetune) TAKE(version)
#undef TAKE
    if (!rc && !m->size_label[0] && ip.size_label) snprintf(m->size_label, sizeof m->size_label, "%s", ip.size_label);
    conv_id_parts_free(&ip);
    return rc;
}

/* README.md front matter -> fields of m (steps 1-4 above). Only I/O errors fail. */
static int apply_card(conv_meta *m, const char *dir, int64_t n_params, gguf_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/README.md", dir);
    if (n < 0 || (size_t)n >= sizeof path) return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "path too long: '%s'", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return 0;
        return gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot open '%s': %s", path, strerror(errno));
    }
    /* only the front matter is needed: read up to the closing "---" (cards can be large) */
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    char line[4096];
    bool first = true, closed = false, is_dir = false;
    int rc = 0;
    if (!text) { fclose(f); return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); }
    while (fgets(line, sizeof line, f)) {
        size_t L = strlen(line);
        size_t b = L;
        while (b && (line[b - 1] == '\n' || line[b - 1] == '\r')) b--;
        bool sep = b == 3 && !memcmp(line, "---", 3);
        if (first) { first = false; if (!sep) break; continue; }
        if (sep) { closed = true; break; }
        if (len + L + 1 > cap) {
            if (cap > (64u << 20)) break; /* absurd front matter: stop reading */
            char *nt = realloc(text, cap * 2 + L);
            if (!nt) { free(text); fclose(f); return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory"); }
            text = nt;
            cap = cap * 2 + L;
        }
        memcpy(text + len, line, L);
        len += L;
    }
    if (ferror(f)) {
        is_dir = errno == EISDIR;
        if (!is_dir) rc = gguf_error_set(err, GGUF_E_IO, UINT64_MAX, "cannot read '%s': %s", path, strerror(errno));
    }
    fclose(f);
    (void)closed; /* gguf-py takes everything after the opening "---" when no closing one follows */
    if (rc || is_dir || first || !len) { free(text); return rc; }

    conv_ynode *card = NULL;
    int eline = 0;
    char msg[160];
    int yr = conv_yaml_parse(text, len, &card, &eline, msg, sizeof msg);
    free(text);
    if (yr == GGUF_E_NOMEM) return gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    if (yr) {
        /* lines are counted inside the front matter; +1 for the opening "---" */
        meta_warn(m, "'%s' line %d: %s; model card ignored", path, eline + 1, msg);
        return 0;
    }
    if (card->type != CONV_Y_MAP) {
        if (card->type != CONV_Y_NULL) meta_warn(m, "'%s': front matter is not a mapping; model card ignored", path);
        conv_ynode_free(card);
        return 0;
    }
    card_ctx c = { m, path };
    static const struct { size_t off; const char *key; } sk[] = {
        { offsetof(conv_meta, name), "name" }, { offsetof(conv_meta, author), "author" },
        { offsetof(conv_meta, version), "version" }, { offsetof(conv_meta, organization), "organization" },
        { offsetof(conv_meta, description), "description" }, { offsetof(conv_meta, finetune), "finetune" },
        { offsetof(conv_meta, basename), "basename" }, { SIZE_MAX, "size_label" },
        { offsetof(conv_meta, source_url), "url" }, { offsetof(conv_meta, source_doi), "doi" },
        { offsetof(conv_meta, source_uuid), "uuid" }, { offsetof(conv_meta, source_repo_url), "repo_url" },
        { offsetof(conv_meta, name), "model_name" }, { offsetof(conv_meta, author), "model_author" },
        { offsetof(conv_meta, version), "model_version" }, { offsetof(conv_meta, organization), "model_organization" },
        { offsetof(conv_meta, description), "model_description" }, { offsetof(conv_meta, finetune), "model_finetune" },
        { offsetof(conv_meta, basename), "model_basename" }, { SIZE_MAX, "model_size_label" },
        { offsetof(conv_meta, source_url), "model_url" }, { offsetof(conv_meta, source_doi), "model_doi" },
        { offsetof(conv_meta, source_uuid), "model_uuid" }, { offsetof(conv_meta, source_repo_url), "model_repo_url" },
        { offsetof(conv_meta, author), "model_creator" }, { offsetof(conv_meta, basename), "model_type" },
    };
    char *size_label = NULL;
    for (size_t i = 0; i < sizeof sk / sizeof sk[0] && !rc; i++)
        rc = card_str(&c, card, sk[i].off == SIZE_MAX ? &size_label : (char **)((char *)m + sk[i].off), sk[i].key);
    if (size_label) { snprintf(m->size_label, sizeof m->size_label, "%s", size_label); free(size_label); }
    static const char *const bk[3] = { "base_model", "base_models", "base_model_sources" };
    static const char *const dk[3] = { "datasets", "dataset", "dataset_sources" };
    if (!rc) rc = card_sources(&c, card, bk, &m->has_base_models, &m->base_models, &m->n_base_models, n_params);
    if (!rc) rc = card_sources(&c, card, dk, &m->has_datasets, &m->datasets, &m->n_datasets, n_params);
    if (!rc) rc = card_str(&c, card, &m->license, "license");
    if (!rc) rc = card_str(&c, card, &m->license_name, "license_name");
    if (!rc) rc = card_str(&c, card, &m->license_link, "license_link");
    if (!rc) rc = card_list(&c, card, &m->tags, &m->n_tags, "tags");
    if (!rc) rc = card_list(&c, card, &m->tags, &m->n_tags, "pipeline_tag");
    if (!rc) rc = card_list(&c, card, &m->languages, &m->n_languages, "languages");
    if (!rc) rc = card_list(&c, card, &m->languages, &m->n_languages, "language");
    conv_ynode_free(card);
    if (rc) return gguf_error_set(err, rc, UINT64_MAX, "out of memory");
    return 0;
}

void conv_meta_free(conv_meta *m)
{
    if (!m) return;
    char **s[] = { &m->name, &m->author, &m->version, &m->organization, &m->finetune, &m->basename, &m->description,
                   &m->license, &m->license_name, &m->license_link, &m->source_url, &m->source_doi, &m->source_uuid,
                   &m->source_repo_url };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(*s[i]);
    for (int i = 0; i < m->n_base_models; i++) src_free(&m->base_models[i]);
    for (int i = 0; i < m->n_datasets; i++) src_free(&m->datasets[i]);
    free(m->base_models);
    free(m->datasets);
    for (int i = 0; i < m->n_tags; i++) free(m->tags[i]);
    for (int i = 0; i < m->n_languages; i++) free(m->languages[i]);
    free(m->tags);
    free(m->languages);
    memset(m, 0, sizeof *m);
}

int conv_meta_load(const conv_hf_model *m, conv_meta *out, gguf_error *err)
{
    int64_t np = 0;
    for (int64_t i = 0; i < conv_hf_n_tensors(m); i++) {
        const conv_tensor *t = conv_hf_tensor(m, i);
        int64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
        np += n;
    }
    return conv_meta_load_dir(conv_hf_dir(m), np, out, err);
}

static int load_sampling(conv_meta *out, const char *dir, gguf_error *err);

int conv_meta_load_dir(const char *dir, int64_t n_params, conv_meta *out, gguf_error *err)
{
    memset(out, 0, sizeof *out);
    out->n_params = n_params;
    /* the directory's own name (trailing slashes ignored; "." and ".." resolved) */
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
    int rc = apply_card(out, dir, n_params, err);
    if (!rc) {
        /* config.json "_name_or_path", when it looks like a model id and not a local path */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/config.json", dir);
        json_t *cfg = json_load_file(path, 0, NULL);
        const char *nop = json_string_value(json_object_get(cfg, "_name_or_path"));
        int slashes = 0;
        for (const char *c = nop; c && *c; c++) slashes += *c == '/';
        if (nop && slashes <= 1 && (rc = apply_id(out, nop, n_params)))
            gguf_error_set(err, rc, UINT64_MAX, "out of memory");
        json_decref(cfg);
    }
    if (!rc && (rc = apply_id(out, base, n_params))) gguf_error_set(err, rc, UINT64_MAX, "out of memory");
    if (!rc && !out->name && !(out->name = strdup(base))) rc = gguf_error_set(err, GGUF_E_NOMEM, UINT64_MAX, "out of memory");
    if (!rc && !out->size_label[0] && n_params > 0) conv_size_label(n_params, out->size_label, sizeof out->size_label);
    if (!rc) rc = load_sampling(out, dir, err);
    if (rc) conv_meta_free(out);
    return rc;
}

static int load_sampling(conv_meta *out, const char *dir, gguf_error *err)
{
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

/* gguf_writer.add_string: nothing for NULL or "" */
static int kv_s(gguf_writer *w, const char *key, const char *v)
{
    return v && *v ? gguf_writer_kv_str(w, key, v, strlen(v)) : 0;
}

static int kv_strs(gguf_writer *w, const char *key, char **v, int n)
{
    if (n <= 0) return 0; /* gguf_writer.add_array: nothing for an empty list */
    gguf_str *a = malloc((size_t)n * sizeof *a);
    if (!a) return GGUF_E_NOMEM;
    for (int i = 0; i < n; i++) { a[i].ptr = v[i]; a[i].len = strlen(v[i]); }
    int rc = gguf_writer_kv_arr_str(w, key, a, (uint64_t)n);
    free(a);
    return rc;
}

static int kv_srcs(gguf_writer *w, const char *kind, const conv_meta_src *e, int n)
{
    char key[96];
    snprintf(key, sizeof key, "general.%s.count", kind);
    int rc = gguf_writer_kv_u32(w, key, (uint32_t)n);
    for (int i = 0; i < n && !rc; i++) {
        const char *const fk[] = { "name", "author", "version", "organization", "description", "url", "doi", "uuid", "repo_url" };
        const char *const fv[] = { e[i].name, e[i].author, e[i].version, e[i].organization, e[i].description,
                                   e[i].url, e[i].doi, e[i].uuid, e[i].repo_url };
        for (int f = 0; f < 9 && !rc; f++) {
            snprintf(key, sizeof key, "general.%s.%d.%s", kind, i, fk[f]);
            rc = kv_s(w, key, fv[f]);
        }
    }
    return rc;
}

/* Metadata.set_gguf_meta_model, after the sampling keys (FORMATS.md 5.1 item 4) */
static int write_general(gguf_writer *w, const conv_meta *m)
{
    int rc = 0;
    const struct { const char *key, *val; } s[] = {
        { "general.name", m->name }, { "general.author", m->author }, { "general.version", m->version },
        { "general.organization", m->organization }, { "general.finetune", m->finetune },
        { "general.basename", m->basename }, { "general.description", m->description },
        { "general.size_label", m->size_label }, { "general.license", m->license },
        { "general.license.name", m->license_name }, { "general.license.link", m->license_link },
        { "general.source.url", m->source_url }, { "general.source.doi", m->source_doi },
        { "general.source.uuid", m->source_uuid }, { "general.source.repo_url", m->source_repo_url },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0] && !rc; i++) rc = kv_s(w, s[i].key, s[i].val);
    if (!rc && m->has_base_models) rc = kv_srcs(w, "base_model", m->base_models, m->n_base_models);
    if (!rc && m->has_datasets) rc = kv_srcs(w, "dataset", m->datasets, m->n_datasets);
    if (!rc) rc = kv_strs(w, "general.tags", m->tags, m->n_tags);
    if (!rc) rc = kv_strs(w, "general.languages", m->languages, m->n_languages);
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
    W(write_general(w, meta));
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
