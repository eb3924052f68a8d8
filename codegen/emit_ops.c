/*
 * emit_ops.c — the body of one layer function per op kind.
 *
 * Every layer function has the same parameters:
 *
 *   wb       the weights file image; tensor t is at wb + t->offset
 *   batch    images in x and y
 *   x, x2    the node's inputs (x2 is NULL unless it has two), NCHW
 *   y        its output, NCHW
 *   scratch  node_scratch_bytes() per image times batch, or NULL
 *
 * All sizes except the batch are literal constants, so the C compiler sees
 * fixed trip counts.  Indices inside one image are int (codegen_check()
 * keeps every tensor below 2^31 elements); image offsets are size_t.
 * Pointers that may alias (an elementwise op run in place by a memory plan)
 * are not restrict.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

Dims
dims_of(const Value *v)
{
    Dims d;
    d.c = (int)v->shape.dim[1];
    d.h = v->shape.rank == 4 ? (int)v->shape.dim[2] : 1;
    d.w = v->shape.rank == 4 ? (int)v->shape.dim[3] : 1;
    d.hw = d.h * d.w;
    d.numel = d.c * d.hw;
    return d;
}

void
emit_weight(Emitter *e, const char *var, const Tensor *t)
{
    char b[SHAPE_STRLEN];
    emit(e, "const float *restrict %s = (const float *)(const void *)(wb + %" PRId64 "); /* %s %s */",
         var, t->offset, t->name, shape_str(t->shape, b, sizeof b));
}

/* ---------------------------------------------------------------- per-channel ops */

