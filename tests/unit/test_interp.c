/*
 * test_interp.c — the reference interpreter against hand-computed cases.
 *
 * Each test builds a small graph with ir_op(), fills its weights, runs it
 * and compares with values worked out by hand (comments show the sums).
 */
#include "interp.h"
#include "testutil.h"

static const Loc noloc;

static Value *
input4(Graph *g, int64_t c, int64_t h, int64_t w)
{
    return graph_input(g, "x", shape4(DIM_N, c, h, w));
}

static Node *
last_node(Graph *g)
{
    return GRAPH_NODE(g, g->nodes.n - 1);
}

/* Copies the tensor's contents from v (shape_numel floats). */
static void
fill(Tensor *t, const float *v)
{
    ck_assert_ptr_nonnull(t);
    size_t n = (size_t)shape_numel(t->shape, 1);
    t->data = xmalloc(n * sizeof(float));
    memcpy(t->data, v, n * sizeof(float));
}

/* Makes a compiler-owned per-channel tensor for scale_shift. */
static Tensor *
channel_tensor(Graph *g, Node *n, ParamRole role, const char *name, int64_t c, const float *v)
{
    Tensor *t = graph_tensor(g, name, (Shape){1, {c}}, noloc);
    t->origin = xstrdup("test");
    fill(t, v);
    n->param[role] = t;
    t->refs++;
    return t;
}

static void
expect(const float *y, const float *want, int n, double tol)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs((double)y[i] - want[i]) <= tol, "element %d: got %.9g, want %.9g", i,
                      (double)y[i], (double)want[i]);
}

/* Runs g (one input, one output) on batch images in and expects want[0..n)
 * within tol; frees the output and g. */
static void
check_run(Graph *g, int batch, const float *in, const float *want, int n, double tol)
{
    float *out = interp1(g, batch, in);
    expect(out, want, n, tol);
    free(out);
    graph_free(g);
}

/* v[i] = sign * i for i < n. */
static void
ramp(float *v, int n, int sign)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)(sign * i);
}

/* Fills the weight, bias, mean and variance of the batchnorm n. */
static void
fill_batchnorm(Node *n, const float *w, const float *b, const float *m, const float *v)
{
    fill(n->param[P_WEIGHT], w);
    fill(n->param[P_BIAS], b);
    fill(n->param[P_MEAN], m);
    fill(n->param[P_VAR], v);
}

/* ---------------------------------------------------------------- conv2d */

START_TEST(conv_pad1)
{
    /* 3x3 all-ones kernel, padding 1, bias 0.5: each output is the sum of
     * the in-range 3x3 neighbourhood of x = 1..9, plus 0.5. */
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 3, 3);
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 1, a.kh = a.kw = 3, a.ph = a.pw = 1, a.bias = true;
    Value *y = op(g, OP_CONV2D, &x, 1, &a, "c");
    graph_output(g, "y", y);
    float w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, b[1] = {0.5f};
    fill(last_node(g)->param[P_WEIGHT], w);
    fill(last_node(g)->param[P_BIAS], b);
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float want[9] = {12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5};
    check_run(g, 1, in, want, 9, 0);
}
END_TEST

START_TEST(conv_stride2)
{
    /* x[i][j] = 4i + j on 4x4; 3x3 ones, stride 2, padding 1 -> 2x2:
     * (0,0) rows 0-1 cols 0-1: 0+1+4+5 = 10
     * (0,1) rows 0-1 cols 1-3: 1+2+3+5+6+7 = 24
     * (1,0) rows 1-3 cols 0-1: 4+5+8+9+12+13 = 51
     * (1,1) rows 1-3 cols 1-3: 5+6+7+9+10+11+13+14+15 = 90 */
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 4, 4);
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 1, a.kh = a.kw = 3, a.sh = a.sw = 2, a.ph = a.pw = 1;
    graph_output(g, "y", op(g, OP_CONV2D, &x, 1, &a, "c"));
    float w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    fill(last_node(g)->param[P_WEIGHT], w);
    float in[16];
    ramp(in, 16, 1);
    float want[4] = {10, 24, 51, 90};
    check_run(g, 1, in, want, 4, 0);
}
END_TEST

