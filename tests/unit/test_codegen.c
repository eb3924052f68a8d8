/*
 * test_codegen.c — the C emitter on small graphs.
 *
 * Each test builds a graph with ir_op(), fills its weights with seeded
 * values, emits C, compiles it with `cc -std=c99 -pedantic -Werror` (with
 * and without OpenMP), runs it through a small driver and compares with
 * the reference interpreter.  Also: the weights file is refused when
 * corrupt or made for another build, output is byte-identical across runs,
 * and unsupported graphs are reported.
 */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen.h"
#include "interp.h"
#include "passes.h"
#include "randgraph.h"
#include "testutil.h"

static const Loc noloc;

/* ------------------------------------------------------------------ graphs */

static uint32_t rng_state;

static float
rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;     /* [-1, 1) */
}

static void
fill_random(Tensor *t, float lo_positive)
{
    size_t n = (size_t)shape_numel(t->shape, 1);
    t->data = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        t->data[i] = lo_positive > 0 ? lo_positive + fabsf(rnd()) : rnd();
}

/* Fills every tensor of g; running variances positive. */
static void
fill_all(Graph *g)
{
    rng_state = 12345;
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (!t->data)
            fill_random(t, strstr(t->name, "running_var") ? 0.5f : 0.0f);
    }
}

static Attrs
conv_attrs(int out, int k, int stride, int pad, int dil, int groups, bool bias)
{
    Attrs a = attrs_default(OP_CONV2D);
    a.out = out;
    a.kh = a.kw = k;
    a.sh = a.sw = stride;
    a.ph = a.pw = pad;
    a.dh = a.dw = dil;
    a.groups = groups;
    a.bias = bias;
    return a;
}

/* Convs of every kind: strided, padded, grouped, dilated, 1x1 with a fused
 * residual add and relu, blocks with tails, a hand-set schedule. */
static Graph *
conv_graph(void)
{
    Graph *g = graph_new("convs");
    Value *x = graph_input(g, "x", shape4(DIM_N, 4, 19, 17));
    Attrs a = conv_attrs(6, 3, 2, 1, 1, 2, true);
    Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "c1");
    a = conv_attrs(12, 3, 1, 2, 2, 1, false);
    Value *c2 = op(g, OP_CONV2D, &c1, 1, &a, "c2");
    c2->def->sched.reg_co = 5;      /* 12 = 5 + 5 + 2: a tail block */
    c2->def->sched.reg_pix = 4;     /* tiles of 4 pixels: 90 = 22 * 4 + 2, a tail */
    a = conv_attrs(12, 1, 1, 0, 1, 1, true);
    Value *c3 = op(g, OP_CONV2D, &c2, 1, &a, "c3");
    c3->def->sched.parallel = PAR_BATCH;
    a = conv_attrs(12, 1, 1, 0, 1, 1, true);
    Value *in2[2] = {c3, c2};
    Value *c4 = op(g, OP_CONV2D, in2, 2, &a, "c4");
    c4->def->epi = EPI_ADD | EPI_RELU;
    c4->def->origin = xstrdup("conv c4 + add + relu (fused)");
    a = conv_attrs(7, 1, 2, 0, 1, 1, false);
    Value *c5 = op(g, OP_CONV2D, &c4, 1, &a, "c5");  /* 1x1 stride 2: im2col */
    a = conv_attrs(3, 3, 1, 1, 1, 1, true);
    c5->def->sched.parallel = PAR_BATCH; /* im2col panel per image */
    Value *c6 = op(g, OP_CONV2D, &c5, 1, &a, "c6");
    graph_output(g, "y", c6);
    fill_all(g);
    return g;
}

/* Every other op. */
static Graph *
ops_graph(void)
{
    Graph *g = graph_new("ops");
    Value *x = graph_input(g, "x", shape4(DIM_N, 3, 10, 11));
    Value *v = op(g, OP_BATCHNORM, &x, 1, NULL, "bn");
    Value *r = op(g, OP_RELU, &v, 1, NULL, NULL);
    Attrs a = attrs_default(OP_MAXPOOL);
    a.kh = a.kw = 3;
    a.sh = a.sw = 2;
    a.ph = a.pw = 1;
    a.ceil_mode = true;
    Value *m = op(g, OP_MAXPOOL, &r, 1, &a, NULL);
    a.ph = a.pw = 0;
    a.kh = a.kw = 2;
    Value *p = op(g, OP_AVGPOOL, &m, 1, &a, NULL);
    a.kh = a.kw = 3;
    a.sh = a.sw = 1;
    a.ph = a.pw = 1;
    a.ceil_mode = false;
    Value *p2 = op(g, OP_AVGPOOL, &p, 1, &a, NULL);
    Value *in2[2] = {p2, p};
    Value *s = op(g, OP_ADD, in2, 2, NULL, NULL);
    Value *ss = op(g, OP_SCALESHIFT, &s, 1, NULL, NULL);
    Node *n = ss->def;
    n->param[P_WEIGHT] = graph_tensor(g, "ss.scale", (Shape){1, {3}}, noloc);
    n->param[P_BIAS] = graph_tensor(g, "ss.shift", (Shape){1, {3}}, noloc);
    n->param[P_WEIGHT]->origin = xstrdup("made by a test");
    n->param[P_WEIGHT]->refs = n->param[P_BIAS]->refs = 1;
    Value *gp = op(g, OP_GAP, &ss, 1, NULL, NULL);
    Value *f = op(g, OP_FLATTEN, &gp, 1, NULL, NULL);
    a = attrs_default(OP_LINEAR);
    a.out = 5;
    a.bias = true;
    Value *l = op(g, OP_LINEAR, &f, 1, &a, "fc");
    Value *l2 = op(g, OP_BATCHNORM, &l, 1, NULL, "bn2");
    graph_output(g, "y", l2);
    fill_all(g);
    return g;
}

/* ------------------------------------------------------------------ build and run */

static const char driver_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"tm.h\"\n"
    "/* t WEIGHTS|- BATCH IN OUT: runs the model on raw floats */\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    tm *m;\n"
    "    int b, err;\n"
    "    float *x, *y;\n"
    "    FILE *f;\n"
    "    if (argc != 5) return 9;\n"
    "    err = tm_open(strcmp(argv[1], \"-\") ? argv[1] : NULL, &m);\n"
    "    if (err) { printf(\"%d %s\\n\", err, tm_strerror(err)); return 2; }\n"
    "    b = atoi(argv[2]);\n"
    "    x = malloc((size_t)b * TM_INPUT_SIZE * sizeof *x);\n"
    "    y = malloc((size_t)b * TM_OUTPUT_SIZE * sizeof *y);\n"
    "    f = fopen(argv[3], \"rb\");\n"
    "    if (!f || fread(x, sizeof *x, (size_t)b * TM_INPUT_SIZE, f) != (size_t)b * TM_INPUT_SIZE) return 3;\n"
    "    fclose(f);\n"
    "    if (tm_run(NULL, b, x, y) != TM_ERR_ARG || tm_run(m, 0, x, y) != TM_ERR_BATCH\n"
    "        || tm_run(m, b, NULL, y) != TM_ERR_ARG || tm_run(m, 2147483647, x, y) == TM_OK) return 4;\n"
    "    /* a smaller batch first, then the arena grows */\n"
    "    if (b > 1 && tm_run(m, 1, x, y) != TM_OK) return 5;\n"
    "    err = tm_run(m, b, x, y);\n"
    "    if (err) { printf(\"%d %s\\n\", err, tm_strerror(err)); return 6; }\n"
    "    f = fopen(argv[4], \"wb\");\n"
    "    if (!f || fwrite(y, sizeof *y, (size_t)b * TM_OUTPUT_SIZE, f) != (size_t)b * TM_OUTPUT_SIZE) return 7;\n"
    "    fclose(f);\n"
    "    tm_close(m);\n"
    "    tm_close(NULL);\n"
    "    free(x);\n"
    "    free(y);\n"
    "    return 0;\n"
    "}\n";

/* A work directory with the emitted model "tm" and its compiled driver. */
typedef struct Built {
    char dir[64];       /* /tmp/test_codegen_XXXXXX */
} Built;

/* The schedule fields a test set by hand, the rest from the trivial
 * schedule; the scratch that follows. */
static void
complete_schedules(Graph *g)
{
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        Schedule t = sched_trivial(n), *s = &n->sched;
        if (s->algo)
            t.algo = s->algo;
        if (s->reg_co)
            t.reg_co = s->reg_co;
        if (s->reg_pix)
            t.reg_pix = s->reg_pix;
        if (s->tile_k)
            t.tile_k = s->tile_k;
        if (s->tile_pix)
            t.tile_pix = s->tile_pix;
        if (s->order)
            t.order = s->order;
        if (s->lanes)
            t.lanes = s->lanes;
        if (s->layout_c)
            t.layout_c = s->layout_c;
        if (s->parallel)
            t.parallel = s->parallel;
        if (sched_winograd_m(t.algo) && !s->reg_pix)
            t.reg_pix = (int)sched_block_columns(n, t.algo) < 64 ? (int)sched_block_columns(n, t.algo) : 64;
        *s = t;
        sched_fill_scratch(n);
    }
}

/* Has the memory plan placed every value of the arena? */
static bool
planned(const Graph *g)
{
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        if ((!n->out->external && n->out->offset < 0) || (n->scratch && n->scratch_offset < 0))
            return false;
    }
    return true;
}

/* Target t's default schedule for every field a test did not set by hand
 * (algorithm first: the other defaults follow from it). */
static void
target_schedules(Graph *g, const Target *t)
{
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        Schedule *s = &n->sched;
        Schedule d = s->algo ? sched_default_for(n, t, s->algo, true) : sched_default(n, t, true, NULL);
        if (s->reg_co)
            d.reg_co = s->reg_co;
        if (s->reg_pix)
            d.reg_pix = s->reg_pix;
        if (s->tile_k)
            d.tile_k = s->tile_k;
        if (s->order)
            d.order = s->order;
        if (s->lanes)
            d.lanes = s->lanes;
        if (s->layout_c)
            d.layout_c = s->layout_c;
        if (s->parallel)
            d.parallel = s->parallel;
        d.tile_pix = s->tile_pix ? s->tile_pix : sched_default_tile_pix(n, &d);
        *s = d;
    }
}

