/*
 * cmd_run.c — visec run: the reference interpreter on .npy inputs.
 */
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "npy.h"
#include "visec.h"

#define MAX_INPUTS 16

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec run MODEL --weights FILE --input X.npy -o Y.npy [OPTIONS]\n\n"
            "Runs MODEL with its weights on the images in X.npy with the reference\n"
            "interpreter (naive float32 loops, the oracle the compiled code is tested\n"
            "against) and writes the result to Y.npy.  Inputs and outputs are float32\n"
            "arrays in NCHW order whose first dimension is the batch: for a model input\n"
            "[N, 3, 224, 224], X.npy may hold any number of images of 3x224x224.\n\n"
            "options:\n" BIND_OPTIONS_HELP
            "  --input FILE      a .npy input; give it once per model input, in the\n"
            "                    order the model declares them\n"
            "  -o FILE           the .npy file to write (written whole or not at all)\n"
            "  --output NAME     which model output to write (needed only if the model\n"
            "                    has more than one)\n"
            "  --passes          run the graph passes first (as visec compile does), to\n"
            "                    check that they keep the meaning; the pass options below\n"
            "                    then apply\n"
            "  --help            this text\n");
    pipeline_help(f);
}

/* The index of the output to write; -1 (with an error) if none fits. */
static int
pick_output(const Graph *g, const char *name, Diag *d)
{
    if (name) {
        for (int i = 0; i < g->outnames.n; i++)
            if (!strcmp(g->outnames.v[i], name))
                return i;
        error_plain(d, "model '%s' has no output named '%s'", g->name, name);
        return -1;
    }
    if (g->outputs.n == 1)
        return 0;
    if (g->outputs.n == 0) {
        error_plain(d, "model '%s' has no outputs", g->name);
        return -1;
    }
    char *names = xstrdup("");
    for (int i = 0; i < g->outnames.n; i++) {
        char *t = xprintf("%s%s%s", names, i ? ", " : "", (char *)g->outnames.v[i]);
        free(names);
        names = t;
    }
    error_plain(d, "model '%s' has %d outputs (%s); choose one with --output NAME", g->name,
                g->outputs.n, names);
    free(names);
    return -1;
}

/* Reads the inputs and checks their shapes; returns the batch, 0 on error. */
static int
read_inputs(const Graph *g, const char **paths, int npaths, float **data, Diag *d)
{
    if (npaths != g->inputs.n) {
        error_plain(d, "model '%s' has %d input%s, got %d --input file%s", g->name, g->inputs.n,
                    g->inputs.n == 1 ? "" : "s", npaths, npaths == 1 ? "" : "s");
        return 0;
    }
    int64_t batch = 0;
    for (int i = 0; i < npaths; i++) {
        const Value *v = g->inputs.v[i];
        Shape s;
        data[i] = npy_read(paths[i], &s, d);
        if (!data[i])
            return 0;
        char b1[SHAPE_STRLEN], b2[SHAPE_STRLEN];
        bool fits = s.rank == v->shape.rank && s.rank >= 1;
        for (int k = 1; fits && k < s.rank; k++)
            fits = s.dim[k] == v->shape.dim[k];
        if (!fits) {
            error_plain(d, "%s: array of shape %s does not fit input '%s' of shape %s "
                           "(the first dimension is the batch)",
                        paths[i], shape_str(s, b1, sizeof b1), v->name,
                        shape_str(v->shape, b2, sizeof b2));
            return 0;
        }
        if (s.dim[0] < 1 || s.dim[0] > INTERP_MAX_BATCH) {
            error_plain(d, "%s: batch of %lld images; it must be from 1 to %d", paths[i],
                        (long long)s.dim[0], INTERP_MAX_BATCH);
            return 0;
        }
        if (batch && s.dim[0] != batch) {
            error_plain(d, "%s: batch of %lld images, but the first input has %lld", paths[i],
                        (long long)s.dim[0], (long long)batch);
            return 0;
        }
        batch = s.dim[0];
    }
    return (int)batch;
}

/* The options of run itself. */
typedef struct RunOptions {
    bool passes;            /* --passes */
    const char *out;        /* -o Y.npy */
    const char *outname;    /* --output NAME */
    const char *in[MAX_INPUTS]; /* --input X.npy, in order */
    int nin;
    int which;              /* the output to write, once the model is read */
} RunOptions;

/* --input FILE, once per model input. */
static int
option(Args *a, int argc, char **argv, int *i, Diag *d)
{
    RunOptions *o = a->own;
    const char *v;
    int m;
    if ((m = opt_value(argc, argv, i, "--input", &v, d)) > 0) {
        if (o->nin == MAX_INPUTS)
            error_plain(d, "too many --input files (at most %d)", MAX_INPUTS);
        else
            o->in[o->nin++] = v;
    }
    return m;
}

/* The output is chosen before binding, which costs seconds. */
static bool
check_output(const Graph *g, void *arg, Diag *d)
{
    RunOptions *o = arg;
    return (o->which = pick_output(g, o->outname, d)) >= 0;
}

int
cmd_run(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    RunOptions o = {0};
    Opt opts[] = {{"--passes", .flag = &o.passes}, {"-o", .value = &o.out}, {"--output", .value = &o.outname},
                  {0}};
    Args a = {.cmd = "run", .takes = TAKES_FILE | TAKES_BIND | TAKES_PIPELINE, .help = help,
              .usage = "visec run MODEL --weights FILE --input X.npy -o Y.npy", .opts = opts, .option = option,
              .own = &o};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    PipelineOptions *po = &a.pipeline;
    if (!a.bind.weights)
        error_plain(&d, "no weights given (use --weights FILE)");
    else if (!o.nin)
        error_plain(&d, "no input given (use --input X.npy)");
    else if (!o.out)
        error_plain(&d, "no output file given (use -o Y.npy)");
    else if (!o.passes && (po->stats || po->dump_after || po->ndisabled))
        error_plain(&d, "--stats, --dump-after and --disable-pass need --passes");
    if (d.nerrors)
        return 1;

    /* The interpreter runs the graph as written unless --passes asks for more. */
    Source *src = NULL;
    float *inputs[MAX_INPUTS] = {0};
    float **outputs = NULL;
    LoadOptions lo = {.bind = &a.bind, .pipeline = o.passes ? po : NULL,
                      .check = check_output, .check_arg = &o};
    Graph *g = load_model(a.file, &lo, &d, &src);
    if (!g)
        goto done;
    int batch = read_inputs(g, o.in, o.nin, inputs, &d);
    if (!batch)
        goto done;
    outputs = xcalloc((size_t)g->outputs.n, sizeof *outputs);
    if (!interp_run(g, batch, (const float *const *)inputs, outputs, &d))
        goto done;
    const Value *v = g->outputs.v[o.which];
    Shape s = v->shape;
    s.dim[0] = batch;
    npy_write(o.out, outputs[o.which], s, &d);
done:
    if (outputs)
        for (int i = 0; i < g->outputs.n; i++)
            free(outputs[i]);
    free(outputs);
    for (int i = 0; i < o.nin; i++)
        free(inputs[i]);
    pipeline_release(po);
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
