/*
 * dot.c — the graph as Graphviz DOT (visec graph), for looking at it.
 *
 * One box per node: layer name, op with its main attributes and fused
 * epilogues, output shape, and — for nodes a pass made or changed — the
 * origin ("conv 4.0.conv3 (line 12) + bn 4.0.bn3 (line 12, folded)"),
 * drawn filled.  Graph inputs and outputs are ellipses; a fused residual
 * input is a dashed edge labelled "+add".  The output depends only on the
 * graph, so it diffs well between passes.
 */
#include "ir.h"

/* s inside a DOT double-quoted string ("\n" is a line break there). */
static void
dot_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fputc('?', f);
        else
            fputc(*p, f);
    }
}

void
graph_dot(FILE *f, const Graph *g, const char *stage)
{
    char b[SHAPE_STRLEN];
    fprintf(f, "digraph \"");
    dot_text(f, g->name);
    fprintf(f, "\" {\n  label=\"");
    dot_text(f, g->name);
    fprintf(f, " (%s)\";\n  labelloc=t;\n  rankdir=TB;\n", stage);
    fprintf(f, "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
    fprintf(f, "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (int i = 0; i < g->inputs.n; i++) {
        const Value *v = g->inputs.v[i];
        fprintf(f, "  v%d [shape=ellipse, label=\"input ", v->id);
        dot_text(f, v->name ? v->name : "?");
        fprintf(f, "\\n%s\"];\n", shape_str(v->shape, b, sizeof b));
    }
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        fprintf(f, "  n%d [label=\"", n->id);
        dot_text(f, n->name ? n->name : "?");
        fprintf(f, "\\n");
        char at[256], lay[32];
        fprintf(f, "%s%s", op_name(n->op), attrs_text(n, ATTRS_DOT, at, sizeof at));
        fprintf(f, "\\n%s%s", shape_str(n->out->shape, b, sizeof b), value_layout(n->out, lay, sizeof lay));
        if (n->origin) {
            fprintf(f, "\\n");
            dot_text(f, n->origin);
        }
        fprintf(f, "\"%s];\n", n->origin ? ", style=filled, fillcolor=\"#ffe6b3\"" : "");
        for (int k = 0; k < n->nin; k++) {
            const Value *v = n->in[k];
            if (v->def)
                fprintf(f, "  n%d -> n%d", v->def->id, n->id);
            else
                fprintf(f, "  v%d -> n%d", v->id, n->id);
            if (k == 1 && (n->epi & EPI_ADD))
                fprintf(f, " [style=dashed, label=\"+add\"]");
            fprintf(f, ";\n");
        }
    }
    for (int i = 0; i < g->outputs.n; i++) {
        const Value *v = g->outputs.v[i];
        fprintf(f, "  out%d [shape=ellipse, label=\"output ", i);
        dot_text(f, g->outnames.v[i]);
        fprintf(f, "\\n%s\"];\n", shape_str(v->shape, b, sizeof b));
        if (v->def)
            fprintf(f, "  n%d -> out%d;\n", v->def->id, i);
        else
            fprintf(f, "  v%d -> out%d;\n", v->id, i);
    }
    fprintf(f, "}\n");
}
