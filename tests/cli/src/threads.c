/*
 * threads.c — several threads, each with its own handle of a generated
 * model, run at the same time and must all get the single-threaded answer.
 *
 *   cc -DMODEL=tiny -DUPPER=TINY -I OUTDIR -I tools threads.c OUTDIR/tiny.c -lm -lpthread
 *   threads WEIGHTS
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_model.h"

enum { THREADS = 4, BATCH = 2, RUNS = 20 };

typedef struct Job {
    const char *weights;    /* the .weights file */
    const float *input;     /* BATCH images */
    float *output;          /* BATCH outputs, written by the job */
    int err;                /* 0, or the first error code */
} Job;

static void *
work(void *arg)
{
    Job *j = arg;
    MODEL *m;
    j->err = API(_open)(j->weights, &m);
    for (int r = 0; r < RUNS && !j->err; r++)
        j->err = API(_run)(m, BATCH, j->input, j->output);
    API(_close)(m);
    return NULL;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: threads WEIGHTS\n");
        return 2;
    }
    float *in = malloc(sizeof(float) * BATCH * INPUT_SIZE);
    float *ref = malloc(sizeof(float) * BATCH * OUTPUT_SIZE);
    float *out[THREADS];
    if (!in || !ref)
        return 2;
    for (long i = 0; i < (long)BATCH * INPUT_SIZE; i++)
        in[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    Job solo = {argv[1], in, ref, 0};
    work(&solo);
    if (solo.err) {
        fprintf(stderr, "threads: %s\n", API(_strerror)(solo.err));
        return 1;
    }
    pthread_t t[THREADS];
    Job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        out[i] = malloc(sizeof(float) * BATCH * OUTPUT_SIZE);
        jobs[i] = (Job){argv[1], in, out[i], 0};
        if (!out[i] || pthread_create(&t[i], NULL, work, &jobs[i]))
            return 2;
    }
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].err || memcmp(out[i], ref, sizeof(float) * BATCH * OUTPUT_SIZE)) {
            fprintf(stderr, "threads: thread %d: %s\n", i,
                    jobs[i].err ? API(_strerror)(jobs[i].err) : "another answer");
            bad = 1;
        }
        free(out[i]);
    }
    free(in);
    free(ref);
    if (!bad)
        printf("threads: %d handles on %d threads agree\n", THREADS, THREADS);
    return bad;
}
