/*
 * diag.c — user-facing diagnostics.
 *
 * Every message has the form
 *
 *   file:line:col: error: message
 *     source line
 *     ^~~~
 *
 * Errors are counted; the caller decides when to stop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Largest model description we read: far beyond any real model. */
#define MAX_SOURCE_BYTES (16u << 20)

void
diag_init(Diag *d, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->out = out;
    d->max_errors = 50;
}

Source *
source_from_string(const char *path, const char *text)
{
    Source *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->len = strlen(text);
    s->text = xstrdup(text);
    return s;
}

Source *
source_read(const char *path, Diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_plain(d, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= MAX_SOURCE_BYTES) {
                error_plain(d, "'%s' is larger than %u bytes; not a model description",
                            path, MAX_SOURCE_BYTES);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        if (got == 0)
            break;
        len += got;
    }
    if (ferror(f)) {
        error_plain(d, "cannot read '%s': %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        error_plain(d, "'%s' contains a NUL byte; not a model description", path);
        free(buf);
        return NULL;
    }
    Source *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->text = buf;
    s->len = len;
    return s;
}

void
source_free(Source *s)
{
    while (s) {
        Source *next = s->next;
        free(s->path);
        free(s->text);
        free(s);
        s = next;
    }
}

/* Prints the source line of loc and a caret under the token. */
static void
show_line(FILE *out, Loc loc)
{
    const char *p = loc.src->text, *end = p + loc.src->len;
    for (int line = 1; line < loc.line && p < end; p++)
        if (*p == '\n')
            line++;
    const char *eol = p;
    while (eol < end && *eol != '\n')
        eol++;
    if (eol > p && eol[-1] == '\r')
        eol--;
    fprintf(out, "  %.*s\n  ", (int)(eol - p), p);
    /* Keep tabs so the caret lines up under the token. */
    for (int i = 1; i < loc.col && p + i - 1 < eol; i++)
        fputc(p[i - 1] == '\t' ? '\t' : ' ', out);
    fputc('^', out);
    for (int i = 1; i < loc.len; i++)
        fputc('~', out);
    fputc('\n', out);
}

void
verror_at(Diag *d, const char *kind, Loc loc, const char *fmt, va_list ap)
{
    bool is_error = strcmp(kind, "error") == 0;
    if (is_error)
        d->nerrors++;
    else if (strcmp(kind, "warning") == 0)
        d->nwarnings++;
    if (d->max_errors && d->nerrors > d->max_errors)
        return;
    if (loc.src)
        fprintf(d->out, "%s:%d:%d: %s: ", loc.src->path, loc.line, loc.col, kind);
    else
        fprintf(d->out, "visec: %s: ", kind);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (loc.src && loc.line > 0)
        show_line(d->out, loc);
    if (is_error && d->max_errors && d->nerrors == d->max_errors)
        fprintf(d->out, "visec: too many errors; stopping\n");
}

#define DIAG_FN(fn, kind)                                   \
    void fn(Diag *d, Loc loc, const char *fmt, ...)         \
    {                                                       \
        va_list ap;                                         \
        va_start(ap, fmt);                                  \
        verror_at(d, kind, loc, fmt, ap);                   \
        va_end(ap);                                         \
    }
DIAG_FN(error_at, "error")
DIAG_FN(warning_at, "warning")
DIAG_FN(note_at, "note")

void
error_plain(Diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(d, "error", (Loc){0}, fmt, ap);
    va_end(ap);
}

void
warning_plain(Diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(d, "warning", (Loc){0}, fmt, ap);
    va_end(ap);
}
