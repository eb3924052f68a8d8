/*
 * emit.c — the emitter API (emit.h) and the helpers every op emitter and
 * every part of the generated file share: indentation and labelled blocks,
 * the parallel pragma, the API prefix, a layer's sizes and weights, the
 * loops over images and channels, and the templates of runtime/.
 *
 * It calls no other file of codegen/: the Halide runtime's outlining of
 * parallel loops (emit_par.c) watches the lines through the hooks it
 * attaches to an Emitter (EmitHooks).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* ---------------------------------------------------------------- emit() */


/* The formatted text, malloc'd. */
static char *
vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *line = xmalloc((size_t)n + 1);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    return line;
}

/* One line at the current depth; preprocessor lines start at column 0. */
static void
put_line(Emitter *e, const char *line)
{
    if (e->hooks)
        e->hooks->line(e, line);
    if (line[0] != '#' && line[0] != '\0')
        for (int i = e->shift; i < e->depth; i++)
            fputs("    ", e->f);
    fputs(line, e->f);
    fputc('\n', e->f);
}

void
emit(Emitter *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = vformat(fmt, ap);
    va_end(ap);
    put_line(e, line);
    free(line);
}

/* One level deeper, with the label of the block just opened. */
static void
push(Emitter *e, const char *label)
{
    if (e->depth == EMIT_MAX_DEPTH)
        bug("generated code nested more than %d deep", EMIT_MAX_DEPTH);
    e->labels[e->depth++] = label;
}

/* Opens a block: the line, " {", one level deeper, the label remembered. */
static void
vopen(Emitter *e, const char *label, const char *fmt, va_list ap)
{
    char *head = vformat(fmt, ap);
    if (e->hooks && e->hooks->open(e, label, head)) {
        /* a loop of an outlined parallel nest: no line, no indentation */
        push(e, label);
        e->shift = e->depth - 2;
        free(head);
        return;
    }
    char *line = xprintf("%s%s{", head, head[0] ? " " : "");
    put_line(e, line);
    free(line);
    free(head);
    push(e, label);
}

void
emit_open(Emitter *e, const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vopen(e, label, fmt, ap);
    va_end(ap);
}

void
emit_scope(Emitter *e, const char *label)
{
    put_line(e, "{");
    push(e, label);
}

/* Closes the innermost block with text; label (if not NULL) must be its own. */
static void
close_block(Emitter *e, const char *label, const char *text)
{
    if (e->depth == 0)
        bug("emit_end with no block open");
    const char *open = e->labels[--e->depth];
    if (label && (!open || strcmp(open, label)))
        bug("emit_end(\"%s\") closes the block \"%s\"", label, open ? open : "(unlabelled)");
    if (e->hooks)
        e->hooks->closed(e);
    put_line(e, text);
}

void
emit_end(Emitter *e, const char *label)
{
    if (e->depth == 0)
        bug("emit_end with no block open");
    if (e->hooks && e->hooks->end(e, label))
        return;
    const char *open = e->labels[e->depth - 1];
    char *text = open ? xprintf("} /* %s */", open) : xstrdup("}");
    close_block(e, label, text);
    free(text);
}

void
emit_end_raw(Emitter *e, const char *text)
{
    close_block(e, NULL, text);
}

void
emit_else(Emitter *e, const char *fmt, ...)
{
    if (e->depth == 0)
        bug("emit_else with no block open");
    const char *label = e->labels[--e->depth];
    va_list ap;
    va_start(ap, fmt);
    char *head = vformat(fmt, ap);
    va_end(ap);
    char *line = xprintf("} %s {", head);
    put_line(e, line);
    free(line);
    free(head);
    e->labels[e->depth++] = label;
}

void
emit_blank(Emitter *e)
{
    fputc('\n', e->f);
}

void
emit_omp_for(Emitter *e, int collapse)
{
    if (e->hooks)
        e->hooks->parallel(e, collapse);
    else if (collapse > 1)
        emit(e, "VX_OMP(omp parallel for collapse(%d))", collapse);
    else
        emit(e, "VX_OMP(omp parallel for)");
}

void
emit_omp_planes(Emitter *e, const Schedule *s)
{
    if (s->parallel == PAR_INSIDE)
        emit_omp_for(e, 2);
    else if (s->parallel == PAR_BATCH)
        emit_omp_for(e, 1);
}

char *
comment_safe(const char *s)
{
    size_t n = strlen(s);
    char *r = xmalloc(2 * n + 1), *q = r;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            c = ' ';
        *q++ = (char)c;
        if (c == '*' && s[i + 1] == '/')
            *q++ = ' ';
        if (c == '/' && s[i + 1] == '*')
            *q++ = ' ';
    }
    while (q > r && q[-1] == ' ')
        q--;
    *q = '\0';
    return r;
}

/* ---------------------------------------------------------------- names */

const char *
codegen_name(const Graph *g, const CodegenOptions *o)
{
    return o->name ? o->name : g->name;
}

char *
upper_case(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return r;
}

char *
handle_type(const CodegenOptions *o, const char *name)
{
    return o->runtime == RUNTIME_HALIDE ? xprintf("struct %s", name) : xstrdup(name);
}

