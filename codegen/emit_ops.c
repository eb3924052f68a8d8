/*
 * emit_ops.c — what codegen can emit, and the dispatch of a layer body to
 * the emitter of its op family: emit_conv.c (conv2d), emit_elementwise.c
 * (batchnorm, scale_shift, relu, add, flatten), emit_pool.c (maxpool,
 * avgpool, global_avgpool), emit_linear.c (linear).
 *
 * Every layer function has the same parameters:
 *
 *   wb       the weights file image; tensor t is at wb + t->offset
 *   batch    images in x and y
 *   x, x2    the node's inputs (x2 is NULL unless it has two), NCHW
 *   y        its output, NCHW
 *   scratch  Node.scratch bytes per image times batch, or NULL
 *
 * All sizes except the batch are literal constants, so the C compiler sees
 * fixed trip counts.  Indices inside one image are int (codegen_check()
 * keeps every tensor below 2^31 elements); image offsets are size_t.
 * Pointers that may alias (an elementwise op run in place by a memory plan)
 * are not restrict.  What the op emitters share (dims_of, emit_weight,
 * begin_planes) is in emit.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

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
        if (sched_winograd_m(n->sched.algo) != w->winograd)
            return "conv2d weights are not transformed for the algorithm of its schedule";
        if (w->pack_mr) {
            int64_t tiles = (cout_g + w->pack_mr - 1) / w->pack_mr;
            if (n->sched.reg_co != w->pack_mr)
                return "conv2d weights are packed for another block of output channels than "
                       "its schedule's reg_co";
            int64_t k = w->winograd ? (w->winograd + 2) * (w->winograd + 2) * (K / 9) : K;
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
#define UNARY_EMIT(id, name, expr)  \
    case OP_##id:                   \
        emit_unary(e, n, s, #expr); \
        return;
    VISEC_UNARY_OPS(UNARY_EMIT)
#undef UNARY_EMIT
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
    case OP_REORDER:
        emit_reorder(e, n, s);
        return;
    case OP_COUNT:
        break;
    }
    bug("emit_op: bad op %d", (int)n->op);
}
