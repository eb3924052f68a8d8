/*
 * legal.c — what a schedule may say, what it costs, and what it says by
 * default.
 *
 * Everything that decides or checks a schedule field is here: the ranges,
 * Winograd eligibility, the scratch model, the default choice (from the
 * target table) with its reason, the trivial schedule of -O0, and random
 * draws for tests.  Codegen and the other passes only read the result.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "schedules.h"

/* Accumulators of one register block live in a local array of this many floats at most. */
#define BLOCK_MAX 4096
#define REG_CO_MAX 64
#define REG_PIX_MAX 512

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ---------------------------------------------------------------- shapes */

bool
sched_winograd_shape(const Node *n)
{
    const Attrs *a = &n->a;
    return n->op == OP_CONV2D && a->kh == 3 && a->kw == 3 && a->sh == 1 && a->sw == 1 &&
           a->ph == 1 && a->pw == 1 && a->dh == 1 && a->dw == 1 && a->groups == 1;
}

int
sched_winograd_m(Algo a)
{
    return a == ALGO_WINOGRAD2 ? 2 : a == ALGO_WINOGRAD4 ? 4 : 0;
}

/* Output tiles of m x m per image: ceil(H / m) x ceil(W / m). */
static int64_t
winograd_tiles(const Node *n, int m)
{
    return (n->out->shape.dim[2] + m - 1) / m * ((n->out->shape.dim[3] + m - 1) / m);
}

int64_t
sched_block_columns(const Node *n, Algo a)
{
    if (sched_winograd_m(a))
        return winograd_tiles(n, sched_winograd_m(a));
    if (a == ALGO_DIRECT)
        return n->out->shape.dim[3];    /* one output row at a time */
    return n->out->shape.dim[2] * n->out->shape.dim[3];
}

int64_t
sched_reduction(const Node *n, Algo a)
{
    int64_t cin_g = n->in[0]->shape.dim[1] / n->a.groups;
    return sched_winograd_m(a) ? cin_g : cin_g * n->a.kh * n->a.kw;
}

static bool
is_plain_1x1(const Node *n)
{
    const Attrs *a = &n->a;
    return a->kh == 1 && a->kw == 1 && a->sh == 1 && a->sw == 1 && a->ph == 0 && a->pw == 0;
}

/* Bytes of the right-hand matrix of one matrix product for one image, K x
 * its columns: for gemm the input itself (1x1, stride 1) or its im2col
 * panel, K x the output pixels; for Winograd one position's transformed
 * input, input channels x tiles. */
static int64_t
operand_bytes(const Node *n, Algo a)
{
    return sched_reduction(n, a) * sched_block_columns(n, a) * 4;
}

SchedPad
sched_direct_pad(const Node *n)
{
    const Attrs *a = &n->a;
    int64_t wp = (n->out->shape.dim[3] - 1) * a->sw + (a->kw - 1) * a->dw + 1;
    SchedPad p = {(n->out->shape.dim[2] - 1) * a->sh + (a->kh - 1) * a->dh + 1, a->sw, (wp + a->sw - 1) / a->sw};
    return p;
}

WinoLayout
sched_wino_layout(const Node *n, Algo a)
{
    WinoLayout w = {0, 0, 0, 0, 0};
    int m = sched_winograd_m(a);
    if (!m)
        return w;
    w.tiles_h = (int)((n->out->shape.dim[2] + m - 1) / m);
    w.tiles_w = (int)((n->out->shape.dim[3] + m - 1) / m);
    w.tiles = w.tiles_h * w.tiles_w;
    /* one cache line (16 floats) more than a matrix, so that the P values of
     * one tile never share a cache set */
    w.sv = (int)n->in[0]->shape.dim[1] * w.tiles + 16;
    w.sm = (int)n->out->shape.dim[1] * w.tiles + 16;
    return w;
}

int64_t
sched_scratch_bytes(const Node *n, const Schedule *s)
{
    if (n->op != OP_CONV2D)
        return 0;
    switch (s->algo) {
    case ALGO_WINOGRAD2:
    case ALGO_WINOGRAD4: {
        /* V [P][cin][tiles] and M [P][cout][tiles], P = (m + 2)^2 positions
         * (16 or 36), each position padded by one cache line (codegen's
         * Winograd kernels) */
        int m = sched_winograd_m(s->algo), P = (m + 2) * (m + 2);
        WinoLayout w = sched_wino_layout(n, s->algo);
        return P * ((int64_t)w.sv + w.sm) * 4;
    }
    case ALGO_DIRECT: {
        /* the group's input zero-padded */
        SchedPad pad = sched_direct_pad(n);
        return n->in[0]->shape.dim[1] / n->a.groups * pad.rows * pad.phases * pad.cols * 4;
    }
    case ALGO_GEMM:
        if (is_plain_1x1(n))
            return 0;   /* the input itself is the right-hand matrix */
        if (s->order == ORDER_PIX_CO) {
            /* an im2col panel [K][reg_pix] per pixel tile, each built just before its use */
            int64_t P = n->out->shape.dim[2] * n->out->shape.dim[3], NT = s->reg_pix > 0 ? s->reg_pix : 1;
            return sched_reduction(n, ALGO_GEMM) * ((P + NT - 1) / NT) * NT * 4;
        }
        return operand_bytes(n, ALGO_GEMM);
    default:
        return 0;
    }
}

