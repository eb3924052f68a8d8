/*
 * verify.c — the IR verifier, run after every pass.
 *
 * A failure here is a compiler bug, never a user error: it aborts naming
 * the pass that ran last and what is wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define CHECK(cond, fmt, ...) \
    do { if (!(cond)) bug("IR invalid after %s: " fmt, after, __VA_ARGS__); } while (0)

void
graph_verify(const Graph *g, const char *after)
{
    /* Each value is produced at most once and before any use. */
    int nv = g->values.n;
    char *ready = xcalloc((size_t)nv + 1, 1);
    for (int i = 0; i < g->inputs.n; i++) {
        Value *v = g->inputs.v[i];
        CHECK(v->def == NULL, "input %s has a producer", v->name);
        ready[v->id] = 1;
    }
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        const OpInfo *oi = &op_info[n->op];
        CHECK((unsigned)n->op < OP_COUNT, "node %d has bad op", n->id);
        CHECK(n->nin >= oi->min_in && n->nin <= oi->max_in,
              "%s %s has %d inputs", oi->name, n->name, n->nin);
        for (int k = 0; k < n->nin; k++) {
            Value *v = n->in[k];
            CHECK(v && v->id >= 0 && v->id < nv && g->values.v[v->id] == v,
                  "%s input %d is not a graph value", n->name, k);
            CHECK(ready[v->id], "%s reads a value before it is computed", n->name);
        }
        CHECK(n->out && n->out->def == n, "%s output does not point back", n->name);
        CHECK(!ready[n->out->id], "%s writes a value that already exists", n->name);
        CHECK(n->out->shape.rank >= 2, "%s output has no shape", n->name);
        ready[n->out->id] = 1;
        CHECK(n->op == OP_CONV2D || n->epi == 0, "%s has an epilogue", n->name);
        CHECK(!(n->epi & EPI_ADD) == (n->nin == 1) || n->op != OP_CONV2D,
              "%s: residual input and EPI_ADD disagree", n->name);
        for (int r = 0; r < P_MAX; r++) {
            Tensor *t = n->param[r];
            if (!t)
                continue;
            CHECK(t->id >= 0 && t->id < g->tensors.n && g->tensors.v[t->id] == t,
                  "%s param %d is not a graph tensor", n->name, r);
            for (int k = 0; k < t->shape.rank; k++)
                CHECK(t->shape.dim[k] > 0, "tensor %s has a bad dim", t->name);
        }
        switch (oi->pk) {
        case PK_CONV:
        case PK_LINEAR:
            CHECK(n->param[P_WEIGHT], "%s has no weight", n->name);
            break;
        case PK_BN:
            for (int r = 0; r < P_MAX; r++)
                CHECK(n->param[r], "%s lacks %s", n->name, param_suffix[r]);
            break;
        case PK_AFFINE:
            CHECK(n->param[P_WEIGHT] && n->param[P_BIAS], "%s lacks scale or shift", n->name);
            break;
        case PK_NONE:
            CHECK(!n->param[0] && !n->param[1], "%s has params", n->name);
            break;
        }
        /* Blocked (NCHWc) values: written by a conv scheduled so or a reorder, read by
         * convs (the layout pass checks which read them in place) or a reorder. */
        const Value *o = n->out;
        if (o->layout == LAYOUT_NCHWC) {
            CHECK(o->cblock >= 2 && o->shape.rank == 4 && o->shape.dim[1] % o->cblock == 0,
                  "%s: blocked output of %d channels a block", n->name, o->cblock);
            CHECK(n->op == OP_REORDER || (n->op == OP_CONV2D && n->sched.layout_c == o->cblock),
                  "%s writes a blocked output its schedule does not ask for", n->name);
        } else {
            CHECK(o->cblock == 0, "%s: plain output with a channel block", n->name);
        }
        for (int k = 0; k < n->nin; k++)
            if (n->in[k]->layout == LAYOUT_NCHWC)
                CHECK(n->op == OP_REORDER || (n->op == OP_CONV2D && (k == 0 || o->cblock == n->in[k]->cblock)),
                      "%s reads a blocked input %d it cannot", n->name, k);
        if (n->op == OP_REORDER)
            CHECK((n->in[0]->layout == LAYOUT_NCHWC) != (o->layout == LAYOUT_NCHWC) &&
                      shape_eq(n->in[0]->shape, o->shape),
                  "reorder %s does not change between NCHW and NCHWc", n->name);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(((Node *)g->nodes.v[j])->name, n->name) != 0,
                  "two layers are named %s", n->name);
    }
    for (int i = 0; i < g->outputs.n; i++) {
        Value *v = g->outputs.v[i];
        CHECK(ready[v->id], "output %s is never computed", (char *)g->outnames.v[i]);
        CHECK(v->layout != LAYOUT_NCHWC, "output %s is blocked", (char *)g->outnames.v[i]);
    }
    free(ready);
}
