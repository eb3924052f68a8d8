/*
 * sched_file.c — schedule files: the grammar's actions, applying a file to
 * a graph, and writing one (docs/schedules.md).
 *
 * Reading checks what the file alone can tell (keys, value forms, names of
 * algorithms, orders and parallel axes); applying checks what needs the
 * graph (patterns that match no layer, values illegal for a layer, with
 * the legal range), each error at the value or pattern that caused it.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sched_parse.h"

static const char *const field_names[SF_NFIELDS] = {"algo", "reg", "tile_k", "order", "parallel", "lanes", "tile_pix",
                                                          "layout"};

/* ---------------------------------------------------------------- actions */

void
sp_value_free(SchedValue *v)
{
    free(v->name);
    free(v->name2);
    v->name = v->name2 = NULL;
}

void
sp_target(SchedParser *p, char *name, Loc loc)
{
    if (p->f->target) {
        error_at(p->d, loc, "a second 'target' line (the first is on line %d)", p->f->target_loc.line);
        free(name);
        return;
    }
    if (!target_find(name))
        error_at(p->d, loc, "unknown target '%s' (targets: %s)", name, target_names());
    p->f->target = name;
    p->f->target_loc = loc;
}

void
sp_begin(SchedParser *p, char *pattern, Loc loc)
{
    SchedEntry *e = xcalloc(1, sizeof *e);
    e->pattern = pattern;
    e->loc = loc;
    vec_push(&p->f->entries, e);
    p->cur = e;
}

void
sp_end(SchedParser *p)
{
    p->cur = NULL;
}

/* Is v of the given kind?  If not, "KEY takes EXPECTED" at the value. */
static bool
value_is(SchedParser *p, const char *key, const SchedValue *v, SchedValueKind kind, const char *expected)
{
    if (v->kind == kind)
        return true;
    error_at(p->d, v->loc, "%s takes %s", key, expected);
    return false;
}

/* What a schedule file's error adds after an algorithm's name (ir/algos.h). */
static const char *const algo_details[ALGO_COUNT] = {
#define ALGO(id, name, detail) [ALGO_##id] = detail,
#include "algos.h"
#undef ALGO
};

/* The algorithm a value names: a name of ir/algos.h ("gemm"), or a family's
 * name called with a number ("winograd(2)"); false after an error. */
static bool
set_algo(SchedParser *p, const SchedValue *v, Schedule *s)
{
    char *text = v->kind == SV_NAME ? xstrdup(v->name)
                 : v->kind == SV_CALL ? xprintf("%s(%d)", v->name, v->i) : xstrdup("");
    Algo found = ALGO_NONE;
    for (int a = ALGO_NONE + 1; a < ALGO_COUNT; a++)
        if (!strcmp(text, algo_name((Algo)a)))
            found = (Algo)a;
    free(text);
    if (found != ALGO_NONE) {
        s->algo = found;
        return true;
    }
    /* A family's member it does not have: name the members. */
    char list[256] = "";
    size_t k = 0, len = v->kind == SV_CALL ? strlen(v->name) : 0;
    for (int a = ALGO_NONE + 1; a < ALGO_COUNT && len; a++) {
        const char *name = algo_name((Algo)a);
        if (!strncmp(name, v->name, len) && name[len] == '(' && k < sizeof list)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s, %s", k ? ", and " : "", name,
                                  algo_details[a]);
    }
    if (k) {
        error_at(p->d, v->loc, "%s(%d) is not implemented: the %c%s algorithms are %s", v->name, v->i,
                 toupper((unsigned char)v->name[0]), v->name + 1, list);
        return false;
    }
    /* The algorithms of a conv first, plain (every other op's) last. */
    k = 0;
    for (int a = ALGO_PLAIN + 1; a <= ALGO_COUNT && k < sizeof list; a++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "",
                              algo_name(a == ALGO_COUNT ? ALGO_PLAIN : (Algo)a));
    error_at(p->d, v->loc, "unknown algorithm (algorithms: %s)", list);
    return false;
}

