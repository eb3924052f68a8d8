/*
 * emit_par.c — parallel loops as task functions, for the Halide runtime.
 *
 * The op emitters mark a parallel loop nest the same way for every
 * runtime: emit_omp_for(e, collapse) and then `collapse` perfectly nested
 * loops `for (int v = 0; v < BOUND; v++)` opened with emit_for().  With
 * OpenMP that is a pragma and the loops as written.  With the Halide
 * runtime (an Outline attached to the Emitter) the emitter API sends the
 * nest's body to a task function instead,
 *
 *   struct layer_L_parK_closure { <the variables in scope the body reads>; vx_n, vx_tasks };
 *   static int layer_L_parK(void *user_context, int vx_task, uint8_t *vx_closure)
 *   {   <those variables from the closure>;
 *       for (vx_i in this task's contiguous share of the vx_n = B0 * B1 iterations) {
 *           v0 = vx_i / B1, v1 = vx_i % B1; <the body, unchanged> }
 *       return 0; }
 *
 * and the layer function, in the loop's place, fills a closure and calls
 * halide_do_par_for(user_context, layer_L_parK, 0, tasks, closure) with
 * tasks = min(B0 * B1, VX_HL_TASKS): like OpenMP's static schedule, but in
 * more pieces than threads, which the pool hands out as threads come free.
 * The body is the same text the OpenMP build compiles, and every iteration
 * runs whole on one thread, so both give the same bits.
 *
 * Which variables: the emitter sees every line it writes, so it keeps the
 * declarations of the open blocks of the layer function (the parameters,
 * loop variables of emit_for loops, and lines declaring `[const] TYPE
 * [*[restrict ]]NAME = ...`); at the end of a nest it captures, in
 * declaration order, those whose names occur in the body (comments
 * skipped).  A declaration it cannot read, or an array the body needs, is
 * a compiler bug: it stops with bug() rather than emit wrong code.
 * Parallel nests do not nest, and the task functions of a layer are
 * written before it: its text is held back in memory until it ends.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* A variable in scope in the layer function. */
typedef struct Decl {
    char *name;         /* its identifier */
    char *type;         /* its type as declared: "const float *restrict", "int" */
    bool array;         /* an array: cannot be captured by value */
    int depth;          /* the emitter depth of the block it belongs to; 0: a parameter */
} Decl;

/* A memory stream: text held back. */
typedef struct Held {
    FILE *f;            /* open_memstream() */
    char *text;         /* its buffer, valid after fclose */
    size_t len;         /* its length */
} Held;

struct Outline {
    FILE *out;          /* the generated file: finished task functions and layers */
    char *fn;           /* the layer function being emitted; NULL between layers */
    Held layer;         /* its text, held back until its task functions are out */
    int ntask;          /* task functions of this layer so far */
    Decl *decls;        /* variables in scope, in declaration order */
    int ndecls, cap;
    int pending;        /* loops of an announced parallel nest not opened yet */
    int nloops;         /* loops of the current nest (0: none) */
    int open;           /* of those, still open */
    char *var[2];       /* their loop variables, outermost first */
    char *bound[2];     /* their trip counts (C expressions) */
    int base;           /* emitter depth where the nest's first loop was opened */
    Held body;          /* the nest's body */
};

/* ---------------------------------------------------------------- helpers */

static void
held_open(Held *h)
{
    h->text = NULL;
    h->len = 0;
    h->f = open_memstream(&h->text, &h->len);
    if (!h->f)
        bug("open_memstream failed (out of memory)");
}

static void
held_close(Held *h)
{
    if (fclose(h->f) != 0)
        bug("open_memstream failed (out of memory)");
    h->f = NULL;
}

static void
add_decl(struct Outline *o, const char *name, size_t nlen, const char *type, size_t tlen, bool array,
         int depth)
{
    if (o->ndecls == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 32;
        o->decls = xrealloc(o->decls, (size_t)o->cap * sizeof *o->decls);
    }
    Decl *d = &o->decls[o->ndecls++];
    d->name = xprintf("%.*s", (int)nlen, name);
    d->type = xprintf("%.*s", (int)tlen, type);
    d->array = array;
    d->depth = depth;
}

/* Drops the declarations of blocks deeper than depth. */
static void
drop_decls(struct Outline *o, int depth)
{
    while (o->ndecls > 0 && o->decls[o->ndecls - 1].depth > depth) {
        o->ndecls--;
        free(o->decls[o->ndecls].name);
        free(o->decls[o->ndecls].type);
    }
}

