/*
 * pipeline.c — the order in which the passes run, in plain sight.
 *
 * After every pass the IR verifier runs; on request the IR is printed after
 * a pass (--dump-after) and each pass's effect is reported (--stats).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

const char *const pass_names[] = {
    "fold_bn", "fuse_epilogue", "eliminate_dead", "schedule", "layout", "pack_weights", "plan_memory", NULL,
};

bool
pass_known(const char *name)
{
    for (int k = 0; pass_names[k]; k++)
        if (!strcmp(pass_names[k], name))
            return true;
    return false;
}

static bool
disabled(const PipelineOptions *o, const char *name)
{
    if (o->none)
        return true;
    for (int i = 0; i < o->ndisabled; i++)
        if (!strcmp(o->disabled[i], name))
            return true;
    return false;
}

static bool
wants_dump(const PipelineOptions *o, const char *name)
{
    return o->dump_after && (!strcmp(o->dump_after, "all") || !strcmp(o->dump_after, name));
}

/* What a pass did: stats line and dump; then the verifier has run. */
static void
after_pass(Graph *g, const PipelineOptions *o, const char *name, int before, char *what, const char *note)
{
    graph_recount(g);
    graph_verify(g, name);
    if (o->after)
        o->after(g, name, o->after_arg);
    if (o->stats)
        fprintf(o->out, "pass %-15s %3d -> %3d nodes  %s%s\n", name, before, g->nodes.n,
                what ? what : "changed nothing", note);
    if (wants_dump(o, name)) {
        if (what) {
            fprintf(o->out, "# IR after %s%s\n", name, note);
            graph_print(o->out, g);
        } else {
            fprintf(o->out, "# IR after %s: changed nothing\n", name);
        }
    }
    free(what);
}

/* Runs one pass with everything around it: verifier, stats, dump. */
static void
run_pass(Graph *g, const PipelineOptions *o, const char *name, char *(*pass)(Graph *))
{
    if (disabled(o, name)) {
        if (o->stats)
            fprintf(o->out, "pass %-15s disabled\n", name);
        if (wants_dump(o, name))
            fprintf(o->out, "# IR after %s: pass disabled\n", name);
        return;
    }
    int before = g->nodes.n;
    after_pass(g, o, name, before, pass(g), "");
}

bool
run_pipeline(Graph *g, const PipelineOptions *o)
{
    graph_recount(g);
    graph_verify(g, "frontend");
    if (wants_dump(o, "frontend")) {
        fprintf(o->out, "# IR after frontend\n");
        graph_print(o->out, g);
    }
    run_pass(g, o, "fold_bn", fold_bn);
    run_pass(g, o, "fuse_epilogue", fuse_epilogue);
    run_pass(g, o, "eliminate_dead", eliminate_dead);

    /* Scheduling always happens: disabled, it is the trivial schedule. */
    SchedOptions so = {o->target ? o->target : target_native(), o->sched_file, o->sched_random,
                       disabled(o, "schedule"), !disabled(o, "pack_weights"), o->diag};
    int before = g->nodes.n, errors = o->diag ? o->diag->nerrors : 0;
    char *what = schedule(g, &so);
    if (o->diag && o->diag->nerrors > errors) {
        free(what);
        return false;
    }
    after_pass(g, o, "schedule", before, what, so.trivial ? " (pass disabled: trivial schedule)" : "");

    /* Layouts are always decided: disabled, every activation is plain NCHW. */
    before = g->nodes.n;
    if (disabled(o, "layout"))
        after_pass(g, o, "layout", before, layout_plain(g), " (pass disabled: plain layouts)");
    else
        after_pass(g, o, "layout", before, layout(g), "");

    run_pass(g, o, "pack_weights", pack_weights);

    /* Memory is always planned: disabled, every buffer gets a region of its own. */
    before = g->nodes.n;
    if (disabled(o, "plan_memory"))
        after_pass(g, o, "plan_memory", before, plan_naive(g), " (pass disabled: naive plan)");
    else
        after_pass(g, o, "plan_memory", before, plan_memory(g), "");
    return true;
}
