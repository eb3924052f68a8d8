/*
 * kernel_fn.c — each distinct block kernel once, as a static function that
 * the layers call.
 *
 * A conv body runs the same few block kernels in every layer of a model:
 * the same block shape, instruction set, operand form and epilogue with
 * other strides and trip counts.  The kernel of a block is emitted once,
 * as a function whose body is the vector kernel under its '#if' and the
 * plain-C reference path as the '#else' (the reference path alone where the
 * target has no vector kernels), with the strides, trip counts, pointers
 * and the block's origin as parameters; two blocks whose bodies read the
 * same share the function.  Its definition goes before the first layer
 * that calls it: the layer's text is held back (kernels_layer_begin /
 * kernels_layer_end) until the functions it brought are out.
 *
 * The functions are VX_KERNEL: static inline, and always inlined where the
 * compiler has the attribute, so in each layer the parameters are the
 * constants they were and the code is what the kernel inline would be
 * (same operations, same order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* A function written so far: its name and body (the text between its braces). */
typedef struct KernelFn {
    char *name;
    char *body;
} KernelFn;

struct KernelSet {
    FILE *out;              /* the generated file, while a layer's text is held */
    FILE *layer;            /* the layer's text (open_memstream) */
    char *layer_text;
    size_t layer_len;
    FILE *defs;             /* the definitions the layer brought (open_memstream) */
    char *defs_text;
    size_t defs_len;
    KernelFn *fns;          /* every function written */
    int n, cap;
    bool survey;            /* the first pass over the layers: nothing written, only rows_sure gathered */
    KernelFn *fewest;       /* per block kernel (its body without row guards, in name): the fewest rows
                               any of its blocks has, in body as a number */
    int nfewest, capfewest;
};

FILE *
kernel_memstream(char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *f = open_memstream(text, len);
    if (!f)
        bug("open_memstream failed (out of memory)");
    return f;
}

void
kernel_memstream_close(FILE *f)
{
    if (fclose(f) != 0)
        bug("open_memstream failed (out of memory)");
}

void
kernels_layer_begin(Emitter *e)
{
    if (!e->kernels)
        e->kernels = xcalloc(1, sizeof *e->kernels);
    KernelSet *ks = e->kernels;
    if (ks->layer)
        bug("kernels_layer_begin inside a layer");
    ks->out = e->f;
    ks->layer = kernel_memstream(&ks->layer_text, &ks->layer_len);
    ks->defs = kernel_memstream(&ks->defs_text, &ks->defs_len);
    e->f = ks->layer;
}

void
kernels_layer_end(Emitter *e)
{
    KernelSet *ks = e->kernels;
    if (!ks || !ks->layer || e->f != ks->layer)
        bug("kernels_layer_end without its begin");
    kernel_memstream_close(ks->defs);
    kernel_memstream_close(ks->layer);
    if (!ks->survey) {
        fwrite(ks->defs_text, 1, ks->defs_len, ks->out);
        fwrite(ks->layer_text, 1, ks->layer_len, ks->out);
    }
    free(ks->defs_text);
    free(ks->layer_text);
    ks->defs = ks->layer = NULL;
    e->f = ks->out;
}

/* Forgets the functions written (not the rows gathered). */
static void
forget_functions(KernelSet *ks)
{
    for (int i = 0; i < ks->n; i++) {
        free(ks->fns[i].name);
        free(ks->fns[i].body);
    }
    free(ks->fns);
    ks->fns = NULL;
    ks->n = ks->cap = 0;
}

void
kernels_survey(Emitter *e, bool survey)
{
    if (!e->kernels)
        e->kernels = xcalloc(1, sizeof *e->kernels);
    forget_functions(e->kernels);
    e->kernels->survey = survey;
}

void
kernels_free(Emitter *e)
{
    KernelSet *ks = e->kernels;
    if (!ks)
        return;
    forget_functions(ks);
    for (int i = 0; i < ks->nfewest; i++) {
        free(ks->fewest[i].name);
        free(ks->fewest[i].body);
    }
    free(ks->fewest);
    free(ks);
    e->kernels = NULL;
}

