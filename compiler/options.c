/*
 * options.c — the small option parser every command shares.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "visec.h"

int
opt_value(int argc, char **argv, int *i, const char *name, const char **val, Diag *d)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        error_plain(d, "option '%s' needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

bool
opt_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}

bool
opt_int(const char *opt, const char *s, long lo, long hi, long *out, Diag *d)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        error_plain(d, "option '%s' takes a whole number from %ld to %ld, got '%s'", opt, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

void
opt_unknown(Diag *d, const char *cmd, const char *arg)
{
    if (arg[0] == '-')
        error_plain(d, "unknown option '%s' for 'visec %s' (see 'visec %s --help')", arg, cmd, cmd);
    else
        error_plain(d, "unexpected argument '%s' for 'visec %s' (see 'visec %s --help')", arg, cmd, cmd);
}
