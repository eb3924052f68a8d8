/*
 * schedule.c — fills Node.sched: how every layer runs.
 *
 * Each node starts from a base schedule: the target table's default
 * (compiler/sched/legal.c, sched_default), a random legal draw (--random,
 * for tests), or, when the pass is disabled (-O0), the trivial schedule.
 * Then the entries of a schedule file, if one was given, override fields
 * in file order.  Every schedule is checked before anything reads it, and
 * the node's scratch size (and a Winograd conv's tiles) follow from it.
 *
 * This is the one pass that reads user input (the schedule file); its
 * errors go to the diagnostics in the options and stop the pipeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

char *
schedule(Graph *g, const SchedOptions *o)
{
    const Target *t = o->target;
    uint64_t rng = o->random_seed * 0x9e3779b97f4a7c15u + 1;
    int convs = 0, wino = 0, wino4 = 0, direct = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (o->trivial)
            n->sched = sched_trivial(n);
        else if (o->random_seed)
            n->sched = sched_random(n, t, o->can_pack, &rng);
        else
            n->sched = sched_default(n, t, o->can_pack, NULL);
    }
    if (o->file && !schedfile_apply(o->file, g, t, o->can_pack, o->diag))
        return NULL;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        char *bad = sched_check(n, t, &n->sched, o->can_pack, NULL);
        if (bad)
            bug("schedule of %s is illegal: %s", n->name, bad);
        sched_fill_scratch(n);
        convs += n->op == OP_CONV2D;
        wino += n->sched.algo == ALGO_WINOGRAD2;
        wino4 += n->sched.algo == ALGO_WINOGRAD4;
        direct += n->sched.algo == ALGO_DIRECT;
    }
    char more[96] = ""; /* the other algorithms counted */
    if (wino4)
        snprintf(more, sizeof more, ", %d winograd(4)", wino4);
    if (direct)
        snprintf(more + strlen(more), sizeof more - strlen(more), ", %d direct", direct);
    return xprintf("%d layers scheduled for %s (%s%s%s), %d convolutions, %d of them winograd(2)%s",
                   g->nodes.n, t->name, o->trivial ? "trivial" : o->random_seed ? "random" : "defaults",
                   o->file ? " + " : "", o->file ? o->file->src->path : "", convs, wino, more);
}