static size_t
ident_len(const char *p)
{
    size_t n = 0;
    if (!(isalpha((unsigned char)p[0]) || p[0] == '_'))
        return 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    return n;
}

static const char *const base_types[] = {"float", "double", "int", "size_t", "unsigned char",
                                         "int64_t", "uint8_t", NULL};

/* The base type the line starts with (after an optional "const "); 0 if none. */
static size_t
base_type_len(const char *p)
{
    for (int i = 0; base_types[i]; i++) {
        size_t n = strlen(base_types[i]);
        if (!strncmp(p, base_types[i], n) && p[n] == ' ')
            return n;
    }
    return 0;
}

/*
 * Records the variables a line declares at depth.  Lines that do not start
 * with a type are statements; a declaration of another form is a bug here.
 */
static void
note_decl(struct Outline *o, const char *line, int depth)
{
    const char *p = line;
    if (!strncmp(p, "const ", 6))
        p += 6;
    size_t bt = base_type_len(p);
    if (!bt)
        return;
    const char *type_start = line;
    p += bt + 1;
    size_t ptr_len = 0;     /* "*" or "*restrict " after the base type */
    if (*p == '*') {
        ptr_len = 1;
        if (!strncmp(p + 1, "restrict ", 9))
            ptr_len += 9;
        else if (!strncmp(p + 1, "const ", 6))
            ptr_len += 6;
    }
    /* The type text: from the line start to the name, without trailing blanks. */
    const char *name = p + ptr_len;
    size_t tlen = (size_t)(name - type_start);
    while (tlen > 0 && type_start[tlen - 1] == ' ')
        tlen--;
    for (;;) {
        size_t n = ident_len(name);
        if (!n)
            bug("cannot outline a parallel loop: unreadable declaration \"%s\"", line);
        const char *after = name + n;
        bool array = *after == '[';
        add_decl(o, name, n, type_start, tlen, array, depth);
        /* Skip to the next declarator: a comma outside brackets, or the end. */
        int nest = 0;
        const char *q = after;
        for (; *q && !(nest == 0 && (*q == ',' || *q == ';')); q++) {
            if (*q == '(' || *q == '[' || *q == '{')
                nest++;
            else if (*q == ')' || *q == ']' || *q == '}')
                nest--;
        }
        if (*q != ',')
            return;
        name = q + 1;
        while (*name == ' ')
            name++;
        if (*name == '*')
            bug("cannot outline a parallel loop: pointer declarator after a comma in \"%s\"", line);
    }
}