/* One field: its key known, its value of the right form and a known name. */
void
sp_field(SchedParser *p, char *key, Loc key_loc, SchedValue v)
{
    SchedEntry *e = p->cur;
    if (v.loc.line == p->lex_error_line)
        e = NULL;       /* its value had a lexical error: reported already */
    int bit = -1;
    for (int i = 0; i < SF_NFIELDS; i++)
        if (!strcmp(key, field_names[i]))
            bit = i;
    if (!e)
        goto done;      /* inside an entry whose header was broken */
    if (bit < 0) {
        error_at(p->d, key_loc, "unknown key '%s' (keys: algo, reg, tile_k, tile_pix, order, lanes, layout, parallel)", key);
        goto done;
    }
    Schedule *s = &e->s;
    switch (1u << bit) {
    case SF_ALGO:
        if (!set_algo(p, &v, s))
            goto done;
        break;
    case SF_REG:
        if (v.kind != SV_BLOCK || (v.name2 && strcmp(v.name2, "x"))) {
            error_at(p->d, v.loc, "reg takes output channels x pixels, e.g. 6x64");
            goto done;
        }
        s->reg_co = v.i;
        s->reg_pix = v.j;
        break;
    case SF_TILE_K:
        if (!value_is(p, "tile_k", &v, SV_INT, "a whole number of reduction rows (0: all)"))
            goto done;
        s->tile_k = v.i;
        break;
    case SF_TILE_PIX:
        if (!value_is(p, "tile_pix", &v, SV_INT, "a whole number of pixels, a multiple of the block's (0: one tile)"))
            goto done;
        s->tile_pix = v.i;
        break;
    case SF_ORDER:
        if (v.kind == SV_PAIR && !strcmp(v.name, "co") && !strcmp(v.name2, "pix")) {
            s->order = ORDER_CO_PIX;
        } else if (v.kind == SV_PAIR && !strcmp(v.name, "pix") && !strcmp(v.name2, "co")) {
            s->order = ORDER_PIX_CO;
        } else {
            error_at(p->d, v.loc, "order takes 'co,pix' (channel blocks outside) or 'pix,co' (pixel "
                     "tiles outside)");
            goto done;
        }
        break;
    case SF_LANES:
        if (!value_is(p, "lanes", &v, SV_NAME, "pix or co"))
            goto done;
        if (!strcmp(v.name, "pix"))
            s->lanes = LANES_PIX;
        else if (!strcmp(v.name, "co"))
            s->lanes = LANES_CO;
        else {
            error_at(p->d, v.loc, "unknown lanes '%s' (pix: pixels in the vector lanes, co: output channels)",
                     v.name);
            goto done;
        }
        break;
    case SF_LAYOUT: {
        if (!value_is(p, "layout", &v, SV_NAME, "nchw or nchwNc (blocked in N channels, e.g. nchw16c)"))
            goto done;
        /* nchw, or nchw, 1 to 5 digits worth at least 2, c */
        size_t digits = strncmp(v.name, "nchw", 4) ? 0 : strspn(v.name + 4, "0123456789");
        if (!strcmp(v.name, "nchw")) {
            s->layout_c = 0;
        } else if (digits >= 1 && digits <= 5 && !strcmp(v.name + 4 + digits, "c") && atoi(v.name + 4) >= 2) {
            s->layout_c = atoi(v.name + 4);
        } else {
            error_at(p->d, v.loc, "unknown layout '%s' (nchw: plain; nchwNc: blocked in N channels, N the "
                     "target's vector lanes, e.g. nchw16c)", v.name);
            goto done;
        }
        break;
    }
    case SF_PARALLEL:
        if (!value_is(p, "parallel", &v, SV_NAME, "none, batch or inside"))
            goto done;
        if (!strcmp(v.name, "none"))
            s->parallel = PAR_NONE;
        else if (!strcmp(v.name, "batch"))
            s->parallel = PAR_BATCH;
        else if (!strcmp(v.name, "inside"))
            s->parallel = PAR_INSIDE;
        else {
            error_at(p->d, v.loc, "unknown parallel axes '%s' (none, batch or inside)", v.name);
            goto done;
        }
        break;
    }
    e->set |= 1u << bit;
    e->field_loc[bit] = v.loc;
done:
    free(key);
    sp_value_free(&v);
}