START_TEST(conv_dilation)
{
    /* 2x2 kernel, dilation 2 on 3x3 x = 1..9: taps x[0][0], x[0][2], x[2][0],
     * x[2][2] = 1, 3, 7, 9 with weights 1, 10, 100, 1000 -> 9731. */
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 3, 3);
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 1, a.kh = a.kw = 2, a.dh = a.dw = 2;
    graph_output(g, "y", op(g, OP_CONV2D, &x, 1, &a, "c"));
    float w[4] = {1, 10, 100, 1000};
    fill(last_node(g)->param[P_WEIGHT], w);
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float want[1] = {9731};
    check_run(g, 1, in, want, 1, 0);
}
END_TEST

START_TEST(conv_groups)
{
    /* 4 channels in 2 groups, 1x1 kernel, 2 outputs: output 0 sees
     * channels 0-1 (1*1 + 2*2 = 5), output 1 sees channels 2-3 (3*3 + 4*4 = 25);
     * image 2 is image 1 times -1. */
    Graph *g = graph_new("t");
    Value *x = input4(g, 4, 1, 1);
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 2, a.groups = 2;
    graph_output(g, "y", op(g, OP_CONV2D, &x, 1, &a, "c"));
    float w[4] = {1, 2, 3, 4};
    fill(last_node(g)->param[P_WEIGHT], w);
    float in[8] = {1, 2, 3, 4, -1, -2, -3, -4};
    float want[4] = {5, 25, -5, -25};
    check_run(g, 2, in, want, 4, 0);
}
END_TEST

/* The naive formula with a bounds check per tap, for comparison. */
static float
conv_at(const float *x, const float *w, const Attrs *a, int64_t C, int64_t H, int64_t W,
        int64_t n, int64_t co, int64_t oh, int64_t ow)
{
    int64_t cig = C / a->groups, cog = a->out / a->groups, grp = co / cog;
    double s = 0;
    for (int64_t ci = 0; ci < cig; ci++)
        for (int kh = 0; kh < a->kh; kh++)
            for (int kw = 0; kw < a->kw; kw++) {
                int64_t ih = oh * a->sh - a->ph + kh * a->dh, iw = ow * a->sw - a->pw + kw * a->dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                    continue;
                s += (double)w[((co * cig + ci) * a->kh + kh) * a->kw + kw] *
                     x[((n * C + grp * cig + ci) * H + ih) * W + iw];
            }
    return (float)s;
}

START_TEST(conv_random_configs)
{
    /* Row-range arithmetic against the per-tap bounds check, over strides,
     * paddings, dilations and groups that make edges fall every which way. */
    static const int cfg[][8] = {
        /* C  out k  s  p  d  g  H(=W+1) */
        {3, 4, 3, 1, 1, 1, 1, 7},
        {3, 4, 3, 2, 1, 1, 1, 8},
        {4, 6, 3, 2, 2, 2, 2, 9},
        {6, 6, 3, 1, 1, 1, 6, 5},
        {2, 3, 7, 2, 3, 1, 1, 11},
        {4, 2, 1, 2, 0, 1, 2, 6},
        {2, 2, 2, 3, 1, 2, 1, 10},
        {1, 1, 5, 1, 4, 1, 1, 3},
    };
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        const int *c = cfg[t];
        int64_t C = c[0], H = c[7], W = c[7] - 1;
        Graph *g = graph_new("t");
        Value *x = input4(g, C, H, W);
        Attrs a = attrs_default(OP_CONV2D);
        a.out = c[1], a.kh = a.kw = c[2], a.sh = a.sw = c[3], a.ph = a.pw = c[4];
        a.dh = a.dw = c[5], a.groups = c[6];
        Value *y = op(g, OP_CONV2D, &x, 1, &a, "c");
        graph_output(g, "y", y);
        Tensor *wt = last_node(g)->param[P_WEIGHT];
        int64_t nw = shape_numel(wt->shape, 1), nx = 2 * C * H * W;
        float *w = xmalloc((size_t)nw * sizeof *w), *in = xmalloc((size_t)nx * sizeof *in);
        for (int64_t i = 0; i < nw; i++)
            w[i] = (float)((i * 7 % 13) - 6) / 4;
        for (int64_t i = 0; i < nx; i++)
            in[i] = (float)((i * 5 % 11) - 5) / 2;
        fill(wt, w);
        float *out = interp1(g, 2, in);
        int64_t OH = y->shape.dim[2], OW = y->shape.dim[3];
        for (int64_t n = 0; n < 2; n++)
            for (int64_t co = 0; co < a.out; co++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        float want = conv_at(in, w, &a, C, H, W, n, co, oh, ow);
                        float got = out[((n * a.out + co) * OH + oh) * OW + ow];
                        ck_assert_msg(fabsf(got - want) <= 1e-5f,
                                      "config %zu at (%lld,%lld,%lld,%lld): got %g want %g", t,
                                      (long long)n, (long long)co, (long long)oh, (long long)ow,
                                      (double)got, (double)want);
                    }
        free(w);
        free(in);
        free(out);
        graph_free(g);
    }
}
END_TEST