/* Does identifier name occur in text, outside comments? */
static bool
uses(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = text;
    while (*p) {
        if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else if (isdigit((unsigned char)*p)) {
            /* a number, hex floats included: not an identifier */
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' ||
                   ((*p == '+' || *p == '-') && (p[-1] == 'p' || p[-1] == 'P')))
                p++;
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            size_t n = ident_len(p);
            if (n == nlen && !strncmp(p, name, n))
                return true;
            p += n;
        } else {
            p++;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- life cycle */

static void
outline_free(struct Outline *o)
{
    if (!o)
        return;
    drop_decls(o, -1);
    free(o->decls);
    free(o->fn);
    free(o);
}

void
outline_layer_begin(Emitter *e, const char *fn)
{
    struct Outline *o = e->outline;
    if (o->fn)
        bug("outline_layer_begin inside %s", o->fn);
    o->out = e->f;
    o->fn = xstrdup(fn);
    o->ntask = 0;
    held_open(&o->layer);
    e->f = o->layer.f;
    /* The layer function's parameters (emit_layer in codegen.c). */
    static const char *const params[][2] = {
        {"user_context", "void *"}, {"wb", "const unsigned char *"}, {"batch", "int"},
        {"x", "const float *"},     {"x2", "const float *"},         {"y", "float *"},
        {"scratch", "float *"},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        add_decl(o, params[i][0], strlen(params[i][0]), params[i][1], strlen(params[i][1]), false, 0);
}

void
outline_layer_end(Emitter *e)
{
    struct Outline *o = e->outline;
    if (!o->fn || o->pending || o->nloops)
        bug("outline_layer_end with a parallel loop unfinished");
    held_close(&o->layer);
    fwrite(o->layer.text, 1, o->layer.len, o->out);
    free(o->layer.text);
    e->f = o->out;
    drop_decls(o, -1);
    free(o->fn);
    o->fn = NULL;
}

/* ---------------------------------------------------------------- hooks (EmitHooks) */

static void
outline_parallel(Emitter *e, int collapse)
{
    struct Outline *o = e->outline;
    if (!o->fn)
        bug("a parallel loop outside a layer function");
    if (o->pending || o->nloops)
        bug("parallel loops nested in %s", o->fn);
    if (collapse < 1 || collapse > 2)
        bug("parallel nest of %d loops", collapse);
    o->pending = collapse;
}

static bool
outline_open(Emitter *e, const char *label, const char *line)
{
    struct Outline *o = e->outline;
    if (!o->fn)
        return false;
    /* "for (int V = 0; V < BOUND; V++)" */
    size_t n = strncmp(line, "for (int ", 9) ? 0 : ident_len(line + 9);
    if (!o->pending) {
        if (n && o->nloops == 0)
            add_decl(o, line + 9, n, "int", 3, false, e->depth + 1);
        return false;
    }
    char *var = n ? xprintf("%.*s", (int)n, line + 9) : NULL;
    char *head = var ? xprintf("for (int %s = 0; %s < ", var, var) : NULL;
    char *tail = var ? xprintf("; %s++)", var) : NULL;
    size_t hl = head ? strlen(head) : 0, tl = tail ? strlen(tail) : 0, ll = strlen(line);
    if (!var || strncmp(line, head, hl) || ll <= hl + tl || strcmp(line + ll - tl, tail) ||
        !label || strcmp(label, var))
        bug("cannot outline the parallel loop \"%s\" in %s", line, o->fn);
    if (o->nloops == 0) {
        o->base = e->depth;
        held_open(&o->body);
        e->f = o->body.f;
    }
    o->var[o->nloops] = var;
    o->bound[o->nloops] = xprintf("%.*s", (int)(ll - hl - tl), line + hl);
    o->nloops++;
    o->open++;
    o->pending--;
    free(head);
    free(tail);
    return true;
}

static void
outline_line(Emitter *e, const char *line)
{
    struct Outline *o = e->outline;
    if (o->fn && o->nloops == 0)
        note_decl(o, line, e->depth);
}

static void
outline_closed(Emitter *e)
{
    struct Outline *o = e->outline;
    if (o->fn && o->nloops == 0)
        drop_decls(o, e->depth);
}

/* The nest is closed: writes its task function and, in the layer, the call. */
static void
finish_nest(Emitter *e)
{
    struct Outline *o = e->outline;
    held_close(&o->body);
    e->f = o->layer.f;
    e->shift = 0;
    int k = ++o->ntask;
    char *task = xprintf("%s_par%d", o->fn, k);
    /* What the task reads: its body and the inner trip count. */
    char *text = xprintf("%s\n%s", o->body.text, o->nloops > 1 ? o->bound[1] : "");
    int *cap = xcalloc((size_t)o->ndecls + 1, sizeof *cap);
    int ncap = 0;
    for (int i = 0; i < o->ndecls; i++) {
        if (!uses(text, o->decls[i].name))
            continue;
        /* A later declaration of the same name hides this one. */
        bool hidden = false;
        for (int j = i + 1; j < o->ndecls; j++)
            hidden |= !strcmp(o->decls[j].name, o->decls[i].name);
        if (hidden)
            continue;
        if (o->decls[i].array)
            bug("cannot outline a parallel loop of %s: its body reads the array %s", o->fn,
                o->decls[i].name);
        cap[ncap++] = i;
    }
    char *iters = o->nloops > 1 ? xprintf("%s x %s", o->var[0], o->var[1]) : xstrdup(o->var[0]);
    char *count = o->nloops > 1 ? xprintf("%s * %s", o->bound[0], o->bound[1]) : xstrdup(o->bound[0]);

    /* The closure and the task function, straight to the file. */
    Emitter t = {.f = o->out};
    emit(&t, "/* %s, parallel loop %d: one task per iteration of %s, run by halide_do_par_for;", o->fn,
         k, iters);
    emit(&t, "   the closure holds the variables of %s the loop body reads. */", o->fn);
    emit_open(&t, NULL, "struct %s_closure", task);
    for (int i = 0; i < ncap; i++) {
        const Decl *d = &o->decls[cap[i]];
        /* the declared type without const or restrict on the variable itself */
        const char *ty = d->type;
        if (!strncmp(ty, "const ", 6) && !strchr(ty, '*'))
            ty += 6;
        size_t tl = strlen(ty);
        const char *r = strstr(ty, "restrict");
        if (r)
            tl = (size_t)(r - ty);
        while (tl > 0 && ty[tl - 1] == ' ')
            tl--;
        emit(&t, "%.*s%s%s;", (int)tl, ty, ty[tl - 1] == '*' ? "" : " ", d->name);
    }
    emit(&t, "int vx_n, vx_tasks;       /* iterations, tasks */");
    emit_end_raw(&t, "};");
    emit_blank(&t);
    emit(&t, "static int");
    emit(&t, "%s(void *user_context, int vx_task, uint8_t *vx_closure)", task);
    emit_scope(&t, task);
    emit(&t, "const struct %s_closure *vx_c = (const struct %s_closure *)(const void *)vx_closure;",
         task, task);
    for (int i = 0; i < ncap; i++) {
        const Decl *d = &o->decls[cap[i]];
        bool plain_int = !strcmp(d->type, "int");
        emit(&t, "%s%s%s%s = vx_c->%s;", plain_int ? "const " : "", d->type,
             d->type[strlen(d->type) - 1] == '*' ? "" : " ", d->name, d->name);
    }
    emit(&t, "/* this task's share of the iterations: [vx_lo, vx_hi) */");
    emit(&t, "const int vx_lo = (int)((int64_t)vx_task * vx_c->vx_n / vx_c->vx_tasks);");
    emit(&t, "const int vx_hi = (int)((int64_t)(vx_task + 1) * vx_c->vx_n / vx_c->vx_tasks);");
    emit(&t, "(void)user_context;");
    emit_for(&t, "vx_i", "for (int vx_i = vx_lo; vx_i < vx_hi; vx_i++)");
    if (o->nloops > 1)
        emit(&t, "const int %s = vx_i / (%s), %s = vx_i %% (%s);", o->var[0], o->bound[1], o->var[1],
             o->bound[1]);
    else
        emit(&t, "const int %s = vx_i;", o->var[0]);
    fwrite(o->body.text, 1, o->body.len, o->out);
    emit_end(&t, "vx_i");
    emit(&t, "return 0;");
    emit_end(&t, task);
    emit_blank(&t);

    /* In the layer, in the loop's place: fill the closure, run the tasks. */
    emit(e, "/* %s: %s iterations in at most VX_HL_TASKS tasks of %s (above) on Halide's", iters, count,
         task);
    emit(e, "   thread pool */");
    emit_scope(e, NULL);
    emit(e, "struct %s_closure vx_c;", task);
    for (int i = 0; i < ncap; i++)
        emit(e, "vx_c.%s = %s;", o->decls[cap[i]].name, o->decls[cap[i]].name);
    emit(e, "vx_c.vx_n = %s;", count);
    emit(e, "vx_c.vx_tasks = vx_c.vx_n < VX_HL_TASKS ? vx_c.vx_n : VX_HL_TASKS;");
    emit(e, "const int vx_err = halide_do_par_for(user_context, %s, 0, vx_c.vx_tasks, (uint8_t *)&vx_c);",
         task);
    emit(e, "if (vx_err)");
    emit(e, "    return vx_err;");
    emit_end(e, NULL);

    free(o->body.text);
    for (int i = 0; i < o->nloops; i++) {
        free(o->var[i]);
        free(o->bound[i]);
    }
    o->nloops = 0;
    free(cap);
    free(text);
    free(iters);
    free(count);
    free(task);
}

static bool
outline_end(Emitter *e, const char *label)
{
    struct Outline *o = e->outline;
    if (!o->fn || !o->open || e->depth != o->base + o->open)
        return false;
    const char *open = e->labels[e->depth - 1];
    if (label && (!open || strcmp(open, label)))
        bug("emit_end(\"%s\") closes the block \"%s\"", label, open ? open : "(unlabelled)");
    e->depth--;
    o->open--;
    e->shift = e->depth > 1 ? e->depth - 2 : 0;
    if (!o->open)
        finish_nest(e);
    return true;
}

/* ---------------------------------------------------------------- attaching */

static const EmitHooks outline_hooks = {
    outline_parallel, outline_open, outline_line, outline_end, outline_closed,
};

void
outline_attach(Emitter *e)
{
    e->outline = xcalloc(1, sizeof(struct Outline));
    e->hooks = &outline_hooks;
}

void
outline_detach(Emitter *e)
{
    outline_free(e->outline);
    e->outline = NULL;
    e->hooks = NULL;
}
