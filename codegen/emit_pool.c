/*
 * emit_pool.c — maxpool (padding is -inf, NaN propagates), avgpool
 * (padding counted, PyTorch's divisor) and global_avgpool (summed in double).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* maxpool (padding is -inf) and avgpool (padding counted, PyTorch's divisor). */
void
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
