/*
 * options.c — the one option parser every command calls: the file
 * argument, "--", --help, the binding and pass options every command that
 * takes them spells the same, and the command's own options through its
 * option() hook.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "passes.h"
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

/* Reports an unknown option or extra argument. */
static void
opt_unknown(Diag *d, const char *cmd, const char *arg)
{
    if (arg[0] == '-')
        error_plain(d, "unknown option '%s' for 'visec %s' (see 'visec %s --help')", arg, cmd, cmd);
    else
        error_plain(d, "unexpected argument '%s' for 'visec %s' (see 'visec %s --help')", arg, cmd, cmd);
}

/* The option of the table at argv[*i]: 1 matched (a bad number reported),
 * 0 no match, -1 error reported. */
static int
table_option(const Opt *o, int argc, char **argv, int *i, Diag *d)
{
    for (; o && o->name; o++) {
        const char *v;
        int m;
        if (o->flag) {
            if (!opt_flag(argv, *i, o->name))
                continue;
            *o->flag = true;
            return 1;
        }
        if ((m = opt_value(argc, argv, i, o->name, o->value ? o->value : &v, d)) == 0)
            continue;
        if (m > 0 && o->num)
            opt_int(o->name, v, o->lo, o->hi, o->num, d);
        return m;
    }
    return 0;
}

/* ---------------------------------------------------------------- binding */

/* 1 = matched one of --weights/--select/--strip-prefix/--add-prefix/--strict
 * (keys: only the three that name checkpoint keys) at argv[*i] (*i advanced
 * past its value), 0 = no match, -1 = error reported. */
static int
bind_option(int argc, char **argv, int *i, BindOptions *o, bool keys, Diag *d)
{
    Opt opts[] = {{"--strict", .flag = &o->strict}, {"--weights", .value = &o->weights},
                  {"--select", .value = &o->select}, {"--strip-prefix", .value = &o->strip_prefix},
                  {"--add-prefix", .value = &o->add_prefix}, {0}};
    return table_option(keys ? opts + 2 : opts, argc, argv, i, d);
}

/* ---------------------------------------------------------------- pipeline */

bool
need_weights_for_keys(const BindOptions *o, Diag *d)
{
    if (!o->weights && (o->select || o->strip_prefix || o->add_prefix || o->strict)) {
        error_plain(d, "--select, --strip-prefix, --add-prefix and --strict need --weights FILE");
        return false;
    }
    return true;
}

/* --target NAME at argv[*i] into *target: 1 matched, 0 no match, -1 error reported. */
static int
target_option(int argc, char **argv, int *i, const Target **target, Diag *d)
{
    const char *v;
    int m = opt_value(argc, argv, i, "--target", &v, d);
    if (m <= 0)
        return m;
    if (!(*target = target_find(v))) {
        error_plain(d, "--target: unknown target '%s' (targets: %s; see 'visec targets')", v,
                    target_names());
        return -1;
    }
    return 1;
}

/* --dump-after, --disable-pass, --stats, -O0, --target and --schedule at
 * argv[*i]: 1 matched (*i advanced; a bad value reported), 0 no match, -1
 * error reported. */
static int
pipeline_option(int argc, char **argv, int *i, PipelineOptions *o, Diag *d)
{
    Opt opts[] = {{"--stats", .flag = &o->stats}, {"-O0", .flag = &o->none},
                  {"--schedule", .value = &o->sched_path}, {0}};
    const char *v;
    int m;
    if ((m = table_option(opts, argc, argv, i, d)) != 0 || (m = target_option(argc, argv, i, &o->target, d)) != 0)
        return m;
    if ((m = opt_value(argc, argv, i, "--dump-after", &v, d)) > 0) {
        if (!strcmp(v, "all") || !strcmp(v, "frontend") || pass_known(v)) {
            o->dump_after = v;
        } else {
            char *names = xstrdup("frontend");
            for (int k = 0; pass_names[k]; k++) {
                char *t = xprintf("%s, %s", names, pass_names[k]);
                free(names);
                names = t;
            }
            error_plain(d, "--dump-after: unknown pass '%s' (passes: %s, or all)", v, names);
            free(names);
        }
    } else if (!m && (m = opt_value(argc, argv, i, "--disable-pass", &v, d)) > 0) {
        if (!pass_known(v))
            error_plain(d, "--disable-pass: unknown pass '%s'", v);
        else if (o->ndisabled == (int)(sizeof o->disabled / sizeof o->disabled[0]))
            error_plain(d, "--disable-pass given too often");
        else
            o->disabled[o->ndisabled++] = v;
    }
    return m;
}