/* Opens the loops over images and channels and defines xc, yc (and x2c). */
static void
begin_planes(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
             bool two)
{
    emit(e, "/* over images and channels */");
    if (s->parallel == PAR_INSIDE)
        emit_omp_for(e, 2);
    else if (s->parallel == PAR_BATCH)
        emit_omp_for(e, 1);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit_for(e, "c", "for (int c = 0; c < %d; c++)", in->c);
    emit(e, "const float *xc = x + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    if (two)
        emit(e, "const float *x2c = x2 + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    emit(e, "float *yc = y + ((size_t)n * %d + c) * %d;", out->c, out->hw);
    (void)n;
}

static void
end_planes(Emitter *e)
{
    emit_end(e, "c");
    emit_end(e, "n");
}

static void
emit_batchnorm(Emitter *e, const Node *n, const Schedule *s)
{
    Dims d = dims_of(n->in[0]);
    emit_weight(e, "gamma", n->param[P_WEIGHT]);
    emit_weight(e, "beta", n->param[P_BIAS]);
    emit_weight(e, "mean", n->param[P_MEAN]);
    emit_weight(e, "var", n->param[P_VAR]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &d, &d, false);
    emit(e, "/* y = (x - mean) / sqrt(var + eps) * gamma + beta, eps = %a */", n->a.eps);
    emit(e, "const float scale = (float)(1.0 / sqrt((double)var[c] + %a)) * gamma[c];", n->a.eps);
    emit(e, "const float shift = beta[c] - mean[c] * scale;");
    emit(e, "/* over the channel's pixels */");
    emit(e, "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "    yc[p] = xc[p] * scale + shift;");
    end_planes(e);
}

static void
emit_scaleshift(Emitter *e, const Node *n, const Schedule *s)
{
    Dims d = dims_of(n->in[0]);
    emit_weight(e, "scale", n->param[P_WEIGHT]);
    emit_weight(e, "shift", n->param[P_BIAS]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &d, &d, false);
    emit(e, "/* over the channel's pixels */");
    emit(e, "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "    yc[p] = xc[p] * scale[c] + shift[c];");
    end_planes(e);
}

static void
emit_relu(Emitter *e, const Node *n, const Schedule *s)
{
    Dims d = dims_of(n->in[0]);
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &d, &d, false);
    emit(e, "/* over the channel's pixels */");
    emit(e, "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "    yc[p] = xc[p] < 0.0f ? 0.0f : xc[p];");
    end_planes(e);
}

static void
emit_add(Emitter *e, const Node *n, const Schedule *s)
{
    Dims d = dims_of(n->in[0]);
    emit(e, "(void)wb;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &d, &d, true);
    emit(e, "/* over the channel's pixels */");
    emit(e, "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "    yc[p] = xc[p] + x2c[p];");
    end_planes(e);
}

/* maxpool (padding is -inf) and avgpool (padding counted, PyTorch's divisor). */
static void
emit_pool(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    bool max = n->op == OP_MAXPOOL;
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &in, &out, false);
    emit(e, "/* over output rows */");
    emit_for(e, "oh", "for (int oh = 0; oh < %d; oh++)", out.h);
    emit(e, "const int h0 = oh * %d - %d;", a->sh, a->ph);
    if (max) {
        emit(e, "const int hs = h0 < 0 ? 0 : h0, he = h0 + %d < %d ? h0 + %d : %d;", a->kh, in.h,
             a->kh, in.h);
    } else {
        emit(e, "const int hp = h0 + %d < %d ? h0 + %d : %d; /* window end, padding included */", a->kh,
             in.h + a->ph, a->kh, in.h + a->ph);
        emit(e, "const int hs = h0 < 0 ? 0 : h0, he = hp < %d ? hp : %d;", in.h, in.h);
    }
    if (max) {
        /* Outputs whose window lies inside the input: rows [ohlo, ohhi), columns
         * [owlo, owhi).  They take a fixed-size window with no bounds and no
         * branches; the others clamp their window to the input. */
        int ohlo = (a->ph + a->sh - 1) / a->sh, owlo = (a->pw + a->sw - 1) / a->sw;
        int ohhi = (in.h + a->ph - a->kh) / a->sh + 1, owhi = (in.w + a->pw - a->kw) / a->sw + 1;
        ohhi = ohhi > out.h ? out.h : ohhi < ohlo ? ohlo : ohhi;
        owhi = owhi > out.w ? out.w : owhi < owlo ? owlo : owhi;
        emit(e, "const int inside = oh >= %d && oh < %d; /* the row's windows miss no input row */",
             ohlo, ohhi);
    }
    emit(e, "/* over output columns */");
    emit_for(e, "ow", "for (int ow = 0; ow < %d; ow++)", out.w);
    emit(e, "const int w0 = ow * %d - %d;", a->sw, a->pw);
    if (max) {
        int owlo = (a->pw + a->sw - 1) / a->sw, owhi = (in.w + a->pw - a->kw) / a->sw + 1;
        owhi = owhi > out.w ? out.w : owhi < owlo ? owlo : owhi;
        emit_open(e, NULL, "if (inside && ow >= %d && ow < %d)", owlo, owhi);
        emit(e, "/* the whole %dx%d window is inside: max without bounds or branches */", a->kh, a->kw);
        emit(e, "const float *xw = xc + h0 * %d + w0;", in.w);
        emit(e, "float m = xw[0];");
        emit(e, "int nan = 0;");
        emit_for(e, "i", "for (int i = 0; i < %d; i++)", a->kh);
        emit_for(e, "j", "for (int j = 0; j < %d; j++)", a->kw);
        emit(e, "const float v = xw[i * %d + j];", in.w);
        emit(e, "m = v > m ? v : m;");
        emit(e, "nan |= v != v;");
        emit_end(e, "j");
        emit_end(e, "i");
        emit(e, "yc[oh * %d + ow] = nan ? NAN : m; /* NaN propagates, as in PyTorch */", out.w);
        emit(e, "continue;");
        emit_end(e, NULL);
        emit(e, "const int ws = w0 < 0 ? 0 : w0, we = w0 + %d < %d ? w0 + %d : %d;", a->kw, in.w,
             a->kw, in.w);
        emit(e, "float m = -INFINITY;");
    } else {
        emit(e, "const int wp = w0 + %d < %d ? w0 + %d : %d;", a->kw, in.w + a->pw, a->kw,
             in.w + a->pw);
        emit(e, "const int ws = w0 < 0 ? 0 : w0, we = wp < %d ? wp : %d;", in.w, in.w);
        emit(e, "const float divisor = (float)((hp - h0) * (wp - w0));");
        emit(e, "float sum = 0.0f;");
    }
    emit(e, "/* over the window */");
    emit_for(e, "ih", "for (int ih = hs; ih < he; ih++)");
    emit_for(e, "iw", "for (int iw = ws; iw < we; iw++)");
    if (max) {
        emit(e, "const float v = xc[ih * %d + iw];", in.w);
        emit(e, "if (v > m || v != v) /* NaN propagates, as in PyTorch */");
        emit(e, "    m = v;");
    } else {
        emit(e, "sum += xc[ih * %d + iw];", in.w);
    }
    emit_end(e, "iw");
    emit_end(e, "ih");
    emit(e, "yc[oh * %d + ow] = %s;", out.w, max ? "m" : "sum / divisor");
    emit_end(e, "ow");
    emit_end(e, "oh");
    end_planes(e);
}

static void
emit_gap(Emitter *e, const Node *n, const Schedule *s)
{
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &in, &out, false);
    emit(e, "double sum = 0.0;");
    emit(e, "/* over the channel's pixels, in order */");
    emit(e, "for (int p = 0; p < %d; p++)", in.hw);
    emit(e, "    sum += xc[p];");
    emit(e, "yc[0] = (float)(sum / %d);", in.hw);
    end_planes(e);
}

/* flatten: the bytes do not change. */
static void
emit_copy(Emitter *e, const Node *n, const Schedule *s)
{
    Dims in = dims_of(n->in[0]);
    (void)s;
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    emit(e, "/* same elements in the same order: a copy */");
    emit(e, "if (y != x)");
    emit(e, "    memmove(y, x, (size_t)batch * %d * sizeof(float));", in.numel);
}

static void
emit_linear(Emitter *e, const Node *n, const Schedule *s)
{
    int nin = (int)n->in[0]->shape.dim[1], nout = (int)n->out->shape.dim[1];
    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    emit(e, "/* over images and output features */");
    if (s->parallel == PAR_INSIDE)
        emit_omp_for(e, 2);
    else if (s->parallel == PAR_BATCH)
        emit_omp_for(e, 1);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit_for(e, "o", "for (int o = 0; o < %d; o++)", nout);
    emit(e, "const float *restrict xr = x + (size_t)n * %d;", nin);
    emit(e, "const float *restrict wr = w + (size_t)o * %d;", nin);
    emit(e, "float sum = 0.0f;");
    emit(e, "/* over input features, in order */");
    emit(e, "for (int i = 0; i < %d; i++)", nin);
    emit(e, "    sum += wr[i] * xr[i];");
    emit(e, "y[(size_t)n * %d + o] = sum%s;", nout, n->param[P_BIAS] ? " + bias[o]" : "");
    emit_end(e, "o");
    emit_end(e, "n");
}

/* ---------------------------------------------------------------- dispatch */

const char *
op_unsupported(const Node *n)
{
    if (n->epi && n->op != OP_CONV2D)
        return "fused epilogues are only supported on conv2d";
    if ((n->epi & EPI_ADD) && n->nin != 2)
        return "a fused residual add needs a second input";
    if (n->op == OP_CONV2D && n->nin == 2 && !(n->epi & EPI_ADD))
        return "conv2d with a second input but no fused add";
    if (n->op == OP_CONV2D) {
        const Tensor *w = n->param[P_WEIGHT];
        int64_t cout_g = n->a.out / n->a.groups;
        int64_t K = n->in[0]->shape.dim[1] / n->a.groups * n->a.kh * n->a.kw;
        if (!w)
            return "conv2d without weights";
        if ((n->sched.algo == ALGO_WINOGRAD2) != w->winograd)
            return "conv2d weights are not transformed for the algorithm of its schedule";
        if (w->pack_mr) {
            int64_t tiles = (cout_g + w->pack_mr - 1) / w->pack_mr;
            if (n->sched.reg_co != w->pack_mr)
                return "conv2d weights are packed for another block of output channels than "
                       "its schedule's reg_co";
            int64_t k = w->winograd ? 16 * (K / 9) : K;
            if (w->winograd && !sched_winograd_shape(n))
                return "Winograd weights on a conv that is not 3x3, stride 1, padding 1";
            if (shape_numel(w->shape, 1) != n->a.groups * tiles * k * w->pack_mr)
                return "conv2d packed weights have an unexpected size";
        } else if (shape_numel(w->shape, 1) != n->a.out * K) {
            return "conv2d weights are not in PyTorch's [out][in/groups][kh][kw] layout";
        }
    }
    return NULL;
}

void
emit_op(Emitter *e, const Node *n, const Schedule *s)
{
    switch (n->op) {
    case OP_CONV2D:
        emit_conv2d(e, n, s);
        return;
    case OP_BATCHNORM:
        emit_batchnorm(e, n, s);
        return;
    case OP_SCALESHIFT:
        emit_scaleshift(e, n, s);
        return;
    case OP_RELU:
        emit_relu(e, n, s);
        return;
    case OP_ADD:
        emit_add(e, n, s);
        return;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        emit_pool(e, n, s);
        return;
    case OP_GAP:
        emit_gap(e, n, s);
        return;
    case OP_FLATTEN:
        emit_copy(e, n, s);
        return;
    case OP_LINEAR:
        emit_linear(e, n, s);
        return;
    case OP_COUNT:
        break;
    }
    bug("emit_op: bad op %d", (int)n->op);
}
