/*
 * main.c — the visec driver: dispatches to one command per file (cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "passes.h"
#include "schedules.h"
#include "visec.h"

static const struct {
    const char *name;               /* as typed: visec NAME ... */
    int (*run)(int, char **);       /* the command; returns the exit status */
    const char *summary;            /* one line for visec --help */
} commands[] = {
    {"check", cmd_check, "parse a model description and print a summary (optionally bind weights)"},
    {"inspect", cmd_inspect, "list the tensors of a checkpoint (PyTorch zip or legacy, safetensors)"},
    {"run", cmd_run, "run a model with the reference interpreter on a .npy input"},
    {"compile", cmd_compile, "generate self-contained C for a model and its weights"},
    {"init-weights", cmd_init_weights, "write a deterministic synthetic checkpoint for a model"},
    {"schedule", cmd_schedule, "write the schedule compile would use (or a random legal one)"},
    {"targets", cmd_targets, "list the target tables --target chooses from"},
    {"tune", cmd_tune, "measure schedules on this machine and write the fastest"},
    {"graph", cmd_graph, "write the graph as Graphviz DOT, before or after the passes"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

/*
 * visec complete passes|targets|commands: the names, one a line, for shell
 * completion (tools/visec.bash-completion), so that no list is spelled twice.
 * Not in --help: it is for scripts, not for people.
 */
static int
complete(int argc, char **argv)
{
    const char *what = argc == 1 ? argv[0] : "";
    if (!strcmp(what, "passes")) {
        for (int i = 0; pass_names[i]; i++)
            printf("%s\n", pass_names[i]);
    } else if (!strcmp(what, "targets")) {
        for (int i = 0; target_tables[i]; i++)
            printf("%s\n", target_tables[i]->name);
        printf("%s\n", target_native()->name);
    } else if (!strcmp(what, "commands")) {
        for (int i = 0; i < NCOMMANDS; i++)
            printf("%s\n", commands[i].name);
    } else {
        fprintf(stderr, "usage: visec complete passes|targets|commands\n");
        return 1;
    }
    return 0;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: visec COMMAND [OPTIONS] ...\n\n"
               "visec compiles a model description plus a PyTorch checkpoint into\n"
               "self-contained C99 + OpenMP inference code.\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\noptions:\n"
               "  --help, -h        this text\n"
               "  --version         print visec's version\n"
               "\n'visec help COMMAND' or 'visec COMMAND --help' describes the options of one\n"
               "command; '--' ends a command's options (a file named like an option follows).\n"
               "The manual page is visec(1).\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "help") && argc > 2) {
        /* visec help COMMAND = visec COMMAND --help */
        for (int i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *help[] = {"--help", NULL};
                return commands[i].run(1, help);
            }
        fprintf(stderr, "visec: error: unknown command '%s' (see 'visec --help')\n", argv[2]);
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("visec %s\n", VISEC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "complete"))
        return complete(argc - 2, argv + 2);
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "visec: error: unknown command '%s' (see 'visec --help')\n", argv[1]);
    return 1;
}
