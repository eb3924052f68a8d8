/*
 * set_err.h — how the example's functions report: a message formatted into
 * the caller's buffer err of errlen bytes.
 */
#ifndef EMBED_SET_ERR_H
#define EMBED_SET_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
