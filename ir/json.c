/*
 * json.c — the little JSON writing that --json needs (docs/json.md).
 */
#include <stdio.h>

#include "ir.h"

void
json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);   /* bytes past ASCII as Latin-1: always valid JSON */
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void
json_shape(FILE *f, int rank, const int64_t *dim)
{
    fputc('[', f);
    for (int i = 0; i < rank; i++) {
        if (dim[i] == DIM_N)
            fprintf(f, "%s\"N\"", i ? ", " : "");
        else
            fprintf(f, "%s%lld", i ? ", " : "", (long long)dim[i]);
    }
    fputc(']', f);
}
