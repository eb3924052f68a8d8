/*
 * shape.c — shape inference and the checks that make a node well-formed.
 *
 * ir_op() is how every front end adds an op: it makes the node, infers its
 * output shape, and creates the constant tensors its checkpoint prefix names,
 * with the shapes PyTorch gives them.  Every user mistake is reported at the
 * node's source location.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Bounds that keep every size computation far from overflow. */
#define MAX_DIM     (1 << 24)   /* any single dimension or attribute */
#define MAX_NUMEL   (INT64_C(1) << 34)   /* elements of one tensor per image */

static int64_t
div_floor(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Output size of a window op along one axis; PyTorch's rule. */
static int64_t
window_out(int64_t in, int k, int s, int p, int d, bool ceil_mode)
{
    int64_t span = in + 2 * (int64_t)p - (int64_t)d * (k - 1) - 1;
    int64_t o = (ceil_mode ? div_floor(span + s - 1, s) : div_floor(span, s)) + 1;
    /* With ceil_mode the last window must start inside the input or left pad. */
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

static const char *
shs(Shape s, char *buf)
{
    return shape_str(s, buf, SHAPE_STRLEN);
}

/* Checks that one attribute is within [lo, MAX_DIM]. */
static bool
check_attr(Diag *d, Node *n, const char *what, int64_t v, int64_t lo)
{
    if (v < lo) {
        error_at(d, n->loc, "%s: %s must be %s, got %lld", op_name(n->op), what,
                 lo == 0 ? "non-negative" : "positive", (long long)v);
        return false;
    }
    if (v > MAX_DIM) {
        error_at(d, n->loc, "%s: %s %lld is too large (at most %d)", op_name(n->op),
                 what, (long long)v, MAX_DIM);
        return false;
    }
    return true;
}

static bool
check_rank(Diag *d, Node *n, Value *v, int rank, const char *form)
{
    char b[SHAPE_STRLEN];
    if (v->shape.rank == rank)
        return true;
    error_at(d, n->loc, "%s expects a %d-d input %s, got %s", op_name(n->op), rank,
             form, shs(v->shape, b));
    return false;
}

static bool
check_window(Diag *d, Node *n, bool conv)
{
    Attrs *a = &n->a;
    bool ok = check_attr(d, n, "kernel", a->kh, 1) && check_attr(d, n, "kernel", a->kw, 1);
    ok = ok && check_attr(d, n, "stride", a->sh, 1) && check_attr(d, n, "stride", a->sw, 1);
    ok = ok && check_attr(d, n, "padding", a->ph, 0) && check_attr(d, n, "padding", a->pw, 0);
    if (conv)
        ok = ok && check_attr(d, n, "dilation", a->dh, 1) && check_attr(d, n, "dilation", a->dw, 1);
    return ok;
}

/* Sets the spatial output dims; false if the output would be empty. */
static bool
window_shape(Diag *d, Node *n, Shape in, Shape *out)
{
    Attrs *a = &n->a;
    int dh = n->op == OP_CONV2D ? a->dh : 1, dw = n->op == OP_CONV2D ? a->dw : 1;
    int64_t oh = window_out(in.dim[2], a->kh, a->sh, a->ph, dh, a->ceil_mode);
    int64_t ow = window_out(in.dim[3], a->kw, a->sw, a->pw, dw, a->ceil_mode);
    if (oh < 1 || ow < 1) {
        char b[SHAPE_STRLEN];
        error_at(d, n->loc,
                 "%s: input %s with kernel %dx%d, stride %d, padding %d gives an empty %lldx%lld output",
                 op_name(n->op), shs(in, b), a->kh, a->kw, a->sh, a->ph, (long long)oh,
                 (long long)ow);
        return false;
    }
    out->dim[2] = oh;
    out->dim[3] = ow;
    return true;
}

/* Creates (or reuses) the tensor prefix.suffix with shape s. */
static bool
make_param(Graph *g, Diag *d, Node *n, ParamRole role, Shape s, bool trainable)
{
    char *name = xprintf("%s.%s", n->prefix, param_suffix[role]);
    Tensor *t = graph_find_tensor(g, name);
    if (t && !shape_eq(t->shape, s)) {
        char b1[SHAPE_STRLEN], b2[SHAPE_STRLEN];
        error_at(d, n->loc, "tensor '%s' is needed with shape %s here but with %s at line %d",
                 name, shs(s, b1), shs(t->shape, b2), t->loc.line);
        free(name);
        return false;
    }
    if (!t) {
        t = graph_tensor(g, name, s, n->loc);
        t->trainable = trainable;
    }
    free(name);
    n->param[role] = t;
    t->refs++;
    return true;
}

static bool
make_params(Graph *g, Diag *d, Node *n, int64_t c)
{
    const Attrs *a = &n->a;
    bool ok = true;
    switch (op_info[n->op].pk) {
    case PK_NONE:
    case PK_AFFINE:
        return true;
    case PK_CONV:
        ok = make_param(g, d, n, P_WEIGHT, shape4(a->out, c / a->groups, a->kh, a->kw), true);
        if (ok && a->bias)
            ok = make_param(g, d, n, P_BIAS, (Shape){1, {a->out}}, true);
        return ok;
    case PK_BN:
        for (int r = P_WEIGHT; r <= P_VAR && ok; r++)
            ok = make_param(g, d, n, r, (Shape){1, {c}}, r == P_WEIGHT || r == P_BIAS);
        return ok;
    case PK_LINEAR:
        ok = make_param(g, d, n, P_WEIGHT, (Shape){2, {a->out, c}}, true);
        if (ok && a->bias)
            ok = make_param(g, d, n, P_BIAS, (Shape){1, {a->out}}, true);
        return ok;
    }
    bug("bad param kind");
}

bool
infer_shape(Graph *g, Diag *d, Node *n)
{
    (void)g;
    Attrs *a = &n->a;
    Value *x = n->in[0];
    Shape in = x->shape, out = in;
    char b1[SHAPE_STRLEN], b2[SHAPE_STRLEN];

    switch (n->op) {
    case OP_CONV2D:
        if (!check_rank(d, n, x, 4, "[N, C, H, W]") || !check_window(d, n, true) ||
            !check_attr(d, n, "output channels", a->out, 1) ||
            !check_attr(d, n, "groups", a->groups, 1))
            return false;
        if (in.dim[1] % a->groups || a->out % a->groups) {
            error_at(d, n->loc, "conv2d: groups %d must divide input channels %lld and output channels %lld",
                     a->groups, (long long)in.dim[1], (long long)a->out);
            return false;
        }
        out.dim[1] = a->out;
        if (!window_shape(d, n, in, &out))
            return false;
        if (n->nin == 2 && !shape_eq(n->in[1]->shape, out)) {
            error_at(d, n->loc, "conv2d: residual %s does not match output %s",
                     shs(n->in[1]->shape, b1), shs(out, b2));
            return false;
        }
        break;
    case OP_BATCHNORM:
    case OP_SCALESHIFT:
        if (in.rank != 2 && in.rank != 4) {
            error_at(d, n->loc, "%s expects a 4-d input [N, C, H, W] or a 2-d input [N, C], got %s",
                     op_name(n->op), shs(in, b1));
            return false;
        }
        if (n->op == OP_BATCHNORM && !(a->eps > 0 && a->eps < 1)) {
            error_at(d, n->loc, "batchnorm: eps must be in (0, 1), got %g", a->eps);
            return false;
        }
        break;
    case OP_RELU:
        break;
    VISEC_UNARY_OPS(UNARY_CASE)
        break;      /* elementwise: the input's shape, any rank */
    case OP_ADD:
        if (!shape_eq(in, n->in[1]->shape)) {
            error_at(d, n->loc, "add: shapes %s and %s differ", shs(in, b1),
                     shs(n->in[1]->shape, b2));
            return false;
        }
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        if (!check_rank(d, n, x, 4, "[N, C, H, W]") || !check_window(d, n, false))
            return false;
        if (2 * a->ph > a->kh || 2 * a->pw > a->kw) {
            error_at(d, n->loc, "%s: padding %d must be at most half the kernel %d",
                     op_name(n->op), a->ph, a->kh);
            return false;
        }
        if (!window_shape(d, n, in, &out))
            return false;
        break;
    case OP_GAP:
        if (!check_rank(d, n, x, 4, "[N, C, H, W]"))
            return false;
        out.dim[2] = out.dim[3] = 1;
        break;
    case OP_FLATTEN:
        if (!check_rank(d, n, x, 4, "[N, C, H, W]"))
            return false;
        out = (Shape){2, {in.dim[0], in.dim[1] * in.dim[2] * in.dim[3]}};
        break;
    case OP_REORDER:    /* made by the layout pass, which sets the layouts */
        break;
    case OP_LINEAR:
        if (in.rank != 2) {
            error_at(d, n->loc, "linear expects a 2-d input [N, features], got %s%s",
                     shs(in, b1), in.rank == 4 ? "; flatten it first" : "");
            return false;
        }
        if (!check_attr(d, n, "output features", a->out, 1))
            return false;
        out.dim[1] = a->out;
        break;
    case OP_COUNT:
        bug("bad op");
    }
    if (shape_numel(out, 1) > MAX_NUMEL) {
        error_at(d, n->loc, "%s: output %s is too large", op_name(n->op), shs(out, b1));
        return false;
    }
    n->out->shape = out;
    n->out->layout = out.rank == 2 ? LAYOUT_NC : LAYOUT_NCHW;
    return make_params(g, d, n, in.rank >= 2 ? in.dim[1] : 0);
}

Value *
ir_op(Graph *g, Diag *d, Op op, Loc loc, Value **in, int nin, const Attrs *a,
      const char *prefix)
{
    const OpInfo *oi = &op_info[op];
    if (nin < oi->min_in || nin > oi->max_in) {
        error_at(d, loc, "%s takes %d input%s, got %d", oi->name, oi->max_in,
                 oi->max_in == 1 ? "" : "s", nin);
        return NULL;
    }
    if (oi->pk != PK_NONE && oi->pk != PK_AFFINE && (!prefix || !*prefix)) {
        error_at(d, loc, "%s needs a checkpoint prefix for its weights", oi->name);
        return NULL;
    }
    for (int i = 0; i < nin; i++)
        if (!in[i] || in[i]->shape.rank == 0)
            bug("%s: input %d has no shape", oi->name, i);
    Node *n = graph_node(g, op, loc, in, nin, a, oi->pk == PK_NONE ? NULL : prefix);
    if (!infer_shape(g, d, n)) {
        /* Leave the node out of the graph so later checks see no half-made op. */
        for (int i = 0; i < nin; i++)
            in[i]->nuses--;
        g->nodes.n--;
        n->out->def = NULL;
        free(n->prefix);
        free(n->name);
        free(n);
        return NULL;
    }
    return n->out;
}
