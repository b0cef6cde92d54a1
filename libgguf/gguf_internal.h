/*
 * gguf_internal.h - private helpers shared by the libgguf sources (not installed).
 * Private names use the gguf__ prefix.
 */
#ifndef GGUF_INTERNAL_H
#define GGUF_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "gguf.h"

/* Round x up to a multiple of a (a power of two). Caller guarantees no overflow. */
static inline uint64_t gguf__pad(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

/* Little-endian loads/stores from possibly unaligned bytes (the host is little-endian; the
 * Makefile targets x86-64 and aarch64, both LE). */
static inline uint16_t gguf__ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t gguf__ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t gguf__ld64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libgguf assumes a little-endian host"
#endif

/* FNV-1a over n bytes, for the name hash tables. */
static inline uint64_t gguf__hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
    return h;
}

#endif
