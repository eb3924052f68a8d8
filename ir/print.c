/*
 * print.c — the stable text form of the IR (visec ... --dump-ir).
 *
 *   model vise_resnet50
 *     input %0 x [N, 3, 224, 224]
 *     %1 [N, 64, 112, 112] = conv2d %0 out=64 kernel=7x7 stride=2x2 pad=3x3  ; l0 weights 0 @line 9
 *     ...
 *     output y = %173
 *
 * Only what is set is printed (layouts other than plain, epilogues,
 * schedules, memory offsets), so dumps of early stages stay short and a
 * pass's effect shows as a small diff.
 */
#include "ir.h"

static void
print_shape(FILE *f, Shape s)
{
    char b[SHAPE_STRLEN];
    fputs(shape_str(s, b, sizeof b), f);
}

static void
print_value(FILE *f, const Value *v)
{
    fprintf(f, "%%%d", v->id);
}

const char *
value_layout(const Value *v, char *buf, size_t size)
{
    if (v->layout != LAYOUT_NCHWC)
        return "";
    snprintf(buf, size, " nchw%dc", v->cblock);
    return buf;
}

static void
print_layout(FILE *f, const Value *v)
{
    char lay[32];
    fputs(value_layout(v, lay, sizeof lay), f);
    if (v->offset >= 0)
        fprintf(f, " @arena+%lld", (long long)v->offset);
}

const char *
attrs_text(const Node *n, AttrStyle style, char *buf, size_t size)
{
    const Attrs *a = &n->a;
    bool conv = n->op == OP_CONV2D, bias = style == ATTRS_COMMENT && n->param[P_BIAS];
    size_t k = 0;
    buf[0] = '\0';
#define ADD(...) (k += k < size ? (size_t)snprintf(buf + k, size - k, __VA_ARGS__) : 0)
    switch (n->op) {
    case OP_CONV2D:
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        if (style == ATTRS_DOT) {
            /* The kernel, the stride where a pool's or a conv's is not 1, a conv's groups. */
            ADD(" %dx%d", a->kh, a->kw);
            if (!conv || a->sh != 1 || a->sw != 1)
                ADD("/%d", a->sh);
            if (conv && a->groups != 1)
                ADD(" g%d", a->groups);
            break;
        }
        if (conv)
            ADD(" out=%lld", (long long)a->out);
        ADD(" kernel=%dx%d stride=%dx%d pad=%dx%d", a->kh, a->kw, a->sh, a->sw, a->ph, a->pw);
        if (conv && (a->dh != 1 || a->dw != 1))
            ADD(" dilation=%dx%d", a->dh, a->dw);
        if (conv && a->groups != 1)
            ADD(" groups=%d", a->groups);
        if (conv && bias)
            ADD(" bias");
        if (a->ceil_mode)
            ADD(" ceil_mode");
        break;
    case OP_BATCHNORM:
        if (style != ATTRS_DOT)
            ADD(" eps=%g", a->eps);
        break;
    case OP_LINEAR:
        if (style != ATTRS_DOT)
            ADD(" out=%lld%s", (long long)a->out, bias ? " bias" : "");
        break;
    default:
        break;
    }
    if (style == ATTRS_COMMENT && k == 0)
        ADD(" -");
    if (n->epi & EPI_ADD)
        ADD(" +add");
    if (n->epi & EPI_RELU)
        ADD(" +relu");
#undef ADD
    /* A comment's text starts at its first word, the others at a space. */
    return style == ATTRS_COMMENT ? buf + 1 : buf;
}

static const char *const algo_names[ALGO_COUNT] = {
#define ALGO(id, name, detail) [ALGO_##id] = name,
#include "algos.h"
#undef ALGO
};
static const char *const order_names[ORDER_COUNT] = {"none", "co,pix", "pix,co"};
static const char *const parallel_names[PAR_COUNT] = {"unset", "none", "batch", "inside"};
static const char *const lanes_names[LANES_COUNT] = {"none", "pix", "co"};

const char *
algo_name(Algo a)
{
    return (unsigned)a < ALGO_COUNT ? algo_names[a] : "?";
}

const char *
order_name(LoopOrder o)
{
    return (unsigned)o < ORDER_COUNT ? order_names[o] : "?";
}

const char *
lanes_name(Lanes l)
{
    return (unsigned)l < LANES_COUNT ? lanes_names[l] : "?";
}

char *
layout_text(int layout_c)
{
    return layout_c ? xprintf("nchw%dc", layout_c) : xprintf("nchw");
}

const char *
parallel_name(ParAxes p)
{
    return (unsigned)p < PAR_COUNT ? parallel_names[p] : "?";
}

static void
print_schedule(FILE *f, const Node *n)
{
    const Schedule *s = &n->sched;
    if (s->algo == ALGO_NONE)
        return;
    fprintf(f, "\n      schedule algo=%s", algo_name(s->algo));
    if (n->op == OP_CONV2D)
        fprintf(f, " reg=%dx%d tile_k=%d tile_pix=%d order=%s lanes=%s", s->reg_co, s->reg_pix, s->tile_k, s->tile_pix,
                order_name(s->order), lanes_name(s->lanes));
    if (s->layout_c)
        fprintf(f, " layout=nchw%dc", s->layout_c);
    fprintf(f, " parallel=%s", parallel_name(s->parallel));
    if (n->scratch)
        fprintf(f, " scratch=%lld", (long long)n->scratch);
}

void
graph_print(FILE *f, const Graph *g)
{
    fprintf(f, "model %s\n", g->name);
    for (int i = 0; i < g->inputs.n; i++) {
        const Value *v = g->inputs.v[i];
        fprintf(f, "  input ");
        print_value(f, v);
        fprintf(f, " %s ", v->name);
        print_shape(f, v->shape);
        print_layout(f, v);
        fputc('\n', f);
    }
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        fprintf(f, "  ");
        print_value(f, n->out);
        fputc(' ', f);
        print_shape(f, n->out->shape);
        print_layout(f, n->out);
        fprintf(f, " = %s", op_name(n->op));
        for (int k = 0; k < n->nin; k++) {
            fputc(k ? ',' : ' ', f);
            print_value(f, n->in[k]);
        }
        char at[256];
        fputs(attrs_text(n, ATTRS_DUMP, at, sizeof at), f);
        fprintf(f, "  ; %s", n->name);
        if (n->loc.src)
            fprintf(f, " line %d", n->loc.line);
        if (n->trace)
            fprintf(f, " in %s", n->trace);
        for (int r = 0; r < P_MAX; r++)
            if (n->param[r])
                fprintf(f, "\n      %s = %s", param_suffix[r], n->param[r]->name);
        if (n->origin)
            fprintf(f, "\n      origin: %s", n->origin);
        print_schedule(f, n);
        fputc('\n', f);
    }
    for (int i = 0; i < g->outputs.n; i++) {
        fprintf(f, "  output %s = ", (const char *)g->outnames.v[i]);
        print_value(f, g->outputs.v[i]);
        fputc('\n', f);
    }
}
