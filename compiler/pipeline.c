/*
 * pipeline.c — the order in which the passes run, in plain sight.
 *
 * After every pass the IR verifier runs; on request the IR is printed after
 * a pass (--dump-after) and each pass's effect is reported (--stats).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "visec.h"

const char *const pass_names[] = {
    "fold_bn", "fuse_epilogue", "eliminate_dead", "schedule", "pack_weights", "plan_memory", NULL,
};

static bool
known_pass(const char *name)
{
    for (int i = 0; pass_names[i]; i++)
        if (!strcmp(pass_names[i], name))
            return true;
    return false;
}

int
pipeline_option(int argc, char **argv, int *i, PipelineOptions *o, Diag *d)
{
    const char *v;
    int m;
    if (!o->out)
        o->out = stdout;
    if (opt_flag(argv, *i, "--stats")) {
        o->stats = true;
        return 1;
    }
    if (opt_flag(argv, *i, "-O0")) {
        o->none = true;
        return 1;
    }
    if ((m = opt_value(argc, argv, i, "--dump-after", &v, d)) != 0) {
        if (m < 0)
            return -1;
        if (strcmp(v, "all") && strcmp(v, "frontend") && !known_pass(v)) {
            error_plain(d, "--dump-after: unknown pass '%s' (passes: frontend, %s, %s, %s, %s, %s, %s, or all)",
                        v, pass_names[0], pass_names[1], pass_names[2], pass_names[3], pass_names[4],
                        pass_names[5]);
            return -1;
        }
        o->dump_after = v;
        return 1;
    }
    if ((m = opt_value(argc, argv, i, "--disable-pass", &v, d)) != 0) {
        if (m < 0)
            return -1;
        if (!known_pass(v)) {
            error_plain(d, "--disable-pass: unknown pass '%s'", v);
            return -1;
        }
        if (o->ndisabled == (int)(sizeof o->disabled / sizeof o->disabled[0])) {
            error_plain(d, "--disable-pass given too often");
            return -1;
        }
        o->disabled[o->ndisabled++] = v;
        return 1;
    }
    return 0;
}

void
pipeline_help(FILE *f)
{
    fprintf(f, "pass options:\n"
               "  --dump-after=PASS print the IR after PASS (frontend, or a pass name, or all)\n"
               "  --disable-pass=PASS  skip PASS (may be repeated)\n"
               "  --stats           per pass: node counts before and after and what it did\n"
               "  -O0               run no pass\n"
               "passes, in order:");
    for (int i = 0; pass_names[i]; i++)
        fprintf(f, " %s", pass_names[i]);
    fprintf(f, "\n");
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
    char *what = pass(g);
    graph_recount(g);
    graph_verify(g, name);
    if (o->stats)
        fprintf(o->out, "pass %-15s %3d -> %3d nodes  %s\n", name, before, g->nodes.n,
                what ? what : "changed nothing");
    if (wants_dump(o, name)) {
        if (what) {
            fprintf(o->out, "# IR after %s\n", name);
            graph_print(o->out, g);
        } else {
            fprintf(o->out, "# IR after %s: changed nothing\n", name);
        }
    }
    free(what);
}

void
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
    run_pass(g, o, "schedule", schedule);
    run_pass(g, o, "pack_weights", pack_weights);
    run_pass(g, o, "plan_memory", plan_memory);
}
