/*
 * emit_conv.c — the body of a conv2d layer, one function per algorithm of
 * its schedule (Node.sched, which codegen only reads):
 *
 *   gemm         a matrix product per image and group over the input (1x1)
 *                or its im2col panel
 *   direct       the same register blocks fed straight from the input rows:
 *                no scratch
 *   winograd(2)  F(2x2,3x3): input transform, 16 matrix products, output
 *                transform with the epilogue
 *   winograd(4)  F(4x4,3x3): the same with 36 matrix products
 *
 * All four accumulate blocks of reg_co output channels x reg_pix columns
 * in a local array over the reduction, in k order, so every legal schedule
 * adds the same products in the same order: tiles of the reduction (tile_k)
 * store partial sums and reload them, which changes no rounding.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kernels.h"

/* The parallel pragma of a loop level, if the schedule puts it there. */
static void
omp_if(Emitter *e, bool yes, int collapse)
{
    if (yes)
        emit_omp_for(e, collapse);
}

/* const int var: the extent of a block of step starting at origin, short at the end of total. */
static void
emit_extent(Emitter *e, const char *var, const char *origin, int step, int total)
{
    if (total % step)
        emit(e, "const int %s = %s + %d <= %d ? %d : %d - %s;", var, origin, step, total, step, total, origin);
    else
        emit(e, "const int %s = %d;", var, step);
}

/* mr and pn: the rows and columns of the block at (co0, origin); origin is p0, or ow0 in a row. */
static void
emit_block_extent(Emitter *e, int MR, int rows, const char *origin, int NT, int cols)
{
    emit_extent(e, "mr", "co0", MR, rows);
    emit_extent(e, "pn", origin, NT, cols);
}

/* Opens the reduction tiles (tile_k): k0 .. k1 of K; or the whole of it. */
static bool
open_k_tiles(Emitter *e, int K, int tile_k)
{
    if (!tile_k || tile_k >= K)
        return false;
    emit(e, "/* over tiles of %d rows of the reduction (tile_k): partial sums stay in the output */", tile_k);
    emit_for(e, "k0", "for (int k0 = 0; k0 < %d; k0 += %d)", K, tile_k);
    emit(e, "const int k1 = k0 + %d < %d ? k0 + %d : %d;", tile_k, K, tile_k, K);
    return true;
}

/*
 * With parallel = inside, the threads share out whole tiles (or groups of
 * them, tile_pix) where there are many; with few, that leaves threads idle
 * or waiting for the one with the extra or the larger one, so each is run
 * by all of them instead, its blocks of output channels shared out (below
 * SPLIT_TILES tiles of an im2col panel, SPLIT_GROUPS groups).  Each block
 * is still computed whole by one thread: the same sums either way.  A
 * 14x14 map in groups of 8 tiles of 16 pixels (x86-64-v3) is one group of
 * 8 and one of 5: its 1x1 convs took 0.70 ms on two threads with the
 * groups shared out and 0.64 ms split (Sapphire Rapids, batch 1); a 28x28
 * map's 7 groups split took 0.72-0.74 ms against 0.63-0.64, the barrier
 * after each group costing more than the imbalance.
 */
#define SPLIT_TILES 8
#define SPLIT_GROUPS 4

/* The two block loops, in the schedule's order, with the parallel pragma. */
static void
open_block_loops(Emitter *e, const Schedule *s, int ncb, int npt, const char *what)
{
    if (s->tile_pix) {
        /* groups of pixel tiles (tile_pix; order pix,co only) */
        int gt = s->tile_pix / s->reg_pix, ng = (npt + gt - 1) / gt;
        bool split = s->parallel == PAR_INSIDE && ng < SPLIT_GROUPS;
        omp_if(e, s->parallel == PAR_INSIDE && !split, 2);
        if (split) {
            emit(e, "/* over groups of %d tiles of %s (tile_pix %d): with %d group%s,", gt, what, s->tile_pix, ng,
                 ng > 1 ? "s" : "");
            emit(e, "   the threads share each one's blocks */");
        } else
            emit(e, "/* over groups of %d tiles of %s (tile_pix %d) */", gt, what, s->tile_pix);
        emit_for(e, "pg", "for (int pg = 0; pg < %d; pg++)", ng);
        omp_if(e, split, 1);
        emit(e, "/* over blocks of output channels */");
        emit_for(e, "cb", "for (int cb = 0; cb < %d; cb++)", ncb);
        emit(e, "/* over the group's tiles: the block's weights stay in L1, its output rows are written");
        emit(e, "   %d cache lines at a time */", s->tile_pix * 4 / 64 > 0 ? s->tile_pix * 4 / 64 : 1);
        if (npt % gt)
            emit(e, "const int pt1 = pg * %d + %d < %d ? pg * %d + %d : %d;", gt, gt, npt, gt, gt, npt);
        else
            emit(e, "const int pt1 = pg * %d + %d;", gt, gt);
        emit_for(e, "pt", "for (int pt = pg * %d; pt < pt1; pt++)", gt);
        return;
    }
    omp_if(e, s->parallel == PAR_INSIDE, 2);
    if (s->order == ORDER_PIX_CO) {
        emit(e, "/* over tiles of %s */", what);
        emit_for(e, "pt", "for (int pt = 0; pt < %d; pt++)", npt);
        emit(e, "/* over blocks of output channels */");
        emit_for(e, "cb", "for (int cb = 0; cb < %d; cb++)", ncb);
    } else {
        emit(e, "/* over blocks of output channels */");
        emit_for(e, "cb", "for (int cb = 0; cb < %d; cb++)", ncb);
        emit(e, "/* over tiles of %s */", what);
        emit_for(e, "pt", "for (int pt = 0; pt < %d; pt++)", npt);
    }
}

static void
close_block_loops(Emitter *e, const Schedule *s)
{
    if (s->tile_pix) {
        emit_end(e, "pt");
        emit_end(e, "cb");
        emit_end(e, "pg");
        return;
    }
    emit_end(e, s->order == ORDER_PIX_CO ? "cb" : "pt");
    emit_end(e, s->order == ORDER_PIX_CO ? "pt" : "cb");
}

/*
 * One block, by the target's microkernels (codegen/kernels): a call for
 * whole blocks (MR x NT) and one for the block at the pixel edge (MR x the
 * constant remainder of the columns), each the vector kernel where the
 * block fits the target's registers, with the plain-C reference path as
 * the fallback (kernel_emit_block: one function per distinct kernel).  Packed weights are zero-padded to whole blocks of output
 * channels, so a block short of channels still takes these (its extra rows
 * are computed, never stored); with unpacked weights such a block takes
 * the general reference loops over mr x pn.
 */
static void
emit_blocks(Emitter *e, KernelBlock kb, const KernelOut *out, int cols, bool row_tail)
{
    int tail = cols % kb.NT;
    bool rows_general = row_tail && !kb.packed;
    char rows[32] = "";
    if (rows_general)
        snprintf(rows, sizeof rows, " && mr == %d", kb.MR);
    if (!tail && !rows_general) {
        kernel_emit_block(e, &kb, out, true);
        return;
    }
    if (tail)
        emit(e, "/* whole blocks (constant trip counts), or the block at the pixel edge: %d columns */", tail);
    else
        emit(e, "/* a whole block (constant trip counts, accumulators in registers) */");
    emit_open(e, NULL, "if (pn == %d%s)", kb.NT, rows);
    kernel_emit_block(e, &kb, out, true);
    if (tail) {
        emit_else(e, "else if (pn == %d%s)", tail, rows);
        kb.cols = tail;
        kernel_emit_block(e, &kb, out, true);
    }
    if (rows_general) {
        emit_else(e, "else");
        emit(e, "/* a block short of output channels */");
        kernel_emit_block(e, &kb, out, false);
    }
    emit_end(e, NULL);
}

