/*
 * test_ckpt.c — checkpoint reading and weight binding.
 *
 * CRC-32 against zlib's known values, the dtype conversions, the pickle
 * machine on hand-built pickles, and bind_weights on a graph built with
 * ir_op() and a safetensors file written here.
 */
#include <math.h>
#include <unistd.h>

#include "bind.h"
#include "checkpoint.h"
#include "visec.h"
#include "testutil.h"
#include "vx_crc32.h"

START_TEST(crc32_known)
{
    ck_assert_uint_eq(vx_crc32(0, "", 0), 0);
    ck_assert_uint_eq(vx_crc32(0, "123456789", 9), 0xcbf43926u);
    /* Chaining, as zlib.crc32(b, crc) does. */
    ck_assert_uint_eq(vx_crc32(vx_crc32(0, "12345", 5), "6789", 4), 0xcbf43926u);
}
END_TEST

START_TEST(dtype_conversions)
{
    const unsigned char h[] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c, 0xff, 0x7b};
    float f[5];
    ck_to_f32(CK_F16, h, 5, f);
    ck_assert(f[0] == 1.0f && f[1] == -2.0f && f[2] == 0x1p-24f && isinf(f[3]) && f[4] == 65504.0f);
    const unsigned char bf[] = {0x80, 0x3f, 0xc0, 0x7f};
    ck_to_f32(CK_BF16, bf, 2, f);
    ck_assert(f[0] == 1.0f && isnan(f[1]));
    double dd[3] = {0.1, 1e300, -1e300};
    ck_to_f32(CK_F64, (const unsigned char *)dd, 3, f);
    ck_assert(f[0] == 0.1f && isinf(f[1]) && f[1] > 0 && isinf(f[2]) && f[2] < 0);
}
END_TEST

/* Runs a pickle with no persistent ids; returns the diagnostics. */
static PyVal *
run_pickle(TestDiag *td, Pickle *pk, Checkpoint *c, const char *bytes, size_t n)
{
    memset(pk, 0, sizeof *pk);
    pk->path = "t.pkl";
    pk->p = (const unsigned char *)bytes;
    pk->n = n;
    pk->d = &td->d;
    pk->ck = c;
    return pickle_load(pk);
}

START_TEST(pickle_data)
{
    TestDiag td;
    td_init(&td);
    Checkpoint c = {0};
    Pickle pk;
    /* {'a': [1, -2, 'x'], 'b': (None, True)} with memo round trips */
    static const char p[] = "\x80\x02}q\x00(X\x01\x00\x00\x00" "a]q\x01(K\x01J\xfe\xff\xff\xff"
                            "\x8c\x01xeX\x01\x00\x00\x00" "bN\x88\x86u.";
    PyVal *v = run_pickle(&td, &pk, &c, p, sizeof p - 1);
    ck_assert_msg(v != NULL, "%s", td_text(&td));
    ck_assert_int_eq(v->kind, PV_DICT);
    PyVal *a = pv_dict_get(v, "a"), *b = pv_dict_get(v, "b");
    ck_assert(a && a->kind == PV_LIST && a->n == 3);
    ck_assert_int_eq(a->v[1]->i, -2);
    ck_assert_str_eq(a->v[2]->s, "x");
    ck_assert(b && b->kind == PV_TUPLE && b->n == 2 && b->v[1]->kind == PV_BOOL && b->v[1]->i == 1);
    pickle_free(&pk);
    td_free(&td);
}
END_TEST

