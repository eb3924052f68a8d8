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
#include <stdio.h>
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

/*
 * Winograd F(m x m,3x3): for each output channel co and input channel ci
 * the 3x3 kernel g becomes the a x a (a = m + 2) U = G g G^T, with
 *
 *   F(2x2,3x3), a = 4                 F(4x4,3x3), a = 6 (Lavin and Gray)
 *
 *         | 1    0    0  |                  |  1/4    0     0   |
 *     G = | 1/2  1/2  1/2|                  | -1/6  -1/6  -1/6  |
 *         | 1/2 -1/2  1/2|              G = | -1/6   1/6  -1/6  |
 *         | 0    0    1  |                  |  1/24  1/12  1/6  |
 *                                           |  1/24 -1/12  1/6  |
 *                                           |  0      0     1   |
 *
 * stored as a^2 matrices, one per position t of U, each packed like a GEMM
 * weight: [blocks of mr output channels][ci][mr].  Computed in double and
 * rounded to float once.
 */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

static Tensor *
pack_winograd(Graph *g, const Node *n, Tensor *w, int m)
{
    const double(*G)[3] = m == 2 ? G2 : G4;
    int a = m + 2, P = a * a, mr = n->sched.reg_co;
    int64_t cout = w->shape.dim[0], cin = w->shape.dim[1], tiles = (cout + mr - 1) / mr;
    char *name = m == 2 ? xprintf("%s.winograd", w->name) : xprintf("%s.winograd%d", w->name, m);
    Tensor *p = graph_tensor(g, name, (Shape){4, {P, tiles, cin, mr}}, w->loc);
    free(name);
    p->trainable = w->trainable;
    p->pack_mr = mr;
    p->winograd = m;
    p->logical = w->shape;
    p->from = w;
    p->origin = xprintf("%s as Winograd F(%dx%d,3x3) U = G g G^T, [%d][%lld][%lld][%d]", w->name, m, m, P,
                        (long long)tiles, (long long)cin, mr);
    if (!w->data)
        return p;
    p->data = xcalloc((size_t)(P * tiles * cin * mr), sizeof(float));
    for (int64_t co = 0; co < cout; co++)
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *k = w->data + (co * cin + ci) * 9;
            double gk[6][3], u[6][6];
            for (int i = 0; i < a; i++)     /* G g */
                for (int j = 0; j < 3; j++)
                    gk[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
            for (int i = 0; i < a; i++)     /* (G g) G^T */
                for (int j = 0; j < a; j++)
                    u[i][j] = gk[i][0] * G[j][0] + gk[i][1] * G[j][1] + gk[i][2] * G[j][2];
            for (int t = 0; t < P; t++)
                p->data[((t * tiles + co / mr) * cin + ci) * mr + co % mr] = (float)u[t / a][t % a];
        }
    return p;
}

char *
pack_weights(Graph *g)
{
    int packed = 0, winograd = 0, winograd4 = 0;
    int64_t bytes = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        Tensor *w = n->param[P_WEIGHT];
        if (n->op != OP_CONV2D || n->sched.reg_co <= 0 || w->pack_mr || w->from)
            continue;
        Tensor *p;
        if (n->sched.algo == ALGO_GEMM || n->sched.algo == ALGO_DIRECT) {
            p = pack(g, n, w);
        } else if (n->sched.algo == ALGO_WINOGRAD2) {
            p = pack_winograd(g, n, w, 2);
            winograd++;
        } else if (n->sched.algo == ALGO_WINOGRAD4) {
            p = pack_winograd(g, n, w, 4);
            winograd4++;
        } else {
            continue;
        }
        n->param[P_WEIGHT] = p;
        packed++;
        bytes += shape_numel(p->shape, 1) * (int64_t)sizeof(float);
    }
    if (!packed)
        return NULL;
    char four[64] = "";
    if (winograd4)
        snprintf(four, sizeof four, " and %d as Winograd F(4x4,3x3)", winograd4);
    return xprintf("%d convolution weights packed in blocks of output channels, %d of them as "
                   "Winograd F(2x2,3x3)%s (%.1f MiB)", packed, winograd, four,
                   bytes / 1048576.0);
}
