/*
 * plan_memory.c — activations at offsets in one arena.
 *
 * Every value that is not the caller's (graph inputs and outputs are) lives
 * from the step that computes it to the last step that reads it; a node's
 * scratch space lives during that node only.  Buffers are placed greedily,
 * largest first, at the lowest 64-byte aligned offset that overlaps no
 * buffer live at the same time.  An elementwise node (relu, add,
 * scale_shift, batchnorm) writes in place over an input whose life ends
 * there.
 *
 * Offsets and sizes are per image.  Every buffer scales linearly with the
 * batch, so with batch B the generated code uses offset * B and size * B:
 * two buffers that do not overlap for one image do not overlap for B.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#define ALIGN 64

typedef struct Buf {
    int64_t bytes;      /* size per image, rounded up to ALIGN */
    int start, end;     /* first and last schedule step it is live (inclusive) */
    int64_t offset;     /* placement */
    Value *v;           /* the value, or NULL for scratch */
    Node *scratch_of;   /* the node whose scratch this is, or NULL */
} Buf;

static bool
elementwise(Op op)
{
    return op == OP_RELU || op == OP_ADD || op == OP_SCALESHIFT || op == OP_BATCHNORM || op_is_unary(op);
}

/* Orders tried: largest first, longest-lived first, largest area
 * (bytes x lifetime) first; ties by start, so the plan is deterministic. */
static int
by_size(const void *a, const void *b)
{
    const Buf *x = *(Buf *const *)a, *y = *(Buf *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->start - y->start;
}

static int
by_life(const void *a, const void *b)
{
    const Buf *x = *(Buf *const *)a, *y = *(Buf *const *)b;
    int lx = x->end - x->start, ly = y->end - y->start;
    if (lx != ly)
        return ly - lx;
    return by_size(a, b);
}

static int
by_area(const void *a, const void *b)
{
    const Buf *x = *(Buf *const *)a, *y = *(Buf *const *)b;
    int64_t ax = x->bytes * (x->end - x->start + 1), ay = y->bytes * (y->end - y->start + 1);
    if (ax != ay)
        return ax < ay ? 1 : -1;
    return by_size(a, b);
}

/* Places bufs in `order` at the lowest offset free for their whole lives;
 * returns the arena size. */
static int64_t
place(Buf **order, int nb)
{
    int64_t arena = 0;
    for (int i = 0; i < nb; i++) {
        Buf *b = order[i];
        int64_t off = 0;
        for (bool moved = true; moved;) {   /* bump past every conflicting placed buffer */
            moved = false;
            for (int j = 0; j < i; j++) {
                Buf *p = order[j];
                bool time = p->start <= b->end && b->start <= p->end;
                bool space = p->offset < off + b->bytes && off < p->offset + p->bytes;
                if (time && space) {
                    off = p->offset + p->bytes;
                    moved = true;
                }
            }
        }
        b->offset = off;
        if (off + b->bytes > arena)
            arena = off + b->bytes;
    }
    return arena;
}

static void
place_best(Buf *bufs, int nb)
{
    int (*const orders[])(const void *, const void *) = {by_size, by_life, by_area};
    Buf **order = xmalloc((size_t)(nb + 1) * sizeof *order);
    int64_t best = -1;
    int best_k = 0;
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < nb; i++)
            order[i] = &bufs[i];
        qsort(order, (size_t)nb, sizeof *order, orders[k]);
        int64_t arena = place(order, nb);
        if (best < 0 || arena < best) {
            best = arena;
            best_k = k;
        }
    }
    for (int i = 0; i < nb; i++)
        order[i] = &bufs[i];
    qsort(order, (size_t)nb, sizeof *order, orders[best_k]);
    place(order, nb);
    free(order);
}

/* last[v->id] = the last schedule step that reads v (or makes it). */
static int *
last_uses(const Graph *g)
{
    int *last = xcalloc((size_t)g->values.n + 1, sizeof *last);
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        for (int k = 0; k < n->nin; k++)
            last[n->in[k]->id] = i;
        if (last[n->out->id] < i)
            last[n->out->id] = i;
    }
    return last;
}

/* The input an elementwise node at step i may overwrite, or NULL. */
static Value *
in_place_input(const Node *n, int i, const int *last)
{
    if (!elementwise(n->op))
        return NULL;
    for (int k = 0; k < n->nin; k++) {
        Value *u = n->in[k];
        if (!u->external && last[u->id] == i && u->bytes == n->out->bytes)
            return u;
    }
    return NULL;
}

