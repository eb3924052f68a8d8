/*
 * fold_bn.c — batch-norm folding.
 *
 * In inference a batch norm is the per-channel affine map
 *
 *     y = x * s + t,   s = gamma / sqrt(var + eps),   t = beta - mean * s
 *
 * When its input comes from a convolution that nothing else reads, the map
 * folds into the convolution: W'[co] = W[co] * s[co] and
 * b'[co] = (b[co] - mean[co]) * s[co] + beta[co].  Any other batch norm
 * becomes a scale_shift node with s and t precomputed.  All arithmetic is in
 * double precision and rounded to float once.
 *
 * Folded tensors get new names ("4.0.conv1.weight.folded") and an origin
 * that says which checkpoint tensors made them; the checkpoint tensors are
 * left unreferenced for eliminate_dead.
 */
#include <math.h>
#include <stdlib.h>

#include "passes.h"

/* s[c] in double, or NULL if the batch norm's weights are not bound. */
static double *
bn_scale(const Node *bn)
{
    Tensor *gamma = bn->param[P_WEIGHT], *var = bn->param[P_VAR];
    if (!gamma->data || !var->data)
        return NULL;
    int64_t c = gamma->shape.dim[0];
    double *s = xmalloc((size_t)c * sizeof *s);
    for (int64_t i = 0; i < c; i++)
        s[i] = (double)gamma->data[i] / sqrt((double)var->data[i] + bn->a.eps);
    return s;
}

static bool
bound(const Node *n)
{
    for (int r = 0; r < P_MAX; r++)
        if (n->param[r] && !n->param[r]->data)
            return false;
    return true;
}

static void
fold_into_conv(Graph *g, Node *conv, Node *bn)
{
    Tensor *w = conv->param[P_WEIGHT], *b = conv->param[P_BIAS];
    Tensor *mean = bn->param[P_MEAN], *beta = bn->param[P_BIAS];
    const char *wp = conv->prefix, *bp = bn->prefix;
    int64_t co = w->shape.dim[0], per = shape_numel(w->shape, 1) / co;

    char *wn = xprintf("%s.weight.folded", wp), *bn_ = xprintf("%s.bias.folded", wp);
    Tensor *w2 = graph_tensor(g, wn, w->shape, w->loc);
    Tensor *b2 = graph_tensor(g, bn_, (Shape){1, {co}}, bn->loc);
    free(wn);
    free(bn_);
    w2->trainable = b2->trainable = true;
    w2->origin = xprintf("%s.weight * %s.weight / sqrt(%s.running_var + %g)", wp, bp, bp, bn->a.eps);
    b2->origin = xprintf("(%s - %s.running_mean) * scale + %s.bias", b ? b->name : "0", bp, bp);

    double *s = bound(conv) && bound(bn) ? bn_scale(bn) : NULL;
    if (s) {
        w2->data = xmalloc((size_t)(co * per) * sizeof(float));
        b2->data = xmalloc((size_t)co * sizeof(float));
        for (int64_t c = 0; c < co; c++) {
            for (int64_t k = 0; k < per; k++)
                w2->data[c * per + k] = (float)((double)w->data[c * per + k] * s[c]);
            double b0 = b ? (double)b->data[c] : 0.0;
            b2->data[c] = (float)((b0 - (double)mean->data[c]) * s[c] + (double)beta->data[c]);
        }
        free(s);
    }
    conv->param[P_WEIGHT] = w2;
    conv->param[P_BIAS] = b2;
    conv->a.bias = true;
    if (!conv->origin)
        node_add_origin(conv, "conv %s (line %d)", conv->prefix, conv->loc.line);
    node_add_origin(conv, "bn %s (line %d, folded)", bn->prefix, bn->loc.line);
    graph_replace_uses(g, bn->out, conv->out);
    graph_remove_node(g, bn);
}

static void
to_scale_shift(Graph *g, Node *bn)
{
    int64_t c = bn->param[P_WEIGHT]->shape.dim[0];
    char *sn = xprintf("%s.scale", bn->prefix), *tn = xprintf("%s.shift", bn->prefix);
    Tensor *st = graph_tensor(g, sn, (Shape){1, {c}}, bn->loc);
    Tensor *tt = graph_tensor(g, tn, (Shape){1, {c}}, bn->loc);
    free(sn);
    free(tn);
    st->trainable = tt->trainable = true;
    st->origin = xprintf("%s.weight / sqrt(%s.running_var + %g)", bn->prefix, bn->prefix, bn->a.eps);
    tt->origin = xprintf("%s.bias - %s.running_mean * scale", bn->prefix, bn->prefix);
    double *s = bound(bn) ? bn_scale(bn) : NULL;
    if (s) {
        st->data = xmalloc((size_t)c * sizeof(float));
        tt->data = xmalloc((size_t)c * sizeof(float));
        for (int64_t i = 0; i < c; i++) {
            st->data[i] = (float)s[i];
            tt->data[i] = (float)((double)bn->param[P_BIAS]->data[i] -
                                  (double)bn->param[P_MEAN]->data[i] * s[i]);
        }
        free(s);
    }
    for (int r = 0; r < P_MAX; r++)
        bn->param[r]->refs--;
    bn->param[P_WEIGHT] = st;
    bn->param[P_BIAS] = tt;
    bn->param[P_MEAN] = bn->param[P_VAR] = NULL;
    st->refs++;
    tt->refs++;
    bn->op = OP_SCALESHIFT;
    node_add_origin(bn, "bn %s (line %d) as scale and shift", bn->prefix, bn->loc.line);
}

char *
fold_bn(Graph *g)
{
    int folded = 0, standalone = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *bn = g->nodes.v[i];
        if (bn->op != OP_BATCHNORM)
            continue;
        Node *p = bn->in[0]->def;
        if (p && p->op == OP_CONV2D && p->epi == 0 && p->out->nuses == 1) {
            fold_into_conv(g, p, bn);
            folded++;
            i--;    /* bn was removed; the next node moved into slot i */
        } else {
            to_scale_shift(g, bn);
            standalone++;
        }
    }
    if (!folded && !standalone)
        return NULL;
    return xprintf("%d batch norms folded into convolutions, %d made scale_shift", folded, standalone);
}
