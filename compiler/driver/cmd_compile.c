/*
 * cmd_compile.c — visec compile: model description + checkpoint -> C.
 *
 *   frontend_load -> bind_weights -> run_pipeline -> codegen_check -> codegen_emit
 *
 * The three output files are written to temporary names and renamed into
 * place only when all of them are complete, so a failure leaves nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind.h"
#include "codegen.h"
#include "frontend.h"
#include "outfile.h"
#include "passes.h"
#include "visec.h"

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec compile MODEL --weights FILE -o DIR [OPTIONS]\n\n"
            "Generates self-contained C99 + OpenMP inference code for a model and its\n"
            "weights: DIR/NAME.h (the API), DIR/NAME.c and DIR/NAME.weights, where NAME\n"
            "is the model name or --name.  Build with the line the header comment of\n"
            "NAME.c gives for its target, for --target native:\n"
            "    cc -std=c99 -O3 -march=native -fopenmp -c NAME.c   (link with -lm -fopenmp)\n"
            "(-march=x86-64-v4 or x86-64-v3 for those targets; any C99 compiler builds the\n"
            "file, with the plain-C kernels where the vector ones are not enabled).\n"
            "docs/generated-code.md describes the generated code.\n\n"
            "options:\n"
            "  -o DIR            output directory (made if missing; its parent must exist)\n"
            "  --name NAME       prefix of the generated API (a C identifier)\n"
            "  --embed-weights   put the weights in NAME.c (no .weights file; open()\n"
            "                    then takes NULL as the path)\n"
            "  --runtime R       what runs the parallel loops: openmp (the default:\n"
            "                    OpenMP pragmas) or halide (Halide's runtime and its AOT\n"
            "                    calling convention beside the C API; also writes\n"
            "                    NAME.registration.cpp for Halide's RunGen)\n"
            BIND_OPTIONS_HELP
            "  --help            this text\n");
    pipeline_help(f);
}

/* Writes all outputs or none; false with an error on d. */
static bool
write_outputs(Graph *g, const CodegenOptions *co, const char *dir, Diag *d)
{
    const char *name = codegen_name(g, co);
    char *hname = xprintf("%s.h", name);
    /* NAME.h, NAME.c, then (each if wanted) NAME.weights and NAME.registration.cpp */
    char *path[4] = {xprintf("%s/%s.h", dir, name), xprintf("%s/%s.c", dir, name), NULL, NULL};
    int np = 2;
    if (!co->embed)
        path[np++] = xprintf("%s/%s.weights", dir, name);
    if (co->runtime == RUNTIME_HALIDE)
        path[np++] = xprintf("%s/%s.registration.cpp", dir, name);
    OutFile of[4];
    int nopen = 0, ncommitted = 0;
    bool ok = true;
    memset(of, 0, sizeof of);
    for (int i = 0; i < np && ok; i++) {
        ok = outfile_open(&of[i], path[i], d);
        if (ok)
            nopen++;
    }
    if (ok) {
        codegen_emit(g, co, hname, of[0].f, of[1].f, co->embed ? NULL : of[2].f);
        if (co->runtime == RUNTIME_HALIDE)
            codegen_emit_registration(g, co, of[np - 1].f);
        for (int i = 0; i < nopen && ok; i++) {
            ok = outfile_commit(&of[i], d);
            if (ok)
                ncommitted++;
        }
    }
    /* On failure, take back what was written. */
    for (int i = 0; i < nopen; i++) {
        if (i < ncommitted && !ok)
            unlink(path[i]);
        else if (i >= ncommitted)
            outfile_abort(&of[i]);
    }
    for (int i = 0; i < 4; i++)
        free(path[i]);
    free(hname);
    return ok;
}

int
cmd_compile(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *model = NULL, *dir = NULL;
    BindOptions bo = {0};
    PipelineOptions po = {0};
    CodegenOptions co = {0};
    bool ended = false;     /* after "--": only the model */
    for (int i = 0; i < argc; i++) {
        int m;
        const char *v;
        if (ended || opt_flag(argv, i, "--")) {
            if (!ended)
                ended = true;
            else if (model)
                opt_unknown(&d, "compile", argv[i]);
            else
                model = argv[i];
        } else if (opt_flag(argv, i, "--help") || opt_flag(argv, i, "-h")) {
            help(stdout);
            return 0;
        } else if (opt_flag(argv, i, "--embed-weights")) {
            co.embed = true;
        } else if ((m = opt_value(argc, argv, &i, "-o", &v, &d)) != 0) {
            if (m > 0)
                dir = v;
        } else if ((m = opt_value(argc, argv, &i, "--name", &v, &d)) != 0) {
            if (m > 0)
                co.name = v;
        } else if ((m = opt_value(argc, argv, &i, "--runtime", &v, &d)) != 0) {
            if (m > 0 && !strcmp(v, "openmp"))
                co.runtime = RUNTIME_OPENMP;
            else if (m > 0 && !strcmp(v, "halide"))
                co.runtime = RUNTIME_HALIDE;
            else if (m > 0)
                error_plain(&d, "--runtime: unknown runtime '%s' (openmp or halide)", v);
        } else if ((m = bind_option(argc, argv, &i, &bo, &d)) != 0) {
            (void)m;
        } else if ((m = pipeline_option(argc, argv, &i, &po, &d)) != 0) {
            (void)m;
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            opt_unknown(&d, "compile", argv[i]);
        }
    }
    if (!d.nerrors && !model)
        error_plain(&d, "no model description given (usage: visec compile MODEL --weights FILE -o DIR)");
    if (!d.nerrors && !bo.weights)
        error_plain(&d, "no weights given: compile needs --weights FILE");
    if (!d.nerrors && !dir)
        error_plain(&d, "no output directory given: use -o DIR");
    bool made_dir = false;
    if (!d.nerrors) {
        struct stat st;
        if (stat(dir, &st) != 0 && errno == ENOENT && mkdir(dir, 0777) == 0)
            made_dir = true;    /* removed again if compilation fails */
        else if (stat(dir, &st) != 0)
            error_plain(&d, "output directory '%s': %s", dir, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
            error_plain(&d, "output directory '%s' is not a directory", dir);
    }
    if (d.nerrors)
        return 1;

    /* Identity: the command line as given and the inputs' digests.  The
     * output directory is left out: where the files go does not change them. */
    char *cmdline = command_line("compile", argc, argv, "-o");
    char msha[SHA256_HEX], wsha[SHA256_HEX];
    co.command = cmdline;
    co.weights_path = bo.weights;
    if (sha256_file(model, msha, &d))
        co.model_sha256 = msha;
    if (sha256_file(bo.weights, wsha, &d))
        co.weights_sha256 = wsha;
    Source *src = NULL;
    Graph *g = d.nerrors ? NULL : frontend_load(model, &d, &src);
    if (g) {
        graph_verify(g, "frontend");
        co.model_path = model;
        /* The name is checked first: it costs nothing, binding costs seconds. */
        if (codegen_check_name(codegen_name(g, &co), &d) && pipeline_prepare(&po, &d) &&
            bind_weights(g, &bo, &d) && run_pipeline(g, &po)) {
            co.target = po.target;
            if (codegen_check(g, &co, &d))
                write_outputs(g, &co, dir, &d);
        }
    }
    if (d.nerrors && made_dir)
        rmdir(dir);
    pipeline_release(&po);
    free(cmdline);
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
