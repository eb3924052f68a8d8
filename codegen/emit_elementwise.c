/*
 * emit_elementwise.c — per-channel and elementwise layers: batchnorm (what
 * fold_bn leaves), scale_shift, relu, add, and flatten's copy.  The loops
 * over images and channels are begin_planes (emit.c), shared with the pools.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* The loops over images and channels; in each channel the lines per_channel
 * (NULL-terminated, or NULL), then stmt for each of its pixels p. */
static void
pixel_loop(Emitter *e, const Node *n, const Schedule *s, bool two, char *const *per_channel, const char *stmt)
{
    Dims d = dims_of(n->in[0]);
    begin_planes(e, n, s, &d, &d, two);
    for (int i = 0; per_channel && per_channel[i]; i++)
        emit(e, "%s", per_channel[i]);
    emit(e, "/* over the channel's pixels */");
    emit(e, "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "    %s", stmt);
    end_planes(e);
}

void
emit_batchnorm(Emitter *e, const Node *n, const Schedule *s)
{
    emit_weight(e, "gamma", n->param[P_WEIGHT]);
    emit_weight(e, "beta", n->param[P_BIAS]);
    emit_weight(e, "mean", n->param[P_MEAN]);
    emit_weight(e, "var", n->param[P_VAR]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    char *per_channel[] = {
        xprintf("/* y = (x - mean) / sqrt(var + eps) * gamma + beta, eps = %a */", n->a.eps),
        xprintf("const float scale = (float)(1.0 / sqrt((double)var[c] + %a)) * gamma[c];", n->a.eps),
        xstrdup("const float shift = beta[c] - mean[c] * scale;"),
        NULL,
    };
    pixel_loop(e, n, s, false, per_channel, "yc[p] = xc[p] * scale + shift;");
    for (int i = 0; per_channel[i]; i++)
        free(per_channel[i]);
}

void
emit_scaleshift(Emitter *e, const Node *n, const Schedule *s)
{
    emit_weight(e, "scale", n->param[P_WEIGHT]);
    emit_weight(e, "shift", n->param[P_BIAS]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    pixel_loop(e, n, s, false, NULL, "yc[p] = xc[p] * scale[c] + shift[c];");
}

void
emit_relu(Emitter *e, const Node *n, const Schedule *s)
{
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    pixel_loop(e, n, s, false, NULL, "yc[p] = xc[p] < 0.0f ? 0.0f : xc[p];");
}

/* One of ops.h's UNARY ops: y = expr for each element v of x. */
void
emit_unary(Emitter *e, const Node *n, const Schedule *s, const char *expr)
{
    Dims d = dims_of(n->in[0]);
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &d, &d, false);
    emit(e, "/* %s: y = %s for each element v of x */", op_name(n->op), expr);
    emit_for(e, "p", "for (int p = 0; p < %d; p++)", d.hw);
    emit(e, "const float v = xc[p];");
    emit(e, "yc[p] = %s;", expr);
    emit_end(e, "p");
    end_planes(e);
}

void
emit_add(Emitter *e, const Node *n, const Schedule *s)
{
    emit(e, "(void)wb;");
    emit(e, "(void)scratch;");
    pixel_loop(e, n, s, true, NULL, "yc[p] = xc[p] + x2c[p];");
}

/* flatten: the bytes do not change. */
void
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

/*
 * reorder (the layout pass's): the same tensor between plain NCHW and
 * NCHWc.  Channel ch, pixel p of an image is at [ch][p] in NCHW and at
 * [ch / c][p][ch % c] in NCHWc; a block of c channels takes the same c * hw
 * floats in both, so each block is a small transpose of its own.
 */
void
emit_reorder(Emitter *e, const Node *n, const Schedule *s)
{
    Dims d = dims_of(n->in[0]);
    bool to_blocked = n->out->layout == LAYOUT_NCHWC;
    int c = to_blocked ? n->out->cblock : n->in[0]->cblock;
    if (c < 2 || d.c % c || n->in[0]->layout == n->out->layout)
        bug("reorder %s: not between NCHW and NCHWc", n->name);
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    emit(e, "/* %s: channel ch, pixel p at [ch][p] in NCHW, at [ch / %d][p][ch %% %d] in NCHW%dc */",
         to_blocked ? "NCHW -> NCHWc" : "NCHWc -> NCHW", c, c, c);
    emit(e, "/* over images and blocks of %d channels */", c);
    emit_omp_planes(e, s);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit_for(e, "cb", "for (int cb = 0; cb < %d; cb++)", d.c / c);
    emit(e, "const float *restrict xb = x + ((size_t)n * %d + cb) * %d;", d.c / c, c * d.hw);
    emit(e, "float *restrict yb = y + ((size_t)n * %d + cb) * %d;", d.c / c, c * d.hw);
    emit(e, "for (int l = 0; l < %d; l++)", c);
    emit(e, "    for (int p = 0; p < %d; p++)", d.hw);
    if (to_blocked)
        emit(e, "        yb[p * %d + l] = xb[l * %d + p];", c, d.hw);
    else
        emit(e, "        yb[l * %d + p] = xb[p * %d + l];", d.hw, c);
    emit_end(e, "cb");
    emit_end(e, "n");
}
