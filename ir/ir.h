/*
 * ir.h — every IR structure and every shared prototype of visec's core.
 *
 * The graph IR is a list of op nodes in schedule order.  Nodes read and
 * write typed tensor values (activations); constant tensors (weights) hang
 * off the nodes that use them.  Every node keeps the source location of the
 * model line that produced it and the checkpoint prefix of its weights, so
 * every later stage (binding, passes, codegen) can report errors and write
 * provenance in terms of the model description.
 *
 * Sections follow the files that implement them.
 */
#ifndef VISEC_IR_H
#define VISEC_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ util.c */

void *xmalloc(size_t n);                     /* never returns NULL */
void *xcalloc(size_t n, size_t size);
/* x rounded up to a multiple of a (a > 0). */
int64_t align_up(int64_t x, int64_t a);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);                /* xstrdup(NULL) == NULL */
char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), nonnull(1)));   /* malloc'd formatted string */

/* Compiler bugs: abort with the C location.  Never used for user input. */
_Noreturn void bug_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define bug(...) bug_at(__FILE__, __LINE__, __VA_ARGS__)

/* A growable array of pointers. */
typedef struct PtrVec {
    void **v;           /* elements */
    int n;              /* number of elements */
    int cap;            /* allocated slots */
} PtrVec;
void vec_push(PtrVec *vec, void *p);

/* ------------------------------------------------------------------ diag.c */

/* One source file, kept in memory so diagnostics can quote its lines. */
typedef struct Source {
    char *path;         /* as given on the command line */
    char *text;         /* whole file, NUL-terminated */
    size_t len;         /* bytes in text, excluding the NUL */
    struct Source *next;/* more sources loaded with this one (imports); source_free frees them too */
} Source;

/* A position in a model description.  line and col count from 1. */
typedef struct Loc {
    const Source *src;  /* NULL for nodes made by the compiler itself */
    int line;           /* 1-based line */
    int col;            /* 1-based column, in bytes */
    int len;            /* length of the token underlined by the caret (>= 1) */
} Loc;

/*
 * User errors are counted, not fatal: a phase reports as many as it can and
 * the driver exits with status 1 if any were reported.
 */
typedef struct Diag {
    FILE *out;          /* where messages go (stderr, or a memstream in tests) */
    int nerrors;        /* errors reported so far */
    int nwarnings;      /* warnings reported so far */
    int max_errors;     /* stop reporting after this many (0 = no limit) */
} Diag;

void diag_init(Diag *d, FILE *out);
Source *source_read(const char *path, Diag *d);     /* NULL + error on failure */
Source *source_from_string(const char *path, const char *text);
void source_free(Source *s);

