/*
 * codegen.h — the C emitter: a graph with bound weights in, a C99 + OpenMP
 * translation unit, its header and its .weights file out.
 *
 * What the generated code looks like and promises is in
 * docs/generated-code.md.
 */
#ifndef VISEC_CODEGEN_H
#define VISEC_CODEGEN_H

#include "ir.h"

typedef struct CodegenOptions {
    const char *name;       /* C prefix of the API; NULL: the model name */
    const char *model_path; /* the model description, named in comments */
    bool embed;             /* weights compiled into the .c, no .weights file */
    /* Identity, recorded in the generated files and NAME_info() (identity.c);
     * NULL when unknown. */
    const char *command;            /* the visec command line, as given */
    const char *model_sha256;       /* SHA-256 of the model description (hex) */
    const char *weights_path;       /* the checkpoint, as given */
    const char *weights_sha256;     /* SHA-256 of the checkpoint file (hex) */
} CodegenOptions;

/* The interface version of generated code: bumped when the generated API
 * changes (2: NAME_info() and NAME_weights_crc32()). */
#define VISEC_ABI_VERSION 2

/*
 * Checks that the graph can be emitted: one input and one output, every
 * op and layout supported, every tensor bound, sizes within limits, a
 * usable API name.  Reports every problem; false if there was any.
 */
bool codegen_check(const Graph *g, const CodegenOptions *o, Diag *d);

/*
 * Writes the header to h, the translation unit to c and (unless o->embed)
 * the weights file to w; assigns Tensor.offset.  The graph must have passed
 * codegen_check().  Output depends only on the graph and the options.
 */
void codegen_emit(Graph *g, const CodegenOptions *o, const char *hname, FILE *h, FILE *c, FILE *w);

/* Checks that name can prefix the generated API; false with an error. */
bool codegen_check_name(const char *name, Diag *d);

/* The API prefix codegen uses: o->name or the model name. */
const char *codegen_name(const Graph *g, const CodegenOptions *o);

/*
 * The default schedule of a node: what codegen uses for every field a
 * scheduling pass left at zero (codegen's fallback when the schedule pass,
 * with its target table, did not run).
 */
Schedule schedule_default(const Node *n);

/* Scratch bytes per image the emitted kernel of n needs (its im2col panel),
 * 0 if none: what the schedule pass reserves for the memory plan. */
int64_t node_scratch_bytes(const Node *n);

#endif