/* conv 1x1, weight 2, bias -1 on x = 1, -2, 3, -4 with residual r. */
static float *
epilogue_case(unsigned epi)
{
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 2, 2);
    Value *r = graph_input(g, "r", shape4(DIM_N, 1, 2, 2));
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 1, a.bias = true;
    Value *in[2] = {x, r};
    graph_output(g, "y", op(g, OP_CONV2D, in, (epi & EPI_ADD) ? 2 : 1, &a, "c"));
    last_node(g)->epi = epi;
    float w[1] = {2}, b[1] = {-1};
    fill(last_node(g)->param[P_WEIGHT], w);
    fill(last_node(g)->param[P_BIAS], b);
    float xs[4] = {1, -2, 3, -4}, rs[4] = {0.5f, 10, -10, 2};
    const float *ins[2] = {xs, rs};
    float *out[1];
    TestDiag td;
    td_init(&td);
    ck_assert(interp_run(g, 1, ins, out, &td.d));
    td_free(&td);
    graph_free(g);
    return out[0];
}

START_TEST(conv_epilogues)
{
    static const struct {
        unsigned epi;
        float want[4];
    } cases[] = {
        {0, {1, -5, 5, -9}},                    /* conv: 2x - 1 */
        {EPI_RELU, {1, 0, 5, 0}},
        {EPI_ADD, {1.5f, 5, -5, -7}},           /* + r */
        /* add first, then relu: relu(-5 + 10) = 5 (relu first would give 10) */
        {EPI_ADD | EPI_RELU, {1.5f, 5, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float *y = epilogue_case(cases[i].epi);
        expect(y, cases[i].want, 4, 0);
        free(y);
    }
}
END_TEST

/* ---------------------------------------------------------------- affine */

START_TEST(batchnorm_4d)
{
    /* eps 0.5, var 3.5 and 0.5: sqrt(var + eps) = 2 and 1.
     * ch 0: (x - 1) / 2 * 2 + 1   on 3, 5  -> 3, 5
     * ch 1: (x - 2) / 1 * 0.5 - 1 on 4, 0  -> 0, -2 */
    Graph *g = graph_new("t");
    Value *x = input4(g, 2, 1, 2);
    Attrs a = attrs_default(OP_BATCHNORM);
    a.eps = 0.5;
    graph_output(g, "y", op(g, OP_BATCHNORM, &x, 1, &a, "bn"));
    Node *n = last_node(g);
    float w[2] = {2, 0.5f}, b[2] = {1, -1}, m[2] = {1, 2}, v[2] = {3.5f, 0.5f};
    fill_batchnorm(n, w, b, m, v);
    float in[8] = {3, 5, 4, 0, 1, 1, 2, 2};
    float want[8] = {3, 5, 0, -2, 1, 1, -1, -1};
    check_run(g, 2, in, want, 8, 1e-6);
}
END_TEST

START_TEST(batchnorm_2d)
{
    /* [N, C] input: the same per-feature formula. eps 1e-5 on var 1 - 1e-5. */
    Graph *g = graph_new("t");
    Value *x = graph_input(g, "x", (Shape){2, {DIM_N, 2}});
    Attrs a = attrs_default(OP_BATCHNORM);
    graph_output(g, "y", op(g, OP_BATCHNORM, &x, 1, &a, "bn"));
    Node *n = last_node(g);
    float w[2] = {3, 1}, b[2] = {0, 1}, m[2] = {1, 0}, v[2] = {1 - 1e-5f, 1 - 1e-5f};
    fill_batchnorm(n, w, b, m, v);
    float in[2] = {2, 2};
    float want[2] = {3, 3};
    check_run(g, 1, in, want, 2, 1e-5);
}
END_TEST

START_TEST(scale_shift)
{
    /* y = x * s[c] + t[c]: s = 2, -1; t = 0.5, 3 */
    Graph *g = graph_new("t");
    Value *x = input4(g, 2, 1, 2);
    Attrs a = attrs_default(OP_SCALESHIFT);
    graph_output(g, "y", op(g, OP_SCALESHIFT, &x, 1, &a, NULL));
    Node *n = last_node(g);
    float s[2] = {2, -1}, t[2] = {0.5f, 3};
    channel_tensor(g, n, P_WEIGHT, "scale", 2, s);
    channel_tensor(g, n, P_BIAS, "shift", 2, t);
    float in[4] = {1, 2, 3, 4};
    float want[4] = {2.5f, 4.5f, 0, -1};
    check_run(g, 1, in, want, 4, 0);
}
END_TEST

/* ---------------------------------------------------------------- elementwise */

START_TEST(relu_add)
{
    /* y = relu(x) + x */
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 1, 4);
    Value *r = op(g, OP_RELU, &x, 1, NULL, NULL);
    Value *in[2] = {r, x};
    graph_output(g, "y", op(g, OP_ADD, in, 2, NULL, NULL));
    float xs[4] = {-2, -0.5f, 0, 3};
    float want[4] = {-2, -0.5f, 0, 6};
    check_run(g, 1, xs, want, 4, 0);
}
END_TEST

/* ---------------------------------------------------------------- pools */

/* The pool o of one hw x hw plane in: an out_hw x out_hw output equal to
 * want within tol. */
static void
check_pool(Op o, int64_t hw, int k, int s, int p, bool ceil_mode, const float *in, int64_t out_hw,
           const float *want, double tol)
{
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, hw, hw);
    Attrs a = attrs_default(o);
    a.kh = a.kw = k, a.sh = a.sw = s, a.ph = a.pw = p, a.ceil_mode = ceil_mode;
    Value *y = op(g, o, &x, 1, &a, NULL);
    graph_output(g, "y", y);
    ck_assert_int_eq(y->shape.dim[2], out_hw);
    check_run(g, 1, in, want, (int)(out_hw * out_hw), tol);
}

