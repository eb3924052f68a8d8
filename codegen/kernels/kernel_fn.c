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

/* A block kernel, by its body without row guards, and the fewest rows any of its blocks is sure of. */
typedef struct KernelRows {
    char *key;
    int rows;
} KernelRows;

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
    KernelRows *fewest;     /* per block kernel: the fewest rows any of its blocks is sure of */
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
        free(ks->fewest[i].key);
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

/* ---------------------------------------------------------------- functions */

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

int
kernel_fewest_rows(Emitter *e, char *key, int sure)
{
    KernelSet *ks = e->kernels;
    int at = -1;
    for (int i = 0; i < ks->nfewest && at < 0; i++)
        if (!strcmp(ks->fewest[i].key, key))
            at = i;
    if (ks->survey) {
        if (at < 0) {
            if (ks->nfewest == ks->capfewest) {
                ks->capfewest = ks->capfewest ? 2 * ks->capfewest : 16;
                ks->fewest = xrealloc(ks->fewest, (size_t)ks->capfewest * sizeof *ks->fewest);
            }
            ks->fewest[ks->nfewest++] = (KernelRows){key, sure};
        } else {
            if (sure < ks->fewest[at].rows)
                ks->fewest[at].rows = sure;
            free(key);
        }
        return -1;
    }
    if (at < 0)
        bug("a block kernel the survey pass did not see");
    free(key);
    return ks->fewest[at].rows;
}
