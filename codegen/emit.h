/*
 * emit.h — shared by the emitter's files (codegen.c, emit_ops.c); not part
 * of the interface.
 */
#ifndef VISEC_EMIT_H
#define VISEC_EMIT_H

#include "codegen.h"

/* Where generated text goes and how deep it is indented. */
typedef struct Emitter {
    FILE *f;            /* output */
    int indent;         /* current depth, 4 spaces each */
} Emitter;

/*
 * Emits one line of code.  A line starting with '}' closes a level before
 * it is printed; a line ending with '{' opens one after.  Lines starting
 * with '#' (preprocessor) are never indented.
 */
void emit(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits an empty line. */
void emit_blank(Emitter *e);

/* Emits a parallel-for pragma (through VX_OMP) if the schedule asks for one. */
void emit_omp_for(Emitter *e, int collapse);

/* Spatial and channel sizes of a 4-d (or 2-d [N, C]) value. */
typedef struct Dims {
    int c, h, w;        /* channels, rows, columns (1 x 1 for [N, C]) */
    int hw;             /* h * w */
    int numel;          /* c * h * w: elements per image */
} Dims;
Dims dims_of(const Value *v);

/* const float *restrict NAME = the tensor, with a comment naming it. */
void emit_weight(Emitter *e, const char *var, const Tensor *t);

/* emit_conv.c: the body of a conv2d layer, by its schedule's algorithm. */
void emit_conv2d(Emitter *e, const Node *n, const Schedule *s);

/*
 * Emits the body of node n's layer function, whose parameters are
 *   wb (weights image), batch, x (in[0]), x2 (in[1] or NULL), y (output),
 *   scratch (Node.scratch bytes per image times batch, or NULL).
 * s is n->sched, as the schedule pass left it: codegen only reads it.
 */
void emit_op(Emitter *e, const Node *n, const Schedule *s);

/* NULL if codegen can emit n, else why not (a static string). */
const char *op_unsupported(const Node *n);

/* Elements per image; the limit that keeps generated int indices safe. */
#define CG_MAX_NUMEL ((INT64_C(1) << 31) - 1)

#endif
