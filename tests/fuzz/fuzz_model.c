/*
 * fuzz_model.c — libFuzzer target: any bytes as a model description.
 * Parsing and elaborating it must end in a graph or reported errors, never
 * a crash or a hang; a graph must pass the verifier.  Built by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *text, Diag *d, FILE *null)
{
    Source *src = NULL;
    Graph *g = frontend_load_string("fuzz.vise", text, d, &src);
    if (g)
        graph_verify(g, "frontend");
    graph_free(g);
    source_free(src);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_text(data, size, check);
}