void
kernel_emit_prelude(Emitter *e)
{
    emit(e, "/* The block kernels: static functions, each inlined where the compiler can be told to, so");
    emit(e, "   that in each layer their strides and trip counts are the constants they are there (the");
    emit(e, "   reference paths go unused where the vector kernels serve). */");
    emit(e, "#if defined(__GNUC__)");
    emit(e, "#define VX_KERNEL static inline __attribute__((always_inline, unused))");
    emit(e, "#else");
    emit(e, "#define VX_KERNEL static inline");
    emit(e, "#endif");
}

/* ---------------------------------------------------------------- wrapped lines */

/* Columns a line may take at the emitter's depth. */
static int
line_room(const Emitter *e)
{
    return KERNEL_LINE_MAX - 4 * (e->depth - e->shift);
}

/*
 * Emits items joined by sep, head before each line and tail after it, as
 * few lines as fit in the room: "a = f(x); b = f(y);" (head "", sep " ",
 * tail "") or "__m512 a, b;" (head "__m512 ", sep ", ", tail ";").  A
 * continuation of a list that is one statement (cont) is indented a level.
 */
static void
emit_packed(Emitter *e, const char *head, const char *sep, const char *tail, char *const *items, int n,
            const char *cont)
{
    int room = line_room(e);
    size_t cap = strlen(head) + strlen(tail) + 1;
    for (int i = 0; i < n; i++)
        cap += strlen(items[i]) + strlen(sep);
    char *line = xmalloc(cap + 8);
    int i = 0;
    bool first = true;
    while (i < n) {
        const char *h = first || !cont ? head : cont;
        int r = first || !cont ? room : room - 4;
        snprintf(line, cap + 8, "%s%s", h, items[i++]);
        while (i < n && (int)(strlen(line) + strlen(sep) + strlen(items[i]) + strlen(tail)) <= r) {
            strcat(line, sep);
            strcat(line, items[i++]);
        }
        if (i < n && cont)
            strcat(line, sep[0] == ',' ? "," : "");
        else
            strcat(line, tail);
        if (!first && cont)
            e->depth++;
        emit(e, "%s", line);
        if (!first && cont)
            e->depth--;
        first = false;
    }
    free(line);
}

/* Splits text at sep outside parentheses into malloc'd items (*n of them). */
static char **
split_top(const char *text, const char *sep, int *n)
{
    size_t sl = strlen(sep);
    int cap = 8, depth = 0;
    char **items = xmalloc((size_t)cap * sizeof *items);
    *n = 0;
    const char *start = text;
    for (const char *p = text;; p++) {
        bool end = !*p || (depth == 0 && !strncmp(p, sep, sl));
        if (end) {
            size_t keep = (size_t)(p - start) + (*p && sep[0] == ';' ? 1 : 0);
            if (*n == cap)
                items = xrealloc(items, (size_t)(cap *= 2) * sizeof *items);
            items[*n] = xmalloc(keep + 1);
            memcpy(items[*n], start, keep);
            items[(*n)++][keep] = '\0';
            if (!*p)
                break;
            p += sl - 1;
            start = p + 1;
            continue;
        }
        depth += *p == '(' || *p == '[' || *p == '{';
        depth -= *p == ')' || *p == ']' || *p == '}';
    }
    return items;
}

