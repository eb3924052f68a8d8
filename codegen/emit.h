/*
 * emit.h — shared by the emitter's files (codegen.c, emit_ops.c); not part
 * of the interface.
 */
#ifndef VISEC_EMIT_H
#define VISEC_EMIT_H

#include "codegen.h"

#define EMIT_MAX_DEPTH 32

/* Where generated text goes, and the blocks open at this point. */
typedef struct Emitter {
    FILE *f;            /* output */
    int depth;          /* blocks open: the indentation, 4 spaces each */
    const char *labels[EMIT_MAX_DEPTH]; /* each open block's label (its loop variable), or NULL */
    const Target *target; /* the target whose kernels the code uses; NULL: the reference kernels only */
} Emitter;

/*
 * The emitter API.  Blocks are structured: emit_for / emit_open print the
 * line with " {" and open a level with a label; emit_end closes the
 * innermost one ("} /" "* label *" "/"), and if given a label checks that
 * it closes that block (a mismatch is a compiler bug).  emit() prints one
 * line at the current depth and never changes it; lines starting with '#'
 * (preprocessor) are not indented.
 */
void emit(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_for(Emitter *e, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void emit_open(Emitter *e, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A bare "{" block (a scope for declarations). */
void emit_scope(Emitter *e, const char *label);
void emit_end(Emitter *e, const char *label);
/* Closes the innermost block with this text instead of "}" ("};" of an initializer). */
void emit_end_raw(Emitter *e, const char *text);
/* "} else {" or "} else if (...) {": the block goes on with the same label. */
void emit_else(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
