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

#endif
