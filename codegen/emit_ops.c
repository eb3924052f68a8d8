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

/* Spatial and channel sizes of a 4-d (or 2-d [N, C]) value. */
typedef struct Dims {
    int c, h, w;        /* channels, rows, columns (1 x 1 for [N, C]) */
    int hw;             /* h * w */
    int numel;          /* c * h * w: elements per image */
} Dims;

static Dims
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

/* const float *restrict NAME = the tensor, with a comment naming it. */
static void
emit_weight(Emitter *e, const char *var, const Tensor *t)
{
    char b[SHAPE_STRLEN];
    emit(e, "const float *restrict %s = (const float *)(const void *)(wb + %" PRId64 "); /* %s %s */",
         var, t->offset, t->name, shape_str(t->shape, b, sizeof b));
}

/* ---------------------------------------------------------------- conv2d */

int64_t
node_scratch_bytes(const Node *n)
{
    const Attrs *a = &n->a;
    if (n->op != OP_CONV2D)
        return 0;
    if (n->param[P_WEIGHT] && n->param[P_WEIGHT]->winograd) {
        /* V [16][cin][tiles] and M [16][cout][tiles], each position padded by
         * one cache line (see emit_conv2d_winograd) */
        int64_t tiles = (n->out->shape.dim[2] + 1) / 2 * ((n->out->shape.dim[3] + 1) / 2);
        return 16 * (tiles * (n->in[0]->shape.dim[1] + n->out->shape.dim[1]) + 32) * 4;
    }
    if (a->kh == 1 && a->kw == 1 && a->sh == 1 && a->sw == 1 && a->ph == 0 && a->pw == 0)
        return 0;   /* the input itself is the GEMM's right-hand matrix */
    int64_t k = n->in[0]->shape.dim[1] / a->groups * a->kh * a->kw;
    return k * n->out->shape.dim[2] * n->out->shape.dim[3] * 4;
}

/* acc[r][j] += W[co0 + r][k] * B[k][p0 + j] for every k; the loop bounds are
 * the constants mr_c x pn_c if non-zero, else the variables mr x pn. */
static void
emit_reduction(Emitter *e, const char *B, int P, int K, int MR, bool packed, const char *mr,
               const char *pn, int mr_c, int pn_c)
{
    char rb[16], jb[16];
    snprintf(rb, sizeof rb, "%d", mr_c);
    snprintf(jb, sizeof jb, "%d", pn_c);
    emit(e, "/* over the reduction: input channels x kernel taps */");
    emit(e, "for (int k = 0; k < %d; k++) {", K);
    emit(e, "const float *restrict bk = %s + (size_t)k * %d + p0;", B, P);
    emit(e, "/* over the block's output channels */");
    emit(e, "for (int r = 0; r < %s; r++) {", mr_c ? rb : mr);
    if (packed)
        emit(e, "const float wk = wt[k * %d + r];", MR);
    else
        emit(e, "const float wk = wg[(co0 + r) * %d + k];", K);
    emit(e, "/* over the tile's pixels */");
    emit(e, "for (int j = 0; j < %s; j++)", pn_c ? jb : pn);
    emit(e, "    acc[r][j] += wk * bk[j];");
    emit(e, "} /* r */");
    emit(e, "} /* k */");
}

/*
 * The reduction of one block, in a copy with constant trip counts (the C
 * compiler keeps its accumulators in registers) and, where blocks at the
 * edges exist, a general copy for them.  Packed weights are zero-padded to
 * whole blocks of output channels, so a block short of channels still
 * takes the constant copy (its extra rows are computed, never stored);
 * only blocks short of pixels need the general one.
 */
