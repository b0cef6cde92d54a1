/* cli.c - shared CLI helpers; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *g_prog = "gguf";
static bool g_quiet;

#define CLI_MAX_TMP 64
static char *volatile g_tmp[CLI_MAX_TMP];

static void cli__unlink_tmps(void)
{
    for (int i = 0; i < CLI_MAX_TMP; i++) {
        char *p = g_tmp[i];
        if (p) unlink(p);
    }
}

/* SIGBUS: a memory-mapped input shrank (or its storage failed) under us. Report it as the
 * input error it is, not as a crash. */
static void cli__on_sigbus(int sig)
{
    (void)sig;
    cli__unlink_tmps();
    static const char msg[] = ": an input file shrank or became unreadable while being read (SIGBUS); "
                              "no output written\n";
    ssize_t r = write(2, g_prog, strlen(g_prog));
    r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(1);
}

static void cli__on_signal(int sig)
{
    /* async-signal-safe: unlink + _exit only */
    cli__unlink_tmps();
    static const char msg[] = ": interrupted, temporary output removed\n";
    ssize_t r = write(2, g_prog, strlen(g_prog));
    r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(128 + sig);
}

void cli_init(const char *prog)
{
    const char *slash = strrchr(prog, '/');
    g_prog = slash ? slash + 1 : prog;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cli__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = cli__on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
}

const char *cli_prog(void) { return g_prog; }

void cli_tmp_register(const char *path)
{
    if (!path) return;
    char *copy = strdup(path);
    if (!copy) return;
    for (int i = 0; i < CLI_MAX_TMP; i++) {
        if (!g_tmp[i]) { g_tmp[i] = copy; return; }
    }
    free(copy);
}

void cli_tmp_unregister(const char *path)
{
    if (!path) return;
    for (int i = 0; i < CLI_MAX_TMP; i++) {
        char *p = g_tmp[i];
        if (p && !strcmp(p, path)) {
            g_tmp[i] = NULL;
            free(p);
            return;
        }
    }
}

gguf_writer *cli_writer_open(const char *path, unsigned flags, gguf_error *err)
{
    gguf_writer *w = gguf_writer_open(path, flags, err);
    if (w) cli_tmp_register(gguf_writer_tmp_path(w));
    return w;
}

int cli_writer_finish(gguf_writer *w, gguf_error *err)
{
    if (!w) return GGUF_E_USAGE;
    char *tmp = strdup(gguf_writer_tmp_path(w));
    int rc = gguf_writer_finish(w, err);
    cli_tmp_unregister(tmp);
    free(tmp);
    return rc;
}

void cli_writer_abort(gguf_writer *w)
{
    if (!w) return;
    char *tmp = strdup(gguf_writer_tmp_path(w));
    gguf_writer_abort(w);
    cli_tmp_unregister(tmp);
    free(tmp);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_error_gguf(const gguf_error *err)
{
    if (err && err->msg[0]) cli_error("%s", err->msg);
    else cli_error("%s", gguf_status_str(err ? err->code : GGUF_E_USAGE));
}

void cli_set_quiet(bool quiet) { g_quiet = quiet; }
bool cli_quiet(void) { return g_quiet; }

void cli_warn(const char *fmt, ...)
{
    if (g_quiet) return;
    va_list ap;
    fprintf(stderr, "%s: warning: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", g_prog);
    exit(CLI_USAGE);
}

int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s) return -1;
    int64_t v = 0;
    bool neg = false;
    if (*s == '-') { neg = true; s++; }
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (INT64_MAX - (*s - '0')) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    if (neg) v = -v;
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, bool require_unit, uint64_t *out)
{
    if (!s || !*s) return -1;
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == s) return -1;
    uint64_t mul = 1;
    if (*p == 'M' || *p == 'm') { mul = 1000000ull; p++; }
    else if (*p == 'G' || *p == 'g') { mul = 1000000000ull; p++; }
    else if (require_unit) return -1;
    if (*p) return -1;
    if (v && mul > UINT64_MAX / v) return -1;
    *out = v * mul;
    return 0;
}

char *cli_fmt_bytes(char *buf, size_t size, uint64_t b)
{
    if (b >= 1000000000ull) snprintf(buf, size, "%.2f GB", b / 1e9);
    else if (b >= 1000000ull) snprintf(buf, size, "%.1f MB", b / 1e6);
    else if (b >= 1000ull) snprintf(buf, size, "%.1f kB", b / 1e3);
    else snprintf(buf, size, "%" PRIu64 " B", b);
    return buf;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct cli_progress {
    char     label[64];
    uint64_t total;
    double   start, last;
    bool     active;
    bool     shown;
};

cli_progress *cli_progress_new(const char *label, uint64_t total)
{
    cli_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->start = p->last = cli_now();
    p->active = !g_quiet && isatty(2);
    return p;
}

static void cli__progress_print(cli_progress *p, uint64_t done)
{
    double el = cli_now() - p->start;
    double rate = el > 0 ? done / el : 0;
    char a[32], b[32];
    cli_fmt_bytes(a, sizeof a, done);
    cli_fmt_bytes(b, sizeof b, p->total);
    int pct = p->total ? (int)(100.0 * done / p->total) : 100;
    double eta = rate > 0 && p->total > done ? (p->total - done) / rate : 0;
    fprintf(stderr, "\r%s: %s / %s (%d%%), %.1f MB/s, ETA %d:%02d  ", p->label, a, b, pct,
            rate / 1e6, (int)eta / 60, (int)eta % 60);
    p->shown = true;
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    if (!p || !p->active) return;
    double now = cli_now();
    if (now - p->last < 0.2) return;
    p->last = now;
    cli__progress_print(p, done);
}

void cli_progress_done(cli_progress *p)
{
    if (!p) return;
    if (p->active && p->shown) {
        cli__progress_print(p, p->total);
        fputc('\n', stderr);
    }
    free(p);
}

uint64_t cli_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmHWM:", 6)) { kb = strtoull(line + 6, NULL, 10); break; }
    }
    fclose(f);
    return kb * 1024;
}

int cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