static void
free_items(char **items, int n)
{
    for (int i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

void
kernel_emit_stmts(Emitter *e, const char *text)
{
    if ((int)strlen(text) <= line_room(e)) {
        emit(e, "%s", text);
        return;
    }
    int n;
    char **items = split_top(text, "; ", &n);
    emit_packed(e, "", " ", "", items, n, NULL);
    free_items(items, n);
}

void
kernel_emit_comment(Emitter *e, const char *text)
{
    int room = line_room(e);
    char *line = xmalloc(strlen(text) + 8);
    const char *p = text;
    bool first = true;
    while (*p) {
        /* as many words as fit, with "/" "* " or "   " before and " *" "/" after the last */
        int len = (int)strlen(p), take = len;
        if (len + 6 > room) {
            take = room - 6;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take <= 0)
                take = len;
        }
        bool last = take == len;
        snprintf(line, strlen(text) + 8, "%s%.*s%s", first ? "/* " : "   ", take, p, last ? " */" : "");
        emit(e, "%s", line);
        p += take;
        while (*p == ' ')
            p++;
        first = false;
    }
    free(line);
}

void
kernel_emit_decls(Emitter *e, const char *type, const char *list)
{
    char *whole = xprintf("%s %s;", type, list);
    if ((int)strlen(whole) <= line_room(e)) {
        emit(e, "%s", whole);
        free(whole);
        return;
    }
    free(whole);
    char *head = xprintf("%s ", type);
    int n;
    char **items = split_top(list, ", ", &n);
    emit_packed(e, head, ", ", ";", items, n, NULL);
    free_items(items, n);
    free(head);
}

/* ---------------------------------------------------------------- one function per block kernel */

/* The parameters of a block's function: declarations and the caller's arguments. */
typedef struct Params {
    char *decl[24], *arg[24];
    int n;
} Params;

static void
param(Params *p, const char *decl, char *arg)
{
    if (p->n == 24)
        bug("a block kernel with more than 24 parameters");
    p->decl[p->n] = xstrdup(decl);
    p->arg[p->n++] = arg;
}

static void
params_free(Params *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->decl[i]);
        free(p->arg[i]);
    }
}

/* The name a parameter declaration declares: its last word. */
static const char *
decl_name(const char *decl)
{
    const char *n = decl + strlen(decl);
    while (n > decl && (n[-1] == '_' || (n[-1] >= 'a' && n[-1] <= 'z') || (n[-1] >= 'A' && n[-1] <= 'Z') ||
                        (n[-1] >= '0' && n[-1] <= '9')))
        n--;
    return n;
}

/*
 * The reference path of the block: a call of the function shared by the
 * blocks of its operand form and epilogue, whatever their size (MR, NT,
 * rows and cols are its arguments), on a local accumulator array.
 */
static void
emit_ref_call(Emitter *e, const KernelBlock *fkb, const KernelOut *fo, const Params *p, bool constant)
{
    char *body;
    size_t len;
    FILE *f = kernel_memstream(&body, &len);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    kernel_emit_ref_block(&fe, fkb, fo);
    kernel_memstream_close(f);
    char *decl[32], *arg[32];
    int n = 0;
    decl[n] = "int MR", arg[n++] = xprintf("%d", fkb->MR);
    decl[n] = "int NT", arg[n++] = xprintf("%d", fkb->NT);
    decl[n] = "int rows", arg[n++] = constant ? xprintf("%d", fkb->MR) : xstrdup("mr");
    decl[n] = "int cols", arg[n++] = constant ? xprintf("%d", fkb->cols) : xstrdup("pn");
    decl[n] = "float acc[][NT]", arg[n++] = xstrdup("acc");
    for (int i = 0; i < p->n; i++)
        decl[n] = p->decl[i], arg[n++] = xstrdup(decl_name(p->decl[i]));
    const KernelTaps *t = fkb->taps;
    char *base = xprintf("vx_ref%s%s%s%s%s%s%s%s", t ? "_direct" : "", fkb->bc ? "_nchwc_in" : "",
                         fo->yc ? "_nchwc" : "", fo->tiled ? "_tiled" : "", fkb->packed ? "" : "_unpacked",
                         fo->bias ? "_bias" : "", fo->res ? "_res" : "", fo->relu ? "_relu" : "");
    char *comment = xprintf(" * The reference path of a block (plain C): acc[r][j] = sum_k W[co0 + r][k] * B[k][%s]\n"
                            " * for r < rows, j < cols, in k order; then rows r < mr, columns j < pn of it%s%s%s\n"
                            " * stored at y + (co0 + r) * ldy + p0 + j%s.  W: %s.",
                            "j", fo->bias ? " + bias[r]" : "", fo->res ? " + res" : "",
                            fo->relu ? ", relu" : "", fo->yc ? " (NCHWc)" : "",
                            fkb->packed ? "the packed [K][MR] panel wt" : "wg[(co0 + r) * K + k]");
    const char *name = kernel_function(e, base, comment, NULL, decl, n, body);
    emit(e, "float acc[%d][%d];", fkb->MR, fkb->NT);
    kernel_emit_call(e, name, arg, n);
    for (int i = 0; i < n; i++)
        free(arg[i]);
    free(base);
    free(comment);
}

