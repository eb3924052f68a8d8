/*
 * stats.c — op counts, parameter counts and multiply-accumulates.
 */
#include "ir.h"

int64_t
node_macs(const Node *n)
{
    const Shape o = n->out->shape;
    switch (n->op) {
    case OP_CONV2D: {
        int64_t cin = n->in[0]->shape.dim[1] / n->a.groups;
        return o.dim[1] * o.dim[2] * o.dim[3] * cin * n->a.kh * n->a.kw;
    }
    case OP_LINEAR:
        return o.dim[1] * n->in[0]->shape.dim[1];
    default:
        return 0;
    }
}

GraphStats
graph_stats(const Graph *g)
{
    GraphStats s = {{0}, 0, 0, 0};
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        s.count[n->op]++;
        s.macs += node_macs(n);
    }
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (!t->refs)
            continue;
        if (t->trainable)
            s.params += shape_numel(t->shape, 1);
        else
            s.buffers += shape_numel(t->shape, 1);
    }
    return s;
}
