/*
 * th.h - the tiny test harness of every tests/test_*.c binary.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_NEAR(a, b, tol); ... }
 *   TH_MAIN()            (once per file, at the end)
 *
 * Each TEST prints "PASS <file>:<name>" or "FAIL <file>:<name>: <why>" (first failed check),
 * or "SKIP <file>:<name>: <why>" after TH_SKIP("why"). tests/run.sh counts those lines.
 * The binary exits 1 if any test failed. Environment the runner provides:
 *   TH_TESTDATA  project testdata/      TH_SHARED  ../shared/testdata (may be absent)
 *   TH_TMP       a fresh scratch directory, removed afterwards      TH_BIN  build/bin
 */
#ifndef TH_H
#define TH_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*th_fn)(void);
struct th_case { const char *name; th_fn fn; };
static struct th_case th_cases[512];
static int th_ncases;
static int th_failed_now, th_skipped_now;
static char th_why[1024];

#define TEST(tname) \
    static void th_test_##tname(void); \
    __attribute__((constructor)) static void th_reg_##tname(void) { \
        th_cases[th_ncases].name = #tname; th_cases[th_ncases++].fn = th_test_##tname; } \
    static void th_test_##tname(void)

#define TH_FAILF(...) do { if (!th_failed_now) { th_failed_now = 1; \
    int th_n_ = snprintf(th_why, sizeof th_why, "%s:%d: ", __FILE__, __LINE__); \
    snprintf(th_why + th_n_, sizeof th_why - th_n_, __VA_ARGS__); } } while (0)
#define CHECK(c) do { if (!(c)) { TH_FAILF("CHECK(%s)", #c); return; } } while (0)
#define CHECK_MSG(c, ...) do { if (!(c)) { TH_FAILF(__VA_ARGS__); return; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long th_a = (long long)(a), th_b = (long long)(b); \
    if (th_a != th_b) { TH_FAILF("%s == %s: %lld != %lld", #a, #b, th_a, th_b); return; } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *th_a = (a), *th_b = (b); \
    if (!th_a || !th_b || strcmp(th_a, th_b)) { TH_FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, \
        th_a ? th_a : "(null)", th_b ? th_b : "(null)"); return; } } while (0)
#define CHECK_NEAR(a, b, tol) do { double th_a = (a), th_b = (b); \
    if (!(fabs(th_a - th_b) <= (tol))) { TH_FAILF("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, th_a, th_b, (double)(tol)); return; } } while (0)
#define TH_SKIP(...) do { th_skipped_now = 1; snprintf(th_why, sizeof th_why, __VA_ARGS__); return; } while (0)

static inline const char *th_env(const char *k, const char *def) { const char *v = getenv(k); return v && *v ? v : def; }
static inline const char *th_testdata(void) { return th_env("TH_TESTDATA", "testdata"); }
static inline const char *th_shared(void)   { return th_env("TH_SHARED", "../shared/testdata"); }
static inline const char *th_tmp(void)      { return th_env("TH_TMP", "/tmp"); }
/* th_path(buf, "%s/x.gguf", th_tmp()) */
#define th_path(buf, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), buf)

#define TH_MAIN() \
    int main(int argc, char **argv) { \
        const char *file = strrchr(__FILE__, '/') ? strrchr(__FILE__, '/') + 1 : __FILE__; \
        int failed = 0; \
        for (int i = 0; i < th_ncases; i++) { \
            if (argc > 1 && strcmp(argv[1], th_cases[i].name)) continue; \
            th_failed_now = th_skipped_now = 0; th_why[0] = 0; \
            th_cases[i].fn(); \
            if (th_failed_now) { failed++; printf("FAIL %s:%s: %s\n", file, th_cases[i].name, th_why); } \
            else if (th_skipped_now) printf("SKIP %s:%s: %s\n", file, th_cases[i].name, th_why); \
            else printf("PASS %s:%s\n", file, th_cases[i].name); \
            fflush(stdout); \
        } \
        return failed ? 1 : 0; \
    }
#endif