/* Completes the lowering codegen needs (schedule, memory plan) where a
 * test did not run the pipeline, then emits for target t (NULL: no target,
 * the reference kernels only). */
static void
emit_into(Graph *g, bool embed, const Target *t, const char *dir)
{
    complete_schedules(g);
    if (!planned(g))
        free(plan_naive(g));
    CodegenOptions o = {.name = "tm", .model_path = "test.vise", .embed = embed, .target = t};
    TestDiag td;
    td_init(&td);
    ck_assert_msg(codegen_check(g, &o, &td.d), "codegen_check: %s", td_text(&td));
    td_free(&td);
    char *ph = xprintf("%s/tm.h", dir), *pc = xprintf("%s/tm.c", dir), *pw = xprintf("%s/tm.weights", dir);
    FILE *h = fopen(ph, "w"), *c = fopen(pc, "w"), *w = embed ? NULL : fopen(pw, "wb");
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(c);
    codegen_emit(g, &o, "tm.h", h, c, w);
    fclose(h);
    fclose(c);
    if (w)
        fclose(w);
    free(ph);
    free(pc);
    free(pw);
}

/* Emits g for target t and compiles it with the driver and the extra
 * flags cflags: binary dir/t (dir/t_omp with OpenMP). */
static void
build_for(Graph *g, bool embed, const Target *t, const char *cflags, Built *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/test_codegen_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(b->dir));
    emit_into(g, embed, t, b->dir);
    char *p = xprintf("%s/main.c", b->dir);
    FILE *f = fopen(p, "w");
    fputs(driver_src, f);
    fclose(f);
    free(p);
    for (int omp = 0; omp < 2; omp++) {
        char *cmd = xprintf("cc -std=c99 -Wall -Wextra -pedantic -Werror -O1 %s %s -I%s -o %s/t%s "
                            "%s/main.c %s/tm.c -lm",
                            cflags, omp ? "-fopenmp" : "", b->dir, b->dir, omp ? "_omp" : "", b->dir,
                            b->dir);
        int st = system(cmd);
        ck_assert_msg(st == 0, "failed: %s", cmd);
        free(cmd);
    }
}

static void
build(Graph *g, bool embed, Built *b)
{
    build_for(g, embed, NULL, "", b);
}

static void
cleanup(Built *b)
{
    char *cmd = xprintf("rm -rf %s", b->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Runs the built model; returns the exit status, *out the output floats, *msg stdout. */
static int
run_built(Built *b, bool omp, const char *weights, int batch, const float *x, int64_t in_numel,
          int64_t out_numel, float **out, char **msg)
{
    char *pin = xprintf("%s/in.raw", b->dir), *pout = xprintf("%s/out.raw", b->dir);
    char *pmsg = xprintf("%s/msg.txt", b->dir);
    FILE *f = fopen(pin, "wb");
    fwrite(x, sizeof(float), (size_t)(batch * in_numel), f);
    fclose(f);
    unlink(pout);
    /* Two threads: batch 2 takes run()'s one region over whole images, batches 1 and 3 the
       layers' own parallel loops. */
    char *cmd = xprintf("OMP_NUM_THREADS=2 %s/t%s %s %d %s %s > %s", b->dir, omp ? "_omp" : "",
                        weights, batch, pin, pout, pmsg);
    int st = system(cmd);
    st = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
    size_t n;
    *msg = slurp(pmsg, &n);
    *out = NULL;
    if (st == 0) {
        char *y = slurp(pout, &n);
        ck_assert_int_eq(n, (size_t)(batch * out_numel) * sizeof(float));
        *out = (float *)(void *)y;
    }
    free(cmd);
    free(pin);
    free(pout);
    free(pmsg);
    return st;
}

/* max|y - ref| <= 1e-4 max|ref| (and a small absolute floor). */
static void
expect_close(const float *y, const float *ref, int64_t n)
{
    double err = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - ref[i]);
        ck_assert_msg(d == d, "element %lld is NaN", (long long)i);
        if (d > err)
            err = d;
        if (fabs(ref[i]) > mag)
            mag = fabs(ref[i]);
    }
    ck_assert_msg(mag > 0, "reference is all zeros: a weak test");
    ck_assert_msg(err <= 1e-4 * mag + 1e-6, "max error %g, max |ref| %g", err, mag);
}

/* Compiles g for target t with cflags, runs batches 1, 2 and 3 with and without
 * OpenMP against the interpreter. */
static void
check_against_interp_for(Graph *g, bool embed, const Target *t, const char *cflags, const char *must_contain)
{
    int64_t in_numel = shape_numel(((Value *)g->inputs.v[0])->shape, 1);
    int64_t out_numel = shape_numel(((Value *)g->outputs.v[0])->shape, 1);
    Built b;
    build_for(g, embed, t, cflags, &b);
    if (must_contain) {
        size_t n;
        char *pc = xprintf("%s/tm.c", b.dir), *src = slurp(pc, &n);
        ck_assert_msg(strstr(src, must_contain) != NULL, "no %s in the generated code", must_contain);
        free(src);
        free(pc);
    }
    char *wpath = embed ? xstrdup("-") : xprintf("%s/tm.weights", b.dir);
    float *x = xmalloc((size_t)(3 * in_numel) * sizeof(float));
    for (int64_t i = 0; i < 3 * in_numel; i++)
        x[i] = rnd();
    for (int batch = 1; batch <= 3; batch++) {
        float *ref = interp1(g, batch, x), *y[2];
        char *msg;
        for (int omp = 0; omp < 2; omp++) {
            int st = run_built(&b, omp, wpath, batch, x, in_numel, out_numel, &y[omp], &msg);
            ck_assert_msg(st == 0, "generated code failed (status %d): %s", st, msg);
            free(msg);
            expect_close(y[omp], ref, batch * out_numel);
        }
        /* Same results with and without OpenMP, to the bit. */
        ck_assert_mem_eq(y[0], y[1], (size_t)(batch * out_numel) * sizeof(float));
        free(y[0]);
        free(y[1]);
        free(ref);
    }
    free(x);
    free(wpath);
    cleanup(&b);
}

static void
check_against_interp(Graph *g, bool embed)
{
    check_against_interp_for(g, embed, NULL, "", NULL);
}

/* ------------------------------------------------------------------ tests */

START_TEST(convs_match_interpreter)
{
    Graph *g = conv_graph();
    check_against_interp(g, false);
    graph_free(g);
}
END_TEST

/* Weights packed by the pack_weights pass ([groups][blocks][K][reg_co]). */
START_TEST(packed_convs_match_interpreter)
{
    Graph *g = conv_graph();
    complete_schedules(g);
    char *what = pack_weights(g);
    ck_assert_ptr_nonnull(what);
    free(what);
    ck_assert_int_eq(GRAPH_NODE(g, 1)->param[P_WEIGHT]->pack_mr, 5);
    fill_all(g);
    check_against_interp(g, false);
    graph_free(g);
}
END_TEST

/* Two Winograd convs set by hand (algo), the second with a fused residual
 * and relu: H x W outputs, 8 -> 13 -> 13 channels (a tail block). */
static Graph *
winograd_graph(Algo algo, int H, int W)
{
    Graph *g = graph_new("wino");
    Value *x = graph_input(g, "x", shape4(DIM_N, 8, H, W));
    Attrs a = conv_attrs(13, 3, 1, 1, 1, 1, true);
    Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
    c1->def->sched.algo = algo;
    a = conv_attrs(13, 3, 1, 1, 1, 1, false);
    Value *in2[2] = {c1, c1};
    Value *c2 = op(g, OP_CONV2D, in2, 2, &a, "w2");
    c2->def->epi = EPI_ADD | EPI_RELU;
    c2->def->sched.algo = algo;
    graph_output(g, "y", c2);
    fill_all(g);
    return g;
}

/* Winograd F(2x2,3x3) and F(4x4,3x3), set by hand on small convs: odd
 * and even output sizes (edge tiles, and input rows copied with one or two
 * columns of padding after them), 13 output channels (a tail block), bias,
 * fused residual and relu; for F(4x4) also output sizes of 1 to 3 rows or
 * columns past whole tiles, and rows of 33 and 64 tiles (two chunks of
 * the transforms, the second one short or not); for F(2x2) rows of 65
 * tiles (chunks of 22, 22 and 21). */
START_TEST(winograd_matches_interpreter)
{
    static const struct {
        Algo algo;
        int h, w;
    } cases[] = {
        {ALGO_WINOGRAD2, 7, 9}, {ALGO_WINOGRAD2, 8, 8},  {ALGO_WINOGRAD2, 2, 3}, {ALGO_WINOGRAD2, 3, 130},
        {ALGO_WINOGRAD4, 7, 9}, {ALGO_WINOGRAD4, 8, 8},  {ALGO_WINOGRAD4, 5, 6},
        {ALGO_WINOGRAD4, 2, 3}, {ALGO_WINOGRAD4, 6, 130}, {ALGO_WINOGRAD4, 3, 256},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int m = sched_winograd_m(cases[i].algo), P = (m + 2) * (m + 2);
        int T = (cases[i].h + m - 1) / m * ((cases[i].w + m - 1) / m);
        Graph *g = winograd_graph(cases[i].algo, cases[i].h, cases[i].w);
        complete_schedules(g);
        free(pack_weights(g));
        ck_assert_int_eq(GRAPH_NODE(g, 0)->param[P_WEIGHT]->winograd, m);
        ck_assert_int_eq(GRAPH_NODE(g, 1)->param[P_WEIGHT]->winograd, m);
        ck_assert_int_eq(GRAPH_NODE(g, 1)->param[P_WEIGHT]->shape.dim[0], P);
        ck_assert_int_eq(GRAPH_NODE(g, 1)->scratch, P * (T * (13 + 13) + 32) * 4);
        /* the input rows copied whole, the padding outside the copy loop */
        check_against_interp_for(g, false, NULL, "", "d[i][c] = xr[c0 + c];");
        graph_free(g);
    }
}
END_TEST

