/* gguf_error.c - status names and descriptions, and the error struct helpers. */
#include <stdarg.h>
#include <stdio.h>
#include "gguf.h"

static const struct { const char *name, *str; } gguf__status[] = {
    /*   0 */ { "GGUF_OK",           "success" },
    /*  -1 */ { "GGUF_E_IO",         "input/output error" },
    /*  -2 */ { "GGUF_E_NOMEM",      "out of memory" },
    /*  -3 */ { "GGUF_E_NOT_GGUF",   "not a GGUF file" },
    /*  -4 */ { "GGUF_E_VERSION",    "unsupported GGUF version" },
    /*  -5 */ { "GGUF_E_TRUNCATED",  "file is truncated" },
    /*  -6 */ { "GGUF_E_COUNT",      "count too large for the file" },
    /*  -7 */ { "GGUF_E_STRING",     "string length too large for the file" },
    /*  -8 */ { "GGUF_E_KV_TYPE",    "invalid metadata value type" },
    /*  -9 */ { "GGUF_E_KEY",        "empty metadata key" },
    /* -10 */ { "GGUF_E_DUP_KEY",    "duplicate metadata key" },
    /* -11 */ { "GGUF_E_NAME",       "invalid tensor name" },
    /* -12 */ { "GGUF_E_DUP_TENSOR", "duplicate tensor name" },
    /* -13 */ { "GGUF_E_DIMS",       "invalid number of dimensions" },
    /* -14 */ { "GGUF_E_SHAPE",      "invalid tensor shape" },
    /* -15 */ { "GGUF_E_TYPE",       "unknown tensor type" },
    /* -16 */ { "GGUF_E_BLOCK",      "row length not a multiple of the block size" },
    /* -17 */ { "GGUF_E_ALIGNMENT",  "invalid alignment" },
    /* -18 */ { "GGUF_E_OFFSET",     "invalid tensor data offset" },
    /* -19 */ { "GGUF_E_SPLIT",      "inconsistent split set" },
    /* -20 */ { "GGUF_E_NOT_FOUND",  "not found" },
    /* -21 */ { "GGUF_E_WRONG_TYPE", "wrong value type" },
    /* -22 */ { "GGUF_E_EXISTS",     "output file exists" },
    /* -23 */ { "GGUF_E_USAGE",      "API misuse" },
    /* -24 */ { "GGUF_E_CHANGED",    "input file changed while in use" },
    /* -25 */ { "GGUF_E_NONFINITE",  "non-finite value in tensor data" },
};

const char *gguf_status_name(int code)
{
    if (code > 0 || code < GGUF_E_STATUS_MIN) return "GGUF_E_UNKNOWN";
    return gguf__status[-code].name;
}

const char *gguf_status_str(int code)
{
    if (code > 0 || code < GGUF_E_STATUS_MIN) return "unknown error";
    return gguf__status[-code].str;
}

void gguf_error_clear(gguf_error *err)
{
    if (!err) return;
    err->code = 0;
    err->sys_errno = 0;
    err->offset = UINT64_MAX;
    err->msg[0] = 0;
}

int gguf_error_set(gguf_error *err, int code, uint64_t offset, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    err->sys_errno = 0;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* keep it one line even if a file or key name carries a newline */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return code;
}
