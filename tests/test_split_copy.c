/*
 * test_split_copy.c - gguf_writer_copy_fd, the path all of gguf-split's data takes, on the cases
 * split and merge produce: large tensors whose source offset and output position differ modulo
 * the page size (copied through a pipe with splice), aligned ones (copy_file_range), small ones,
 * and a source that ends early (a clean GGUF_E_IO naming the tensor, no output file).
 */
#include "th.h"
#include "gguf.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* A source file of n pseudo-random bytes. Returns its fd (caller closes) or -1. */
static int make_source(const char *path, size_t n, uint32_t seed)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    uint8_t *b = malloc(n);
    if (!b) { close(fd); return -1; }
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) { x = x * 1664525u + 1013904223u; b[i] = (uint8_t)(x >> 24); }
    bool ok = write(fd, b, n) == (ssize_t)n;
    free(b);
    if (!ok) { close(fd); return -1; }
    return fd;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *b = NULL;
    if (!fstat(fd, &st) && (b = malloc((size_t)st.st_size + 1)) &&
        read(fd, b, (size_t)st.st_size) != (ssize_t)st.st_size) { free(b); b = NULL; }
    if (b) *n = (size_t)st.st_size;
    close(fd);
    return b;
}

/* Write tensors of the given element counts (F32), copying tensor i from src at src_off[i];
 * then check every tensor's bytes in the written file against the source. */
static void copy_case(const char *name, const int64_t *elems, const uint64_t *src_off, int nt)
{
    char src[1024], out[1024];
    th_path(src, "%s/%s.src", th_tmp(), name);
    th_path(out, "%s/%s.gguf", th_tmp(), name);
    int fd = make_source(src, 6u << 20, 7);
    CHECK(fd >= 0);
    gguf_error err;
    gguf_writer *w = gguf_writer_open(out, GGUF_W_NOSYNC, &err);
    if (!w) { close(fd); CHECK_MSG(0, "open: %.400s", err.msg); }
    /* a key whose length moves the data section off the page grid */
    bool ok = gguf_writer_kv_str(w, "general.name", "copy test", 9) == 0;
    for (int i = 0; ok && i < nt; i++) {
        char tn[32];
        snprintf(tn, sizeof tn, "t%d", i);
        int64_t ne[GGUF_MAX_DIMS] = { elems[i], 1, 1, 1 };
        ok = gguf_writer_add_tensor(w, tn, 1, ne, GGUF_TYPE_F32) == 0;
    }
    ok = ok && gguf_writer_begin_data(w) == 0;
    for (int i = 0; ok && i < nt; i++)
        ok = gguf_writer_copy_fd(w, fd, src_off[i], (uint64_t)elems[i] * 4) == 0 && gguf_writer_end_tensor(w) == 0;
    close(fd);
    if (!ok) {
        const gguf_error *we = gguf_writer_error(w);
        char why[600];
        snprintf(why, sizeof why, "%.500s", we->msg);
        gguf_writer_abort(w);
        CHECK_MSG(0, "write: %s", why);
    }
    CHECK_MSG(gguf_writer_finish(w, &err) == 0, "finish: %.400s", err.msg);

    size_t ns = 0;
    uint8_t *s = slurp(src, &ns);
    CHECK(s);
    gguf_file *f = gguf_open(out, &err);
    if (!f) { free(s); CHECK_MSG(0, "reopen: %.400s", err.msg); }
    const char *why = gguf_n_tensors(f) == nt ? NULL : "tensor count";
    for (int i = 0; !why && i < nt; i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (t->size != (uint64_t)elems[i] * 4 || memcmp(t->data, s + src_off[i], t->size)) why = "tensor bytes differ";
    }
    gguf_close(f);
    free(s);
    CHECK_MSG(!why, "%s", why);
}

TEST(large_misaligned_tensors_copy_exactly)
{
    /* 1.5 MiB and 2 MiB + 4 bytes from offsets that are not page-aligned, nor aligned with the
     * output position: the splice path, including a partial last pipe load */
    static const int64_t elems[] = { 393216, 524289, 8 };
    static const uint64_t off[] = { 100, 1 << 20, 4096 * 3 + 7 };
    copy_case("mis", elems, off, 3);
}

TEST(large_tensor_from_page_aligned_offset_copies_exactly)
{
    static const int64_t elems[] = { 300000, 262144 };
    static const uint64_t off[] = { 0, 4096 * 300 };
    copy_case("al", elems, off, 2);
}

TEST(source_ending_early_is_a_clean_error)
{
    char src[1024], out[1024];
    th_path(src, "%s/short.src", th_tmp());
    th_path(out, "%s/short.gguf", th_tmp());
    int fd = make_source(src, 1536u << 10, 3); /* 1.5 MiB, the tensor wants 2 MiB from offset 100 */
    CHECK(fd >= 0);
    gguf_error err;
    gguf_writer *w = gguf_writer_open(out, GGUF_W_NOSYNC, &err);
    if (!w) { close(fd); CHECK_MSG(0, "open: %.400s", err.msg); }
    int64_t ne[GGUF_MAX_DIMS] = { 524288, 1, 1, 1 };
    int rc = gguf_writer_add_tensor(w, "big", 1, ne, GGUF_TYPE_F32);
    if (!rc) rc = gguf_writer_begin_data(w);
    if (!rc) rc = gguf_writer_copy_fd(w, fd, 100, 2u << 20);
    close(fd);
    char msg[600];
    snprintf(msg, sizeof msg, "%.500s", gguf_writer_error(w)->msg);
    gguf_writer_abort(w);
    CHECK_EQ_INT(rc, GGUF_E_IO);
    CHECK_MSG(strstr(msg, "'big'") != NULL, "message does not name the tensor: %s", msg);
    CHECK(access(out, F_OK) != 0);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    CHECK(access(tmp, F_OK) != 0);
}

TH_MAIN()