void
sched_fill_scratch(Node *n)
{
    n->scratch = sched_scratch_bytes(n, &n->sched);
    n->wino = n->op == OP_CONV2D ? sched_wino_layout(n, n->sched.algo) : (WinoLayout){0, 0, 0, 0, 0};
}

/* ---------------------------------------------------------------- legality */

SchedRange
sched_range(const Node *n, Algo a)
{
    SchedRange r = {0, 0, 0, 0};
    if (n->op != OP_CONV2D)
        return r;
    r.reg_co_max = (int)min64(REG_CO_MAX, n->a.out / n->a.groups);
    r.reg_pix_max = (int)min64(REG_PIX_MAX, sched_block_columns(n, a));
    r.block_max = BLOCK_MAX;
    r.tile_k_max = a == ALGO_DIRECT ? 0 : (int)min64(INT32_MAX, sched_reduction(n, a));
    return r;
}

const char *
sched_algo_illegal(const Node *n, const Target *t, Algo a, bool can_pack)
{
    (void)t;    /* every target runs every algorithm; the kernels differ */
    if ((unsigned)a >= ALGO_COUNT || a == ALGO_NONE)
        return "not an algorithm";
    if (n->op != OP_CONV2D)
        return a == ALGO_PLAIN ? NULL : "only convolutions have a choice of algorithm (use plain)";
    switch (a) {
    case ALGO_PLAIN:
        return "a convolution runs as gemm, direct, winograd(2) or winograd(4)";
    case ALGO_WINOGRAD2:
        if (!sched_winograd_shape(n))
            return "winograd(2) needs a 3x3 convolution with stride 1, padding 1, dilation 1 and one group";
        if (!can_pack)
            return "winograd(2) needs its weights transformed by the pack_weights pass, which is disabled";
        return NULL;
    case ALGO_WINOGRAD4:
        if (!sched_winograd_shape(n))
            return "winograd(4) needs a 3x3 convolution with stride 1, padding 1, dilation 1 and one group";
        if (!can_pack)
            return "winograd(4) needs its weights transformed by the pack_weights pass, which is disabled";
        return NULL;
    default:
        return NULL;
    }
}

char *
sched_check(const Node *n, const Target *t, const Schedule *s, bool can_pack, unsigned *field)
{
    unsigned dummy;
    if (!field)
        field = &dummy;
    *field = SF_ALGO;
    const char *why = sched_algo_illegal(n, t, s->algo, can_pack);
    if (why)
        return xprintf("algo %s: %s", algo_name(s->algo), why);
    *field = SF_PARALLEL;
    if ((unsigned)s->parallel >= PAR_COUNT || s->parallel == PAR_UNSET)
        return xprintf("parallel: not set");
    if (n->op != OP_CONV2D) {
        *field = s->reg_co || s->reg_pix ? SF_REG : s->tile_k ? SF_TILE_K : s->lanes ? SF_LANES
               : s->layout_c ? SF_LAYOUT : SF_ORDER;
        if (s->reg_co || s->reg_pix || s->tile_k || s->order != ORDER_NONE || s->lanes != LANES_NONE ||
            s->layout_c)
            return xprintf("%s has no register block, tiles, loop order, lanes or layout", op_name(n->op));
        return NULL;
    }
    SchedRange r = sched_range(n, s->algo);
    *field = SF_REG;
    if (s->reg_co < 1 || s->reg_co > r.reg_co_max)
        return xprintf("reg %d x %d: output channels must be from 1 to %d here", s->reg_co, s->reg_pix,
                       r.reg_co_max);
    if (s->reg_pix < 1 || s->reg_pix > r.reg_pix_max)
        return xprintf("reg %d x %d: %s must be from 1 to %d here", s->reg_co, s->reg_pix,
                       sched_winograd_m(s->algo) ? "tiles" : s->algo == ALGO_DIRECT ? "columns" : "pixels",
                       r.reg_pix_max);
    if (s->reg_co * s->reg_pix > r.block_max)
        return xprintf("reg %d x %d: %d accumulators, at most %d", s->reg_co, s->reg_pix,
                       s->reg_co * s->reg_pix, r.block_max);
    *field = SF_TILE_K;
    if (s->tile_k < 0 || s->tile_k > r.tile_k_max)
        return r.tile_k_max ? xprintf("tile_k %d: must be 0 (all) or from 1 to %d here", s->tile_k,
                                      r.tile_k_max)
                            : xprintf("tile_k %d: %s has no reduction tiles (must be 0)", s->tile_k,
                                      algo_name(s->algo));
    *field = SF_ORDER;
    if (s->order != ORDER_CO_PIX && s->order != ORDER_PIX_CO)
        return xprintf("order: not set");
    *field = SF_LANES;
    if (s->lanes != LANES_PIX && s->lanes != LANES_CO)
        return xprintf("lanes: not set");
    *field = SF_TILE_PIX;
    if (s->tile_pix && (s->algo != ALGO_GEMM || s->order != ORDER_PIX_CO))
        return xprintf("tile_pix %d: only a gemm with order pix,co groups its pixel tiles (must be 0)",
                       s->tile_pix);
    int64_t P = sched_block_columns(n, s->algo), whole = (P + s->reg_pix - 1) / s->reg_pix * s->reg_pix;
    if (s->tile_pix < 0 || s->tile_pix % s->reg_pix || s->tile_pix > whole)
        return xprintf("tile_pix %d: must be 0 or a multiple of the block's %d pixels, at most %" PRId64 " here",
                       s->tile_pix, s->reg_pix, whole);
    *field = SF_LAYOUT;
    why = sched_blocked_illegal(n, t, s);
    if (why)
        return xprintf("layout nchw%dc: %s", s->layout_c, why);
    return NULL;
}

