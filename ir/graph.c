/*
 * graph.c — constructors for graphs, values, tensors and nodes; shapes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

const OpInfo op_info[OP_COUNT] = {
#define OP(id, name, mn, mx, pk) [OP_##id] = {name, mn, mx, pk},
#include "ops.h"
#undef OP
};

const char *const param_suffix[P_MAX] = {
    [P_WEIGHT] = "weight",
    [P_BIAS] = "bias",
    [P_MEAN] = "running_mean",
    [P_VAR] = "running_var",
};

const char *
op_name(Op op)
{
    if ((unsigned)op >= OP_COUNT)
        bug("bad op %d", (int)op);
    return op_info[op].name;
}

bool
op_is_unary(Op op)
{
    switch (op) {
    VISEC_UNARY_OPS(UNARY_CASE)
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- shapes */

Shape
shape_make(int rank, const int64_t *dims)
{
    if (rank < 0 || rank > IR_MAXRANK)
        bug("rank %d out of range", rank);
    Shape s = {.rank = rank};
    for (int i = 0; i < rank; i++)
        s.dim[i] = dims[i];
    return s;
}

Shape
shape4(int64_t n, int64_t c, int64_t h, int64_t w)
{
    return (Shape){4, {n, c, h, w}};
}

bool
shape_eq(Shape a, Shape b)
{
    if (a.rank != b.rank)
        return false;
    for (int i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i])
            return false;
    return true;
}

int64_t
shape_numel(Shape s, int64_t batch)
{
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++)
        n *= s.dim[i] == DIM_N ? batch : s.dim[i];
    return n;
}

char *
shape_str(Shape s, char *buf, size_t size)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, size - k, "[");
    for (int i = 0; i < s.rank && k < size; i++) {
        if (s.dim[i] == DIM_N)
            k += (size_t)snprintf(buf + k, size - k, "%sN", i ? ", " : "");
        else
            k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? ", " : "",
                                  (long long)s.dim[i]);
    }
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

/* ---------------------------------------------------------------- attrs */

Attrs
attrs_default(Op op)
{
    (void)op;
    return (Attrs){
        .out = 0,
        .kh = 1, .kw = 1,
        .sh = 1, .sw = 1,
        .ph = 0, .pw = 0,
        .dh = 1, .dw = 1,
        .groups = 1,
        .bias = false,
        .ceil_mode = false,
        .eps = 1e-5,
    };
}

/* ---------------------------------------------------------------- graph */

Graph *
graph_new(const char *name)
{
    Graph *g = xcalloc(1, sizeof *g);
    g->name = xstrdup(name);
    return g;
}

static void
node_free(Node *n)
{
    free(n->trace);
    free(n->prefix);
    free(n->name);
    free(n->origin);
    free(n);
}

void
graph_free(Graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nodes.n; i++)
        node_free(g->nodes.v[i]);
    for (int i = 0; i < g->values.n; i++) {
        Value *v = g->values.v[i];
        free(v->name);
        free(v);
    }
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        free(t->name);
        free(t->data);
        free(t->origin);
        free(t);
    }
    for (int i = 0; i < g->outnames.n; i++)
        free(g->outnames.v[i]);
    free(g->nodes.v);
    free(g->values.v);
    free(g->tensors.v);
    free(g->inputs.v);
    free(g->outputs.v);
    free(g->outnames.v);
    free(g->name);
    free(g);
}

Value *
graph_value(Graph *g, Shape s)
{
    Value *v = xcalloc(1, sizeof *v);
    v->id = g->values.n;
    v->shape = s;
    v->layout = s.rank == 2 ? LAYOUT_NC : LAYOUT_NCHW;
    v->offset = -1;
    vec_push(&g->values, v);
    return v;
}

Value *
graph_input(Graph *g, const char *name, Shape s)
{
    Value *v = graph_value(g, s);
    v->name = xstrdup(name);
    vec_push(&g->inputs, v);
    return v;
}

void
graph_output(Graph *g, const char *name, Value *v)
{
    vec_push(&g->outputs, v);
    vec_push(&g->outnames, xstrdup(name));
    v->nuses++;
}

Tensor *
graph_tensor(Graph *g, const char *name, Shape s, Loc loc)
{
    Tensor *t = xcalloc(1, sizeof *t);
    t->id = g->tensors.n;
    t->name = xstrdup(name);
    /* Names are unique: a second tensor made under one name gets ".2", ... */
    for (int k = 2; graph_find_tensor(g, t->name); k++) {
        free(t->name);
        t->name = xprintf("%s.%d", name, k);
    }
    t->shape = s;
    t->loc = loc;
    t->offset = -1;
    vec_push(&g->tensors, t);
    return t;
}