/* ---------------------------------------------------------------- files */

SchedFile *
schedfile_read_string(const char *path, const char *text, Diag *d)
{
    Source *src = source_from_string(path, text);
    SchedFile *f = schedfile_parse(src, d);
    if (!f) {
        source_free(src);
        return NULL;
    }
    f->src = src;
    return f;
}

SchedFile *
schedfile_read(const char *path, Diag *d)
{
    Source *src = source_read(path, d);
    if (!src)
        return NULL;
    SchedFile *f = schedfile_parse(src, d);
    if (!f) {
        source_free(src);
        return NULL;
    }
    f->src = src;
    return f;
}

void
schedfile_free(SchedFile *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->entries.n; i++) {
        SchedEntry *e = f->entries.v[i];
        free(e->pattern);
        free(e);
    }
    free(f->entries.v);
    free(f->target);
    source_free(f->src);
    free(f);
}

/* ---------------------------------------------------------------- apply */

bool
sched_glob(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '*') {
            while (p[1] == '*')
                p++;
            if (!p[1])
                return true;
            for (; *s; s++)
                if (sched_glob(p + 1, s))
                    return true;
            return sched_glob(p + 1, s);
        }
        if (!*s || (*p != '?' && *p != *s))
            return false;
    }
    return !*s;
}

static bool
is_pattern(const char *s)
{
    return !strcmp(s, "default") || strpbrk(s, "*?");
}

/* Does the entry set field bit of node n?  Patterns and default set the
 * block fields of convolutions only (and algo only where it is legal for the
 * op kind); an exact name sets what it says. */
static bool
entry_sets(const SchedEntry *e, const Node *n, unsigned bit)
{
    if (!(e->set & bit))
        return false;
    if (!is_pattern(e->pattern))
        return true;
    if (bit == SF_PARALLEL)
        return true;
    if (bit == SF_ALGO)
        return (n->op == OP_CONV2D) == (e->s.algo != ALGO_PLAIN);
    return n->op == OP_CONV2D;
}

static bool
entry_matches(const SchedEntry *e, const Node *n)
{
    return !strcmp(e->pattern, "default") || sched_glob(e->pattern, n->name);
}

/* Reported problems, so one (entry, field) is reported once with a count. */
typedef struct Problem {
    const SchedEntry *e;
    int bit;
    const Node *first;  /* the first layer it hit */
    char *why;          /* for that layer */
    int count;          /* layers it hit */
} Problem;

static void
note_problem(PtrVec *probs, const SchedEntry *e, int bit, const Node *n, char *why)
{
    for (int i = 0; i < probs->n; i++) {
        Problem *p = probs->v[i];
        if (p->e == e && p->bit == bit) {
            p->count++;
            free(why);
            return;
        }
    }
    Problem *p = xcalloc(1, sizeof *p);
    *p = (Problem){e, bit, n, why, 1};
    vec_push(probs, p);
}

static int
bit_index(unsigned bit)
{
    int i = 0;
    while (bit > 1u) {
        bit >>= 1;
        i++;
    }
    return i;
}

/* An error found while applying, reported later in file order. */
typedef struct Found {
    Loc at;
    char *msg;
} Found;

static int
found_cmp(const void *a, const void *b)
{
    const Found *x = a, *y = b;
    if (x->at.line != y->at.line)
        return x->at.line < y->at.line ? -1 : 1;
    return x->at.col < y->at.col ? -1 : x->at.col > y->at.col;
}

