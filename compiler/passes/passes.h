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

char *fold_bn(Graph *g);          /* fold_bn.c: batch norm into conv weights, else scale_shift */
char *fuse_epilogue(Graph *g);    /* fuse_epilogue.c: add and relu into the producing conv */
char *eliminate_dead(Graph *g);   /* eliminate_dead.c: unused nodes and weights */
char *schedule(Graph *g);         /* schedule.c: fills Node.sched (algorithm, tiles) */
char *pack_weights(Graph *g);     /* pack_weights.c: weights into the layout kernels read */
char *plan_memory(Graph *g);      /* plan_memory.c: activations at offsets in one arena */

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
} PipelineOptions;

/* The names of the passes, in pipeline order, NULL-terminated. */
extern const char *const pass_names[];

/* Is name one of pass_names? */
bool pass_known(const char *name);
/* Runs the passes in order, with the verifier after each. */
void run_pipeline(Graph *g, const PipelineOptions *o);

#endif