/* The loops over images and groups every conv body starts with. */
static void
open_image_and_group(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
                     bool packed)
{
    int G = n->a.groups, cin_g = in->c / G, cout_g = out->c / G;
    int K = cin_g * n->a.kh * n->a.kw;
    emit(e, "/* over the images of the batch */");
    omp_if(e, s->parallel == PAR_BATCH, 1);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    /* one group: the image's operands are the group's (xg, yg, rg), else those of group g of it */
    const char *v = G > 1 ? "n" : "g";
    emit(e, "const float *restrict x%s = x + (size_t)n * %d;", v, in->numel);
    emit(e, "float *restrict y%s = y + (size_t)n * %d;", v, out->numel);
    if (n->epi & EPI_ADD)
        emit(e, "const float *restrict r%s = x2 + (size_t)n * %d;", v, out->numel);
    if (n->scratch)
        emit(e, s->parallel == PAR_BATCH ? "float *restrict sn = scratch + (size_t)n * %" PRId64 "; /* this image's scratch */"
                                         : "float *restrict sn = scratch; /* %" PRId64 " floats, reused by each image */",
             n->scratch / 4);
    if (G == 1) {
        if (!packed)
            emit(e, "const float *restrict wg = w;");
        return;
    }
    emit(e, "/* over the %d groups */", G);
    emit_for(e, "g", "for (int g = 0; g < %d; g++)", G);
    emit(e, "const float *restrict xg = xn + (size_t)g * %d;", cin_g * in->hw);
    if (!packed)
        emit(e, "const float *restrict wg = w + (size_t)g * %d;", cout_g * K);
    emit(e, "float *restrict yg = yn + (size_t)g * %d;", cout_g * out->hw);
    if (n->epi & EPI_ADD)
        emit(e, "const float *restrict rg = rn + (size_t)g * %d;", cout_g * out->hw);
}

/* Closes what open_image_and_group opened. */
static void
close_image_and_group(Emitter *e, const Node *n)
{
    if (n->a.groups > 1)
        emit_end(e, "g");
    emit_end(e, "n");
}

/* The block's first bias, an expression (NULL: no bias). */
static char *
block_bias(const Node *n, int cout_g)
{
    if (!n->param[P_BIAS])
        return NULL;
    return n->a.groups > 1 ? xprintf("bias + g * %d + co0", cout_g) : xstrdup("bias + co0");
}

/* wt, the block's packed [K][MR] weight panel (block cb of ncb in group g). */
static void
emit_block_panel(Emitter *e, const Node *n, int ncb, int K, int MR)
{
    if (n->a.groups > 1)
        emit(e, "const float *restrict wt = w + ((size_t)g * %d + cb) * %d; /* this block's [K][%d] panel */", ncb,
             K * MR, MR);
    else
        emit(e, "const float *restrict wt = w + (size_t)cb * %d; /* this block's [K][%d] panel */", K * MR, MR);
}

static void
emit_conv_params(Emitter *e, const Node *n)
{
    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    if (!(n->epi & EPI_ADD))
        emit(e, "(void)x2;");
    if (!n->scratch)
        emit(e, "(void)scratch;");
}

/* Column q of an input row (q an expression): q itself in NCHW, (q) * c in
 * an NCHWc input blocked in xb = c channels. */
static const char *
input_column(char *buf, size_t size, const char *q, int xb)
{
    if (xb)
        snprintf(buf, size, "(%s) * %d", q, xb);
    else
        snprintf(buf, size, "%s", q);
    return buf;
}

/* const float *restrict VAR = input channel ci's place in base: its plane in
 * NCHW, or in NCHWc its lane of its block, rows and columns then c apart. */
static void
emit_channel_base(Emitter *e, const char *var, const char *base, const Value *v, int hw)
{
    if (v->cblock) {
        emit(e, "/* NCHW%dc: column q of row h at [(h * w + q) * %d] */", v->cblock, v->cblock);
        emit(e, "const float *restrict %s = %s + (size_t)(ci / %d) * %d + ci %% %d;", var, base, v->cblock,
             v->cblock * hw, v->cblock);
    } else
        emit(e, "const float *restrict %s = %s + (size_t)ci * %d;", var, base, hw);
}

/* ---------------------------------------------------------------- gemm */

/*
 * The rows k = (ci, i, j) of an im2col panel for output pixels p0 .. p0 + pn
 * (p0 and pn declared by the caller; pnv names pn): row k at dst + k * stride
 * holds the input pixels that kernel tap (i, j) of input channel ci meets,
 * zero in the padding.  The pixels go in runs along output rows, each run's
 * columns inside the input found once, so the copies have no bounds tests.
 */
static void
emit_im2col(Emitter *e, const Node *n, const Dims *in, const Dims *out, const char *dst, int stride,
            const char *pnv)
{
    const Attrs *a = &n->a;
    int K = in->c / a->groups * a->kh * a->kw;
    emit_for(e, "k", "for (int k = 0; k < %d; k++)", K);
    emit(e, "const int ci = k / %d, i = k / %d %% %d, j = k %% %d;", a->kh * a->kw, a->kw, a->kh, a->kw);
    int xb = n->in[0]->cblock; /* 0, or an NCHWc input: column q of a row at q * xb */
    emit_channel_base(e, "xc", "xg", n->in[0], in->hw);
    emit(e, "float *restrict row = %s + (size_t)k * %d;", dst, stride);
    emit(e, "int oh = p0 / %d, ow = p0 %% %d;", out->w, out->w);
    emit(e, "/* over the runs of output rows */");
    emit_for(e, "c", "for (int c = 0; c < %s; oh++, ow = 0)", pnv);
    emit(e, "const int run = %d - ow < %s - c ? %d - ow : %s - c;", out->w, pnv, out->w, pnv);
    emit(e, "const int ih = oh * %d - %d + i * %d;", a->sh, a->ph, a->dh);
    emit(e, "float *restrict o = row + c;");
    emit_open(e, NULL, "if (ih < 0 || ih >= %d)", in->h);
    emit(e, "/* the whole run is padding */");
    emit(e, "for (int t = 0; t < run; t++)");
    emit(e, "    o[t] = 0.0f;");
    emit_else(e, "else");
    emit(e, "const float *restrict xr = xc + (size_t)ih * %d;", xb ? in->w * xb : in->w);
    emit(e, "/* column t of the run meets input column c0 + t * %d: [lo, hi) inside the input */", a->sw);
    emit(e, "const int c0 = ow * %d - %d + j * %d;", a->sw, a->pw, a->dw);
    emit(e, "int lo = c0 >= 0 ? 0 : (%d - c0) / %d, hi = c0 >= %d ? 0 : (%d - c0) / %d;", a->sw - 1, a->sw,
         in->w, in->w + a->sw - 1, a->sw);
    emit(e, "lo = lo < run ? lo : run;");
    emit(e, "hi = hi < lo ? lo : hi < run ? hi : run;");
    emit(e, "for (int t = 0; t < lo; t++)");
    emit(e, "    o[t] = 0.0f;");
    emit(e, "for (int t = lo; t < hi; t++)");
    char q[64], col[96];
    snprintf(q, sizeof q, "c0 + t * %d", a->sw);
    emit(e, "    o[t] = xr[%s];", input_column(col, sizeof col, q, xb));
    emit(e, "for (int t = hi; t < run; t++)");
    emit(e, "    o[t] = 0.0f;");
    emit_end(e, NULL);
    emit(e, "c += run;");
    emit_end(e, "c");
    emit_end(e, "k");
}

