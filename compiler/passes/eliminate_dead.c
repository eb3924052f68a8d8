/*
 * eliminate_dead.c — nodes whose results nothing reads, and unused weights.
 *
 * Walks the schedule backwards so a whole dead chain goes in one sweep.
 * Tensors no node references any more are released: they are not emitted
 * into the generated code or the weights file.
 */
#include <stdlib.h>

#include "passes.h"

char *
eliminate_dead(Graph *g)
{
    int nodes = 0, tensors = 0;
    int64_t bytes = 0;
    graph_recount(g);
    for (int i = g->nodes.n - 1; i >= 0; i--) {
        Node *n = g->nodes.v[i];
        if (n->out->nuses == 0) {
            graph_remove_node(g, n);
            nodes++;
        }
    }
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (t->refs == 0 && t->data) {
            bytes += shape_numel(t->shape, 1) * (int64_t)sizeof(float);
            free(t->data);
            t->data = NULL;
            tensors++;
        }
    }
    if (!nodes && !tensors)
        return NULL;
    return xprintf("%d dead nodes removed, %d unused tensors dropped (%.1f MiB)", nodes, tensors,
                   bytes / 1048576.0);
}
