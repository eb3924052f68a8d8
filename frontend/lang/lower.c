/*
 * lower.c — elaboration: from syntax trees to the graph IR.
 *
 * The top-level statements run in order with an environment of values
 * (tensor, int, float, string, bool, pair).  A block call binds its
 * arguments in a fresh environment and runs the block's body; loops are
 * unrolled, ifs decided, strings interpolated, and every op call becomes one
 * ir_op(), which infers the shape and creates the checkpoint tensors.  Each
 * node records the chain of block calls that made it in Node.trace.
 *
 * Errors are reported and elaboration goes on: a failed expression yields
 * an error value that later uses pass on silently, so one mistake gives one
 * message.  Limits on loop trips, block nesting, ops, string length and
 * total steps turn a runaway description into an error instead of a hang.
 */
#define _XOPEN_SOURCE 700   /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "frontend.h"

#define MAX_TRIPS   10000       /* iterations of one loop */
#define MAX_DEPTH   64          /* nested block calls */
#define MAX_NODES   10000       /* ops in a model */
#define MAX_STEPS   1000000     /* statements and calls executed in all */
#define MAX_STRING  1024        /* bytes in a string value */
#define MAX_IMPORTS 16          /* nested imports */
#define MAX_EVAL    2000        /* expressions being evaluated at once, across block calls */
#define MAX_ATTR    (1 << 24)   /* any size attribute (shape.c checks the rest) */
#define MAX_NUMEL   (INT64_C(1) << 34) /* elements of an input, per image */

/* ------------------------------------------------------------------ values */

typedef enum Kind {
    K_ERROR,            /* the result of a reported mistake; spreads silently */
    K_TENSOR,           /* an activation: a graph Value */
    K_INT,
    K_FLOAT,
    K_STRING,
    K_BOOL,
    K_PAIR,             /* (h, w) */
} Kind;

static const char *const kind_name[] = {
    [K_ERROR] = "error", [K_TENSOR] = "tensor", [K_INT] = "int", [K_FLOAT] = "float",
    [K_STRING] = "string", [K_BOOL] = "bool", [K_PAIR] = "pair",
};

typedef struct Val {
    Kind k;             /* which field holds it */
    Value *t;           /* K_TENSOR */
    int64_t i[2];       /* K_INT: i[0]; K_PAIR: both */
    double f;           /* K_FLOAT */
    bool b;             /* K_BOOL */
    char *s;            /* K_STRING, owned */
} Val;

static const Val err_val = {.k = K_ERROR};

static void
val_free(Val *v)
{
    if (v->k == K_STRING)
        free(v->s);
    *v = err_val;
}

static Val
val_dup(const Val *v)
{
    Val r = *v;
    if (r.k == K_STRING)
        r.s = xstrdup(v->s);
    return r;
}

static Val
val_int(int64_t i)
{
    return (Val){.k = K_INT, .i = {i, 0}};
}

/* ------------------------------------------------------------------ environments */

typedef struct Binding {
    const char *name;   /* points into the syntax tree */
    Val v;              /* owned */
} Binding;

typedef struct Env {
    Binding *b;         /* bindings, in order of first assignment */
    int n, cap;
} Env;

static Val *
env_find(Env *env, const char *name)
{
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->b[i].name, name) == 0)
            return &env->b[i].v;
    return NULL;
}

/* Binds name to v (taking ownership), replacing an old value. */
static void
env_set(Env *env, const char *name, Val v)
{
    Val *old = env_find(env, name);
    if (old) {
        val_free(old);
        *old = v;
        return;
    }
    if (env->n == env->cap) {
        env->cap = env->cap ? 2 * env->cap : 16;
        env->b = xrealloc(env->b, (size_t)env->cap * sizeof *env->b);
    }
    env->b[env->n++] = (Binding){name, v};
}

static void
env_free(Env *env)
{
    for (int i = 0; i < env->n; i++)
        val_free(&env->b[i].v);
    free(env->b);
}

/* ------------------------------------------------------------------ modules and frames */

/* A block visible in a module: its own or imported. */
typedef struct BlockRef {
    const char *name;           /* as visible here */
    const Stmt *def;            /* the S_BLOCK statement */
    struct Module *home;        /* where it is defined (its calls resolve there) */
    Loc loc;                    /* the definition or the import naming it */
} BlockRef;

/* One parsed file. */
typedef struct Module {
    Program *prog;              /* its syntax tree */
    const Source *src;          /* its text */
    char *real;                 /* canonical path, to spot the same file twice */
    BlockRef *blocks;           /* visible blocks */
    int nblocks;
    bool loading;               /* its imports are being resolved (cycle check) */
} Module;

/* One active block call. */
typedef struct Frame {
    const BlockRef *block;      /* the block running */
    Loc call;                   /* where it was called */
    struct Frame *up;           /* the caller's frame, NULL at the top level */
    char *trace;                /* "bottleneck (line 12) < layer (line 25)" */
    int depth;                  /* 1 for a call from the top level */
} Frame;

/* An op call site that already failed; its later expansions stay quiet. */
typedef struct Failed {
    const Source *src;
    int line, col;
} Failed;

typedef struct Elab {
    Diag *d;                    /* where errors go */
    Graph *g;                   /* the graph being built */
    const Source *main_src;     /* the file given on the command line */
    Source *last_src;           /* end of the chain of loaded sources */
    PtrVec modules;             /* Module*, the main one first */
    Frame *frame;               /* the innermost block call, NULL at top level */
    long steps;                 /* statements and calls executed */
    int eval_depth;             /* expressions being evaluated now (recursion guard) */
    bool stop;                  /* a limit was hit: unwind without more work */
    Failed *failed;             /* op call sites that failed */
    int nfailed, capfailed;
    PtrVec msgs;                /* char*, "path:line:col:message" of errors reported */
    const Stmt *model;          /* the model statement seen, if any */
} Elab;

/* ------------------------------------------------------------------ errors */

/* Notes naming the block calls that led here, innermost first. */
static void
call_notes(Elab *E)
{
    for (Frame *f = E->frame; f; f = f->up)
        note_at(E->d, f->call, "in block '%s' called here", f->block->name);
}

/*
 * Reports an error at loc, followed by the chain of block calls.  The same
 * message at the same place (a mistake in a block called many times) is
 * reported once.
 */