/* ---------------------------------------------------------------- layouts */

const char *
sched_blocked_illegal(const Node *n, const Target *t, const Schedule *s)
{
    if (!s->layout_c)
        return NULL;
    if (t->lanes < 2)
        return "a blocked layout needs vectors, and this target has none (use nchw)";
    if (s->layout_c != t->lanes)
        return "the channels of a block must be the target's vector lanes";
    if (s->algo != ALGO_GEMM || s->lanes != LANES_CO)
        return "only a gemm with lanes = co writes a blocked output (its vectors are blocks of channels)";
    if (n->a.groups != 1 || n->a.out % s->layout_c)
        return "the output channels must be whole blocks, in one group";
    if (s->reg_co % s->layout_c)
        return "reg: the block's output channels must be whole blocks of the layout";
    return NULL;
}

bool
sched_reads_blocked(const Node *n, const Schedule *s)
{
    return n->op == OP_CONV2D && n->a.groups == 1 &&
           (s->algo != ALGO_GEMM || !is_plain_1x1(n) || s->lanes == LANES_CO);
}

/* ---------------------------------------------------------------- choices */

static ParAxes
plain_parallel(const Node *n)
{
    return n->op == OP_FLATTEN ? PAR_NONE : PAR_INSIDE;
}

/* A 1x1 gemm whose operand, the input itself, exceeds all of L2: with
 * channel blocks outside it would come from memory once per block, so
 * pixel tiles go outside, in groups (tile_pix), whatever the weights: each
 * group's tiles are read once, and each block of weights once per group.
 * Measured on VisE's 1x1 conv of 512 channels on 28x28 maps (1.5 MiB
 * operand) for x86-64-v3 (L2 0.5 MiB in its table; Sapphire Rapids, one
 * thread): 3.7 ms with channel blocks outside, 2.1 ms so. */
static bool
operand_past_l2(const Node *n, const Target *t)
{
    return is_plain_1x1(n) && operand_bytes(n, ALGO_GEMM) > t->l2;
}

/* Pixel tiles in groups (tile_pix) where a block's row of pixels is no
 * wider than a cache line: with pixel tiles outside, each block of output
 * channels then runs over 8 tiles before the next block, so it writes (and
 * reads the residual of) 8 lines of each output row in a row, which the
 * prefetchers follow, where one line per row at a time, each row a
 * channel apart, left them behind.  Measured on VisE for x86-64-v3
 * (blocks of 16 pixels, Sapphire Rapids, one thread): the 1x1 convs on
 * 56x56 maps with a residual 2.4 -> 1.5 ms and 1.7 -> 1.3 ms; 16 and 32
 * tiles a group did no better than 8.  With AVX-512's 64-pixel blocks (4
 * lines), groups measured the same as none, so they get none.  The groups
 * are made as even as 8 tiles at most allow (a 28x28 map's 49 tiles in 7
 * groups of 7, not 6 of 8 and one of 1), as the threads share them out
 * whole: x86-64-v3's 1x1 convs on 28x28 maps took 4.12-4.19 ms on two
 * threads in groups of 8 and 3.76-3.96 in groups of 7, the same on one. */
int
sched_default_tile_pix(const Node *n, const Schedule *s)
{
    if (s->algo != ALGO_GEMM || !is_plain_1x1(n) || s->order != ORDER_PIX_CO || s->reg_pix * 4 > 64)
        return 0;
    int64_t npt = (sched_block_columns(n, s->algo) + s->reg_pix - 1) / s->reg_pix;
    int64_t ng = (npt + 7) / 8;
    return npt > 1 ? (int)((npt + ng - 1) / ng) * s->reg_pix : 0;
}

