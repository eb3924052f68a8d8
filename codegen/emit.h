/*
 * emit.h — shared by the emitter's files; not part of the interface.
 *
 * The files of codegen/ call one another downwards only:
 *
 *   codegen.c          the generated files' layout (codegen_check, codegen_emit)
 *     emit_halide.c    the Halide runtime's parts of them
 *     emit_par.c       parallel loops as task functions (Halide runtime)
 *     identity.c       where an artifact came from
 *     emit_ops.c       a layer's body, by op family:
 *       emit_conv.c, emit_elementwise.c, emit_pool.c, emit_linear.c
 *         kernels/     the register-block microkernels (kernels.h)
 *   emit.c             the emitter API and the helpers all of them share
 *
 * emit.c calls none of them: what the Halide runtime does to the lines
 * (emit_par.c) it learns through the EmitHooks attached to an Emitter.
 */
#ifndef VISEC_EMIT_H
#define VISEC_EMIT_H

#include "codegen.h"
#include "vx_runtime.h"

#define EMIT_MAX_DEPTH 32
/* No generated line is longer (comments and statement lists are wrapped to it). */
#define EMIT_LINE_MAX 120

struct Outline;
typedef struct KernelSet KernelSet;
struct EmitHooks;

/* Where generated text goes, and the blocks open at this point. */
typedef struct Emitter {
    FILE *f;            /* output */
    int depth;          /* blocks open: the indentation, 4 spaces each */
    const char *labels[EMIT_MAX_DEPTH]; /* each open block's label (its loop variable), or NULL */
    struct Outline *outline; /* Halide runtime: parallel loops become task functions
                                (emit_par.c); NULL: OpenMP pragmas */
    const struct EmitHooks *hooks; /* what the emitter API calls with an outline (emit_par.c), else NULL */
    int shift;          /* levels not indented: inside an outlined parallel nest, all
                           but two, so its body sits two levels deep in its task function */
    const Target *target; /* the target whose kernels the code uses; NULL: the reference kernels only */
    struct KernelSet *kernels; /* the block kernel functions written so far (codegen/kernels/kernel_fn.c) */
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
void emit_open(Emitter *e, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A loop: emit_open under the name that says so. */
#define emit_for emit_open
/* A bare "{" block (a scope for declarations). */
void emit_scope(Emitter *e, const char *label);
void emit_end(Emitter *e, const char *label);
/* Closes the innermost block with this text instead of "}" ("};" of an initializer). */
void emit_end_raw(Emitter *e, const char *text);
/* "} else {" or "} else if (...) {": the block goes on with the same label. */
void emit_else(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits an empty line. */
void emit_blank(Emitter *e);

/*
 * Emits a parallel-for pragma (through VX_OMP) over the next `collapse`
 * loops: the op emitters call it only where the schedule (Schedule.parallel)
 * puts the parallel loop; emit_omp_planes() decides it for the common nest.
 */
void emit_omp_for(Emitter *e, int collapse);
/* The pragma the schedule asks for on a nest over images, then channels (or
 * features): over both (parallel = inside), over images (batch) or none. */
void emit_omp_planes(Emitter *e, const Schedule *s);

/*
 * What the emitter API tells an attached outliner (emit_par.c) before it
 * acts: a parallel nest announced by emit_omp_for; a block opening (true:
 * the outliner took it, no line is written); every line written; an
 * emit_end (true: the outliner closed the block itself); a block closed.
 */
typedef struct EmitHooks {
    void (*parallel)(Emitter *e, int collapse);
    bool (*open)(Emitter *e, const char *label, const char *line);
    void (*line)(Emitter *e, const char *line);
    bool (*end)(Emitter *e, const char *label);
    void (*closed)(Emitter *e);
} EmitHooks;

/* ---- emit.c: helpers every emitter shares */

/* The handle's type in C (malloc'd): NAME, or with the Halide runtime (where
 * NAME is the entry point) struct NAME. */
char *handle_type(const CodegenOptions *o, const char *name);
/* s in upper case (malloc'd), for macros. */
char *upper_case(const char *s);
/* A copy of s (malloc'd) that is safe inside a C comment: no "*" "/" pairs, no controls. */
char *comment_safe(const char *s);

/*
 * The templates of runtime/ (runtime/vx_api.c.in, vx_halide.c.in): section
 * `section` of template `file` ("runtime/vx_api.c.in") with each ${KEY}
 * replaced by its value; vars holds KEY, value pairs, then NULL.  A line of
 * only indentation and ${KEY} takes a value of several lines (or none),
 * each indented so (the template's header says the rules).  malloc'd.
 */
char *template_text(const char *file, const char *section, const char *const *vars);
/* Writes template_text() at the top level of the file. */
void emit_template(Emitter *e, const char *file, const char *section, const char *const *vars);

/* Spatial and channel sizes of a 4-d (or 2-d [N, C]) value. */
typedef struct Dims {
    int c, h, w;        /* channels, rows, columns (1 x 1 for [N, C]) */
    int hw;             /* h * w */
    int numel;          /* c * h * w: elements per image */
} Dims;
Dims dims_of(const Value *v);

/* const float *restrict NAME = the tensor, with a comment naming it. */
void emit_weight(Emitter *e, const char *var, const Tensor *t);

/* Opens the loops over images and channels (parallel as the schedule says)
 * and defines xc, yc (and x2c); end_planes closes them. */
void begin_planes(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
                  bool two);
void end_planes(Emitter *e);

/*
 * emit_par.c: parallel loops for the Halide runtime.  The op emitters do
 * not change: they call emit_omp_for() before a parallel loop nest of one
 * or two `for (int v = 0; v < BOUND; v++)` loops, as for OpenMP.  With an
 * Outline attached, the nest's body goes to a static task function
 * `int layer_L_parK(void *user_context, int vx_task, uint8_t *vx_closure)`
 * with a closure struct holding the variables in scope that the body uses,
 * and the layer function calls halide_do_par_for() in its place.  Without
 * one (the OpenMP runtime) nothing here is called and the output is as
 * it always was.
 */
/* Attaches an Outline and its hooks to e; outline_detach frees them. */
void outline_attach(Emitter *e);
void outline_detach(Emitter *e);
/* Around one layer function: its text is held back until its task functions are out. */
void outline_layer_begin(Emitter *e, const char *fn);
void outline_layer_end(Emitter *e);

/* emit_halide.c: the Halide runtime's parts of NAME.h and NAME.c. */
bool halide_check(const Graph *g, const CodegenOptions *o, Diag *d);
void halide_emit_header(Emitter *e, const Graph *g, const CodegenOptions *o);
void halide_emit_prelude(Emitter *e);
void halide_emit_entry(Emitter *e, const Graph *g, const CodegenOptions *o);

/* The body of a layer, one emitter per op family (each file says what it emits). */
void emit_conv2d(Emitter *e, const Node *n, const Schedule *s);        /* emit_conv.c */
void emit_batchnorm(Emitter *e, const Node *n, const Schedule *s);     /* emit_elementwise.c */
void emit_scaleshift(Emitter *e, const Node *n, const Schedule *s);
void emit_relu(Emitter *e, const Node *n, const Schedule *s);
void emit_add(Emitter *e, const Node *n, const Schedule *s);
/* y = expr(v) elementwise: an op of ops.h's UNARY lines, expr as written there. */
void emit_unary(Emitter *e, const Node *n, const Schedule *s, const char *expr);
void emit_copy(Emitter *e, const Node *n, const Schedule *s);
void emit_reorder(Emitter *e, const Node *n, const Schedule *s);       /* between NCHW and NCHWc */
void emit_pool(Emitter *e, const Node *n, const Schedule *s);          /* emit_pool.c */
void emit_gap(Emitter *e, const Node *n, const Schedule *s);
void emit_linear(Emitter *e, const Node *n, const Schedule *s);        /* emit_linear.c */

/*
 * Emits the body of node n's layer function, whose parameters are
 *   wb (weights image), batch, x (in[0]), x2 (in[1] or NULL), y (output),
 *   scratch (Node.scratch bytes per image times batch, or NULL).
 * s is n->sched, as the schedule pass left it: codegen only reads it.
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
void emit_identity_decls(Emitter *e, const CodegenOptions *o, const char *name, const char *up);
/* NAME_info() and NAME_weights_crc32() (NAME.c). */
void emit_identity_defs(Emitter *e, const char *name, const char *up, const CodegenOptions *o,
                        const vx_header *h, const char *weights_sha256);

/* NULL if codegen can emit n, else why not (a static string). */
const char *op_unsupported(const Node *n);

/* Elements per image; the limit that keeps generated int indices safe. */
#define CG_MAX_NUMEL ((INT64_C(1) << 31) - 1)

#endif
