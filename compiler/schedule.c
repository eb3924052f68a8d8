/*
 * schedule.c — chooses how each node is computed (Node.sched).
 *
 * A convolution runs as a matrix product on the register-tiled microkernel
 * of runtime/vx_gemm.h: tiles of reg_co output channels by reg_ow output
 * pixels, the reduction split into blocks of tile_ci rows, the pixel panels
 * of one block packed into scratch space first.  Block sizes come from the
 * target table below, so retuning for a machine is a data change; fields
 * already set (by hand or by a tuner) are kept.
 *
 * Loop order ("order"):
 *   "pc"  pixel tiles outside, channel tiles inside: one packed pixel panel
 *         stays in L1 while the weights of the block stream from L2; used when
 *         those weights fit in L2
 *   "cp"  channel tiles outside: one weight panel stays in L1 while the
 *         pixel panels stream; used for wide layers with few pixels
 * parallel = 2: both tile loops are shared out among threads (collapse(2)).
 */
#include <string.h>

#include "passes.h"

/* What the schedule needs to know of a target. */
typedef struct Target {
    const char *name;   /* for dumps and comments */
    int mr, nr;         /* microkernel tile: output channels x pixels (VX_MR x VX_NR) */
    int kc;             /* reduction rows per block: an [kc][nr] panel fits in L1 */
    int64_t l2;         /* bytes of L2 the weights of one block may use */
} Target;

static const Target target = {"x86-64 AVX2 (portable C vectors)", 6, 16, 256, 256 << 10};

static void
schedule_conv(Node *n)
{
    Schedule *s = &n->sched;
    const Attrs *a = &n->a;
    int64_t cout_g = a->out / a->groups;
    int64_t K = n->in[0]->shape.dim[1] / a->groups * a->kh * a->kw;
    int64_t P = n->out->shape.dim[2] * n->out->shape.dim[3];
    if (s->algo == ALGO_AUTO)
        s->algo = ALGO_GEMM;
    if (s->algo != ALGO_GEMM)
        return;
    if (!s->reg_co)
        s->reg_co = target.mr;
    if (!s->reg_ow)
        s->reg_ow = target.nr;
    if (!s->tile_ci) {
        /* Whole reduction when it is short; else blocks of kc, evened out
         * so the last block is not a sliver. */
        int64_t blocks = (K + target.kc - 1) / target.kc;
        s->tile_ci = (int)((K + blocks - 1) / blocks);
    }
    if (!s->order[0])
        strcpy(s->order, cout_g * s->tile_ci * 4 <= target.l2 ? "pc" : "cp");
    if (!s->parallel)
        s->parallel = 2;
    /* Scratch: the packed pixel panels of one reduction block. */
    int64_t tiles = (P + s->reg_ow - 1) / s->reg_ow;
    n->scratch = tiles * s->reg_ow * s->tile_ci * (int64_t)sizeof(float);
}

char *
schedule(Graph *g)
{
    int convs = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (n->op == OP_CONV2D) {
            Schedule before = n->sched;
            int64_t scratch = n->scratch;
            schedule_conv(n);
            if (memcmp(&before, &n->sched, sizeof before) || scratch != n->scratch)
                convs++;
        } else if (!n->sched.parallel) {
            n->sched.parallel = 2;
        }
    }
    if (!convs)
        return NULL;
    return xprintf("%d convolutions scheduled for %s: %dx%d microkernel tiles", convs, target.name,
                   target.mr, target.nr);
}