/* The block's parameters, in the order of the function's signature. */
static void
block_params(Params *p, const KernelBlock *kb, const KernelOut *o)
{
    const KernelTaps *t = kb->taps;
    /* B from the block's first column: its column j at B[k * ldb + j] (NCHWc: B[.. + j * bc]) */
    if (kb->tile_panel || t)
        param(p, "const float *restrict B", xstrdup(kb->B));
    else if (kb->bc)
        param(p, "const float *restrict B", xprintf("%s + p0 * %d", kb->B, kb->bc));
    else
        param(p, "const float *restrict B", xprintf("%s + p0", kb->B));
    if (!t) {
        param(p, "int ldb", xprintf("%d", kb->P));
        param(p, "int k0", xstrdup(kb->kfrom));
        param(p, "int k1", xstrdup(kb->kto));
    }
    if (!kb->packed || (o->tiled && (o->bias || o->res || o->relu)))
        param(p, "int K", xprintf("%d", kb->K));
    param(p, kb->packed ? "const float *restrict wt" : "const float *restrict wg", xstrdup(kb->packed ? "wt" : "wg"));
    param(p, "float *restrict y", xstrdup(o->y));
    param(p, "int ldy", xprintf("%d", o->ystride));
    if (o->res)
        param(p, "const float *restrict res", xstrdup(o->res));
    if (o->bias)
        param(p, "const float *restrict bias", xstrdup(o->bias));
    param(p, "int co0", xstrdup("co0"));
    param(p, "int p0", xstrdup("p0"));
    param(p, "int mr", xstrdup("mr"));
    param(p, "int pn", xstrdup("pn"));
    if (t) {
        param(p, "int cin", xprintf("%d", t->cin));
        param(p, "int kh", xprintf("%d", t->kh));
        param(p, "int kw", xprintf("%d", t->kw));
        param(p, "int chan", xprintf("%d", t->chan));
        param(p, "int row", xprintf("%d", t->dh * t->row));
        if (t->sw > 1)
            param(p, "int pw", xprintf("%d", t->pw));
    }
}

/* The function's name: what it is (kernel_function numbers two that differ in the rest). */
static char *
block_name(const char *isa, const KernelBlock *kb, const KernelOut *o, bool constant, bool co)
{
    char shape[32] = "edge", rows[16] = "";
    if (constant)
        snprintf(shape, sizeof shape, "%dx%d", kb->MR, kb->cols);
    if (o->guard_rows && o->rows_sure > 0)
        snprintf(rows, sizeof rows, "_min%d", o->rows_sure);
    return xprintf("vx_kernel_%s_%s%s%s%s%s%s%s%s%s", isa, shape, co ? "_co" : "", kb->taps ? "_direct" : "",
                   o->yc ? "_nchwc" : "", o->tiled ? "_tiled" : "", o->bias ? "_bias" : "", o->res ? "_res" : "",
                   o->relu ? "_relu" : "", rows);
}

