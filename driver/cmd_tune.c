/*
 * cmd_tune.c — visec tune: measure schedules on this machine, write the best.
 *
 * The file appears whole or not at all: Ctrl-C or an error leaves nothing.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "tune.h"
#include "visec.h"

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec tune MODEL --weights FILE [--target NAME] [--budget SECONDS] [-o FILE]\n\n"
            "Measures candidate schedules of every convolution on this machine and\n"
            "writes the fastest as a schedule file (compile with --schedule FILE).  Each\n"
            "round builds the whole model with $CC (default cc) and times every layer;\n"
            "the result is checked end to end against the default, which is written\n"
            "instead if the tuned schedule is not faster.  Progress goes to stderr.\n\n"
            "options:\n"
            "  -o FILE           write to FILE (default: standard output)\n"
            "  --target NAME     schedule for target NAME (default native)\n"
            "  --budget SECONDS  time for the whole run (default 300)\n"
            "  --batch B         images per timed run (default 1)\n"
            "  --runs K          timed runs per measurement (default 5)\n"
            "  --cflags FLAGS    the C compiler's flags (default: -O3, the target's\n"
            "                    machine flags, -fopenmp)\n"
            BIND_OPTIONS_HELP
            "  --help            this text\n");
}

int
cmd_tune(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *out = NULL, *cflags = NULL;
    long budget = 300, batch = 1, runs = 5;
    Opt opts[] = {{"-o", .value = &out}, {"--cflags", .value = &cflags},
                  {"--budget", .num = &budget, .lo = 1, .hi = 86400}, {"--batch", .num = &batch, .lo = 1, .hi = 256},
                  {"--runs", .num = &runs, .lo = 1, .hi = 64}, {0}};
    Args a = {.cmd = "tune", .takes = TAKES_FILE | TAKES_BIND | TAKES_TARGET, .help = help,
              .usage = "visec tune MODEL --weights FILE", .opts = opts};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    if (!a.bind.weights) {
        error_plain(&d, "no weights given: tune builds and runs the model, it needs --weights FILE");
        return 1;
    }
    TuneOptions tuning = {.budget = (double)budget, .batch = (int)batch, .runs = (int)runs, .progress = stderr,
                          .stop = &interrupted}, *to = &tuning;
    to->model = a.file;
    to->bind = &a.bind;
    to->target = a.pipeline.target ? a.pipeline.target : target_native();
    to->cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    char *flags = cflags ? xstrdup(cflags) : xprintf("-O3 %s -fopenmp", to->target->cflags);
    to->cflags = flags;

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    if (out) {
        OutFile of;
        if (outfile_open(&of, out, &d)) {
            if (tune(to, of.f, &d))
                outfile_commit(&of, &d);
            else
                outfile_abort(&of);
        }
    } else {
        /* Collected in memory, so an interrupted run prints nothing. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        bool ok = mem && tune(to, mem, &d);
        if (mem)
            fclose(mem);
        if (ok)
            fwrite(buf, 1, len, stdout);
        free(buf);
    }
    sigaction(SIGINT, &old, NULL);
    free(flags);
    if (interrupted && !d.nerrors)
        return 130;
    return d.nerrors ? 1 : 0;
}
