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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    FILE *null = fopen("/dev/null", "w");
    Diag d;
    diag_init(&d, null);
    Source *src = NULL;
    Graph *g = frontend_load_string("fuzz.vise", text, &d, &src);
    if (g)
        graph_verify(g, "frontend");
    graph_free(g);
    source_free(src);
    fclose(null);
    free(text);
    return 0;
}
