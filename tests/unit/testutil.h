/*
 * testutil.h — helpers shared by the Check unit tests.
 */
#ifndef VISEC_TESTUTIL_H
#define VISEC_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "ir.h"

/* Every suite's prototype, from the generated list. */
#define SUITE(fn) Suite *fn(void);
#include "suites.h"
#undef SUITE

/* A NULL-ended list of tests, for tcase_of(). */
#define TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* A test case NAME holding TESTS in their order, each given SECONDS to run
 * (0: Check's default). */
static inline TCase *
tcase_of(const char *name, double seconds, const TTest *const *tests)
{
    TCase *tc = tcase_create(name);
    if (seconds > 0)
        tcase_set_timeout(tc, seconds);
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
    return tc;
}

/* A suite NAME of the one test case TC. */
static inline Suite *
suite_of(const char *name, TCase *tc)
{
    Suite *s = suite_create(name);
    suite_add_tcase(s, tc);
    return s;
}

/* A Diag writing into a memory buffer, so tests can assert exact messages. */
typedef struct TestDiag {
    Diag d;         /* the diagnostics context to pass on */
    char *buf;      /* what was written (after td_text) */
    size_t len;     /* bytes in buf */
} TestDiag;

static inline void
td_init(TestDiag *t)
{
    t->buf = NULL;
    t->len = 0;
    diag_init(&t->d, open_memstream(&t->buf, &t->len));
}

/* Everything reported so far, NUL-terminated. */
static inline const char *
td_text(TestDiag *t)
{
    fflush(t->d.out);
    return t->buf ? t->buf : "";
}

/* A whole file, NUL-terminated; *n gets its length (n may be NULL). */
static inline char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = xmalloc((size_t)len + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    b[len] = '\0';
    fclose(f);
    if (n)
        *n = (size_t)len;
    return b;
}

static inline void td_free(TestDiag *t);

/* ir_op() with no source location; the test fails if it reports an error. */
static inline Value *
op(Graph *g, Op o, Value **in, int nin, const Attrs *a, const char *prefix)
{
    TestDiag td;
    td_init(&td);
    Value *v = ir_op(g, &td.d, o, (Loc){0}, in, nin, a, prefix);
    ck_assert_msg(v != NULL, "ir_op failed: %s", td_text(&td));
    td_free(&td);
    return v;
}

/* The reference interpreter on a graph with one input and one output;
 * returns the malloc'd output.  The test fails if the interpreter does. */
static inline float *
interp1(Graph *g, int batch, const float *x)
{
    TestDiag td;
    td_init(&td);
    float *out[1] = {NULL};
    const float *in[1] = {x};
    ck_assert_msg(interp_run(g, batch, in, out, &td.d), "interp_run failed: %s", td_text(&td));
    td_free(&td);
    return out[0];
}

static inline void
td_free(TestDiag *t)
{
    fclose(t->d.out);
    free(t->buf);
}

#endif