__attribute__((format(printf, 3, 4))) static void
err(Elab *E, Loc loc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *key = xprintf("%p:%d:%d:%s", (const void *)loc.src, loc.line, loc.col, msg);
    for (int i = 0; i < E->msgs.n; i++)
        if (strcmp(E->msgs.v[i], key) == 0) {
            free(key);
            E->d->nerrors++;
            return;
        }
    vec_push(&E->msgs, key);
    error_at(E->d, loc, "%s", msg);
    call_notes(E);
}

/* Counts one step; false (with an error, once) when the budget is spent. */
static bool
step(Elab *E, Loc loc)
{
    if (E->stop)
        return false;
    if (++E->steps > MAX_STEPS) {
        err(E, loc, "elaboration stopped after %d steps; is a loop too large?", MAX_STEPS);
        E->stop = true;
        return false;
    }
    return true;
}

/* Edit distance for "did you mean" hints (short names only). */
static int
edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 30 || m > 30)
        return 99;
    int d[31][31];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[n][m];
}

/* Keeps the closest candidate seen so far in *best. */
static void
closest(const char *name, const char *cand, const char **best, int *bestd)
{
    size_t n = strlen(name);
    int dist = edit_distance(name, cand);
    if (n > 2 && dist < *bestd && dist <= (n > 3 ? 2 : 1)) {
        *best = cand;
        *bestd = dist;
    }
}

/* ------------------------------------------------------------------ built-in ops */

enum {
    A_OUT = 1 << 0, A_KERNEL = 1 << 1, A_STRIDE = 1 << 2, A_PAD = 1 << 3,
    A_DILATION = 1 << 4, A_GROUPS = 1 << 5, A_BIAS = 1 << 6, A_CEIL = 1 << 7,
    A_EPS = 1 << 8,
};

/* Keyword attributes: name, bit, kind of value. */
static const struct AttrDef {
    const char *name;
    unsigned bit;
    Kind kind;          /* K_PAIR also takes an int */
} attr_defs[] = {
    {"out", A_OUT, K_INT},
    {"kernel", A_KERNEL, K_PAIR},
    {"stride", A_STRIDE, K_PAIR},
    {"pad", A_PAD, K_PAIR},
    {"dilation", A_DILATION, K_PAIR},
    {"groups", A_GROUPS, K_INT},
    {"bias", A_BIAS, K_BOOL},
    {"ceil_mode", A_CEIL, K_BOOL},
    {"eps", A_EPS, K_FLOAT},
};
#define NATTRS ((int)(sizeof attr_defs / sizeof attr_defs[0]))

/* The ops of the language: the user-facing part of ir/ops.h (all but
 * reorder).  An op is spelled as the table names it (op_name). */
static const struct Builtin {
    Op op;
    unsigned attrs;     /* keywords it takes */
    unsigned required;  /* keywords it needs */
} builtins[] = {
    {OP_CONV2D, A_OUT | A_KERNEL | A_STRIDE | A_PAD | A_DILATION | A_GROUPS | A_BIAS, A_OUT},
    {OP_BATCHNORM, A_EPS, 0},
    {OP_RELU, 0, 0},
    {OP_ADD, 0, 0},
    {OP_MAXPOOL, A_KERNEL | A_STRIDE | A_PAD | A_CEIL, A_KERNEL},
    {OP_AVGPOOL, A_KERNEL | A_STRIDE | A_PAD | A_CEIL, A_KERNEL},
    {OP_GAP, 0, 0},
    {OP_FLATTEN, 0, 0},
    {OP_LINEAR, A_OUT | A_BIAS, A_OUT},
    /* the elementwise functions of ops.h, no keywords */
#define UNARY_BUILTIN(id, name, expr) {OP_##id, 0, 0},
    VISEC_UNARY_OPS(UNARY_BUILTIN)
#undef UNARY_BUILTIN
};
#define NBUILTINS ((int)(sizeof builtins / sizeof builtins[0]))

static const struct Builtin *
find_builtin(const char *name)
{
    for (int i = 0; i < NBUILTINS; i++)
        if (strcmp(op_name(builtins[i].op), name) == 0)
            return &builtins[i];
    return NULL;
}

static const char *const type_names[] = {"tensor", "int", "float", "string", "bool", "pair"};
static const Kind type_kinds[] = {K_TENSOR, K_INT, K_FLOAT, K_STRING, K_BOOL, K_PAIR};

/* The kind a parameter type names, or K_ERROR. */
static Kind
type_kind(const char *type)
{
    for (int i = 0; i < 6; i++)
        if (strcmp(type_names[i], type) == 0)
            return type_kinds[i];
    return K_ERROR;
}

