/*
 * listrun.c — embed --list FILE --out-dir DIR (see listrun.h, shards.h).
 *
 * The list is read twice and never held in memory (a list on stdin is read
 * into memory once): a first pass counts the entries, the second hands them
 * out shard by shard.  Two threads share the work:
 *
 *   decoder  (a pthread)   reads the list, skips shards that are complete
 *                          already, decodes batch k+1 into a free slot
 *   main                   runs the model on batch k, writes the shard's
 *                          .npy files and, when the shard ends, its record
 *
 * with two batch slots between them, so at most two batches of images are
 * in memory.  A shard's files are written under NAME.tmp and renamed when
 * complete; its record (shard-S.tsv) is written last, so a shard without a
 * record, or whose files disagree with it, is redone by the next run.
 *
 * With -DEMBED_MPI, rank r of R takes shards r, r+R, r+2R, ...; when all
 * are done, rank 0 collects the manifest rows of every shard from its
 * owner and writes manifest.tsv.  Nothing in the directory depends on R.
 */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, fmemopen, open_memstream, getline */

#include "listrun.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "npy.h"
#include "preprocess.h"
#include "shards.h"
#include "vise_resnet50.h"

#ifdef EMBED_MPI
#include <mpi.h>
#endif

#define FEAT_C VISE_RESNET50_OUTPUT_C
#define FEAT_HW ((size_t)VISE_RESNET50_OUTPUT_H * VISE_RESNET50_OUTPUT_W)
#define FEAT_SIZE ((size_t)FEAT_C * FEAT_HW)

/* ---- errors */

static int g_rank, g_nranks = 1;

