/*
 * interp.c — the reference interpreter.
 *
 * One kernel per op, each the plainest loop nest that computes the op's
 * meaning as PyTorch defines it (docs in ir/ops.h).  Values are held in
 * logical layout: [N][C][H][W] for rank 4, [N][F] for rank 2.  A value is
 * freed as soon as the last node reading it has run.
 *
 * Speed matters only enough that a ResNet-50 runs in seconds: the
 * convolution walks output rows so that its innermost loop reads a
 * contiguous input row and writes a contiguous double accumulator row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* Sizes of a rank-4 value for one image: [C][H][W]. */
typedef struct Chw {
    int64_t c, h, w;
} Chw;

static Chw
chw_of(const Value *v)
{
    const Shape *s = &v->shape;
    if (s->rank == 4)
        return (Chw){s->dim[1], s->dim[2], s->dim[3]};
    if (s->rank == 2)
        return (Chw){s->dim[1], 1, 1};
    bug("interp: value of rank %d", s->rank);
}

/* ---------------------------------------------------------------- conv2d */

/*
 * y[n][co][oh][ow] = b[co] + sum over ci in co's group, kh, kw of
 *     W[co][ci][kh][kw] * x[n][g*cig + ci][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw]
 * then + r[n][co][oh][ow] (EPI_ADD) and max(., 0) (EPI_RELU), in that order.
 * Zero padding: out-of-range input positions contribute nothing.
 */
static void
conv2d(const Node *n, int batch, const float *x, const float *r, float *y)
{
    const Attrs *a = &n->a;
    Chw in = chw_of(n->in[0]), out = chw_of(n->out);
    /* A weight packed by pack_weights is read through tensor_conv_weight(). */
    const float *wt = n->param[P_WEIGHT]->pack_mr || n->param[P_WEIGHT]->from ? NULL : n->param[P_WEIGHT]->data;
    const float *bias = n->param[P_BIAS] ? n->param[P_BIAS]->data : NULL;
    int64_t cig = in.c / a->groups, cog = out.c / a->groups;  /* channels per group */
    int64_t plane = out.h * out.w;
    double *acc = xmalloc((size_t)plane * sizeof *acc);

    for (int64_t b = 0; b < batch; b++) {
        for (int64_t co = 0; co < out.c; co++) {            /* each output plane */
            int64_t grp = co / cog;
            double b0 = bias ? bias[co] : 0.0;
            for (int64_t i = 0; i < plane; i++)
                acc[i] = b0;
            for (int64_t ci = 0; ci < cig; ci++) {          /* input channels of the group */
                const float *xp = x + ((b * in.c) + grp * cig + ci) * in.h * in.w;
                for (int kh = 0; kh < a->kh; kh++) {
                    for (int kw = 0; kw < a->kw; kw++) {    /* each filter tap */
                        int64_t k = (ci * a->kh + kh) * a->kw + kw;
                        double wv = wt ? wt[co * cig * a->kh * a->kw + k]
                                       : tensor_conv_weight(n->param[P_WEIGHT], a->groups, co, k);
                        int64_t woff = (int64_t)kw * a->dw - a->pw;
                        /* Output columns whose input column ow*sw + woff is in [0, W). */
                        int64_t ow0 = woff >= 0 ? 0 : (-woff + a->sw - 1) / a->sw;
                        int64_t ow1 = in.w - woff <= 0 ? 0 : (in.w - woff + a->sw - 1) / a->sw;
                        if (ow1 > out.w)
                            ow1 = out.w;
                        for (int64_t oh = 0; oh < out.h; oh++) {   /* output rows */
                            int64_t ih = oh * a->sh - a->ph + (int64_t)kh * a->dh;
                            if (ih < 0 || ih >= in.h)
                                continue;
                            const float *xr = xp + ih * in.w + woff;
                            double *ar = acc + oh * out.w;
                            if (a->sw == 1)
                                for (int64_t ow = ow0; ow < ow1; ow++)
                                    ar[ow] += wv * xr[ow];
                            else
                                for (int64_t ow = ow0; ow < ow1; ow++)
                                    ar[ow] += wv * xr[ow * a->sw];
                        }
                    }
                }
            }
            /* Epilogue: bias is in acc; then the residual, then relu. */
            int64_t base = (b * out.c + co) * plane;
            for (int64_t i = 0; i < plane; i++) {
                float v = (float)acc[i];
                if (n->epi & EPI_ADD)
                    v += r[base + i];
                if ((n->epi & EPI_RELU) && v < 0)
                    v = 0;
                y[base + i] = v;
            }
        }
    }
    free(acc);
}