/* Converts v to kind k where the language allows it (int to float, int to pair). */
static bool
coerce(Val *v, Kind k)
{
    if (v->k == k)
        return true;
    if (v->k == K_INT && k == K_FLOAT) {
        v->k = K_FLOAT;
        v->f = (double)v->i[0];
        return true;
    }
    if (v->k == K_INT && k == K_PAIR) {
        v->k = K_PAIR;
        v->i[1] = v->i[0];
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ expressions */

static Val eval(Elab *E, Module *M, Env *env, const Expr *e);

static const BlockRef *
find_block(const Module *M, const char *name)
{
    for (int i = 0; i < M->nblocks; i++)
        if (strcmp(M->blocks[i].name, name) == 0)
            return &M->blocks[i];
    return NULL;
}

static Val
eval_name(Elab *E, Module *M, Env *env, const Expr *e)
{
    Val *v = env_find(env, e->name);
    if (v)
        return val_dup(v);
    if (find_builtin(e->name) || find_block(M, e->name)) {
        err(E, e->loc, "'%s' is %s; call it with (...)", e->name,
            find_builtin(e->name) ? "an op" : "a block");
        return err_val;
    }
    const char *best = NULL;
    int bestd = 99;
    for (int i = 0; i < env->n; i++)
        closest(e->name, env->b[i].name, &best, &bestd);
    if (strcmp(e->name, "N") == 0)
        err(E, e->loc, "'N' (the batch size) can only be the first dimension of an input");
    else if (best)
        err(E, e->loc, "undefined name '%s'; did you mean '%s'?", e->name, best);
    else
        err(E, e->loc, "undefined name '%s'", e->name);
    return err_val;
}

static Val
eval_string(Elab *E, Env *env, const Expr *e)
{
    size_t cap = 64, n = 0;
    char *buf = xmalloc(cap);
    buf[0] = '\0';
    bool ok = true;
    for (int i = 0; i < e->nparts; i++) {
        const StrPart *p = &e->parts[i];
        char num[64];
        const char *piece = p->text;
        if (p->is_name) {
            Val *v = env_find(env, p->text);
            if (!v) {
                err(E, p->loc, "undefined name '%s' in string", p->text);
                ok = false;
                continue;
            }
            switch (v->k) {
            case K_INT:
                snprintf(num, sizeof num, "%lld", (long long)v->i[0]);
                piece = num;
                break;
            case K_FLOAT:
                snprintf(num, sizeof num, "%g", v->f);
                piece = num;
                break;
            case K_BOOL:
                piece = v->b ? "true" : "false";
                break;
            case K_STRING:
                piece = v->s;
                break;
            case K_ERROR:
                ok = false;
                continue;
            case K_TENSOR:
            case K_PAIR:
                err(E, p->loc, "cannot put %s '%s' into a string", kind_name[v->k], p->text);
                ok = false;
                continue;
            }
        }
        size_t len = strlen(piece);
        if (n + len > MAX_STRING) {
            err(E, e->loc, "string is longer than %d bytes", MAX_STRING);
            free(buf);
            return err_val;
        }
        if (n + len + 1 > cap) {
            cap = n + len + 1;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf + n, piece, len + 1);
        n += len;
    }
    if (!ok) {
        free(buf);
        return err_val;
    }
    return (Val){.k = K_STRING, .s = buf};
}

/* int op int, with overflow and division checks. */
static Val
int_arith(Elab *E, const Expr *e, int64_t a, int64_t b)
{
    int64_t r = 0;
    bool ovf = false;
    switch (e->op) {
    case B_ADD:
        ovf = __builtin_add_overflow(a, b, &r);
        break;
    case B_SUB:
        ovf = __builtin_sub_overflow(a, b, &r);
        break;
    case B_MUL:
        ovf = __builtin_mul_overflow(a, b, &r);
        break;
    case B_DIV:
    case B_MOD:
        if (b == 0) {
            err(E, e->loc, "%s by zero", e->op == B_DIV ? "division" : "remainder");
            return err_val;
        }
        if (a == INT64_MIN && b == -1)
            ovf = true;
        else
            r = e->op == B_DIV ? a / b : a % b;
        break;
    default:
        bug("not arithmetic");
    }
    if (ovf) {
        err(E, e->loc, "integer overflow in %lld %s %lld", (long long)a, binop_str(e->op),
            (long long)b);
        return err_val;
    }
    return val_int(r);
}

static bool
is_num(const Val *v)
{
    return v->k == K_INT || v->k == K_FLOAT;
}

static double
num(const Val *v)
{
    return v->k == K_INT ? (double)v->i[0] : v->f;
}

static Val
compare(Elab *E, const Expr *e, const Val *a, const Val *b)
{
    int c;
    if (is_num(a) && is_num(b)) {
        if (a->k == K_INT && b->k == K_INT)
            c = (a->i[0] > b->i[0]) - (a->i[0] < b->i[0]);
        else
            c = (num(a) > num(b)) - (num(a) < num(b));
    } else if (a->k == b->k && (a->k == K_STRING || a->k == K_BOOL || a->k == K_PAIR) &&
               (e->op == B_EQ || e->op == B_NE)) {
        if (a->k == K_STRING)
            c = strcmp(a->s, b->s) != 0;
        else if (a->k == K_BOOL)
            c = a->b != b->b;
        else
            c = a->i[0] != b->i[0] || a->i[1] != b->i[1];
    } else {
        err(E, e->loc, "cannot compare %s and %s with '%s'", kind_name[a->k], kind_name[b->k],
            binop_str(e->op));
        return err_val;
    }
    bool r = false;
    switch (e->op) {
    case B_EQ: r = c == 0; break;
    case B_NE: r = c != 0; break;
    case B_LT: r = c < 0; break;
    case B_LE: r = c <= 0; break;
    case B_GT: r = c > 0; break;
    case B_GE: r = c >= 0; break;
    default: bug("not a comparison");
    }
    return (Val){.k = K_BOOL, .b = r};
}

static Val
eval_binary(Elab *E, Module *M, Env *env, const Expr *e)
{
    Val a = eval(E, M, env, e->lhs);
    if (a.k == K_ERROR)
        return err_val;
    if (e->op == B_AND || e->op == B_OR) {
        if (a.k != K_BOOL) {
            err(E, e->loc, "'%s' needs bool operands, got %s", binop_str(e->op), kind_name[a.k]);
            val_free(&a);
            return err_val;
        }
        if (a.b == (e->op == B_OR))
            return a;       /* short circuit */
        Val b = eval(E, M, env, e->rhs);
        if (b.k != K_BOOL && b.k != K_ERROR) {
            err(E, e->loc, "'%s' needs bool operands, got %s", binop_str(e->op), kind_name[b.k]);
            val_free(&b);
            return err_val;
        }
        return b;
    }
    Val b = eval(E, M, env, e->rhs), r = err_val;
    if (b.k == K_ERROR) {
        val_free(&a);
        return err_val;
    }
    if (e->op >= B_EQ && e->op <= B_GE) {
        r = compare(E, e, &a, &b);
    } else if (a.k == K_INT && b.k == K_INT) {
        r = int_arith(E, e, a.i[0], b.i[0]);
    } else if (is_num(&a) && is_num(&b) && e->op != B_MOD) {
        double x = num(&a), y = num(&b);
        r.k = K_FLOAT;
        r.f = e->op == B_ADD ? x + y : e->op == B_SUB ? x - y : e->op == B_MUL ? x * y : x / y;
        if (e->op == B_DIV && y == 0) {
            err(E, e->loc, "division by zero");
            r = err_val;
        }
    } else if (a.k == K_TENSOR && b.k == K_TENSOR && e->op == B_ADD) {
        err(E, e->loc, "'+' does not apply to tensors; write add(a, b)");
    } else {
        err(E, e->loc, "'%s' needs numbers, got %s and %s", binop_str(e->op), kind_name[a.k],
            kind_name[b.k]);
    }
    val_free(&a);
    val_free(&b);
    return r;
}

static Val
eval_unary(Elab *E, Module *M, Env *env, const Expr *e)
{
    Val a = eval(E, M, env, e->lhs);
    if (a.k == K_ERROR)
        return a;
    if (e->op == B_NOT && a.k == K_BOOL) {
        a.b = !a.b;
        return a;
    }
    if (e->op == B_NEG && a.k == K_INT) {
        if (a.i[0] == INT64_MIN) {
            err(E, e->loc, "integer overflow in -(%lld)", (long long)a.i[0]);
            return err_val;
        }
        a.i[0] = -a.i[0];
        return a;
    }
    if (e->op == B_NEG && a.k == K_FLOAT) {
        a.f = -a.f;
        return a;
    }
    err(E, e->loc, "'%s' does not apply to %s", binop_str(e->op), kind_name[a.k]);
    val_free(&a);
    return err_val;
}

/* Arguments of a call, evaluated; positional ones first in pos[]. */
typedef struct CallArgs {
    Val *v;             /* values, in the order written */
    const Arg **a;      /* the arguments, in the same order */
    int n;              /* how many */
    int npos;           /* how many positional */
    bool bad;           /* an argument failed (already reported) */
} CallArgs;

static bool
eval_args(Elab *E, Module *M, Env *env, const Expr *call, CallArgs *ca)
{
    int n = call->args->n;
    ca->v = xcalloc((size_t)n + 1, sizeof *ca->v);
    ca->a = xcalloc((size_t)n + 1, sizeof *ca->a);
    ca->n = n;
    ca->npos = 0;
    ca->bad = false;
    bool seen_kw = false;
    for (int i = 0; i < n; i++) {
        const Arg *a = call->args->v[i];
        ca->a[i] = a;
        ca->v[i] = eval(E, M, env, a->value);
        if (ca->v[i].k == K_ERROR)
            ca->bad = true;
        if (a->name) {
            seen_kw = true;
        } else if (seen_kw) {
            err(E, a->value->loc, "positional argument after a keyword argument");
            ca->bad = true;
        } else {
            ca->npos++;
        }
    }
    return !ca->bad;
}

static void
args_done(CallArgs *ca)
{
    for (int i = 0; i < ca->n; i++)
        val_free(&ca->v[i]);
    free(ca->v);
    free(ca->a);
}

/* A checkpoint prefix: names separated by single dots. */
static bool
good_prefix(const char *s)
{
    if (!*s || *s == '.')
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '.';
        if (!ok || (*p == '.' && (p[1] == '.' || p[1] == '\0')))
            return false;
    }
    return true;
}

static bool
op_failed_before(Elab *E, Loc loc)
{
    for (int i = 0; i < E->nfailed; i++)
        if (E->failed[i].src == loc.src && E->failed[i].line == loc.line &&
            E->failed[i].col == loc.col)
            return true;
    return false;
}

static void
op_failed(Elab *E, Loc loc)
{
    if (E->nfailed == E->capfailed) {
        E->capfailed = E->capfailed ? 2 * E->capfailed : 16;
        E->failed = xrealloc(E->failed, (size_t)E->capfailed * sizeof *E->failed);
    }
    E->failed[E->nfailed++] = (Failed){loc.src, loc.line, loc.col};
}

/* Sets one attribute from a keyword argument; false after an error. */
static bool
set_attr(Elab *E, const struct Builtin *b, const struct AttrDef *ad, const Arg *arg, Val *v,
         Attrs *a)
{
    if (!coerce(v, ad->kind)) {
        err(E, arg->value->loc, "%s: %s must be %s, got %s", op_name(b->op), ad->name,
            ad->kind == K_PAIR ? "an int or a pair (h, w)" : ad->kind == K_INT ? "an int"
            : ad->kind == K_FLOAT ? "a number" : "true or false", kind_name[v->k]);
        return false;
    }
    if (ad->kind == K_INT || ad->kind == K_PAIR) {
        for (int k = 0; k < (ad->kind == K_PAIR ? 2 : 1); k++)
            if (v->i[k] > MAX_ATTR || v->i[k] < -MAX_ATTR) {
                err(E, arg->value->loc, "%s: %s %lld is too large (at most %d)", op_name(b->op),
                    ad->name, (long long)v->i[k], MAX_ATTR);
                return false;
            }
    }
    int h = (int)v->i[0], w = (int)v->i[1];
    switch (ad->bit) {
    case A_OUT: a->out = v->i[0]; break;
    case A_KERNEL: a->kh = h; a->kw = w; break;
    case A_STRIDE: a->sh = h; a->sw = w; break;
    case A_PAD: a->ph = h; a->pw = w; break;
    case A_DILATION: a->dh = h; a->dw = w; break;
    case A_GROUPS: a->groups = h; break;
    case A_BIAS: a->bias = v->b; break;
    case A_CEIL: a->ceil_mode = v->b; break;
    case A_EPS: a->eps = v->f; break;
    default: bug("bad attribute");
    }
    return true;
}

/* The keywords an op takes, for messages: "out, kernel, stride". */
static void
attr_list(unsigned attrs, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < NATTRS; i++)
        if (attrs & attr_defs[i].bit)
            k += (size_t)snprintf(buf + k, size - k, "%s%s", k ? ", " : "", attr_defs[i].name);
}