/* Loop order: channel blocks outside keep one small block of weights in L1
 * while the operand streams past once per block, which costs little while
 * the operand stays in half of L2 (the other half holds the weights and
 * outputs passing through).  When it does not, and all the weights fit
 * half of L2 and are less than half the operand, pixel tiles go outside:
 * each tile of the operand is then read once and used by every channel
 * block, while the weights are read once per tile.  Measured on VisE's 1x1 convs of
 * 512 channels on 28x28 maps (1.5 MiB operand, 2 MiB L2): 0.93-1.2 ms with
 * channel blocks outside, 0.68-0.70 ms with pixel tiles outside.
 *
 * Winograd runs one matrix product per position of its tiles, (m + 2)^2
 * of them, position by position, so what has to stay in L2 is one
 * position's operand (input channels x tiles) and weights (input x output
 * channels), not the whole im2col panel, which its order once went by.
 * VisE's F(4x4) convs on 56x56 maps (50 KiB a position) had pixel tiles
 * outside by that measure, which also handed the two threads whole tiles,
 * two of 64 to one and one of 64 and one of 4 to the other: their three
 * layers took 1.80-1.88 ms on two threads, 1.36-1.38 with channel blocks
 * outside (2.73-2.79 and 2.47-2.74 on one; Sapphire Rapids, batch 1), and
 * on x86-64-v3 2.08-2.29 against 1.95-1.96 on two threads, the same on one. */
static bool
weights_beside(const Node *n, const Target *t, Algo a, int64_t *operand)
{
    Algo product = sched_winograd_m(a) ? a : ALGO_GEMM;
    int64_t weights = sched_reduction(n, product) * (n->a.out / n->a.groups) * 4;
    *operand = operand_bytes(n, product);
    return *operand > t->l2 / 2 && weights <= t->l2 / 2 && 2 * weights < *operand;
}

/* Pixel tiles outside: for either reason above. */
static bool
pixels_outside(const Node *n, const Target *t, Algo a, int64_t *operand)
{
    return weights_beside(n, t, a, operand) || operand_past_l2(n, t);
}

/* An im2col gemm with pixel tiles outside builds each tile's panel just
 * before its blocks read it, from L1/L2, instead of the whole image's
 * panel first.  Measured on VisE (docs/generated-code.md): faster for the
 * 3x3 and 7x7 convs whose panel exceeds half of L2; where the panel fits
 * there, channel blocks outside win, as they reuse each weight panel over
 * the pixel tiles; and not for the strided 1x1 convs, whose panel is only
 * the input subsampled. */
static bool
tile_panels(const Node *n, const Target *t, Algo algo)
{
    return algo == ALGO_GEMM && (n->a.kh > 1 || n->a.kw > 1) && operand_bytes(n, ALGO_GEMM) > t->l2 / 2;
}

/* Rows of a block that holds all of a layer's columns: where they end in a
 * pixel tail that runs with the channels in the lanes (block_tail_vectors())
 * at the table's rows already, as many rows as fit the registers, up to one
 * vector of them.  On a 7x7 map (49 columns, AVX-512) that is 8 rows for
 * the table's 6: VisE's 7x7 layers took 11.0-11.6 ms in all against
 * 12.3-13.2 with 6 rows and the same tail, and 12.8-13.7 with 6 rows in 4
 * pixel vectors (one thread, batch 1). */
static int
tail_rows(const Node *n, const Target *t, const Schedule *s, bool can_pack)
{
    int64_t cout_g = n->a.out / n->a.groups;
    int rows = s->reg_co;
    if (!can_pack || !t->isa || s->reg_pix >= t->reg_pix ||
        !block_tail_vectors(t->lanes, rows, s->reg_pix, true))
        return rows;
    for (int mr = s->reg_co + 1; mr <= t->lanes && mr <= cout_g; mr++)
        if (block_tail_vectors(t->lanes, mr, s->reg_pix, true) &&
            block_vregs(t->lanes, mr, s->reg_pix, true) <= t->vregs)
            rows = mr;
    return rows;
}

/* The accumulator vectors of the table's register block (x86-64-v4's
 * 6 x 64: 24), the FMA chains the rules below keep at least. */
static int
table_accumulators(const Target *t)
{
    return t->reg_co * (t->reg_pix / t->lanes);
}

/* Columns of a block over per-tile im2col panels (tile_panels()) whose
 * pixels the table's block width does not divide: a width within one
 * vector narrower that does, whose columns past its last whole vector run
 * with the channels in the lanes, with as many rows as fit the registers,
 * if that keeps at least the table's number of accumulators.  No tile is
 * then an edge tile, and the threads share whole tiles evenly.  VisE's
 * strided 3x3 convs of layers 2 and 3 (784 and 196 output pixels, 16 and 4
 * tiles of 49) took 1.20-1.21 and 1.13-1.15 ms in 8 x 49 blocks against
 * 1.20-1.22 and 1.22-1.24 in the table's 6 x 64, on two threads 0.61-0.62
 * and 0.59-0.60 against 0.70-0.71 and 0.65-0.67; 8 x 48 blocks (an edge
 * tile of 16) were between (AMD EPYC Zen 5, batch 1).  Measured with
 * AVX-512 only, so the rule asks for 16 lanes and 32 registers. */
