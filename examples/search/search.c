/*
 * search.c — nearest-neighbour search over the embeddings that
 * 'embed --list ... --out-dir DIR' wrote, with FAISS.
 *
 *   search build --from DIR -o INDEX [--ivf NLIST]
 *   search query --index INDEX --manifest DIR/manifest.tsv -w W [-k K] IMAGE...
 *
 * build indexes every "ok" row of DIR's shards, L2-normalised, for inner
 * product search (cosine similarity): exact (IndexFlatIP) or, with --ivf,
 * an inverted file of NLIST lists.  The INDEX file starts with a few text
 * lines that say which manifest it was built from (its size and CRC-32) and
 * how many vectors it holds; the FAISS index follows.  Index ids are the
 * "ok" rows of the manifest in order.
 *
 * query embeds each image exactly as embed does (examples/embed's
 * preprocess.c and the generated model, then the 7x7 means), normalises it
 * and prints its K nearest images as "rank\tscore\tpath" lines after a
 * "# query IMAGE" line.
 */
#define _POSIX_C_SOURCE 200809L   /* getline */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faiss_glue.h"
#include "preprocess.h"
#include "shards.h"
#include "vise_resnet50.h"

#ifndef VISE_RESNET50_EMBEDDED_WEIGHTS
#define VISE_RESNET50_EMBEDDED_WEIGHTS 0
#endif
#define DIM VISE_RESNET50_OUTPUT_C
#define FEAT_HW ((size_t)VISE_RESNET50_OUTPUT_H * VISE_RESNET50_OUTPUT_W)
#define INDEX_MAGIC "visec-search index 1\n"

/* Prints "search: error: ..." and returns the exit status 1. */
static int
fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "search: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: search build --from DIR -o INDEX [--ivf NLIST]\n"
            "       search query --index INDEX --manifest DIR/manifest.tsv [-w WEIGHTS]\n"
            "                    [-k K] [--nprobe N] IMAGE...\n"
            "\n"
            "build   indexes the embeddings of every 'ok' row of DIR/manifest.tsv (the\n"
            "        output of 'embed --list ... --out-dir DIR'), L2-normalised, for\n"
            "        inner-product search: exact, or an inverted file with --ivf NLIST\n"
            "query   embeds each IMAGE like embed does and prints its K nearest images\n"
            "        (default 10) as 'rank<TAB>score<TAB>path' lines after a\n"
            "        '# query IMAGE' line; --nprobe: IVF lists searched (default 16)\n");
}

/* ---- the manifest */

typedef struct {
    char *text;                    /* the whole file (malloc) */
    size_t len;
    uint32_t crc;                  /* CRC-32 of the file */
    char **paths;                  /* the "ok" rows' paths, in order (malloc'd) */
    long nok;
    long entries;
} Manifest;

static void
manifest_free(Manifest *m)
{
    free(m->text);
    for (long i = 0; i < m->nok; i++)
        free(m->paths[i]);
    free(m->paths);
    memset(m, 0, sizeof *m);
}

