/*
 * cmd_graph.c — visec graph: the graph as Graphviz DOT, before or after
 * the passes.
 *
 *   frontend_load -> [bind_weights] -> run_pipeline up to --after -> graph_dot
 *
 * Without --weights the passes run on placeholder values (every weight
 * 1.0): the structure they produce is the same.
 */
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "frontend.h"
#include "outfile.h"
#include "passes.h"
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

/* Placeholder values for unbound tensors, so passes can run. */
static void
placeholder_weights(Graph *g)
{
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (t->data)
            continue;
        int64_t n = shape_numel(t->shape, 1);
        t->data = xmalloc(sizeof *t->data * (size_t)(n ? n : 1));
        for (int64_t k = 0; k < n; k++)
            t->data[k] = 1.0f;
    }
}

int
cmd_graph(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *model = NULL, *out = NULL, *after = NULL;
    BindOptions bo = {0};
    PipelineOptions po = {0};
    bool ended = false;
    for (int i = 0; i < argc; i++) {
        int m;
        const char *v;
        if (ended) {
            if (model)
                opt_unknown(&d, "graph", argv[i]);
            else
                model = argv[i];
        } else if (opt_flag(argv, i, "--")) {
            ended = true;
        } else if (opt_flag(argv, i, "--help") || opt_flag(argv, i, "-h")) {
            help(stdout);
            return 0;
        } else if ((m = opt_value(argc, argv, &i, "-o", &v, &d)) != 0) {
            if (m > 0)
                out = v;
        } else if ((m = opt_value(argc, argv, &i, "--after", &v, &d)) != 0) {
            if (m > 0) {
                after = v;
                if (strcmp(v, "frontend") && !pass_known(v))
                    error_plain(&d, "--after: unknown pass '%s' (frontend or one of the passes; "
                                "see 'visec graph --help')", v);
            }
        } else if ((m = bind_option(argc, argv, &i, &bo, &d)) != 0) {
            (void)m;
        } else if ((m = pipeline_option(argc, argv, &i, &po, &d)) != 0) {
            (void)m;
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            opt_unknown(&d, "graph", argv[i]);
        }
    }
    if (!d.nerrors && !model)
        error_plain(&d, "no model description given (usage: visec graph MODEL -o FILE.dot)");
    if (!d.nerrors && !out)
        error_plain(&d, "no output file given: use -o FILE.dot (or -o - for standard output)");
    if (!bo.weights && (bo.select || bo.strip_prefix || bo.add_prefix || bo.strict) && !d.nerrors)
        error_plain(&d, "--select, --strip-prefix, --add-prefix and --strict need --weights FILE");
    if (d.nerrors)
        return 1;

    Source *src = NULL;
    Graph *g = frontend_load(model, &d, &src);
    if (g && bo.weights && !bind_weights(g, &bo, &d)) {
        graph_free(g);
        g = NULL;
    }
    if (g) {
        graph_verify(g, "frontend");
        const char *stage = "after all passes";
        char *stage_buf = NULL;
        bool ok = true;
        if (after && !strcmp(after, "frontend")) {
            stage = "frontend, before the passes";
        } else {
            /* Stop after the pass asked for: the later ones are disabled. */
            bool past = false;
            for (int k = 0; pass_names[k] && after; k++) {
                if (past && po.ndisabled < (int)(sizeof po.disabled / sizeof po.disabled[0]))
                    po.disabled[po.ndisabled++] = pass_names[k];
                past |= !strcmp(pass_names[k], after);
            }
            if (after)
                stage = stage_buf = xprintf("after %s", after);
            if (!bo.weights)
                placeholder_weights(g);
            FILE *null = fopen("/dev/null", "w");
            po.out = po.stats || po.dump_after ? stderr : null;
            ok = pipeline_prepare(&po, &d) && run_pipeline(g, &po);   /* false: schedule-file errors */
            if (null)
                fclose(null);
        }
        if (!ok) {
            /* reported; nothing written */
        } else if (!strcmp(out, "-")) {
            graph_dot(stdout, g, stage);
        } else {
            OutFile of;
            if (outfile_open(&of, out, &d)) {
                graph_dot(of.f, g, stage);
                outfile_commit(&of, &d);
            }
        }
        free(stage_buf);
    }
    graph_free(g);
    source_free(src);
    pipeline_release(&po);
    return d.nerrors ? 1 : 0;
}