static Val
call_op(Elab *E, Module *M, Env *env, const Expr *e, const struct Builtin *b)
{
    const OpInfo *oi = &op_info[b->op];
    int ntensor = oi->min_in;
    bool has_prefix = oi->pk != PK_NONE;
    int npos = ntensor + has_prefix;
    CallArgs ca;
    bool ok = eval_args(E, M, env, e, &ca);
    char list[128];
    attr_list(b->attrs, list, sizeof list);

    if (ca.npos != npos) {
        const char *form = b->op == OP_ADD ? "add(a, b)" : has_prefix ? "input, \"prefix\"" : "input";
        if (ca.npos < npos && has_prefix && ca.npos == ntensor)
            err(E, e->loc, "%s needs a checkpoint prefix string after its input, as in %s(x, \"%s\"%s)",
                oi->name, oi->name, b->op == OP_LINEAR ? "fc" : "0", b->required ? ", out=64" : "");
        else if (ca.npos < npos)
            err(E, e->loc, "%s takes %d positional argument%s (%s), got %d", oi->name, npos,
                npos == 1 ? "" : "s", form, ca.npos);
        else
            err(E, ca.a[npos]->value->loc, "%s takes %d positional argument%s (%s), got %d%s%s",
                oi->name, npos, npos == 1 ? "" : "s", form, ca.npos,
                b->attrs ? "; give the others by name: " : "", list);
        ok = false;
    }
    Value *in[2] = {NULL, NULL};
    const char *prefix = NULL;
    for (int i = 0; i < ca.npos && i < npos; i++) {
        Val *v = &ca.v[i];
        if (v->k == K_ERROR)
            continue;
        if (i < ntensor && v->k != K_TENSOR) {
            err(E, ca.a[i]->value->loc, "%s: %s must be a tensor, got %s", oi->name,
                ntensor == 1 ? "the input" : i == 0 ? "the first input" : "the second input",
                kind_name[v->k]);
            ok = false;
        } else if (i < ntensor) {
            in[i] = v->t;
        } else if (v->k != K_STRING) {
            err(E, ca.a[i]->value->loc, "%s: the checkpoint prefix must be a string, got %s",
                oi->name, kind_name[v->k]);
            ok = false;
        } else if (!good_prefix(v->s)) {
            err(E, ca.a[i]->value->loc,
                "%s: bad checkpoint prefix '%s'; use names or numbers joined by dots, like \"4.0.conv1\"",
                oi->name, v->s);
            ok = false;
        } else {
            prefix = v->s;
        }
    }

    Attrs a = attrs_default(b->op);
    unsigned given = 0;
    for (int i = ca.npos; i < ca.n; i++) {
        const Arg *arg = ca.a[i];
        if (!arg->name)
            continue;
        const struct AttrDef *ad = NULL;
        for (int k = 0; k < NATTRS; k++)
            if (strcmp(attr_defs[k].name, arg->name) == 0 && (b->attrs & attr_defs[k].bit))
                ad = &attr_defs[k];
        if (!ad) {
            if (b->attrs)
                err(E, arg->name_loc, "%s has no argument '%s'; it takes %s", oi->name, arg->name, list);
            else
                err(E, arg->name_loc, "%s has no argument '%s'; it takes no keyword arguments",
                    oi->name, arg->name);
            ok = false;
            continue;
        }
        if (given & ad->bit) {
            err(E, arg->name_loc, "%s: argument '%s' is given twice", oi->name, arg->name);
            ok = false;
            continue;
        }
        given |= ad->bit;
        if (ca.v[i].k != K_ERROR && !set_attr(E, b, ad, arg, &ca.v[i], &a))
            ok = false;
    }
    for (int k = 0; k < NATTRS; k++)
        if ((b->required & attr_defs[k].bit) && !(given & attr_defs[k].bit)) {
            err(E, e->loc, "%s needs the argument %s=", oi->name, attr_defs[k].name);
            ok = false;
        }
    /* PyTorch's pools default the stride to the kernel. */
    if ((b->op == OP_MAXPOOL || b->op == OP_AVGPOOL) && !(given & A_STRIDE)) {
        a.sh = a.kh;
        a.sw = a.kw;
    }
    Val r = err_val;
    if (ok && !ca.bad && !op_failed_before(E, e->loc)) {
        if (E->g->nodes.n >= MAX_NODES) {
            err(E, e->loc, "the model has more than %d ops", MAX_NODES);
            E->stop = true;
        } else {
            int before = E->d->nerrors;
            Value *out = ir_op(E->g, E->d, b->op, e->loc, in, ntensor, &a, prefix);
            if (out) {
                if (E->frame)
                    out->def->trace = xstrdup(E->frame->trace);
                r = (Val){.k = K_TENSOR, .t = out};
            } else {
                if (E->d->nerrors == before)
                    bug("ir_op failed without an error");
                call_notes(E);
                op_failed(E, e->loc);
            }
        }
    }
    args_done(&ca);
    return r;
}