/*
 * One block of a gemm: the weight panel, the kernels (vector and reference)
 * and the epilogue into yg (+ rg) for output channels co0 .. and pixels
 * p0 ..; the operand B has rows stride floats apart and holds either all the
 * pixels or (tile_panel) only this tile's.
 */
static void
emit_gemm_block(Emitter *e, const Node *n, const Schedule *s, const char *B, int stride, bool tile_panel,
                int K, int P, int cout_g, bool packed, bool tiled)
{
    int MR = s->reg_co, NT = s->reg_pix, ncb = (cout_g + MR - 1) / MR;
    char kto[16];
    snprintf(kto, sizeof kto, "%d", K);
    int yc = n->out->cblock, bc = n->scratch ? 0 : n->in[0]->cblock; /* B is the input itself without scratch */
    char *bias = block_bias(n, cout_g);
    if (packed)
        emit_block_panel(e, n, ncb, K, MR);
    KernelBlock kb = {B, stride, tiled ? "k0" : "0", tiled ? "k1" : kto, K, MR, NT, NT, packed,
                      s->lanes == LANES_CO, tile_panel, NULL, !tile_panel, bc};
    KernelOut ko = {"yg", P, (n->epi & EPI_ADD) ? "rg" : NULL, bias, (n->epi & EPI_RELU) != 0,
                    packed && cout_g % MR != 0, cout_g % MR, tiled, K, yc};
    emit_blocks(e, kb, &ko, P, cout_g % MR != 0);
    free(bias);
}

/* p0 and pn, tile pt's first pixel and pixels, and tp, its [K][NT] panel
 * in scratch (read only once built). */
static void
emit_tile_panel(Emitter *e, int NT, int P, int K, bool built)
{
    emit(e, "const int p0 = pt * %d;", NT);
    emit_extent(e, "pn", "p0", NT, P);
    emit(e, "(void)pn;");
    emit(e, "%sfloat *restrict tp = sn + (size_t)pt * %d; /* this tile's panel [%d][%d] */", built ? "const " : "",
         K * NT, K, NT);
}

/*
 * gemm over an im2col panel with pixel tiles outside (order pix,co): each
 * tile builds its own [K][NT] panel in scratch just before every block of
 * output channels reads it, so the panel is read from L1/L2 and never
 * makes the round trip through memory that the whole-image panel does.
 *
 * With parallel = inside the threads share out the tiles, each building
 * and using its own panels, when there are many; with fewer than
 * SPLIT_TILES (a 7x7 map is one tile of 49; a 14x14 map three of 64 and
 * one of 4) each tile is run by all of them instead: the rows of its panel
 * in parallel, then, once it is whole, its blocks of output channels.
 *
 * With tile_pix the tiles go in groups: a group's panels are built, then
 * each block of output channels runs over all of the group's tiles, so
 * every block's weight panel is read once a group instead of once a tile
 * (it comes from L3 or memory when all the weights exceed L2).  The
 * threads share out whole groups, or below SPLIT_GROUPS groups each
 * group's panel rows and then its blocks.  The blocks compute the same
 * sums in either case.  Measured on VisE's three strided 3x3 convs for
 * x86-64-v3 (blocks of 16 pixels, Sapphire Rapids, 2 MiB L2, one thread,
 * batch 1), groups of 7 tiles (4 for the 7x7 map) took them from
 * 3.25-3.41, 3.17-3.51 and 3.71-3.87 ms to 3.07-3.28, 2.95-3.09 and
 * 3.46-3.63.  On two threads the 14x14 map's went from 1.74-1.92 to
 * 1.59-1.90 and the 7x7 map's stayed at 1.84-2.12, but the 28x28 map's 7
 * groups, shared out 4 to 3, went from 1.71-1.80 to 1.78-1.97.  With
 * AVX-512's 64-pixel tiles, groups of 2 were no faster and larger ones
 * slower.  The default schedules leave tile_pix at 0 for these layers: the
 * panels of a group outgrow the L2 of the target tables.
 */

static void
emit_gemm_tile_panels(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
                      bool packed)
{
    const Attrs *a = &n->a;
    int G = a->groups, cin_g = in->c / G, cout_g = out->c / G;
    int K = cin_g * a->kh * a->kw, P = out->hw;
    int MR = s->reg_co, NT = s->reg_pix;
    int ncb = (cout_g + MR - 1) / MR, npt = (P + NT - 1) / NT;
    int gt = s->tile_pix ? s->tile_pix / NT : 1, ng = (npt + gt - 1) / gt;
    bool split = s->parallel == PAR_INSIDE && (s->tile_pix ? ng < SPLIT_GROUPS : npt < SPLIT_TILES);

    emit(e, "/* Y[co][p] = sum_k W[co][k] * B[k][p] in blocks of %d output channels x %d pixels; B, the im2col",
         MR, NT);
    if (s->tile_pix) {
        emit(e, "   panel, is built %d pixel tiles at a time (tile_pix %d), right before the blocks of those tiles",
             gt, s->tile_pix);
        emit(e, "   use it; each block of output channels runs over the group's tiles, its weights read once for");
        emit(e, "   them all%s */", split ? "; the threads share each group: its panel rows, then its blocks" : "");
    } else if (split) {
        emit(e, "   panel, is built one pixel tile at a time, right before the blocks of that tile use it; with");
        emit(e, "   %d tile%s, the threads share each one: its panel rows, then its blocks */", npt, npt > 1 ? "s" : "");
    } else {
        emit(e, "   panel, is built one pixel tile at a time, right before the blocks of that tile use it */");
    }
    omp_if(e, s->parallel == PAR_INSIDE && !split, 1);
    if (s->tile_pix) {
        emit(e, "/* over groups of %d tiles of output pixels */", gt);
        emit_for(e, "pg", "for (int pg = 0; pg < %d; pg++)", ng);
        if (npt % gt)
            emit(e, "const int pt1 = pg * %d + %d < %d ? pg * %d + %d : %d;", gt, gt, npt, gt, gt, npt);
        else
            emit(e, "const int pt1 = pg * %d + %d;", gt, gt);
        emit(e, "/* over the group's tiles: their panels */");
        emit_for(e, "pt", "for (int pt = pg * %d; pt < pt1; pt++)", gt);
    } else {
        emit(e, "/* over tiles of output pixels */");
        emit_for(e, "pt", "for (int pt = 0; pt < %d; pt++)", npt);
    }
    emit_tile_panel(e, NT, P, K, false);
    emit(e, "/* im2col of the tile: row k = (ci, i, j) holds the input pixels that kernel tap (i, j) of");
    emit(e, "   input channel ci meets at output pixels p0 .. p0 + pn, zero in the padding */");
    omp_if(e, split, 1);
    emit_im2col(e, n, in, out, "tp", NT, "pn");
    if (s->tile_pix)
        emit_end(e, "pt");
    bool tiled = open_k_tiles(e, K, s->tile_k);
    emit(e, "/* over blocks of output channels */");
    omp_if(e, split, 1);
    emit_for(e, "cb", "for (int cb = 0; cb < %d; cb++)", ncb);
    emit(e, "const int co0 = cb * %d;", MR);
    emit_extent(e, "mr", "co0", MR, cout_g);
    emit(e, "(void)mr; /* the vector kernels of whole blocks need it not */");
    if (s->tile_pix) {
        emit(e, "/* over the group's tiles: the block's weight panel, just read, from L1 or L2 again */");
        emit_for(e, "pt", "for (int pt = pg * %d; pt < pt1; pt++)", gt);
        emit_tile_panel(e, NT, P, K, true);
    }
    emit_gemm_block(e, n, s, "tp", NT, true, K, P, cout_g, packed, tiled);
    if (s->tile_pix)
        emit_end(e, "pt");
    emit_end(e, "cb");
    if (tiled)
        emit_end(e, "k0");
    emit_end(e, s->tile_pix ? "pg" : "pt");
}