/* Prints "embed: error: ..." (with the rank in an MPI job of several). */
static void
errorf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (g_nranks > 1)
        fprintf(stderr, "embed: rank %d: error: ", g_rank);
    else
        fprintf(stderr, "embed: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/*
 * Temporary files being written, removed if the process is stopped by
 * SIGINT or SIGTERM (what mpirun sends when another rank fails).
 */
#define NTEMP 2
static char g_temp[NTEMP][4200];
static volatile sig_atomic_t g_temp_used[NTEMP];

static void
on_signal(int sig)
{
    for (int i = 0; i < NTEMP; i++)
        if (g_temp_used[i])
            unlink(g_temp[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void
temp_set(int i, const char *final_path)
{
    g_temp_used[i] = 0;
    if (final_path) {
        snprintf(g_temp[i], sizeof g_temp[i], "%s.tmp", final_path);
        g_temp_used[i] = 1;
    }
}

/* ---- the list */

typedef struct {
    const char *name;              /* the file name, "-" for stdin */
    FILE *f;
    char *mem;                     /* stdin's contents (or NULL) */
    size_t memlen;
    char *line;                    /* getline's buffer */
    size_t cap;
} List;

/* Opens the list; "-" reads stdin into memory (on rank 0, sent to the others). */
static int
list_open(List *l, const char *name)
{
    memset(l, 0, sizeof *l);
    l->name = name;
    if (strcmp(name, "-") != 0) {
        l->f = fopen(name, "r");
        if (!l->f) {
            errorf("%s: cannot open the list: %s", name, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (g_rank == 0) {
        size_t cap = 0;
        char *nb;

        for (;;) {
            size_t got;

            if (cap - l->memlen < 65536) {
                cap = cap ? cap * 2 : 1 << 20;
                nb = realloc(l->mem, cap);
                if (!nb) {
                    errorf("out of memory reading the list from stdin");
                    return -1;
                }
                l->mem = nb;
            }
            got = fread(l->mem + l->memlen, 1, cap - l->memlen, stdin);
            l->memlen += got;
            if (got == 0)
                break;
        }
        if (ferror(stdin)) {
            errorf("cannot read the list from stdin: %s", strerror(errno));
            return -1;
        }
    }
#ifdef EMBED_MPI
    {
        unsigned long long len = l->memlen;

        MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
        if (g_rank != 0) {
            l->memlen = (size_t)len;
            l->mem = malloc(l->memlen + 1);
            if (!l->mem) {
                errorf("out of memory for the list");
                return -1;
            }
        }
        for (size_t off = 0; off < l->memlen; off += 1 << 30) {
            size_t n = l->memlen - off < (size_t)1 << 30 ? l->memlen - off : (size_t)1 << 30;
            MPI_Bcast(l->mem + off, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD);
        }
    }
#endif
    if (l->memlen == 0) {
        l->f = NULL;                /* empty: no entries */
        return 0;
    }
    l->f = fmemopen(l->mem, l->memlen, "r");
    if (!l->f) {
        errorf("cannot read the list from memory: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void
list_close(List *l)
{
    if (l->f)
        fclose(l->f);
    free(l->mem);
    free(l->line);
    memset(l, 0, sizeof *l);
}

static void
list_rewind(List *l)
{
    if (l->f)
        rewind(l->f);
}

/*
 * The next entry: a line without its newline (and a CR before it); empty
 * lines are skipped.  1 with *path set (valid until the next call), 0 at
 * the end, -1 after a read error.
 */
static int
list_next(List *l, const char **path)
{
    ssize_t n;

    if (!l->f)
        return 0;
    while ((n = getline(&l->line, &l->cap, l->f)) > 0) {
        if (l->line[n - 1] == '\n')
            l->line[--n] = '\0';
        if (n > 0 && l->line[n - 1] == '\r')
            l->line[--n] = '\0';
        if (n > 0) {
            *path = l->line;
            return 1;
        }
    }
    return ferror(l->f) ? -1 : 0;
}

/* ---- the pipeline between the decoding thread and the model */

typedef struct {
    int full;                      /* filled by the decoder, not yet used by the model */
    int end;                       /* no more batches; err[0] != 0 after a decoder error */
    char err[600];
    long shard;                    /* the shard the batch belongs to */
    long shard_entries;            /* entries in that shard */
    int skipped;                   /* the shard is complete already: no images */
    int first, last;               /* the shard's first / last batch */
    int n;                         /* entries in the batch */
    int nok;                       /* images decoded, packed at the start of input */
    char **paths;                  /* [batch] the entries (malloc'd strings) */
    char (*errors)[600];           /* [batch] "" or why the image failed */
    float *input;                  /* [batch][3][224][224] */
} Batch;

typedef struct {
    const ListOptions *o;
    List list;
    long nentries;                 /* entries in the list */
    long nshards;
    long mine;                     /* entries in this rank's shards */
    Batch slot[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                      /* the model side gave up: the decoder stops too */
} Pipe;

/* The decoder's next free slot (k-th batch), or NULL when told to stop. */
static Batch *
slot_get_free(Pipe *p, long k)
{
    Batch *b = &p->slot[k % 2];

    pthread_mutex_lock(&p->mu);
    while (b->full && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop)
        b = NULL;
    pthread_mutex_unlock(&p->mu);
    return b;
}

static void
slot_put(Pipe *p, Batch *b)
{
    pthread_mutex_lock(&p->mu);
    b->full = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int
stopped(Pipe *p)
{
    int s;

    pthread_mutex_lock(&p->mu);
    s = p->stop;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/*
 * Whether shard s (its entries' CRC list_crc) is complete in the output
 * directory from an earlier run with the same options.  why gets the reason
 * when a record exists but does not fit.
 */
static int
shard_is_complete(const ListOptions *o, long s, long entries, uint32_t list_crc, char *why,
                  size_t whylen)
{
    char path[4096], err[600];
    ShardRecord rec;
    int r, ok = 0;

    why[0] = '\0';
    shard_path(path, sizeof path, o->outdir, "shard", s, "tsv");
    r = shard_record_read(path, &rec, err, sizeof err);
    if (r == 1)
        return 0;
    if (r < 0) {
        snprintf(why, whylen, "%s", err);
        return 0;
    }
    if (rec.shard != s || rec.shard_size != o->shard_size || rec.entries != entries ||
        rec.list_crc != list_crc)
        snprintf(why, whylen, "%s: written for another list or shard size", path);
    else if (rec.has_features != (o->features != 0))
        snprintf(why, whylen, "%s: written %s --features", path,
                 rec.has_features ? "with" : "without");
    else if (shard_record_check_files(o->outdir, &rec, err, sizeof err) != 0)
        snprintf(why, whylen, "%s", err);
    else
        ok = 1;
    shard_record_free(&rec);
    return ok;
}

/* Ends the decoder's output with an end marker (err may be NULL). */
static void
decoder_end(Pipe *p, long k, const char *err)
{
    Batch *b = slot_get_free(p, k);

    if (!b)
        return;
    b->end = 1;
    snprintf(b->err, sizeof b->err, "%s", err ? err : "");
    slot_put(p, b);
}

/* The decoding thread. */
static void *
decoder(void *arg)
{
    Pipe *p = arg;
    const ListOptions *o = p->o;
    char **paths = malloc((size_t)o->shard_size * sizeof *paths);
    char err[600], why[4400];
    long k = 0;

    if (!paths) {
        decoder_end(p, k, "out of memory");
        return NULL;
    }
    list_rewind(&p->list);
    for (long s = 0; s < p->nshards; s++) {
        long first = s * o->shard_size;
        long ne = p->nentries - first < o->shard_size ? p->nentries - first : o->shard_size;
        uint32_t crc = 0;
        int mine = s % g_nranks == g_rank;

        /* the shard's entries (only this rank's shards are kept) */
        for (long i = 0; i < ne; i++) {
            const char *path;
            int r = list_next(&p->list, &path);

            if (r <= 0) {
                snprintf(err, sizeof err, "%s: %s", o->list,
                         r < 0 ? "cannot read the list" : "the list got shorter during the run");
                for (long j = 0; j < i && mine; j++)
                    free(paths[j]);
                free(paths);
                decoder_end(p, k, err);
                return NULL;
            }
            if (mine) {
                crc = shard_list_crc(crc, path);
                paths[i] = strdup(path);
                if (!paths[i]) {
                    for (long j = 0; j < i; j++)
                        free(paths[j]);
                    free(paths);
                    decoder_end(p, k, "out of memory");
                    return NULL;
                }
            }
        }
        if (!mine)
            continue;
        if (shard_is_complete(o, s, ne, crc, why, sizeof why)) {
            Batch *b = slot_get_free(p, k++);

            for (long j = 0; j < ne; j++)
                free(paths[j]);
            if (!b)
                break;
            b->shard = s, b->shard_entries = ne, b->skipped = 1, b->n = (int)ne;
            b->first = b->last = 1, b->nok = 0;
            slot_put(p, b);
            continue;
        }
        if (why[0] && !o->quiet)
            fprintf(stderr, "embed: shard %ld is redone: %s\n", s, why);
        for (long b0 = 0; b0 < ne; b0 += o->batch) {
            int n = ne - b0 < o->batch ? (int)(ne - b0) : o->batch;
            Batch *b = slot_get_free(p, k++);

            if (!b) {
                for (long j = b0; j < ne; j++)
                    free(paths[j]);
                free(paths);
                return NULL;
            }
            b->shard = s, b->shard_entries = ne, b->skipped = 0, b->n = n, b->nok = 0;
            b->first = b0 == 0, b->last = b0 + n == ne;
            for (int i = 0; i < n; i++) {
                b->paths[i] = paths[b0 + i];
                b->errors[i][0] = '\0';
            }
            for (int i = 0; i < n; i++) {
                if (stopped(p))
                    break;
                if (embed_preprocess_file(b->paths[i], b->input + (size_t)b->nok * EMBED_INPUT_SIZE,
                                          err, sizeof err) == 0) {
                    b->nok++;
                } else {
                    /* messages go on one manifest line */
                    for (char *c = err; *c; c++)
                        if (*c == '\n' || *c == '\t' || *c == '\r')
                            *c = ' ';
                    snprintf(b->errors[i], sizeof b->errors[i], "%s", err);
                }
            }
            slot_put(p, b);
        }
    }
    free(paths);
    decoder_end(p, k, NULL);
    return NULL;
}

/* ---- progress */

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    int show;                      /* progress is printed (rank 0, not -q) */
    int tty;                       /* stderr is a terminal: one line, redrawn */
    double start, last;            /* when the run started, the last line */
    long total;                    /* this rank's entries */
    long done;                     /* of which handled (including complete shards) */
    long worked;                   /* of which run through decoding and the model */
    int open_line;                 /* a redrawn line is on the terminal */
    long shown;                    /* done as last printed */
} Progress;

static void
format_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);

    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

static void
progress(Progress *pr, int final)
{
    double t = now(), el = t - pr->start, rate;
    char left[32];

    if (!pr->show)
        return;
    if (!final && t - pr->last < (pr->tty ? 0.25 : 5.0))
        return;
    if (final && pr->open_line && pr->shown == pr->done) {
        fputc('\n', stderr);      /* the last line drawn is the final one */
        pr->open_line = 0;
        return;
    }
    pr->last = t;
    pr->shown = pr->done;
    rate = el > 0 ? (double)pr->worked / el : 0.0;
    if (pr->done >= pr->total)
        snprintf(left, sizeof left, "0s");
    else if (rate > 0)
        format_duration(left, sizeof left, (double)(pr->total - pr->done) / rate);
    else
        snprintf(left, sizeof left, "?");
    fprintf(stderr, "%sembed: %ld/%ld images (%.0f%%), %.1f images/s, %s left%s%s",
            pr->tty ? "\r" : "", pr->done, pr->total,
            pr->total ? 100.0 * (double)pr->done / (double)pr->total : 100.0, rate, left,
            g_nranks > 1 ? " (rank 0's shards)" : "", pr->tty ? "\033[K" : "\n");
    pr->open_line = pr->tty;
    if (final && pr->tty) {
        fputc('\n', stderr);
        pr->open_line = 0;
    }
}

/* Ends a redrawn progress line before another message. */
static void
progress_break(Progress *pr)
{
    if (pr->open_line) {
        fputc('\n', stderr);
        pr->open_line = 0;
    }
}

/* ---- the model side: shard files */

typedef struct {
    NpyWriter emb, feat;
    FILE *rows;                    /* the record's rows (open_memstream) */
    char *rows_buf;
    size_t rows_len;
    long ok;                       /* rows so far */
    uint32_t list_crc;
    char emb_path[4096], feat_path[4096];
} ShardOut;

static void
shard_out_abort(ShardOut *so)
{
    npy_abort(&so->emb);
    npy_abort(&so->feat);
    temp_set(0, NULL);
    temp_set(1, NULL);
    if (so->rows)
        fclose(so->rows);
    free(so->rows_buf);
    so->rows = NULL;
    so->rows_buf = NULL;
}

static int
shard_out_open(const ListOptions *o, ShardOut *so, long s, long entries)
{
    size_t eshape[2] = {(size_t)entries, FEAT_C};
    size_t fshape[4] = {(size_t)entries, FEAT_C, VISE_RESNET50_OUTPUT_H, VISE_RESNET50_OUTPUT_W};
    char path[4096], err[600];

    memset(so, 0, sizeof *so);
    /* an old record goes first: it must never describe new files */
    shard_path(path, sizeof path, o->outdir, "shard", s, "tsv");
    if (remove(path) != 0 && errno != ENOENT) {
        errorf("%s: cannot remove: %s", path, strerror(errno));
        return -1;
    }
    shard_path(so->emb_path, sizeof so->emb_path, o->outdir, "embeddings", s, "npy");
    shard_path(so->feat_path, sizeof so->feat_path, o->outdir, "features", s, "npy");
    if (!o->features && remove(so->feat_path) != 0 && errno != ENOENT) {
        errorf("%s: cannot remove: %s", so->feat_path, strerror(errno));
        return -1;
    }
    so->rows = open_memstream(&so->rows_buf, &so->rows_len);
    if (!so->rows) {
        errorf("out of memory");
        return -1;
    }
    temp_set(0, so->emb_path);
    if (npy_open(&so->emb, so->emb_path, eshape, 2, err, sizeof err) != 0)
        goto fail;
    if (o->features) {
        temp_set(1, so->feat_path);
        if (npy_open(&so->feat, so->feat_path, fshape, 4, err, sizeof err) != 0)
            goto fail;
    }
    return 0;
fail:
    errorf("%s", err);
    shard_out_abort(so);
    return -1;
}

/* Commits the shard's .npy files, then writes its record. */
static int
shard_out_commit(const ListOptions *o, ShardOut *so, long s, long entries)
{
    char path[4096], err[600];
    ShardRecord rec;

    memset(&rec, 0, sizeof rec);
    if (fclose(so->rows) != 0) {
        so->rows = NULL;
        errorf("out of memory");
        goto fail;
    }
    so->rows = NULL;
    if (npy_set_rows(&so->emb, (size_t)so->ok, err, sizeof err) != 0 ||
        (o->features && npy_set_rows(&so->feat, (size_t)so->ok, err, sizeof err) != 0) ||
        npy_commit(&so->emb, err, sizeof err) != 0 ||
        (o->features && npy_commit(&so->feat, err, sizeof err) != 0)) {
        errorf("%s", err);
        goto fail;
    }
    temp_set(0, NULL);
    temp_set(1, NULL);
    rec.shard = s;
    rec.shard_size = o->shard_size;
    rec.entries = entries;
    rec.ok = so->ok;
    rec.list_crc = so->list_crc;
    rec.has_features = o->features;
    if (shard_file_crc(so->emb_path, &rec.emb_bytes, &rec.emb_crc, err, sizeof err) != 0 ||
        (o->features &&
         shard_file_crc(so->feat_path, &rec.feat_bytes, &rec.feat_crc, err, sizeof err) != 0)) {
        errorf("%s", err);
        goto fail;
    }
    rec.rows = so->rows_buf;
    rec.rows_len = so->rows_len;
    shard_path(path, sizeof path, o->outdir, "shard", s, "tsv");
    if (shard_record_write(path, &rec, err, sizeof err) != 0) {
        errorf("%s", err);
        goto fail;
    }
    free(so->rows_buf);
    so->rows_buf = NULL;
    return 0;
fail:
    shard_out_abort(so);
    return -1;
}

/* ---- the manifest */

/*
 * Reads this rank's record of shard s for the manifest: its rows and the
 * number of failed entries.  0, or -1 after an error (printed).
 */
static int
read_rows(const ListOptions *o, long s, ShardRecord *rec)
{
    char path[4096], err[600];
    int r;

    shard_path(path, sizeof path, o->outdir, "shard", s, "tsv");
    r = shard_record_read(path, rec, err, sizeof err);
    if (r == 1)
        errorf("%s: missing", path);
    else if (r < 0)
        errorf("%s", err);
    return r == 0 ? 0 : -1;
}

/*
 * Rank 0 writes DIR/manifest.tsv from every shard's rows, received from the
 * shard's owner in an MPI job; the other ranks send theirs.  Returns the
 * number of failed entries (on rank 0; 0 elsewhere) or -1 after an error.
 */
static long
write_manifest(const ListOptions *o, long nshards, long *ok_total)
{
    char path[4096], tmp[4200];
    FILE *f = NULL;
    long failed = 0;
    int bad = 0;

    *ok_total = 0;
    if (g_rank != 0) {
#ifdef EMBED_MPI
        for (long s = g_rank; s < nshards; s += g_nranks) {
            ShardRecord rec;
            long long head[3] = {-1, 0, 0};

            if (read_rows(o, s, &rec) == 0) {
                head[0] = (long long)rec.rows_len, head[1] = rec.entries - rec.ok,
                head[2] = rec.ok;
            }
            MPI_Send(head, 3, MPI_LONG_LONG, 0, 1, MPI_COMM_WORLD);
            if (head[0] > 0)
                MPI_Send(rec.rows, (int)head[0], MPI_CHAR, 0, 2, MPI_COMM_WORLD);
            if (head[0] >= 0)
                shard_record_free(&rec);
        }
#endif
        return 0;
    }
    snprintf(path, sizeof path, "%s/%s", o->outdir, SHARD_MANIFEST);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) {
        errorf("%s: cannot create: %s", tmp, strerror(errno));
        bad = 1;
    } else {
        fputs(SHARD_MANIFEST_HEADER, f);
    }
    /* every shard's rows are received even after an error: the senders
       must not be left waiting */
    for (long s = 0; s < nshards; s++) {
        int owner = (int)(s % g_nranks);
        ShardRecord rec;

        if (owner == 0) {
            if (read_rows(o, s, &rec) != 0) {
                bad = 1;
                continue;
            }
            failed += rec.entries - rec.ok;
            *ok_total += rec.ok;
            if (f)
                fwrite(rec.rows, 1, rec.rows_len, f);
            shard_record_free(&rec);
        } else {
#ifdef EMBED_MPI
            long long head[3];
            char *buf;

            MPI_Recv(head, 3, MPI_LONG_LONG, owner, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (head[0] < 0) {
                errorf("rank %d has no record of shard %ld", owner, s);
                bad = 1;
                continue;
            }
            buf = malloc((size_t)head[0] + 1);
            if (!buf) {
                errorf("out of memory");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            if (head[0] > 0)
                MPI_Recv(buf, (int)head[0], MPI_CHAR, owner, 2, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            failed += (long)head[1];
            *ok_total += (long)head[2];
            if (f)
                fwrite(buf, 1, (size_t)head[0], f);
            free(buf);
#endif
        }
    }
    if (f && (ferror(f) | fclose(f))) {
        errorf("%s: cannot write: %s", tmp, strerror(errno));
        bad = 1;
        f = NULL;
    }
    if (bad) {
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        errorf("%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return failed;
}

/* ---- the run */

/* In an MPI job an error on one rank ends the job; alone, returns 1. */
static int
give_up(void)
{
#ifdef EMBED_MPI
    if (g_nranks > 1) {
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
#endif
    return 1;
}

/* Creates the output directory if needed (one level). */
static int
make_outdir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        errorf("%s: cannot create the directory: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errorf("%s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* The model side of the pipeline: 0, or -1 after an error (printed). */
static int
model_loop(Pipe *p, vise_resnet50 *model, Progress *pr, long *written, long *skipped,
           long *failed, double *t_model)
{
    const ListOptions *o = p->o;
    float *feat = malloc((size_t)o->batch * FEAT_SIZE * sizeof *feat);
    float *emb = malloc((size_t)o->batch * FEAT_C * sizeof *emb);
    ShardOut so;
    int open = 0, rc = -1;
    char err[600];

    memset(&so, 0, sizeof so);
    if (!feat || !emb) {
        errorf("out of memory");
        goto done;
    }
    for (long k = 0;; k++) {
        Batch *b = &p->slot[k % 2];

        pthread_mutex_lock(&p->mu);
        while (!b->full)
            pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (b->end) {
            if (b->err[0]) {
                progress_break(pr);
                errorf("%s", b->err);
                goto done;
            }
            rc = 0;
            goto done;
        }
        if (b->skipped) {
            *skipped += 1;
            pr->done += b->n;
            goto next;
        }
        if (b->first) {
            if (shard_out_open(o, &so, b->shard, b->shard_entries) != 0)
                goto done;
            open = 1;
        }
        if (b->nok > 0) {
            double t0 = now();
            int r = vise_resnet50_run(model, b->nok, b->input, feat);

            *t_model += now() - t0;
            if (r != 0) {
                progress_break(pr);
                errorf("the model failed on shard %ld: %s", b->shard, vise_resnet50_strerror(r));
                goto done;
            }
            shard_mean_pool(feat, (size_t)b->nok, FEAT_C, FEAT_HW, emb);
            if (npy_append(&so.emb, emb, (size_t)b->nok * FEAT_C, err, sizeof err) != 0 ||
                (o->features &&
                 npy_append(&so.feat, feat, (size_t)b->nok * FEAT_SIZE, err, sizeof err) != 0)) {
                progress_break(pr);
                errorf("%s", err);
                goto done;
            }
        }
        for (int i = 0; i < b->n; i++) {
            so.list_crc = shard_list_crc(so.list_crc, b->paths[i]);
            if (b->errors[i][0]) {
                progress_break(pr);
                if (!o->keep_going) {
                    errorf("%s: %s", b->paths[i], b->errors[i]);
                    goto done;
                }
                fprintf(stderr, "embed: warning: %s: %s (in the manifest; going on)\n",
                        b->paths[i], b->errors[i]);
                fputs("-\t-\t", so.rows);
                shard_put_escaped(so.rows, b->paths[i]);
                fputs("\terror: ", so.rows);
                shard_put_escaped(so.rows, b->errors[i]);
                fputc('\n', so.rows);
                *failed += 1;
            } else {
                fprintf(so.rows, "%ld\t%ld\t", b->shard, so.ok++);
                shard_put_escaped(so.rows, b->paths[i]);
                fputs("\tok\n", so.rows);
            }
        }
        pr->done += b->n;
        pr->worked += b->n;
        if (b->last) {
            open = 0;
            if (shard_out_commit(o, &so, b->shard, b->shard_entries) != 0)
                goto done;
            *written += 1;
        }
next:
        for (int i = 0; i < b->n && !b->skipped; i++) {
            free(b->paths[i]);
            b->paths[i] = NULL;
        }
        pthread_mutex_lock(&p->mu);
        b->full = 0;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        progress(pr, 0);
    }
done:
    if (open)
        shard_out_abort(&so);
    free(feat);
    free(emb);
    return rc;
}

/* Frees what the batches still hold (after the decoder has stopped). */
static void
free_batches(Pipe *p)
{
    for (int j = 0; j < 2; j++) {
        Batch *b = &p->slot[j];

        if (b->full && !b->end && !b->skipped)
            for (int i = 0; i < b->n; i++)
                free(b->paths[i]);
        free(b->paths);
        free(b->errors);
        free(b->input);
    }
}

int
embed_list_run(const ListOptions *o)
{
    Pipe p;
    Progress pr;
    vise_resnet50 *model = NULL;
    pthread_t thread;
    const char *path;
    long written = 0, skipped = 0, failed = 0, ok_total = 0, bad;
    double t_model = 0.0;
    uint32_t crc = 0;
    int r, rc = 1;

#ifdef EMBED_MPI
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_nranks);
#endif
    memset(&p, 0, sizeof p);
    memset(&pr, 0, sizeof pr);
    p.o = o;
    shard_crc32(0, "", 0);         /* builds the table before the thread starts */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (list_open(&p.list, o->list) != 0)
        return give_up();
    /* first pass: the entries and their CRC (every rank must see the same) */
    while ((r = list_next(&p.list, &path)) > 0) {
        p.nentries++;
        crc = shard_list_crc(crc, path);
    }
    if (r < 0) {
        errorf("%s: cannot read the list: %s", o->list, strerror(errno));
        goto fail;
    }
#ifdef EMBED_MPI
    {
        unsigned long long mine[2] = {(unsigned long long)p.nentries, crc}, root[2];

        memcpy(root, mine, sizeof root);
        MPI_Bcast(root, 2, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
        r = root[0] != mine[0] || root[1] != mine[1];
        if (r)
            errorf("%s: %llu entries (CRC-32 %08llx), rank 0 sees %llu (%08llx): the ranks must "
                   "read the same list (a shared file system)", o->list, mine[0], mine[1],
                   root[0], root[1]);
        MPI_Allreduce(MPI_IN_PLACE, &r, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (r)
            goto fail;
    }
#endif
    if (p.nentries == 0) {
        if (g_rank == 0)
            errorf("%s: no image paths in the list", o->list);
        goto fail;
    }
    p.nshards = (p.nentries + o->shard_size - 1) / o->shard_size;
    for (long s = g_rank; s < p.nshards; s += g_nranks)
        p.mine += p.nentries - s * o->shard_size < o->shard_size ?
                  p.nentries - s * o->shard_size : o->shard_size;
    if (make_outdir(o->outdir) != 0)
        goto fail;
    r = vise_resnet50_open(o->weights, &model);
    if (r != 0) {
        if (o->weights)
            errorf("%s: cannot load the weights: %s", o->weights, vise_resnet50_strerror(r));
        else
            errorf("cannot load the embedded weights: %s", vise_resnet50_strerror(r));
        goto fail;
    }
    for (int j = 0; j < 2; j++) {
        p.slot[j].paths = calloc((size_t)o->batch, sizeof *p.slot[j].paths);
        p.slot[j].errors = calloc((size_t)o->batch, sizeof *p.slot[j].errors);
        p.slot[j].input = malloc((size_t)o->batch * EMBED_INPUT_SIZE * sizeof(float));
        if (!p.slot[j].paths || !p.slot[j].errors || !p.slot[j].input) {
            errorf("out of memory for batches of %d images", o->batch);
            goto fail;
        }
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    pr.show = !o->quiet && g_rank == 0;
    pr.tty = isatty(2);
    pr.total = p.mine;
    pr.start = pr.last = now();
    if (pthread_create(&thread, NULL, decoder, &p) != 0) {
        errorf("cannot start the decoding thread");
        goto fail;
    }

    r = model_loop(&p, model, &pr, &written, &skipped, &failed, &t_model);
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(thread, NULL);
    if (r != 0)
        goto fail;
    progress(&pr, 1);
    vise_resnet50_close(model);
    model = NULL;

    /* every rank is done: the manifest, the totals */
    bad = write_manifest(o, p.nshards, &ok_total);
#ifdef EMBED_MPI
    {
        long long v[3] = {bad, written, skipped};

        MPI_Bcast(v, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        bad = (long)v[0];
        MPI_Allreduce(MPI_IN_PLACE, v + 1, 2, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        written = (long)v[1], skipped = (long)v[2];
    }
#endif
    if (bad < 0)
        goto fail;
    if (g_rank == 0 && !o->quiet) {
        double el = now() - pr.start;

        fprintf(stderr, "embed: %ld images: %ld ok, %ld failed; %ld shards: %ld written, %ld "
                "complete already -> %s/%s\n", p.nentries, ok_total, bad, p.nshards, written,
                skipped, o->outdir, SHARD_MANIFEST);
        if (pr.worked > 0)
            fprintf(stderr, "embed: %.1f s, %.2f images/s%s; the model busy %.0f%% of the time\n",
                    el, (double)pr.worked / el, g_nranks > 1 ? " on rank 0" : "",
                    100.0 * t_model / el);
    }
    rc = bad > 0 ? 2 : 0;
    free_batches(&p);
    list_close(&p.list);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    return rc;
fail:
    vise_resnet50_close(model);
    free_batches(&p);
    list_close(&p.list);
    return give_up();
}
