/*
 * main.c — a Halide image pipeline with the VisE trunk as one more stage:
 *
 *   image file --stb_image--> uint8 RGB --vise_preprocess (Halide AOT)--> x
 *     --vise_resnet50 (visec --runtime halide)--> features [2048 x 7 x 7]
 *
 * Both stages are called the same way (halide_buffer_t arguments, Halide's
 * AOT calling convention) and run on one Halide runtime: one thread pool
 * (HL_NUM_THREADS or --threads), one allocator, one error handler.  Prints
 * the features' shape and statistics and the time of each stage.
 *
 *   halide_vise WEIGHTS IMAGE [--threads N] [--repeat K]
 *
 * WEIGHTS is the vise_resnet50.weights file written by visec compile; it is
 * passed to the trunk as a 1-D uint8 buffer, as Halide passes any input.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "HalideRuntime.h"
#include "vise_preprocess.h"
#include "vise_resnet50.h"

#include "stb_config.h"
#include <stb/stb_image.h>

/* The error handler of the whole program: both stages report through it. */
static void
report(void *user_context, const char *msg)
{
    (void)user_context;
    fprintf(stderr, "halide_vise: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A dense buffer over host memory: extents dim 0 first, strides dense. */
static void
wrap(halide_buffer_t *b, halide_dimension_t *dim, halide_type_code_t code, int bits, void *host, int rank,
     const int *extent)
{
    int32_t stride = 1;
    memset(b, 0, sizeof *b);
    b->host = host;
    b->type.code = code;
    b->type.bits = (uint8_t)bits;
    b->type.lanes = 1;
    b->dimensions = rank;
    b->dim = dim;
    for (int i = 0; i < rank; i++) {
        dim[i].min = 0;
        dim[i].extent = extent[i];
        dim[i].stride = stride;
        dim[i].flags = 0;
        stride *= extent[i];
    }
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads a whole file into malloc'd memory aligned for floats. */
static unsigned char *
read_file(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (*size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)*size)) != NULL && fread(p, 1, (size_t)*size, f) != (size_t)*size) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

int
main(int argc, char **argv)
{
    int threads = 0, repeat = 5;
    if (argc < 3) {
        fprintf(stderr, "usage: halide_vise WEIGHTS IMAGE [--threads N] [--repeat K]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeat"))
            repeat = atoi(argv[i + 1]);
    }
    if (repeat < 1 || repeat > 1000)
        repeat = 5;
    halide_set_error_handler(report);
    if (threads > 0)
        halide_set_num_threads(threads);

    long wsize = 0;
    unsigned char *weights = read_file(argv[1], &wsize);
    if (!weights || wsize > 0x7fffffffL) {
        fprintf(stderr, "halide_vise: %s: cannot read the weights\n", argv[1]);
        return 1;
    }
    int w, h, comp;
    unsigned char *rgb = stbi_load(argv[2], &w, &h, &comp, 3);
    if (!rgb) {
        fprintf(stderr, "halide_vise: %s: %s\n", argv[2], stbi_failure_reason());
        return 1;
    }
    float *x = malloc(sizeof(float) * VISE_RESNET50_INPUT_SIZE);
    float *features = malloc(sizeof(float) * VISE_RESNET50_OUTPUT_SIZE);
    if (!x || !features)
        return 1;

    /* The buffers: Halide's dimension order, dim 0 fastest. */
    halide_buffer_t b_rgb, b_x, b_w, b_f;
    halide_dimension_t d_rgb[3], d_x[4], d_w[1], d_f[4];
    wrap(&b_rgb, d_rgb, halide_type_uint, 8, rgb, 3, (const int[3]){3, w, h});
    wrap(&b_x, d_x, halide_type_float, 32, x, 4,
         (const int[4]){VISE_RESNET50_INPUT_W, VISE_RESNET50_INPUT_H, VISE_RESNET50_INPUT_C, 1});
    wrap(&b_w, d_w, halide_type_uint, 8, weights, 1, (const int[1]){(int)wsize});
    wrap(&b_f, d_f, halide_type_float, 32, features, 4,
         (const int[4]){VISE_RESNET50_OUTPUT_W, VISE_RESNET50_OUTPUT_H, VISE_RESNET50_OUTPUT_C, 1});

    double *tp = malloc(sizeof(double) * (size_t)repeat), *tt = malloc(sizeof(double) * (size_t)repeat);
    if (!tp || !tt)
        return 1;
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        if (vise_preprocess(&b_rgb, &b_x))
            return 1;   /* the handler said why */
        double t1 = now();
        if (vise_resnet50(&b_w, &b_x, &b_f))
            return 1;
        double t2 = now();
        tp[r] = 1e3 * (t1 - t0);
        tt[r] = 1e3 * (t2 - t1);
    }
    qsort(tp, (size_t)repeat, sizeof *tp, compare_doubles);
    qsort(tt, (size_t)repeat, sizeof *tt, compare_doubles);

    double sum = 0, mn = INFINITY, mx = -INFINITY;
    size_t nonfinite = 0, n = VISE_RESNET50_OUTPUT_SIZE;
    for (size_t i = 0; i < n; i++) {
        double v = features[i];
        if (!isfinite(v)) {
            nonfinite++;
            continue;
        }
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    printf("image %s: %d x %d, centre crop %d x %d\n", argv[2], w, h, VISE_RESNET50_INPUT_W,
           VISE_RESNET50_INPUT_H);
    printf("features: [1, %d, %d, %d]  min %.6g  max %.6g  mean %.6g  non-finite %zu\n",
           VISE_RESNET50_OUTPUT_C, VISE_RESNET50_OUTPUT_H, VISE_RESNET50_OUTPUT_W, mn, mx, sum / (double)n,
           nonfinite);
    printf("time (median of %d): preprocess %.3f ms, trunk %.3f ms\n", repeat, tp[repeat / 2], tt[repeat / 2]);
    free(tp);
    free(tt);
    free(x);
    free(features);
    free(weights);
    stbi_image_free(rgb);
    return nonfinite ? 1 : 0;
}
