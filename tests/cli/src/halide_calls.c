/*
 * halide_calls.c — direct calls of a model compiled with --runtime halide
 * (the tiny model of tests/cli/halide_calls.sh: input x, output y), built
 * with AddressSanitizer and UBSan:
 *
 *   halide_calls TINY.weights
 *
 * Bad buffers must return the right halide_error_code_t with a message
 * through the error handler, bounds queries must fill in shapes, a good
 * call must give what tiny_run() gives, and the custom allocator, the
 * custom do_par_for and the thread count must all be used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "HalideRuntime.h"
#include "tiny.h"

static int failures;
static char last_error[1024];
static int errors_seen;

static void
on_error(void *user_context, const char *msg)
{
    (void)user_context;
    snprintf(last_error, sizeof last_error, "%s", msg);
    errors_seen++;
}

static int mallocs, frees, par_fors;

static void *
counting_malloc(void *user_context, size_t n)
{
    mallocs++;
    return halide_default_malloc(user_context, n);
}

static void
counting_free(void *user_context, void *p)
{
    frees++;
    halide_default_free(user_context, p);
}

static int
counting_do_par_for(void *user_context, halide_task_t f, int min, int size, uint8_t *closure)
{
    par_fors++;
    return halide_default_do_par_for(user_context, f, min, size, closure);
}

/* A dense buffer of the given type and extents (dim 0 fastest), host from calloc or NULL. */
static halide_buffer_t
make(halide_type_code_t code, int bits, int rank, const int *extent, halide_dimension_t *dim, int alloc)
{
    halide_buffer_t b;
    int32_t stride = 1;
    size_t n = 1;
    memset(&b, 0, sizeof b);
    b.type.code = code;
    b.type.bits = (uint8_t)bits;
    b.type.lanes = 1;
    b.dimensions = rank;
    b.dim = dim;
    for (int i = 0; i < rank; i++) {
        dim[i].min = 0;
        dim[i].extent = extent[i];
        dim[i].stride = stride;
        dim[i].flags = 0;
        stride *= extent[i];
        n *= (size_t)(extent[i] > 0 ? extent[i] : 1);
    }
    b.host = alloc ? calloc(n, (size_t)bits / 8) : NULL;
    return b;
}

