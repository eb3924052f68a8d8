/*
 * cmd_check.c — visec check: parse a model, print its summary or its IR.
 */
#include <stdlib.h>
#include <string.h>

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
    bool dump = false, json = false;
    Opt opts[] = {{"--dump-ir", .flag = &dump}, {"--json", .flag = &json}, {0}};
    Args a = {.cmd = "check", .takes = TAKES_FILE | TAKES_BIND, .help = help, .usage = "visec check MODEL",
              .opts = opts};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    if (!need_weights_for_keys(&a.bind, &d))
        return 1;

    Source *src = NULL;
    BindReport br = {0};
    Graph *g = load_model(a.file, &(LoadOptions){.bind = &a.bind, .report = &br}, &d, &src);
    if (g) {
        if (dump)
            graph_print(stdout, g);
        else if (json)
            summary_json(stdout, g, a.file, &a.bind, &br);
        else
            summary(stdout, g, a.file);
        if (!dump && !json && a.bind.weights)
            printf("weights: %s (%s): %d tensors, %d bound, %d ignored, %d converted to float32\n",
                   a.bind.weights, br.format, br.ntensors, br.nbound, br.nignored, br.nconverted);
    }
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
