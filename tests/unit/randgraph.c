/*
 * randgraph.c — random graphs for property tests (test_passes.c,
 * test_codegen.c): conv / batch norm / relu / residual / pool blocks with
 * random shapes, strides, padding, dilation and groups, and weights whose
 * batch-norm statistics are far from identity.
 */
#include <stdlib.h>
#include <string.h>

#include "randgraph.h"

/* splitmix64: a small, portable, seeded generator. */
uint64_t
rg_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

int
rg_int(uint64_t *s, int lo, int hi)
{
    return lo + (int)(rg_u64(s) % (uint64_t)(hi - lo + 1));
}

float
rg_float(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((rg_u64(s) >> 11) * (1.0 / 9007199254740992.0));
}

static Value *
rand_conv(Graph *g, Diag *d, uint64_t *s, Value *x, int out, int id)
{
    Attrs a = attrs_default(OP_CONV2D);
    a.out = out;
    a.kh = a.kw = rg_int(s, 0, 2) * 2 + 1;
    a.sh = a.sw = rg_int(s, 1, 2);
    a.ph = a.pw = rg_int(s, 0, a.kh / 2);
    if (rg_int(s, 0, 5) == 0)
        a.dh = a.dw = 2;
    if (rg_int(s, 0, 4) == 0 && x->shape.dim[1] % 2 == 0 && out % 2 == 0)
        a.groups = 2;
    a.bias = rg_int(s, 0, 1);
    char *p = xprintf("c%d", id);
    Value *y = ir_op(g, d, OP_CONV2D, (Loc){0}, &x, 1, &a, p);
    free(p);
    return y;
}

static Value *
rand_bn(Graph *g, Diag *d, Value *x, int id)
{
    char *p = xprintf("bn%d", id);
    Value *y = ir_op(g, d, OP_BATCHNORM, (Loc){0}, &x, 1, NULL, p);
    free(p);
    return y;
}

/* A random graph of conv/bn/relu/add/pool blocks with branches. */
Graph *
random_graph(uint64_t seed, Diag *d)
{
    uint64_t s = seed;
    Graph *g = graph_new("rand");
    Value *x = graph_input(g, "x", shape4(DIM_N, rg_int(&s, 1, 6), rg_int(&s, 6, 14), rg_int(&s, 6, 14)));
    Value *cur = x;
    int id = 0, blocks = rg_int(&s, 2, 5);
    for (int b = 0; b < blocks; b++) {
        int kind = rg_int(&s, 0, 3), out = rg_int(&s, 1, 8);
        Value *y = NULL;
        if (kind == 0) {            /* conv bn relu */
            y = rand_conv(g, d, &s, cur, out, id++);
            if (y)
                y = rand_bn(g, d, y, id++);
            if (y && rg_int(&s, 0, 1))
                y = ir_op(g, d, OP_RELU, (Loc){0}, &y, 1, NULL, NULL);
        } else if (kind == 1) {     /* residual: relu(bn(conv(x)) + skip) */
            Attrs a = attrs_default(OP_CONV2D);
            a.out = out;
            a.kh = a.kw = 3;
            a.ph = a.pw = 1;
            char *p = xprintf("c%d", id++);
            Value *h = ir_op(g, d, OP_CONV2D, (Loc){0}, &cur, 1, &a, p);
            free(p);
            h = h ? rand_bn(g, d, h, id++) : NULL;
            Value *skip = cur;
            if (out != cur->shape.dim[1] || rg_int(&s, 0, 1)) {
                a.kh = a.kw = 1;
                a.ph = a.pw = 0;
                p = xprintf("c%d", id++);
                skip = ir_op(g, d, OP_CONV2D, (Loc){0}, &cur, 1, &a, p);
                free(p);
                skip = skip ? rand_bn(g, d, skip, id++) : NULL;
            }
            if (h && skip) {
                Value *in[2] = {h, skip};
                if (rg_int(&s, 0, 1)) {
                    in[0] = skip;
                    in[1] = h;
                }
                y = ir_op(g, d, OP_ADD, (Loc){0}, in, 2, NULL, NULL);
                y = y ? ir_op(g, d, OP_RELU, (Loc){0}, &y, 1, NULL, NULL) : NULL;
            }
        } else if (kind == 2) {     /* pool */
            Attrs a = attrs_default(OP_MAXPOOL);
            a.kh = a.kw = rg_int(&s, 2, 3);
            a.sh = a.sw = rg_int(&s, 1, 2);
            a.ph = a.pw = rg_int(&s, 0, a.kh / 2);
            a.ceil_mode = rg_int(&s, 0, 1);
            y = ir_op(g, d, rg_int(&s, 0, 1) ? OP_MAXPOOL : OP_AVGPOOL, (Loc){0}, &cur, 1, &a, NULL);
        } else {                    /* a standalone batch norm, then relu */
            y = rand_bn(g, d, cur, id++);
            y = y ? ir_op(g, d, OP_RELU, (Loc){0}, &y, 1, NULL, NULL) : NULL;
        }
        if (y)
            cur = y;
        /* Sometimes also expose an intermediate value as an output. */
        if (b == 0 && cur != x && rg_int(&s, 0, 3) == 0)
            graph_output(g, "mid", cur);
    }
    if (cur == x)
        cur = ir_op(g, d, OP_RELU, (Loc){0}, &x, 1, NULL, NULL);
    graph_output(g, "y", cur);

    /* Weights with batch-norm statistics far from identity. */
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        int64_t n = shape_numel(t->shape, 1);
        t->data = xmalloc((size_t)n * sizeof(float));
        bool var = strstr(t->name, "running_var") != NULL;
        bool gamma = strncmp(t->name, "bn", 2) == 0 && strstr(t->name, ".weight");
        for (int64_t k = 0; k < n; k++)
            t->data[k] = var ? rg_float(&s, 0.5f, 2.0f) : gamma ? rg_float(&s, 0.5f, 1.5f) : rg_float(&s, -0.5f, 0.5f);
    }
    return g;
}

