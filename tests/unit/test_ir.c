/*
 * test_ir.c — shape inference, attribute checks, parameters, stats, printer
 * and verifier of the graph IR, built directly with ir_op().
 */
#include <signal.h>

#include "testutil.h"

static const Source src_stub = {.path = "m.vise", .text = "line one\n  conv here\n", .len = 20, .next = NULL};

static Loc
at(int line, int col)
{
    return (Loc){&src_stub, line, col, 1};
}

/* Each test's graph "m" and the diagnostics it reports to, made by setup()
 * and freed by teardown(). */
static Graph *g;
static TestDiag t;

static void
setup(void)
{
    td_init(&t);
    g = graph_new("m");
}

static void
teardown(void)
{
    graph_free(g);
    td_free(&t);
}

/* A conv2d of x in g, reporting to d. */
static Value *
conv(Diag *d, Value *x, const char *prefix, int out, int k, int s, int p)
{
    Attrs a = attrs_default(OP_CONV2D);
    a.out = out;
    a.kh = a.kw = k;
    a.sh = a.sw = s;
    a.ph = a.pw = p;
    return ir_op(g, d, OP_CONV2D, at(2, 3), &x, 1, &a, prefix);
}

START_TEST(conv_shapes_and_params)
{
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 224, 224));
    Value *y = conv(&t.d, x, "0", 64, 7, 2, 3);
    ck_assert_ptr_nonnull(y);
    char b[SHAPE_STRLEN];
    ck_assert_str_eq(shape_str(y->shape, b, sizeof b), "[N, 64, 112, 112]");
    Tensor *w = graph_find_tensor(g, "0.weight");
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(shape_str(w->shape, b, sizeof b), "[64, 3, 7, 7]");
    ck_assert(w->trainable);
    ck_assert_ptr_null(graph_find_tensor(g, "0.bias"));
    ck_assert_int_eq(node_macs(y->def), 118013952);
    ck_assert_int_eq(t.d.nerrors, 0);
}
END_TEST

START_TEST(pool_ceil_mode)
{
    Value *x = graph_input(g, "x", shape4(DIM_N, 8, 112, 112));
    Attrs a = attrs_default(OP_MAXPOOL);
    a.kh = a.kw = 3;
    a.sh = a.sw = 2;
    a.ph = a.pw = 1;
    Value *y = ir_op(g, &t.d, OP_MAXPOOL, at(2, 3), &x, 1, &a, NULL);
    ck_assert_int_eq(y->shape.dim[2], 56);
    /* 6 -> ceil((6-3)/2)+1 = 3 with ceil_mode, 2 without. */
    Value *z = graph_input(g, "z", shape4(DIM_N, 1, 6, 6));
    a.ph = a.pw = 0;
    a.ceil_mode = true;
    ck_assert_int_eq(ir_op(g, &t.d, OP_MAXPOOL, at(2, 3), &z, 1, &a, NULL)->shape.dim[2], 3);
    a.ceil_mode = false;
    ck_assert_int_eq(ir_op(g, &t.d, OP_MAXPOOL, at(2, 3), &z, 1, &a, NULL)->shape.dim[2], 2);
}
END_TEST

START_TEST(add_shape_mismatch_names_both)
{
    Value *in[2] = {graph_input(g, "a", shape4(DIM_N, 256, 56, 56)),
                    graph_input(g, "b", shape4(DIM_N, 512, 28, 28))};
    ck_assert_ptr_null(ir_op(g, &t.d, OP_ADD, at(2, 3), in, 2, NULL, NULL));
    ck_assert_str_eq(td_text(&t), "m.vise:2:3: error: add: shapes [N, 256, 56, 56] and [N, 512, 28, 28] differ\n"
                                  "    conv here\n"
                                  "    ^\n");
    ck_assert_int_eq(g->nodes.n, 0);
}
END_TEST