static void
emit_blocks(Emitter *e, const char *B, int P, int K, int MR, int NT, bool packed, bool row_tail,
            bool pixel_tail)
{
    bool general = pixel_tail || (row_tail && !packed);
    if (general) {
        if (packed || !row_tail)
            emit(e, "if (pn == %d) {", NT);
        else
            emit(e, "if (mr == %d && pn == %d) {", MR, NT);
    }
    emit(e, "/* a whole block: constant trip counts, accumulators in registers */");
    emit_reduction(e, B, P, K, MR, packed, "mr", "pn", MR, NT);
    if (general) {
        emit(e, "} else {");
        emit(e, "/* a block at the edge */");
        emit_reduction(e, B, P, K, MR, packed, "mr", "pn", 0, 0);
        emit(e, "}");
    }
}

/*
 * conv2d as a matrix product per image and group:
 *   Y[co][p] = sum_k W[co][k] * B[k][p]   (+ bias, + residual, relu)
 * where k runs over (input channel, kernel row, kernel column), p over
 * output pixels, W is the PyTorch weight seen as [Cout/groups][K], and B is
 * the input itself (1x1, stride 1, no padding) or its im2col panel.
 * Blocks of reg_co output channels by reg_ow pixels accumulate in a small
 * local array over a contiguous, vectorizable pixel loop.
 */
