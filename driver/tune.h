/*
 * tune.h — the tuner (tune.c): measures candidate schedules on this machine
 * and writes the fastest as a schedule file.
 */
#ifndef VISEC_TUNE_H
#define VISEC_TUNE_H

#include <signal.h>

#include "schedules.h"

struct BindOptions;

typedef struct TuneOptions {
    const char *model;              /* the model description */
    const struct BindOptions *bind; /* its weights */
    const Target *target;           /* the target to schedule for */
    double budget;                  /* seconds for the whole run */
    const char *cc;                 /* the C compiler command */
    const char *cflags;             /* its flags for a fast build */
    int batch;                      /* images per timed run */
    int runs;                       /* timed runs per measurement (1..64) */
    FILE *progress;                 /* where progress lines go */
    volatile sig_atomic_t *stop;    /* set on Ctrl-C: stop, write nothing */
} TuneOptions;

/*
 * Tunes, then writes the schedule file to out: the tuned schedule, or the
 * default if the tuned one is not faster end to end.  false (nothing
 * written) after errors, reported on d, or when *o->stop was set.
 */
bool tune(const TuneOptions *o, FILE *out, Diag *d);

#endif
