/*
 * cmd_schedule.c — visec schedule: the schedule compile would use, as a file.
 *
 *   load_model (frontend, [bind_weights], run_pipeline) -> schedfile_write
 *
 * Every layer is spelled out with a comment (what it computes, its MACs,
 * why the default chose what it did), so the file is the place to start
 * editing.  Compiling with the file it writes gives byte-identical C.
 */
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "visec.h"

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec schedule MODEL [--weights FILE] [--target NAME] [-o FILE] [OPTIONS]\n\n"
            "Writes the schedule that 'visec compile' would use for MODEL: every layer\n"
            "with its algorithm, register block, reduction tile, loop order and parallel\n"
            "loops, and a comment on each.  Edit it and compile with --schedule FILE.\n"
            "docs/schedules.md describes the format.\n\n"
            "options:\n"
            "  -o FILE           write to FILE (default: standard output)\n"
            "  --random SEED     a random legal schedule instead (SEED a whole number >= 1)\n"
            BIND_OPTIONS_HELP
            "                    (the schedule does not depend on the weights' values)\n"
            "  --help            this text\n");
    pipeline_help(f);
}

/* Why each conv got its algorithm and sizes: the default's reason, or the
 * note that the schedule differs from the default. */
static char **
notes_for(const Graph *g, const PipelineOptions *po)
{
    char **notes = xcalloc((size_t)g->nodes.n + 1, sizeof *notes);
    bool can_pack = !po->none;
    for (int i = 0; i < po->ndisabled; i++)
        can_pack = can_pack && strcmp(po->disabled[i], "pack_weights");
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        if (n->op != OP_CONV2D)
            continue;
        char *why = NULL;
        Schedule d = sched_default(n, po->target, can_pack, &why);
        bool same = !memcmp(&d, &n->sched, sizeof d);
        if (same && !po->sched_random && !po->none)
            notes[i] = xprintf("default: %s", why);
        else if (po->none)
            notes[i] = xprintf("trivial schedule (-O0 or the schedule pass disabled)");
        else
            notes[i] = xprintf("not the default (%s); the default: %s", po->sched_random ? "random" : "schedule file",
                               why);
        free(why);
    }
    return notes;
}

int
cmd_schedule(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *out = NULL;
    long seed = 0;
    Opt opts[] = {{"-o", .value = &out}, {"--random", .num = &seed, .lo = 1, .hi = 2147483647L}, {0}};
    Args a = {.cmd = "schedule", .takes = TAKES_FILE | TAKES_BIND | TAKES_PIPELINE, .help = help,
              .usage = "visec schedule MODEL", .opts = opts};
    PipelineOptions *po = &a.pipeline;
    po->out = stderr;
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    po->sched_random = (uint64_t)seed;

    Source *src = NULL;
    Graph *g = load_model(a.file, &(LoadOptions){.bind = &a.bind, .pipeline = po}, &d, &src);
    if (g) {
        char **notes = notes_for(g, po);
        if (out) {
            OutFile of;
            if (outfile_open(&of, out, &d)) {
                schedfile_write(of.f, g, po->target, notes);
                outfile_commit(&of, &d);
            }
        } else {
            schedfile_write(stdout, g, po->target, notes);
        }
        for (int i = 0; i < g->nodes.n; i++)
            free(notes[i]);
        free(notes);
    }
    pipeline_release(po);
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