/* Reads and checks a manifest.  0, or 1 after an error (printed). */
static int
manifest_read(const char *path, Manifest *m)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 0, hl = strlen(SHARD_MANIFEST_HEADER);
    char *line, *next;
    long lineno = 1;

    memset(m, 0, sizeof *m);
    if (!f)
        return fail("%s: cannot open the manifest: %s", path, strerror(errno));
    for (;;) {
        size_t got;

        if (cap - m->len < 65536) {
            char *nb;

            cap = cap ? cap * 2 : 1 << 20;
            nb = realloc(m->text, cap + 1);
            if (!nb) {
                fclose(f);
                manifest_free(m);
                return fail("out of memory reading %s", path);
            }
            m->text = nb;
        }
        got = fread(m->text + m->len, 1, cap - m->len, f);
        m->len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fclose(f);
        manifest_free(m);
        return fail("%s: cannot read: %s", path, strerror(errno));
    }
    fclose(f);
    m->text[m->len] = '\0';
    m->crc = shard_crc32(0, m->text, m->len);
    if (m->len < hl || memcmp(m->text, SHARD_MANIFEST_HEADER, hl) != 0) {
        manifest_free(m);
        return fail("%s: not a manifest written by embed (no 'shard, row, path, status' "
                    "header)", path);
    }
    /* the "ok" rows: "S\tR\tPATH\tok" */
    for (line = m->text + hl; *line; line = next) {
        char *nl = strchr(line, '\n'), *f1, *f2, *f3;

        lineno++;
        if (!nl) {
            manifest_free(m);
            return fail("%s:%ld: the last line is incomplete", path, lineno);
        }
        next = nl + 1;
        m->entries++;
        f1 = strchr(line, '\t');
        f2 = f1 && f1 < nl ? strchr(f1 + 1, '\t') : NULL;
        f3 = f2 && f2 < nl ? strchr(f2 + 1, '\t') : NULL;
        if (!f3 || f3 > nl) {
            manifest_free(m);
            return fail("%s:%ld: expected 4 tab-separated fields", path, lineno);
        }
        if (nl - f3 - 1 == 2 && !strncmp(f3 + 1, "ok", 2)) {
            if ((m->nok & (m->nok - 1)) == 0) {
                char **np = realloc(m->paths, (size_t)(m->nok ? m->nok * 2 : 1) * sizeof *np);

                if (!np) {
                    manifest_free(m);
                    return fail("out of memory reading %s", path);
                }
                m->paths = np;
            }
            m->paths[m->nok] = malloc((size_t)(f3 - f2));
            if (!m->paths[m->nok]) {
                manifest_free(m);
                return fail("out of memory reading %s", path);
            }
            memcpy(m->paths[m->nok], f2 + 1, (size_t)(f3 - f2 - 1));
            m->paths[m->nok][f3 - f2 - 1] = '\0';
            shard_unescape(m->paths[m->nok++]);
        }
    }
    return 0;
}

/* ---- .npy shards */

/*
 * Reads a float32 (rows, DIM) .npy file written by embed into *data
 * (malloc).  0, or 1 after an error (printed).
 */
static int
read_npy(const char *path, long want_rows, float **data)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char header[1024], expect[128];
    size_t hlen, n;

    *data = NULL;
    if (!f)
        return fail("%s: cannot open: %s", path, strerror(errno));
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY\x01\x00", 8) != 0)
        goto bad;
    hlen = pre[8] | (size_t)pre[9] << 8;
    if (hlen >= sizeof header || fread(header, 1, hlen, f) != hlen)
        goto bad;
    header[hlen] = '\0';
    snprintf(expect, sizeof expect, "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %d), }",
             want_rows, DIM);
    if (strncmp(header, expect, strlen(expect)) != 0) {
        fclose(f);
        return fail("%s: expected float32 shape (%ld, %d), the header says %.*s", path,
                    want_rows, DIM, (int)strcspn(header, "\n"), header);
    }
    n = (size_t)want_rows * DIM;
    *data = malloc(n ? n * sizeof **data : 1);
    if (!*data) {
        fclose(f);
        return fail("out of memory for %s", path);
    }
    if (fread(*data, sizeof **data, n, f) != n || fgetc(f) != EOF) {
        free(*data);
        *data = NULL;
        goto bad;
    }
    fclose(f);
    return 0;
bad:
    fclose(f);
    return fail("%s: not a float32 .npy file of the expected size", path);
}

/* Scales each of n rows of DIM floats to unit length (zero rows stay zero). */
static void
normalise(float *x, long n)
{
    for (long i = 0; i < n; i++) {
        double s = 0.0;

        for (int c = 0; c < DIM; c++)
            s += (double)x[i * DIM + c] * x[i * DIM + c];
        if (s > 0.0)
            for (int c = 0; c < DIM; c++)
                x[i * DIM + c] = (float)(x[i * DIM + c] / sqrt(s));
    }
}

/* ---- the index file */

typedef struct {
    long long manifest_bytes;
    uint32_t manifest_crc;
    long shards, vectors, nlist;
} IndexInfo;

/* ---- build */

/*
 * Visits the shards of dir in order: checks that their records' rows are
 * the manifest's rows and their files what the records say, and calls
 * visit() with each shard's normalised embeddings; visit() returns 0 to go
 * on, 1 to stop early, -1 after an error (printed).  1 after an error.
 */