/* What may run as winograd(4) and in which blocks: the same convs as
 * winograd(2), tiles of 4 x 4 outputs, and the messages that say why not. */
START_TEST(winograd4_legality)
{
    Graph *g = graph_new("w4");
    Value *x = graph_input(g, "x", shape4(DIM_N, 8, 14, 13));
    Attrs a = conv_attrs(16, 3, 1, 1, 1, 1, true);
    Value *ok = op(g, OP_CONV2D, &x, 1, &a, "ok");
    a = conv_attrs(16, 3, 2, 1, 1, 1, true);
    Value *strided = op(g, OP_CONV2D, &x, 1, &a, "strided");
    a = conv_attrs(16, 3, 1, 1, 1, 2, true);
    Value *grouped = op(g, OP_CONV2D, &x, 1, &a, "grouped");
    const Target *v4 = target_find("x86-64-v4");
    ck_assert_ptr_nonnull(v4);
    ck_assert_str_eq(algo_name(ALGO_WINOGRAD4), "winograd(4)");
    ck_assert_int_eq(sched_winograd_m(ALGO_WINOGRAD4), 4);
    ck_assert_int_eq(sched_winograd_m(ALGO_WINOGRAD2), 2);
    ck_assert_int_eq(sched_winograd_m(ALGO_GEMM), 0);
    ck_assert_ptr_null(sched_algo_illegal(ok->def, v4, ALGO_WINOGRAD4, true));
    ck_assert_str_eq(sched_algo_illegal(strided->def, v4, ALGO_WINOGRAD4, true),
                     "winograd(4) needs a 3x3 convolution with stride 1, padding 1, dilation 1 and one group");
    ck_assert_str_eq(sched_algo_illegal(grouped->def, v4, ALGO_WINOGRAD4, true),
                     "winograd(4) needs a 3x3 convolution with stride 1, padding 1, dilation 1 and one group");
    ck_assert_str_eq(sched_algo_illegal(ok->def, v4, ALGO_WINOGRAD4, false),
                     "winograd(4) needs its weights transformed by the pack_weights pass, which is disabled");
    /* 14 x 13 outputs: 4 x 4 tiles of 4 x 4 (7 x 7 of 2 x 2); the reduction is the input channels */
    ck_assert_int_eq(sched_block_columns(ok->def, ALGO_WINOGRAD4), 16);
    ck_assert_int_eq(sched_block_columns(ok->def, ALGO_WINOGRAD2), 49);
    ck_assert_int_eq(sched_reduction(ok->def, ALGO_WINOGRAD4), 8);
    Schedule s = sched_default_for(ok->def, v4, ALGO_WINOGRAD4, true);
    ck_assert_int_eq(s.algo, ALGO_WINOGRAD4);
    ck_assert_int_eq(s.reg_pix, 16);
    ck_assert_int_eq(s.reg_co, 16);     /* the table's 24 accumulators in one vector of tiles: all 16 channels */
    ck_assert_ptr_null(sched_check(ok->def, v4, &s, true, NULL));
    ck_assert_int_eq(sched_scratch_bytes(ok->def, &s), 36 * (16 * (8 + 16) + 32) * 4);
    unsigned field = 0;
    s.reg_pix = 17;
    char *m = sched_check(ok->def, v4, &s, true, &field);
    ck_assert_str_eq(m, "reg 16 x 17: tiles must be from 1 to 16 here");
    ck_assert_uint_eq(field, SF_REG);
    free(m);
    s.reg_pix = 16;
    s.tile_k = 9;
    m = sched_check(ok->def, v4, &s, true, &field);
    ck_assert_str_eq(m, "tile_k 9: must be 0 (all) or from 1 to 8 here");
    ck_assert_uint_eq(field, SF_TILE_K);
    free(m);
    s = sched_default_for(strided->def, v4, ALGO_WINOGRAD4, true);
    m = sched_check(strided->def, v4, &s, true, &field);
    ck_assert_str_eq(m, "algo winograd(4): winograd(4) needs a 3x3 convolution with stride 1, padding 1, "
                        "dilation 1 and one group");
    ck_assert_uint_eq(field, SF_ALGO);
    free(m);
    graph_free(g);
}
END_TEST

/* Does this CPU run code built with -march=TARGET's flags? */
static bool
cpu_runs(const char *feature)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (!strcmp(feature, "avx512f"))
        return __builtin_cpu_supports("avx512f");
    if (!strcmp(feature, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return !strcmp(feature, "");
}

/* The target NAME of a test's case, or NULL when this CPU cannot run code
 * built with its flags (cpu_runs(cpu)); counts the cases that run in *ran. */
static const Target *
runnable_target(const char *name, const char *cpu, int *ran)
{
    const Target *t = target_find(name);
    ck_assert_ptr_nonnull(t);
    if (!cpu_runs(cpu))
        return NULL;
    (*ran)++;
    return t;
}

/* The explicit-vector kernels (codegen/kernels) compiled for their
 * instruction set against the interpreter: the target's default blocks
 * (6 x 64 on x86-64-v4, so the 90 and 63 pixels of these layers end in
 * masked partial vectors), hand-set narrow blocks (5 x 4: a single partial
 * vector), output channels short of a block with and without packed
 * weights, a tiled reduction, Winograd; and the same source built without
 * -march, which takes the reference kernels under '#else'. */
START_TEST(vector_kernels_match_interpreter)
{
    static const struct {
        const char *target, *cpu, *cflags, *fma;
    } cases[] = {
        {"x86-64-v4", "avx512f", "-march=x86-64-v4", "_mm512_fmadd_ps"},
        {"x86-64-v3", "avx2", "-march=x86-64-v3", "_mm256_fmadd_ps"},
        {"x86-64-v4", "", "", "_mm512_fmadd_ps"},
        {"aarch64", "", "", "vfmaq_f32"},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Target *t = runnable_target(cases[i].target, cases[i].cpu, &ran);
        if (!t)
            continue;
        for (int packed = 0; packed < 2; packed++) {
            Graph *g = conv_graph();
            Schedule *c4 = &GRAPH_NODE(g, 3)->sched;
            c4->tile_k = 5;                         /* c4: K = 12 in tiles of 5 */
            if (packed) {
                /* and its 90 pixels in tiles of 16, 3 tiles a group: a group of 2 tiles last, */
                c4->reg_pix = 16;                   /* the last tile 10 pixels */
                c4->order = ORDER_PIX_CO;
                c4->tile_pix = 48;
            }
            target_schedules(g, t);
            if (packed) {
                complete_schedules(g);
                free(pack_weights(g));
                fill_all(g);
            }
            /* the FMAs checked once, the groups where c4 has them: two, fewer than
             * SPLIT_GROUPS, so each group's blocks are shared out among the threads */
            check_against_interp_for(g, false, t, cases[i].cflags,
                                     packed ? "over groups of 3 tiles of output pixels (tile_pix 48): with 2 "
                                              "groups,\n"
                                            : cases[i].fma);
            graph_free(g);
        }
        /* Winograd output sizes: odd (a last tile row and column of one output),
         * 19 tile columns (a whole chunk of 16 and a partial one), 16 tile
         * columns of 31 outputs (a whole chunk one column short) */
        static const int hw[][2] = {{7, 9}, {11, 37}, {6, 31}};
        /* and for F(4x4,3x3) also 18 tile columns (a whole chunk of 16 and a
         * partial one, the last tile one output column wide), 16 of 64
         * outputs (whole chunks only) and 16 of 63 (a whole chunk one
         * column short) */
        static const int hw4[][2] = {{7, 9}, {11, 37}, {6, 31}, {7, 69}, {5, 64}, {6, 63}};
        for (int k = 0; k < 9; k++) {
            Graph *g = k < 3 ? winograd_graph(ALGO_WINOGRAD2, hw[k][0], hw[k][1])
                             : winograd_graph(ALGO_WINOGRAD4, hw4[k - 3][0], hw4[k - 3][1]);
            target_schedules(g, t);
            complete_schedules(g);
            free(pack_weights(g));
            check_against_interp_for(g, false, t, cases[i].cflags, cases[i].fma);
            graph_free(g);
        }
    }
    ck_assert_int_ge(ran, 2);
}
END_TEST

/* g, whose convs carry hand-set schedules, against the interpreter on t
 * (check_against_interp_for): random parameters, every schedule legal, its
 * scratch sized, the weights packed if pack; frees g. */
static void
check_hand_scheduled(Graph *g, const Target *t, bool pack, const char *cflags, const char *must_contain)
{
    fill_all(g);
    for (int k = 0; k < g->nodes.n; k++) {
        Node *n = GRAPH_NODE(g, k);
        char *bad = sched_check(n, t, &n->sched, true, NULL);
        ck_assert_msg(bad == NULL, "%s: %s", n->name, bad ? bad : "");
        sched_fill_scratch(n);
    }
    if (pack)
        free(pack_weights(g));
    check_against_interp_for(g, false, t, cflags, must_contain);
    graph_free(g);
}

/* The x86 vector kernels where this CPU runs them, and the reference
 * kernels (x86-64-v4's code without -march). */
static const struct {
    const char *target, *cpu, *cflags;
} x86_cases[] = {
    {"x86-64-v4", "avx512f", "-march=x86-64-v4"},
    {"x86-64-v3", "avx2", "-march=x86-64-v3"},
    {"x86-64-v4", "", ""},
};

/* lanes = co: the kernels with the output channels in the vector lanes,
 * against the interpreter, for each instruction set this CPU runs and
 * without -march (the reference kernels under '#else'): a 1x1 with guard
 * rows (40 = 2 x 16 + 8 channels; 2 x 8 ... on AVX2), a pixel tail (99 = 19 x 5 + 4)
 * and reduction tiles (20 = 7 + 7 + 6), bias and relu; a strided 3x3 over
 * per-tile im2col panels (order pix,co); Winograd with a residual. */
START_TEST(co_lanes_match_interpreter)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof x86_cases / sizeof x86_cases[0]; i++) {
        const Target *t = runnable_target(x86_cases[i].target, x86_cases[i].cpu, &ran);
        if (!t)
            continue;
        int L = t->lanes;
        Graph *g = graph_new("colanes");
        Value *x = graph_input(g, "x", shape4(DIM_N, 20, 9, 11));
        Attrs a = conv_attrs(40, 1, 1, 0, 1, 1, true);
        Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
        c1->def->epi = EPI_RELU;
        c1->def->sched = (Schedule){ALGO_GEMM, 2 * L, 5, 7, ORDER_CO_PIX, LANES_CO, PAR_INSIDE, 0, 0};
        a = conv_attrs(2 * L, 3, 2, 1, 1, 1, true);
        Value *c2 = op(g, OP_CONV2D, &c1, 1, &a, "w2");
        c2->def->sched = (Schedule){ALGO_GEMM, L, 4, 0, ORDER_PIX_CO, LANES_CO, PAR_INSIDE, 0, 0};
        a = conv_attrs(2 * L, 3, 1, 1, 1, 1, false);
        Value *in3[2] = {c2, c2};
        Value *c3 = op(g, OP_CONV2D, in3, 2, &a, "w3");
        c3->def->epi = EPI_ADD | EPI_RELU;
        c3->def->sched = (Schedule){ALGO_WINOGRAD2, 2 * L, 3, 0, ORDER_CO_PIX, LANES_CO, PAR_BATCH, 0, 0};
        graph_output(g, "y", c3);
        check_hand_scheduled(g, t, true, x86_cases[i].cflags, "output channels in the lanes");
    }
    ck_assert_int_ge(ran, 2);
}
END_TEST