START_TEST(bad_attributes)
{
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 8, 8));
    ck_assert_ptr_null(conv(&t.d, x, "c", 0, 3, 1, 1));
    ck_assert_ptr_null(conv(&t.d, x, "c", 4, 9, 1, 0));     /* empty output */
    ck_assert_ptr_null(conv(&t.d, x, "c", 4, 3, 0, 1));     /* zero stride */
    ck_assert_int_eq(t.d.nerrors, 3);
    const char *s = td_text(&t);
    ck_assert_ptr_nonnull(strstr(s, "conv2d: output channels must be positive, got 0"));
    ck_assert_ptr_nonnull(strstr(s, "conv2d: input [N, 3, 8, 8] with kernel 9x9, stride 1, padding 0 gives an empty 0x0 output"));
    ck_assert_ptr_nonnull(strstr(s, "conv2d: stride must be positive, got 0"));
}
END_TEST

START_TEST(param_shape_conflict)
{
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 8, 8));
    ck_assert_ptr_nonnull(conv(&t.d, x, "c", 4, 3, 1, 1));
    ck_assert_ptr_nonnull(conv(&t.d, x, "c", 4, 3, 1, 1));   /* shared weights: fine */
    ck_assert_ptr_null(conv(&t.d, x, "c", 5, 3, 1, 1));
    ck_assert_ptr_nonnull(strstr(td_text(&t), "tensor 'c.weight' is needed with shape [5, 3, 3, 3] here but with [4, 3, 3, 3]"));
}
END_TEST

START_TEST(stats_and_print)
{
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 8, 8));
    Value *y = conv(&t.d, x, "c", 4, 3, 1, 1);
    y = ir_op(g, &t.d, OP_BATCHNORM, at(2, 3), &y, 1, NULL, "bn");
    y = ir_op(g, &t.d, OP_RELU, at(2, 3), &y, 1, NULL, NULL);
    graph_output(g, "y", y);
    graph_verify(g, "test");
    GraphStats s = graph_stats(g);
    ck_assert_int_eq(s.count[OP_CONV2D], 1);
    ck_assert_int_eq(s.params, 4 * 3 * 9 + 8);
    ck_assert_int_eq(s.buffers, 8);
    ck_assert_int_eq(s.macs, 4 * 8 * 8 * 27);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    graph_print(f, g);
    fclose(f);
    ck_assert_str_eq(buf, "model m\n"
                          "  input %0 x [N, 3, 8, 8]\n"
                          "  %1 [N, 4, 8, 8] = conv2d %0 out=4 kernel=3x3 stride=1x1 pad=1x1  ; c line 2\n"
                          "      weight = c.weight\n"
                          "  %2 [N, 4, 8, 8] = batchnorm %1 eps=1e-05  ; bn line 2\n"
                          "      weight = bn.weight\n"
                          "      bias = bn.bias\n"
                          "      running_mean = bn.running_mean\n"
                          "      running_var = bn.running_var\n"
                          "  %3 [N, 4, 8, 8] = relu %2  ; relu_2 line 2\n"
                          "  output y = %3\n");
    free(buf);
}
END_TEST

/* The verifier aborts on a broken graph: a node reading a value computed later. */
START_TEST(verifier_catches_order)
{
    Diag d;
    diag_init(&d, stderr);
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 8, 8));
    Value *a = ir_op(g, &d, OP_RELU, (Loc){0}, &x, 1, NULL, NULL);
    Value *b = ir_op(g, &d, OP_RELU, (Loc){0}, &a, 1, NULL, NULL);
    graph_output(g, "y", b);
    graph_move_node(g, b->def, 0);
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));  /* the expected report */
    graph_verify(g, "test");
}
END_TEST

Suite *suite_ir(void)
{
    TCase *tc = tcase_of("shapes", 0, TESTS(conv_shapes_and_params, pool_ceil_mode,
                         add_shape_mismatch_names_both, bad_attributes, param_shape_conflict,
                         stats_and_print));
    tcase_add_test_raise_signal(tc, verifier_catches_order, SIGABRT);
    tcase_add_checked_fixture(tc, setup, teardown);
    return suite_of("ir", tc);
}
