/*
 * fuse_epilogue.c — residual add and relu into the producing convolution.
 *
 * A convolution's epilogue runs on each output element while it is still
 * in registers, in this order: + bias, + residual (EPI_ADD, the conv's
 * second input), relu (EPI_RELU).  So
 *
 *     add(conv(x), r)        -> conv(x) with EPI_ADD, in[1] = r
 *     relu(conv(x))          -> conv(x) with EPI_RELU
 *     relu(add(conv(x), r))  -> both
 *
 * provided nothing else reads the conv's own output.  When the residual r
 * is computed after the conv, the conv moves down to where the add was,
 * which keeps the schedule topological because only the add read it.
 */
#include <stdlib.h>

#include "passes.h"

/* The conv producing v, if its result could absorb more epilogue. */
static Node *
fusable_conv(Value *v, unsigned forbidden)
{
    Node *p = v->def;
    if (!p || p->op != OP_CONV2D || (p->epi & forbidden) || p->out->nuses != 1)
        return NULL;
    return p;
}

static bool
fuse_add(Graph *g, Node *add, int at)
{
    /* Prefer the operand whose conv runs later: the other is more likely ready. */
    Node *c0 = fusable_conv(add->in[0], EPI_ADD | EPI_RELU);
    Node *c1 = fusable_conv(add->in[1], EPI_ADD | EPI_RELU);
    if (c0 && c1 && c0 == c1)
        return false;   /* add(c, c) */
    int k;
    if (c0 && c1)
        k = graph_node_index(g, c0) > graph_node_index(g, c1) ? 0 : 1;
    else if (c0)
        k = 0;
    else if (c1)
        k = 1;
    else
        return false;
    Node *conv = k == 0 ? c0 : c1;
    Value *res = add->in[1 - k];
    int ci = graph_node_index(g, conv);
    if (res->def && graph_node_index(g, res->def) > ci)
        graph_move_node(g, conv, at - 1);   /* just before the add, after the residual */
    conv->in[1] = res;
    conv->nin = 2;
    res->nuses++;
    conv->epi |= EPI_ADD;
    if (!conv->origin)
        node_add_origin(conv, "conv %s (line %d)", conv->prefix, conv->loc.line);
    node_add_origin(conv, "add (line %d, fused)", add->loc.line);
    graph_replace_uses(g, add->out, conv->out);
    graph_remove_node(g, add);
    return true;
}

static bool
fuse_relu(Graph *g, Node *relu)
{
    Node *conv = fusable_conv(relu->in[0], EPI_RELU);
    if (!conv)
        return false;
    conv->epi |= EPI_RELU;
    if (!conv->origin)
        node_add_origin(conv, "conv %s (line %d)", conv->prefix, conv->loc.line);
    node_add_origin(conv, "relu (line %d, fused)", relu->loc.line);
    graph_replace_uses(g, relu->out, conv->out);
    graph_remove_node(g, relu);
    return true;
}

char *
fuse_epilogue(Graph *g)
{
    int adds = 0, relus = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (n->op == OP_ADD && fuse_add(g, n, i)) {
            adds++;
            i = -1;     /* the schedule changed around i: start over */
        } else if (n->op == OP_RELU && fuse_relu(g, n)) {
            relus++;
            i--;
        }
    }
    if (!adds && !relus)
        return NULL;
    return xprintf("%d adds and %d relus fused into convolutions", adds, relus);
}