/*
 * A block's pixels past its whole vectors in channel lanes (block_tail_vectors),
 * against the interpreter, for each instruction set this CPU runs and
 * without -march: on a 7x7 map (49 = 3L + 1 pixels for 16, 8 and 4 lanes),
 * blocks of R x (3L + 1) with the most rows that fit, for a 1x1 with
 * channels short of a block (2L + 3) and a tiled reduction (20 = 7 + 7 + 6),
 * bias and relu; an im2col 3x3 with the residual and relu; Winograd (49
 * tiles of a 14x14 map), whose blocks store M raw; direct in blocks of L x 7
 * (a row: 7 = 0 x 16, 0 x 8 or 1 x 4 pixels and the rest in channel lanes);
 * and 7 channels in blocks of 6 x L, whose edge block is one column in
 * channel lanes alone (in two vectors of 4 channels on NEON), its
 * reduction in 4 (NEON: 2) sets of accumulators.  And an
 * im2col gemm with few pixel tiles, whose tiles the threads share.
 */
START_TEST(pixel_tail_in_channel_lanes)
{
    static const struct {
        const char *target, *cpu, *cflags;
    } cases[] = {
        {"x86-64-v4", "avx512f", "-march=x86-64-v4"},
        {"x86-64-v3", "avx2", "-march=x86-64-v3"},
        {"x86-64-v4", "", ""},
        {"aarch64", "", ""},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Target *t = runnable_target(cases[i].target, cases[i].cpu, &ran);
        if (!t)
            continue;
        int L = t->lanes, cols = 3 * L + 1, rows = 0;
        for (int r = 2; r <= L; r++)
            if (block_tail_vectors(L, r, cols, true) && block_vregs(L, r, cols, true) <= t->vregs)
                rows = r;
        ck_assert_int_gt(rows, 1);
        Graph *g = graph_new("tails");
        Value *x = graph_input(g, "x", shape4(DIM_N, 20, 7, 7));
        Attrs a = conv_attrs(2 * L + 3, 1, 1, 0, 1, 1, true);
        Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
        c1->def->epi = EPI_RELU;
        c1->def->sched = (Schedule){ALGO_GEMM, rows, cols, 7, ORDER_CO_PIX, LANES_PIX, PAR_INSIDE, 0, 0};
        a = conv_attrs(2 * L + 3, 3, 1, 1, 1, 1, false);
        Value *in2[2] = {c1, c1};
        Value *c2 = op(g, OP_CONV2D, in2, 2, &a, "w2");
        c2->def->epi = EPI_ADD | EPI_RELU;
        c2->def->sched = (Schedule){ALGO_GEMM, rows, cols, 0, ORDER_PIX_CO, LANES_PIX, PAR_INSIDE, 0, 0};
        a = conv_attrs(L + 2, 3, 1, 1, 1, 1, true);
        Value *c3 = op(g, OP_CONV2D, &c2, 1, &a, "w3");
        c3->def->sched = (Schedule){ALGO_DIRECT, L, 7, 0, ORDER_CO_PIX, LANES_PIX, PAR_BATCH, 0, 0};
        a = conv_attrs(7, 1, 1, 0, 1, 1, true);
        Value *c4 = op(g, OP_CONV2D, &c3, 1, &a, "w4");
        c4->def->sched = (Schedule){ALGO_GEMM, 6, L, 0, ORDER_CO_PIX, LANES_PIX, PAR_INSIDE, 0, 0};
        graph_output(g, "y", c4);
        /* w4's edge block, 1 or 2 accumulators, runs its reduction (L + 2 = 4 x 4 + 2, 2 x 4 + 2,
         * 3 x 2: steps left over for 16 and 8 lanes) in sets of them */
        check_hand_scheduled(g, t, true, cases[i].cflags, "sets of accumulators (t<j>_<v>_<set>)");
        g = graph_new("wtails");
        x = graph_input(g, "x", shape4(DIM_N, 6, 14, 14));
        a = conv_attrs(2 * L + 3, 3, 1, 1, 1, 1, true);
        Value *c5 = op(g, OP_CONV2D, &x, 1, &a, "w5");
        c5->def->epi = EPI_RELU;
        c5->def->sched = (Schedule){ALGO_WINOGRAD2, rows, cols, 0, ORDER_CO_PIX, LANES_PIX, PAR_INSIDE, 0, 0};
        graph_output(g, "y", c5);
        check_hand_scheduled(g, t, true, cases[i].cflags, "with the channels in the lanes");
        /* an im2col gemm with pixel tiles outside and fewer tiles than SPLIT_TILES (one of 49;
         * 25 and 24; three of 13 and one of 10): the two threads share each tile */
        g = graph_new("split");
        x = graph_input(g, "x", shape4(DIM_N, 20, 7, 7));
        a = conv_attrs(2 * L + 3, 3, 1, 1, 1, 1, true);
        Value *c6 = op(g, OP_CONV2D, &x, 1, &a, "w6");
        c6->def->epi = EPI_RELU;
        c6->def->sched = (Schedule){ALGO_GEMM, rows, cols, 0, ORDER_PIX_CO, LANES_PIX, PAR_INSIDE, 0, 0};
        graph_output(g, "y", c6);
        check_hand_scheduled(g, t, true, cases[i].cflags, "the threads share each one");
    }
    ck_assert_int_ge(ran, 3);
}
END_TEST

/*
 * Tall blocks (sched_default's 2 vectors of pixels and 13 or 14 rows for a
 * 1x1 gemm with channel blocks outside and a long reduction) against the
 * interpreter, as the default schedule picks them for x86-64-v4: a 1x1 over
 * 18x18 (324 = 10 x 32 + 4 pixels, the 4 in channel lanes; 35 channels in
 * 13s, the last block 9) with relu, and a strided 1x1 over an im2col panel
 * (81 = 2 x 32 + 17 pixels: a vector and one column in channel lanes; 28
 * channels in 14s) with the residual and relu; built with -march and
 * without (the reference kernels under '#else').
 */
START_TEST(tall_blocks_match_interpreter)
{
    static const struct {
        const char *cpu, *cflags;
    } cases[] = {
        {"avx512f", "-march=x86-64-v4"},
        {"", ""},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Target *t = runnable_target("x86-64-v4", cases[i].cpu, &ran);
        if (!t)
            continue;
        Graph *g = graph_new("tall");
        Value *x = graph_input(g, "x", shape4(DIM_N, 256, 18, 18));
        Attrs a = conv_attrs(35, 1, 1, 0, 1, 1, true);
        Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
        c1->def->epi = EPI_RELU;
        a = conv_attrs(256, 1, 1, 0, 1, 1, true);
        Value *c2 = op(g, OP_CONV2D, &c1, 1, &a, "w2");
        a = conv_attrs(28, 1, 2, 0, 1, 1, false);
        Value *c4 = op(g, OP_CONV2D, &c1, 1, &a, "w4");
        Value *in3[2] = {c2, c4};
        a = conv_attrs(28, 1, 2, 0, 1, 1, true);
        Value *c3 = op(g, OP_CONV2D, in3, 2, &a, "w3");
        c3->def->epi = EPI_ADD | EPI_RELU;
        graph_output(g, "y", c3);
        for (int k = 0; k < g->nodes.n; k++)
            GRAPH_NODE(g, k)->sched = sched_default(GRAPH_NODE(g, k), t, true, NULL);
        ck_assert_int_eq(c1->def->sched.reg_co, 13);
        ck_assert_int_eq(c1->def->sched.reg_pix, 32);
        ck_assert_int_eq(c3->def->sched.reg_co, 14);
        ck_assert_int_eq(c3->def->sched.reg_pix, 32);
        ck_assert_int_eq(c2->def->sched.reg_co, 6);    /* 35 input channels: the table's block */
        check_hand_scheduled(g, t, true, cases[i].cflags, "of 13 x 32:");
    }
    ck_assert_int_ge(ran, 1);
}
END_TEST