static int
for_each_shard(const char *dir, const Manifest *m, long *nshards,
               int (*visit)(void *arg, const float *x, long n), void *arg)
{
    size_t off = strlen(SHARD_MANIFEST_HEADER);
    char path[4096], err[4400];

    *nshards = 0;
    for (long s = 0; off < m->len; s++) {
        ShardRecord rec;
        float *x;
        int r;

        shard_path(path, sizeof path, dir, "shard", s, "tsv");
        r = shard_record_read(path, &rec, err, sizeof err);
        if (r == 1)
            return fail("%s: missing, but the manifest goes on: did the run finish?", path);
        if (r < 0)
            return fail("%s", err);
        if (rec.rows_len > m->len - off || memcmp(rec.rows, m->text + off, rec.rows_len) != 0) {
            shard_record_free(&rec);
            return fail("%s: its rows are not the manifest's: the manifest and the shards come "
                        "from different runs", path);
        }
        off += rec.rows_len;
        if (shard_record_check_files(dir, &rec, err, sizeof err) != 0) {
            shard_record_free(&rec);
            return fail("%s (rerun embed to redo the shard)", err);
        }
        shard_path(path, sizeof path, dir, "embeddings", s, "npy");
        if (read_npy(path, rec.ok, &x) != 0) {
            shard_record_free(&rec);
            return 1;
        }
        normalise(x, rec.ok);
        r = visit(arg, x, rec.ok);
        free(x);
        shard_record_free(&rec);
        *nshards = s + 1;
        if (r != 0)
            return r < 0;
    }
    return 0;
}

typedef struct {
    SxIndex *ix;
    float *sample;                 /* IVF training vectors */
    long nsample, maxsample;
} BuildState;

static int
visit_sample(void *arg, const float *x, long n)
{
    BuildState *b = arg;
    long take = n < b->maxsample - b->nsample ? n : b->maxsample - b->nsample;

    memcpy(b->sample + b->nsample * DIM, x, (size_t)take * DIM * sizeof *x);
    b->nsample += take;
    return b->nsample == b->maxsample;  /* enough to train on */
}

static int
visit_add(void *arg, const float *x, long n)
{
    BuildState *b = arg;
    char err[512];

    if (n > 0 && sx_add(b->ix, n, x, err, sizeof err) != 0) {
        fail("%s", err);
        return -1;
    }
    return 0;
}