/* ---------------------------------------------------------------- per-channel affine */

/*
 * batchnorm: y = (x - mean) / sqrt(var + eps) * w + b
 * scale_shift: y = x * s + t
 * Both per channel (dim 1) of a rank-4 or rank-2 value; the batch-norm
 * scale is computed in double.
 */
static void
affine(const Node *n, int batch, const float *x, float *y)
{
    Chw dm = chw_of(n->in[0]);
    int64_t plane = dm.h * dm.w;
    for (int64_t c = 0; c < dm.c; c++) {
        double scale, shift;
        if (n->op == OP_BATCHNORM) {
            double w = n->param[P_WEIGHT]->data[c], bb = n->param[P_BIAS]->data[c];
            double mean = n->param[P_MEAN]->data[c], var = n->param[P_VAR]->data[c];
            scale = w / sqrt(var + n->a.eps);
            shift = bb - mean * scale;
        } else {
            scale = n->param[P_WEIGHT]->data[c];
            shift = n->param[P_BIAS] ? n->param[P_BIAS]->data[c] : 0.0;
        }
        for (int64_t b = 0; b < batch; b++) {
            int64_t base = (b * dm.c + c) * plane;
            for (int64_t i = 0; i < plane; i++)
                y[base + i] = (float)(x[base + i] * scale + shift);
        }
    }
}

/* ---------------------------------------------------------------- pools */

/*
 * Window [start, end) along one axis for output index o, as PyTorch's
 * pooling kernels: end is first limited to in + pad (the padded extent,
 * which sets the avgpool divisor), then both ends are clipped to the input.
 */
typedef struct Win {
    int64_t lo, hi;     /* clipped to the input */
    int64_t span;       /* within the padded extent: the count_include_pad size */
} Win;

static Win
window(int64_t o, int k, int s, int p, int64_t in)
{
    int64_t lo = o * s - p, hi = lo + k;
    if (hi > in + p)
        hi = in + p;
    Win w = {lo, hi, hi - lo};
    if (w.lo < 0)
        w.lo = 0;
    if (w.hi > in)
        w.hi = in;
    return w;
}

/* maxpool and avgpool over each (image, channel) plane.  maxpool: the max
 * over the window; padding is -inf, so only input counts.  avgpool: the
 * window sum divided by the window size counting padding
 * (count_include_pad=True), but not the part past the padding (ceil_mode). */
static void
pool(const Node *n, int batch, const float *x, float *y)
{
    const Attrs *a = &n->a;
    Chw in = chw_of(n->in[0]), out = chw_of(n->out);
    for (int64_t bc = 0; bc < batch * in.c; bc++) {         /* each (image, channel) plane */
        const float *xp = x + bc * in.h * in.w;
        float *yp = y + bc * out.h * out.w;
        for (int64_t oh = 0; oh < out.h; oh++) {
            Win wh = window(oh, a->kh, a->sh, a->ph, in.h);
            for (int64_t ow = 0; ow < out.w; ow++) {
                Win ww = window(ow, a->kw, a->sw, a->pw, in.w);
                if (n->op == OP_MAXPOOL) {
                    float m = -INFINITY;
                    for (int64_t ih = wh.lo; ih < wh.hi; ih++)
                        for (int64_t iw = ww.lo; iw < ww.hi; iw++) {
                            float v = xp[ih * in.w + iw];
                            if (v > m || isnan(v))
                                m = v;
                        }
                    yp[oh * out.w + ow] = m;
                } else {
                    double s = 0;
                    for (int64_t ih = wh.lo; ih < wh.hi; ih++)
                        for (int64_t iw = ww.lo; iw < ww.hi; iw++)
                            s += xp[ih * in.w + iw];
                    yp[oh * out.w + ow] = (float)(s / (double)(wh.span * ww.span));
                }
            }
        }
    }
}

