/*
 * schedule.c — chooses how each node is computed (Node.sched).
 *
 * A convolution runs as a matrix product per image and group (codegen's
 * emit_conv2d): blocks of reg_co output channels by reg_ow output pixels
 * accumulate in a local array over a contiguous pixel loop that the C
 * compiler keeps in vector registers, then the epilogue (bias, residual,
 * relu) runs before the single store.  Convolutions that are not 1x1 with
 * stride 1 first lay their input out as an im2col panel in scratch space,
 * which this pass reserves so the memory plan places it.
 *
 * The loop order over blocks ("order"): with channel blocks outside ("cp",
 * the default) one small block of weights stays in L1 while the pixel
 * operand (the input, or its im2col panel) streams past once per block;
 * that costs little while the operand stays in L2.  When it does not, and
 * all the weights do fit in L2, pixel tiles go outside ("pc"): each tile of
 * the operand is then read once and used by every channel block.
 *
 * Block sizes come from the target table below, so retuning for a machine
 * is a data change; fields already set (by hand or by a tuner) are kept.
 */
#include <string.h>

#include "codegen.h"
#include "passes.h"

/* What the schedule needs to know of a target. */
typedef struct Target {
    const char *name;   /* for dumps and comments */
    int reg_co;         /* output channels per register block */
    int reg_ow;         /* output pixels per register block */
    int64_t l2;         /* bytes of L2 cache per core */
    int winograd_cin;   /* 3x3 stride-1 convs with at least this many input
                           channels use Winograd F(2x2,3x3); 0 never */
    int winograd_tiles; /* ... and at least this many 2x2 output tiles (fewer make
                           register blocks too narrow: 7x7 outputs give 16) */
} Target;

/*
 * 6 x 64 keeps 6 rows of 64 floats in registers with 512-bit vectors (24 of
 * 32) and is still the fastest of the sizes tried with 256-bit ones.
 */
static const Target target = {"x86-64 (6x64 register blocks)", 6, 64, 512 << 10, 32, 32};

/* Winograd F(2x2,3x3) computes a 3x3, stride 1, padding 1 convolution
 * with 16 instead of 36 multiplications per 2x2 outputs per channel pair. */
static bool
winograd_fits(const Node *n)
{
    const Attrs *a = &n->a;
    return target.winograd_cin && a->kh == 3 && a->kw == 3 && a->sh == 1 && a->sw == 1 &&
           a->ph == 1 && a->pw == 1 && a->dh == 1 && a->dw == 1 && a->groups == 1 &&
           n->in[0]->shape.dim[1] >= target.winograd_cin &&
           (n->out->shape.dim[2] + 1) / 2 * ((n->out->shape.dim[3] + 1) / 2) >= target.winograd_tiles;
}

static bool
schedule_conv(Node *n)
{
    Schedule *s = &n->sched, before = *s;
    int64_t scratch = n->scratch;
    if (s->algo == ALGO_AUTO)
        s->algo = winograd_fits(n) ? ALGO_WINOGRAD : ALGO_GEMM;
    if (!s->reg_co)
        s->reg_co = target.reg_co;
    if (!s->reg_ow)
        s->reg_ow = target.reg_ow;
    if (!s->parallel)
        s->parallel = 2;
    if (!s->order[0]) {
        const Attrs *a = &n->a;
        int64_t cout_g = a->out / a->groups;
        int64_t K = n->in[0]->shape.dim[1] / a->groups * a->kh * a->kw;
        int64_t P = n->out->shape.dim[2] * n->out->shape.dim[3];
        int64_t operand = K * P * 4, weights = K * cout_g * 4;
        strcpy(s->order, operand > target.l2 && weights <= target.l2 / 2 ? "pc" : "cp");
    }
    n->scratch = node_scratch_bytes(n);
    return memcmp(&before, s, sizeof before) || scratch != n->scratch;
}

char *
schedule(Graph *g)
{
    int convs = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (n->op == OP_CONV2D)
            convs += schedule_conv(n);
        else if (!n->sched.parallel)
            n->sched.parallel = 2;
    }
    if (!convs)
        return NULL;
    return xprintf("%d convolutions scheduled for %s: %dx%d blocks", convs, target.name,
                   target.reg_co, target.reg_ow);
}
