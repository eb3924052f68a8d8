/*
 * vx_alloc.c — aligned allocation and error messages for generated code.
 *
 * Standard C99 only (no posix_memalign, no aligned_alloc): the block is
 * over-allocated and the original pointer is kept just before the aligned
 * address.
 */
#include <stdint.h>
#include <stdlib.h>

#include "vx_runtime.h"

VX_API void *
vx_alloc(size_t n)
{
    size_t extra = VX_ALIGN + sizeof(void *);
    if (n == 0 || n > SIZE_MAX - extra)
        return NULL;
    unsigned char *raw = malloc(n + extra);
    if (!raw)
        return NULL;
    uintptr_t a = ((uintptr_t)(raw + sizeof(void *)) + (VX_ALIGN - 1)) & ~(uintptr_t)(VX_ALIGN - 1);
    void **p = (void **)a;
    p[-1] = raw;
    return p;
}

VX_API void
vx_free(void *p)
{
    if (p)
        free(((void **)p)[-1]);
}

VX_API const char *
vx_strerror(int err)
{
    switch (err) {
    case VX_OK:
        return "success";
    case VX_ERR_ARG:
        return "invalid argument (a NULL pointer)";
    case VX_ERR_BATCH:
        return "invalid batch size (less than 1, or too large for memory sizes)";
    case VX_ERR_NOMEM:
        return "out of memory";
    case VX_ERR_OPEN:
        return "cannot open the weights file";
    case VX_ERR_READ:
        return "error reading the weights file";
    case VX_ERR_TRUNCATED:
        return "weights file is truncated or has trailing bytes (its size does not match its header)";
    case VX_ERR_MAGIC:
        return "not a visec weights file (bad magic number)";
    case VX_ERR_VERSION:
        return "unsupported weights file format version";
    case VX_ERR_MODEL:
        return "weights file is for another model (model name differs)";
    case VX_ERR_SIZE:
        return "weights file does not fit this build (tensor count or data size differs)";
    case VX_ERR_LAYOUT:
        return "weights file was written for another build of this model (layout hash differs)";
    case VX_ERR_CRC:
        return "weights file is corrupt (CRC-32 of the data does not match)";
    case VX_ERR_EMBEDDED:
        return "weights are embedded in this build: pass NULL as the weights path";
    case VX_ERR_TABLE:
        return "weights file is malformed (its tensor table is misplaced)";
    default:
        return "unknown error";
    }
}