static bool
even_tiles(const Node *n, const Target *t, Schedule *s, bool can_pack)
{
    int64_t P = sched_block_columns(n, s->algo), cout_g = n->a.out / n->a.groups;
    int acc = table_accumulators(t);
    if (!can_pack || !t->isa || t->lanes < 16 || t->vregs < 32 || !tile_panels(n, t, s->algo) ||
        s->reg_pix != t->reg_pix || P % t->reg_pix == 0)
        return false;
    for (int w = t->reg_pix - 1; w > t->reg_pix - t->lanes; w--) {
        if (P % w)
            continue;
        for (int mr = (int)min64(t->lanes, cout_g); mr > 0; mr--) {
            int tv = block_tail_vectors(t->lanes, mr, w, true);
            if (tv && block_vregs(t->lanes, mr, w, true) <= t->vregs && mr * (w / t->lanes) + tv >= acc) {
                s->reg_co = mr;
                s->reg_pix = w;
                return true;
            }
        }
    }
    return false;
}

/* Rows of a block narrower than the table's, in whole vectors: as many as
 * keep the table's number of accumulators (x86-64-v4's 6 x 64 is 24
 * vectors), within the registers.  Each accumulator is a chain of FMAs, one
 * per step of the reduction; with 6 chains the FMA units wait for their
 * latency, which 24 cover.  Winograd F(2x2) on a 7x7 map has 16 tiles, one
 * AVX-512 vector: its two stride-1 3x3 convs on that map took 1.18-1.19 ms
 * each in 6 x 16 blocks, 0.65 in 24 x 16 (0.62-0.64 in 28 or 30 x 16; 0.70
 * in 20, 0.74-0.79 in 16), on two threads 0.59-0.60 against 0.36-0.40, where
 * the gemm's 8 x 49 blocks took 1.18-1.19 and 0.61-0.63 (AMD EPYC Zen 5,
 * batch 1). */
static int
narrow_rows(const Node *n, const Target *t, const Schedule *s, bool can_pack)
{
    int64_t cout_g = n->a.out / n->a.groups;
    int nv = s->reg_pix / t->lanes, acc = table_accumulators(t);
    if (!can_pack || !t->isa || t->lanes < 2 || s->reg_pix >= t->reg_pix || s->reg_pix % t->lanes ||
        !nv || acc / nv <= s->reg_co)
        return s->reg_co;
    int rows = (int)min64(min64(acc / nv, cout_g), REG_CO_MAX);
    while (rows > s->reg_co && (block_vregs(t->lanes, rows, s->reg_pix, true) > t->vregs ||
                                rows * s->reg_pix > BLOCK_MAX))
        rows--;
    return rows;
}

/* Rows of a block of a 1x1 gemm with a reduction of at least TALL_K rows,
 * on a map wider than the table's block.  The operand is the larger stream
 * such a layer reads from L2, in either loop order: all of it once per
 * block of output channels with channel blocks outside, and with pixel
 * tiles outside a tile of K x 64 pixels too large for L1, read again by
 * each block.  The table's 6 x 64 on AVX-512 loads 4 operand vectors a step
 * of the reduction for 24 FMAs; two vectors of pixels and as many rows as
 * fit the registers beside them (14, or 13 where that pads fewer channels)
 * load 2 for 26-28, besides 13 or 14 broadcast weights that come in order
 * from the packed panel.
 * With a short reduction the output rows, written once per 64 steps, are
 * the larger stream, and more rows at a time are more streams for the
 * prefetchers: slower.  Measured on VisE (Sapphire Rapids, batch 1, one
 * thread): the eleven 1x1 convs on 14x14 maps 7.9-8.3 -> 7.3-7.4 ms, the
 * two strided 1x1 downsampling convs 2.9-3.1 -> 2.6-2.7 (channel blocks
 * outside); the eleven with pixel tiles outside or 128 input channels, on
 * 56x56 and 28x28 maps, 8.5-8.8 -> 8.0-8.3 (two threads 4.7-5.3 -> 4.5-4.9);
 * those with 64 input channels 5-16 % slower.  On x86-64-v3 (16 registers:
 * 13 x 8) it was slower, so the rule asks for 16 lanes and 32 registers. */
#define TALL_K 128