/* ---------------------------------------------------------------- layers */

Dims
dims_of(const Value *v)
{
    Dims d;
    d.c = (int)v->shape.dim[1];
    d.h = v->shape.rank == 4 ? (int)v->shape.dim[2] : 1;
    d.w = v->shape.rank == 4 ? (int)v->shape.dim[3] : 1;
    d.hw = d.h * d.w;
    d.numel = d.c * d.hw;
    return d;
}

void
emit_weight(Emitter *e, const char *var, const Tensor *t)
{
    char b[SHAPE_STRLEN];
    char *decl = xprintf("const float *restrict %s = (const float *)(const void *)(wb + %" PRId64 ");", var,
                         t->offset);
    char *what = xprintf("/* %s %s */", t->name, shape_str(t->shape, b, sizeof b));
    if (4 * (e->depth - e->shift) + (int)(strlen(decl) + 1 + strlen(what)) <= EMIT_LINE_MAX) {
        emit(e, "%s %s", decl, what);
    } else {
        emit(e, "%s", what);    /* too long for one line: the comment above */
        emit(e, "%s", decl);
    }
    free(decl);
    free(what);
}

/* Opens the loops over images and channels and defines xc, yc (and x2c). */
void
begin_planes(Emitter *e, const Node *n, const Schedule *s, const Dims *in, const Dims *out,
             bool two)
{
    emit(e, "/* over images and channels */");
    emit_omp_planes(e, s);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit_for(e, "c", "for (int c = 0; c < %d; c++)", in->c);
    emit(e, "const float *xc = x + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    if (two)
        emit(e, "const float *x2c = x2 + ((size_t)n * %d + c) * %d;", in->c, in->hw);
    emit(e, "float *yc = y + ((size_t)n * %d + c) * %d;", out->c, out->hw);
    (void)n;
}

void
end_planes(Emitter *e)
{
    emit_end(e, "c");
    emit_end(e, "n");
}

/* ---------------------------------------------------------------- templates */

/* The templates of runtime/ (*.c.in), embedded at build time (tools/embed_sources.sh). */
extern const char *const runtime_template_names[];
extern const char *const runtime_template_texts[];

/* The text of section `section` of template `file`, up to the next section. */
static const char *
find_section(const char *file, const char *section, size_t *len)
{
    for (int i = 0; runtime_template_names[i]; i++) {
        if (strcmp(runtime_template_names[i], file))
            continue;
        size_t n = strlen(section);
        for (const char *p = runtime_template_texts[i]; p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
            if (strncmp(p, "@@ ", 3) || strncmp(p + 3, section, n) || p[3 + n] != '\n')
                continue;
            const char *start = p + 4 + n, *end = strstr(start, "\n@@ ");
            *len = end ? (size_t)(end - start) + 1 : strlen(start);
            return start;
        }
    }
    bug("no section %s in the template %s", section, file);
}

/* The value of ${key} (key of klen bytes) in vars. */
static const char *
template_value(const char *const *vars, const char *key, size_t klen, const char *file)
{
    for (int i = 0; vars[i]; i += 2)
        if (strlen(vars[i]) == klen && !strncmp(vars[i], key, klen))
            return vars[i + 1];
    bug("the template %s has ${%.*s}, which codegen does not fill", file, (int)klen, key);
}

char *
template_text(const char *file, const char *section, const char *const *vars)
{
    size_t len;
    const char *t = find_section(file, section, &len), *end = t + len;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        bug("open_memstream failed (out of memory)");
    while (t < end) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);
        size_t ind = strspn(t, " ");
        const char *close = ind + 2 < n && !strncmp(t + ind, "${", 2) ? memchr(t + ind, '}', n - ind) : NULL;
        if (close && close == t + n - 1) {
            /* a line of one ${KEY}: each line of the value indented as it is */
            const char *v = template_value(vars, t + ind + 2, (size_t)(close - t - ind - 2), file);
            const char *vend = v + strlen(v);
            while (vend > v && vend[-1] == '\n')
                vend--;   /* a section's last newlines */
            while (v < vend) {
                size_t m = strcspn(v, "\n");
                if (m && v[0] != '#')
                    fprintf(f, "%*s", (int)ind, "");
                fprintf(f, "%.*s\n", (int)m, v);
                v += m + (v[m] == '\n');
            }
        } else {
            for (const char *p = t; p < t + n; p++) {
                const char *q = p[0] == '$' && p[1] == '{' ? memchr(p, '}', (size_t)(t + n - p)) : NULL;
                if (q) {
                    fputs(template_value(vars, p + 2, (size_t)(q - p - 2), file), f);
                    p = q;
                } else {
                    fputc(*p, f);
                }
            }
            if (nl)
                fputc('\n', f);
        }
        t += n + 1;
    }
    if (fclose(f) != 0)
        bug("open_memstream failed (out of memory)");
    return buf;
}

void
emit_template(Emitter *e, const char *file, const char *section, const char *const *vars)
{
    if (e->depth != 0 || e->hooks)
        bug("template %s (%s) pasted inside a block", file, section);
    char *text = template_text(file, section, vars);
    fputs(text, e->f);
    free(text);
}
