/*
 * visec.h — the driver's commands, the option parser they share and the
 * one way they load a model.
 */
#ifndef VISEC_DRIVER_H
#define VISEC_DRIVER_H

#include "bind.h"
#include "ir.h"
#include "passes.h"

/* Each command gets argv after the command name; returns the exit status. */
int cmd_check(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_init_weights(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_graph(int argc, char **argv);

/* ---------------------------------------------------------------- options.c */

/* What a command takes besides its own options (Args.takes). */
enum {
    TAKES_FILE = 1 << 0,        /* one file argument; "--" ends the options before it */
    TAKES_BIND = 1 << 1,        /* --weights, --select, --strip-prefix, --add-prefix, --strict */
    TAKES_KEYS = 1 << 2,        /* only --select, --strip-prefix, --add-prefix */
    TAKES_PIPELINE = 1 << 3,    /* the pass options, --target and --schedule */
    TAKES_TARGET = 1 << 4,      /* --target alone */
};

/* One of a command's own options; exactly one of flag, value, num is set. */
typedef struct Opt {
    const char *name;           /* as typed: "-o", "--json" */
    bool *flag;                 /* a flag: set to true */
    const char **value;         /* takes a value: stored here */
    long *num;                  /* takes a whole number in [lo, hi]: stored here */
    long lo, hi;
} Opt;

/*
 * A command's command line.  The command fills what it takes (and
 * pipeline.out if dumps go elsewhere than stdout), then parse_args() the
 * rest.  Options are "--name value" or "--name=value".
 */
typedef struct Args Args;
struct Args {
    const char *cmd;            /* the command, for messages: "compile" */
    unsigned takes;             /* TAKES_* */
    void (*help)(FILE *f);      /* its --help text */
    const char *usage;          /* TAKES_FILE: without a file, "no model description
                                   given (usage: USAGE)"; NULL: the command says */
    const Opt *opts;            /* its own options, up to one with a NULL name */
    /* Its options that need more than opts (NULL: none) at argv[*i]: 1
     * matched (*i advanced past a value; a bad value reported), 0 no match,
     * -1 error reported. */
    int (*option)(Args *a, int argc, char **argv, int *i, Diag *d);
    void *own;                  /* the record option() fills */
    const char *file;           /* the file argument (model or checkpoint), NULL: none given */
    BindOptions bind;           /* TAKES_BIND, TAKES_KEYS */
    PipelineOptions pipeline;   /* TAKES_PIPELINE, TAKES_TARGET */
    int status;                 /* the exit status when parse_args() says stop */
};

/*
 * Parses argv (after the command name) into a: --help and -h print the help
 * and stop with status 0; every unknown option, extra argument, bad value
 * and a missing file (with a->usage) is reported on d, and then it stops
 * with status 1.  True: go on.
 */
bool parse_args(Args *a, int argc, char **argv, Diag *d);

/*
 * opt_value() matches argv[*i] against name; on a match it stores the value,
 * advances *i past it and returns 1; a missing value is reported as an error
 * and returns -1; no match returns 0.
 */
int opt_value(int argc, char **argv, int *i, const char *name, const char **val, Diag *d);
bool opt_flag(char **argv, int i, const char *name);
/* Parses a whole decimal integer in [lo, hi]; reports an error naming opt. */
bool opt_int(const char *opt, const char *s, long lo, long hi, long *out, Diag *d);
/* "--select ... need --weights FILE" if o has binding options but no weights; false then. */
bool need_weights_for_keys(const BindOptions *o, Diag *d);

/* "visec CMD ARG ...", each argument shell-quoted when it needs it: the
 * command line as given, for the identity of generated files (malloc'd).
 * The option drop (and its value) is left out, if not NULL. */
char *command_line(const char *cmd, int argc, char **argv, const char *drop);

/* The pass options' part of a command's --help. */
void pipeline_help(FILE *f);
/* Completes the pipeline options after parsing: the target (native by
 * default), the diagnostics, the schedule file read; false on errors. */
bool pipeline_prepare(PipelineOptions *o, Diag *d);
void pipeline_release(PipelineOptions *o);

/* ---------------------------------------------------------------- load.c */

/* How load_model() goes from a file to a graph. */
typedef struct LoadOptions {
    const BindOptions *bind;    /* the weights to bind (NULL or no .weights: none) */
    BindReport *report;         /* what binding did, if not NULL */
    bool placeholders;          /* without weights: every weight 1.0, so passes can run */
    PipelineOptions *pipeline;  /* run the passes with these (prepared here), NULL: none */
    /* Called once the graph is read and before anything costly (binding):
     * false (errors reported) stops.  NULL: none. */
    bool (*check)(const Graph *g, void *arg, Diag *d);
    void *check_arg;
} LoadOptions;

/*
 * Reads the model at path with the frontend its kind needs (a .vise
 * description), checks it (o->check), reads the schedule file, binds the
 * weights and runs the passes as o asks.  NULL after errors, reported on d.
 * *src receives the source text the graph's locations point into: free it
 * with source_free() after the graph.
 */
Graph *load_model(const char *path, const LoadOptions *o, Diag *d, Source **src);

/* One line per binding option, for a command's --help. */
#define BIND_OPTIONS_HELP                                                              \
    "  --weights FILE    checkpoint to bind: torch.save state dict (zip or legacy)\n"  \
    "                    or safetensors\n"                                             \
    "  --select KEY      use the state dict nested under KEY (default: the top\n"      \
    "                    level, or 'state_dict', 'model', ... when it has no tensors)\n" \
    "  --strip-prefix P  remove P from checkpoint keys (default: 'module.' when\n"     \
    "                    every key starts with it)\n"                                  \
    "  --add-prefix P    prepend P to checkpoint keys\n"                             \
    "  --strict          checkpoint tensors the model does not use and conversions\n" \
    "                    to float32 are errors, not warnings\n"

#endif
