/*
 * cmd_graph.c — visec graph: the graph as Graphviz DOT, before or after
 * the passes.
 *
 *   load_model (frontend, [bind_weights], run_pipeline up to --after) -> graph_dot
 *
 * Without --weights the passes run on placeholder values (every weight
 * 1.0): the structure they produce is the same.
 */
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "visec.h"

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec graph MODEL -o FILE.dot [OPTIONS]\n\n"
            "Writes the graph as Graphviz DOT: one box per layer with its op, fused\n"
            "epilogues, output shape and, for layers a pass folded or fused, their\n"
            "origin (filled boxes).  Render with: dot -Tsvg FILE.dot -o FILE.svg\n\n"
            "options:\n"
            "  -o FILE           output file ('-': standard output)\n"
            "  --after PASS      the graph after PASS (frontend: before any pass;\n"
            "                    default: after the whole pipeline)\n"
            BIND_OPTIONS_HELP
            "  --help            this text\n");
    pipeline_help(f);
}

/* --after PASS: a pass, or frontend */
static int
option(Args *a, int argc, char **argv, int *i, Diag *d)
{
    const char **after = a->own;
    int m = opt_value(argc, argv, i, "--after", after, d);
    if (m > 0 && strcmp(*after, "frontend") && !pass_known(*after))
        error_plain(d, "--after: unknown pass '%s' (frontend or one of the passes; see 'visec graph --help')",
                    *after);
    return m;
}

int
cmd_graph(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    struct {
        const char *out, *after;    /* -o FILE, --after PASS (NULL: after all) */
    } o = {0};
    Opt opts[] = {{"-o", .value = &o.out}, {0}};
    Args a = {.cmd = "graph", .takes = TAKES_FILE | TAKES_BIND | TAKES_PIPELINE, .help = help,
              .usage = "visec graph MODEL -o FILE.dot", .opts = opts, .option = option, .own = &o.after};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    if (!o.out) {
        error_plain(&d, "no output file given: use -o FILE.dot (or -o - for standard output)");
        return 1;
    }
    if (!need_weights_for_keys(&a.bind, &d))
        return 1;

    const char *stage = "after all passes";
    char *stage_buf = NULL;
    PipelineOptions *po = &a.pipeline;
    FILE *null = NULL;
    if (o.after && !strcmp(o.after, "frontend")) {
        stage = "frontend, before the passes";
        po = NULL;
    } else {
        /* Stop after the pass asked for: the later ones are disabled. */
        bool past = false;
        for (int k = 0; pass_names[k] && o.after; k++) {
            if (past && po->ndisabled < (int)(sizeof po->disabled / sizeof po->disabled[0]))
                po->disabled[po->ndisabled++] = pass_names[k];
            past |= !strcmp(pass_names[k], o.after);
        }
        if (o.after)
            stage = stage_buf = xprintf("after %s", o.after);
        null = fopen("/dev/null", "w");
        po->out = po->stats || po->dump_after ? stderr : null;
    }
    Source *src = NULL;
    LoadOptions lo = {.bind = &a.bind, .placeholders = po != NULL, .pipeline = po};
    Graph *g = load_model(a.file, &lo, &d, &src);
    if (null)
        fclose(null);
    if (!g) {
        /* reported; nothing written */
    } else if (!strcmp(o.out, "-")) {
        graph_dot(stdout, g, stage);
    } else {
        OutFile of;
        if (outfile_open(&of, o.out, &d)) {
            graph_dot(of.f, g, stage);
            outfile_commit(&of, &d);
        }
    }
    free(stage_buf);
    graph_free(g);
    source_free(src);
    pipeline_release(&a.pipeline);
    return d.nerrors ? 1 : 0;
}