/*
 * conv2d as a matrix product per image and group:
 *   Y[co][p] = sum_k W[co][k] * B[k][p]   (+ bias, + residual, relu)
 * where k runs over (input channel, kernel row, kernel column), p over
 * output pixels, W is the weight seen as [Cout/groups][K] (packed in
 * [K][reg_co] panels by pack_weights, or PyTorch's layout), and B is the
 * input itself (1x1, stride 1, no padding) or its im2col panel.
 */
static void
emit_conv2d_gemm(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int G = a->groups, cin_g = in.c / G, cout_g = out.c / G;
    int K = cin_g * a->kh * a->kw, P = out.hw;
    bool packed = n->param[P_WEIGHT]->pack_mr > 0;
    int MR = s->reg_co, NT = s->reg_pix;
    int ncb = (cout_g + MR - 1) / MR, npt = (P + NT - 1) / NT;
    bool im2col = n->scratch > 0;

    emit_conv_params(e, n);
    open_image_and_group(e, n, s, &in, &out, packed);
    if (im2col && s->order == ORDER_PIX_CO) {
        emit_gemm_tile_panels(e, n, s, &in, &out, packed);
        close_image_and_group(e, n);
        return;
    }
    if (im2col) {
        emit(e, "float *restrict panel = sn; /* [%d][%d] */", K, P);
        emit(e, "/* im2col: row k = (ci, i, j) of the %d x %d panel holds the input pixels", K, P);
        emit(e, "   that kernel tap (i, j) of input channel ci meets at each output pixel */");
        emit_scope(e, "im2col");
        emit(e, "const int p0 = 0, pn = %d; /* all the output pixels */", P);
        omp_if(e, s->parallel == PAR_INSIDE, 1);
        emit_im2col(e, n, &in, &out, "panel", P, "pn");
        emit_end(e, "im2col");
    }
    const char *B = im2col ? "panel" : "xg";
    bool tiled = open_k_tiles(e, K, s->tile_k);

    emit(e, "/* Y[co][p] = sum_k W[co][k] * B[k][p] in blocks of %d output channels x %d pixels */",
         MR, NT);
    open_block_loops(e, s, ncb, npt, "output pixels");
    emit(e, "const int co0 = cb * %d, p0 = pt * %d;", MR, NT);
    emit_block_extent(e, MR, cout_g, "p0", NT, P);
    emit_gemm_block(e, n, s, B, P, false, K, P, cout_g, packed, tiled);
    close_block_loops(e, s);
    if (tiled)
        emit_end(e, "k0");
    close_image_and_group(e, n);
}

/* ---------------------------------------------------------------- direct */

/*
 * The reduction of a direct convolution over its zero-padded input copy
 * (sched_direct_pad): padded rows of sw phases, column q of a padded row at
 * phase q % sw, offset q / sw, so that the columns one kernel tap meets in
 * a row of output pixels are contiguous at any stride.
 */
static KernelTaps
direct_taps(const Node *n)
{
    const Attrs *a = &n->a;
    SchedPad pad = sched_direct_pad(n);
    int row = (int)(pad.phases * pad.cols);
    KernelTaps t = {(int)(n->in[0]->shape.dim[1] / a->groups), a->kh, a->kw, a->sw, a->dh, a->dw, row,
                    (int)pad.rows * row, (int)pad.cols};
    return t;
}

/* The group's input channels into the zero-padded copy xp (direct_taps). */
static void
emit_direct_pad(Emitter *e, const Node *n, const Schedule *s, const KernelTaps *t)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]);
    int hp = t->chan / t->row;
    emit(e, "/* the group's input zero-padded in scratch: padded row r, column q of channel c at");
    if (t->sw == 1)
        emit(e, "   xp[c * %d + r * %d + q], input row r - %d, column q - %d */", t->chan, t->row, a->ph, a->pw);
    else
    {
        emit(e, "   xp[c * %d + r * %d + q %% %d * %d + q / %d] (the %d column phases of the stride apart),", t->chan,
             t->row, t->sw, t->pw, t->sw, t->sw);
        emit(e, "   input row r - %d, column q - %d */", a->ph, a->pw);
    }
    emit(e, "float *restrict xp = sn;");
    omp_if(e, s->parallel == PAR_INSIDE, 1);
    emit_for(e, "c", "for (int c = 0; c < %d; c++)", t->cin);
    emit_for(e, "r", "for (int r = 0; r < %d; r++)", hp);
    emit(e, "float *restrict o = xp + (size_t)c * %d + r * %d;", t->chan, t->row);
    emit(e, "const int ih = r - %d;", a->ph);
    emit_for(e, "ph", "for (int ph = 0; ph < %d; ph++)", t->sw);
    emit(e, "/* offsets t of the phase inside the input: column t * %d + ph - %d in [0, %d) */", t->sw, a->pw,
         in.w);
    emit(e, "const int c0 = ph - %d;", a->pw);
    emit(e, "int lo = c0 >= 0 ? 0 : (%d - c0) / %d, hi = c0 >= %d ? 0 : (%d - c0) / %d;", t->sw - 1, t->sw, in.w,
         in.w + t->sw - 1, t->sw);
    emit(e, "if (ih < 0 || ih >= %d)", in.h);
    emit(e, "    lo = hi = 0; /* a row of padding */");
    emit(e, "lo = lo < %d ? lo : %d;", t->pw, t->pw);
    emit(e, "hi = hi < lo ? lo : hi < %d ? hi : %d;", t->pw, t->pw);
    emit(e, "float *restrict op = o + ph * %d;", t->pw);
    emit(e, "for (int q = 0; q < lo; q++)");
    emit(e, "    op[q] = 0.0f;");
    emit_open(e, NULL, "if (hi > lo)");
    int xb = n->in[0]->cblock; /* 0, or an NCHWc input: column q of a row at q * xb */
    if (xb) {
        emit(e, "/* NCHW%dc */", xb);
        emit(e, "const float *restrict xr = xg + (size_t)(c / %d) * %d + c %% %d + (size_t)ih * %d;", xb, xb * in.hw,
             xb, xb * in.w);
    } else
        emit(e, "const float *restrict xr = xg + (size_t)c * %d + (size_t)ih * %d;", in.hw, in.w);
    char q[64], col[96];
    snprintf(q, sizeof q, "q * %d + c0", t->sw);
    emit(e, "for (int q = lo; q < hi; q++)");
    emit(e, "    op[q] = xr[%s];", input_column(col, sizeof col, q, xb));
    emit_end(e, NULL);
    emit(e, "for (int q = hi; q < %d; q++)", t->pw);
    emit(e, "    op[q] = 0.0f;");
    emit_end(e, "ph");
    emit_end(e, "r");
    emit_end(e, "c");
}