/* The lines above the function: what it computes. */
static char *
block_comment(const KernelBlock *kb, const KernelOut *o, bool constant)
{
    char rows[32], cols[32], *taps = NULL;
    snprintf(rows, sizeof rows, constant ? "%d" : "mr", kb->MR);
    snprintf(cols, sizeof cols, constant ? "%d" : "pn", kb->cols);
    if (kb->taps)
        taps = xprintf("\n * B: a direct conv's zero-padded input, k over input channels x kh x kw taps;");
    else if (kb->prefetch_rows)
        taps = xprintf("\n * B: a whole input (or im2col panel), read in place;");
    char *c = xprintf(" * %s x %s block%s: out[r][j] = sum_k W[co0 + r][k] * B[k][%s]%s%s%s, for rows r < mr\n"
                      " * stored at y + (co0 + r) * ldy + p0 + j%s;%s W: %s.",
                      rows, cols, constant ? "" : " (at an edge)", "j",
                      o->bias ? " + bias[r]" : "", o->res ? " + res[r][j]" : "", o->relu ? ", relu" : "",
                      o->yc ? " (NCHWc)" : "", taps ? taps : "",
                      kb->packed ? "the packed [K][MR] panel wt" : "wg[(co0 + r) * K + k]");
    free(taps);
    return c;
}

const char *
kernel_function(Emitter *e, const char *base, const char *comment, const char *guard, char *const *decls, int n,
                char *body)
{
    KernelSet *ks = e->kernels;
    if (!ks || !ks->defs)
        bug("a kernel function outside kernels_layer_begin / kernels_layer_end");
    for (int i = 0; i < ks->n; i++)
        if (!strcmp(ks->fns[i].body, body)) {
            free(body);
            return ks->fns[i].name;
        }
    char *nm = NULL;
    for (int k = 1; !nm; k++) {
        nm = k == 1 ? xstrdup(base) : xprintf("%s_%d", base, k);
        for (int i = 0; i < ks->n && nm; i++)
            if (!strcmp(ks->fns[i].name, nm)) {
                free(nm);
                nm = NULL;
            }
    }
    if (guard)
        fprintf(ks->defs, "#if %s\n", guard);
    fprintf(ks->defs, "/*\n%s\n */\nVX_KERNEL void\n%s(", comment, nm);
    /* the signature, wrapped at the line's end */
    size_t col = strlen(nm) + 1;
    for (int i = 0; i < n; i++) {
        size_t w = strlen(decls[i]) + 1;
        if (i && col + 1 + w > KERNEL_LINE_MAX) {
            fprintf(ks->defs, "\n%*s", (int)strlen(nm) + 1, "");
            col = strlen(nm) + 1;
        } else if (i) {
            fputc(' ', ks->defs);
            col++;
        }
        fprintf(ks->defs, "%s%s", decls[i], i + 1 < n ? "," : ")");
        col += w;
    }
    fprintf(ks->defs, "\n{\n%s} /* %s */\n", body, nm);
    if (guard)
        fprintf(ks->defs, "#endif\n");
    fputc('\n', ks->defs);
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? 2 * ks->cap : 16;
        ks->fns = xrealloc(ks->fns, (size_t)ks->cap * sizeof *ks->fns);
    }
    ks->fns[ks->n++] = (KernelFn){nm, body};
    return nm;
}

void
kernel_emit_call(Emitter *e, const char *name, char *const *args, int n)
{
    char *head = xprintf("%s(", name);
    int room = line_room(e);
    size_t len = strlen(head) + 2;
    for (int i = 0; i < n; i++)
        len += strlen(args[i]) + 2;
    if ((int)len <= room) {
        char *line = xstrdup(head);
        for (int i = 0; i < n; i++) {
            char *next = xprintf("%s%s%s", line, i ? ", " : "", args[i]);
            free(line);
            line = next;
        }
        emit(e, "%s);", line);
        free(line);
    } else {
        emit_packed(e, head, ", ", ");", args, n, "");
    }
    free(head);
}