/*
 * Pixel tiles of an im2col panel in groups (tile_pix, order pix,co): a
 * strided 3x3 and a 3x3 with a residual, relu and a tiled reduction, both
 * on 81 pixels in 11 tiles of 8 (the last one pixel), in groups of 2 tiles
 * (6 groups, the last of one tile: the threads share out whole groups) and
 * of 4 (3 groups, fewer than SPLIT_GROUPS: each group's panel rows, then
 * its blocks, shared out), against the interpreter for the vector kernels
 * the CPU runs and without -march.
 */
START_TEST(tile_panel_groups_match_interpreter)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof x86_cases / sizeof x86_cases[0]; i++) {
        const Target *t = runnable_target(x86_cases[i].target, x86_cases[i].cpu, &ran);
        if (!t)
            continue;
        for (int gt = 2; gt <= 4; gt += 2) {
            Graph *g = graph_new("panels");
            Value *x = graph_input(g, "x", shape4(DIM_N, 5, 18, 18));
            Attrs a = conv_attrs(13, 3, 2, 1, 1, 1, true);
            Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "p1");
            c1->def->epi = EPI_RELU;
            a = conv_attrs(13, 3, 1, 1, 1, 1, true);
            Value *in2[2] = {c1, c1};
            Value *c2 = op(g, OP_CONV2D, in2, 2, &a, "p2");
            c2->def->epi = EPI_ADD | EPI_RELU;
            graph_output(g, "y", c2);
            for (int k = 0; k < g->nodes.n; k++) {
                Schedule *s = &GRAPH_NODE(g, k)->sched;
                *s = sched_default_for(GRAPH_NODE(g, k), t, ALGO_GEMM, true);
                s->order = ORDER_PIX_CO;
                s->reg_co = 6;
                s->reg_pix = 8;
                s->tile_pix = 8 * gt;
            }
            c2->def->sched.tile_k = 50;     /* K = 117 in tiles of 50 */
            check_hand_scheduled(g, t, true, x86_cases[i].cflags,
                                 gt == 2 ? "is built 2 pixel tiles at a time (tile_pix 16)"
                                         : "the threads share each group: its panel rows, then its blocks");
        }
    }
    ck_assert_int_ge(ran, 1);
}
END_TEST

/*
 * direct over the zero-padded input copy: a 7x7 stride-2 stem, a dilated
 * 3x3, a grouped 3x3 with a fused residual and relu and a strided 1x1, with
 * pixel and channel lanes, column tails and blocks short of channels, for
 * the vector kernels the CPU runs and for the generic target, with packed
 * weights and with PyTorch's layout.
 */
START_TEST(direct_matches_interpreter)
{
    static const struct {
        const char *target, *cpu, *cflags;
        bool pack;
    } cases[] = {
        {"x86-64-v4", "avx512f", "-march=x86-64-v4", true},
        {"x86-64-v3", "avx2", "-march=x86-64-v3", true},
        {"generic", "", "", true},
        /* PyTorch's weight layout (pack_weights disabled): blocks short of channels take the general loops */
        {"x86-64-v4", "avx512f", "-march=x86-64-v4", false},
        {"x86-64-v3", "avx2", "-march=x86-64-v3", false},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Target *t = runnable_target(cases[i].target, cases[i].cpu, &ran);
        if (!t)
            continue;
        int L = t->lanes > 1 ? t->lanes : 4;
        Graph *g = graph_new("direct");
        Value *x = graph_input(g, "x", shape4(DIM_N, 5, 13, 23));
        /* 7x7 stride 2 pad 3: 7 x 12, 12 columns in blocks of 8 (a tail of 4), 2L + 3 channels in 6s */
        Attrs a = conv_attrs(2 * L + 3, 7, 2, 3, 1, 1, true);
        Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
        c1->def->epi = EPI_RELU;
        c1->def->sched = (Schedule){ALGO_DIRECT, 6, 8, 0, ORDER_PIX_CO, LANES_PIX, PAR_INSIDE, 0, 0};
        /* 3x3 dilation 2 pad 2, channels in the lanes, 12 columns in blocks of 5 */
        a = conv_attrs(2 * L, 3, 1, 2, 2, 1, false);
        Value *c2 = op(g, OP_CONV2D, &c1, 1, &a, "w2");
        c2->def->sched = (Schedule){ALGO_DIRECT, L, 5, 0, ORDER_CO_PIX, LANES_CO, PAR_INSIDE, 0, 0};
        /* 3x3 in 2 groups with the residual and relu fused, images in parallel */
        a = conv_attrs(2 * L, 3, 1, 1, 1, 2, true);
        Value *in3[2] = {c2, c2};
        Value *c3 = op(g, OP_CONV2D, in3, 2, &a, "w3");
        c3->def->epi = EPI_ADD | EPI_RELU;
        c3->def->sched = (Schedule){ALGO_DIRECT, 3, 12, 0, ORDER_CO_PIX, LANES_PIX, PAR_BATCH, 0, 0};
        /* 1x1 stride 2: 4 x 6 */
        a = conv_attrs(7, 1, 2, 0, 1, 1, true);
        Value *c4 = op(g, OP_CONV2D, &c3, 1, &a, "w4");
        c4->def->sched = (Schedule){ALGO_DIRECT, 4, 6, 0, ORDER_PIX_CO, LANES_PIX, PAR_NONE, 0, 0};
        graph_output(g, "y", c4);
        check_hand_scheduled(g, t, cases[i].pack, cases[i].cflags, "phase and offset of tap j");
    }
    ck_assert_int_ge(ran, 3);
}
END_TEST

/* The vector kernels prefetch the packed weight panel 64 steps ahead on
 * x86 (one line per step for 6 channels, two for 32), not on NEON, and
 * never for unpacked weights; and the operand rows of a 1x1 straight on
 * its input 8 rows ahead, with pixel tiles outside or channel blocks
 * outside. */