/* Lays out every buffer; naive: each in a region of its own, in schedule order. */
static char *
plan(Graph *g, bool naive)
{
    int nn = g->nodes.n;
    if (nn == 0)
        return NULL;
    for (int i = 0; i < g->values.n; i++) {
        Value *v = g->values.v[i];
        v->external = false;
        v->offset = -1;
        v->bytes = shape_numel(v->shape, 1) * (int64_t)sizeof(float);
    }
    for (int i = 0; i < g->inputs.n; i++)
        ((Value *)g->inputs.v[i])->external = true;
    for (int i = 0; i < g->outputs.n; i++)
        ((Value *)g->outputs.v[i])->external = true;
    int *last = last_uses(g);

    /* One buffer per value, or per chain of in-place values, plus scratch. */
    Buf *bufs = xcalloc((size_t)2 * nn + 1, sizeof *bufs);
    Buf **of_value = xcalloc((size_t)g->values.n + 1, sizeof *of_value);
    int nb = 0;
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.v[i];
        Value *v = n->out;
        if (n->scratch > 0)
            bufs[nb++] = (Buf){align_up(n->scratch, ALIGN), i, i, -1, NULL, n};
        if (v->external)
            continue;
        Value *u = naive ? NULL : in_place_input(n, i, last);
        Buf *b = u ? of_value[u->id] : NULL;
        if (!b) {
            b = &bufs[nb++];
            *b = (Buf){align_up(v->bytes, ALIGN), i, i, -1, v, NULL};
        }
        if (b->end < last[v->id])
            b->end = last[v->id];
        of_value[v->id] = b;
    }
    free(last);

    if (naive) {
        int64_t off = 0;
        for (int i = 0; i < nb; i++) {
            bufs[i].offset = off;
            off += bufs[i].bytes;
        }
    } else {
        /* Greedy placement in a few orders; the smallest arena wins. */
        place_best(bufs, nb);
    }

    /* Write the plan into the IR. */
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.v[i];
        n->scratch_offset = -1;
        if (!n->out->external)
            n->out->offset = of_value[n->out->id]->offset;
    }
    for (int i = 0; i < nb; i++)
        if (bufs[i].scratch_of)
            bufs[i].scratch_of->scratch_offset = bufs[i].offset;
    free(bufs);
    free(of_value);

    MemPlan m = memory_plan_figures(g);
    return xprintf("arena %lld bytes per image (%.2f MiB), lower bound %lld (arena/bound %.3f), naive %lld (%.2f MiB)",
                   (long long)m.arena, m.arena / 1048576.0, (long long)m.lower_bound,
                   m.lower_bound ? (double)m.arena / (double)m.lower_bound : 0.0, (long long)m.naive,
                   m.naive / 1048576.0);
}

char *
plan_memory(Graph *g)
{
    return plan(g, false);
}

char *
plan_naive(Graph *g)
{
    return plan(g, true);
}

MemPlan
memory_plan_figures(const Graph *g)
{
    MemPlan m = {0, 0, 0};
    int nn = g->nodes.n;
    int *last = last_uses(g);
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.v[i];
        int64_t live = align_up(n->scratch, ALIGN);
        m.naive += align_up(n->scratch, ALIGN);
        if (!n->out->external) {
            m.naive += align_up(n->out->bytes, ALIGN);
            if (n->out->offset >= 0 && n->out->offset + align_up(n->out->bytes, ALIGN) > m.arena)
                m.arena = n->out->offset + align_up(n->out->bytes, ALIGN);
        }
        if (n->scratch_offset >= 0 && n->scratch_offset + align_up(n->scratch, ALIGN) > m.arena)
            m.arena = n->scratch_offset + align_up(n->scratch, ALIGN);
        /* Buffers live at step i: produced at or before i, last read at or after i.
         * An elementwise node's output shares its dying input's buffer: count once. */
        for (int j = 0; j <= i; j++) {
            Node *p = g->nodes.v[j];
            Value *v = p->out;
            if (v->external || last[v->id] < i)
                continue;
            /* An in-place output shares its dying input's buffer: count once. */
            if (j == i && in_place_input(n, i, last))
                continue;
            live += align_up(v->bytes, ALIGN);
        }
        if (live > m.lower_bound)
            m.lower_bound = live;
    }
    free(last);
    return m;
}