typedef enum Flow { FLOW_NEXT, FLOW_RETURN, FLOW_STOP } Flow;
static Flow exec_stmts(Elab *E, Module *M, Env *env, const PtrVec *body, Val *ret);

/* "bottleneck (line 12)" or, for a call in another file, "bottleneck (a.vise:12)". */
static char *
frame_trace(Elab *E, const char *name, Loc call, const Frame *up)
{
    char *self;
    if (call.src == E->main_src)
        self = xprintf("%s (line %d)", name, call.line);
    else {
        const char *base = strrchr(call.src->path, '/');
        self = xprintf("%s (%s:%d)", name, base ? base + 1 : call.src->path, call.line);
    }
    if (!up)
        return self;
    char *t = xprintf("%s < %s", self, up->trace);
    free(self);
    return t;
}

static Val
call_block(Elab *E, Module *M, Env *env, const Expr *e, const BlockRef *br)
{
    const Stmt *def = br->def;
    const PtrVec *params = def->list;
    CallArgs ca;
    bool ok = eval_args(E, M, env, e, &ca);
    Env local = {0};
    bool *bound = xcalloc((size_t)params->n + 1, sizeof *bound);

    if (ca.npos > params->n) {
        err(E, ca.a[params->n]->value->loc, "block '%s' takes %d argument%s, got %d", br->name,
            params->n, params->n == 1 ? "" : "s", ca.npos);
        ok = false;
    }
    for (int i = 0; i < ca.n; i++) {
        const Arg *arg = ca.a[i];
        int k = i;
        if (arg->name) {
            k = -1;
            for (int j = 0; j < params->n; j++)
                if (strcmp(((Param *)params->v[j])->name, arg->name) == 0)
                    k = j;
            if (k < 0) {
                const char *best = NULL;
                int bestd = 99;
                for (int j = 0; j < params->n; j++)
                    closest(arg->name, ((Param *)params->v[j])->name, &best, &bestd);
                if (best)
                    err(E, arg->name_loc, "block '%s' has no parameter '%s'; did you mean '%s'?",
                        br->name, arg->name, best);
                else
                    err(E, arg->name_loc, "block '%s' has no parameter '%s'", br->name, arg->name);
                ok = false;
                continue;
            }
            if (bound[k]) {
                err(E, arg->name_loc, "parameter '%s' of block '%s' is given twice", arg->name,
                    br->name);
                ok = false;
                continue;
            }
        } else if (k >= params->n) {
            continue;
        }
        const Param *p = params->v[k];
        bound[k] = true;
        Val v = ca.v[i];
        ca.v[i] = err_val;
        Kind want = type_kind(p->type);
        if (v.k != K_ERROR && !coerce(&v, want)) {
            err(E, arg->value->loc, "argument '%s' of block '%s' must be %s, got %s", p->name,
                br->name, p->type, kind_name[v.k]);
            val_free(&v);
            ok = false;
        }
        env_set(&local, p->name, v);
    }
    for (int k = 0; k < params->n; k++) {
        const Param *p = params->v[k];
        if (bound[k])
            continue;
        if (!p->def) {
            err(E, e->loc, "block '%s' needs the argument '%s'", br->name, p->name);
            ok = false;
            continue;
        }
        /* Defaults see no variables; they are evaluated in the block's file. */
        Env none = {0};
        Val v = eval(E, br->home, &none, p->def);
        env_free(&none);
        if (v.k != K_ERROR && !coerce(&v, type_kind(p->type))) {
            err(E, p->def->loc, "default of parameter '%s' must be %s, got %s", p->name,
                p->type, kind_name[v.k]);
            val_free(&v);
        }
        if (v.k == K_ERROR)
            ok = false;
        env_set(&local, p->name, v);
    }
    free(bound);
    args_done(&ca);

    Val ret = err_val;
    if (!ok) {
        env_free(&local);
        return ret;
    }
    for (Frame *f = E->frame; f; f = f->up)
        if (f->block->def == def) {
            /* The cycle in call order: "a -> b -> a". */
            const char *names[MAX_DEPTH + 1];
            int n = 0;
            for (Frame *g = E->frame; n < MAX_DEPTH; g = g->up) {
                names[n++] = g->block->name;
                if (g == f)
                    break;
            }
            char chain[512];
            size_t k = 0;
            chain[0] = '\0';
            for (int i = n - 1; i >= 0 && k < sizeof chain; i--)
                k += (size_t)snprintf(chain + k, sizeof chain - k, "%s -> ", names[i]);
            if (k < sizeof chain)
                snprintf(chain + k, sizeof chain - k, "%s", br->name);
            err(E, e->loc, "block '%s' calls itself (%s); blocks cannot be recursive", br->name,
                chain);
            env_free(&local);
            return ret;
        }
    if (E->frame && E->frame->depth >= MAX_DEPTH) {
        err(E, e->loc, "blocks are nested more than %d deep", MAX_DEPTH);
        env_free(&local);
        return ret;
    }
    Frame f = {br, e->loc, E->frame, frame_trace(E, br->name, e->loc, E->frame),
               E->frame ? E->frame->depth + 1 : 1};
    E->frame = &f;
    Flow fl = exec_stmts(E, br->home, &local, def->body, &ret);
    E->frame = f.up;
    if (fl == FLOW_NEXT) {
        E->frame = &f;
        err(E, def->end_loc, "block '%s' ends without 'return'", br->name);
        E->frame = f.up;
    }
    free(f.trace);
    env_free(&local);
    return ret;
}