START_TEST(weight_prefetch)
{
    static const struct {
        const char *target;
        bool pack;
        const char *want, *not_want;
    } cases[] = {
        {"x86-64-v4", true, "/* the weight panel, ahead */\n", NULL},
        {"x86-64-v4", true, "_mm_prefetch((const char *)((uintptr_t)wk + 1536), _MM_HINT_T0);\n", NULL},
        {"x86-64-v4", true, "_mm_prefetch((const char *)((uintptr_t)wk + 8192 + 64), _MM_HINT_T0);\n", NULL},
        {"x86-64-v3", true, "_mm_prefetch((const char *)((uintptr_t)wk + 1536), _MM_HINT_T0);", NULL},
        {"aarch64", true, "vfmaq_f32", "prefetch"},
        {"x86-64-v4", false, "_mm512_fmadd_ps", "the weight panel, ahead"},
        /* the operand rows 8 ahead, ldb floats apart, one line a 64-byte line of the 16 columns */
        {"x86-64-v4", true, "/* the operand rows, ahead */\n", NULL},
        {"x86-64-v4", true, "_mm_prefetch((const char *)((uintptr_t)bk + 32 * ldb), _MM_HINT_T0);\n", NULL},
        {"x86-64-v3", false, "_mm_prefetch((const char *)((uintptr_t)bk + 32 * ldb), _MM_HINT_T0);\n",
         "32 * ldb + 64"},
        /* w1 is a 1x1 on the input with pixel tiles outside: its rows 99 floats apart (ldb) */
        {"x86-64-v4", true, "(xg + p0, 99, 0, 8, wt, yg, 99, bias + co0, co0, p0, mr, pn);", NULL},
        /* w4, channel blocks outside, on a 5x6 map: rows 30 floats apart */
        {"x86-64-v4", true, "(xg + p0, 30, 0, 8, wt, yg, 30, bias + co0, co0, p0, mr, pn);", NULL},
        {"x86-64-v3", false, "(xg + p0, 30, 0, 8, 8, wg, yg, 30, bias + co0, co0, p0, mr, pn);", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Target *t = target_find(cases[i].target);
        ck_assert_ptr_nonnull(t);
        Graph *g = graph_new("pf");
        Value *x = graph_input(g, "x", shape4(DIM_N, 8, 9, 11));
        Attrs a = conv_attrs(12, 1, 1, 0, 1, 1, true);
        Value *c1 = op(g, OP_CONV2D, &x, 1, &a, "w1");
        c1->def->sched = (Schedule){ALGO_GEMM, 6, 16, 0, ORDER_PIX_CO, LANES_PIX, PAR_INSIDE, 0, 0};
        a = conv_attrs(t->lanes * 2, 1, 1, 0, 1, 1, true);
        Value *c2 = op(g, OP_CONV2D, &c1, 1, &a, "w2");
        c2->def->sched = (Schedule){ALGO_GEMM, t->lanes * 2, 4, 0, ORDER_CO_PIX, LANES_CO, PAR_INSIDE, 0, 0};
        /* a 3x3 stride 2 to a 5x6 map, then a 1x1 with channel blocks outside */
        a = conv_attrs(8, 3, 2, 1, 1, 1, true);
        Value *c3 = op(g, OP_CONV2D, &c2, 1, &a, "w3");
        c3->def->sched = (Schedule){ALGO_DIRECT, 6, 6, 0, ORDER_CO_PIX, LANES_PIX, PAR_INSIDE, 0, 0};
        a = conv_attrs(12, 1, 1, 0, 1, 1, true);
        Value *c4 = op(g, OP_CONV2D, &c3, 1, &a, "w4");
        c4->def->sched = (Schedule){ALGO_GEMM, 6, 16, 0, ORDER_CO_PIX, LANES_PIX, PAR_INSIDE, 0, 0};
        graph_output(g, "y", c4);
        fill_all(g);
        if (cases[i].pack)
            free(pack_weights(g));
        char d[] = "/tmp/test_codegen_XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(d));
        emit_into(g, false, t, d);
        char *p = xprintf("%s/tm.c", d);
        size_t n;
        char *c = slurp(p, &n);
        ck_assert_msg(strstr(c, cases[i].want) != NULL, "%s: no %s", cases[i].target, cases[i].want);
        if (cases[i].not_want)
            ck_assert_msg(strstr(c, cases[i].not_want) == NULL, "%s: %s", cases[i].target, cases[i].not_want);
        free(c);
        free(p);
        char *cmd = xprintf("rm -rf %s", d);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
        graph_free(g);
    }
}
END_TEST

START_TEST(ops_match_interpreter)
{
    Graph *g = ops_graph();
    check_against_interp(g, false);
    graph_free(g);
}
END_TEST

START_TEST(embedded_matches_interpreter)
{
    Graph *g = ops_graph();
    check_against_interp(g, true);
    graph_free(g);
}
END_TEST

/* Copies src to dst with byte `at` (from the end if negative) xor'ed, and the size cut. */
static void
corrupt_copy(const char *src, const char *dst, long at, size_t cut)
{
    size_t n;
    char *b = slurp(src, &n);
    if (at)
        b[at < 0 ? (long)n + at : at] ^= 0x20;
    FILE *f = fopen(dst, "wb");
    fwrite(b, 1, n - cut, f);
    fclose(f);
    free(b);
}

static void
expect_open_error(Built *b, const char *weights, const char *message)
{
    float x[4 * 19 * 17] = {0}, *y;
    char *msg;
    int st = run_built(b, false, weights, 1, x, 4 * 19 * 17, 3 * 5 * 5, &y, &msg);
    ck_assert_int_eq(st, 2);
    ck_assert_msg(strstr(msg, message) != NULL, "got '%s', want '%s'", msg, message);
    free(msg);
}

START_TEST(bad_weights_refused)
{
    Graph *g = conv_graph();
    Built b;
    build(g, false, &b);
    char *w = xprintf("%s/tm.weights", b.dir), *bad = xprintf("%s/bad.weights", b.dir);
    corrupt_copy(w, bad, 0, 1);
    expect_open_error(&b, bad, "truncated");
    corrupt_copy(w, bad, -3, 0);
    expect_open_error(&b, bad, "CRC-32");
    corrupt_copy(w, bad, 1, 0);
    expect_open_error(&b, bad, "not a visec weights file");
    corrupt_copy(w, bad, 49, 0);
    expect_open_error(&b, bad, "another model");
    expect_open_error(&b, "/nonexistent.weights", "cannot open");

    /* The same sizes with one tensor renamed: another build (layout hash). */
    Graph *g2 = conv_graph();
    Tensor *t = GRAPH_NODE(g2, 0)->param[P_WEIGHT];
    free(t->name);
    t->name = xstrdup("c1.weight_");
    char *other2 = xprintf("%s/other2", b.dir);
    mkdir(other2, 0700);
    emit_into(g2, false, NULL, other2);
    char *ow2 = xprintf("%s/tm.weights", other2);
    expect_open_error(&b, ow2, "another build");
    graph_free(g2);
    free(other2);
    free(ow2);

    /* Fewer tensors: does not fit (count and size). */
    Graph *g3 = graph_new("convs");
    Value *x = graph_input(g3, "x", shape4(DIM_N, 4, 19, 17));
    Attrs a = conv_attrs(3, 3, 1, 1, 1, 1, true);
    Value *c = op(g3, OP_CONV2D, &x, 1, &a, "c1");
    graph_output(g3, "y", c);
    fill_all(g3);
    char *other = xprintf("%s/other", b.dir);
    mkdir(other, 0700);
    emit_into(g3, false, NULL, other);
    char *ow = xprintf("%s/tm.weights", other);
    expect_open_error(&b, ow, "does not fit this build");
    graph_free(g3);
    free(other);
    free(ow);
    free(w);
    free(bad);
    cleanup(&b);
    graph_free(g);
}
END_TEST

START_TEST(output_is_deterministic)
{
    char d1[] = "/tmp/test_codegen_XXXXXX", d2[] = "/tmp/test_codegen_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(d1));
    ck_assert_ptr_nonnull(mkdtemp(d2));
    Graph *g = conv_graph();
    emit_into(g, false, NULL, d1);
    graph_free(g);
    g = conv_graph();
    emit_into(g, false, NULL, d2);
    graph_free(g);
    const char *files[] = {"tm.h", "tm.c", "tm.weights"};
    for (int i = 0; i < 3; i++) {
        char *p1 = xprintf("%s/%s", d1, files[i]), *p2 = xprintf("%s/%s", d2, files[i]);
        size_t n1, n2;
        char *a = slurp(p1, &n1), *b = slurp(p2, &n2);
        ck_assert_uint_eq(n1, n2);
        ck_assert_msg(memcmp(a, b, n1) == 0, "%s differs between two runs", files[i]);
        free(a);
        free(b);
        free(p1);
        free(p2);
    }
    char *cmd = xprintf("rm -rf %s %s", d1, d2);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}
END_TEST

START_TEST(layer_comments)
{
    char d[] = "/tmp/test_codegen_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(d));
    Graph *g = conv_graph();
    emit_into(g, false, NULL, d);
    char *p = xprintf("%s/tm.c", d);
    size_t n;
    char *c = slurp(p, &n);
    ck_assert_ptr_nonnull(strstr(c, " * layer c4: conv2d\n"));
    ck_assert_ptr_nonnull(strstr(c, "origin:    conv c4 + add + relu (fused)"));
    ck_assert_ptr_nonnull(strstr(c, "attrs:     out=12 kernel=1x1 stride=1x1 pad=0x0 bias +add +relu"));
    ck_assert_ptr_nonnull(strstr(c, "weight     c1.weight [6, 2, 3, 3] at file offset 128"));
    ck_assert_ptr_nonnull(strstr(c, "schedule:  algo=gemm reg=5x4 tile_k=0 tile_pix=0 order=co,pix lanes=pix parallel=inside\n"));
    ck_assert_ptr_nonnull(strstr(c, "static void\nlayer_c1("));
    ck_assert_ptr_nonnull(strstr(c, "} /* layer_c6 */"));
    ck_assert_ptr_nonnull(strstr(c, "#define VX_API static"));
    ck_assert_ptr_nonnull(strstr(c, "the block at the pixel edge: 2 columns */"));  /* c2: 90 = 22 * 4 + 2 */
    ck_assert_ptr_nonnull(strstr(c, "/* a block short of output channels */"));        /* c2: 12 = 5 + 5 + 2 */
    ck_assert_ptr_null(strstr(c, "#include <immintrin.h>"));  /* no target: reference kernels only */
    ck_assert_ptr_nonnull(strstr(c, "in blocks of 5 output channels x 4 pixels"));
    ck_assert_ptr_null(strstr(c, "#include \"vx_"));    /* the runtime is pasted, not included */
    ck_assert_ptr_null(strstr(c, "#pragma"));           /* only through VX_OMP */
    free(c);
    free(p);
    char *cmd = xprintf("rm -rf %s", d);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    graph_free(g);
}
END_TEST

START_TEST(unsupported_reported)
{
    TestDiag td;
    CodegenOptions o = {0};
    Graph *g = conv_graph();
    td_init(&td);
    o.name = "9lives";
    ck_assert(!codegen_check(g, &o, &td.d));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "'9lives' is not a valid C identifier"));
    td_free(&td);

    o.name = "vx_model";
    td_init(&td);
    ck_assert(!codegen_check(g, &o, &td.d));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "clashes"));
    td_free(&td);

    o.name = NULL;
    free(GRAPH_NODE(g, 2)->param[P_BIAS]->data);
    GRAPH_NODE(g, 2)->param[P_BIAS]->data = NULL;
    graph_output(g, "z", GRAPH_NODE(g, 0)->out);
    td_init(&td);
    ck_assert(!codegen_check(g, &o, &td.d));
    const char *m = td_text(&td);
    ck_assert_ptr_nonnull(strstr(m, "1 input and 2 outputs"));
    ck_assert_ptr_nonnull(strstr(m, "not supported yet"));
    ck_assert_ptr_nonnull(strstr(m, "tensor 'c3.bias' has no data"));
    td_free(&td);
    graph_free(g);
}
END_TEST

