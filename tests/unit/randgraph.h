/*
 * randgraph.h — random graphs for the property tests (randgraph.c).
 */
#ifndef VISEC_RANDGRAPH_H
#define VISEC_RANDGRAPH_H

#include "ir.h"

/* splitmix64: a small, portable, seeded generator. */
uint64_t rg_u64(uint64_t *s);
int rg_int(uint64_t *s, int lo, int hi);        /* uniform in [lo, hi] */
float rg_float(uint64_t *s, float lo, float hi);

/*
 * A random graph of conv/bn/relu/add/pool blocks with branches, weights
 * bound.  Shapes that do not fit are reported on d (the caller skips the
 * graph when d has errors).  Sometimes a second output ("mid").
 */
Graph *random_graph(uint64_t seed, Diag *d);

#endif
