/*
 * layout.c — the memory layout of every activation, from the schedules.
 *
 * A conv whose schedule says layout = nchwNc writes its output blocked in
 * N channels ([N][C / c][H][W][c], c the target's vector lanes): its
 * channel-lane kernel then stores each accumulator vector whole, where a
 * plain output takes a transpose.  Everything else stays plain NCHW, as the
 * API is.  Every reader gets the layout it can read:
 *
 *   - in[0] of a conv that reads a blocked input in place
 *     (sched_reads_blocked: one that copies its input first, into an im2col
 *     panel, Winograd's input tiles or direct's padded copy, or a 1x1 gemm
 *     in channel lanes) takes either layout;
 *   - the residual in[1] of a conv must be in the conv's output layout;
 *   - every other reader, and every graph output, takes plain NCHW.
 *
 * Where a reader's layout differs from its value's, a reorder node goes
 * right before the first such reader; later readers share it.  So the API
 * stays plain NCHW, like PyTorch's, and the conversions are explicit nodes
 * that --dump-after and the generated code's comments show.
 *
 * Disabled (layout_plain), every schedule's layout becomes plain NCHW.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

typedef struct Reorders {
    Node **to_plain;    /* per value id: its reorder to NCHW, NULL none yet */
    Node **to_blocked;  /* per value id: its reorder to NCHWc, NULL none yet */
    int made;
} Reorders;

/* "l4_0_conv3_nchw", unique among the layers. */
static char *
reorder_name(Graph *g, const Value *v, int c, int id)
{
    char *s = c ? xprintf("%s_nchw%dc", v->def ? v->def->name : v->name, c)
                : xprintf("%s_nchw", v->def ? v->def->name : v->name);
    for (int i = 0; i < g->nodes.n; i++)
        if (!strcmp(((Node *)g->nodes.v[i])->name, s)) {
            char *t = xprintf("%s_%d", s, id);
            free(s);
            return t;
        }
    return s;
}

/* The reorder of v into layout c (0 plain) for reader (NULL: a graph output),
 * made before position at if new. */
static Value *
reorder(Graph *g, Reorders *r, Value *v, int c, int at, const Node *reader)
{
    Node **slot = c ? &r->to_blocked[v->id] : &r->to_plain[v->id];
    if (*slot)
        return (*slot)->out;
    Loc loc = v->def ? v->def->loc : reader ? reader->loc : (Loc){0};
    char *name = reorder_name(g, v, c, g->next_node_id);
    Node *n = graph_node(g, OP_REORDER, loc, &v, 1, NULL, NULL);
    free(n->name);
    n->name = name;
    n->trace = xstrdup(v->def ? v->def->trace : NULL);
    const char *who = v->def ? v->def->name : v->name, *for_ = reader ? reader->name : "the graph output";
    if (c)
        node_add_origin(n, "layout: %s's output, nchw -> nchw%dc for %s", who, c, for_);
    else
        node_add_origin(n, "layout: %s's output, nchw%dc -> nchw for %s", who, v->cblock, for_);
    n->out->shape = v->shape;
    n->out->layout = c ? LAYOUT_NCHWC : LAYOUT_NCHW;
    n->out->cblock = c;
    n->sched = sched_trivial(n);
    graph_move_node(g, n, at);
    *slot = n;
    r->made++;
    return n->out;
}

char *
layout(Graph *g)
{
    int blocked = 0, c = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (n->sched.layout_c) {
            n->out->layout = LAYOUT_NCHWC;
            n->out->cblock = c = n->sched.layout_c;
            blocked++;
        }
    }
    if (!blocked)
        return NULL;
    /* only the values there before the pass are ever reordered: a reorder's
     * output goes to the reader it was made for and is not looked at again */
    size_t nv = (size_t)g->values.n;
    Reorders r = {xcalloc(nv, sizeof(Node *)), xcalloc(nv, sizeof(Node *)), 0};
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        if (n->op == OP_REORDER)
            continue;
        for (int k = 0; k < n->nin; k++) {
            Value *v = n->in[k];
            int want;
            if (k == 1)
                want = n->out->cblock;      /* the residual: in the output's layout */
            else if (sched_reads_blocked(n, &n->sched))
                continue;                   /* either layout */
            else
                want = 0;
            if (v->cblock == want)
                continue;
            int before = g->nodes.n;
            n->in[k] = reorder(g, &r, v, want, i, n);
            i += g->nodes.n - before;       /* n moved one down if a reorder was made */
        }
    }
    for (int i = 0; i < g->outputs.n; i++) {
        Value *v = g->outputs.v[i];
        if (v->layout == LAYOUT_NCHWC)
            g->outputs.v[i] = reorder(g, &r, v, 0, g->nodes.n, NULL);
    }
    free(r.to_plain);
    free(r.to_blocked);
    return xprintf("%d convolution output%s blocked (nchw%dc), %d reorder%s", blocked, blocked > 1 ? "s" : "", c,
                   r.made, r.made == 1 ? "" : "s");
}

char *
layout_plain(Graph *g)
{
    int n = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *m = g->nodes.v[i];
        n += m->sched.layout_c != 0;
        m->sched.layout_c = 0;
    }
    return n ? xprintf("%d blocked layout%s of the schedule made plain", n, n > 1 ? "s" : "") : NULL;
}
