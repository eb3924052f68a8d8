/*
 * listrun.h — embed --list FILE --out-dir DIR: a list of images, in shards,
 * with decoding overlapped with the model, resumable, and (built with
 * -DEMBED_MPI) spread over the ranks of an MPI job.  See shards.h for the
 * output directory and README.md for the whole story.
 */
#ifndef EMBED_LISTRUN_H
#define EMBED_LISTRUN_H

#define LIST_MAX_SHARD 1000000     /* --shard-size at most this */
#define LIST_DEFAULT_SHARD 4096

typedef struct {
    const char *weights;           /* -w: weights file, NULL if embedded */
    const char *list;              /* --list: file of paths, "-" for stdin */
    const char *outdir;            /* --out-dir */
    long shard_size;               /* --shard-size: entries per shard */
    int batch;                     /* --batch: entries per model call */
    int keep_going;                /* --keep-going: record bad images, go on */
    int features;                  /* --features: also write features-S.npy */
    int quiet;                     /* -q: no progress */
} ListOptions;

/*
 * Runs the list.  Returns 0 when every image was embedded, 2 when the run
 * finished with failed images (--keep-going), 1 after an error (the run
 * stopped; complete shards stay and a new run resumes from them).  In an
 * MPI build every rank calls it between MPI_Init and MPI_Finalize.
 */
int embed_list_run(const ListOptions *o);

#endif