Tensor *
graph_find_tensor(const Graph *g, const char *name)
{
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

/* A C-identifier-safe, unique layer name: "4.0.conv1" -> "l4_0_conv1". */
static char *
layer_name(Graph *g, Op op, const char *prefix, int id)
{
    char *s;
    if (prefix && *prefix) {
        size_t n = strlen(prefix);
        s = xmalloc(n + 2);
        char *q = s;
        if (!isalpha((unsigned char)prefix[0]))
            *q++ = 'l';
        for (size_t i = 0; i < n; i++)
            *q++ = isalnum((unsigned char)prefix[i]) ? prefix[i] : '_';
        *q = '\0';
    } else {
        s = xprintf("%s_%d", op_name(op), id);
    }
    for (int i = 0; i < g->nodes.n; i++) {
        Node *m = g->nodes.v[i];
        if (strcmp(m->name, s) == 0) {
            char *t = xprintf("%s_%d", s, id);
            free(s);
            return t;
        }
    }
    return s;
}

Node *
graph_node(Graph *g, Op op, Loc loc, Value **in, int nin, const Attrs *a,
           const char *prefix)
{
    const OpInfo *oi = &op_info[op];
    if (nin < oi->min_in || nin > oi->max_in)
        bug("%s takes %d..%d inputs, got %d", oi->name, oi->min_in, oi->max_in, nin);
    Node *n = xcalloc(1, sizeof *n);
    n->id = g->next_node_id++;
    n->op = op;
    n->loc = loc;
    n->prefix = xstrdup(prefix);
    n->name = layer_name(g, op, prefix, n->id);
    for (int i = 0; i < nin; i++) {
        n->in[i] = in[i];
        in[i]->nuses++;
    }
    n->nin = nin;
    n->a = a ? *a : attrs_default(op);
    n->scratch_offset = -1;
    n->out = graph_value(g, (Shape){0});
    n->out->def = n;
    vec_push(&g->nodes, n);
    return n;
}

int
graph_nnodes(const Graph *g)
{
    return g->nodes.n;
}

void
graph_recount(Graph *g)
{
    for (int i = 0; i < g->values.n; i++)
        ((Value *)g->values.v[i])->nuses = 0;
    for (int i = 0; i < g->tensors.n; i++)
        ((Tensor *)g->tensors.v[i])->refs = 0;
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        for (int k = 0; k < n->nin; k++)
            n->in[k]->nuses++;
        for (int k = 0; k < P_MAX; k++)
            if (n->param[k])
                n->param[k]->refs++;
    }
    for (int i = 0; i < g->outputs.n; i++)
        ((Value *)g->outputs.v[i])->nuses++;
}

int
graph_node_index(const Graph *g, const Node *n)
{
    for (int i = 0; i < g->nodes.n; i++)
        if (g->nodes.v[i] == n)
            return i;
    bug("node %s is not in the graph", n->name);
}

void
graph_replace_uses(Graph *g, Value *from, Value *to)
{
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] == from) {
                n->in[k] = to;
                from->nuses--;
                to->nuses++;
            }
    }
    for (int i = 0; i < g->outputs.n; i++)
        if (g->outputs.v[i] == from) {
            g->outputs.v[i] = to;
            from->nuses--;
            to->nuses++;
        }
}

void
graph_remove_node(Graph *g, Node *n)
{
    int i = graph_node_index(g, n);
    memmove(&g->nodes.v[i], &g->nodes.v[i + 1], (size_t)(g->nodes.n - i - 1) * sizeof(void *));
    g->nodes.n--;
    for (int k = 0; k < n->nin; k++)
        n->in[k]->nuses--;
    for (int r = 0; r < P_MAX; r++)
        if (n->param[r])
            n->param[r]->refs--;
    n->out->def = NULL;
    node_free(n);
}

void
graph_move_node(Graph *g, Node *n, int to)
{
    int i = graph_node_index(g, n);
    if (to < 0 || to >= g->nodes.n)
        bug("move of %s to %d out of range", n->name, to);
    if (i < to)
        memmove(&g->nodes.v[i], &g->nodes.v[i + 1], (size_t)(to - i) * sizeof(void *));
    else if (i > to)
        memmove(&g->nodes.v[to + 1], &g->nodes.v[to], (size_t)(i - to) * sizeof(void *));
    g->nodes.v[to] = n;
}

void
node_add_origin(Node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *part = xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(part, (size_t)len + 1, fmt, ap);
    va_end(ap);
    char *s = n->origin ? xprintf("%s + %s", n->origin, part) : xstrdup(part);
    free(part);
    free(n->origin);
    n->origin = s;
}

float
tensor_conv_weight(const Tensor *t, int groups, int64_t co, int64_t k)
{
    if (t->from)
        return tensor_conv_weight(t->from, groups, co, k);
    if (!t->pack_mr)
        return t->data[co * (shape_numel(t->shape, 1) / t->shape.dim[0]) + k];
    int64_t cout = t->logical.dim[0], cout_g = cout / groups;
    int64_t K = shape_numel(t->logical, 1) / cout, mr = t->pack_mr;
    int64_t tiles = (cout_g + mr - 1) / mr, g = co / cout_g, c = co % cout_g;
    return t->data[((g * tiles + c / mr) * K + k) * mr + c % mr];
}
