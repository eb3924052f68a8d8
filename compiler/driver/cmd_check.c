/*
 * cmd_check.c — visec check: parse a model, print its summary or its IR.
 */
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "frontend.h"
#include "visec.h"

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec check MODEL [OPTIONS]\n\n"
            "Parses and elaborates a model description, infers every shape and prints\n"
            "a summary: op counts by kind, parameter count, multiply-accumulates per\n"
            "image and the shape of every input and output.\n\n"
            "options:\n"
            "  --dump-ir         print the graph IR instead of the summary\n"
            "  --json            the summary as one JSON object (docs/json.md)\n"
            BIND_OPTIONS_HELP
            "  --help            this text\n");
}

static void
summary(FILE *f, const Graph *g, const char *path)
{
    char b[SHAPE_STRLEN];
    GraphStats s = graph_stats(g);
    fprintf(f, "model %s (%s)\n", g->name, path);
    for (int i = 0; i < g->inputs.n; i++) {
        Value *v = g->inputs.v[i];
        fprintf(f, "  input  %-8s %s\n", v->name, shape_str(v->shape, b, sizeof b));
    }
    for (int i = 0; i < g->outputs.n; i++) {
        Value *v = g->outputs.v[i];
        fprintf(f, "  output %-8s %s\n", (char *)g->outnames.v[i], shape_str(v->shape, b, sizeof b));
    }
    fprintf(f, "ops: %d\n", g->nodes.n);
    for (int op = 0; op < OP_COUNT; op++)
        if (s.count[op])
            fprintf(f, "  %-16s %d\n", op_name(op), s.count[op]);
    fprintf(f, "parameters: %lld (%.2f M, %.2f MiB as float32)\n", (long long)s.params,
            s.params / 1e6, s.params * 4.0 / (1 << 20));
    if (s.buffers)
        fprintf(f, "buffers: %lld (batch-norm running statistics)\n", (long long)s.buffers);
    fprintf(f, "multiply-accumulates per image: %lld (%.3f G)\n", (long long)s.macs, s.macs / 1e9);
}

/* The summary as JSON: the same facts as summary() and the weights line. */
static void
summary_json(FILE *f, const Graph *g, const char *path, const BindOptions *bo, const BindReport *br)
{
    GraphStats s = graph_stats(g);
    fprintf(f, "{\"schema\": \"visec-check-1\", \"model\": ");
    json_str(f, g->name);
    fprintf(f, ", \"file\": ");
    json_str(f, path);
    fprintf(f, ", \"inputs\": [");
    for (int i = 0; i < g->inputs.n; i++) {
        Value *v = g->inputs.v[i];
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        json_str(f, v->name);
        fprintf(f, ", \"shape\": ");
        json_shape(f, v->shape.rank, v->shape.dim);
        fprintf(f, "}");
    }
    fprintf(f, "], \"outputs\": [");
    for (int i = 0; i < g->outputs.n; i++) {
        Value *v = g->outputs.v[i];
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        json_str(f, (char *)g->outnames.v[i]);
        fprintf(f, ", \"shape\": ");
        json_shape(f, v->shape.rank, v->shape.dim);
        fprintf(f, "}");
    }
    fprintf(f, "], \"ops\": %d, \"op_counts\": {", g->nodes.n);
    bool first = true;
    for (int op = 0; op < OP_COUNT; op++)
        if (s.count[op]) {
            fprintf(f, "%s\"%s\": %d", first ? "" : ", ", op_name(op), s.count[op]);
            first = false;
        }
    fprintf(f, "}, \"parameters\": %lld, \"buffers\": %lld, \"macs_per_image\": %lld, \"weights\": ",
            (long long)s.params, (long long)s.buffers, (long long)s.macs);
    if (bo->weights) {
        fprintf(f, "{\"file\": ");
        json_str(f, bo->weights);
        fprintf(f, ", \"format\": ");
        json_str(f, br->format);
        fprintf(f, ", \"tensors\": %d, \"bound\": %d, \"ignored\": %d, \"converted\": %d}",
                br->ntensors, br->nbound, br->nignored, br->nconverted);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, "}\n");
}

int
cmd_check(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *model = NULL;
    bool dump = false, json = false, ended = false;
    BindOptions bo = {0};
    for (int i = 0; i < argc; i++) {
        int r;
        if (ended) {
            if (model)
                opt_unknown(&d, "check", argv[i]);
            else
                model = argv[i];
        } else if (opt_flag(argv, i, "--")) {
            ended = true;
        } else if (opt_flag(argv, i, "--json")) {
            json = true;
        } else if ((r = bind_option(argc, argv, &i, &bo, &d))) {
            if (r < 0)
                break;
        } else if (opt_flag(argv, i, "--help") || opt_flag(argv, i, "-h")) {
            help(stdout);
            return 0;
        } else if (opt_flag(argv, i, "--dump-ir")) {
            dump = true;
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            opt_unknown(&d, "check", argv[i]);
        }
    }
    if (!model && !d.nerrors)
        error_plain(&d, "no model description given (usage: visec check MODEL)");
    if (!bo.weights && (bo.select || bo.strip_prefix || bo.add_prefix || bo.strict) && !d.nerrors)
        error_plain(&d, "--select, --strip-prefix, --add-prefix and --strict need --weights FILE");
    if (d.nerrors)
        return 1;

    Source *src = NULL;
    Graph *g = frontend_load(model, &d, &src);
    BindReport br = {0};
    if (g && bo.weights && !bind_weights_report(g, &bo, &br, &d)) {
        graph_free(g);
        g = NULL;
    }
    if (g) {
        graph_verify(g, "frontend");
        if (dump)
            graph_print(stdout, g);
        else if (json)
            summary_json(stdout, g, model, &bo, &br);
        else
            summary(stdout, g, model);
        if (!dump && !json && bo.weights)
            printf("weights: %s (%s): %d tensors, %d bound, %d ignored, %d converted to float32\n",
                   bo.weights, br.format, br.ntensors, br.nbound, br.nignored, br.nconverted);
    }
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
