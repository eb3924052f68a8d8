/*
 * pack_weights.c — convolution weights into the layout the kernels read.
 *
 * A convolution's register block (codegen's emit_conv2d) reads, for each
 * block of reg_co output channels, a [K][reg_co] panel: the reg_co weights
 * of one step of the reduction side by side.  Packing at compile time means the generated code
 * only reads and checks the weights file.  The packed tensor keeps its
 * PyTorch shape in Tensor.logical, and tensor_conv_weight() reads it, so
 * the reference interpreter still runs the graph.
 */
#include <stdlib.h>

#include "passes.h"

static Tensor *
pack(Graph *g, const Node *n, const Tensor *w)
{
    int mr = n->sched.reg_co, groups = n->a.groups;
    int64_t cout = w->shape.dim[0], cout_g = cout / groups;
    int64_t K = shape_numel(w->shape, 1) / cout;
    int64_t tiles = (cout_g + mr - 1) / mr;
    char *name = xprintf("%s.packed", w->name);
    Tensor *p = graph_find_tensor(g, name);
    if (p && p->pack_mr == mr && shape_eq(p->logical, w->shape)) {
        free(name);     /* a weight shared by several convs is packed once */
        return p;
    }
    p = graph_tensor(g, name, (Shape){3, {groups * tiles, K, mr}}, w->loc);
    free(name);
    p->trainable = w->trainable;
    p->pack_mr = mr;
    p->logical = w->shape;
    p->origin = xprintf("%s packed in tiles of %d output channels ([%lld][%lld][%d])", w->name, mr,
                        (long long)(groups * tiles), (long long)K, mr);
    if (w->data) {
        p->data = xcalloc((size_t)(groups * tiles * K * mr), sizeof(float));
        for (int64_t co = 0; co < cout; co++) {
            int64_t grp = co / cout_g, c = co % cout_g;
            float *dst = p->data + ((grp * tiles + c / mr) * K) * mr + c % mr;
            for (int64_t k = 0; k < K; k++)
                dst[k * mr] = w->data[co * K + k];
        }
    }
    return p;
}

char *
pack_weights(Graph *g)
{
    int packed = 0;
    int64_t bytes = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        Tensor *w = n->param[P_WEIGHT];
        if (n->op != OP_CONV2D || n->sched.algo != ALGO_GEMM || n->sched.reg_co <= 0 || w->pack_mr)
            continue;
        Tensor *p = pack(g, n, w);
        n->param[P_WEIGHT] = p;
        packed++;
        bytes += shape_numel(p->shape, 1) * (int64_t)sizeof(float);
    }
    if (!packed)
        return NULL;
    return xprintf("%d convolution weights packed in blocks of output channels (%.1f MiB)", packed,
                   bytes / 1048576.0);
}
