/*
 * util.c — allocation that never fails silently, and the compiler-bug exit.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static _Noreturn void
out_of_memory(size_t n)
{
    fprintf(stderr, "visec: fatal: out of memory allocating %zu bytes\n", n);
    exit(2);
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

char *
xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *
xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        bug("bad format '%s'", fmt);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

_Noreturn void
bug_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: internal compiler error: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

void
vec_push(PtrVec *vec, void *p)
{
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? 2 * vec->cap : 8;
        vec->v = xrealloc(vec->v, (size_t)vec->cap * sizeof *vec->v);
    }
    vec->v[vec->n++] = p;
}

int64_t
align_up(int64_t x, int64_t a)
{
    return (x + a - 1) / a * a;
}