/* Expects code (with a message containing want) or success (code 0, no message). */
static void
expect(const char *what, int got, int code, const char *want)
{
    int ok = got == code && (code == 0 ? errors_seen == 0 : errors_seen == 1 && strstr(last_error, want));
    printf("%-44s -> %4d %s%s", what, got, ok ? "ok" : "WRONG", errors_seen ? ": " : "\n");
    if (errors_seen)
        printf("%s%s", last_error, strchr(last_error, '\n') ? "" : "\n");
    if (!ok) {
        printf("    expected %d and a message with '%s'\n", code, want);
        failures++;
    }
    errors_seen = 0;
    last_error[0] = '\0';
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: halide_calls TINY.weights\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    long wsize = ftell(f);
    rewind(f);
    const int B = 2;
    const int wext[1] = {(int)wsize};
    const int xext[4] = {TINY_INPUT_W, TINY_INPUT_H, TINY_INPUT_C, B};
    const int yext[4] = {TINY_OUTPUT_W, TINY_OUTPUT_H, TINY_OUTPUT_C, B};
    halide_dimension_t wd[1], xd[4], yd[4], bd[4], qd[4];
    halide_buffer_t w = make(halide_type_uint, 8, 1, wext, wd, 1);
    halide_buffer_t x = make(halide_type_float, 32, 4, xext, xd, 1);
    halide_buffer_t y = make(halide_type_float, 32, 4, yext, yd, 1);
    if (fread(w.host, 1, (size_t)wsize, f) != (size_t)wsize)
        return 2;
    fclose(f);
    float *xf = (float *)(void *)x.host;
    for (int i = 0; i < B * TINY_INPUT_SIZE; i++)
        xf[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;

    halide_set_error_handler(on_error);
    halide_set_custom_malloc(counting_malloc);
    halide_set_custom_free(counting_free);
    halide_set_custom_do_par_for(counting_do_par_for);

    /* A good call, against tiny_run(). */
    expect("good call", tiny(&w, &x, &y), 0, "");
    if (mallocs < 1 || frees != mallocs || par_fors < 1) {
        printf("custom malloc/free/do_par_for not used: %d, %d, %d\n", mallocs, frees, par_fors);
        failures++;
    }
    if (!(y.flags & halide_buffer_flag_host_dirty)) {
        printf("the output is not marked host-dirty\n");
        failures++;
    }
    {
        struct tiny *m;
        float *ref = malloc(sizeof(float) * B * TINY_OUTPUT_SIZE);
        if (tiny_open(argv[1], &m) || tiny_run(m, B, xf, ref)) {
            printf("tiny_open/tiny_run failed\n");
            failures++;
        } else if (memcmp(ref, y.host, sizeof(float) * B * TINY_OUTPUT_SIZE)) {
            printf("tiny() and tiny_run() differ\n");
            failures++;
        } else {
            printf("tiny() and tiny_run() agree bit for bit\n");
        }
        tiny_close(m);
        free(ref);
    }
    halide_set_num_threads(1);
    int pf = par_fors;
    expect("good call, one thread", tiny(&w, &x, &y), 0, "");
    if (par_fors == pf) {
        printf("do_par_for not called with one thread\n");
        failures++;
    }
    halide_set_num_threads(2);

    /* NULL buffers */
    expect("NULL weights", tiny(NULL, &x, &y), halide_error_code_buffer_argument_is_null, "weights");
    expect("NULL input", tiny(&w, NULL, &y), halide_error_code_buffer_argument_is_null, "x");
    expect("NULL output", tiny(&w, &x, NULL), halide_error_code_buffer_argument_is_null, "y");

    /* types and ranks */
    halide_buffer_t bad = x;
    bad.type.code = halide_type_uint;
    bad.type.bits = 8;
    expect("uint8 input", tiny(&w, &bad, &y), halide_error_code_bad_type, "x");
    bad = x;
    bad.type.lanes = 4;
    expect("float32x4 input", tiny(&w, &bad, &y), halide_error_code_bad_type, "x");
    bad = w;
    bad.type.code = halide_type_int;
    expect("int8 weights", tiny(&bad, &x, &y), halide_error_code_bad_type, "weights");
    bad = x;
    bad.dimensions = 3;
    expect("3-D input", tiny(&w, &bad, &y), halide_error_code_bad_dimensions, "x");
    bad = y;
    bad.dimensions = 5;
    bad.dim = NULL;
    expect("5-D output", tiny(&w, &x, &bad), halide_error_code_bad_dimensions, "y");
    bad = y;
    bad.dim = NULL;
    expect("output without dims", tiny(&w, &x, &bad), halide_error_code_bad_dimensions, "dim");

    /* shapes */
    memcpy(bd, xd, sizeof bd);
    bad = x;
    bad.dim = bd;
    bd[2].extent = TINY_INPUT_C + 1;
    expect("input with a channel too many", tiny(&w, &bad, &y), halide_error_code_constraint_violated,
           "x.extent.2");
    bd[2].extent = TINY_INPUT_C - 1;
    expect("input with a channel too few", tiny(&w, &bad, &y), halide_error_code_access_out_of_bounds, "x");
    memcpy(bd, xd, sizeof bd);
    bd[1].stride += 1;
    expect("input with a padded row stride", tiny(&w, &bad, &y), halide_error_code_constraint_violated,
           "x.stride.1");
    memcpy(bd, xd, sizeof bd);
    bd[0].min = 1;
    expect("input with min 1", tiny(&w, &bad, &y), halide_error_code_constraint_violated, "x.min.0");
    memcpy(bd, xd, sizeof bd);
    bd[3].extent = B + 1;
    expect("input batch differs from the output's", tiny(&w, &bad, &y),
           halide_error_code_constraint_violated, "x.extent.3");
    memcpy(bd, yd, sizeof bd);
    bad = y;
    bad.dim = bd;
    bd[3].extent = 0;
    expect("batch 0", tiny(&w, &x, &bad), halide_error_code_param_too_small, "batch");
    memcpy(bd, yd, sizeof bd);
    bd[0].extent = TINY_OUTPUT_W - 1;
    expect("output too small", tiny(&w, &x, &bad), halide_error_code_constraint_violated, "y.extent.0");
    memcpy(bd, yd, sizeof bd);
    bd[2].extent = 2 * TINY_OUTPUT_C;
    expect("output with channels too many", tiny(&w, &x, &bad), halide_error_code_constraint_violated,
           "y.extent.2");

    /* memory */
    bad = y;
    bad.host = x.host;
    expect("output over the input", tiny(&w, &x, &bad), halide_error_code_generic_error, "overlap");
    bad = x;
    bad.host = x.host + 2;
    expect("misaligned input", tiny(&w, &bad, &y), halide_error_code_unaligned_host_ptr, "x");
    bad = x;
    bad.host = NULL;
    bad.device = 1;   /* device memory with no device interface: not a query */
    expect("input on a device only", tiny(&w, &bad, &y), halide_error_code_host_is_null, "x");
    {
        const int short_ext[1] = {(int)wsize - 64};
        halide_dimension_t sd[1];
        halide_buffer_t ws = make(halide_type_uint, 8, 1, short_ext, sd, 0);
        ws.host = w.host;
        expect("weights too short", tiny(&ws, &x, &y), halide_error_code_constraint_violated, "weights.extent.0");
        unsigned char *copy = malloc((size_t)wsize);
        memcpy(copy, w.host, (size_t)wsize);
        copy[0] = 'X';
        ws = w;
        ws.host = copy;
        expect("weights with a bad magic", tiny(&ws, &x, &y), halide_error_code_generic_error, "not a visec");
        memcpy(copy, w.host, (size_t)wsize);
        copy[48] = 'X';
        expect("weights of another model", tiny(&ws, &x, &y), halide_error_code_generic_error, "another model");
        free(copy);
    }

    /* bounds queries */
    {
        halide_buffer_t q = make(halide_type_float, 32, 4, (const int[4]){0, 0, 0, 0}, qd, 0);
        expect("bounds query on the input", tiny(&w, &q, &y), 0, "");
        int okq = qd[0].extent == TINY_INPUT_W && qd[1].extent == TINY_INPUT_H && qd[2].extent == TINY_INPUT_C &&
                  qd[3].extent == B && qd[0].stride == 1 && qd[1].stride == TINY_INPUT_W &&
                  qd[3].stride == TINY_INPUT_SIZE;
        printf("  input shape [%d x %d x %d x %d] strides %d %d %d %d: %s\n", qd[0].extent, qd[1].extent,
               qd[2].extent, qd[3].extent, qd[0].stride, qd[1].stride, qd[2].stride, qd[3].stride,
               okq ? "ok" : "WRONG");
        failures += !okq;
        q = make(halide_type_float, 32, 4, (const int[4]){1000, 1000, 4, 4}, qd, 0);
        expect("bounds query on the output", tiny(&w, &x, &q), 0, "");
        okq = qd[0].extent == TINY_OUTPUT_W && qd[1].extent == TINY_OUTPUT_H && qd[2].extent == TINY_OUTPUT_C &&
              qd[3].extent == B && qd[2].stride == TINY_OUTPUT_W * TINY_OUTPUT_H;
        printf("  output shape [%d x %d x %d x %d]: %s\n", qd[0].extent, qd[1].extent, qd[2].extent,
               qd[3].extent, okq ? "ok" : "WRONG");
        failures += !okq;
        q = make(halide_type_uint, 8, 1, (const int[1]){0}, qd, 0);
        expect("bounds query on the weights", tiny(&q, &x, &y), 0, "");
        okq = qd[0].extent == wsize && qd[0].stride == 1;
        printf("  weights shape [%d]: %s\n", qd[0].extent, okq ? "ok" : "WRONG");
        failures += !okq;
        expect("argv call", tiny_argv((void *[]){&w, &x, &y}), 0, "");
        const struct halide_filter_metadata_t *md = tiny_metadata();
        okq = md->num_arguments == 3 && !strcmp(md->arguments[1].name, "x") &&
              md->arguments[2].kind == halide_argument_kind_output_buffer && md->arguments[2].dimensions == 4;
        printf("metadata: %s, %d arguments: %s\n", md->name, md->num_arguments, okq ? "ok" : "WRONG");
        failures += !okq;
    }
    free(w.host);
    free(x.host);
    free(y.host);
    printf("%s: %d failure%s\n", argv[0], failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