static void
emit_conv2d(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int G = a->groups, cin_g = in.c / G, cout_g = out.c / G;
    int K = cin_g * a->kh * a->kw, P = out.hw;
    /* Packed weights: [groups][ncb][K][MR], one panel per block (pack_weights pass). */
    bool packed = n->param[P_WEIGHT]->pack_mr > 0;
    int MR = packed || s->reg_co < cout_g ? s->reg_co : cout_g;
    /* Pixel tiles of reg_ow columns, as the schedule says. */
    int NT = s->reg_ow;
    if (NT > P)
        NT = P;
    int ncb = (cout_g + MR - 1) / MR, npt = (P + NT - 1) / NT;
    bool im2col = node_scratch_bytes(n) > 0;
    bool per_image_parallel = s->parallel == 2;

    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    if (!(n->epi & EPI_ADD))
        emit(e, "(void)x2;");
    if (!im2col)
        emit(e, "(void)scratch;");
    emit(e, "/* over the images of the batch */");
    if (s->parallel == 1)
        emit_omp_for(e, 1);
    emit(e, "for (int n = 0; n < batch; n++) {");
    emit(e, "const float *restrict xn = x + (size_t)n * %d;", in.numel);
    emit(e, "float *restrict yn = y + (size_t)n * %d;", out.numel);
    if (n->epi & EPI_ADD)
        emit(e, "const float *restrict rn = x2 + (size_t)n * %d;", out.numel);
    if (im2col)
        emit(e, s->parallel == 1 ? "float *restrict panel = scratch + (size_t)n * %d;"
                                 : "float *restrict panel = scratch; /* %d floats */", K * P);
    if (G > 1) {
        emit(e, "/* over the %d groups */", G);
        emit(e, "for (int g = 0; g < %d; g++) {", G);
    } else {
        emit(e, "{");
        emit(e, "const int g = 0;");
    }
    emit(e, "const float *restrict xg = xn + (size_t)g * %d;", cin_g * in.hw);
    if (!packed)
        emit(e, "const float *restrict wg = w + (size_t)g * %d;", cout_g * K);
    emit(e, "float *restrict yg = yn + (size_t)g * %d;", cout_g * P);
    if (n->epi & EPI_ADD)
        emit(e, "const float *restrict rg = rn + (size_t)g * %d;", cout_g * P);

    if (im2col) {
        emit(e, "/* im2col: row k = (ci, i, j) of the %d x %d panel holds the input pixels", K, P);
        emit(e, "   that kernel tap (i, j) of input channel ci meets at each output pixel */");
        if (per_image_parallel)
            emit_omp_for(e, 1);
        emit(e, "for (int k = 0; k < %d; k++) {", K);
        emit(e, "const int ci = k / %d, i = k / %d %% %d, j = k %% %d;", a->kh * a->kw, a->kw, a->kh,
             a->kw);
        emit(e, "const float *restrict xc = xg + (size_t)ci * %d;", in.hw);
        emit(e, "float *restrict row = panel + (size_t)k * %d;", P);
        emit(e, "/* over output rows */");
        emit(e, "for (int oh = 0; oh < %d; oh++) {", out.h);
        emit(e, "const int ih = oh * %d - %d + i * %d;", a->sh, a->ph, a->dh);
        emit(e, "float *restrict o = row + oh * %d;", out.w);
        emit(e, "if (ih < 0 || ih >= %d) {", in.h);
        emit(e, "/* the whole row is padding */");
        emit(e, "for (int ow = 0; ow < %d; ow++)", out.w);
        emit(e, "    o[ow] = 0.0f;");
        emit(e, "continue;");
        emit(e, "}");
        emit(e, "/* output columns [lo, hi) meet input column ow * %d - %d + j * %d, the others padding */",
             a->sw, a->pw, a->dw);
        emit(e, "const int lo_c = %d - j * %d, hi_c = %d - j * %d;", a->pw, a->dw, in.w + a->pw, a->dw);
        emit(e, "int lo = lo_c <= 0 ? 0 : (lo_c + %d) / %d, hi = hi_c <= 0 ? 0 : (hi_c + %d) / %d;",
             a->sw - 1, a->sw, a->sw - 1, a->sw);
        emit(e, "lo = lo < %d ? lo : %d;", out.w, out.w);
        emit(e, "hi = hi < lo ? lo : hi < %d ? hi : %d;", out.w, out.w);
        emit(e, "for (int ow = 0; ow < lo; ow++)");
        emit(e, "    o[ow] = 0.0f;");
        emit(e, "for (int ow = lo; ow < hi; ow++)");
        emit(e, "    o[ow] = xc[ih * %d + ow * %d - %d + j * %d];", in.w, a->sw, a->pw, a->dw);
        emit(e, "for (int ow = hi; ow < %d; ow++)", out.w);
        emit(e, "    o[ow] = 0.0f;");
        emit(e, "} /* oh */");
        emit(e, "} /* k */");
    }
    const char *B = im2col ? "panel" : "xg";

    emit(e, "/* Y[co][p] = sum_k W[co][k] * B[k][p] in blocks of %d output channels x %d pixels */",
         MR, NT);
    if (per_image_parallel)
        emit_omp_for(e, 2);
    /* Loop order (schedule): "pc" walks pixel tiles outside, so one tile of
     * the panel is reused by every channel block while it is in cache;
     * otherwise channel blocks outside reuse one block of weights. */
    bool pixels_outside = !strcmp(s->order, "pc");
    if (pixels_outside) {
        emit(e, "for (int pt = 0; pt < %d; pt++) { /* over tiles of output pixels */", npt);
        emit(e, "for (int cb = 0; cb < %d; cb++) { /* over blocks of output channels */", ncb);
    } else {
        emit(e, "for (int cb = 0; cb < %d; cb++) { /* over blocks of output channels */", ncb);
        emit(e, "for (int pt = 0; pt < %d; pt++) { /* over tiles of output pixels */", npt);
    }
    emit(e, "const int co0 = cb * %d, p0 = pt * %d;", MR, NT);
    if (cout_g % MR)
        emit(e, "const int mr = co0 + %d <= %d ? %d : %d - co0;", MR, cout_g, MR, cout_g);
    else
        emit(e, "const int mr = %d;", MR);
    if (P % NT)
        emit(e, "const int pn = p0 + %d <= %d ? %d : %d - p0;", NT, P, NT, P);
    else
        emit(e, "const int pn = %d;", NT);
    emit(e, "float acc[%d][%d];", MR, NT);
    emit(e, "/* zero the accumulators */");
    emit(e, "for (int r = 0; r < %d; r++)", MR);
    emit(e, "    for (int j = 0; j < %d; j++)", NT);
    emit(e, "        acc[r][j] = 0.0f;");
    if (packed)
        emit(e, "const float *restrict wt = w + ((size_t)g * %d + cb) * %d; /* this block's [K][%d] panel */",
             ncb, K * MR, MR);
    emit_blocks(e, B, P, K, MR, NT, packed, cout_g % MR != 0, P % NT != 0);
    emit(e, "/* epilogue:%s%s%s store */", n->param[P_BIAS] ? " bias," : "",
         (n->epi & EPI_ADD) ? " residual," : "", (n->epi & EPI_RELU) ? " relu," : "");
    emit(e, "for (int r = 0; r < mr; r++) {");
    emit(e, "float *restrict yr = yg + (co0 + r) * %d + p0;", P);
    if (n->epi & EPI_ADD)
        emit(e, "const float *restrict rr = rg + (co0 + r) * %d + p0;", P);
    if (n->param[P_BIAS])
        emit(e, "const float b = bias[g * %d + co0 + r];", cout_g);
    emit(e, "for (int j = 0; j < pn; j++) {");
    emit(e, "float v = acc[r][j]%s;", n->param[P_BIAS] ? " + b" : "");
    if (n->epi & EPI_ADD)
        emit(e, "v += rr[j];");
    if (n->epi & EPI_RELU)
        emit(e, "v = v < 0.0f ? 0.0f : v;");
    emit(e, "yr[j] = v;");
    emit(e, "} /* j */");
    emit(e, "} /* r */");
    emit(e, pixels_outside ? "} /* cb */" : "} /* pt */");
    emit(e, pixels_outside ? "} /* pt */" : "} /* cb */");
    emit(e, "} /* g */");
    emit(e, "} /* n */");
}