static int
cmd_build(int argc, char **argv)
{
    const char *from = NULL, *out = NULL;
    long nlist = 0, nshards = 0;
    char mpath[4096], tmp[4200], err[512];
    Manifest m;
    BuildState b;
    FILE *f;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            from = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--ivf") && i + 1 < argc) {
            char *end;

            nlist = strtol(argv[++i], &end, 10);
            if (*end || nlist < 1 || nlist > 1 << 20)
                return fail("--ivf '%s': expected a number of lists from 1 to %d", argv[i],
                            1 << 20);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            return fail("build: unexpected '%s' (see 'search --help')", argv[i]);
        }
    }
    if (!from || !out)
        return fail("build needs --from DIR and -o INDEX");
    snprintf(mpath, sizeof mpath, "%s/%s", from, SHARD_MANIFEST);
    if (manifest_read(mpath, &m) != 0)
        return 1;
    if (m.nok == 0) {
        manifest_free(&m);
        return fail("%s: no image was embedded: nothing to index", mpath);
    }
    if (nlist > m.nok) {
        long nok = m.nok;

        manifest_free(&m);
        return fail("--ivf %ld: more lists than the %ld images to index", nlist, nok);
    }
    memset(&b, 0, sizeof b);
    b.ix = sx_new(DIM, (int)nlist, err, sizeof err);
    if (!b.ix) {
        manifest_free(&m);
        return fail("%s", err);
    }
    if (nlist > 0) {
        /* train on the first images, up to 256 a list */
        b.maxsample = m.nok < 256 * nlist ? m.nok : 256 * nlist;
        b.sample = malloc((size_t)b.maxsample * DIM * sizeof *b.sample);
        if (!b.sample) {
            fail("out of memory");
            goto fail;
        }
        if (for_each_shard(from, &m, &nshards, visit_sample, &b) != 0)
            goto fail;
        if (sx_train(b.ix, b.nsample, b.sample, err, sizeof err) != 0) {
            fail("%s", err);
            goto fail;
        }
        free(b.sample);
        b.sample = NULL;
    }
    if (for_each_shard(from, &m, &nshards, visit_add, &b) != 0)
        goto fail;
    if (sx_size(b.ix) != m.nok) {
        fail("%s: %ld 'ok' rows, but the shards hold %ld embeddings", mpath, m.nok, sx_size(b.ix));
        goto fail;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    f = fopen(tmp, "wb");
    if (!f) {
        fail("%s: cannot create: %s", tmp, strerror(errno));
        goto fail;
    }
    fprintf(f, INDEX_MAGIC "manifest-bytes %lld\nmanifest-crc32 %08lx\nshards %ld\nvectors %ld\n"
            "dim %d\nnlist %ld\nend\n", (long long)m.len, (unsigned long)m.crc, nshards, m.nok,
            DIM, nlist);
    if (sx_write(b.ix, f, err, sizeof err) != 0) {
        fclose(f);
        remove(tmp);
        fail("%s: %s", tmp, err);
        goto fail;
    }
    if (ferror(f) | fclose(f)) {
        remove(tmp);
        fail("%s: cannot write: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, out) != 0) {
        remove(tmp);
        fail("%s: cannot rename to %s: %s", tmp, out, strerror(errno));
        goto fail;
    }
    printf("%s: %ld images from %ld shards of %s (%s)\n", out, m.nok, nshards, from,
           nlist ? "IVF, inner product" : "exact, inner product");
    sx_free(b.ix);
    manifest_free(&m);
    return 0;
fail:
    free(b.sample);
    sx_free(b.ix);
    manifest_free(&m);
    return 1;
}

/* ---- query */

/* Reads INDEX's header and its FAISS index.  NULL after an error (printed). */
static SxIndex *
read_index_file(const char *path, IndexInfo *info)
{
    FILE *f = fopen(path, "rb");
    char line[256], err[512];
    unsigned long crc;
    int dim;
    SxIndex *ix;

    memset(info, 0, sizeof *info);
    if (!f) {
        fail("%s: cannot open the index: %s", path, strerror(errno));
        return NULL;
    }
    if (!fgets(line, sizeof line, f) || strcmp(line, INDEX_MAGIC) != 0 ||
        fscanf(f, "manifest-bytes %lld\nmanifest-crc32 %8lx\nshards %ld\nvectors %ld\ndim %d\n"
               "nlist %ld\nend", &info->manifest_bytes, &crc, &info->shards, &info->vectors,
               &dim, &info->nlist) != 6 || fgetc(f) != '\n') {
        fclose(f);
        fail("%s: not an index written by 'search build'", path);
        return NULL;
    }
    info->manifest_crc = (uint32_t)crc;
    ix = sx_read(f, err, sizeof err);
    fclose(f);
    if (!ix) {
        fail("%s: %s", path, err);
        return NULL;
    }
    if (dim != DIM || sx_dim(ix) != DIM || sx_size(ix) != info->vectors) {
        fail("%s: damaged: it says %ld vectors of %d, FAISS reads %ld of %d", path,
             info->vectors, dim, sx_size(ix), sx_dim(ix));
        sx_free(ix);
        return NULL;
    }
    return ix;
}

static int
cmd_query(int argc, char **argv)
{
    const char *index = NULL, *manifest = NULL, *weights = NULL;
    long k = 10, nprobe = 16;
    int first = argc, nq, rc = 1, r;
    IndexInfo info;
    Manifest m;
    SxIndex *ix = NULL;
    vise_resnet50 *model = NULL;
    float *in = NULL, *feat = NULL, *emb = NULL, *scores = NULL;
    long *ids = NULL;
    char err[512];

    for (int i = 2; i < argc; i++) {
        char *end;

        if (!strcmp(argv[i], "--index") && i + 1 < argc) {
            index = argv[++i];
        } else if (!strcmp(argv[i], "--manifest") && i + 1 < argc) {
            manifest = argv[++i];
        } else if ((!strcmp(argv[i], "-w") || !strcmp(argv[i], "--weights")) && i + 1 < argc) {
            weights = argv[++i];
        } else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            k = strtol(argv[++i], &end, 10);
            if (*end || k < 1 || k > 100000)
                return fail("-k '%s': expected a number from 1 to 100000", argv[i]);
        } else if (!strcmp(argv[i], "--nprobe") && i + 1 < argc) {
            nprobe = strtol(argv[++i], &end, 10);
            if (*end || nprobe < 1 || nprobe > 1 << 20)
                return fail("--nprobe '%s': expected a positive number", argv[i]);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--")) {
            first = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return fail("query: unknown option '%s' (see 'search --help')", argv[i]);
        } else {
            first = i;
            break;
        }
    }
    nq = argc - first;
    if (!index || !manifest)
        return fail("query needs --index INDEX and --manifest DIR/manifest.tsv");
    if (nq == 0)
        return fail("query: no images given");
    if (VISE_RESNET50_EMBEDDED_WEIGHTS && weights)
        return fail("the model was compiled with its weights embedded: drop -w");
    if (!VISE_RESNET50_EMBEDDED_WEIGHTS && !weights)
        return fail("no weights: give -w FILE (the .weights file 'visec compile' wrote)");
    if (manifest_read(manifest, &m) != 0)
        return 1;
    ix = read_index_file(index, &info);
    if (!ix)
        goto done;
    if ((long long)m.len != info.manifest_bytes || m.crc != info.manifest_crc) {
        fail("%s was built from another manifest (%lld bytes, CRC-32 %08lx) than %s (%lld bytes, "
             "%08lx): rebuild it with 'search build'", index, info.manifest_bytes,
             (unsigned long)info.manifest_crc, manifest, (long long)m.len, (unsigned long)m.crc);
        goto done;
    }
    if (m.nok != info.vectors) {
        fail("%s holds %ld vectors, %s has %ld 'ok' rows", index, info.vectors, manifest, m.nok);
        goto done;
    }
    if (k > info.vectors) {
        fail("-k %ld: the index holds only %ld images", k, info.vectors);
        goto done;
    }
    in = malloc((size_t)nq * EMBED_INPUT_SIZE * sizeof *in);
    feat = malloc((size_t)DIM * FEAT_HW * sizeof *feat);
    emb = malloc((size_t)nq * DIM * sizeof *emb);
    scores = malloc((size_t)nq * (size_t)k * sizeof *scores);
    ids = malloc((size_t)nq * (size_t)k * sizeof *ids);
    if (!in || !feat || !emb || !scores || !ids) {
        fail("out of memory");
        goto done;
    }
    /* every image decodes before anything is printed */
    for (int q = 0; q < nq; q++)
        if (embed_preprocess_file(argv[first + q], in + (size_t)q * EMBED_INPUT_SIZE, err,
                                  sizeof err) != 0) {
            fail("%s: %s", argv[first + q], err);
            goto done;
        }
    r = vise_resnet50_open(weights, &model);
    if (r != 0) {
        fail("%s: cannot load the weights: %s", weights ? weights : "(embedded)",
             vise_resnet50_strerror(r));
        goto done;
    }
    for (int q = 0; q < nq; q++) {
        r = vise_resnet50_run(model, 1, in + (size_t)q * EMBED_INPUT_SIZE, feat);
        if (r != 0) {
            fail("%s: the model failed: %s", argv[first + q], vise_resnet50_strerror(r));
            goto done;
        }
        shard_mean_pool(feat, 1, DIM, FEAT_HW, emb + (size_t)q * DIM);
    }
    normalise(emb, nq);
    if (sx_search(ix, nq, emb, (int)k, (int)nprobe, scores, ids, err, sizeof err) != 0) {
        fail("%s", err);
        goto done;
    }
    for (int q = 0; q < nq; q++) {
        printf("# query %s\n", argv[first + q]);
        for (long j = 0; j < k; j++) {
            long id = ids[(size_t)q * (size_t)k + (size_t)j];

            if (id < 0 || id >= m.nok)
                continue;          /* IVF: fewer than k found in the probed lists */
            printf("%ld\t%.6f\t%s\n", j + 1, scores[(size_t)q * (size_t)k + (size_t)j],
                   m.paths[id]);
        }
    }
    rc = 0;
done:
    vise_resnet50_close(model);
    sx_free(ix);
    manifest_free(&m);
    free(in);
    free(feat);
    free(emb);
    free(scores);
    free(ids);
    return rc;
}

int
main(int argc, char **argv)
{
    shard_crc32(0, "", 0);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "build"))
        return cmd_build(argc, argv);
    if (!strcmp(argv[1], "query"))
        return cmd_query(argc, argv);
    return fail("unknown command '%s': expected build or query", argv[1]);
}
