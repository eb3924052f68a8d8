/*
 * fuzz_text.h — the fuzzer's bytes as text, for the targets that read text.
 */
#ifndef VISEC_FUZZ_TEXT_H
#define VISEC_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of data (the caller frees it), or NULL when memory
 * runs out or data holds a NUL byte: the readers refuse those before
 * parsing, so such an input tests nothing. */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return NULL;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) != size) {
        free(text);
        return NULL;
    }
    return text;
}

#endif
