/*
 * emit.h — shared by the emitter's files (codegen.c, emit_ops.c); not part
 * of the interface.
 */
#ifndef VISEC_EMIT_H
#define VISEC_EMIT_H

#include "codegen.h"
#include "vx_runtime.h"

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

/* im2col scratch the node's kernel needs per image, in bytes (0 none). */
int64_t node_scratch_bytes(const Node *n);

/*
 * Emits the body of node n's layer function, whose parameters are
 *   wb (weights image), batch, x (in[0]), x2 (in[1] or NULL), y (output),
 *   scratch (node_scratch_bytes() per image times batch, or NULL).
 * The schedule is n->sched with zero fields taken from schedule_default().
 */
void emit_op(Emitter *e, const Node *n, const Schedule *s);

/* ---- identity.c: where an artifact came from */

/* The .weights tensor table (format in vx_runtime.h) of the tensors in file
 * order; *size is a multiple of 8. */
unsigned char *weights_table(const Graph *g, const PtrVec *order, size_t *size);
/* Lines for the top comment of NAME.h and NAME.c: version, command line,
 * inputs and their SHA-256, the weights written. */
void emit_identity_comment(Emitter *e, const CodegenOptions *o, const vx_header *h,
                           const char *weights_sha256);
/* The version macros, struct NAME_info and the prototypes (NAME.h). */
void emit_identity_decls(Emitter *e, const char *name, const char *up);
/* NAME_info() and NAME_weights_crc32() (NAME.c). */
void emit_identity_defs(Emitter *e, const char *name, const char *up, const CodegenOptions *o,
                        const vx_header *h, const char *weights_sha256);

/* NULL if codegen can emit n, else why not (a static string). */
const char *op_unsupported(const Node *n);

/* Elements per image; the limit that keeps generated int indices safe. */
#define CG_MAX_NUMEL ((INT64_C(1) << 31) - 1)

#endif
