/*
 * visec.h — the driver's commands and their shared option helpers.
 */
#ifndef VISEC_DRIVER_H
#define VISEC_DRIVER_H

#include "ir.h"

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

/*
 * Option parsing.  Options are "--name value" or "--name=value".
 * opt_value() matches argv[*i] against name; on a match it stores the value,
 * advances *i past it and returns 1; a missing value is reported as an error
 * and returns -1; no match returns 0.
 */
int opt_value(int argc, char **argv, int *i, const char *name, const char **val, Diag *d);
bool opt_flag(char **argv, int i, const char *name);
/* Parses a whole decimal integer in [lo, hi]; reports an error naming opt. */
bool opt_int(const char *opt, const char *s, long lo, long hi, long *out, Diag *d);
/* Reports an unknown option or extra argument. */
void opt_unknown(Diag *d, const char *cmd, const char *arg);

/* "visec CMD ARG ...", each argument shell-quoted when it needs it: the
 * command line as given, for the identity of generated files (malloc'd).
 * The option drop (and its value) is left out, if not NULL. */
char *command_line(const char *cmd, int argc, char **argv, const char *drop);

/* ---- options of the other layers, parsed here and handed on as plain structs */
struct BindOptions;
struct PipelineOptions;
/* 1 = matched one of --weights/--select/--strip-prefix/--add-prefix/--strict at
 * argv[*i] (advances *i past its value), 0 = no match, -1 = error reported. */
int bind_option(int argc, char **argv, int *i, struct BindOptions *o, Diag *d);
/*
 * Parses --dump-after, --disable-pass, --stats and -O0 at argv[*i]:
 * 1 matched (advances *i), 0 no match, -1 error reported.
 */
int pipeline_option(int argc, char **argv, int *i, struct PipelineOptions *o, Diag *d);
void pipeline_help(FILE *f);
/* --target NAME at argv[*i] into *target: 1 matched, 0 no match, -1 error reported. */
struct Target;
int target_option(int argc, char **argv, int *i, const struct Target **target, Diag *d);
/* Completes the pipeline options after parsing: the target (native by
 * default), the diagnostics, the schedule file read; false on errors. */
bool pipeline_prepare(struct PipelineOptions *o, Diag *d);
void pipeline_release(struct PipelineOptions *o);

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