/* global_avgpool: [N,C,H,W] -> [N,C,1,1], the mean of each plane. */
static void
gap(const Node *n, int batch, const float *x, float *y)
{
    Chw in = chw_of(n->in[0]);
    int64_t plane = in.h * in.w;
    for (int64_t bc = 0; bc < batch * in.c; bc++) {
        double s = 0;
        for (int64_t i = 0; i < plane; i++)
            s += x[bc * plane + i];
        y[bc] = (float)(s / (double)plane);
    }
}

/* ---------------------------------------------------------------- linear */

/* y[n][o] = b[o] + sum_k x[n][k] * W[o][k] */
static void
linear(const Node *n, int batch, const float *x, float *y)
{
    int64_t in = n->in[0]->shape.dim[1], out = n->out->shape.dim[1];
    const float *w = n->param[P_WEIGHT]->data;
    const float *bias = n->param[P_BIAS] ? n->param[P_BIAS]->data : NULL;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t o = 0; o < out; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int64_t k = 0; k < in; k++)
                s += (double)x[b * in + k] * w[o * in + k];
            y[b * out + o] = (float)s;
        }
}

/* ---------------------------------------------------------------- driver */

/* The functions of ops.h's VISEC_UNARY_OPS, each of its float v. */
#define UNARY_FN(id, name, expr) static float unary_##id(float v) { return expr; }
VISEC_UNARY_OPS(UNARY_FN)
#undef UNARY_FN

/* Runs one node; x/r are its inputs, y its output (all logical layout). */
static void
run_node(const Node *n, int batch, const float *x, const float *r, float *y)
{
    int64_t numel = shape_numel(n->out->shape, batch);
    switch (n->op) {
    case OP_CONV2D:
        conv2d(n, batch, x, r, y);
        return;
    case OP_BATCHNORM:
    case OP_SCALESHIFT:
        affine(n, batch, x, y);
        return;
    case OP_RELU:
        for (int64_t i = 0; i < numel; i++)
            y[i] = x[i] < 0 ? 0.0f : x[i];
        return;
    case OP_ADD:
        for (int64_t i = 0; i < numel; i++)
            y[i] = x[i] + r[i];
        return;
        /* y = expr(x), as ops.h writes it and generated code prints it */
#define UNARY_RUN(id, name, expr)           \
    case OP_##id:                           \
        for (int64_t i = 0; i < numel; i++) \
            y[i] = unary_##id(x[i]);        \
        return;
    VISEC_UNARY_OPS(UNARY_RUN)
#undef UNARY_RUN
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        pool(n, batch, x, y);
        return;
    case OP_GAP:
        gap(n, batch, x, y);
        return;
    case OP_FLATTEN:    /* [N][C][H][W] and [N][C*H*W] are the same memory */
    case OP_REORDER:    /* the same tensor: the interpreter's layout is always the logical one */
        memcpy(y, x, (size_t)numel * sizeof *y);
        return;
    case OP_LINEAR:
        linear(n, batch, x, y);
        return;
    case OP_COUNT:
        break;
    }
    bug("interp: bad op %d", (int)n->op);
}