static Val
eval_call(Elab *E, Module *M, Env *env, const Expr *e)
{
    const BlockRef *br = find_block(M, e->name);
    if (br)
        return call_block(E, M, env, e, br);
    const struct Builtin *b = find_builtin(e->name);
    if (b)
        return call_op(E, M, env, e, b);
    if (env_find(env, e->name)) {
        err(E, e->loc, "'%s' is a variable, not a block or op", e->name);
        return err_val;
    }
    const char *best = NULL;
    int bestd = 99;
    for (int i = 0; i < NBUILTINS; i++)
        closest(e->name, op_name(builtins[i].op), &best, &bestd);
    for (int i = 0; i < M->nblocks; i++)
        closest(e->name, M->blocks[i].name, &best, &bestd);
    if (best)
        err(E, e->loc, "undefined block or op '%s'; did you mean '%s'?", e->name, best);
    else
        err(E, e->loc, "undefined block or op '%s'", e->name);
    return err_val;
}

static Val eval_expr(Elab *E, Module *M, Env *env, const Expr *e);

static Val
eval(Elab *E, Module *M, Env *env, const Expr *e)
{
    if (!step(E, e->loc))
        return err_val;
    if (E->eval_depth >= MAX_EVAL) {
        err(E, e->loc, "expressions and block calls are nested more than %d deep", MAX_EVAL);
        E->stop = true;
        return err_val;
    }
    E->eval_depth++;
    Val v = eval_expr(E, M, env, e);
    E->eval_depth--;
    return v;
}

static Val
eval_expr(Elab *E, Module *M, Env *env, const Expr *e)
{
    switch (e->kind) {
    case E_INT:
        return val_int(e->ival);
    case E_FLOAT:
        return (Val){.k = K_FLOAT, .f = e->fval};
    case E_BOOL:
        return (Val){.k = K_BOOL, .b = e->bval};
    case E_STRING:
        return eval_string(E, env, e);
    case E_NAME:
        return eval_name(E, M, env, e);
    case E_CALL:
        return eval_call(E, M, env, e);
    case E_PAIR: {
        Val a = eval(E, M, env, e->lhs), b = eval(E, M, env, e->rhs);
        if (a.k == K_INT && b.k == K_INT)
            return (Val){.k = K_PAIR, .i = {a.i[0], b.i[0]}};
        if (a.k != K_ERROR && b.k != K_ERROR)
            err(E, e->loc, "a pair holds two ints, got %s and %s", kind_name[a.k], kind_name[b.k]);
        val_free(&a);
        val_free(&b);
        return err_val;
    }
    case E_BINARY:
        return eval_binary(E, M, env, e);
    case E_UNARY:
        return eval_unary(E, M, env, e);
    }
    bug("bad expression kind %d", (int)e->kind);
}

/* ------------------------------------------------------------------ statements */

/* Evaluates an int; false (reported unless already an error) otherwise. */
static bool
eval_int(Elab *E, Module *M, Env *env, const Expr *e, const char *what, int64_t *out)
{
    Val v = eval(E, M, env, e);
    bool ok = v.k == K_INT;
    if (ok)
        *out = v.i[0];
    else if (v.k != K_ERROR)
        err(E, e->loc, "%s must be an int, got %s", what, kind_name[v.k]);
    val_free(&v);
    return ok;
}

