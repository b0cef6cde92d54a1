/*
 * cli.h - what every tool's main() shares: error messages in one style, exit codes, cleanup of
 * temp files on SIGINT/SIGTERM, size parsing, rate-limited progress on stderr, peak RSS.
 *
 * Messages: "gguf-x: cannot open 'a.gguf': No such file or directory" - lowercase, subject
 * quoted, no final period, one line on stderr. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
#ifndef CLI_H
#define CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "gguf.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Set the program name used in messages and install SIGINT/SIGTERM/SIGHUP handlers that
 * unlink every registered temp file and exit with 128+signal, and a SIGBUS handler (an mmapped
 * input shrank under us) that unlinks them and exits 1 with a one-line message.
 * Call first in main(). */
void cli_init(const char *prog);
const char *cli_prog(void);

/* Register / unregister a temp file for removal on a signal (at most 64 at once). The string is
 * copied. gguf_writer temp files: register gguf_writer_tmp_path() right after gguf_writer_open()
 * and unregister before gguf_writer_finish()/abort (cli_writer_open/finish/abort do this). */
void cli_tmp_register(const char *path);
void cli_tmp_unregister(const char *path);

/* Writer helpers that keep the temp-file registry in sync. */
gguf_writer *cli_writer_open(const char *path, unsigned flags, gguf_error *err);
int          cli_writer_finish(gguf_writer *w, gguf_error *err);
void         cli_writer_abort(gguf_writer *w);

/* "prog: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: <err->msg>\n" on stderr (or the status text if the message is empty). */
void cli_error_gguf(const gguf_error *err);
/* "prog: warning: <message>\n" on stderr, unless quiet (cli_set_quiet). */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_set_quiet(bool quiet);
bool cli_quiet(void);
/* Usage error: "prog: <message>\nTry 'prog --help'.\n" on stderr, exit(2). */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Parse sizes: "N" plain bytes with an M or G suffix required when require_unit (gguf-split
 * rules: decimal, M = 1e6, G = 1e9). Returns 0, or -1 on a malformed or overflowing value. */
int cli_parse_size(const char *s, bool require_unit, uint64_t *out);
/* Parse a non-negative integer that fits in int64 (rejects signs, junk, overflow). */
int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Format bytes as "1.23 GB" / "456.7 MB" / "12 B" (decimal units) into buf. Returns buf. */
char *cli_fmt_bytes(char *buf, size_t size, uint64_t bytes);

/* Progress on stderr, only on a TTY and not quiet; at most ~5 updates per second:
 * "\r<label>: 1.23 GB / 4.56 GB (27%), 812.3 MB/s, ETA 0:04" and a newline on done. */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_new(const char *label, uint64_t total);
void          cli_progress_update(cli_progress *p, uint64_t done);
void          cli_progress_done(cli_progress *p);    /* frees; NULL-safe */

/* Peak resident set size of this process in bytes (VmHWM), 0 if unknown. */
uint64_t cli_peak_rss(void);
/* Monotonic seconds. */
double   cli_now(void);
/* Default thread count: online CPUs (>= 1). */
int      cli_default_threads(void);

#endif /* CLI_H */