/* The body of the function of a block (fkb and fo: the block as the function sees it). */
static char *
block_body(Emitter *e, const KernelBlock *kb, const KernelBlock *fkb, const KernelOut *fo, const Params *p,
           bool constant, const KernelIsa *has, const KernelIsa *isa, const KernelIsa *co_isa)
{
    char *body;
    size_t blen;
    FILE *f = kernel_memstream(&body, &blen);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    if (constant && kb->co_lanes && !co_isa && has) {
        char *c = xprintf("lanes = co: %d x %d is not whole %s vectors of channels in its registers, or the"
                          " weights are not packed: pixels in the lanes", kb->MR, kb->cols, kernel_isa_name(has));
        kernel_emit_comment(&fe, c);
        free(c);
    }
    if (isa) {
        emit(&fe, "(void)mr, (void)pn; /* the reference path's (mr the vector kernel's too if it guards rows) */");
        emit(&fe, "#if %s", kernel_isa_guard(isa));
        if (co_isa)
            kernel_emit_vector_co(&fe, isa, fkb, fo);
        else
            kernel_emit_vector(&fe, isa, fkb, fo);
        emit(&fe, "#else");
    } else if (constant && has) {
        emit(&fe, "/* %d x %d does not fit the %s registers: the reference kernel */", kb->MR, kb->cols,
             kernel_isa_name(has));
    }
    emit_ref_call(&fe, fkb, fo, p, constant);
    if (isa)
        emit(&fe, "#endif");
    kernel_memstream_close(f);
    return body;
}

void
kernel_emit_block(Emitter *e, const KernelBlock *kb, const KernelOut *o, bool constant)
{
    const KernelIsa *has = kernel_isa(e->target);
    const KernelIsa *co_isa = constant && kb->co_lanes ? kernel_vector_co_for(e->target, kb) : NULL;
    const KernelIsa *isa = co_isa ? co_isa : constant && !o->yc ? kernel_vector_for(e->target, kb) : NULL;

    Params p = {0};
    block_params(&p, kb, o);
    /* the block as the function sees it: its parameters by name */
    KernelBlock fkb = *kb;
    fkb.B = "B";
    fkb.kfrom = "k0";
    fkb.kto = "k1";
    KernelOut fo = *o;
    fo.y = "y";
    fo.res = o->res ? "res" : NULL;
    fo.bias = o->bias ? "bias" : NULL;

    KernelSet *ks = e->kernels;
    /* Row guards: a block short of rows (guard_rows) stores rows from rows_sure on only if they are
       within mr.  The blocks of one kernel share its function, which guards the rows from the fewest
       any of them has (gathered by the survey pass). */
    KernelOut ko = fo;
    ko.guard_rows = false;
    ko.rows_sure = kb->MR;
    char *key = block_body(e, kb, &fkb, &ko, &p, constant, has, isa, co_isa);
    int sure = o->guard_rows ? o->rows_sure : kb->MR, at = -1;
    for (int i = 0; i < ks->nfewest && at < 0; i++)
        if (!strcmp(ks->fewest[i].name, key))
            at = i;
    if (ks->survey) {
        if (at < 0) {
            if (ks->nfewest == ks->capfewest) {
                ks->capfewest = ks->capfewest ? 2 * ks->capfewest : 16;
                ks->fewest = xrealloc(ks->fewest, (size_t)ks->capfewest * sizeof *ks->fewest);
            }
            ks->fewest[ks->nfewest++] = (KernelFn){key, xprintf("%d", sure)};
        } else {
            if (sure < atoi(ks->fewest[at].body)) {
                free(ks->fewest[at].body);
                ks->fewest[at].body = xprintf("%d", sure);
            }
            free(key);
        }
        params_free(&p);
        return;
    }
    if (at < 0)
        bug("a block kernel the survey pass did not see");
    free(key);
    fo.rows_sure = atoi(ks->fewest[at].body);
    fo.guard_rows = fo.rows_sure < kb->MR;
    char *body = block_body(e, kb, &fkb, &fo, &p, constant, has, isa, co_isa);
    char *nm = block_name(isa ? kernel_isa_tag(isa) : "ref", kb, &fo, constant, co_isa != NULL);
    char *comment = block_comment(kb, &fo, constant);
    const char *name = kernel_function(e, nm, comment, NULL, p.decl, p.n, body);
    free(nm);
    free(comment);
    kernel_emit_call(e, name, p.arg, p.n);
    params_free(&p);
}