/*
 * conv2d 3x3, stride 1, padding 1 by Winograd F(2x2,3x3), per image:
 *   1. V[t][ci][tile] = (B^T d B)[t] for the 4x4 input patch d of each 2x2
 *      output tile (zero outside the input), t over the 16 positions;
 *   2. M[t][co][tile] = sum_ci U[t][co][ci] V[t][ci][tile]: 16 matrix
 *      products in the same register blocks as the plain conv, U = G g G^T
 *      packed at compile time (pack_weights);
 *   3. Y = A^T M A per tile, then the epilogue, stored inside the output.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1].
 * The 16 matrices of V and of M lie SV and SM floats apart: their sizes plus
 * one cache line, so the 16 values of one tile never share a cache set
 * (a size like 512 x 16 floats, 32 KiB, would put all 16 in one).
 */
static void
emit_conv2d_winograd(Emitter *e, const Node *n, const Schedule *s)
{
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int cin = in.c, cout = out.c, MR = n->param[P_WEIGHT]->pack_mr;
    int TH = (out.h + 1) / 2, TW = (out.w + 1) / 2, T = TH * TW;
    int NT = s->reg_ow < T ? s->reg_ow : T;
    int ncb = (cout + MR - 1) / MR, npt = (T + NT - 1) / NT;
    int SV = cin * T + 16, SM = cout * T + 16;
    bool add = n->epi & EPI_ADD, relu = n->epi & EPI_RELU;

    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    if (!add)
        emit(e, "(void)x2;");
    emit(e, "/* over the images of the batch */");
    emit(e, "for (int n = 0; n < batch; n++) {");
    emit(e, "const float *restrict xn = x + (size_t)n * %d;", in.numel);
    emit(e, "float *restrict yn = y + (size_t)n * %d;", out.numel);
    if (add)
        emit(e, "const float *restrict rn = x2 + (size_t)n * %d;", out.numel);
    emit(e, "float *restrict V = scratch;                  /* [16][%d][%d], positions %d apart */", cin, T, SV);
    emit(e, "float *restrict M = scratch + (size_t)%d;  /* [16][%d][%d], positions %d apart */", 16 * SV, cout, T, SM);

    emit(e, "/* 1. input transform: V[t][ci][tile] = (B^T d B)[t] */");
    emit_omp_for(e, 1);
    emit(e, "for (int ci = 0; ci < %d; ci++) { /* over input channels */", cin);
    emit(e, "const float *restrict xc = xn + (size_t)ci * %d;", in.hw);
    emit(e, "for (int th = 0; th < %d; th++) { /* over tile rows */", TH);
    emit(e, "for (int tw = 0; tw < %d; tw++) { /* over tile columns */", TW);
    emit(e, "const int h0 = th * 2 - 1, w0 = tw * 2 - 1, tile = th * %d + tw;", TW);
    emit(e, "float d[4][4], u[4][4];");
    emit(e, "/* the 4x4 input patch, zero outside the input */");
    emit(e, "for (int i = 0; i < 4; i++) {");
    emit(e, "for (int j = 0; j < 4; j++) {");
    emit(e, "const int h = h0 + i, c = w0 + j;");
    emit(e, "d[i][j] = h >= 0 && h < %d && c >= 0 && c < %d ? xc[h * %d + c] : 0.0f;", in.h, in.w, in.w);
    emit(e, "} /* j */");
    emit(e, "} /* i */");
    emit(e, "/* B^T d */");
    emit(e, "for (int j = 0; j < 4; j++) {");
    emit(e, "u[0][j] = d[0][j] - d[2][j];");
    emit(e, "u[1][j] = d[1][j] + d[2][j];");
    emit(e, "u[2][j] = d[2][j] - d[1][j];");
    emit(e, "u[3][j] = d[1][j] - d[3][j];");
    emit(e, "}");
    emit(e, "/* (B^T d) B, position t = 4 i + j at V[t][ci][tile] */");
    emit(e, "for (int i = 0; i < 4; i++) {");
    emit(e, "float *restrict v = V + (size_t)(4 * i) * %d + (size_t)ci * %d + tile;", SV, T);
    emit(e, "v[0] = u[i][0] - u[i][2];");
    emit(e, "v[%d] = u[i][1] + u[i][2];", SV);
    emit(e, "v[%d] = u[i][2] - u[i][1];", 2 * SV);
    emit(e, "v[%d] = u[i][1] - u[i][3];", 3 * SV);
    emit(e, "}");
    emit(e, "} /* tw */");
    emit(e, "} /* th */");
    emit(e, "} /* ci */");

    emit(e, "/* 2. M[t][co][tile] = sum_ci U[t][co][ci] V[t][ci][tile]: 16 products in blocks of");
    emit(e, "   %d output channels x %d tiles */", MR, NT);
    emit_omp_for(e, 2);
    emit(e, "for (int q = 0; q < %d; q++) { /* over positions x blocks of output channels */", 16 * ncb);
    emit(e, "for (int pt = 0; pt < %d; pt++) { /* over blocks of tiles */", npt);
    emit(e, "const int t = q / %d, cb = q %% %d;", ncb, ncb);
    emit(e, "const int co0 = cb * %d, p0 = pt * %d;", MR, NT);
    if (cout % MR)
        emit(e, "const int mr = co0 + %d <= %d ? %d : %d - co0;", MR, cout, MR, cout);
    else
        emit(e, "const int mr = %d;", MR);
    if (T % NT)
        emit(e, "const int pn = p0 + %d <= %d ? %d : %d - p0;", NT, T, NT, T);
    else
        emit(e, "const int pn = %d;", NT);
    emit(e, "const float *restrict wt = w + ((size_t)t * %d + cb) * %d; /* U[t], this block's [ci][%d] panel */",
         ncb, cin * MR, MR);
    emit(e, "const float *restrict Vt = V + (size_t)t * %d;", SV);
    emit(e, "float acc[%d][%d];", MR, NT);
    emit(e, "/* zero the accumulators */");
    emit(e, "for (int r = 0; r < %d; r++)", MR);
    emit(e, "    for (int j = 0; j < %d; j++)", NT);
    emit(e, "        acc[r][j] = 0.0f;");
    emit_blocks(e, "Vt", T, cin, MR, NT, true, cout % MR != 0, T % NT != 0);
    emit(e, "/* store M[t][co0 + r][p0 + j] */");
    emit(e, "for (int r = 0; r < mr; r++)");
    emit(e, "    for (int j = 0; j < pn; j++)");
    emit(e, "        M[(size_t)t * %d + (size_t)(co0 + r) * %d + p0 + j] = acc[r][j];", SM, T);
    emit(e, "} /* pt */");
    emit(e, "} /* q */");

    emit(e, "/* 3. output transform Y = A^T m A per tile, epilogue:%s%s%s store */",
         n->param[P_BIAS] ? " bias," : "", add ? " residual," : "", relu ? " relu," : "");
    emit_omp_for(e, 1);
    emit(e, "for (int co = 0; co < %d; co++) { /* over output channels */", cout);
    if (n->param[P_BIAS])
        emit(e, "const float b = bias[co];");
    emit(e, "for (int th = 0; th < %d; th++) { /* over tile rows */", TH);
    emit(e, "for (int tw = 0; tw < %d; tw++) { /* over tile columns */", TW);
    emit(e, "const int tile = th * %d + tw;", TW);
    emit(e, "float m[4][4], s[2][4];");
    emit(e, "for (int t = 0; t < 16; t++)");
    emit(e, "    m[t / 4][t %% 4] = M[(size_t)t * %d + (size_t)co * %d + tile];", SM, T);
    emit(e, "/* A^T m */");
    emit(e, "for (int j = 0; j < 4; j++) {");
    emit(e, "s[0][j] = m[0][j] + m[1][j] + m[2][j];");
    emit(e, "s[1][j] = m[1][j] - m[2][j] - m[3][j];");
    emit(e, "}");
    emit(e, "/* (A^T m) A: the 2x2 outputs, those inside the output */");
    emit(e, "for (int i = 0; i < 2 && th * 2 + i < %d; i++) {", out.h);
    emit(e, "const float yv[2] = {s[i][0] + s[i][1] + s[i][2], s[i][1] - s[i][2] - s[i][3]};");
    emit(e, "for (int j = 0; j < 2 && tw * 2 + j < %d; j++) {", out.w);
    emit(e, "const size_t o = (size_t)co * %d + (size_t)(th * 2 + i) * %d + (size_t)(tw * 2 + j);", out.hw, out.w);
    emit(e, "float v = yv[j]%s;", n->param[P_BIAS] ? " + b" : "");
    if (add)
        emit(e, "v += rn[o];");
    if (relu)
        emit(e, "v = v < 0.0f ? 0.0f : v;");
    emit(e, "yn[o] = v;");
    emit(e, "} /* j */");
    emit(e, "} /* i */");
    emit(e, "} /* tw */");
    emit(e, "} /* th */");
    emit(e, "} /* co */");
    emit(e, "} /* n */");
}