static void
exec_input(Elab *E, Module *M, Env *env, const Stmt *s)
{
    const PtrVec *dims = s->list;
    Shape sh = {0};
    bool ok = true;
    if (dims->n < 2 || dims->n > IR_MAXRANK) {
        err(E, s->name_loc, "input '%s' has %d dimension%s; it needs 2 to %d, the first being N",
            s->name, dims->n, dims->n == 1 ? "" : "s", IR_MAXRANK);
        return;
    }
    sh.rank = dims->n;
    int64_t numel = 1;
    for (int i = 0; i < dims->n; i++) {
        const Expr *x = dims->v[i];
        bool is_n = x->kind == E_NAME && strcmp(x->name, "N") == 0;
        if (i == 0) {
            if (!is_n) {
                err(E, x->loc, "the first dimension of input '%s' must be the batch N", s->name);
                ok = false;
            }
            sh.dim[0] = DIM_N;
            continue;
        }
        int64_t v;
        if (is_n) {
            err(E, x->loc, "'N' (the batch size) can only be the first dimension of an input");
            ok = false;
        } else if (!eval_int(E, M, env, x, "an input dimension", &v)) {
            ok = false;
        } else if (v < 1 || v > MAX_ATTR) {
            err(E, x->loc, "input '%s': dimension %d must be in 1..%d, got %lld", s->name, i + 1,
                MAX_ATTR, (long long)v);
            ok = false;
        } else {
            sh.dim[i] = v;
            numel *= v;
            if (numel > MAX_NUMEL) {
                err(E, x->loc, "input '%s' is too large (more than %lld elements per image)",
                    s->name, (long long)MAX_NUMEL);
                ok = false;
                break;
            }
        }
    }
    for (int i = 0; i < E->g->inputs.n; i++)
        if (strcmp(((Value *)E->g->inputs.v[i])->name, s->name) == 0) {
            err(E, s->name_loc, "input '%s' is declared twice", s->name);
            ok = false;
        }
    if (!ok) {
        env_set(env, s->name, err_val);
        return;
    }
    Value *v = graph_input(E->g, s->name, sh);
    env_set(env, s->name, (Val){.k = K_TENSOR, .t = v});
}

static void
exec_output(Elab *E, Module *M, Env *env, const Stmt *s)
{
    if (E->frame) {
        err(E, s->loc, "'output' belongs at the top level, not inside block '%s'",
            E->frame->block->name);
        return;
    }
    Val v;
    if (s->value) {
        v = eval(E, M, env, s->value);
    } else {
        Expr name = {.kind = E_NAME, .loc = s->name_loc, .name = s->name};
        v = eval(E, M, env, &name);
    }
    if (v.k != K_TENSOR && v.k != K_ERROR)
        err(E, s->value ? s->value->loc : s->name_loc, "output '%s' must be a tensor, got %s",
            s->name, kind_name[v.k]);
    bool ok = v.k == K_TENSOR;
    for (int i = 0; i < E->g->outnames.n; i++)
        if (strcmp(E->g->outnames.v[i], s->name) == 0) {
            err(E, s->name_loc, "output '%s' is declared twice", s->name);
            ok = false;
        }
    for (int i = 0; i < E->g->inputs.n; i++)
        if (strcmp(((Value *)E->g->inputs.v[i])->name, s->name) == 0) {
            err(E, s->name_loc, "output '%s' has the name of an input", s->name);
            ok = false;
        }
    if (ok)
        graph_output(E->g, s->name, v.t);
    val_free(&v);
}

static Flow
exec_stmt(Elab *E, Module *M, Env *env, const Stmt *s, Val *ret)
{
    if (!step(E, s->loc))
        return FLOW_STOP;
    switch (s->kind) {
    case S_MODEL:
        if (E->model) {
            err(E, s->loc, "the model is named twice");
            note_at(E->d, E->model->loc, "first named here");
            break;
        }
        E->model = s;
        free(E->g->name);
        E->g->name = xstrdup(s->name);
        E->g->name_loc = s->name_loc;
        break;
    case S_INPUT:
        exec_input(E, M, env, s);
        break;
    case S_OUTPUT:
        exec_output(E, M, env, s);
        break;
    case S_BLOCK:
    case S_IMPORT:
        break;          /* collected before the statements run */
    case S_ASSIGN: {
        if (find_builtin(s->name) || find_block(M, s->name)) {
            err(E, s->name_loc, "cannot assign to '%s': it is %s", s->name,
                find_builtin(s->name) ? "an op" : "a block");
            break;
        }
        env_set(env, s->name, eval(E, M, env, s->value));
        break;
    }
    case S_FOR: {
        int64_t lo, hi;
        bool ok = eval_int(E, M, env, s->value, "the start of a range", &lo);
        ok = eval_int(E, M, env, s->hi, "the end of a range", &hi) && ok;
        if (!ok)
            break;
        if (hi > lo && (hi - lo > MAX_TRIPS || hi - lo < 0)) {
            err(E, s->loc, "loop runs %lld..%lld, more than %d times", (long long)lo,
                (long long)hi, MAX_TRIPS);
            break;
        }
        for (int64_t i = lo; i < hi; i++) {
            env_set(env, s->name, val_int(i));
            Flow f = exec_stmts(E, M, env, s->body, ret);
            if (f != FLOW_NEXT)
                return f;
        }
        break;
    }
    case S_IF: {
        Val c = eval(E, M, env, s->value);
        if (c.k != K_BOOL) {
            if (c.k != K_ERROR)
                err(E, s->value->loc, "the condition of 'if' must be a bool, got %s",
                    kind_name[c.k]);
            val_free(&c);
            break;
        }
        if (c.b)
            return exec_stmts(E, M, env, s->body, ret);
        if (s->els)
            return exec_stmts(E, M, env, s->els, ret);
        break;
    }
    case S_RETURN:
        if (!E->frame) {
            err(E, s->loc, "'return' outside a block");
            break;
        }
        *ret = eval(E, M, env, s->value);
        return FLOW_RETURN;
    }
    return E->stop ? FLOW_STOP : FLOW_NEXT;
}

static Flow
exec_stmts(Elab *E, Module *M, Env *env, const PtrVec *body, Val *ret)
{
    for (int i = 0; i < body->n; i++) {
        Flow f = exec_stmt(E, M, env, body->v[i], ret);
        if (f != FLOW_NEXT)
            return f;
    }
    return FLOW_NEXT;
}

/* ------------------------------------------------------------------ modules */

static void
add_block(Module *M, const char *name, const Stmt *def, Module *home, Loc loc)
{
    M->blocks = xrealloc(M->blocks, (size_t)(M->nblocks + 1) * sizeof *M->blocks);
    M->blocks[M->nblocks++] = (BlockRef){name, def, home, loc};
}

