/*
 * tune.c — the tuner: candidate schedules measured on this machine.
 *
 * A round is one build of the whole model with the C compiler the user
 * names, with -DVX_PROFILE, so that one run times every layer in its real
 * context (caches, neighbours, threads).  Round 0 is the default schedule.
 * Round k gives every convolution its k-th candidate (the other layers keep
 * the best found so far); a layer keeps a candidate that beats its best
 * time.  The candidates are compiler/sched's (sched_candidates(), in
 * candidates.c); this file builds and times them.
 *
 * Rounds stop when the budget would be exceeded.  The result is then
 * measured end to end against the default, interleaved; if it is not
 * faster, the default is what is written, and the tuner says so.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "codegen.h"
#include "outfile.h"
#include "tune.h"
#include "visec.h"

/* The program each round builds: runs the model, prints the median time;
 * close() prints the per-layer profile on stderr. */
static const char driver_src[] =
    "#define _POSIX_C_SOURCE 199309L\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <time.h>\n"
    "#include \"tuned.h\"\n"
    "static double now(void)\n"
    "{\n"
    "    struct timespec t;\n"
    "    clock_gettime(CLOCK_MONOTONIC, &t);\n"
    "    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;\n"
    "}\n"
    "static int cmp(const void *a, const void *b)\n"
    "{\n"
    "    double x = *(const double *)a, y = *(const double *)b;\n"
    "    return x < y ? -1 : x > y;\n"
    "}\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    tuned *m;\n"
    "    int batch, runs, err, r;\n"
    "    size_t i, nin, nout;\n"
    "    unsigned s = 12345u;\n"
    "    float *x, *y;\n"
    "    double t[64];\n"
    "    if (argc != 4)\n"
    "        return 2;\n"
    "    batch = atoi(argv[2]);\n"
    "    runs = atoi(argv[3]);\n"
    "    if (batch < 1 || runs < 1 || runs > 64)\n"
    "        return 2;\n"
    "    if ((err = tuned_open(argv[1], &m)) != 0) {\n"
    "        fprintf(stderr, \"open: %s\\n\", tuned_strerror(err));\n"
    "        return 1;\n"
    "    }\n"
    "    nin = (size_t)batch * TUNED_INPUT_SIZE;\n"
    "    nout = (size_t)batch * TUNED_OUTPUT_SIZE;\n"
    "    x = malloc(nin * sizeof *x);\n"
    "    y = malloc(nout * sizeof *y);\n"
    "    if (!x || !y)\n"
    "        return 1;\n"
    "    for (i = 0; i < nin; i++) {\n"
    "        s = s * 1103515245u + 12345u;\n"
    "        x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;\n"
    "    }\n"
    "    if (tuned_run(m, batch, x, y))\n"
    "        return 1;\n"
    "    for (r = 0; r < runs; r++) {\n"
    "        double t0 = now();\n"
    "        if (tuned_run(m, batch, x, y))\n"
    "            return 1;\n"
    "        t[r] = now() - t0;\n"
    "    }\n"
    "    qsort(t, (size_t)runs, sizeof t[0], cmp);\n"
    "    printf(\"median_ms %.6f\\n\", 1e3 * t[runs / 2]);\n"
    "    tuned_close(m);\n"
    "    free(x);\n"
    "    free(y);\n"
    "    return 0;\n"
    "}\n";

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---------------------------------------------------------------- rounds */

typedef struct Tuner {
    const TuneOptions *o;
    Diag *d;
    char dir[64];       /* the work directory */
    int round;          /* rounds built so far */
} Tuner;

/* The graph compile would make with the schedule file at path (NULL: the
 * defaults), or NULL after errors. */
static Graph *
lower(Tuner *tu, const char *sched_path, Source **src)
{
    PipelineOptions po = {.out = stderr, .target = tu->o->target, .sched_path = sched_path};
    LoadOptions lo = {.bind = tu->o->bind, .pipeline = &po};
    Graph *g = load_model(tu->o->model, &lo, tu->d, src);
    pipeline_release(&po);
    return g;
}

