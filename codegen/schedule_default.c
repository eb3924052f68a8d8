/*
 * schedule_default.c — the schedule codegen uses where no pass chose one.
 *
 * Codegen's fallback block sizes, for fields the schedule pass left at zero
 * (it did not run: -O0, --disable-pass=schedule).  The schedule pass
 * (compiler/schedule.c) normally fills them from its target table.
 *
 * How codegen reads a Schedule today (docs/generated-code.md):
 *   algo      conv2d: AUTO and GEMM give the im2col / 1x1 matrix product;
 *             DIRECT and WINOGRAD are not implemented yet and fall back to it
 *   reg_co    conv2d: output channels accumulated together (rows of a block)
 *   reg_ow    conv2d: output pixels (flattened oh*ow) per tile (block columns)
 *   parallel  0: no OpenMP;  1: over the images of the batch;
 *             2: inside each image (conv: blocks of channels x pixel tiles,
 *                other ops: images x channels)
 *   tile_*, order   not used yet
 */
#include "codegen.h"

/* Largest block codegen accepts: the accumulators live on the stack. */
#define MAX_REG_CO 32
#define MAX_REG_OW 1024

Schedule
schedule_default(const Node *n)
{
    Schedule s = n->sched;
    if (s.algo == ALGO_AUTO)
        s.algo = n->op == OP_CONV2D ? ALGO_GEMM : ALGO_AUTO;
    if (n->op == OP_CONV2D) {
        int64_t cout_g = n->a.out / n->a.groups;
        if (s.reg_co <= 0 || s.reg_co > MAX_REG_CO) {
            /* 8 rows, or 4 or 2 if that divides the channels evenly, else a tail block */
            s.reg_co = cout_g < 8 ? (int)cout_g : 8;
            for (int r = 4; r >= 2 && cout_g % s.reg_co; r /= 2)
                if (cout_g % r == 0)
                    s.reg_co = r;
        }
        if (s.reg_ow <= 0 || s.reg_ow > MAX_REG_OW)
            s.reg_ow = 64;
    }
    if (s.parallel <= 0 || s.parallel > 2)
        s.parallel = (n->op == OP_FLATTEN || n->op == OP_REORDER) ? 0 : 2;
    return s;
}