/* Checks a block's definition: its name and its parameters. */
static bool
check_block(Elab *E, Module *M, const Stmt *s)
{
    if (find_builtin(s->name)) {
        err(E, s->name_loc, "block '%s' has the name of a built-in op", s->name);
        return false;
    }
    const BlockRef *old = find_block(M, s->name);
    if (old) {
        err(E, s->name_loc, "block '%s' is defined twice", s->name);
        note_at(E->d, old->loc, "first defined here");
        return false;
    }
    bool ok = true, seen_default = false;
    const PtrVec *ps = s->list;
    for (int i = 0; i < ps->n; i++) {
        const Param *p = ps->v[i];
        if (type_kind(p->type) == K_ERROR) {
            err(E, p->type_loc, "unknown type '%s'; the types are tensor, int, float, string, bool and pair",
                p->type);
            ok = false;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(((Param *)ps->v[j])->name, p->name) == 0) {
                err(E, p->loc, "parameter '%s' of block '%s' is repeated", p->name, s->name);
                ok = false;
            }
        if (p->def)
            seen_default = true;
        else if (seen_default) {
            err(E, p->loc, "parameter '%s' needs a default: it follows one that has a default",
                p->name);
            ok = false;
        }
    }
    return ok;
}

static Module *load_module(Elab *E, const char *path, const char *text, Loc from);

/* Resolves one import statement of M. */
static void
do_import(Elab *E, Module *M, const Stmt *s, int depth)
{
    if (depth >= MAX_IMPORTS) {
        err(E, s->loc, "imports are nested more than %d deep", MAX_IMPORTS);
        return;
    }
    /* Relative to the importing file's directory. */
    char *path;
    const char *slash = strrchr(M->src->path, '/');
    if (s->path[0] == '/' || !slash)
        path = xstrdup(s->path);
    else
        path = xprintf("%.*s/%s", (int)(slash - M->src->path), M->src->path, s->path);
    char *real = realpath(path, NULL);
    if (!real) {
        err(E, s->loc, "cannot import '%s': %s", path, strerror(errno));
        free(path);
        return;
    }
    Module *from = NULL;
    for (int i = 0; i < E->modules.n; i++) {
        Module *m = E->modules.v[i];
        if (m->real && strcmp(m->real, real) == 0)
            from = m;
    }
    if (from && from->loading) {
        err(E, s->loc, "'%s' imports itself, directly or through other files", path);
        free(path);
        free(real);
        return;
    }
    if (!from)
        from = load_module(E, path, NULL, s->loc);
    free(path);
    free(real);
    if (!from)
        return;
    for (int i = 0; i < s->list->n; i++) {
        const Expr *n = s->list->v[i];
        const BlockRef *br = find_block(from, n->name);
        if (!br) {
            err(E, n->loc, "'%s' has no block '%s'", s->path, n->name);
            continue;
        }
        const BlockRef *old = find_block(M, n->name);
        if (old) {
            err(E, n->loc, "block '%s' is imported but already defined", n->name);
            note_at(E->d, old->loc, "defined here");
            continue;
        }
        add_block(M, n->name, br->def, br->home, n->loc);
    }
}

/*
 * Reads and parses a file (or text), collects its blocks and resolves its
 * imports.  Its other statements run only for the main file.
 */
static Module *
load_module(Elab *E, const char *path, const char *text, Loc from)
{
    Source *src;
    if (text) {
        src = source_from_string(path, text);
    } else {
        src = source_read(path, E->d);
        if (!src)
            return NULL;
    }
    if (E->last_src)
        E->last_src->next = src;
    E->last_src = src;
    if (!E->main_src)
        E->main_src = src;
    (void)from;

    Program *prog = parse_program(src, E->d);
    if (!prog)
        return NULL;
    Module *M = xcalloc(1, sizeof *M);
    M->prog = prog;
    M->src = src;
    M->real = text ? NULL : realpath(path, NULL);
    vec_push(&E->modules, M);

    M->loading = true;
    for (int i = 0; i < prog->items.n; i++) {
        const Stmt *s = prog->items.v[i];
        if (s->kind == S_BLOCK && check_block(E, M, s))
            add_block(M, s->name, s, M, s->name_loc);
    }
    for (int i = 0; i < prog->items.n; i++) {
        const Stmt *s = prog->items.v[i];
        if (s->kind == S_IMPORT)
            do_import(E, M, s, E->modules.n);
    }
    M->loading = false;
    return M;
}

static void
module_free(Module *M)
{
    program_free(M->prog);
    free(M->real);
    free(M->blocks);
    free(M);
}

/* ------------------------------------------------------------------ entry points */

static Graph *
elaborate(const char *path, const char *text, Diag *d, Source **srcp)
{
    Elab E = {.d = d};
    int errors = d->nerrors;
    E.g = graph_new("");
    Module *M = load_module(&E, path, text, (Loc){0});
    *srcp = (Source *)E.main_src;

    /* Run the main file's statements only if every file parsed cleanly. */
    if (M && d->nerrors == errors) {
        Env env = {0};
        Val ret = err_val;
        exec_stmts(&E, M, &env, &M->prog->items, &ret);
        val_free(&ret);
        env_free(&env);
        Loc top = {M->src, 1, 1, 1};
        if (!E.stop) {
            if (!E.model)
                err(&E, top, "the description does not name its model; start it with a line like: model resnet50");
            else if (E.g->inputs.n == 0)
                err(&E, E.model->name_loc, "model '%s' has no input; declare one like: input x: [N, 3, 224, 224]",
                    E.model->name);
            else if (E.g->outputs.n == 0 && d->nerrors == errors)
                err(&E, E.model->name_loc, "model '%s' has no output; declare one like: output y = h",
                    E.model->name);
        }
    }
    for (int i = 0; i < E.modules.n; i++)
        module_free(E.modules.v[i]);
    free(E.modules.v);
    for (int i = 0; i < E.msgs.n; i++)
        free(E.msgs.v[i]);
    free(E.msgs.v);
    free(E.failed);
    if (d->nerrors > errors) {
        graph_free(E.g);
        return NULL;
    }
    return E.g;
}

Graph *
frontend_load(const char *path, Diag *d, Source **src)
{
    return elaborate(path, NULL, d, src);
}

Graph *
frontend_load_string(const char *path, const char *text, Diag *d, Source **src)
{
    return elaborate(path, text, d, src);
}
