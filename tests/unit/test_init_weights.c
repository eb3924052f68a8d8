/*
 * test_init_weights.c — synthetic weights: deterministic, sensibly scaled,
 * and read back exactly by the checkpoint reader.
 */
#include <math.h>
#include <unistd.h>

#include "checkpoint.h"
#include "safetensors_write.h"
#include "testutil.h"

static const Loc noloc;

/* conv 8 -> 16, 3x3, with bias; batchnorm over its 16 channels. */
static Graph *
small_graph(void)
{
    TestDiag td;
    td_init(&td);
    Graph *g = graph_new("t");
    Value *x = graph_input(g, "x", shape4(DIM_N, 8, 5, 5));
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 16, a.kh = a.kw = 3, a.bias = true;
    Value *v = ir_op(g, &td.d, OP_CONV2D, noloc, &x, 1, &a, "layer.conv");
    Attrs b = attrs_default(OP_BATCHNORM);
    v = ir_op(g, &td.d, OP_BATCHNORM, noloc, &v, 1, &b, "layer.bn");
    ck_assert_ptr_nonnull(v);
    graph_output(g, "y", v);
    td_free(&td);
    return g;
}

static double
stddev(const Tensor *t)
{
    int64_t n = shape_numel(t->shape, 1);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        s += t->data[i], s2 += (double)t->data[i] * t->data[i];
    return sqrt(s2 / n - (s / n) * (s / n));
}

START_TEST(deterministic_and_scaled)
{
    Graph *g1 = small_graph(), *g2 = small_graph(), *g3 = small_graph();
    weights_synthesize(g1, 42);
    weights_synthesize(g2, 42);
    weights_synthesize(g3, 43);
    Tensor *w1 = graph_find_tensor(g1, "layer.conv.weight");
    Tensor *w2 = graph_find_tensor(g2, "layer.conv.weight");
    Tensor *w3 = graph_find_tensor(g3, "layer.conv.weight");
    size_t bytes = (size_t)shape_numel(w1->shape, 1) * 4;
    ck_assert_int_eq(memcmp(w1->data, w2->data, bytes), 0);
    ck_assert_int_ne(memcmp(w1->data, w3->data, bytes), 0);
    /* Kaiming: std sqrt(2 / (8 * 3 * 3)) = 0.167, within sampling error */
    double sd = stddev(w1);
    ck_assert_msg(fabs(sd - sqrt(2.0 / 72)) < 0.02, "conv weight std %g", sd);
    /* ranges of the batch-norm tensors */
    const Tensor *var = graph_find_tensor(g1, "layer.bn.running_var");
    const Tensor *gam = graph_find_tensor(g1, "layer.bn.weight");
    for (int i = 0; i < 16; i++) {
        ck_assert(var->data[i] >= 0.5f && var->data[i] <= 2.0f);
        ck_assert(gam->data[i] >= 0.5f && gam->data[i] <= 1.5f);
    }
    /* Fixed bit patterns pin the generator down across machines and
     * versions: changing them changes every synthetic checkpoint. */
    uint32_t u;
    memcpy(&u, &w1->data[0], 4);
    ck_assert_msg(u == 0xbd29766fu, "layer.conv.weight[0] = %.9g (0x%08x)", (double)w1->data[0], u);
    memcpy(&u, &graph_find_tensor(g1, "layer.conv.bias")->data[3], 4);
    ck_assert_msg(u == 0xbc9781bbu, "layer.conv.bias[3] = 0x%08x", u);
    graph_free(g1);
    graph_free(g2);
    graph_free(g3);
}
END_TEST

START_TEST(reader_reads_it_back)
{
    Graph *g = small_graph();
    weights_synthesize(g, 7);
    char path[] = "/tmp/visec-st-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    TestDiag td;
    td_init(&td);
    ck_assert(safetensors_write(path, g, &td.d));
    CkOptions o = {0};
    Checkpoint *c = ckpt_open(path, &o, &td.d);
    ck_assert_msg(c != NULL, "%s", td_text(&td));
    ck_assert_int_eq(c->nt, 6);
    for (int i = 0; i < g->tensors.n; i++) {
        const Tensor *t = g->tensors.v[i];
        const CkTensor *ct = ckpt_find(c, t->name);
        ck_assert_msg(ct != NULL, "no %s", t->name);
        ck_assert_int_eq(ct->dtype, CK_F32);
        ck_assert_int_eq(ct->rank, t->shape.rank);
        float *x = ckpt_read_f32(c, ct, &td.d);
        ck_assert_int_eq(memcmp(x, t->data, (size_t)shape_numel(t->shape, 1) * 4), 0);
        free(x);
    }
    ckpt_free(c);
    ck_assert_int_eq(td.d.nerrors, 0);
    td_free(&td);
    unlink(path);
    graph_free(g);
}
END_TEST

START_TEST(no_data_is_an_error)
{
    Graph *g = small_graph();
    TestDiag td;
    td_init(&td);
    ck_assert(!safetensors_write("/tmp/visec-never-written", g, &td.d));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "tensor 'layer.conv.weight' has no data to write"));
    ck_assert_int_ne(access("/tmp/visec-never-written", F_OK), 0);
    td_free(&td);
    graph_free(g);
}
END_TEST

Suite *suite_init_weights(void)
{
    return suite_of("init_weights", tcase_of("init_weights", 0, TESTS(deterministic_and_scaled,
                                             reader_reads_it_back, no_data_is_an_error)));
}
