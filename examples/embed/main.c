/*
 * main.c — embed: image files to ResNet-50 features and embeddings with
 * the C code visec generates for examples/vise_resnet50.vise.
 *
 *   embed -w weights.bin --features f.npy --embeddings e.npy a.jpg b.png ...
 *
 * Each image goes through torchvision's evaluation transform (preprocess.c),
 * batches of --batch images run through the generated model, and the
 * (N, 2048, 7, 7) features and their 7x7 means, the (N, 2048) embeddings,
 * are streamed to .npy files.  --preprocess-only writes the (N, 3, 224, 224)
 * network input instead and needs no model.
 *
 *   embed -w weights.bin --list paths.txt --out-dir DIR [--shard-size N] ...
 *
 * runs a list of images into shards of .npy files with a manifest
 * (listrun.c); built with -DEMBED_MPI (make MPI=1), the ranks of an MPI job
 * share the shards.
 *
 * Built with -DEMBED_PREPROCESS_ONLY, the program has no model at all (no
 * generated code is needed) and only --preprocess-only works.
 */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listrun.h"
#include "npy.h"
#include "preprocess.h"
#include "shards.h"

#ifndef EMBED_PREPROCESS_ONLY
#include "vise_resnet50.h"

/* the generated model must take what preprocess.c produces */
#if VISE_RESNET50_INPUT_C != EMBED_CHANNELS || VISE_RESNET50_INPUT_H != EMBED_CROP || \
    VISE_RESNET50_INPUT_W != EMBED_CROP
#error "the generated model's input is not 3 x 224 x 224"
#endif
#ifndef VISE_RESNET50_EMBEDDED_WEIGHTS
#define VISE_RESNET50_EMBEDDED_WEIGHTS 0
#endif
#define FEAT_C VISE_RESNET50_OUTPUT_C
#define FEAT_HW ((size_t)VISE_RESNET50_OUTPUT_H * VISE_RESNET50_OUTPUT_W)
#endif

#ifdef EMBED_MPI
#include <mpi.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_BATCH 1024

typedef struct {
    const char *weights;           /* -w: weights file, NULL if not given */
    const char *features;          /* --features: (N, C, H, W) output */
    const char *embeddings;        /* --embeddings: (N, C) output */
    const char *preprocessed;      /* --preprocess-only: (N, 3, 224, 224) */
    int batch;                     /* --batch: images per model call */
    int threads;                   /* --threads: OpenMP threads, 0 = default */
    int quiet;                     /* -q: no progress */
    char **images;                 /* the image files */
    int nimages;
    const char *list;              /* --list: file of image paths ("-": stdin) */
    const char *outdir;            /* --out-dir: where a list run writes shards */
    long shard_size;               /* --shard-size */
    int keep_going;                /* --keep-going */
    int features_flag;             /* --features without a value (list runs) */
} Options;

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: embed [OPTIONS] IMAGE...\n"
            "       embed [OPTIONS] --list FILE --out-dir DIR\n"
            "\n"
            "Computes ResNet-50 features of JPEG, PNG and PPM/PGM images with the\n"
            "code visec generated, after torchvision's evaluation transform\n"
            "(Resize(256), CenterCrop(224), ToTensor, Normalize).\n"
            "\n"
            "options:\n"
            "  -w, --weights FILE     the .weights file 'visec compile' wrote (not with\n"
            "                         --embed-weights)\n"
            "  --features FILE        write the (N, 2048, 7, 7) features as .npy\n"
            "  --embeddings FILE      write the (N, 2048) 7x7-averaged features as .npy\n"
            "  --preprocess-only FILE write the (N, 3, 224, 224) network input as .npy\n"
            "                         and run no model\n"
            "  --batch N              images per model call (default 1)\n"
#ifdef _OPENMP
            "  --threads N            OpenMP threads (default: OMP_NUM_THREADS or all)\n"
#endif
            "  -q, --quiet            no progress on stderr\n"
            "\n"
            "a list of images (one path a line, '-' for stdin), in shards:\n"
            "  --list FILE            the image paths\n"
            "  --out-dir DIR          writes DIR/embeddings-00000.npy, ... and DIR/manifest.tsv;\n"
            "                         a run into the same DIR skips complete shards\n"
            "  --shard-size N         list entries per shard (default 4096)\n"
            "  --features             also write DIR/features-00000.npy, ... (no FILE here)\n"
            "  --keep-going           record bad images in the manifest and go on\n"
            "                         (exit status 2 when any failed)\n"
            "  -h, --help             this text\n");
}