/*
 * conv2d as a direct loop nest: the group's input is first copied, zero
 * padded, into scratch (emit_direct_pad; much smaller than an im2col
 * panel), then blocks of reg_co output channels x reg_pix columns of one
 * output row accumulate every (input channel, kernel tap) straight from
 * the padded rows, through the same block kernels as gemm (the vector
 * kernels where the target has them; KernelTaps).  Weights as for gemm.
 */
static void
emit_conv2d_direct(Emitter *e, const Node *n, const Schedule *s)
{
    const Attrs *a = &n->a;
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int G = a->groups, cin_g = in.c / G, cout_g = out.c / G;
    int K = cin_g * a->kh * a->kw;
    bool packed = n->param[P_WEIGHT]->pack_mr > 0;
    int MR = s->reg_co, NT = s->reg_pix;
    int ncb = (cout_g + MR - 1) / MR, nct = (out.w + NT - 1) / NT, npt = out.h * nct;
    KernelTaps taps = direct_taps(n);

    emit_conv_params(e, n);
    open_image_and_group(e, n, s, &in, &out, packed);
    emit_direct_pad(e, n, s, &taps);
    emit(e, "/* direct: blocks of %d output channels x %d columns of one output row */", MR, NT);
    open_block_loops(e, s, ncb, npt, "output row segments");
    emit(e, "const int co0 = cb * %d, oh = pt / %d, ow0 = pt %% %d * %d, p0 = oh * %d + ow0;", MR, nct, nct, NT,
         out.w);
    emit_block_extent(e, MR, cout_g, "ow0", NT, out.w);
    emit(e, "const float *restrict xb = xp + (size_t)oh * %d + ow0; /* the block's origin in the padded input */",
         a->sh * taps.row);
    if (packed)
        emit_block_panel(e, n, ncb, K, MR);
    char kto[16];
    snprintf(kto, sizeof kto, "%d", K);
    char *bias = block_bias(n, cout_g);
    KernelBlock kb = {"xb", 0, "0", kto, K, MR, NT, NT, packed, s->lanes == LANES_CO, false, &taps, false, 0};
    KernelOut ko = {"yg", out.hw, (n->epi & EPI_ADD) ? "rg" : NULL, bias, (n->epi & EPI_RELU) != 0,
                    packed && cout_g % MR != 0, cout_g % MR, false, K, 0};
    emit_blocks(e, kb, &ko, out.w, cout_g % MR != 0);
    free(bias);
    close_block_loops(e, s);
    close_image_and_group(e, n);
}

/* ---------------------------------------------------------------- winograd(2) */

/* Tiles per chunk of a tile row in the Winograd transforms: the whole row
 * up to 32 tiles, else equal chunks of at most 32 (the local arrays stay a
 * few KiB). */
static int
wino_chunk(int TW)
{
    int nch = (TW + 31) / 32;
    return (TW + nch - 1) / nch;
}

/* Opens the loop over chunks of CH tiles of a tile row (or its one chunk)
 * and declares tw0, its first tile column, and nt, its tiles. */
static void
open_wino_chunks(Emitter *e, int TW, int CH)
{
    if (CH >= TW) {
        emit_scope(e, "tw0");
        emit(e, "const int tw0 = 0; /* the whole tile row at once */");
    } else {
        emit(e, "/* over chunks of %d tile columns */", CH);
        emit_for(e, "tw0", "for (int tw0 = 0; tw0 < %d; tw0 += %d)", TW, CH);
    }
    emit_extent(e, "nt", "tw0", CH, TW);
}

/* The m + 2 input rows under a chunk's tiles of m x m outputs, into
 * d[m + 2][cw] (declared by the caller): from input row th * m - 1 and
 * column c0 = tw0 * m - 1, each a run of the input row between zeros for
 * the padding, its bounds [lo, hi) worked out once per chunk rather than
 * tested per element. */
static void
emit_wino_input_rows(Emitter *e, const Dims *in, int m, int cw, int xb)
{
    emit(e, "/* the %d input rows under the chunk's patches, from row th * %d - 1 and column", m + 2, m);
    emit(e, "   c0 = tw0 * %d - 1, zero outside the input: columns [lo, hi) of d inside it */", m);
    emit(e, "const int c0 = tw0 * %d - 1;", m);
    emit(e, "const int lo = c0 < 0 ? -c0 : 0, hi = %d - c0 < %d ? %d - c0 : %d;", in->w, cw, in->w, cw);
    emit_for(e, "i", "for (int i = 0; i < %d; i++)", m + 2);
    emit(e, "const int h = th * %d - 1 + i;", m);
    emit_open(e, NULL, "if (h < 0 || h >= %d)", in->h);
    emit(e, "for (int c = 0; c < %d; c++)", cw);
    emit(e, "    d[i][c] = 0.0f;");
    emit_else(e, "else");
    emit(e, "const float *restrict xr = xc + (size_t)h * %d;", xb ? in->w * xb : in->w);
    emit(e, "for (int c = 0; c < lo; c++)");
    emit(e, "    d[i][c] = 0.0f;");
    emit(e, "for (int c = lo; c < hi; c++)");
    char col[64];
    emit(e, "    d[i][c] = xr[%s];", input_column(col, sizeof col, "c0 + c", xb));
    emit(e, "for (int c = hi; c < %d; c++)", cw);
    emit(e, "    d[i][c] = 0.0f;");
    emit_end(e, NULL);
    emit_end(e, "i");
}

/*
 * Step 2 of both Winograd kernels: the P = (m + 2)^2 matrix products
 *   M[t][co][tile] = sum_ci U[t][co][ci] V[t][ci][tile]
 * in the register blocks of the schedule, through the shared block
 * kernels (emit_blocks), so the vector microkernels serve Winograd too.
 * V and M hold P matrices SV and SM floats apart.
 */