START_TEST(pickle_refuses)
{
    static const struct {
        const char *bytes;
        size_t n;
        const char *msg;
    } cases[] = {
        {"\x80\x02(ios\nsystem\n.", 17, "unsupported opcode 0x69 ('i') (at byte offset 3)"},
        {"\x80\x02}q\x05h\x06.", 8, "memo entry 6 is not set (at byte offset 5)"},
        {"\x80\x02}", 3, "truncated: no STOP opcode (at byte offset 3)"},
        {"\x80\x02X\x05\x00\x00\x00" "ab", 9, "truncated"},
        {"\x80\x02" "ccollections\nOrderedDict\n" "K\x01\x85R.", 31, "OrderedDict with arguments"},
        {"\x80\x02" "ctorch\nHalfStorage\n" ")R.", 23, "refusing to call 'HalfStorage'"},
        {"\x80\x02}K\x01u.", 6, "no MARK"},
        {"\x80\x02K\x01K\x02.", 7, "STOP with 2 values"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TestDiag td;
        td_init(&td);
        Checkpoint c = {0};
        Pickle pk;
        PyVal *v = run_pickle(&td, &pk, &c, cases[i].bytes, cases[i].n);
        ck_assert_msg(v == NULL, "case %zu accepted", i);
        ck_assert_msg(strstr(td_text(&td), cases[i].msg), "case %zu: %s", i, td_text(&td));
        ck_assert_int_eq(td.d.nerrors, 1);
        pickle_free(&pk);
        td_free(&td);
    }
}
END_TEST

/* Unknown globals become inert placeholders: calling, instantiating and
 * building them records the class name and nothing else. */
START_TEST(pickle_placeholders)
{
    /* {'args': argparse.Namespace() with state {'lr': 1}, 'run': os.system('ls'),
     *  'b': SHORT_BINBYTES, 'n': NEWOBJ_EX of numpy.x} */
    static const char p[] = "\x80\x02}(X\x04\x00\x00\x00" "args" "cargparse\nNamespace\n)\x81"
                            "}X\x02\x00\x00\x00lrK\x01sb"
                            "X\x03\x00\x00\x00run" "cos\nsystem\nX\x02\x00\x00\x00ls\x85R"
                            "X\x01\x00\x00\x00" "bC\x02\x00\x01"
                            "X\x01\x00\x00\x00" "ncnumpy\nx\n)}\x92u.";
    TestDiag td;
    td_init(&td);
    Checkpoint c = {0};
    Pickle pk;
    PyVal *v = run_pickle(&td, &pk, &c, p, sizeof p - 1);
    ck_assert_msg(v != NULL, "%s", td_text(&td));
    PyVal *a = pv_dict_get(v, "args"), *r = pv_dict_get(v, "run"), *b = pv_dict_get(v, "b"),
          *n = pv_dict_get(v, "n");
    ck_assert(a && a->kind == PV_OPAQUE);
    ck_assert_str_eq(a->s, "argparse.Namespace");
    ck_assert(r && r->kind == PV_OPAQUE);
    ck_assert_str_eq(r->s, "os.system");
    ck_assert(b && b->kind == PV_BYTES);
    ck_assert(n && n->kind == PV_OPAQUE);
    ck_assert_str_eq(n->s, "numpy.x");
    ck_assert_int_eq(td.d.nerrors, 0);
    pickle_free(&pk);
    td_free(&td);
}
END_TEST

/* ------------------------------------------------------------ binding */

/* Writes a safetensors file: conv "c" 2x1x1x1 (no bias), bn "b" with 2
 * channels, plus an extra tensor; returns its malloc'd path. */
static char *
write_st(const float *var1)
{
    char *path = xstrdup("/tmp/visec_test_ckpt_XXXXXX");
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    const char *h = "{\"c.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,1,1],\"data_offsets\":[0,8]},"
                    "\"b.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                    "\"b.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                    "\"b.running_mean\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
                    "\"b.running_var\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]},"
                    "\"extra\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[40,42]}}";
    uint64_t n = strlen(h);
    float data[10] = {2, 3, 1, 1, 0, 0, 0.5f, -0.5f, var1[0], var1[1]};
    FILE *f = fdopen(fd, "wb");
    fwrite(&n, 8, 1, f);
    fwrite(h, 1, n, f);
    fwrite(data, 4, 10, f);
    fwrite("\x00\x3c", 1, 2, f);
    fclose(f);
    return path;
}

static Graph *
small_graph(TestDiag *td, Source *src)
{
    Graph *g = graph_new("t");
    Loc l1 = {src, 1, 1, 6}, l2 = {src, 2, 1, 9};
    Value *x = graph_input(g, "x", shape4(DIM_N, 1, 4, 4));
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 2;
    Value *y = ir_op(g, &td->d, OP_CONV2D, l1, &x, 1, &a, "c");
    Attrs b = attrs_default(OP_BATCHNORM);
    Value *z = ir_op(g, &td->d, OP_BATCHNORM, l2, &y, 1, &b, "b");
    ck_assert(z != NULL);
    graph_output(g, "y", z);
    return g;
}

/* Frees what a binding test made: the checkpoint file at path, the graph,
 * its source and the diagnostics. */
static void
bind_done(char *path, Graph *g, Source *src, TestDiag *td)
{
    unlink(path);
    free(path);
    graph_free(g);
    source_free(src);
    td_free(td);
}

START_TEST(bind_ok)
{
    TestDiag td;
    td_init(&td);
    Source *src = source_from_string("m.vise", "conv2d\nbatchnorm\n");
    Graph *g = small_graph(&td, src);
    char *path = write_st((float[]){1.5f, 0.0f});
    BindOptions o = {.weights = path};
    ck_assert_msg(bind_weights(g, &o, &td.d), "%s", td_text(&td));
    Tensor *w = graph_find_tensor(g, "c.weight"), *v = graph_find_tensor(g, "b.running_var");
    ck_assert(w->data && w->data[0] == 2 && w->data[1] == 3);
    ck_assert(v->data && v->data[0] == 1.5f && v->data[1] == 0.0f);
    /* The unused tensor is reported once, as a warning. */
    ck_assert_int_eq(td.d.nwarnings, 1);
    ck_assert_ptr_nonnull(strstr(td_text(&td), "1 tensor is not used by the model: 'extra'"));
    bind_done(path, g, src, &td);
}
END_TEST

START_TEST(bind_errors)
{
    TestDiag td;
    td_init(&td);
    Source *src = source_from_string("m.vise", "conv2d\nbatchnorm\n");
    Graph *g = small_graph(&td, src);
    char *path = write_st((float[]){1.0f, -0.25f});
    BindOptions o = {.weights = path};
    ck_assert(!bind_weights(g, &o, &td.d));
    ck_assert_msg(strstr(td_text(&td), "m.vise:2:1: error: batch-norm running variance 'b.running_var' "
                                       "is negative (-0.25) at index [1]\n  batchnorm\n  ^~~~~~~~~\n"),
                  "%s", td_text(&td));
    unlink(path);
    free(path);
    graph_free(g);

    /* A conv that wants a 3x3 kernel where the file has 1x1, and a bias it lacks. */
    td_free(&td);
    td_init(&td);
    g = graph_new("t");
    Value *x = graph_input(g, "x", shape4(DIM_N, 1, 4, 4));
    Attrs a = attrs_default(OP_CONV2D);
    a.out = 2;
    a.kh = a.kw = 3;
    ck_assert(ir_op(g, &td.d, OP_CONV2D, (Loc){src, 1, 1, 6}, &x, 1, &a, "c") != NULL);
    a.kh = a.kw = 1;
    a.bias = true;
    ck_assert(ir_op(g, &td.d, OP_CONV2D, (Loc){src, 1, 1, 6}, &x, 1, &a, "b") != NULL);
    path = write_st((float[]){1.0f, 1.0f});
    o.weights = path;
    ck_assert(!bind_weights(g, &o, &td.d));
    ck_assert_msg(strstr(td_text(&td), "error: tensor 'c.weight' has shape [2, 1, 1, 1] in the "
                                       "checkpoint, the model needs [2, 1, 3, 3]"), "%s", td_text(&td));
    ck_assert_msg(strstr(td_text(&td), "error: tensor 'b.weight' has shape [2] in the checkpoint, "
                                       "the model needs [2, 1, 1, 1]"), "%s", td_text(&td));
    ck_assert_int_eq(td.d.nerrors, 2);      /* b.bias [2] matches */
    bind_done(path, g, src, &td);
}
END_TEST

START_TEST(bind_option_parsing)
{
    TestDiag td;
    td_init(&td);
    char *argv[] = {"--weights", "w.pt", "--select=sd", "--strip-prefix", "module.", "--dump-ir",
                    "--add-prefix"};
    Args a = {.cmd = "check", .takes = TAKES_FILE | TAKES_BIND};
    ck_assert(!parse_args(&a, 7, argv, &td.d));
    ck_assert_int_eq(a.status, 1);
    ck_assert_str_eq(a.bind.weights, "w.pt");
    ck_assert_str_eq(a.bind.select, "sd");
    ck_assert_str_eq(a.bind.strip_prefix, "module.");
    ck_assert_ptr_null(a.file);
    ck_assert_ptr_nonnull(strstr(td_text(&td), "unknown option '--dump-ir' for 'visec check'"));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "option '--add-prefix' needs a value"));
    td_free(&td);

    /* Only the key options where a command takes no weights (inspect). */
    td_init(&td);
    char *argv2[] = {"--select", "sd", "--weights", "ck.pt"};
    Args b = {.cmd = "inspect", .takes = TAKES_FILE | TAKES_KEYS};
    ck_assert(!parse_args(&b, 4, argv2, &td.d));
    ck_assert_str_eq(b.bind.select, "sd");
    ck_assert_ptr_null(b.bind.weights);
    ck_assert_str_eq(b.file, "ck.pt");
    ck_assert_ptr_nonnull(strstr(td_text(&td), "unknown option '--weights' for 'visec inspect'"));
    td_free(&td);
}
END_TEST

Suite *suite_ckpt(void)
{
    return suite_of("ckpt", tcase_of("ckpt", 0, TESTS(crc32_known, dtype_conversions, pickle_data,
                                     pickle_refuses, pickle_placeholders, bind_ok, bind_errors,
                                     bind_option_parsing)));
}
