/*
 * emit_pool.c — maxpool (padding is -inf, NaN propagates), avgpool
 * (padding counted, PyTorch's divisor) and global_avgpool (summed in double).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/*
 * maxpool, separably: per output row, the maximum of each input column over
 * the window's rows (a contiguous pass the compiler vectorizes), then of
 * those column maxima over each window's columns.  The maximum of a set does
 * not depend on how it is grouped; a NaN anywhere in a window makes the
 * output NaN, as in PyTorch.  Padding is -inf: clamped windows skip it.
 */
static void
emit_maxpool(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &in, &out, false);
    emit(e, "float cm[%d]; /* the row window's maximum of each input column */", in.w);
    emit(e, "/* over output rows */");
    emit_for(e, "oh", "for (int oh = 0; oh < %d; oh++)", out.h);
    emit(e, "const int h0 = oh * %d - %d;", a->sh, a->ph);
    emit(e, "const int hs = h0 < 0 ? 0 : h0, he = h0 + %d < %d ? h0 + %d : %d;", a->kh, in.h, a->kh, in.h);
    emit(e, "for (int iw = 0; iw < %d; iw++)", in.w);
    emit(e, "    cm[iw] = -INFINITY;");
    emit(e, "/* over the window's rows: the maximum of each column (NaN propagates, as in PyTorch) */");
    emit_for(e, "ih", "for (int ih = hs; ih < he; ih++)");
    emit(e, "const float *restrict xr = xc + ih * %d;", in.w);
    emit_for(e, "iw", "for (int iw = 0; iw < %d; iw++)", in.w);
    emit(e, "const float v = xr[iw], c = cm[iw];");
    emit(e, "cm[iw] = ((v > c) | (v != v)) ? v : c;");
    emit_end(e, "iw");
    emit_end(e, "ih");
    /* Output columns whose window lies inside the input: [owlo, owhi), a
     * fixed-size window; the others clamp theirs to the input. */
    int owlo = (a->pw + a->sw - 1) / a->sw, owhi = (in.w + a->pw - a->kw) / a->sw + 1;
    owhi = owhi > out.w ? out.w : owhi;
    owlo = owlo > owhi ? owhi : owlo;
    emit(e, "/* over output columns: the maximum of the window's column maxima; columns [%d, %d) have", owlo,
         owhi);
    emit(e, "   the whole window inside the input, the others clamp it */");
    emit_for(e, "ow", "for (int ow = 0; ow < %d; ow++)", out.w);
    emit_open(e, NULL, "if (ow == %d)", owlo);
    emit(e, "/* the inside columns, in one loop without branches */");
    emit_for(e, "o", "for (; ow < %d; ow++)", owhi);
    emit(e, "const float *restrict cw = cm + ow * %d - %d;", a->sw, a->pw);
    emit(e, "float m = cw[0];");
    emit_for(e, "j", "for (int j = 1; j < %d; j++)", a->kw);
    emit(e, "const float v = cw[j];");
    emit(e, "m = ((v > m) | (v != v)) ? v : m;");
    emit_end(e, "j");
    emit(e, "yc[oh * %d + ow] = m;", out.w);
    emit_end(e, "o");
    emit(e, "if (ow == %d)", out.w);
    emit(e, "    break;");
    emit_end(e, NULL);
    emit(e, "const int w0 = ow * %d - %d;", a->sw, a->pw);
    emit(e, "const int ws = w0 < 0 ? 0 : w0, we = w0 + %d < %d ? w0 + %d : %d;", a->kw, in.w, a->kw, in.w);
    emit(e, "float m = -INFINITY;");
    emit_for(e, "iw", "for (int iw = ws; iw < we; iw++)");
    emit(e, "const float v = cm[iw];");
    emit(e, "m = ((v > m) | (v != v)) ? v : m;");
    emit_end(e, "iw");
    emit(e, "yc[oh * %d + ow] = m;", out.w);
    emit_end(e, "ow");
    emit_end(e, "oh");
    end_planes(e);
}

/* maxpool (above) and avgpool (padding counted, PyTorch's divisor). */
void
emit_pool(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    if (n->op == OP_MAXPOOL) {
        emit_maxpool(e, n, s);
        return;
    }
    emit(e, "(void)wb;");
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    begin_planes(e, n, s, &in, &out, false);
    emit(e, "/* over output rows */");
    emit_for(e, "oh", "for (int oh = 0; oh < %d; oh++)", out.h);
    emit(e, "const int h0 = oh * %d - %d;", a->sh, a->ph);
    emit(e, "const int hp = h0 + %d < %d ? h0 + %d : %d; /* window end, padding included */", a->kh,
         in.h + a->ph, a->kh, in.h + a->ph);
    emit(e, "const int hs = h0 < 0 ? 0 : h0, he = hp < %d ? hp : %d;", in.h, in.h);
    emit(e, "/* over output columns */");
    emit_for(e, "ow", "for (int ow = 0; ow < %d; ow++)", out.w);
    emit(e, "const int w0 = ow * %d - %d;", a->sw, a->pw);
    emit(e, "const int wp = w0 + %d < %d ? w0 + %d : %d;", a->kw, in.w + a->pw, a->kw, in.w + a->pw);
    emit(e, "const int ws = w0 < 0 ? 0 : w0, we = wp < %d ? wp : %d;", in.w, in.w);
    emit(e, "const float divisor = (float)((hp - h0) * (wp - w0));");
    emit(e, "float sum = 0.0f;");
    emit(e, "/* over the window */");
    emit_for(e, "ih", "for (int ih = hs; ih < he; ih++)");
    emit_for(e, "iw", "for (int iw = ws; iw < we; iw++)");
    emit(e, "sum += xc[ih * %d + iw];", in.w);
    emit_end(e, "iw");
    emit_end(e, "ih");
    emit(e, "yc[oh * %d + ow] = sum / divisor;", out.w);
    emit_end(e, "ow");
    emit_end(e, "oh");
    end_planes(e);
}

void
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