static void
emit_wino_products(Emitter *e, const Schedule *s, int P, int cin, int cout, int T, int SV, int SM)
{
    int MR = s->reg_co, NT = s->reg_pix;
    bool inside = s->parallel == PAR_INSIDE;
    int ncb = (cout + MR - 1) / MR, npt = (T + NT - 1) / NT;
    emit(e, "/* 2. M[t][co][tile] = sum_ci U[t][co][ci] V[t][ci][tile]: %d products in blocks of", P);
    emit(e, "   %d output channels x %d tiles */", MR, NT);
    bool tiled = open_k_tiles(e, cin, s->tile_k);
    char kto[16];
    snprintf(kto, sizeof kto, "%d", cin);
    omp_if(e, inside, 2);
    if (s->order == ORDER_PIX_CO) {
        emit(e, "/* over blocks of tiles */");
        emit_for(e, "pt", "for (int pt = 0; pt < %d; pt++)", npt);
        emit(e, "/* over positions x blocks of output channels */");
        emit_for(e, "q", "for (int q = 0; q < %d; q++)", P * ncb);
    } else {
        emit(e, "/* over positions x blocks of output channels */");
        emit_for(e, "q", "for (int q = 0; q < %d; q++)", P * ncb);
        emit(e, "/* over blocks of tiles */");
        emit_for(e, "pt", "for (int pt = 0; pt < %d; pt++)", npt);
    }
    emit(e, "const int t = q / %d, cb = q %% %d;", ncb, ncb);
    emit(e, "const int co0 = cb * %d, p0 = pt * %d;", MR, NT);
    emit_block_extent(e, MR, cout, "p0", NT, T);
    emit(e, "const float *restrict wt = w + ((size_t)t * %d + cb) * %d; /* U[t]: a [ci][%d] panel */",
         ncb, cin * MR, MR);
    emit(e, "const float *restrict Vt = V + (size_t)t * %d;", SV);
    emit(e, "float *restrict Mt = M + (size_t)t * %d;", SM);
    KernelBlock kb = {"Vt", T, tiled ? "k0" : "0", tiled ? "k1" : kto, cin, MR, NT, NT, true, s->lanes == LANES_CO,
                      false, NULL, false, 0};
    KernelOut ko = {"Mt", T, NULL, NULL, false, cout % MR != 0, cout % MR, tiled, cin, 0};
    emit_blocks(e, kb, &ko, T, cout % MR != 0);
    emit_end(e, s->order == ORDER_PIX_CO ? "q" : "pt");
    emit_end(e, s->order == ORDER_PIX_CO ? "pt" : "q");
    if (tiled)
        emit_end(e, "k0");

}


/*
 * The start of a Winograd body with npos transform positions: its weights,
 * the loop over the images, and V and M in the scratch space (per image
 * with parallel = batch, else one pair reused by each image).
 */
