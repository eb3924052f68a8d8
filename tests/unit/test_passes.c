/*
 * test_passes.c — every pass preserves meaning, checked with the reference
 * interpreter on randomly generated graphs: run, apply one pass, run again,
 * compare within 1e-5 of the largest output magnitude.  Also the memory
 * plan's invariant: no two buffers live at the same step overlap.
 */
#include <math.h>

#include "frontend.h"
#include "interp.h"
#include "passes.h"
#include "safetensors_write.h"
#include "randgraph.h"
#include "testutil.h"

typedef struct Run {
    int nout;
    float *out[4];
    int64_t numel[4];
} Run;

static Run
run_graph(const Graph *g, const float *input, int batch)
{
    Run r = {g->outputs.n, {0}, {0}};
    Diag d;
    diag_init(&d, stderr);
    const float *ins[1] = {input};
    ck_assert_msg(interp_run(g, batch, ins, r.out, &d), "interpreter failed");
    for (int i = 0; i < r.nout; i++)
        r.numel[i] = shape_numel(((Value *)g->outputs.v[i])->shape, batch);
    return r;
}

static void
run_free(Run *r)
{
    for (int i = 0; i < r->nout; i++)
        free(r->out[i]);
}

static void
assert_close(const Run *ref, const Run *got, const char *pass, uint64_t seed)
{
    ck_assert_int_eq(ref->nout, got->nout);
    for (int i = 0; i < ref->nout; i++) {
        ck_assert_int_eq(ref->numel[i], got->numel[i]);
        double maxref = 0, maxdiff = 0;
        for (int64_t k = 0; k < ref->numel[i]; k++) {
            maxref = fmax(maxref, fabs(ref->out[i][k]));
            maxdiff = fmax(maxdiff, fabs((double)ref->out[i][k] - got->out[i][k]));
        }
        ck_assert_msg(maxdiff <= 1e-5 * maxref, "%s changed output %d of graph %llu: max diff %g, max %g",
                      pass, i, (unsigned long long)seed, maxdiff, maxref);
    }
}

/* No two buffers live at the same step may overlap. */
static void
assert_plan_sound(const Graph *g)
{
    int nn = g->nodes.n;
    for (int i = 0; i < nn; i++) {
        Node *a = g->nodes.v[i];
        if (a->out->external)
            continue;
        ck_assert_int_ge(a->out->offset, 0);
        ck_assert_int_eq(a->out->offset % 64, 0);
        /* a is live from i to its last use */
        int aend = i;
        for (int k = i + 1; k < nn; k++)
            for (int m = 0; m < ((Node *)g->nodes.v[k])->nin; m++)
                if (((Node *)g->nodes.v[k])->in[m] == a->out)
                    aend = k;
        for (int j = i + 1; j <= aend && j < nn; j++) {
            Node *b = g->nodes.v[j];
            if (b->out->external)
                continue;
            /* b is written at j while a is still needed (unless j is a's last
             * read by an in-place elementwise op writing over a). */
            bool inplace = j == aend && b->out->offset == a->out->offset &&
                           (b->op == OP_RELU || b->op == OP_ADD || b->op == OP_SCALESHIFT ||
                            b->op == OP_BATCHNORM);
            if (inplace)
                continue;
            bool overlap = a->out->offset < b->out->offset + b->out->bytes &&
                           b->out->offset < a->out->offset + a->out->bytes;
            ck_assert_msg(!overlap, "%s and %s overlap while both live", a->name, b->name);
        }
    }
}

typedef struct PassCheck {
    const float *x;     /* the input */
    int batch;
    const Run *ref;     /* the output before any pass */
    uint64_t seed;      /* of the graph, for messages */
    int passes;         /* passes seen */
} PassCheck;

static void
after_pass(Graph *g, const char *pass, void *arg)
{
    PassCheck *c = arg;
    Run got = run_graph(g, c->x, c->batch);
    assert_close(c->ref, &got, pass, c->seed);
    run_free(&got);
    c->passes++;
}

/* Runs the pipeline; after each pass the output must still be ref's. */
static void
check_each_pass(Graph *g, const float *x, int batch, const Run *ref, uint64_t seed)
{
    PassCheck c = {x, batch, ref, seed, 0};
    PipelineOptions o = {.out = stdout, .target = target_find("x86-64-v4"), .after = after_pass,
                         .after_arg = &c};
    ck_assert(run_pipeline(g, &o));
    int npasses = 0;
    while (pass_names[npasses])
        npasses++;
    ck_assert_int_eq(c.passes, npasses);
}