/* file:line:col: error: msg, then the source line and a caret under loc. */
void error_at(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void warning_at(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void note_at(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "visec: error: msg" for errors with no source position (files, options). */
void error_plain(Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void warning_plain(Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void verror_at(Diag *d, const char *kind, Loc loc, const char *fmt, va_list ap);

/* ------------------------------------------------------------------ digest.c */

/* The visec version, in --version, generated code and .weights tools. */
#define VISEC_VERSION "0.2.0"

/* SHA-256 (nettle) as 64 lowercase hex digits and a NUL. */
#define SHA256_HEX 65
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX]);
/* Of a whole file; false with an error on d if it cannot be read. */
bool sha256_file(const char *path, char out[SHA256_HEX], Diag *d);

/* ------------------------------------------------------------------ json.c */

/* JSON output for --json: a string with every needed escape; a shape as an
 * array of numbers, the batch dimension as the string "N". */
void json_str(FILE *f, const char *s);
void json_shape(FILE *f, int rank, const int64_t *dim);

/* ------------------------------------------------------------------ shape */

#define IR_MAXRANK 4
#define DIM_N (-1)          /* the symbolic batch dimension */

/* A tensor shape; dim[i] == DIM_N marks the symbolic batch dimension. */
typedef struct Shape {
    int rank;                   /* 0..IR_MAXRANK */
    int64_t dim[IR_MAXRANK];    /* sizes, outermost first */
} Shape;

Shape shape_make(int rank, const int64_t *dims);
Shape shape4(int64_t n, int64_t c, int64_t h, int64_t w);
bool shape_eq(Shape a, Shape b);
int64_t shape_numel(Shape s, int64_t batch);   /* DIM_N counts as batch */
/* "[N, 64, 56, 56]" into buf; returns buf. */
char *shape_str(Shape s, char *buf, size_t size);
#define SHAPE_STRLEN 96

/* ------------------------------------------------------------------ ops.h */

typedef enum Op {
#define OP(id, name, mn, mx, pk) OP_##id,
#include "ops.h"
#undef OP
    OP_COUNT
} Op;

/* Which checkpoint tensors an op's prefix names. */
typedef enum ParamKind {
    PK_NONE,            /* no weights */
    PK_CONV,            /* .weight [, .bias] */
    PK_BN,              /* .weight .bias .running_mean .running_var */
    PK_AFFINE,          /* scale and shift made by the compiler */
    PK_LINEAR,          /* .weight .bias */
} ParamKind;

typedef struct OpInfo {
    const char *name;   /* spelling in the language and in dumps */
    int min_in;         /* fewest tensor inputs */
    int max_in;         /* most tensor inputs */
    ParamKind pk;       /* weights it reads */
} OpInfo;
extern const OpInfo op_info[OP_COUNT];
const char *op_name(Op op);
/* Is op one of ops.h's VISEC_UNARY_OPS (y = expr(v), elementwise)? */
bool op_is_unary(Op op);
/* In a switch over ops, VISEC_UNARY_OPS(UNARY_CASE) is the case labels of them all. */
#define UNARY_CASE(id, name, expr) case OP_##id:

/* Roles of a node's constant tensors; index into Node.param. */
typedef enum ParamRole {
    P_WEIGHT,           /* conv/linear weight, bn gamma, scale_shift scale */
    P_BIAS,             /* conv/linear bias, bn beta, scale_shift shift */
    P_MEAN,             /* bn running_mean */
    P_VAR,              /* bn running_var */
    P_MAX
} ParamRole;
extern const char *const param_suffix[P_MAX];   /* "weight", "bias", ... */

/* ------------------------------------------------------------------ layout */

typedef enum Layout {
    LAYOUT_NCHW,        /* plain, as PyTorch: the layout of inputs and outputs */
    LAYOUT_NC,          /* rank-2 [N, C] */
    LAYOUT_NCHWC,       /* blocked in Value.cblock channels: [N][C / c][H][W][c], c the target's
                           vector lanes; only inside the graph (the layout pass) */
} Layout;

/* ------------------------------------------------------------------ schedule */

/*
 * How a node is computed: the schedule, recorded beside the algorithm.  The
 * schedule pass fills it (from the target table, a schedule file or the
 * tuner; compiler/sched/); codegen only reads it.  Every legal schedule
 * computes the same function.
 */
typedef enum Algo {
#define ALGO(id, name, detail) ALGO_##id,
#include "algos.h"
#undef ALGO
    ALGO_COUNT
} Algo;

/* Which block loop of a conv is outside the other. */
typedef enum LoopOrder {
    ORDER_NONE,         /* not scheduled yet */
    ORDER_CO_PIX,       /* blocks of output channels outside: one weight panel stays in L1 */
    ORDER_PIX_CO,       /* pixel tiles outside: one tile of the operand is reused by every channel block */
    ORDER_COUNT
} LoopOrder;

/* Which loops run in parallel (OpenMP). */
typedef enum ParAxes {
    PAR_UNSET,          /* not scheduled yet */
    PAR_NONE,           /* everything on one thread */
    PAR_BATCH,          /* the images of the batch */
    PAR_INSIDE,         /* inside each image: channel blocks x pixel tiles (other ops: images x channels) */
    PAR_COUNT
} ParAxes;

/* Which axis of a conv's register block fills the vector lanes of the
 * target's kernels (the sums and their order are the same either way). */
typedef enum Lanes {
    LANES_NONE,         /* not scheduled yet, or not a conv */
    LANES_PIX,          /* pixels (or Winograd tiles): one broadcast weight per output channel */
    LANES_CO,           /* output channels: one broadcast operand value per pixel; for small maps */
    LANES_COUNT
} Lanes;

typedef struct Schedule {
    Algo algo;          /* algorithm */
    int reg_co;         /* conv register block: output channels accumulated together (rows) */
    int reg_pix;        /* conv register block: output pixels (flattened oh*ow; Winograd: 2x2 or 4x4 tiles) */
    int tile_k;         /* conv cache tile: reduction rows per pass over the blocks (0 = all of K) */
    LoopOrder order;    /* conv: order of the block loops */
    Lanes lanes;        /* conv: the block axis in the vector lanes */
    ParAxes parallel;   /* parallel loops */
    int tile_pix;       /* conv cache tile: pixels each block of output channels runs over at a time,
                           a whole number of pixel tiles (gemm read in place, order pix,co; 0 = one tile) */
    int layout_c;       /* conv: the layout of its output: 0 plain NCHW, else NCHWc blocked in this many
                           channels (the target's vector lanes; gemm with lanes = co only) */
} Schedule;

/* What a Winograd conv's schedule makes of it: its tiles and the layout of
 * its scratch (compiler/sched/legal.c; filled with Node.scratch by the
 * schedule pass).  All 0 for the other algorithms. */
typedef struct WinoLayout {
    int tiles_h, tiles_w; /* rows and columns of m x m output tiles per image */
    int tiles;          /* tiles_h * tiles_w: the columns of the matrix products */
    int sv, sm;         /* floats between the positions of V [P][cin][tiles] and of
                           M [P][cout][tiles] in the scratch: a matrix and one cache line */
} WinoLayout;

/* Names in schedule files, dumps and comments (print.c). */
struct Value;
const char *algo_name(Algo a);          /* "gemm", "winograd(2)", ... (ir/algos.h) */
const char *order_name(LoopOrder o);    /* "co,pix" or "pix,co" */
const char *parallel_name(ParAxes p);   /* "none", "batch", "inside" */
const char *lanes_name(Lanes l);        /* "pix" or "co" */
/* "nchw" or "nchw16c" (malloc'd): the layout field of a schedule (layout_c). */
char *layout_text(int layout_c);
/* " nchw16c" in buf for a blocked value, else "": for dumps, DOT and comments. */
const char *value_layout(const struct Value *v, char *buf, size_t size);

/* ------------------------------------------------------------------ graph.c */

struct Node;

/* A constant tensor: weights read from the checkpoint or made by a pass. */
typedef struct Tensor {
    int id;             /* index in Graph.tensors */
    char *name;         /* checkpoint key ("4.0.conv1.weight") or derived name */
    Shape shape;        /* concrete: no DIM_N */
    float *data;        /* float32 contents, NULL until weights are bound */
    char *origin;       /* NULL: straight from the checkpoint; else how a pass made it */
    Loc loc;            /* the model line that needs it */
    bool trainable;     /* counted as a parameter (not a running statistic) */
    int refs;           /* nodes using it; a tensor with none is not emitted */
    int64_t offset;     /* byte offset in the generated .weights file, -1 unset */
    int pack_mr;        /* 0: PyTorch layout.  Else a conv weight packed in blocks of
                           output channels: [groups][ceil(cout_g / pack_mr)][K][pack_mr],
                           K = cin_g * kh * kw, rows past cout_g zero */
    Shape logical;      /* with pack_mr: the PyTorch shape it holds */
    int winograd;       /* 0, or with pack_mr: Winograd F(mxm,3x3) weights of this
                           m (2 or 4), (m+2)^2 packed [blocks][cin][pack_mr]
                           matrices U = G g G^T, one per position of the
                           (m+2)x(m+2) transformed tile */
    struct Tensor *from;/* a transformed tensor: the one it was made from, whose
                           data the reference interpreter reads; NULL otherwise */
} Tensor;
/* Element [co][k] of a conv weight seen as [cout][K], packed or not. */
float tensor_conv_weight(const Tensor *t, int groups, int64_t co, int64_t k);

/* An activation tensor: a graph input or the output of one node. */
typedef struct Value {
    int id;             /* index in Graph.values */
    char *name;         /* graph input name, or NULL for intermediate values */
    Shape shape;        /* logical NCHW (or NC) shape, dim 0 is DIM_N */
    Layout layout;      /* physical layout in memory */
    int cblock;         /* LAYOUT_NCHWC: channels per block (c), else 0 */
    struct Node *def;   /* producing node, NULL for graph inputs */
    int nuses;          /* nodes reading it, plus 1 per graph output naming it */
    int64_t offset;     /* memory plan: byte offset in the arena per image, -1 unplanned */
    int64_t bytes;      /* memory plan: bytes per image */
    bool external;      /* lives in the caller's buffer (graph input or output), not the arena */
} Value;

/* Op attributes; which fields are meaningful depends on the op. */
typedef struct Attrs {
    int64_t out;        /* conv: output channels; linear: output features */
    int kh, kw;         /* conv/pool kernel size */
    int sh, sw;         /* conv/pool stride */
    int ph, pw;         /* conv/pool zero (or -inf) padding, both sides */
    int dh, dw;         /* conv dilation */
    int groups;         /* conv groups */
    bool bias;          /* conv: has a .bias tensor in the checkpoint */
    bool ceil_mode;     /* pool: ceil instead of floor for output size */
    double eps;         /* batchnorm epsilon */
} Attrs;
Attrs attrs_default(Op op);     /* kernel 1, stride 1, pad 0, dilation 1, groups 1, eps 1e-5 */

/* Fused epilogue flags of a conv, applied in this order after the bias. */
enum {
    EPI_ADD  = 1 << 0,  /* + in[1], the residual */
    EPI_RELU = 1 << 1,  /* max(., 0) */
};

typedef struct Node {
    int id;             /* unique id, stable across passes (never reused) */
    Op op;              /* what it computes */
    Loc loc;            /* the model line that wrote this op */
    char *trace;        /* block expansion path: "bottleneck (line 12) < layer (line 30)", or NULL */
    char *prefix;       /* checkpoint prefix "4.0.conv1", NULL if the op has no weights */
    char *name;         /* unique layer name, a valid C identifier suffix: "l4_0_conv1" */
    struct Value *in[2];/* tensor inputs */
    int nin;            /* number of inputs */
    struct Value *out;  /* the single output */
    Attrs a;            /* attributes */
    Tensor *param[P_MAX]; /* constant tensors by role, NULL where unused */
    unsigned epi;       /* EPI_* flags (conv only) */
    char *origin;       /* provenance for comments: "conv 4.0.conv3 + bn 4.0.bn3 (folded)" */
    Schedule sched;     /* how to compute it; filled by scheduling passes */
    int64_t scratch;    /* scratch bytes per image its kernel needs (im2col panel...), 0 none */
    WinoLayout wino;    /* Winograd: tiles and scratch layout, with scratch (schedule pass) */
    int64_t scratch_offset; /* memory plan: arena offset of the scratch per image, -1 unplanned */
} Node;

typedef struct Graph {
    char *name;         /* model name; the prefix of the generated C API */
    Loc name_loc;       /* where the name is written */
    PtrVec nodes;       /* Node*, in schedule (topological) order */
    PtrVec values;      /* Value*, every value ever made (dead ones included) */
    PtrVec tensors;     /* Tensor*, every constant ever made */
    PtrVec inputs;      /* Value*, graph inputs in declaration order */
    PtrVec outputs;     /* Value*, graph outputs in declaration order */
    PtrVec outnames;    /* char*, the name of each output */
    int next_node_id;   /* id for the next node */
} Graph;

Graph *graph_new(const char *name);
void graph_free(Graph *g);
Value *graph_value(Graph *g, Shape s);               /* a fresh value, no producer */
Value *graph_input(Graph *g, const char *name, Shape s);
void graph_output(Graph *g, const char *name, Value *v);
/* A new constant; if name is taken, the new one is called name.2, name.3, ... */
Tensor *graph_tensor(Graph *g, const char *name, Shape s, Loc loc);
Tensor *graph_find_tensor(const Graph *g, const char *name);
/* Makes a node with a fresh output value whose shape is not yet known. */
Node *graph_node(Graph *g, Op op, Loc loc, Value **in, int nin, const Attrs *a,
                 const char *prefix);
int graph_nnodes(const Graph *g);
#define GRAPH_NODE(g, i) ((Node *)(g)->nodes.v[i])
/* Recounts Value.nuses and Tensor.refs from the node list. */
void graph_recount(Graph *g);
/* Position of n in the schedule; bug() if absent. */
int graph_node_index(const Graph *g, const Node *n);
/* Every read of from (node inputs and graph outputs) reads to instead. */
void graph_replace_uses(Graph *g, Value *from, Value *to);
/* Unlinks and frees n; its output value stays, with no producer. */
void graph_remove_node(Graph *g, Node *n);
/* Moves n to position `to` of the schedule (the caller keeps it topological). */
void graph_move_node(Graph *g, Node *n, int to);
/* Appends " + part" to n->origin (or starts it). */
void node_add_origin(Node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3), nonnull(2)));

/* ------------------------------------------------------------------ shape.c */

/*
 * The usual way to add an op: make the node, infer its output shape, check
 * its attributes and input shapes, create its parameter tensors from its
 * prefix.  Errors are reported at loc and NULL is returned.
 */
Value *ir_op(Graph *g, Diag *d, Op op, Loc loc, Value **in, int nin,
             const Attrs *a, const char *prefix);
/* Infers n->out->shape; false (with an error) if the inputs do not fit. */
bool infer_shape(Graph *g, Diag *d, Node *n);

/* ------------------------------------------------------------------ verify.c */

/* Checks every structural invariant; on failure aborts via bug() naming the
 * pass that ran last.  Not for user errors: those never reach the IR. */
void graph_verify(const Graph *g, const char *after_pass);

/* ------------------------------------------------------------------ print.c */

/* Stable, diffable text dump; same graph gives the same bytes. */
void graph_print(FILE *f, const Graph *g);

/* How attrs_text() spells a node's attributes, one style per reader. */
typedef enum AttrStyle {
    ATTRS_DUMP,         /* IR dumps: " out=64 kernel=7x7 stride=2x2 pad=3x3 +relu" */
    ATTRS_COMMENT,      /* layer comments: "out=64 kernel=7x7 stride=2x2 pad=3x3 bias +relu",
                         * "-" for an op without attributes */
    ATTRS_DOT,          /* DOT boxes, after the op name: " 7x7/2 g32 +relu" */
} AttrStyle;
/* A node's attributes and fused epilogues as text in buf (256 bytes are
 * plenty): the one formatter of dumps, layer comments and DOT. */
const char *attrs_text(const Node *n, AttrStyle style, char *buf, size_t size);

/* ------------------------------------------------------------------ dot.c */
/* The graph as Graphviz DOT; stage names the point in the pipeline. */
void graph_dot(FILE *f, const Graph *g, const char *stage);

/* ------------------------------------------------------------------ stats.c */

typedef struct GraphStats {
    int count[OP_COUNT];    /* nodes by op */
    int64_t params;         /* trainable parameters (conv/linear weights, bn w and b) */
    int64_t buffers;        /* non-trainable constants (running statistics) */
    int64_t macs;           /* multiply-accumulates per image (conv and linear) */
} GraphStats;
GraphStats graph_stats(const Graph *g);
int64_t node_macs(const Node *n);   /* per image */

#endif