static void
open_wino_image(Emitter *e, const Node *n, const Schedule *s, int npos, int T, int SV, int SM)
{
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int cin = in.c, cout = out.c;
    bool add = n->epi & EPI_ADD;
    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    if (!add)
        emit(e, "(void)x2;");
    emit(e, "/* over the images of the batch */");
    omp_if(e, s->parallel == PAR_BATCH, 1);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit(e, "const float *restrict xn = x + (size_t)n * %d;", in.numel);
    emit(e, "float *restrict yn = y + (size_t)n * %d;", out.numel);
    if (add)
        emit(e, "const float *restrict rn = x2 + (size_t)n * %d;", out.numel);
    if (s->parallel == PAR_BATCH)
        emit(e, "float *restrict V = scratch + (size_t)n * %" PRId64 "; /* this image's [%d][%d][%d], positions %d apart */",
             n->scratch / 4, npos, cin, T, SV);
    else
        emit(e, "float *restrict V = scratch; /* [%d][%d][%d], positions %d apart, reused by each image */", npos, cin, T,
             SV);
    emit(e, "float *restrict M = V + (size_t)%d;  /* [%d][%d][%d], positions %d apart */", npos * SV, npos, cout, T, SM);
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
 * The 16 matrices of V and of M lie SV and SM floats apart (Node.wino, from
 * the schedule): their sizes plus one cache line, so the 16 values of one
 * tile never share a cache set (a size like 512 x 16 floats, 32 KiB, would
 * put all 16 in one).
 */
/* The plain loops' epilogue of one output: v = val (+ b) (+ res), relu, stored at out. */
static void
emit_wino_plain_store(Emitter *e, const WinoOut *w, const char *val, const char *res, const char *out)
{
    emit(e, "float v = %s%s;", val, w->bias ? " + b" : "");
    if (w->res)
        emit(e, "v += %s;", res);
    if (w->relu)
        emit(e, "v = v < 0.0f ? 0.0f : v;");
    emit(e, "%s = v;", out);
}

/*
 * The plain loops of the F(2x2,3x3) output transform of one output
 * channel, the reference for its vector kernel (kernel_emit_wino_output):
 * M[t] of tile i at Mc[t * ldm + i], the output channel yc, its residual
 * rc and bias b.
 */
static void
emit_wino2_plain(Emitter *e, const WinoOut *w)
{
    emit(e, "/* over tile rows */");
    emit_for(e, "th", "for (int th = 0; th < %d; th++)", w->TH);
    emit(e, "/* over tile columns */");
    emit_for(e, "tw", "for (int tw = 0; tw < %d; tw++)", w->TW);
    emit(e, "const int tile = th * %d + tw;", w->TW);
    emit(e, "float m[4][4], s[2][4];");
    emit(e, "for (int t = 0; t < 16; t++)");
    emit(e, "    m[t / 4][t %% 4] = Mc[(size_t)t * ldm + tile];");
    emit(e, "/* A^T m */");
    emit_for(e, "j", "for (int j = 0; j < 4; j++)");
    emit(e, "s[0][j] = m[0][j] + m[1][j] + m[2][j];");
    emit(e, "s[1][j] = m[1][j] - m[2][j] - m[3][j];");
    emit_end(e, NULL);
    emit(e, "/* (A^T m) A: the 2x2 outputs, those inside the output */");
    emit_for(e, "i", "for (int i = 0; i < 2 && th * 2 + i < %d; i++)", w->H);
    emit(e, "const float yv[2] = {s[i][0] + s[i][1] + s[i][2], s[i][1] - s[i][2] - s[i][3]};");
    emit_for(e, "j", "for (int j = 0; j < 2 && tw * 2 + j < %d; j++)", w->W);
    emit(e, "const size_t o = (size_t)(th * 2 + i) * %d + (size_t)(tw * 2 + j);", w->W);
    emit_wino_plain_store(e, w, "yv[j]", "rc[o]", "yc[o]");
    emit_end(e, "j");
    emit_end(e, "i");
    emit_end(e, "tw");
    emit_end(e, "th");
}

/* Step 3 of a Winograd body: per output channel co, the output transform (the function of
 * kernel_emit_wino_output) of M's channel co into y's, with the epilogue of wo. */
static void
emit_wino_output(Emitter *e, const Node *n, const Schedule *s, int m, WinoPlain *plain, WinoOut wo, int T)
{
    int cout = n->out->shape.dim[1], hw = wo.H * wo.W;
    emit(e, "/* 3. output transform Y = A^T m A per tile, epilogue:%s%s%s store */", wo.bias ? " bias," : "",
         wo.res ? " residual," : "", wo.relu ? " relu," : "");
    omp_if(e, s->parallel == PAR_INSIDE, 1);
    emit(e, "/* over output channels */");
    emit_for(e, "co", "for (int co = 0; co < %d; co++)", cout);
    if (wo.bias)
        emit(e, "const float b = bias[co];");
    char *mc = xprintf("M + (size_t)co * %d", T), *yc = xprintf("yn + (size_t)co * %d", hw);
    char *rc = xprintf("rn + (size_t)co * %d", hw);
    kernel_emit_wino_output(e, kernel_isa(e->target), &wo, m, plain, mc, yc, rc);
    free(mc);
    free(yc);
    free(rc);
    emit_end(e, "co");
}

static void
emit_conv2d_winograd2(Emitter *e, const Node *n, const Schedule *s)
{
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int cin = in.c, cout = out.c;
    int TH = n->wino.tiles_h, TW = n->wino.tiles_w, T = n->wino.tiles;
    bool inside = s->parallel == PAR_INSIDE;
    int SV = n->wino.sv, SM = n->wino.sm;
    bool add = n->epi & EPI_ADD, relu = n->epi & EPI_RELU;

    open_wino_image(e, n, s, 16, T, SV, SM);

    emit(e, "/* 1. input transform: V[t][ci][tile] = (B^T d B)[t] */");
    omp_if(e, inside, 1);
    emit(e, "/* over input channels */");
    emit_for(e, "ci", "for (int ci = 0; ci < %d; ci++)", cin);
    emit_channel_base(e, "xc", "xn", n->in[0], in.hw);
    emit(e, "/* over tile rows */");
    emit_for(e, "th", "for (int th = 0; th < %d; th++)", TH);
    int CH = wino_chunk(TW), CW = 2 * CH + 2;
    open_wino_chunks(e, TW, CH);
    emit(e, "float d[4][%d], u[4][%d];", CW, CW);
    emit_wino_input_rows(e, &in, 2, CW, n->in[0]->cblock);
    emit(e, "/* B^T d, whole rows at once */");
    emit_for(e, "c", "for (int c = 0; c < %d; c++)", CW);
    emit(e, "u[0][c] = d[0][c] - d[2][c];");
    emit(e, "u[1][c] = d[1][c] + d[2][c];");
    emit(e, "u[2][c] = d[2][c] - d[1][c];");
    emit(e, "u[3][c] = d[1][c] - d[3][c];");
    emit_end(e, "c");
    emit(e, "/* (B^T d) B per tile j of the chunk, columns 2 j .. 2 j + 3: position t = 4 i + j at");
    emit(e, "   V[t][ci][th * %d + tw0 + j] */", TW);
    emit_for(e, "i", "for (int i = 0; i < 4; i++)");
    emit(e, "float *restrict v = V + (size_t)(4 * i) * %d + (size_t)ci * %d + th * %d + tw0;", SV, T, TW);
    emit_for(e, "j", "for (int j = 0; j < nt; j++)");
    emit(e, "const float *restrict r = u[i] + 2 * j;");
    emit(e, "v[j] = r[0] - r[2];");
    emit(e, "v[%d + j] = r[1] + r[2];", SV);
    emit(e, "v[%d + j] = r[2] - r[1];", 2 * SV);
    emit(e, "v[%d + j] = r[1] - r[3];", 3 * SV);
    emit_end(e, "j");
    emit_end(e, "i");
    emit_end(e, "tw0");
    emit_end(e, "th");
    emit_end(e, "ci");

    emit_wino_products(e, s, 16, cin, cout, T, SV, SM);

    WinoOut wo = {SM, TH, TW, out.h, out.w, n->param[P_BIAS] != NULL, add, relu};
    emit_wino_output(e, n, s, 2, emit_wino2_plain, wo, T);
    emit_end(e, "n");
}


/* ---------------------------------------------------------------- winograd(4) */

/*
 * conv2d 3x3, stride 1, padding 1 by Winograd F(4x4,3x3) (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016), per image:
 *   1. V[t][ci][tile] = (B^T d B)[t] for the 6x6 input patch d of each 4x4
 *      output tile (zero outside the input), t over the 36 positions;
 *   2. M[t][co][tile] = sum_ci U[t][co][ci] V[t][ci][tile]: 36 matrix
 *      products in the same register blocks as the plain conv, U = G g G^T
 *      packed at compile time (pack_weights);
 *   3. Y = A^T M A per tile, then the epilogue, the outputs inside the
 *      output stored (edge tiles clipped).
 *
 *           | 4  0 -5  0  1  0 |
 *           | 0 -4 -4  1  1  0 |            | 1  1  1  1  1  0 |
 *     B^T = | 0  4 -4 -1  1  0 |      A^T = | 0  1 -1  2 -2  0 |
 *           | 0 -2 -1  2  1  0 |            | 0  1  1  4  4  0 |
 *           | 0  2 -1 -2  1  0 |            | 0  1 -1  8 -8  1 |
 *           | 0  4  0 -5  0  1 |
 *
 * Both transforms work on chunks of up to 32 tiles of one tile row: one
 * pass along the rows of the patches and one down their columns, each a
 * loop over the chunk's tiles that compilers vectorize; where the target
 * has vector kernels, the output transform also has an explicit-vector
 * version (kernel_emit_wino4_output) under its '#if'.  V and M are laid
 * out as for winograd(2), with 36 matrices each, SV and SM floats apart.
 */
/*
 * The plain loops of the F(4x4,3x3) output transform of one output
 * channel, the reference for its vector kernel (kernel_emit_wino_output):
 * M[t] of tile i at Mc[t * ldm + i], the output channel yc, its residual
 * rc and bias b.
 */
static void
emit_wino4_plain(Emitter *e, const WinoOut *w)
{
    int CH = wino_chunk(w->TW);
    emit(e, "/* over tile rows */");
    emit_for(e, "th", "for (int th = 0; th < %d; th++)", w->TH);
    open_wino_chunks(e, w->TW, CH);
    emit(e, "float sm[4][6][%d];", CH);
    emit(e, "float o[4][%d];", 4 * CH);
    kernel_emit_comment(e, "A^T m down each column l: sm[i][l][j] = sum_k A^T[i][k] M[6 k + l][co][tile], tile j of"
                        " the chunk");
    emit_for(e, "l", "for (int l = 0; l < 6; l++)");
    emit(e, "const float *restrict mt = Mc + (size_t)l * ldm + th * %d + tw0;", w->TW);
    emit_for(e, "j", "for (int j = 0; j < nt; j++)");
    for (int k = 0; k < 6; k++)
        if (k)
            emit(e, "const float m%d = mt[%d * ldm + j];", k, 6 * k);
        else
            emit(e, "const float m0 = mt[j];");
    emit(e, "const float p12 = m1 + m2;");
    emit(e, "const float d12 = m1 - m2;");
    emit(e, "const float p34 = m3 + m4;");
    emit(e, "const float d34 = m3 - m4;");
    emit(e, "sm[0][l][j] = m0 + p12 + p34;");
    emit(e, "sm[1][l][j] = d12 + 2.0f * d34;");
    emit(e, "sm[2][l][j] = p12 + 4.0f * p34;");
    emit(e, "sm[3][l][j] = d12 + 8.0f * d34 + m5;");
    emit_end(e, "j");
    emit_end(e, "l");
    emit(e, "/* (A^T m) A along each row: the 4 x 4 outputs of tile j at o[i][4 j .. 4 j + 3] */");
    emit_for(e, "i", "for (int i = 0; i < 4; i++)");
    emit_for(e, "j", "for (int j = 0; j < nt; j++)");
    for (int k = 0; k < 6; k++)
        emit(e, "const float s%d = sm[i][%d][j];", k, k);
    emit(e, "const float p12 = s1 + s2;");
    emit(e, "const float d12 = s1 - s2;");
    emit(e, "const float p34 = s3 + s4;");
    emit(e, "const float d34 = s3 - s4;");
    emit(e, "o[i][4 * j] = s0 + p12 + p34;");
    emit(e, "o[i][4 * j + 1] = d12 + 2.0f * d34;");
    emit(e, "o[i][4 * j + 2] = p12 + 4.0f * p34;");
    emit(e, "o[i][4 * j + 3] = d12 + 8.0f * d34 + s5;");
    emit_end(e, "j");
    emit_end(e, "i");
    emit(e, "/* epilogue of the rows and columns inside the output */");
    if (w->W % 4)
        emit(e, "const int nc = 4 * nt < %d - 4 * tw0 ? 4 * nt : %d - 4 * tw0;", w->W, w->W);
    else
        emit(e, "const int nc = 4 * nt;");
    if (w->H % 4)
        emit_for(e, "i", "for (int i = 0; i < 4 && th * 4 + i < %d; i++)", w->H);
    else
        emit_for(e, "i", "for (int i = 0; i < 4; i++)");
    emit(e, "float *restrict yr = yc + (size_t)(th * 4 + i) * %d + tw0 * 4;", w->W);
    if (w->res)
        emit(e, "const float *restrict rr = rc + (size_t)(th * 4 + i) * %d + tw0 * 4;", w->W);
    emit_for(e, "c", "for (int c = 0; c < nc; c++)");
    emit_wino_plain_store(e, w, "o[i][c]", "rr[c]", "yr[c]");
    emit_end(e, "c");
    emit_end(e, "i");
    emit_end(e, "tw0");
    emit_end(e, "th");
}

static void
emit_conv2d_winograd4(Emitter *e, const Node *n, const Schedule *s)
{
    Dims in = dims_of(n->in[0]), out = dims_of(n->out);
    int cin = in.c, cout = out.c;
    int TH = n->wino.tiles_h, TW = n->wino.tiles_w, T = n->wino.tiles, CH = wino_chunk(TW);
    bool inside = s->parallel == PAR_INSIDE;
    int SV = n->wino.sv, SM = n->wino.sm;
    bool add = n->epi & EPI_ADD, relu = n->epi & EPI_RELU;

    open_wino_image(e, n, s, 36, T, SV, SM);

    emit(e, "/* 1. input transform: V[t][ci][tile] = (B^T d B)[t], tile = th * %d + tw */", TW);
    omp_if(e, inside, 1);
    emit(e, "/* over input channels */");
    emit_for(e, "ci", "for (int ci = 0; ci < %d; ci++)", cin);
    emit_channel_base(e, "xc", "xn", n->in[0], in.hw);
    emit(e, "/* over tile rows */");
    emit_for(e, "th", "for (int th = 0; th < %d; th++)", TH);
    open_wino_chunks(e, TW, CH);
    emit(e, "float d[6][%d];", 4 * CH + 2);
    emit(e, "float u[6][6][%d];", CH);
    emit_wino_input_rows(e, &in, 4, 4 * CH + 2, n->in[0]->cblock);
    emit(e, "/* d B along each patch row: u[i][l][j] = sum_c d[i][4 j + c] B^T[l][c], tile j of the chunk */");
    emit_for(e, "i", "for (int i = 0; i < 6; i++)");
    emit_for(e, "j", "for (int j = 0; j < nt; j++)");
    emit(e, "const float *restrict r = d[i] + 4 * j;");
    emit(e, "u[i][0][j] = 4.0f * r[0] - 5.0f * r[2] + r[4];");
    emit(e, "u[i][1][j] = r[3] + r[4] - 4.0f * (r[1] + r[2]);");
    emit(e, "u[i][2][j] = r[4] - r[3] + 4.0f * (r[1] - r[2]);");
    emit(e, "u[i][3][j] = r[4] - r[2] + 2.0f * (r[3] - r[1]);");
    emit(e, "u[i][4][j] = r[4] - r[2] - 2.0f * (r[3] - r[1]);");
    emit(e, "u[i][5][j] = 4.0f * r[1] - 5.0f * r[3] + r[5];");
    emit_end(e, "j");
    emit_end(e, "i");
    emit(e, "/* B^T (d B) down each patch column l: position t = 6 k + l at V[t][ci][tile] */");
    emit_for(e, "l", "for (int l = 0; l < 6; l++)");
    emit(e, "float *restrict v = V + (size_t)l * %d + (size_t)ci * %d + th * %d + tw0;", SV, T, TW);
    emit_for(e, "j", "for (int j = 0; j < nt; j++)");
    for (int k = 0; k < 6; k++)
        emit(e, "const float c%d = u[%d][l][j];", k, k);
    emit(e, "v[j] = 4.0f * c0 - 5.0f * c2 + c4;");
    emit(e, "v[%d + j] = c3 + c4 - 4.0f * (c1 + c2);", 6 * SV);
    emit(e, "v[%d + j] = c4 - c3 + 4.0f * (c1 - c2);", 12 * SV);
    emit(e, "v[%d + j] = c4 - c2 + 2.0f * (c3 - c1);", 18 * SV);
    emit(e, "v[%d + j] = c4 - c2 - 2.0f * (c3 - c1);", 24 * SV);
    emit(e, "v[%d + j] = 4.0f * c1 - 5.0f * c3 + c5;", 30 * SV);
    emit_end(e, "j");
    emit_end(e, "l");
    emit_end(e, "tw0");
    emit_end(e, "th");
    emit_end(e, "ci");

    emit_wino_products(e, s, 36, cin, cout, T, SV, SM);

    WinoOut wo = {SM, TH, TW, out.h, out.w, n->param[P_BIAS] != NULL, add, relu};
    emit_wino_output(e, n, s, 4, emit_wino4_plain, wo, T);
    emit_end(e, "n");
}

void
emit_conv2d(Emitter *e, const Node *n, const Schedule *s)
{
    /* the layout pass gave every conv inputs it reads and the output its schedule asks for */
    if ((n->in[0]->cblock && !sched_reads_blocked(n, s)) || n->out->cblock != s->layout_c ||
        (n->nin > 1 && n->in[1]->cblock != n->out->cblock))
        bug("conv2d %s: layouts its schedule cannot read or write (in %d out %d residual %d, layout_c %d)", n->name,
            n->in[0]->cblock, n->out->cblock, n->nin > 1 ? n->in[1]->cblock : -1, s->layout_c);
    switch (s->algo) {
    case ALGO_GEMM:
        emit_conv2d_gemm(e, n, s);
        return;
    case ALGO_DIRECT:
        emit_conv2d_direct(e, n, s);
        return;
    case ALGO_WINOGRAD2:
        emit_conv2d_winograd2(e, n, s);
        return;
    case ALGO_WINOGRAD4:
        emit_conv2d_winograd4(e, n, s);
        return;
    default:
        bug("conv2d %s: algorithm %s", n->name, algo_name(s->algo));
    }
}