static int
tall_rows(const Node *n, const Target *t, const Schedule *s, bool can_pack)
{
    int64_t cout_g = n->a.out / n->a.groups;
    int rows = (t->vregs - 3) / 2;
    if (!can_pack || !t->isa || t->lanes < 16 || t->vregs < 32 || s->algo != ALGO_GEMM ||
        n->a.kh != 1 || n->a.kw != 1 || sched_reduction(n, s->algo) < TALL_K ||
        sched_block_columns(n, s->algo) <= t->reg_pix || cout_g <= rows)
        return 0;
    int64_t pad = (cout_g + rows - 1) / rows * rows, pad1 = (cout_g + rows - 2) / (rows - 1) * (rows - 1);
    return pad1 < pad ? rows - 1 : rows;
}

Schedule
sched_default_for(const Node *n, const Target *t, Algo algo, bool can_pack)
{
    Schedule s = {0};
    if (n->op != OP_CONV2D) {
        s.algo = ALGO_PLAIN;
        s.parallel = plain_parallel(n);
        return s;
    }
    int64_t operand;
    s.algo = algo;
    s.reg_co = (int)min64(t->reg_co, n->a.out / n->a.groups);
    s.reg_pix = (int)min64(t->reg_pix, sched_block_columns(n, algo));
    s.reg_co = tail_rows(n, t, &s, can_pack);
    s.reg_co = narrow_rows(n, t, &s, can_pack);
    s.parallel = PAR_INSIDE;
    s.order = tile_panels(n, t, algo) || pixels_outside(n, t, algo, &operand) ? ORDER_PIX_CO : ORDER_CO_PIX;
    even_tiles(n, t, &s, can_pack);
    int tall = tall_rows(n, t, &s, can_pack);
    if (tall) {
        s.reg_co = tall;
        s.reg_pix = 2 * t->lanes;
    }
    s.lanes = LANES_PIX;
    s.tile_pix = sched_default_tile_pix(n, &s);
    return s;
}

Schedule
sched_lanes_co(const Node *n, const Target *t, Schedule s)
{
    int64_t cout_g = n->op == OP_CONV2D ? n->a.out / n->a.groups : 0;
    if (t->lanes < 2 || cout_g < t->lanes || s.algo == ALGO_PLAIN)
        return s;
    /* up to 4 vectors of channels, and columns for the rest of the registers
     * less the weight vectors and one broadcast */
    int nv = (int)min64(4, cout_g / t->lanes);
    int cols = (t->vregs - nv - 1) / nv;
    s.lanes = LANES_CO;
    s.reg_co = nv * t->lanes;
    s.reg_pix = (int)min64(cols, sched_block_columns(n, s.algo));
    s.tile_pix = 0;
    return s;
}