START_TEST(default_schedule)
{
    Graph *g = graph_new("s");
    Value *x = graph_input(g, "x", shape4(DIM_N, 4, 5, 5));
    int outs[] = {64, 12, 7, 3, 20};
    int trivial[] = {8, 4, 7, 3, 4};
    const Target *v4 = target_find("x86-64-v4"), *gen = target_find("generic");
    ck_assert_ptr_nonnull(v4);
    ck_assert_ptr_nonnull(gen);
    for (int i = 0; i < 5; i++) {
        Attrs a = conv_attrs(outs[i], 1, 1, 0, 1, 1, false);
        char pre[16];   /* "c" and any int */
        snprintf(pre, sizeof pre, "c%d", i);
        Value *v = op(g, OP_CONV2D, &x, 1, &a, pre);
        Schedule s = sched_trivial(v->def);
        ck_assert_int_eq(s.reg_co, trivial[i]);
        ck_assert_int_eq(s.reg_pix, 25);        /* 5x5 pixels: no wider than the layer */
        ck_assert_int_eq(s.parallel, PAR_INSIDE);
        ck_assert_int_eq(s.algo, ALGO_GEMM);
        ck_assert_ptr_null(sched_check(v->def, v4, &s, true, NULL));
        s = sched_default(v->def, v4, true, NULL);
        ck_assert_int_eq(s.reg_co, outs[i] < 6 ? outs[i] : 6);
        ck_assert_int_eq(s.reg_pix, 25);
        ck_assert_ptr_null(sched_check(v->def, v4, &s, true, NULL));
        s = sched_default(v->def, gen, true, NULL);
        ck_assert_int_eq(s.reg_co, outs[i] < 4 ? outs[i] : 4);
        ck_assert_int_eq(s.reg_pix, 16);
    }
    /* x86-64-v4 (1 MiB L2), 1x1 over 256 x 28 x 28 (a 784 KiB operand, more than half of L2): pixel
     * tiles outside for 64 output channels (64 KiB of weights), channel blocks outside for 512
     * (512 KiB: more than half the operand) */
    Value *x28 = graph_input(g, "x28", shape4(DIM_N, 256, 28, 28));
    for (int co = 64; co <= 512; co *= 8) {
        Attrs a = conv_attrs(co, 1, 1, 0, 1, 1, false);
        char pre[16];
        snprintf(pre, sizeof pre, "o%d", co);
        Value *v = op(g, OP_CONV2D, &x28, 1, &a, pre);
        Schedule s = sched_default(v->def, v4, true, NULL);
        ck_assert_int_eq(s.order, co == 64 ? ORDER_PIX_CO : ORDER_CO_PIX);
    }
    /* a 7x7 map's 49 pixels, 3 vectors of 16 and one column in channel lanes: 8 rows fit the
     * AVX-512 registers; 6 rows in 4 pixel vectors without packed weights; x86-64-v3's 6 x 16 */
    Value *x7 = graph_input(g, "x7", shape4(DIM_N, 64, 7, 7));
    Attrs a7 = conv_attrs(512, 1, 1, 0, 1, 1, false);
    Value *c7 = op(g, OP_CONV2D, &x7, 1, &a7, "m7");
    Schedule s7 = sched_default(c7->def, v4, true, NULL);
    ck_assert_int_eq(s7.reg_co, 8);
    ck_assert_int_eq(s7.reg_pix, 49);
    ck_assert_int_eq(block_vregs(16, 8, 49, true), 31);
    ck_assert_int_eq(block_vregs(16, 8, 49, false), 37);
    s7 = sched_default(c7->def, v4, false, NULL);
    ck_assert_int_eq(s7.reg_co, 6);
    s7 = sched_default(c7->def, target_find("x86-64-v3"), true, NULL);
    ck_assert_int_eq(s7.reg_co, 6);
    ck_assert_int_eq(s7.reg_pix, 16);
    /* 1x1 over 1024 x 14 x 14 (channel blocks outside): 2 vectors of pixels and 13 rows for 256
     * channels (260 against 14 rows' 266), 14 for 512 (518 against 520); the same with pixel
     * tiles outside (over 256 x 56 x 56); the table's 6 x 64 with 64 input channels, without
     * packed weights, and on x86-64-v3 and aarch64 */
    Value *x14 = graph_input(g, "x14", shape4(DIM_N, 1024, 14, 14));
    Value *x14s = graph_input(g, "x14s", shape4(DIM_N, 64, 14, 14));
    Value *x56 = graph_input(g, "x56", shape4(DIM_N, 256, 56, 56));
    Attrs a256 = conv_attrs(256, 1, 1, 0, 1, 1, false), a512 = conv_attrs(512, 1, 1, 0, 1, 1, false);
    Value *t256 = op(g, OP_CONV2D, &x14, 1, &a256, "t256"), *t512 = op(g, OP_CONV2D, &x14, 1, &a512, "t512");
    Value *tshort = op(g, OP_CONV2D, &x14s, 1, &a256, "ts"), *twide = op(g, OP_CONV2D, &x56, 1, &a256, "tw");
    Schedule st = sched_default(t256->def, v4, true, NULL);
    ck_assert_int_eq(st.order, ORDER_CO_PIX);
    ck_assert_int_eq(st.reg_co, 13);
    ck_assert_int_eq(st.reg_pix, 32);
    ck_assert_ptr_null(sched_check(t256->def, v4, &st, true, NULL));
    st = sched_default(t512->def, v4, true, NULL);
    ck_assert_int_eq(st.reg_co, 14);
    ck_assert_int_eq(st.reg_pix, 32);
    ck_assert_int_eq(block_vregs(16, 14, 32, true), 31);
    st = sched_default(twide->def, v4, true, NULL);
    ck_assert_int_eq(st.order, ORDER_PIX_CO);
    ck_assert_int_eq(st.reg_co, 13);
    ck_assert_int_eq(st.reg_pix, 32);
    Schedule table[] = {sched_default(tshort->def, v4, true, NULL), sched_default(t256->def, v4, false, NULL)};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(table[i].reg_co, 6);
        ck_assert_int_eq(table[i].reg_pix, 64);
    }
    st = sched_default(t256->def, target_find("x86-64-v3"), true, NULL);
    ck_assert_int_eq(st.reg_co, 6);
    ck_assert_int_eq(st.reg_pix, 16);
    st = sched_default(t256->def, target_find("aarch64"), true, NULL);
    ck_assert_int_eq(st.reg_co, 6);
    ck_assert_int_eq(st.reg_pix, 16);
    /* x86-64-v3's groups of pixel tiles, as even as 8 tiles at most allow: 49 tiles of 16 pixels
     * (28x28) in 7 groups of 7, 196 (56x56) in groups of 8, 13 (14x14) in 7 and 6 */
    static const int side[] = {28, 56, 14}, want[] = {112, 128, 112};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "xg%d", side[i]);
        Value *xg = graph_input(g, name, shape4(DIM_N, 1024, side[i], side[i]));
        snprintf(name, sizeof name, "g%d", side[i]);
        Attrs ag = conv_attrs(128, 1, 1, 0, 1, 1, false);
        Value *vg = op(g, OP_CONV2D, &xg, 1, &ag, name);
        st = sched_default(vg->def, target_find("x86-64-v3"), true, NULL);
        ck_assert_int_eq(st.order, ORDER_PIX_CO);
        ck_assert_int_eq(st.reg_pix, 16);
        ck_assert_int_eq(st.tile_pix, want[i]);
    }
    Attrs a3 = conv_attrs(64, 3, 1, 1, 1, 1, false);
    /* a 3x3 over 512 x 7 x 7 (16 tiles of 2x2): Winograd F(2x2) on x86-64-v3 and x86-64-v4; the
     * tiles are one AVX-512 vector, so 24 rows keep the table's 6 x 64 accumulators (20 rows where
     * the layer has 20 channels); two AVX2 vectors, the table's 6 x 16; gemm without packed weights */
    Value *x7w = graph_input(g, "x7w", shape4(DIM_N, 512, 7, 7));
    Value *w7 = op(g, OP_CONV2D, &x7w, 1, &a3, "w7");
    Attrs a20 = conv_attrs(20, 3, 1, 1, 1, 1, false);
    Value *w7n = op(g, OP_CONV2D, &x7w, 1, &a20, "w7n");
    ck_assert_int_eq(sched_default(w7->def, target_find("x86-64-v3"), true, NULL).algo, ALGO_WINOGRAD2);
    ck_assert_int_eq(sched_default(w7->def, target_find("x86-64-v3"), true, NULL).reg_co, 6);
    st = sched_default(w7->def, v4, true, NULL);
    ck_assert_int_eq(st.algo, ALGO_WINOGRAD2);
    ck_assert_int_eq(st.reg_co, 24);
    ck_assert_int_eq(st.reg_pix, 16);
    ck_assert_int_eq(block_vregs(16, 24, 16, true), 26);
    ck_assert_ptr_null(sched_check(w7->def, v4, &st, true, NULL));
    ck_assert_int_eq(sched_default(w7n->def, v4, true, NULL).reg_co, 20);
    ck_assert_int_eq(sched_default(w7->def, v4, false, NULL).algo, ALGO_GEMM);
    /* the same for a gemm narrower than the table: 1x1 over a 4x4 map, 16 pixels */
    Value *x4 = graph_input(g, "x4", shape4(DIM_N, 64, 4, 4));
    Value *c4 = op(g, OP_CONV2D, &x4, 1, &a256, "n4");
    st = sched_default(c4->def, v4, true, NULL);
    ck_assert_int_eq(st.reg_co, 24);
    ck_assert_int_eq(st.reg_pix, 16);
    ck_assert_int_eq(sched_default(c4->def, v4, false, NULL).reg_co, 6);
    /* a strided 3x3 over per-tile im2col panels: 784 output pixels (28x28) in 16 tiles of 49, 8
     * rows beside the column in channel lanes, where 6 x 64 leaves an edge tile of 16; 1024 (32x32)
     * in the table's 6 x 64; x86-64-v3's 6 x 16 */
    Value *xs56 = graph_input(g, "xs56", shape4(DIM_N, 128, 56, 56));
    Value *xs64 = graph_input(g, "xs64", shape4(DIM_N, 128, 64, 64));
    Attrs as2 = conv_attrs(128, 3, 2, 1, 1, 1, false);
    Value *s784 = op(g, OP_CONV2D, &xs56, 1, &as2, "s784"), *s1024 = op(g, OP_CONV2D, &xs64, 1, &as2, "s1k");
    st = sched_default(s784->def, v4, true, NULL);
    ck_assert_int_eq(st.algo, ALGO_GEMM);
    ck_assert_int_eq(st.order, ORDER_PIX_CO);
    ck_assert_int_eq(st.reg_co, 8);
    ck_assert_int_eq(st.reg_pix, 49);
    ck_assert_ptr_null(sched_check(s784->def, v4, &st, true, NULL));
    char *why = NULL;
    sched_default(s784->def, v4, true, &why);
    ck_assert_ptr_nonnull(strstr(why, "49 columns tile the layer's 784 in 16 with no edge tile"));
    free(why);
    st = sched_default(s1024->def, v4, true, NULL);
    ck_assert_int_eq(st.reg_co, 6);
    ck_assert_int_eq(st.reg_pix, 64);
    st = sched_default(s784->def, target_find("x86-64-v3"), true, NULL);
    ck_assert_int_eq(st.reg_co, 6);
    ck_assert_int_eq(st.reg_pix, 16);
    ck_assert_int_eq(sched_default(s784->def, v4, false, NULL).reg_pix, 64);
    /* Winograd's order goes by one position's product: F(4x4) over 64 x 56 x 56 has a 6.9 MiB
     * im2col panel but 50 KiB a position, so channel blocks outside; with 8 MiB a position
     * (1024 channels x 2048 tiles of 2x2) and 256 KiB of weights, pixel tiles outside */
    Value *x56w = graph_input(g, "x56w", shape4(DIM_N, 64, 56, 56));
    Value *x90w = graph_input(g, "x90w", shape4(DIM_N, 1024, 64, 128));
    Value *w56 = op(g, OP_CONV2D, &x56w, 1, &a3, "wi");
    Value *w90 = op(g, OP_CONV2D, &x90w, 1, &a3, "wo");
    st = sched_default(w56->def, v4, true, NULL);
    ck_assert_int_eq(st.algo, ALGO_WINOGRAD4);
    ck_assert_int_eq(st.order, ORDER_CO_PIX);
    Schedule s2 = sched_default_for(w90->def, v4, ALGO_WINOGRAD2, true);
    ck_assert_int_eq(s2.order, ORDER_PIX_CO);
    /* kernels larger than 3x3 run direct (the padded input), 3x3 and 1x1 as gemm */
    for (int k = 1; k <= 7; k += 2) {
        Attrs a = conv_attrs(8, k, 2, k / 2, 1, 1, false);
        char pre[16];
        snprintf(pre, sizeof pre, "k%d", k);
        Value *v = op(g, OP_CONV2D, &x, 1, &a, pre);
        Schedule s = sched_default(v->def, v4, true, NULL);
        ck_assert_int_eq(s.algo, k > 3 ? ALGO_DIRECT : ALGO_GEMM);
        ck_assert_ptr_null(sched_check(v->def, v4, &s, true, NULL));
    }
    graph_free(g);
}
END_TEST