/* Reports every parameter tensor without data; false if there was one. */
static bool
check_weights(const Graph *g, Diag *d)
{
    bool ok = true;
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = GRAPH_NODE(g, i);
        for (int k = 0; k < P_MAX; k++) {
            const Tensor *t = n->param[k];
            if (t && !t->data) {
                error_at(d, n->loc, "%s: tensor '%s' has no data (weights not bound)",
                         op_name(n->op), t->name);
                ok = false;
            }
        }
        if (n->op == OP_CONV2D && (n->epi & EPI_ADD) && n->nin != 2)
            bug("interp: conv %s has EPI_ADD but no residual input", n->name);
        if ((n->op == OP_CONV2D || n->op == OP_LINEAR || n->op == OP_BATCHNORM ||
             n->op == OP_SCALESHIFT) && !n->param[P_WEIGHT])
            bug("interp: %s %s has no weight tensor", op_name(n->op), n->name);
    }
    return ok;
}

bool
interp_run(const Graph *g, int batch, const float *const *inputs, float **outputs, Diag *d)
{
    if (batch < 1 || batch > INTERP_MAX_BATCH) {
        error_plain(d, "batch size %d is out of range (1 to %d)", batch, INTERP_MAX_BATCH);
        return false;
    }
    for (int i = 0; i < g->values.n; i++) {
        const Value *v = g->values.v[i];
        if (v->shape.rank && shape_numel(v->shape, 1) > (INT64_C(1) << 40) / batch) {
            char b[SHAPE_STRLEN];
            error_plain(d, "value of shape %s is too large for batch %d",
                        shape_str(v->shape, b, sizeof b), batch);
            return false;
        }
    }
    if (!check_weights(g, d))
        return false;

    /* buf[v->id]: the value's data while live; uses[v->id]: reads still to come. */
    int nv = g->values.n;
    float **buf = xcalloc((size_t)nv, sizeof *buf);
    int *uses = xcalloc((size_t)nv, sizeof *uses);
    bool *borrowed = xcalloc((size_t)nv, sizeof *borrowed);   /* caller's input */
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = GRAPH_NODE(g, i);
        for (int k = 0; k < n->nin; k++)
            uses[n->in[k]->id]++;
    }
    for (int i = 0; i < g->outputs.n; i++)
        uses[((Value *)g->outputs.v[i])->id]++;   /* outputs stay to the end */
    for (int i = 0; i < g->inputs.n; i++) {
        const Value *v = g->inputs.v[i];
        buf[v->id] = (float *)inputs[i];
        borrowed[v->id] = true;
    }

    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = GRAPH_NODE(g, i);
        const float *x = buf[n->in[0]->id];
        const float *r = n->nin > 1 ? buf[n->in[1]->id] : NULL;
        if (!x || (n->nin > 1 && !r))
            bug("interp: node %s reads a value not yet computed", n->name);
        float *y = xmalloc((size_t)shape_numel(n->out->shape, batch) * sizeof *y);
        run_node(n, batch, x, r, y);
        buf[n->out->id] = y;
        for (int k = 0; k < n->nin; k++) {
            int id = n->in[k]->id;
            if (--uses[id] == 0 && !borrowed[id]) {
                free(buf[id]);
                buf[id] = NULL;
            }
        }
        if (uses[n->out->id] == 0) {        /* dead value: nobody reads it */
            free(y);
            buf[n->out->id] = NULL;
        }
    }

    /* Each output gets its own copy, so a value named twice is not shared. */
    for (int i = 0; i < g->outputs.n; i++) {
        const Value *v = g->outputs.v[i];
        if (!buf[v->id])
            bug("interp: output %d was never computed", i);
        size_t bytes = (size_t)shape_numel(v->shape, batch) * sizeof(float);
        outputs[i] = memcpy(xmalloc(bytes), buf[v->id], bytes);
    }
    for (int i = 0; i < nv; i++)
        if (!borrowed[i])
            free(buf[i]);
    free(buf);
    free(uses);
    free(borrowed);
    return true;
}