START_TEST(maxpool_pad_is_minus_inf)
{
    /* x = -(4i + j) on 4x4, k3 s2 p1: zero padding would give 0 everywhere;
     * -inf padding gives the max over the in-range part: 0, -1, -4, -5. */
    float in[16];
    ramp(in, 16, -1);
    float want[4] = {0, -1, -4, -5};
    check_pool(OP_MAXPOOL, 4, 3, 2, 1, false, in, 2, want, 0);
}
END_TEST

START_TEST(maxpool_ceil)
{
    /* x = 5i + j on 5x5, k2 s2 ceil_mode: 3x3, the last row and column of
     * windows hang over the edge and see only row/column 4. */
    float in[25];
    ramp(in, 25, 1);
    float want[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    check_pool(OP_MAXPOOL, 5, 2, 2, 0, true, in, 3, want, 0);
}
END_TEST

START_TEST(avgpool_ceil_pad)
{
    /* x = 4i + j on 4x4, k3 s2 p1 ceil_mode: 3x3 outputs.  Windows along an
     * axis: [-1,2) size 3, [1,4) size 3, [3,5) size 2 (limited to in + pad).
     * Padding counts in the divisor, the overhang past it does not:
     * (0,0) (0+1+4+5)/9;  (0,2) (3+7)/6;  (2,2) 15/4;  (1,1) 90/9;  (1,2) (7+11+15)/6 */
    float in[16];
    ramp(in, 16, 1);
    float want[9] = {10.0f / 9, 24.0f / 9, 10.0f / 6, 51.0f / 9, 10, 33.0f / 6,
                     25.0f / 6, 42.0f / 6, 15.0f / 4};
    check_pool(OP_AVGPOOL, 4, 3, 2, 1, true, in, 3, want, 1e-6);
}
END_TEST

START_TEST(gap_flatten_linear)
{
    /* gap over 2x2 planes: ch 0 = 1,2,3,4 -> 2.5; ch 1 = 2,4,6,8 -> 5.
     * flatten -> [2.5, 5]; linear W = [[1, 2], [0, -1], [4, 0]], b = [0.5, -0.5, 0]
     * -> 2.5 + 10 + 0.5 = 13, -5 - 0.5 = -5.5, 10 */
    Graph *g = graph_new("t");
    Value *x = input4(g, 2, 2, 2);
    Value *v = op(g, OP_GAP, &x, 1, NULL, NULL);
    ck_assert_int_eq(v->shape.dim[2], 1);
    v = op(g, OP_FLATTEN, &v, 1, NULL, NULL);
    Attrs a = attrs_default(OP_LINEAR);
    a.out = 3, a.bias = true;
    graph_output(g, "y", op(g, OP_LINEAR, &v, 1, &a, "fc"));
    float w[6] = {1, 2, 0, -1, 4, 0}, b[3] = {0.5f, -0.5f, 0};
    fill(last_node(g)->param[P_WEIGHT], w);
    fill(last_node(g)->param[P_BIAS], b);
    float in[16] = {1, 2, 3, 4, 2, 4, 6, 8, /* image 2: */ 0, 0, 0, 0, 1, 1, 1, 1};
    float want[6] = {13, -5.5f, 10, /* [0, 1] */ 2.5f, -1.5f, 0};
    check_run(g, 2, in, want, 6, 1e-6);
}
END_TEST

START_TEST(flatten_identity)
{
    /* flatten keeps NCHW order. */
    Graph *g = graph_new("t");
    Value *x = input4(g, 2, 1, 3);
    graph_output(g, "y", op(g, OP_FLATTEN, &x, 1, NULL, NULL));
    float in[6] = {1, 2, 3, 4, 5, 6};
    check_run(g, 1, in, in, 6, 0);
}
END_TEST

/* ---------------------------------------------------------------- graph-level */

START_TEST(outputs_are_copies)
{
    /* The input named as an output, and one value named twice: each output
     * is a separate buffer, and nothing leaks (ASan). */
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 1, 2);
    Value *r = op(g, OP_RELU, &x, 1, NULL, NULL);
    Value *dead = op(g, OP_RELU, &r, 1, NULL, NULL);   /* computed, never read */
    (void)dead;
    graph_output(g, "a", x);
    graph_output(g, "b", r);
    graph_output(g, "c", r);
    float xs[2] = {-1, 2};
    const float *in[1] = {xs};
    float *out[3];
    TestDiag td;
    td_init(&td);
    ck_assert(interp_run(g, 1, in, out, &td.d));
    ck_assert_ptr_ne(out[0], xs);
    ck_assert_ptr_ne(out[1], out[2]);
    float wa[2] = {-1, 2}, wb[2] = {0, 2};
    expect(out[0], wa, 2, 0);
    expect(out[1], wb, 2, 0);
    expect(out[2], wb, 2, 0);
    for (int i = 0; i < 3; i++)
        free(out[i]);
    td_free(&td);
    graph_free(g);
}
END_TEST

