/*
 * cmd_compile.c — visec compile: model description + checkpoint -> C.
 *
 *   load_model (frontend, name check, bind_weights, run_pipeline)
 *       -> codegen_check -> codegen_emit
 *
 * The three output files are written to temporary names and renamed into
 * place only when all of them are complete, so a failure leaves nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen.h"
#include "outfile.h"
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

/* --runtime openmp|halide */
static int
option(Args *a, int argc, char **argv, int *i, Diag *d)
{
    CodegenOptions *co = a->own;
    const char *v;
    int m = opt_value(argc, argv, i, "--runtime", &v, d);
    if (m > 0 && !strcmp(v, "openmp"))
        co->runtime = RUNTIME_OPENMP;
    else if (m > 0 && !strcmp(v, "halide"))
        co->runtime = RUNTIME_HALIDE;
    else if (m > 0)
        error_plain(d, "--runtime: unknown runtime '%s' (openmp or halide)", v);
    return m;
}

/* The name is checked before binding: it costs nothing, binding costs seconds. */
static bool
check_name(const Graph *g, void *arg, Diag *d)
{
    const CodegenOptions *co = arg;
    return codegen_check_name(codegen_name(g, co), d);
}

int
cmd_compile(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    CodegenOptions co = {0};
    const char *dir = NULL;
    Opt opts[] = {{"-o", .value = &dir}, {"--name", .value = &co.name}, {"--embed-weights", .flag = &co.embed},
                  {0}};
    Args a = {.cmd = "compile", .takes = TAKES_FILE | TAKES_BIND | TAKES_PIPELINE, .help = help,
              .usage = "visec compile MODEL --weights FILE -o DIR", .opts = opts, .option = option, .own = &co};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    const char *model = a.file;
    if (!a.bind.weights)
        error_plain(&d, "no weights given: compile needs --weights FILE");
    else if (!dir)
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
    co.weights_path = a.bind.weights;
    co.model_path = model;
    if (sha256_file(model, msha, &d))
        co.model_sha256 = msha;
    if (sha256_file(a.bind.weights, wsha, &d))
        co.weights_sha256 = wsha;
    Source *src = NULL;
    LoadOptions lo = {.bind = &a.bind, .pipeline = &a.pipeline, .check = check_name, .check_arg = &co};
    Graph *g = d.nerrors ? NULL : load_model(model, &lo, &d, &src);
    if (g) {
        co.target = a.pipeline.target;
        if (codegen_check(g, &co, &d))
            write_outputs(g, &co, dir, &d);
    }
    if (d.nerrors && made_dir)
        rmdir(dir);
    pipeline_release(&a.pipeline);
    free(cmdline);
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