START_TEST(random_graphs_keep_meaning)
{
    int tried = 0;
    for (uint64_t seed = 1; tried < 60; seed++) {
        Diag d;
        FILE *null = fopen("/dev/null", "w");
        diag_init(&d, null);
        Graph *g = random_graph(seed * 7919, &d);
        fclose(null);
        if (d.nerrors) {        /* a random shape that does not fit: skip it */
            graph_free(g);
            continue;
        }
        tried++;
        graph_verify(g, "generator");
        uint64_t s = seed;
        int batch = rg_int(&s, 1, 3);
        Value *in = g->inputs.v[0];
        int64_t n = shape_numel(in->shape, batch);
        float *x = xmalloc((size_t)n * sizeof *x);
        for (int64_t k = 0; k < n; k++)
            x[k] = rg_float(&s, -2, 2);
        Run ref = run_graph(g, x, batch);
        check_each_pass(g, x, batch, &ref, seed);
        assert_plan_sound(g);
        run_free(&ref);
        free(x);
        graph_free(g);
    }
}
END_TEST

/* After fold_bn and fuse_epilogue a residual block is a single conv chain. */
START_TEST(residual_block_fuses_fully)
{
    Diag d;
    diag_init(&d, stderr);
    Graph *g = graph_new("res");
    Value *x = graph_input(g, "x", shape4(DIM_N, 4, 6, 6));
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 4;
    a.kh = a.kw = 3;
    a.ph = a.pw = 1;
    Value *h = ir_op(g, &d, OP_CONV2D, (Loc){0}, &x, 1, &a, "c1");
    h = ir_op(g, &d, OP_BATCHNORM, (Loc){0}, &h, 1, NULL, "b1");
    Value *in[2] = {h, x};
    Value *y = ir_op(g, &d, OP_ADD, (Loc){0}, in, 2, NULL, NULL);
    y = ir_op(g, &d, OP_RELU, (Loc){0}, &y, 1, NULL, NULL);
    graph_output(g, "y", y);
    char *s1 = fold_bn(g);
    graph_recount(g);
    char *s2 = fuse_epilogue(g);
    graph_recount(g);
    graph_verify(g, "test");
    ck_assert_str_eq(s1, "1 batch norms folded into convolutions, 0 made scale_shift");
    ck_assert_str_eq(s2, "1 adds and 1 relus fused into convolutions");
    ck_assert_int_eq(g->nodes.n, 1);
    Node *c = g->nodes.v[0];
    ck_assert_int_eq(c->epi, EPI_ADD | EPI_RELU);
    ck_assert_ptr_eq(c->in[1], x);
    ck_assert_str_eq(c->param[P_WEIGHT]->name, "c1.weight.folded");
    ck_assert_ptr_nonnull(strstr(c->origin, "bn b1"));
    ck_assert_ptr_null(fuse_epilogue(g));   /* nothing left: says so */
    free(s1);
    free(s2);
    graph_free(g);
}
END_TEST

/*
 * The VisE graph itself, pass by pass.  The example is read as written but
 * with a 64 x 64 input, which keeps every layer and every shape rule (the
 * output is [N, 2048, 2, 2]) at a twelfth of the arithmetic.
 */
START_TEST(vise_graph_keeps_meaning)
{
    char *text = slurp("examples/vise_resnet50.vise", NULL);
    char *at = strstr(text, "[N, 3, 224, 224]");
    ck_assert_ptr_nonnull(at);
    memcpy(at, "[N, 3,  64,  64]", 16);
    Diag d;
    diag_init(&d, stderr);
    Source *src = NULL;
    Graph *g = frontend_load_string("examples/vise_resnet50.vise", text, &d, &src);
    ck_assert_ptr_nonnull(g);
    weights_synthesize(g, 5);
    uint64_t s = 99;
    const int batch = 2;
    int64_t n = shape_numel(((Value *)g->inputs.v[0])->shape, batch);
    float *x = xmalloc((size_t)n * sizeof *x);
    for (int64_t k = 0; k < n; k++)
        x[k] = rg_float(&s, -2, 2);
    Run ref = run_graph(g, x, batch);
    check_each_pass(g, x, batch, &ref, 0);
    GraphStats st = graph_stats(g);
    ck_assert_int_eq(st.count[OP_CONV2D], 53);
    ck_assert_int_eq(st.count[OP_MAXPOOL], 1);
    ck_assert_int_eq(g->nodes.n, 54);
    assert_plan_sound(g);
    MemPlan m = memory_plan_figures(g);
    ck_assert_msg(m.arena * 4 <= m.lower_bound * 5, "arena %lld is over 1.25x the bound %lld",
                  (long long)m.arena, (long long)m.lower_bound);
    run_free(&ref);
    free(x);
    free(text);
    graph_free(g);
    source_free(src);
}
END_TEST

Suite *suite_passes(void)
{
    return suite_of("passes", tcase_of("meaning", 600, TESTS(residual_block_fuses_fully,
                                       random_graphs_keep_meaning, vise_graph_keeps_meaning)));
}