/* Writes text to path; false with an error. */
static bool
write_text(Tuner *tu, const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        error_plain(tu->d, "tune: cannot write %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

/*
 * Runs a shell command; 0, or -1 after Ctrl-C, or the failing status.  Not
 * system(): that ignores SIGINT in the caller while the command runs.  Here
 * a Ctrl-C (the flag *stop set by the caller's handler) stops the command.
 */
static int
run(Tuner *tu, const char *cmd)
{
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    if (*tu->o->stop)
        return -1;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return 1;
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return 1;
        if (*tu->o->stop)
            kill(pid, SIGTERM);     /* and wait for it */
    }
    if (*tu->o->stop || (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT)) {
        *tu->o->stop = 1;
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/*
 * Builds the model with the schedule in sched_path (NULL: the defaults) in a
 * new round directory; returns it (malloc'd), or NULL after errors or
 * interruption.
 */
static char *
build(Tuner *tu, const char *sched_path, int nnodes)
{
    char *rdir = xprintf("%s/r%d", tu->dir, tu->round++);
    char *cmd = NULL, *path = NULL;
    bool ok = false;
    Source *src = NULL;
    Graph *g = NULL;
    if (mkdir(rdir, 0700) != 0) {
        error_plain(tu->d, "tune: cannot make %s: %s", rdir, strerror(errno));
        goto done;
    }
    if (!(g = lower(tu, sched_path, &src)))
        goto done;
    if (g->nodes.n != nnodes)
        bug("tune: %d layers in one round, %d in another", g->nodes.n, nnodes);
    CodegenOptions co = {.name = "tuned", .model_path = tu->o->model, .target = tu->o->target};
    if (!codegen_check(g, &co, tu->d))
        goto done;
    OutFile of[3];
    const char *names[3] = {"tuned.h", "tuned.c", "tuned.weights"};
    int nopen = 0;
    for (int i = 0; i < 3; i++) {
        free(path);
        path = xprintf("%s/%s", rdir, names[i]);
        if (!outfile_open(&of[i], path, tu->d))
            break;
        nopen++;
    }
    if (nopen == 3)
        codegen_emit(g, &co, "tuned.h", of[0].f, of[1].f, of[2].f);
    ok = nopen == 3;
    for (int i = 0; i < nopen; i++)
        ok = ok ? outfile_commit(&of[i], tu->d) : (outfile_abort(&of[i]), false);
    free(path);
    path = xprintf("%s/main.c", rdir);
    if (!ok || !write_text(tu, path, driver_src)) {
        ok = false;
        goto done;
    }
    cmd = xprintf("%s %s -DVX_PROFILE -I%s -o %s/bench %s/main.c %s/tuned.c -lm 2>%s/cc.log", tu->o->cc,
                  tu->o->cflags, rdir, rdir, rdir, rdir, rdir);
    int st = run(tu, cmd);
    if (st > 0)
        error_plain(tu->d, "tune: the C compiler failed (%s); see %s/cc.log", cmd, rdir);
    ok = st == 0;
done:
    graph_free(g);
    source_free(src);
    free(cmd);
    free(path);
    if (!ok) {
        free(rdir);
        return NULL;
    }
    return rdir;
}

/* Writes g's schedules as a schedule file at path and builds the model with
 * it (build()). */
static char *
build_scheduled(Tuner *tu, const Graph *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        error_plain(tu->d, "tune: cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    schedfile_write(f, g, tu->o->target, NULL);
    fclose(f);
    return build(tu, path, g->nodes.n);
}

/*
 * Runs the benchmark built in rdir.  Fills ms[i] with layer i's time per run
 * (NAN where the profile has none, or ms NULL) and returns the median
 * end-to-end time in ms, or a negative number after errors or interruption.
 */
static double
time_build(Tuner *tu, const char *rdir, const Graph *g, double *ms)
{
    double total = -1;
    char *cmd = xprintf("%s/bench %s/tuned.weights %d %d >%s/time.txt 2>%s/profile.txt", rdir, rdir,
                        tu->o->batch, tu->o->runs, rdir, rdir);
    char *path = xprintf("%s/time.txt", rdir);
    int st = run(tu, cmd);
    if (st > 0)
        error_plain(tu->d, "tune: the benchmark failed (%s)", cmd);
    if (st)
        goto done;
    /* median_ms X on stdout; the profile's "layer ms/run ..." lines on stderr */
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "median_ms %lf", &total) != 1) {
        error_plain(tu->d, "tune: no time in %s", path);
        total = -1;
    }
    if (f)
        fclose(f);
    if (!ms)
        goto done;
    for (int i = 0; i < g->nodes.n; i++)
        ms[i] = NAN;
    free(path);
    path = xprintf("%s/profile.txt", rdir);
    if ((f = fopen(path, "r"))) {
        char name[128], line[512];
        double t;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%127s %lf", name, &t) == 2)
                for (int i = 0; i < g->nodes.n; i++)
                    if (!strcmp(((const Node *)g->nodes.v[i])->name, name))
                        ms[i] = t;
        fclose(f);
    }
done:
    free(cmd);
    free(path);
    return total;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* ---------------------------------------------------------------- the tuner */

bool
tune(const TuneOptions *o, FILE *out, Diag *d)
{
    Tuner tu = {o, d, "/tmp/visec-tune-XXXXXX", 0};
    double start = now();
    int errors = d->nerrors;
    if (!mkdtemp(tu.dir)) {
        error_plain(d, "tune: cannot make a work directory: %s", strerror(errno));
        return false;
    }
    Source *src = NULL;
    Graph *g = lower(&tu, NULL, &src);     /* the default schedules, to vary */
    int nn = g ? g->nodes.n : 0;
    Schedule (*cand)[SCHED_MAX_CANDIDATES] = xcalloc((size_t)nn + 1, sizeof *cand);
    int *ncand = xcalloc((size_t)nn + 1, sizeof *ncand), *pick = xcalloc((size_t)nn + 1, sizeof *pick);
    double *best = xcalloc((size_t)nn + 1, sizeof *best), *def = xcalloc((size_t)nn + 1, sizeof *def);
    double *ms = xcalloc((size_t)nn + 1, sizeof *ms);
    char **notes = xcalloc((size_t)nn + 1, sizeof *notes);
    char *sched_path = xprintf("%s/round.sched", tu.dir);
    bool tuned_ok = false;
    char *def_dir = NULL, *tuned_dir = NULL;
    if (!g)
        goto done;
    int rounds = 0;
    for (int i = 0; i < nn; i++) {
        const Node *n = g->nodes.v[i];
        if (n->op == OP_CONV2D) {
            ncand[i] = sched_candidates(n, o->target, cand[i]);
        } else {
            cand[i][0] = n->sched;
            ncand[i] = 1;
        }
        if (ncand[i] > rounds)
            rounds = ncand[i];
    }
    fprintf(o->progress, "tune: %d layers, up to %d rounds, budget %.0f s; round 0 (the defaults)...\n", nn,
            rounds, o->budget);
    double t0 = now();
    def_dir = build(&tu, NULL, nn);
    double def_total = def_dir ? time_build(&tu, def_dir, g, def) : -1;
    if (def_total < 0)
        goto done;
    double round_time = now() - t0, run_time = def_total * 1e-3 * (o->runs + 1);
    for (int i = 0; i < nn; i++)
        best[i] = def[i];
    fprintf(o->progress, "tune: round 0: %.2f ms per run of %d image%s (%.1f s a round)\n", def_total,
            o->batch, o->batch == 1 ? "" : "s", round_time);

    /* Rounds 1..: candidate k for every conv that has one. */
    int r;
    for (r = 1; r < rounds; r++) {
        double left = o->budget - (now() - start);
        /* this round, then the final check: one more build, four timed runs */
        if (*o->stop || left < 2.2 * round_time + 4 * run_time)
            break;
        for (int i = 0; i < nn; i++) {
            Node *n = g->nodes.v[i];
            n->sched = cand[i][r < ncand[i] ? r : pick[i]];
        }
        char *rdir = build_scheduled(&tu, g, sched_path);
        double total = rdir ? time_build(&tu, rdir, g, ms) : -1;
        free(rdir);
        if (total < 0)
            goto done;
        int better = 0;
        for (int i = 0; i < nn; i++)
            if (r < ncand[i] && ms[i] == ms[i] && ms[i] < best[i]) {
                best[i] = ms[i];
                pick[i] = r;
                better++;
            }
        double sum = 0;
        for (int i = 0; i < nn; i++)
            sum += best[i] == best[i] ? best[i] : 0;
        fprintf(o->progress, "tune: round %d of %d: %.2f ms; %d layers improved; best so far %.2f ms of layer "
                "time; %.0f s left\n", r, rounds - 1, total, better, sum, o->budget - (now() - start));
    }
    if (*o->stop)
        goto done;

    /* The result against the default, end to end, interleaved. */
    int changed = 0;
    for (int i = 0; i < nn; i++) {
        ((Node *)g->nodes.v[i])->sched = cand[i][pick[i]];
        changed += pick[i] != 0;
    }
    double dflt = def_total, tuned = def_total;
    bool keep = false;
    if (changed) {
        if (!(tuned_dir = build_scheduled(&tu, g, sched_path)))
            goto done;
        double a[2], b[2];
        for (int k = 0; k < 2; k++)
            if ((a[k] = time_build(&tu, def_dir, g, NULL)) < 0 || (b[k] = time_build(&tu, tuned_dir, g, NULL)) < 0)
                goto done;
        dflt = a[0] < a[1] ? a[0] : a[1];
        tuned = b[0] < b[1] ? b[0] : b[1];
        keep = tuned < dflt;
        fprintf(o->progress, "tune: %d layers changed; end to end, best of 2 interleaved: default %.2f ms, "
                "tuned %.2f ms: %s\n", changed, dflt, tuned,
                keep ? "the tuned schedule is written" : "not faster, so the default schedule is written");
    } else {
        fprintf(o->progress, "tune: %s: the default schedule is written\n",
                r == 1 ? "the budget left no time for candidates" : "no candidate beat the default");
    }
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.v[i];
        if (!keep)
            pick[i] = 0;
        n->sched = cand[i][pick[i]];
        if (n->op != OP_CONV2D)
            continue;
        if (pick[i])
            notes[i] = xprintf("tuned on this machine: %.3f ms against the default's %.3f ms (%d candidates)",
                               best[i], def[i], r < ncand[i] ? r : ncand[i]);
        else if (best[i] < def[i])
            notes[i] = xprintf("tuned on this machine: a candidate took %.3f ms against the default's %.3f ms, "
                               "but the tuned schedule as a whole was not faster: the default", best[i], def[i]);
        else
            notes[i] = xprintf("tuned on this machine: the default, %.3f ms, was not beaten (%d candidates)",
                               def[i], r < ncand[i] ? r : ncand[i]);
    }
    fprintf(out, "# Tuned by 'visec tune' with %s %s, batch %d: end to end %.2f ms, default %.2f ms.\n", o->cc,
            o->cflags, o->batch, keep ? tuned : dflt, dflt);
    schedfile_write(out, g, o->target, notes);
    tuned_ok = true;
done:
    if (*o->stop)
        fprintf(o->progress, "tune: interrupted; nothing written\n");
    free(def_dir);
    free(tuned_dir);
    nftw(tu.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < nn; i++)
        free(notes[i]);
    free(notes);
    free(cand);
    free(ncand);
    free(pick);
    free(best);
    free(def);
    free(ms);
    free(sched_path);
    graph_free(g);
    source_free(src);
    return tuned_ok && !*o->stop && d->nerrors == errors;
}