bool
schedfile_apply(const SchedFile *f, Graph *g, const Target *t, bool can_pack, Diag *d)
{
    int errors = d->nerrors;
    if (f->target && strcmp(f->target, t->name))
        error_at(d, f->target_loc, "this schedule is for target %s, not %s (compile with --target %s)",
                 f->target, t->name, f->target);
    int *matched = xcalloc((size_t)f->entries.n + 1, sizeof *matched);
    PtrVec probs = {0};
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = g->nodes.v[i];
        /* Which entry last sets each field of n. */
        const SchedEntry *by[SF_NFIELDS] = {0};
        for (int k = 0; k < f->entries.n; k++) {
            const SchedEntry *e = f->entries.v[k];
            if (!entry_matches(e, n))
                continue;
            matched[k]++;
            for (int b = 0; b < SF_NFIELDS; b++)
                if (entry_sets(e, n, 1u << b))
                    by[b] = e;
        }
        Schedule s = n->sched;
        /* A new algorithm brings its own defaults for the fields not set. */
        if (by[0]) {
            const char *why = sched_algo_illegal(n, t, by[0]->s.algo, can_pack);
            if (why) {
                note_problem(&probs, by[0], 0, n, xprintf("%s", why));
                continue;
            }
            if (by[0]->s.algo != s.algo)
                s = sched_default_for(n, t, by[0]->s.algo, can_pack);
        }
        for (int b = 1; b < SF_NFIELDS; b++) {
            if (!by[b])
                continue;
            if (n->op != OP_CONV2D && b != bit_index(SF_PARALLEL)) {
                note_problem(&probs, by[b], b, n,
                             xprintf("a %s has no %s: only convolutions do", op_name(n->op),
                                     b == 1   ? "register block"
                                     : b == 2 ? "reduction tiles"
                                     : b == 3 ? "loop order"
                                     : b == 5 ? "choice of vector lanes"
                                     : b == 7 ? "choice of layout"
                                              : "pixel tile groups"));
                continue;
            }
            const Schedule *v = &by[b]->s;
            switch (1u << b) {
            case SF_REG:
                s.reg_co = v->reg_co;
                s.reg_pix = v->reg_pix;
                break;
            case SF_TILE_K:
                s.tile_k = v->tile_k;
                break;
            case SF_ORDER:
                s.order = v->order;
                break;
            case SF_PARALLEL:
                s.parallel = v->parallel;
                break;
            case SF_LANES:
                s.lanes = v->lanes;
                break;
            case SF_TILE_PIX:
                s.tile_pix = v->tile_pix;
                break;
            case SF_LAYOUT:
                s.layout_c = v->layout_c;
                break;
            }
        }
        /* unset, it follows the fields set (a new reg or order) */
        if (n->op == OP_CONV2D && !by[bit_index(SF_TILE_PIX)])
            s.tile_pix = sched_default_tile_pix(n, &s);
        unsigned field = 0;
        char *bad = sched_check(n, t, &s, can_pack, &field);
        if (bad) {
            int b = bit_index(field);
            if (by[b])
                note_problem(&probs, by[b], b, n, bad);
            else if (by[0])
                note_problem(&probs, by[0], 0, n, bad);
            else
                bug("default schedule of %s is illegal: %s", n->name, bad);
            continue;
        }
        n->sched = s;
    }
    /* Every error, then reported in file order. */
    Found *found = xcalloc((size_t)(probs.n + f->entries.n) + 1, sizeof *found);
    int nfound = 0;
    for (int i = 0; i < probs.n; i++) {
        Problem *p = probs.v[i];
        Loc at = p->e->field_loc[p->bit];
        if (p->count > 1)
            found[nfound++] = (Found){at, xprintf("%s for %d layers matched by '%s', e.g. %s: %s",
                                                  field_names[p->bit], p->count, p->e->pattern,
                                                  p->first->name, p->why)};
        else
            found[nfound++] = (Found){at, xprintf("%s for layer %s: %s", field_names[p->bit],
                                                  p->first->name, p->why)};
        free(p->why);
        free(p);
    }
    free(probs.v);
    for (int k = 0; k < f->entries.n; k++) {
        const SchedEntry *e = f->entries.v[k];
        if (matched[k] || !strcmp(e->pattern, "default"))
            continue;
        found[nfound++] = (Found){e->loc, xprintf(is_pattern(e->pattern)
                                                      ? "no layer matches the pattern '%s' (see 'visec "
                                                        "schedule' for the layer names)"
                                                      : "no layer is named '%s' (see 'visec schedule' for "
                                                        "the layer names)",
                                                  e->pattern)};
    }
    qsort(found, (size_t)nfound, sizeof *found, found_cmp);
    for (int i = 0; i < nfound; i++) {
        error_at(d, found[i].at, "%s", found[i].msg);
        free(found[i].msg);
    }
    free(found);
    free(matched);
    return d->nerrors == errors;
}

