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
#include "schedules.h"

/* What runs the parallel loops and allocates the scratch of generated code. */
typedef enum Runtime {
    RUNTIME_OPENMP,     /* OpenMP pragmas (or none), malloc: the default */
    RUNTIME_HALIDE,     /* Halide's runtime: halide_do_par_for, halide_malloc, halide_error,
                           and Halide's AOT entry points beside the C API */
} Runtime;

typedef struct CodegenOptions {
    const char *name;       /* C prefix of the API; NULL: the model name */
    const char *model_path; /* the model description, named in comments */
    bool embed;             /* weights compiled into the .c, no .weights file */
    const Target *target;   /* the target the schedule was made for, recorded in the header */
    Runtime runtime;        /* RUNTIME_OPENMP unless --runtime halide */
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

/*
 * With the Halide runtime: writes NAME.registration.cpp, the stub that
 * registers the pipeline with Halide's RunGenMain.cpp (as Halide's
 * generators do).  codegen_emit() must have run.
 */
void codegen_emit_registration(const Graph *g, const CodegenOptions *o, FILE *f);

/* Checks that name can prefix the generated API; false with an error. */
bool codegen_check_name(const char *name, Diag *d);

/* The API prefix codegen uses: o->name or the model name. */
const char *codegen_name(const Graph *g, const CodegenOptions *o);

#endif