/* interp_run() of g (one input xs, one output) on batch images must fail
 * and leave no output; td gets what it reported. */
static void
run_fails(Graph *g, int batch, const float *xs, TestDiag *td)
{
    const float *in[1] = {xs};
    float *out[1] = {NULL};
    td_init(td);
    ck_assert(!interp_run(g, batch, in, out, &td->d));
    ck_assert_ptr_null(out[0]);
}

START_TEST(missing_weights)
{
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 2, 2);
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 1;
    graph_output(g, "y", op(g, OP_CONV2D, &x, 1, &a, "4.0.conv1"));
    float xs[4] = {0};
    TestDiag td;
    run_fails(g, 1, xs, &td);
    ck_assert_int_eq(td.d.nerrors, 1);
    ck_assert_ptr_nonnull(strstr(td_text(&td),
                                 "conv2d: tensor '4.0.conv1.weight' has no data (weights not bound)"));
    td_free(&td);
    graph_free(g);
}
END_TEST

START_TEST(bad_batch)
{
    Graph *g = graph_new("t");
    Value *x = input4(g, 1, 1, 1);
    graph_output(g, "y", op(g, OP_RELU, &x, 1, NULL, NULL));
    float xs[1] = {0};
    TestDiag td;
    run_fails(g, 0, xs, &td);
    ck_assert_str_eq(td_text(&td), "visec: error: batch size 0 is out of range (1 to 65536)\n");
    td_free(&td);
    graph_free(g);
}
END_TEST

Suite *suite_interp(void)
{
    return suite_of("interp", tcase_of("ops", 0, TESTS(conv_pad1, conv_stride2, conv_dilation,
                                       conv_groups, conv_random_configs, conv_epilogues,
                                       batchnorm_4d, batchnorm_2d, scale_shift, relu_add,
                                       maxpool_pad_is_minus_inf, maxpool_ceil, avgpool_ceil_pad,
                                       gap_flatten_linear, flatten_identity, outputs_are_copies,
                                       missing_weights, bad_batch)));
}
