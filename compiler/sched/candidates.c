/*
 * candidates.c — the schedules the tuner (driver/tune.c) measures for a conv.
 *
 * Candidates come from the target's legal space: each algorithm the layer
 * may use with its default blocks, then, for each of those, other register
 * blocks, the other loop order, pixel tiles, a reduction tile and output
 * channels in the vector lanes.  Pure schedule logic: nothing is built or
 * timed here.
 */
#include <stdlib.h>
#include <string.h>

#include "schedules.h"

static bool
same(const Schedule *a, const Schedule *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* Adds s to the list if it is legal and new. */
static void
add(const Node *n, const Target *t, Schedule *list, int *k, Schedule s)
{
    if (*k == SCHED_MAX_CANDIDATES)
        return;
    char *bad = sched_check(n, t, &s, true, NULL);
    if (bad) {
        free(bad);
        return;
    }
    for (int i = 0; i < *k; i++)
        if (same(&list[i], &s))
            return;
    list[(*k)++] = s;
}

int
sched_candidates(const Node *n, const Target *t, Schedule *list)
{
    int k = 0;
    Schedule d = n->sched;
    add(n, t, list, &k, d);
    for (int a = ALGO_GEMM; a < ALGO_COUNT; a++)
        if (a != (int)d.algo && !sched_algo_illegal(n, t, (Algo)a, true))
            add(n, t, list, &k, sched_default_for(n, t, (Algo)a, true));
    int nbase = k;
    for (int b = 0; b < nbase; b++) {
        Schedule s = list[b];
        int lanes = t->lanes > 1 ? t->lanes : 8;
        Schedule v = s;
        v.reg_pix = s.reg_pix * 2;
        v.tile_pix = sched_default_tile_pix(n, &v);
        add(n, t, list, &k, v);
        v.reg_pix = s.reg_pix / 2 >= lanes ? s.reg_pix / 2 : s.reg_pix;
        v.tile_pix = sched_default_tile_pix(n, &v);
        add(n, t, list, &k, v);
        v = s;
        v.reg_co = s.reg_co == 4 ? 8 : 4;
        add(n, t, list, &k, v);
        v = s;
        v.order = s.order == ORDER_CO_PIX ? ORDER_PIX_CO : ORDER_CO_PIX;
        v.tile_pix = sched_default_tile_pix(n, &v);
        add(n, t, list, &k, v);
        /* pixel tiles in groups of 8, or none */
        v = s;
        v.tile_pix = s.tile_pix ? 0 : 8 * s.reg_pix;
        add(n, t, list, &k, v);
        v = s;
        v.tile_k = 256;
        add(n, t, list, &k, v);
        add(n, t, list, &k, sched_lanes_co(n, t, s));
    }
    return k;
}