/* Prints "embed: error: ..." and returns the exit status 1. */
static int
fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "embed: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

/*
 * If argv[*i] is the option long (or the short one, if any), stores its
 * value (from "--long=VALUE" or the next argument) in *val and returns 1;
 * returns -1 when the value is missing, 0 when it is another option.
 */
static int
opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);

    if (!strncmp(a, lng, n) && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, lng) != 0 && (!shrt || strcmp(a, shrt) != 0))
        return 0;
    if (*i + 1 >= argc) {
        fail("option %s needs a value", a);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

static int
parse_count(const char *opt, const char *s, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
        char range[32];

        snprintf(range, sizeof range, "1 to %d", max);
        fprintf(stderr, "embed: error: %s '%s': expected a number from %s\n", opt, s, range);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Returns 0, 1 on a usage error, or 2 after --help. */
static int
parse_args(int argc, char **argv, Options *o)
{
    int i, r;
    size_t k;
    const char *v;
    /* the options whose value is a file or directory (with --out-dir,
       --features is a flag instead, checked before these) */
    const struct {
        const char *shrt, *lng;
        const char **val;
    } paths[] = {
        {"-w", "--weights", &o->weights},
        {NULL, "--list", &o->list},
        {NULL, "--out-dir", &o->outdir},
        {NULL, "--features", &o->features},
        {NULL, "--embeddings", &o->embeddings},
        {NULL, "--preprocess-only", &o->preprocessed},
    };

    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->shard_size = LIST_DEFAULT_SHARD;
    /* with --out-dir, --features is a flag: the shards are named for it */
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (!strcmp(argv[i], "--out-dir") || !strncmp(argv[i], "--out-dir=", 10))
            o->outdir = "";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 2;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        if (o->outdir && !strcmp(a, "--features")) {
            o->features_flag = 1;
            continue;
        }
        if (!strcmp(a, "--keep-going")) {
            o->keep_going = 1;
            continue;
        }
        for (k = 0, r = 0; k < sizeof paths / sizeof paths[0] && r == 0; k++)
            r = opt_value(argc, argv, &i, paths[k].shrt, paths[k].lng, paths[k].val);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if ((r = opt_value(argc, argv, &i, NULL, "--shard-size", &v)) != 0) {
            int n;

            if (r < 0 || parse_count("--shard-size", v, LIST_MAX_SHARD, &n) != 0)
                return 1;
            o->shard_size = n;
            continue;
        }
        if ((r = opt_value(argc, argv, &i, NULL, "--batch", &v)) != 0) {
            if (r < 0 || parse_count("--batch", v, MAX_BATCH, &o->batch) != 0)
                return 1;
            continue;
        }
        if ((r = opt_value(argc, argv, &i, NULL, "--threads", &v)) != 0) {
#ifdef _OPENMP
            if (r < 0 || parse_count("--threads", v, 4096, &o->threads) != 0)
                return 1;
            continue;
#else
            return fail("--threads: this build of embed has no OpenMP");
#endif
        }
        fail("unknown option '%s' (see 'embed --help')", a);
        return 1;
    }
    o->images = argv + i;
    o->nimages = argc - i;

    if (o->list || (o->outdir && o->outdir[0])) {
#ifdef EMBED_PREPROCESS_ONLY
        return fail("this build of embed has no model: only --preprocess-only works");
#else
        if (!o->list)
            return fail("--out-dir needs --list FILE (the image paths)");
        if (!o->outdir || !o->outdir[0])
            return fail("--list needs --out-dir DIR (where the shards go)");
        if (o->nimages > 0)
            return fail("'%s': with --list, the images come from the list only", o->images[0]);
        if (o->embeddings || o->preprocessed)
            return fail("--list writes shards into --out-dir: --embeddings and "
                        "--preprocess-only do not apply");
        if (VISE_RESNET50_EMBEDDED_WEIGHTS && o->weights)
            return fail("the model was compiled with its weights embedded: drop -w");
        if (!VISE_RESNET50_EMBEDDED_WEIGHTS && !o->weights)
            return fail("no weights: give -w FILE (the .weights file 'visec compile' wrote)");
        if (o->batch > o->shard_size)
            o->batch = (int)o->shard_size;
        return 0;
#endif
    }
    if (o->keep_going)
        return fail("--keep-going applies to --list runs only");
    if (o->nimages == 0)
        return fail("no image files given (see 'embed --help')");
    if (o->preprocessed && (o->features || o->embeddings))
        return fail("--preprocess-only runs no model: it cannot be combined with "
                    "--features or --embeddings");
    if (!o->preprocessed && !o->features && !o->embeddings)
        return fail("nothing to write: give --features, --embeddings or "
                    "--preprocess-only");
    if (o->features && o->embeddings && !strcmp(o->features, o->embeddings))
        return fail("--features and --embeddings name the same file '%s'", o->features);
#ifdef EMBED_PREPROCESS_ONLY
    if (!o->preprocessed)
        return fail("this build of embed has no model: only --preprocess-only works");
#else
    if (!o->preprocessed && VISE_RESNET50_EMBEDDED_WEIGHTS && o->weights)
        return fail("the model was compiled with its weights embedded: drop -w");
    if (!o->preprocessed && !VISE_RESNET50_EMBEDDED_WEIGHTS && !o->weights)
        return fail("no weights: give -w FILE (the .weights file 'visec compile' wrote)");
#endif
    if (o->batch > o->nimages)
        o->batch = o->nimages;
    return 0;
}

/* Preprocesses images [first, first+n) into in; 0, or 1 after an error. */
static int
load_batch(const Options *o, int first, int n, float *in)
{
    char err[256];

    for (int i = 0; i < n; i++) {
        const char *name = o->images[first + i];

        if (!o->quiet)
            fprintf(stderr, "[%d/%d] %s\n", first + i + 1, o->nimages, name);
        if (embed_preprocess_file(name, in + (size_t)i * EMBED_INPUT_SIZE, err, sizeof err) != 0)
            return fail("%s: %s", name, err);
    }
    return 0;
}

/* --preprocess-only: the network input of every image, no model. */
static int
run_preprocess(const Options *o)
{
    size_t shape[4] = {(size_t)o->nimages, EMBED_CHANNELS, EMBED_CROP, EMBED_CROP};
    NpyWriter out;
    char err[512];
    float *in = malloc((size_t)o->batch * EMBED_INPUT_SIZE * sizeof *in);

    if (!in)
        return fail("out of memory");
    if (npy_open(&out, o->preprocessed, shape, 4, err, sizeof err) != 0) {
        free(in);
        return fail("%s", err);
    }
    for (int first = 0; first < o->nimages; first += o->batch) {
        int n = o->nimages - first < o->batch ? o->nimages - first : o->batch;

        if (load_batch(o, first, n, in) != 0)
            goto fail;
        if (npy_append(&out, in, (size_t)n * EMBED_INPUT_SIZE, err, sizeof err) != 0) {
            fail("%s", err);
            goto fail;
        }
    }
    free(in);
    if (npy_commit(&out, err, sizeof err) != 0)
        return fail("%s", err);
    return 0;
fail:
    free(in);
    npy_abort(&out);
    return 1;
}

#ifndef EMBED_PREPROCESS_ONLY
/* Seconds on a monotonic clock. */
static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The model on every image: features and/or embeddings. */
static int
run_model(const Options *o)
{
    size_t fshape[4] = {(size_t)o->nimages, FEAT_C, VISE_RESNET50_OUTPUT_H,
                        VISE_RESNET50_OUTPUT_W};
    size_t eshape[2] = {(size_t)o->nimages, FEAT_C};
    size_t fsize = FEAT_C * FEAT_HW;
    NpyWriter fw, ew;
    vise_resnet50 *model = NULL;
    float *in = NULL, *feat = NULL, *emb = NULL;
    char err[512];
    int rc;
    double t_pre = 0.0, t_model = 0.0, t0;
    double fmin = DBL_MAX, fmax = -DBL_MAX, fsum = 0.0;

    memset(&fw, 0, sizeof fw);
    memset(&ew, 0, sizeof ew);
    rc = vise_resnet50_open(o->weights, &model);
    if (rc != 0) {
        if (o->weights)
            return fail("%s: cannot load the weights: %s", o->weights,
                        vise_resnet50_strerror(rc));
        return fail("cannot load the embedded weights: %s", vise_resnet50_strerror(rc));
    }
    in = malloc((size_t)o->batch * EMBED_INPUT_SIZE * sizeof *in);
    feat = malloc((size_t)o->batch * fsize * sizeof *feat);
    emb = malloc((size_t)o->batch * FEAT_C * sizeof *emb);
    if (!in || !feat || !emb) {
        fail("out of memory");
        goto fail;
    }
    if ((o->features && npy_open(&fw, o->features, fshape, 4, err, sizeof err) != 0) ||
        (o->embeddings && npy_open(&ew, o->embeddings, eshape, 2, err, sizeof err) != 0)) {
        fail("%s", err);
        goto fail;
    }
    for (int first = 0; first < o->nimages; first += o->batch) {
        int n = o->nimages - first < o->batch ? o->nimages - first : o->batch;

        t0 = now();
        if (load_batch(o, first, n, in) != 0)
            goto fail;
        t_pre += now() - t0;
        t0 = now();
        rc = vise_resnet50_run(model, n, in, feat);
        t_model += now() - t0;
        if (rc != 0) {
            fail("the model failed on the batch starting with %s: %s", o->images[first],
                 vise_resnet50_strerror(rc));
            goto fail;
        }
        /* statistics of the features, for the summary */
        for (size_t i = 0; i < (size_t)n * fsize; i++) {
            fmin = feat[i] < fmin ? feat[i] : fmin;
            fmax = feat[i] > fmax ? feat[i] : fmax;
            fsum += feat[i];
        }
        /* the embedding: each channel's mean over the 7 x 7 positions */
        shard_mean_pool(feat, (size_t)n, FEAT_C, FEAT_HW, emb);
        if ((o->features && npy_append(&fw, feat, (size_t)n * fsize, err, sizeof err) != 0) ||
            (o->embeddings && npy_append(&ew, emb, (size_t)n * FEAT_C, err, sizeof err) != 0)) {
            fail("%s", err);
            goto fail;
        }
    }
    if (o->features && npy_commit(&fw, err, sizeof err) != 0) {
        fail("%s", err);
        goto fail;
    }
    if (o->embeddings && npy_commit(&ew, err, sizeof err) != 0) {
        fail("%s", err);
        if (o->features)
            remove(o->features);   /* all outputs or none */
        goto fail;
    }
    if (!o->quiet) {
        printf("features   (%d, %d, %d, %d)%s%s\n", o->nimages, FEAT_C, VISE_RESNET50_OUTPUT_H,
               VISE_RESNET50_OUTPUT_W, o->features ? " -> " : "", o->features ? o->features : "");
        printf("embeddings (%d, %d)%s%s\n", o->nimages, FEAT_C, o->embeddings ? " -> " : "",
               o->embeddings ? o->embeddings : "");
        printf("features: min %.4g, mean %.4g, max %.4g\n", fmin,
               fsum / ((double)o->nimages * (double)fsize), fmax);
        printf("time: model %.1f ms (%.1f ms per image), preprocessing %.1f ms\n", t_model * 1e3,
               t_model * 1e3 / o->nimages, t_pre * 1e3);
    }
    free(in);
    free(feat);
    free(emb);
    vise_resnet50_close(model);
    return 0;
fail:
    npy_abort(&fw);
    npy_abort(&ew);
    free(in);
    free(feat);
    free(emb);
    vise_resnet50_close(model);
    return 1;
}
#endif

/* Runs what the options ask for: the exit status. */
static int
run(int argc, char **argv)
{
    Options o;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0)
        return rc == 2 ? 0 : 1;
#ifdef _OPENMP
    if (o.threads > 0)
        omp_set_num_threads(o.threads);
#endif
#ifndef EMBED_PREPROCESS_ONLY
    if (o.list) {
        ListOptions lo;

        lo.weights = o.weights;
        lo.list = o.list;
        lo.outdir = o.outdir;
        lo.shard_size = o.shard_size;
        lo.batch = o.batch;
        lo.keep_going = o.keep_going;
        lo.features = o.features_flag;
        lo.quiet = o.quiet;
        return embed_list_run(&lo);
    }
#endif
#ifdef EMBED_MPI
    {
        int nranks;

        MPI_Comm_size(MPI_COMM_WORLD, &nranks);
        if (nranks > 1)
            return fail("only --list runs are shared between MPI ranks (this job has %d)",
                        nranks);
    }
#endif
    if (o.preprocessed)
        return run_preprocess(&o);
#ifndef EMBED_PREPROCESS_ONLY
    return run_model(&o);
#else
    return 1;
#endif
}

int
main(int argc, char **argv)
{
    int rc;
#ifdef EMBED_MPI
    int provided;

    /* only the main thread calls MPI; the decoding thread does not */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
#endif
    rc = run(argc, argv);
#ifdef EMBED_MPI
    MPI_Finalize();
#endif
    return rc;
}