/* ---------------------------------------------------------------- write */

/* What a conv computes, in one phrase: "3x3 stride 2 pad 1, 64 -> 128". */
static char *
conv_phrase(const Node *n)
{
    const Attrs *a = &n->a;
    char b1[SHAPE_STRLEN], b2[SHAPE_STRLEN];
    return xprintf("%dx%d stride %d pad %d%s, %s -> %s", a->kh, a->kw, a->sh, a->ph,
                   a->groups > 1 ? " grouped" : "", shape_str(n->in[0]->shape, b1, sizeof b1),
                   shape_str(n->out->shape, b2, sizeof b2));
}

void
schedfile_write(FILE *f, const Graph *g, const Target *t, char *const *notes)
{
    fprintf(f, "# Schedule of model %s for target %s (%s), written by visec.\n", g->name, t->name, t->descr);
    fprintf(f, "# Every layer spelled out; edit any field and compile with --schedule FILE.\n");
    fprintf(f, "# Fields: algo (gemm, direct, winograd(2), winograd(4); plain for other ops),\n");
    fprintf(f, "# reg (output channels x pixels per register block), tile_k (reduction rows per\n");
    fprintf(f, "# pass, 0 all), tile_pix (pixels each block of output channels runs over at a time,\n");
    fprintf(f, "# 0 one tile), order (co,pix or pix,co), lanes (pix or co: the block axis in the\n");
    fprintf(f, "# vector lanes), layout (of the output: nchw, or nchwNc blocked in the target's N\n");
    fprintf(f, "# lanes, for a gemm with lanes co), parallel (none, batch, inside).  docs/schedules.md.\n");
    fprintf(f, "target %s;\n", t->name);
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        const Schedule *s = &n->sched;
        if (n->op == OP_REORDER)
            continue;   /* made by the layout pass from the layers' layouts, not a layer of the model */
        fprintf(f, "\n");
        if (n->op == OP_CONV2D) {
            char *ph = conv_phrase(n);
            fprintf(f, "# %s: conv2d %s, %" PRId64 " MACs per image\n", n->name, ph, node_macs(n));
            free(ph);
        } else {
            char b[SHAPE_STRLEN];
            fprintf(f, "# %s: %s -> %s\n", n->name, op_name(n->op), shape_str(n->out->shape, b, sizeof b));
        }
        if (notes && notes[i])
            fprintf(f, "# %s\n", notes[i]);
        fprintf(f, "%s {\n", n->name);
        fprintf(f, "    algo = %s;\n", algo_name(s->algo));
        if (n->op == OP_CONV2D) {
            fprintf(f, "    reg = %dx%d;\n", s->reg_co, s->reg_pix);
            fprintf(f, "    tile_k = %d;\n", s->tile_k);
            fprintf(f, "    tile_pix = %d;\n", s->tile_pix);
            fprintf(f, "    order = %s;\n", order_name(s->order));
            fprintf(f, "    lanes = %s;\n", lanes_name(s->lanes));
            char *layout = layout_text(s->layout_c);
            fprintf(f, "    layout = %s;\n", layout);
            free(layout);
        }
        fprintf(f, "    parallel = %s;\n", parallel_name(s->parallel));
        fprintf(f, "}\n");
    }
}
