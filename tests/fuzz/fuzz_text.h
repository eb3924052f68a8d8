/*
 * fuzz_text.h — the libFuzzer entry of the targets that read text.
 */
#ifndef VISEC_FUZZ_TEXT_H
#define VISEC_FUZZ_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Runs check() on the fuzzer's bytes as a NUL-terminated string, its
 * diagnostics going to null (/dev/null, also open for other output).  An
 * input holding a NUL byte is skipped: the readers refuse those before
 * parsing, so it tests nothing.  Returns 0, as libFuzzer wants. */
static inline int
fuzz_text(const uint8_t *data, size_t size, void (*check)(const char *text, Diag *d, FILE *null))
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) == size) {
        FILE *null = fopen("/dev/null", "w");
        Diag d;
        diag_init(&d, null);
        check(text, &d, null);
        fclose(null);
    }
    free(text);
    return 0;
}

#endif