Schedule
sched_default(const Node *n, const Target *t, bool can_pack, char **why)
{
    if (why)
        *why = NULL;
    if (n->op != OP_CONV2D)
        return sched_default_for(n, t, ALGO_PLAIN, can_pack);
    int64_t cin = n->in[0]->shape.dim[1], tiles = winograd_tiles(n, 2), tiles4 = winograd_tiles(n, 4), operand;
    bool wino = can_pack && t->winograd_cin && sched_winograd_shape(n) && cin >= t->winograd_cin &&
                tiles >= t->winograd_tiles;
    /* F(4x4) where its larger tiles are many enough to pay for its 36 weight matrices */
    bool wino4 = wino && t->winograd4_tiles && tiles4 >= t->winograd4_tiles;
    /* direct for kernels larger than 3x3 (the stem's 7x7): their im2col panel is kh * kw times the
     * input, while direct copies only the padded input (measured in docs/generated-code.md) */
    bool direct = !wino && n->a.kh * n->a.kw > 9;
    Algo algo = wino4 ? ALGO_WINOGRAD4 : wino ? ALGO_WINOGRAD2 : direct ? ALGO_DIRECT : ALGO_GEMM;
    Schedule s = sched_default_for(n, t, algo, can_pack);
    bool beside = weights_beside(n, t, s.algo, &operand);
    if (why) {
        char *algo_why =
            wino4 ? xprintf("winograd(4): 3x3 stride 1 with %" PRId64 " >= %d input channels and %" PRId64
                            " >= %d 4x4 tiles", cin, t->winograd_cin, tiles4, t->winograd4_tiles)
            : wino && t->winograd4_tiles
                ? xprintf("winograd(2): 3x3 stride 1 with %" PRId64 " >= %d input channels and %" PRId64
                          " >= %d tiles, %" PRId64 " < %d 4x4 tiles for winograd(4)", cin, t->winograd_cin,
                          tiles, t->winograd_tiles, tiles4, t->winograd4_tiles)
            : wino ? xprintf("winograd(2): 3x3 stride 1 with %" PRId64 " >= %d input channels and %" PRId64
                             " >= %d tiles", cin, t->winograd_cin, tiles, t->winograd_tiles)
            : direct ? xprintf("direct: a %dx%d kernel, larger than 3x3: the padded input instead of an im2col "
                               "panel %d times the input", n->a.kh, n->a.kw, n->a.kh * n->a.kw)
            : sched_winograd_shape(n)
                ? xprintf("gemm: %s", !can_pack ? "pack_weights is disabled"
                                      : !t->winograd_cin ? "the target uses no Winograd"
                                      : cin < t->winograd_cin ? "too few input channels for Winograd"
                                                              : "too few tiles for Winograd")
                : xprintf("gemm: %s", is_plain_1x1(n) ? "1x1, the input is the matrix" : "im2col panel");
        char *reg_why = s.reg_co == t->reg_co && s.reg_pix == t->reg_pix
                            ? xprintf("reg %dx%d from the %s table", s.reg_co, s.reg_pix, t->name)
                        : s.reg_pix == 2 * t->lanes && s.reg_co > t->reg_co
                            ? xprintf("reg %dx%d: 2 vectors of pixels and %d rows, %s: %d FMAs a step of the "
                                      "reduction for 2 operand vectors from L2, against %d for %d with the %s "
                                      "table's %dx%d", s.reg_co, s.reg_pix, s.reg_co,
                                      s.reg_co == (t->vregs - 3) / 2 ? "as many as fit the registers"
                                                                     : "one fewer than fit, which pads fewer channels",
                                      2 * s.reg_co, table_accumulators(t), t->reg_pix / t->lanes,
                                      t->name, t->reg_co, t->reg_pix)
                        : s.reg_pix < t->reg_pix && sched_block_columns(n, s.algo) > s.reg_pix &&
                                  sched_block_columns(n, s.algo) % s.reg_pix == 0 && s.reg_pix % t->lanes
                            ? xprintf("reg %dx%d: %d columns tile the layer's %" PRId64 " in %" PRId64 " with no "
                                      "edge tile, where the %s table's %dx%d leaves one; the %d column%s past %d "
                                      "vectors go%s in channel lanes, so %d rows fit the registers",
                                      s.reg_co, s.reg_pix, s.reg_pix, sched_block_columns(n, s.algo),
                                      sched_block_columns(n, s.algo) / s.reg_pix, t->name, t->reg_co, t->reg_pix,
                                      s.reg_pix % t->lanes, s.reg_pix % t->lanes > 1 ? "s" : "",
                                      s.reg_pix / t->lanes, s.reg_pix % t->lanes > 1 ? "" : "es", s.reg_co)
                        : s.reg_co > t->reg_co && s.reg_pix < t->reg_pix && s.reg_pix % t->lanes == 0
                            ? xprintf("reg %dx%d: the %s table's %dx%d is %d accumulators; %d column%s %s %d "
                                      "vector%s, so %d rows keep that many chains of FMAs",
                                      s.reg_co, s.reg_pix, t->name, t->reg_co, t->reg_pix,
                                      table_accumulators(t), s.reg_pix, s.reg_pix > 1 ? "s" : "",
                                      s.reg_pix > 1 ? "are" : "is", s.reg_pix / t->lanes,
                                      s.reg_pix / t->lanes > 1 ? "s" : "", s.reg_co)
                        : s.reg_co > t->reg_co
                            ? xprintf("reg %dx%d: the %s table's %dx%d, no larger than the layer; its %d "
                                      "column%s past %d vectors go%s in channel lanes, so %d rows fit the registers",
                                      s.reg_co, s.reg_pix, t->name, t->reg_co, t->reg_pix, s.reg_pix % t->lanes,
                                      s.reg_pix % t->lanes > 1 ? "s" : "", s.reg_pix / t->lanes,
                                      s.reg_pix % t->lanes > 1 ? "" : "es", s.reg_co)
                            : xprintf("reg %dx%d: the %s table's %dx%d, no larger than the layer", s.reg_co,
                                      s.reg_pix, t->name, t->reg_co, t->reg_pix);
        if (tile_panels(n, t, s.algo))
            *why = xprintf("%s; %s; order pix,co: the %.2f MiB im2col panel exceeds half of L2 (%.2f MiB), so "
                           "it is built one pixel tile at a time", algo_why, reg_why, operand / 1048576.0,
                           t->l2 / 2 / 1048576.0);
        else {
            char *order_why = xprintf(
                "order %s: the %.2f MiB operand%s %s half of L2 (%.2f MiB)%s", order_name(s.order), operand / 1048576.0,
                sched_winograd_m(s.algo) ? " of each position's product" : "",
                operand > t->l2 / 2 ? "exceeds" : "fits", t->l2 / 2 / 1048576.0,
                beside                ? " and the weights, under half of it, fit the other half"
                : operand_past_l2(n, t) ? " and all of it, so pixel tiles go outside and it is read once"
                : operand > t->l2 / 2 ? " but the weights exceed half of L2 or of the operand"
                                      : "");
            char *tile_why = s.tile_pix ? xprintf("; tile_pix %d: a block's %d pixels are one cache line of a row, "
                                                  "so each block of output channels runs over %d tiles at a time",
                                                  s.tile_pix, s.reg_pix, s.tile_pix / s.reg_pix)
                                        : xstrdup("");
            *why = xprintf("%s; %s; %s%s", algo_why, reg_why, order_why, tile_why);
            free(order_why);
            free(tile_why);
        }
        free(algo_why);
        free(reg_why);
    }
    return s;
}