/*
 * Every legal schedule computes the same function: random graphs, each
 * through the whole pipeline with a random legal schedule for a random
 * target, generated code against the interpreter (batches 1 to 3, with and
 * without OpenMP, bit-identical between the two).
 */
#define RANDOM_SCHEDULES 175

/* Is g's output zero for a random input? */
static bool
all_zero(Graph *g)
{
    int64_t n = shape_numel(((Value *)g->inputs.v[0])->shape, 1);
    int64_t m = shape_numel(((Value *)g->outputs.v[0])->shape, 1);
    float *x = xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        x[i] = rnd();
    float *y = interp1(g, 1, x);
    bool zero = true;
    for (int64_t i = 0; i < m && zero; i++)
        zero = y[i] == 0.0f;
    free(x);
    free(y);
    return zero;
}
START_TEST(random_schedules_match_interpreter)
{
    int done = 0, algos[ALGO_COUNT] = {0}, pars[PAR_COUNT] = {0}, tiled = 0, co_lanes = 0, panels = 0, panel_groups = 0;
    int blocked = 0, reorders = 0;
    for (uint64_t seed = 1; done < RANDOM_SCHEDULES; seed++) {
        Diag d;
        FILE *null = fopen("/dev/null", "w");
        diag_init(&d, null);
        Graph *g = random_graph(seed * 104729, &d);
        fclose(null);
        if (d.nerrors || g->outputs.n != 1 || all_zero(g)) {
            /* shapes that do not fit; codegen's one output; a relu that
             * zeroes everything would make a weak test */
            graph_free(g);
            continue;
        }
        const Target *t = target_tables[seed % 4];
        PipelineOptions o = {.out = stdout, .target = t, .sched_random = seed};
        ck_assert(run_pipeline(g, &o));
        for (int i = 0; i < g->nodes.n; i++) {
            const Node *n = g->nodes.v[i];
            ck_assert_ptr_null(sched_check(n, t, &n->sched, true, NULL));
            algos[n->sched.algo]++;
            pars[n->sched.parallel]++;
            tiled += n->sched.tile_k > 0;
            co_lanes += n->sched.lanes == LANES_CO && t->lanes > 1 && n->sched.reg_co % t->lanes == 0;
            panels += n->sched.algo == ALGO_GEMM && n->scratch && n->sched.order == ORDER_PIX_CO;
            panel_groups += n->sched.algo == ALGO_GEMM && n->scratch && n->sched.order == ORDER_PIX_CO &&
                            n->sched.tile_pix > 0;
            blocked += n->out->layout == LAYOUT_NCHWC && n->op == OP_CONV2D;
            reorders += n->op == OP_REORDER;
        }
        /* The target's vector kernels where this CPU runs them, else the
         * reference kernels under '#else'. */
        const char *cflags = !strcmp(t->name, "x86-64-v4") && cpu_runs("avx512f") ? "-march=x86-64-v4"
                             : !strcmp(t->name, "x86-64-v3") && cpu_runs("avx2") ? "-march=x86-64-v3"
                                                                               : "";
        check_against_interp_for(g, false, t, cflags, NULL);
        graph_free(g);
        done++;
    }
    /* The draws reached every algorithm and parallel axis, reduction tiles, channel lanes, and
     * im2col panels built a tile at a time and in groups of tiles. */
    ck_assert_int_gt(algos[ALGO_GEMM], 0);
    ck_assert_int_gt(algos[ALGO_DIRECT], 0);
    ck_assert_int_gt(algos[ALGO_WINOGRAD2], 0);
    ck_assert_int_gt(algos[ALGO_WINOGRAD4], 0);
    ck_assert_int_gt(pars[PAR_NONE] * pars[PAR_BATCH] * pars[PAR_INSIDE], 0);
    ck_assert_int_gt(tiled, 0);
    ck_assert_int_gt(co_lanes, 0);
    ck_assert_int_gt(panels, 0);
    ck_assert_int_gt(panel_groups, 0);
    /* and blocked (NCHWc) outputs with their reorders (tests/cli/layout_blocked.sh
     * has convs read them in place) */
    ck_assert_int_gt(blocked, 0);
    ck_assert_int_gt(reorders, 0);
}
END_TEST

/* --runtime halide: every parallel loop becomes a task function run by
   halide_do_par_for; the entry points and the registration stub are there. */
START_TEST(halide_runtime_outlines)
{
    Graph *g = conv_graph();
    complete_schedules(g);
    free(plan_naive(g));
    CodegenOptions o = {.name = "tm", .model_path = "test.vise", .runtime = RUNTIME_HALIDE};
    TestDiag td;
    td_init(&td);
    ck_assert_msg(codegen_check(g, &o, &td.d), "codegen_check: %s", td_text(&td));
    td_free(&td);
    char *hb = NULL, *cb = NULL, *rb = NULL;
    size_t hn = 0, cn = 0, rn = 0;
    FILE *h = open_memstream(&hb, &hn), *c = open_memstream(&cb, &cn), *r = open_memstream(&rb, &rn);
    FILE *w = fopen("/dev/null", "wb");
    codegen_emit(g, &o, "tm.h", h, c, w);
    codegen_emit_registration(g, &o, r);
    fclose(h);
    fclose(c);
    fclose(r);
    fclose(w);
    ck_assert_ptr_nonnull(strstr(cb, "#include \"HalideRuntime.h\""));
    ck_assert_ptr_null(strstr(cb, "VX_OMP("));
    ck_assert_ptr_null(strstr(cb, "#pragma"));
    ck_assert_ptr_nonnull(strstr(cb, "struct layer_c1_par1_closure {"));
    ck_assert_ptr_nonnull(strstr(cb, "static int\nlayer_c1_par1(void *user_context, int vx_task, uint8_t *vx_closure)"));
    ck_assert_ptr_nonnull(strstr(cb, "halide_do_par_for(user_context, layer_c1_par1, 0, "));
    ck_assert_ptr_nonnull(strstr(cb, "static int\nlayer_c1(void *user_context, "));
    /* task functions come before their layer */
    ck_assert(strstr(cb, "layer_c1_par1(void") < strstr(cb, "layer_c1(void"));
    ck_assert_ptr_nonnull(strstr(cb, "halide_malloc(NULL, (size_t)vx_batch * VX_ARENA_BYTES)"));
    ck_assert_ptr_nonnull(strstr(cb, "const struct halide_filter_metadata_t *\ntm_metadata(void)"));
    ck_assert_ptr_nonnull(strstr(hb, "int tm(struct halide_buffer_t *weights, struct halide_buffer_t *"));
    ck_assert_ptr_nonnull(strstr(hb, "int tm_open(const char *weights_path, struct tm **model);"));
    ck_assert_ptr_null(strstr(hb, "typedef struct tm tm;"));
    ck_assert_ptr_nonnull(strstr(rb, "halide_register_argv_and_metadata(::tm_argv, ::tm_metadata(), nullptr);"));
    free(hb);
    free(cb);
    free(rb);
    graph_free(g);
}
END_TEST

Suite *suite_codegen(void)
{
    Suite *s = suite_create("codegen");
    TCase *t = tcase_create("codegen");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, convs_match_interpreter);
    tcase_add_test(t, packed_convs_match_interpreter);
    tcase_add_test(t, winograd_matches_interpreter);
    tcase_add_test(t, winograd4_legality);
    tcase_add_test(t, vector_kernels_match_interpreter);
    tcase_add_test(t, co_lanes_match_interpreter);
    tcase_add_test(t, pixel_tail_in_channel_lanes);
    tcase_add_test(t, tall_blocks_match_interpreter);
    tcase_add_test(t, tile_panel_groups_match_interpreter);
    tcase_add_test(t, direct_matches_interpreter);
    tcase_add_test(t, weight_prefetch);
    tcase_add_test(t, ops_match_interpreter);
    tcase_add_test(t, embedded_matches_interpreter);
    tcase_add_test(t, bad_weights_refused);
    tcase_add_test(t, output_is_deterministic);
    tcase_add_test(t, layer_comments);
    tcase_add_test(t, unsupported_reported);
    tcase_add_test(t, default_schedule);
    tcase_add_test(t, halide_runtime_outlines);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("random_schedules");
    tcase_set_timeout(r, 1800);
    tcase_add_test(r, random_schedules_match_interpreter);
    suite_add_tcase(s, r);
    return s;
}