/* ---------------------------------------------------------------- per-channel ops */

/* Opens the loops over images and channels and defines xc, yc (and x2c). */
static void
begin_planes(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
             bool two)
{
    emit(e, "/* over images and channels */");
    if (s->parallel)
        emit_omp_for(e, 2);
    emit(e, "for (int n = 0; n < batch; n++) {");
    emit(e, "for (int c = 0; c < %d; c++) {", in->c);
    emit(e, "const float *xc = x + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    if (two)
        emit(e, "const float *x2c = x2 + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    emit(e, "float *yc = y + ((size_t)n * %d + c) * %d;", out->c, out->hw);
    (void)n;
}

static void
end_planes(Emitter *e)
{
    emit(e, "} /* c */");
    emit(e, "} /* n */");
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
    emit(e, "for (int oh = 0; oh < %d; oh++) {", out.h);
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
    emit(e, "for (int ow = 0; ow < %d; ow++) {", out.w);
    emit(e, "const int w0 = ow * %d - %d;", a->sw, a->pw);
    if (max) {
        int owlo = (a->pw + a->sw - 1) / a->sw, owhi = (in.w + a->pw - a->kw) / a->sw + 1;
        owhi = owhi > out.w ? out.w : owhi < owlo ? owlo : owhi;
        emit(e, "if (inside && ow >= %d && ow < %d) {", owlo, owhi);
        emit(e, "/* the whole %dx%d window is inside: max without bounds or branches */", a->kh, a->kw);
        emit(e, "const float *xw = xc + h0 * %d + w0;", in.w);
        emit(e, "float m = xw[0];");
        emit(e, "int nan = 0;");
        emit(e, "for (int i = 0; i < %d; i++) {", a->kh);
        emit(e, "for (int j = 0; j < %d; j++) {", a->kw);
        emit(e, "const float v = xw[i * %d + j];", in.w);
        emit(e, "m = v > m ? v : m;");
        emit(e, "nan |= v != v;");
        emit(e, "} /* j */");
        emit(e, "} /* i */");
        emit(e, "yc[oh * %d + ow] = nan ? NAN : m; /* NaN propagates, as in PyTorch */", out.w);
        emit(e, "continue;");
        emit(e, "}");
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
    emit(e, "for (int ih = hs; ih < he; ih++) {");
    emit(e, "for (int iw = ws; iw < we; iw++) {");
    if (max) {
        emit(e, "const float v = xc[ih * %d + iw];", in.w);
        emit(e, "if (v > m || v != v) /* NaN propagates, as in PyTorch */");
        emit(e, "    m = v;");
    } else {
        emit(e, "sum += xc[ih * %d + iw];", in.w);
    }
    emit(e, "} /* iw */");
    emit(e, "} /* ih */");
    emit(e, "yc[oh * %d + ow] = %s;", out.w, max ? "m" : "sum / divisor");
    emit(e, "} /* ow */");
    emit(e, "} /* oh */");
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

/* flatten, and reorder between plain layouts: the bytes do not change. */
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
    if (s->parallel)
        emit_omp_for(e, 2);
    emit(e, "for (int n = 0; n < batch; n++) {");
    emit(e, "for (int o = 0; o < %d; o++) {", nout);
    emit(e, "const float *restrict xr = x + (size_t)n * %d;", nin);
    emit(e, "const float *restrict wr = w + (size_t)o * %d;", nin);
    emit(e, "float sum = 0.0f;");
    emit(e, "/* over input features, in order */");
    emit(e, "for (int i = 0; i < %d; i++)", nin);
    emit(e, "    sum += wr[i] * xr[i];");
    emit(e, "y[(size_t)n * %d + o] = sum%s;", nout, n->param[P_BIAS] ? " + bias[o]" : "");
    emit(e, "} /* o */");
    emit(e, "} /* n */");
}

/* ---------------------------------------------------------------- dispatch */

const char *
op_unsupported(const Node *n)
{
    if (n->out->layout == LAYOUT_NCHWC || n->in[0]->layout == LAYOUT_NCHWC ||
        (n->nin > 1 && n->in[1]->layout == LAYOUT_NCHWC))
        return "blocked (nchwNc) layouts are not supported by the C emitter yet";
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
        if (w->pack_mr) {
            int64_t tiles = (cout_g + w->pack_mr - 1) / w->pack_mr;
            if (schedule_default(n).reg_co != w->pack_mr)
                return "conv2d weights are packed for another block of output channels than "
                       "its schedule's reg_co";
            int64_t k = w->winograd ? 16 * (K / 9) : K;
            if (w->winograd && (n->a.kh != 3 || n->a.kw != 3 || n->a.sh != 1 || n->a.sw != 1 ||
                                n->a.ph != 1 || n->a.pw != 1 || n->a.dh != 1 || n->a.dw != 1 ||
                                n->a.groups != 1))
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
        if (n->param[P_WEIGHT]->winograd)
            emit_conv2d_winograd(e, n, s);
        else
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
    case OP_REORDER:
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