Schedule
sched_trivial(const Node *n)
{
    Schedule s = {0};
    if (n->op != OP_CONV2D) {
        s.algo = ALGO_PLAIN;
        s.parallel = plain_parallel(n);
        return s;
    }
    int64_t cout_g = n->a.out / n->a.groups;
    s.algo = ALGO_GEMM;
    /* 8 rows, or 4 or 2 if that divides the channels evenly */
    s.reg_co = cout_g < 8 ? (int)cout_g : 8;
    for (int r = 4; r >= 2 && cout_g % s.reg_co; r /= 2)
        if (cout_g % r == 0)
            s.reg_co = r;
    s.reg_pix = (int)min64(64, sched_block_columns(n, ALGO_GEMM));
    s.order = ORDER_CO_PIX;
    s.lanes = LANES_PIX;
    s.parallel = PAR_INSIDE;
    return s;
}

uint64_t
sched_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15u;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* Uniform in [lo, hi]. */
static int
draw(uint64_t *rng, int lo, int hi)
{
    return hi <= lo ? lo : lo + (int)(sched_rand(rng) % (uint64_t)(hi - lo + 1));
}

Schedule
sched_random(const Node *n, const Target *t, bool can_pack, uint64_t *rng)
{
    Schedule s = {0};
    s.parallel = (ParAxes)draw(rng, PAR_NONE, PAR_INSIDE);
    if (n->op != OP_CONV2D) {
        s.algo = ALGO_PLAIN;
        return s;
    }
    Algo legal[ALGO_COUNT];
    int nlegal = 0;
    for (int a = ALGO_PLAIN; a < ALGO_COUNT; a++)
        if (!sched_algo_illegal(n, t, (Algo)a, can_pack))
            legal[nlegal++] = (Algo)a;
    s.algo = legal[draw(rng, 0, nlegal - 1)];
    SchedRange r = sched_range(n, s.algo);
    s.reg_co = draw(rng, 1, r.reg_co_max);
    int pix_max = r.reg_pix_max < r.block_max / s.reg_co ? r.reg_pix_max : r.block_max / s.reg_co;
    /* Half the time a whole number of the target's vectors, when that fits. */
    if (t->lanes > 1 && pix_max >= t->lanes && draw(rng, 0, 1))
        s.reg_pix = t->lanes * draw(rng, 1, pix_max / t->lanes);
    else
        s.reg_pix = draw(rng, 1, pix_max);
    s.tile_k = r.tile_k_max && draw(rng, 0, 1) ? draw(rng, 1, r.tile_k_max) : 0;
    s.order = (LoopOrder)draw(rng, ORDER_CO_PIX, ORDER_PIX_CO);
    s.lanes = (Lanes)draw(rng, LANES_PIX, LANES_CO);
    /* Half the time pixel tiles in groups, where the layer takes them (a
     * 1x1's input, or an im2col panel built a group of tiles at a time). */
    if (s.algo == ALGO_GEMM && s.order == ORDER_PIX_CO && draw(rng, 0, 1)) {
        int64_t npt = (sched_block_columns(n, s.algo) + s.reg_pix - 1) / s.reg_pix;
        s.tile_pix = draw(rng, 1, (int)min64(npt, 64)) * s.reg_pix;
    }
    /* Half of those a block the target's channel-lane kernels take. */
    if (s.lanes == LANES_CO && draw(rng, 0, 1)) {
        Schedule v = sched_lanes_co(n, t, s);
        if (v.reg_pix > 1)
            v.reg_pix = draw(rng, 1, v.reg_pix);
        v.tile_pix = 0;
        s = v;
    }
    /* Half of the schedules that may write a blocked output do. */
    s.layout_c = t->lanes;
    if (sched_blocked_illegal(n, t, &s) || !draw(rng, 0, 1))
        s.layout_c = 0;
    return s;
}

char *
sched_text(const Node *n, const Schedule *s)
{
    if (n->op != OP_CONV2D)
        return xprintf("algo=%s parallel=%s", algo_name(s->algo), parallel_name(s->parallel));
    char layout[32] = "";
    if (s->layout_c)
        snprintf(layout, sizeof layout, " layout=nchw%dc", s->layout_c);
    return xprintf("algo=%s reg=%dx%d tile_k=%d tile_pix=%d order=%s lanes=%s%s parallel=%s", algo_name(s->algo),
                   s->reg_co, s->reg_pix, s->tile_k, s->tile_pix, order_name(s->order), lanes_name(s->lanes),
                   layout, parallel_name(s->parallel));
}
