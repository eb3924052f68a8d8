/*
 * passes.h — the graph passes, one per file, and the pipeline that runs them.
 *
 * Every pass takes the graph, rewrites it in place and returns a one-line
 * summary of what it did (malloc'd), or NULL if it changed nothing.  Passes
 * never report user errors: by the time they run the model is well-formed,
 * so anything wrong is a compiler bug (the verifier runs after each pass).
 */
#ifndef VISEC_PASSES_H
#define VISEC_PASSES_H

#include "ir.h"
#include "schedules.h"

char *fold_bn(Graph *g);          /* fold_bn.c: batch norm into conv weights, else scale_shift */
char *fuse_epilogue(Graph *g);    /* fuse_epilogue.c: add and relu into the producing conv */
char *eliminate_dead(Graph *g);   /* eliminate_dead.c: unused nodes and weights */

/* What the schedule pass reads besides the graph. */
typedef struct SchedOptions {
    const Target *target;       /* the target table */
    const SchedFile *file;      /* a schedule file to apply on top, or NULL */
    uint64_t random_seed;       /* nonzero: random legal schedules instead of defaults */
    bool trivial;               /* the pass is disabled: the trivial schedule (still legal) */
    bool can_pack;              /* pack_weights will run (Winograd needs it) */
    Diag *diag;                 /* where schedule-file errors go */
} SchedOptions;
/* schedule.c: fills Node.sched and Node.scratch; NULL after reporting
 * schedule-file errors on o->diag (the one pass that reads user input). */
char *schedule(Graph *g, const SchedOptions *o);
char *layout(Graph *g);           /* layout.c: blocked outputs as scheduled, reorders where readers differ */
char *layout_plain(Graph *g);     /* layout.c: disabled, every layout plain */
char *pack_weights(Graph *g);     /* pack_weights.c: weights into the layout kernels read */
char *plan_memory(Graph *g);      /* plan_memory.c: activations at offsets in one arena */
char *plan_naive(Graph *g);       /* plan_memory.c: each buffer in a region of its own (-O0) */

/* The memory plan's figures, for --stats and tests (bytes per image). */
typedef struct MemPlan {
    int64_t arena;          /* size of the planned arena */
    int64_t lower_bound;    /* largest total of simultaneously live buffers */
    int64_t naive;          /* every buffer in a region of its own */
} MemPlan;
MemPlan memory_plan_figures(const Graph *g);

/* What the pipeline does besides running the passes. */
typedef struct PipelineOptions {
    const char *dump_after; /* pass name or "all": print the IR after it; NULL none */
    const char *disabled[16]; /* names of passes not to run */
    int ndisabled;          /* entries in disabled */
    bool stats;             /* per-pass node counts and summaries */
    bool none;              /* run no pass at all (-O0) */
    FILE *out;              /* where dumps and stats go */
    const Target *target;   /* the target the schedule is for (NULL: native) */
    const char *sched_path; /* --schedule FILE, or NULL */
    const SchedFile *sched_file; /* ... as read, or NULL */
    uint64_t sched_random;  /* nonzero: random legal schedules with this seed */
    Diag *diag;             /* where schedule-file errors go */
    /* Called after every pass that ran, after the verifier (tests): */
    void (*after)(Graph *g, const char *pass, void *arg);
    void *after_arg;        /* its last argument */
} PipelineOptions;

/* The names of the passes, in pipeline order, NULL-terminated. */
extern const char *const pass_names[];

/* Is name one of pass_names? */
bool pass_known(const char *name);
/*
 * Runs the passes in order, with the verifier after each.  The lowering
 * every graph needs before codegen always happens: with the schedule pass
 * disabled the trivial schedule is used, with plan_memory disabled the
 * naive plan.  false if a schedule file had errors (reported on o->diag).
 */
bool run_pipeline(Graph *g, const PipelineOptions *o);

#endif