void
pipeline_help(FILE *f)
{
    fprintf(f, "pass options:\n"
               "  --dump-after=PASS print the IR after PASS (frontend, or a pass name, or all)\n"
               "  --disable-pass=PASS  skip PASS (may be repeated)\n"
               "  --stats           per pass: node counts before and after and what it did\n"
               "  -O0               run no pass (the trivial schedule and the naive memory plan)\n"
               "  --target NAME     schedule for target NAME (default native; see 'visec targets')\n"
               "  --schedule FILE   apply the schedule file FILE on top of the target's defaults\n"
               "passes, in order:");
    for (int i = 0; pass_names[i]; i++)
        fprintf(f, " %s", pass_names[i]);
    fprintf(f, "\n");
}


bool
pipeline_prepare(PipelineOptions *o, Diag *d)
{
    if (!o->target)
        o->target = target_native();
    if (!o->out)
        o->out = stdout;
    o->diag = d;
    if (o->sched_path && !o->sched_file)
        o->sched_file = schedfile_read(o->sched_path, d);
    return !o->sched_path || o->sched_file;
}

void
pipeline_release(PipelineOptions *o)
{
    schedfile_free((SchedFile *)o->sched_file);
    o->sched_file = NULL;
}

/* ---------------------------------------------------------------- the parser */

/* The shared options at argv[*i], as far as the command takes them. */
static int
shared_option(Args *a, int argc, char **argv, int *i, Diag *d)
{
    int m = 0;
    if (a->takes & (TAKES_BIND | TAKES_KEYS))
        m = bind_option(argc, argv, i, &a->bind, !(a->takes & TAKES_BIND), d);
    if (!m && (a->takes & TAKES_PIPELINE))
        m = pipeline_option(argc, argv, i, &a->pipeline, d);
    if (!m && (a->takes & TAKES_TARGET))
        m = target_option(argc, argv, i, &a->pipeline.target, d);
    return m;
}

bool
parse_args(Args *a, int argc, char **argv, Diag *d)
{
    int errors = d->nerrors;
    bool ended = false;     /* after "--": only the file */
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (ended) {
            if (a->file)
                opt_unknown(d, a->cmd, arg);
            else
                a->file = arg;
            continue;
        }
        if ((a->takes & TAKES_FILE) && opt_flag(argv, i, "--")) {
            ended = true;
        } else if (opt_flag(argv, i, "--help") || opt_flag(argv, i, "-h")) {
            a->help(stdout);
            a->status = 0;
            return false;
        } else if (table_option(a->opts, argc, argv, &i, d) ||
                   (a->option && a->option(a, argc, argv, &i, d)) ||
                   shared_option(a, argc, argv, &i, d)) {
            /* matched; errors reported */
        } else if ((a->takes & TAKES_FILE) && arg[0] != '-' && !a->file) {
            a->file = arg;
        } else {
            opt_unknown(d, a->cmd, arg);
        }
    }
    if (d->nerrors == errors && a->usage && !a->file)
        error_plain(d, "no model description given (usage: %s)", a->usage);
    a->status = 1;
    return d->nerrors == errors;
}

/* ---------------------------------------------------------------- identity */

/* True if a shell would take s as one word unquoted. */
static bool
plain_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *s))
            return false;
    return true;
}

char *
command_line(const char *cmd, int argc, char **argv, const char *drop)
{
    char *s = xprintf("visec %s", cmd);
    for (int i = 0; i < argc; i++) {
        char *w;
        size_t nd = drop ? strlen(drop) : 0;
        if (drop && !strcmp(argv[i], drop)) {
            i++;            /* the option and its value */
            continue;
        }
        if (drop && !strncmp(argv[i], drop, nd) && argv[i][nd] == '=')
            continue;
        if (plain_word(argv[i])) {
            w = xprintf("%s %s", s, argv[i]);
        } else {
            /* 'single quoted', with ' as '\'' */
            size_t n = strlen(argv[i]);
            char *q = xmalloc(4 * n + 3), *p = q;
            *p++ = '\'';
            for (const char *a = argv[i]; *a; a++) {
                if (*a == '\'') {
                    memcpy(p, "'\\''", 4);
                    p += 4;
                } else {
                    *p++ = *a;
                }
            }
            *p++ = '\'';
            *p = '\0';
            w = xprintf("%s %s", s, q);
            free(q);
        }
        free(s);
        s = w;
    }
    return s;
}
