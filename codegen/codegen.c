/*
 * codegen.c — the C emitter: file structure, weights file, memory plan and
 * API of a generated model.  The body of each layer is in emit_ops.c, the
 * emitter API and the helpers all codegen files share in emit.c.
 *
 *   NAME.h        the API: shape macros, error codes, four functions
 *   NAME.c        the runtime (pasted from runtime/), one static function
 *                 per layer, and the API
 *   NAME.weights  header + tensors in the order and layout the code reads
 *
 * Everything written depends only on the graph and the options: no dates,
 * no pointers, floats as bit-exact hex literals.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kernels.h"
#include "vx_crc32.h"
#include "vx_write.h"

/* The runtime sources, embedded at build time (tools/embed_sources.sh). */
extern const char *const runtime_source_names[];
extern const char *const runtime_source_texts[];

/* ---------------------------------------------------------------- names */

static bool
valid_c_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* ---------------------------------------------------------------- check */

bool
codegen_check_name(const char *name, Diag *d)
{
    if (!valid_c_identifier(name))
        error_plain(d, "model name '%s' is not a valid C identifier; choose another with --name", name);
    else if (strlen(name) > VX_NAME_MAX)
        error_plain(d, "model name '%s' is longer than %d characters; choose a shorter one with --name",
                    name, VX_NAME_MAX);
    else if (!strncmp(name, "vx_", 3) || !strcmp(name, "vx") || !strncmp(name, "layer_", 6) ||
             !strcmp(name, "layer"))
        error_plain(d, "model name '%s' clashes with the generated code's own names (vx_*, layer_*); "
                    "choose another with --name", name);
    else
        return true;
    return false;
}

bool
codegen_check(const Graph *g, const CodegenOptions *o, Diag *d)
{
    int before = d->nerrors;
    codegen_check_name(codegen_name(g, o), d);
    if (g->inputs.n != 1 || g->outputs.n != 1)
        error_plain(d, "model %s has %d input%s and %d output%s: visec compile supports exactly one "
                    "input and one output (not supported yet)", g->name, g->inputs.n,
                    g->inputs.n == 1 ? "" : "s", g->outputs.n, g->outputs.n == 1 ? "" : "s");
    for (int i = 0; i < g->inputs.n; i++) {
        Value *v = g->inputs.v[i];
        if (v->shape.rank != 4 && v->shape.rank != 2)
            error_plain(d, "input %s: only [N, C, H, W] and [N, C] inputs are supported", v->name);
    }
    for (int i = 0; i < g->values.n; i++) {
        Value *v = g->values.v[i];
        if (v->shape.rank > 0 && shape_numel(v->shape, 1) > CG_MAX_NUMEL) {
            char b[SHAPE_STRLEN];
            error_plain(d, "a tensor %s has more than 2^31 - 1 elements per image (not supported yet)",
                        shape_str(v->shape, b, sizeof b));
        }
    }
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        const char *why = op_unsupported(n);
        if (why)
            error_at(d, n->loc, "%s %s: %s", op_name(n->op), n->name, why);
        if (n->op == OP_CONV2D && n->scratch / 4 > CG_MAX_NUMEL)
            error_at(d, n->loc, "conv2d %s: im2col panel too large (not supported yet)", n->name);
        for (int r = 0; r < P_MAX; r++) {
            const Tensor *t = n->param[r];
            if (!t)
                continue;
            if (!t->data)
                error_at(d, n->loc, "tensor '%s' has no data: bind weights with --weights", t->name);
            if (shape_numel(t->shape, 1) > CG_MAX_NUMEL)
                error_at(d, n->loc, "tensor '%s' is too large (not supported yet)", t->name);
        }
    }
    if (o->runtime == RUNTIME_HALIDE)
        halide_check(g, o, d);
    return d->nerrors == before;
}

/* ---------------------------------------------------------------- weights */

/* The tensors the code reads, in file order: first use in schedule order. */
static PtrVec
weight_order(const Graph *g)
{
    PtrVec v = {0};
    char *seen = xcalloc((size_t)g->tensors.n + 1, 1);
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        for (int r = 0; r < P_MAX; r++) {
            Tensor *t = n->param[r];
            if (t && !seen[t->id]) {
                seen[t->id] = 1;
                vec_push(&v, t);
            }
        }
    }
    free(seen);
    return v;
}

/* The file image, header included, and what the generated code checks. */
typedef struct WeightsImage {
    unsigned char *bytes;   /* VX_HEADER_SIZE + data_size bytes */
    size_t size;            /* total bytes */
    vx_header h;            /* the header written */
} WeightsImage;

/* Assigns Tensor.offset (file offsets) and builds the file image. */
static WeightsImage
weights_image(const Graph *g, const char *name, const PtrVec *order)
{
    WeightsImage w;
    memset(&w, 0, sizeof w);
    uint64_t end = VX_HEADER_SIZE;
    uint64_t hash = vx_hash_str(VX_HASH_INIT, name);
    hash = vx_hash_u64(hash, (uint64_t)order->n);
    for (int i = 0; i < order->n; i++) {
        Tensor *t = order->v[i];
        t->offset = align_up((int64_t)end, VX_ALIGN);
        end = (uint64_t)t->offset + 4 * (uint64_t)shape_numel(t->shape, 1);
        hash = vx_hash_str(hash, t->name);
        hash = vx_hash_u64(hash, (uint64_t)t->shape.rank);
        for (int k = 0; k < t->shape.rank; k++)
            hash = vx_hash_u64(hash, (uint64_t)t->shape.dim[k]);
        hash = vx_hash_u64(hash, (uint64_t)t->offset);
    }
    end = (uint64_t)align_up((int64_t)end, VX_ALIGN);
    /* The tensor table ends the file; the hash covers its place (identity.c). */
    size_t tsize;
    unsigned char *table = weights_table(g, order, &tsize);
    hash = vx_hash_u64(hash, end);
    hash = vx_hash_u64(hash, (uint64_t)tsize);
    w.h.table_offset = end;
    w.h.table_size = tsize;
    w.size = (size_t)end + tsize;
    w.bytes = xcalloc(w.size, 1);
    memcpy(w.bytes + end, table, tsize);
    free(table);
    for (int i = 0; i < order->n; i++) {
        const Tensor *t = order->v[i];
        unsigned char *p = w.bytes + t->offset;
        int64_t n = shape_numel(t->shape, 1);
        for (int64_t k = 0; k < n; k++, p += 4) {
            uint32_t u;
            memcpy(&u, &t->data[k], 4);
            p[0] = (unsigned char)u;
            p[1] = (unsigned char)(u >> 8);
            p[2] = (unsigned char)(u >> 16);
            p[3] = (unsigned char)(u >> 24);
        }
    }
    w.h.version = VX_WEIGHTS_VERSION;
    w.h.header_size = VX_HEADER_SIZE;
    w.h.count = (uint64_t)order->n;
    w.h.data_size = w.size - VX_HEADER_SIZE;
    w.h.layout_hash = hash;
    w.h.crc = vx_crc32(0, w.bytes + VX_HEADER_SIZE, w.size - VX_HEADER_SIZE);
    snprintf(w.h.name, sizeof w.h.name, "%s", name);
    vx_header_encode(w.bytes, &w.h);
    return w;
}

/* ---------------------------------------------------------------- memory plan */

enum { AT_INPUT = -2, AT_OUTPUT = -3 };

/* Where every value and every node's scratch lives, in bytes per image. */
typedef struct Placement {
    int64_t *voff;      /* by Value.id: arena offset, or AT_INPUT / AT_OUTPUT */
    int64_t *soff;      /* by schedule position: scratch offset, -1 none */
    int64_t arena;      /* arena bytes per image */
} Placement;

/*
 * Reads the memory plan (Value.offset, Node.scratch_offset), which the
 * plan_memory pass always makes (the naive plan when it is disabled).  At
 * run time every offset and size is multiplied by the batch
 * (docs/generated-code.md).
 */
static Placement
place_buffers(const Graph *g)
{
    Placement pl = {xcalloc((size_t)g->values.n, sizeof(int64_t)),
                    xcalloc((size_t)g->nodes.n + 1, sizeof(int64_t)), 0};
    const Value *in = g->inputs.v[0], *out = g->outputs.v[0];
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        const Value *v = n->out;
        if (v == out) {
            pl.voff[v->id] = AT_OUTPUT;
        } else {
            if (v->offset < 0 || v->offset % VX_ALIGN || v->bytes < 4 * shape_numel(v->shape, 1))
                bug("value %%%d of %s has no valid place in the memory plan", v->id, n->name);
            pl.voff[v->id] = v->offset;
            if (v->offset + v->bytes > pl.arena)
                pl.arena = v->offset + v->bytes;
        }
        pl.soff[i] = -1;
        if (n->scratch) {
            if (n->scratch_offset < 0 || n->scratch_offset % VX_ALIGN)
                bug("the scratch of %s has no valid place in the memory plan", n->name);
            pl.soff[i] = n->scratch_offset;
            if (n->scratch_offset + n->scratch > pl.arena)
                pl.arena = n->scratch_offset + n->scratch;
        }
    }
    pl.arena = align_up(pl.arena, VX_ALIGN);
    pl.voff[in->id] = AT_INPUT;
    return pl;
}

/* The C expression for the buffer of value v in run(): input, output, or
 * the arena pointer declared for it (emit_arena_names). */
static char *
buffer_expr(const Placement *pl, const Value *v)
{
    int64_t off = pl->voff[v->id];
    if (off == AT_INPUT)
        return xstrdup("input");
    if (off == AT_OUTPUT)
        return xstrdup("output");
    return xprintf("v%d", v->id);
}

/* One named pointer per arena buffer, with where it lies and who writes it. */
static void
emit_arena_names(Emitter *e, const Graph *g, const Placement *pl)
{
    char b[SHAPE_STRLEN];
    emit(e, "/* arena buffers: offsets and sizes per image, in floats, times the batch */");
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        int64_t off = pl->voff[n->out->id];
        if (off >= 0)
            emit(e, "float *const v%d = a + %" PRId64 " * bt; /* %s output of %s, [%" PRId64 ", %" PRId64 ") */",
                 n->out->id, off / 4, shape_str(n->out->shape, b, sizeof b), n->name, off / 4,
                 off / 4 + shape_numel(n->out->shape, 1));
        if (pl->soff[i] >= 0)
            emit(e, "float *const scratch_%s = a + %" PRId64 " * bt; /* [%" PRId64 ", %" PRId64 ") */",
                 n->name, pl->soff[i] / 4, pl->soff[i] / 4, (pl->soff[i] + n->scratch) / 4);
    }
}

/* ---------------------------------------------------------------- header */

static const struct {
    const char *name;   /* NAME_ERR_<name> */
    int code;           /* VX_ERR_* */
} error_codes[] = {
    {"OK", VX_OK},
    {"ERR_ARG", VX_ERR_ARG},
    {"ERR_BATCH", VX_ERR_BATCH},
    {"ERR_NOMEM", VX_ERR_NOMEM},
    {"ERR_OPEN", VX_ERR_OPEN},
    {"ERR_READ", VX_ERR_READ},
    {"ERR_TRUNCATED", VX_ERR_TRUNCATED},
    {"ERR_MAGIC", VX_ERR_MAGIC},
    {"ERR_VERSION", VX_ERR_VERSION},
    {"ERR_MODEL", VX_ERR_MODEL},
    {"ERR_SIZE", VX_ERR_SIZE},
    {"ERR_LAYOUT", VX_ERR_LAYOUT},
    {"ERR_CRC", VX_ERR_CRC},
    {"ERR_EMBEDDED", VX_ERR_EMBEDDED},
    {"ERR_TABLE", VX_ERR_TABLE},
};

static void
emit_shape_macros(Emitter *e, const char *up, const char *what, const Value *v)
{
    char b[SHAPE_STRLEN];
    emit(e, "/* %s %s, NCHW float32 */", what, shape_str(v->shape, b, sizeof b));
    const char *axis[] = {"N", "C", "H", "W"};
    for (int k = 1; k < v->shape.rank; k++)
        emit(e, "#define %s_%s_%s %" PRId64, up, what, axis[k], v->shape.dim[k]);
    emit(e, "#define %s_%s_SIZE %" PRId64 " /* floats per image */", up, what,
         shape_numel(v->shape, 1));
    emit(e, "#define %s_%s_RANK %d", up, what, v->shape.rank);
    char dims[SHAPE_STRLEN] = "";
    size_t k = 0;
    for (int i = 1; i < v->shape.rank; i++)
        k += (size_t)snprintf(dims + k, sizeof dims - k, "%s%" PRId64, i > 1 ? ", " : "", v->shape.dim[i]);
    emit(e, "#define %s_%s_SHAPE {%s} /* per image: the dims after N */", up, what, dims);
}

static void
emit_header(Emitter *e, const Graph *g, const CodegenOptions *o, const char *hname,
            const WeightsImage *w, const char *wsha)
{
    const char *name = codegen_name(g, o);
    char *ht = handle_type(o, name);
    char *up = upper_case(name);
    char *guard = upper_case(hname);
    for (char *p = guard; *p; p++)
        if (!isalnum((unsigned char)*p))
            *p = '_';
    emit(e, "/*");
    emit(e, " * %s — C API of model %s, generated by visec.  Do not edit.", hname, g->name);
    emit(e, " *");
    emit(e, " *   %s *m;", ht);
    if (o->embed)
        emit(e, " *   int err = %s_open(NULL, &m);       (weights are embedded)", name);
    else
        emit(e, " *   int err = %s_open(\"%s.weights\", &m);", name, name);
    emit(e, " *   if (err) { fprintf(stderr, \"%%s\\n\", %s_strerror(err)); ... }", name);
    emit(e, " *   err = %s_run(m, batch, input, output);", name);
    emit(e, " *   %s_close(m);", name);
    emit(e, " *");
    emit(e, " * input and output are contiguous NCHW float32 arrays of batch * %s_INPUT_SIZE", up);
    emit(e, " * and batch * %s_OUTPUT_SIZE floats; they must not overlap.  Every function", up);
    emit(e, " * returns %s_OK (0) or a negative %s_ERR_* code.  One handle must not be", up, up);
    emit(e, " * used by two threads at once; different handles may run concurrently.");
    emit(e, " *");
    emit_identity_comment(e, o, &w->h, wsha);
    emit(e, " */");
    emit(e, "#ifndef %s", guard);
    emit(e, "#define %s", guard);
    emit_blank(e);
    emit(e, "#ifdef __cplusplus");
    emit(e, "extern \"C\" {");
    emit(e, "#endif");
    emit_blank(e);
    emit_shape_macros(e, up, "INPUT", g->inputs.v[0]);
    emit_shape_macros(e, up, "OUTPUT", g->outputs.v[0]);
    emit(e, "#define %s_EMBEDDED_WEIGHTS %d /* 1: open() takes NULL as the path */", up, o->embed);
    emit_blank(e);
    emit(e, "/* Error codes; %s_strerror() gives the message. */", name);
    for (size_t i = 0; i < sizeof error_codes / sizeof error_codes[0]; i++) {
        if (error_codes[i].code)
            emit(e, "#define %s_%s (%d) /* %s */", up, error_codes[i].name, error_codes[i].code,
                 vx_strerror(error_codes[i].code));
        else
            emit(e, "#define %s_%s 0", up, error_codes[i].name);
    }
    emit_blank(e);
    if (o->runtime == RUNTIME_HALIDE)
        emit(e, "struct %s; /* a handle; the name %s itself is the Halide entry point */", name, name);
    else
        emit(e, "typedef struct %s %s;", name, name);
    emit_blank(e);
    if (o->embed)
        emit(e, "/* Checks the embedded weights and makes a handle; weights_path must be NULL. */");
    else
        emit(e, "/* Reads and checks the weights file and makes a handle in *model. */");
    emit(e, "int %s_open(const char *weights_path, %s **model);", name, ht);
    emit(e, "/* Runs batch >= 1 images: input [batch][%s_INPUT_SIZE] -> output. */", up);
    emit(e, "int %s_run(%s *model, int batch, const float *input, float *output);", name, ht);
    emit(e, "/* Frees the handle and everything it holds; NULL is fine. */");
    emit(e, "void %s_close(%s *model);", name, ht);
    emit(e, "/* The message for an error code. */");
    emit(e, "const char *%s_strerror(int err);", name);
    if (o->runtime == RUNTIME_HALIDE)
        halide_emit_header(e, g, o);
    emit_blank(e);
    emit_identity_decls(e, o, name, up);
    emit_blank(e);
    emit(e, "#ifdef __cplusplus");
    emit(e, "}");
    emit(e, "#endif");
    emit(e, "#endif");
    free(up);
    free(guard);
    free(ht);
}

/* ---------------------------------------------------------------- source */

/* The text of the source line at loc, comment-safe; "" if unknown. */
static char *
source_line(Loc loc)
{
    if (!loc.src || loc.line < 1)
        return xstrdup("");
    const char *p = loc.src->text;
    for (int l = 1; l < loc.line && p; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return xstrdup("");
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    char *raw = xmalloc(n + 1);
    memcpy(raw, p, n);
    raw[n] = '\0';
    char *r = comment_safe(raw);
    free(raw);
    return r;
}

/* " *   head text" of a layer comment, the text wrapped at spaces to EMIT_LINE_MAX under itself. */
static void
emit_comment_field(Emitter *e, const char *head, const char *text)
{
    int room = EMIT_LINE_MAX - 4 * (e->depth - e->shift) - (int)strlen(head) - 5;
    const char *p = text;
    bool first = true;
    while (*p) {
        int take = (int)strlen(p);
        if (take > room) {
            int cut = room;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            take = cut > 0 ? cut : take;
        }
        emit(e, " *   %s%.*s", first ? head : "           ", take, p);
        p += take;
        while (*p == ' ')
            p++;
        first = false;
    }
}

static void
emit_layer_comment(Emitter *e, const Node *n, const Schedule *s)
{
    char b[SHAPE_STRLEN];
    char *t;
    emit(e, "/*");
    emit(e, " * layer %s: %s", n->name, op_name(n->op));
    if (n->loc.src) {
        t = source_line(n->loc);
        char *path = comment_safe(n->loc.src->path);
        char *src = xprintf("%s:%d: %s", path, n->loc.line, t);
        emit_comment_field(e, "source:    ", src);
        free(src);
        free(path);
        free(t);
    } else {
        emit(e, " *   source:    (made by the compiler)");
    }
    if (n->trace) {
        t = comment_safe(n->trace);
        emit_comment_field(e, "expanded:  ", t);
        free(t);
    }
    char at[256], lay[32];
    emit(e, " *   attrs:     %s", attrs_text(n, ATTRS_COMMENT, at, sizeof at));
    for (int k = 0; k < n->nin; k++)
        emit(e, " *   %s %%%d %s%s", k == 0 ? "input:    " : "residual: ", n->in[k]->id,
             shape_str(n->in[k]->shape, b, sizeof b), value_layout(n->in[k], lay, sizeof lay));
    emit(e, " *   output:    %%%d %s%s", n->out->id, shape_str(n->out->shape, b, sizeof b),
         value_layout(n->out, lay, sizeof lay));
    for (int r = 0; r < P_MAX; r++) {
        const Tensor *w = n->param[r];
        if (!w)
            continue;
        char *nm = comment_safe(w->name);
        emit(e, " *   %-10s %s %s at file offset %" PRId64, param_suffix[r], nm,
             shape_str(w->shape, b, sizeof b), w->offset);
        free(nm);
        if (w->origin) {
            t = comment_safe(w->origin);
            emit(e, " *              (%s)", t);
            free(t);
        }
    }
    if (n->origin) {
        t = comment_safe(n->origin);
        emit_comment_field(e, "origin:    ", t);
        free(t);
    }
    t = sched_text(n, s);
    emit(e, " *   schedule:  %s", t);
    free(t);
    if (node_macs(n))
        emit(e, " *   MACs:      %" PRId64 " per image", node_macs(n));
    emit(e, " */");
}

static void
emit_layer(Emitter *e, const Node *n)
{
    const Schedule *s = &n->sched;
    if (s->algo == ALGO_NONE)
        bug("layer %s reached codegen unscheduled", n->name);
    char *fn = xprintf("layer_%s", n->name);
    if (e->outline) {
        /* Halide runtime: parallel loops become task functions (emit_par.c), written
           before the layer; errors of halide_do_par_for are returned. */
        outline_layer_begin(e, fn);
        emit_layer_comment(e, n, s);
        emit(e, "static int");
        emit(e, "layer_%s(void *user_context, const unsigned char *wb, int batch, const float *x,", n->name);
        emit(e, "%*sconst float *x2, float *y, float *scratch)", (int)strlen(n->name) + 7, "");
        emit_scope(e, fn);
        emit(e, "(void)user_context;");
        emit_op(e, n, s);
        emit(e, "return 0;");
        emit_end(e, fn);
        emit_blank(e);
        outline_layer_end(e);
        free(fn);
        return;
    }
    emit_layer_comment(e, n, s);
    emit(e, "static void");
    emit(e, "layer_%s(const unsigned char *wb, int batch, const float *x, const float *x2,", n->name);
    emit(e, "%*sfloat *y, float *scratch)", (int)strlen(n->name) + 7, "");
    emit_scope(e, fn);
    emit_op(e, n, s);
    emit_end(e, fn);
    free(fn);
    emit_blank(e);
}

/* The layer calls of a run, in schedule order, with the arena's named buffers;
 * with the Halide runtime each returns an error code that stops the run. */
static void
emit_layer_calls(Emitter *e, const Graph *g, const Placement *pl, const char *up, bool halide)
{
    const Value *out = g->outputs.v[0];
    char b[SHAPE_STRLEN];
    emit_arena_names(e, g, pl);
    if (!out->def)
        emit(e, "memmove(output, input, bt * %s_INPUT_SIZE * sizeof(float));", up);
    for (int i = 0; i < g->nodes.n; i++) {
        const Node *n = g->nodes.v[i];
        char *x = buffer_expr(pl, n->in[0]);
        char *x2 = n->nin > 1 ? buffer_expr(pl, n->in[1]) : xstrdup("NULL");
        char *y = buffer_expr(pl, n->out);
        char *sc = pl->soff[i] >= 0 ? xprintf("scratch_%s", n->name) : xstrdup("NULL");
        if (n->nin > 1)
            emit(e, "/* %%%d %s = %s %%%d, %%%d */", n->out->id, shape_str(n->out->shape, b, sizeof b),
                 op_name(n->op), n->in[0]->id, n->in[1]->id);
        else
            emit(e, "/* %%%d %s = %s %%%d */", n->out->id, shape_str(n->out->shape, b, sizeof b),
                 op_name(n->op), n->in[0]->id);
        if (halide) {
            emit(e, "VX_LAYER(%d, err = layer_%s(user_context, wb, batch, %s, %s, %s, %s));", i, n->name, x, x2, y, sc);
            emit(e, "if (err)");
            emit(e, "    return err;");
        } else {
            emit(e, "VX_LAYER(%d, layer_%s(wb, batch, %s, %s, %s, %s));", i, n->name, x, x2, y, sc);
        }
        free(x);
        free(x2);
        free(y);
        free(sc);
    }
}

/*
 * Halide runtime: vx_forward(), the layers of a run, the one implementation
 * behind NAME_run() and the Halide entry point NAME() (emit_halide.c).
 */
static void
emit_forward(Emitter *e, const Graph *g, const Placement *pl, const char *up)
{
    emit(e, "/* The layers of a run, on an arena of batch images; prof gets seconds per layer");
    emit(e, "   (-DVX_PROFILE) or is NULL.  Returns 0 or halide_do_par_for's error. */");
    emit(e, "static int");
    emit(e, "vx_forward(void *user_context, const unsigned char *wb, float *a, int batch, const float *input,");
    emit(e, "           float *output, double *prof)");
    emit_scope(e, NULL);
    emit(e, "const size_t bt = (size_t)batch;");
    emit(e, "int err = 0;");
    emit(e, "(void)a;");
    emit(e, "(void)bt;");
    emit(e, "(void)prof;");
    emit(e, "(void)err;");
    emit_layer_calls(e, g, pl, up, true);
    emit(e, "return 0;");
    emit_end(e, NULL);
    emit_blank(e);
}

/* OpenMP runtime: vx_forward(), the layers of a run on an arena of batch
 * images, behind NAME_run(). */
static void
emit_forward_omp(Emitter *e, const Graph *g, const Placement *pl, const char *up)
{
    emit(e, "/* The layers of a run, on an arena of batch images (offsets times the batch); prof gets");
    emit(e, "   seconds per layer (-DVX_PROFILE) or is NULL. */");
    emit(e, "static void");
    emit(e, "vx_forward(const unsigned char *wb, float *a, int batch, const float *input, float *output, double *prof)");
    emit_scope(e, NULL);
    emit(e, "const size_t bt = (size_t)batch;");
    emit(e, "(void)a;");
    emit(e, "(void)bt;");
    emit(e, "(void)prof;");
    emit_layer_calls(e, g, pl, up, false);
    emit_end(e, NULL);
    emit_blank(e);
}

#define API_TEMPLATE "runtime/vx_api.c.in"

/* Section fn of the API template, its ${key} (if not NULL) filled with
 * section part, or nothing if part is NULL. */
static void
emit_api_function(Emitter *e, const char *const *vars, const char *fn, const char *key, const char *part)
{
    const char *all[16];
    int n = 0;
    for (; vars[n]; n++) {
        if (n + 3 >= 16)
            bug("emit_api_function: too many template keys");
        all[n] = vars[n];
    }
    char *text = part ? template_text(API_TEMPLATE, part, vars) : xstrdup("");
    all[n] = key;
    all[n + 1] = text;
    all[n + 2] = NULL;
    emit_template(e, API_TEMPLATE, fn, all);
    free(text);
}

/* Pastes the runtime sources, without their includes of each other. */
static void
emit_runtime(Emitter *e)
{
    emit(e, "/* The visec runtime, copied verbatim from visec's runtime/ directory, with");
    emit(e, "   every function static so several models link into one program. */");
    emit(e, "#define VX_API static");
    for (int i = 0; runtime_source_names[i]; i++) {
        emit_blank(e);
        emit(e, "/* ==================================================== %s */", runtime_source_names[i]);
        const char *p = runtime_source_texts[i];
        while (*p) {
            size_t n = strcspn(p, "\n");
            if (!(n > 10 && !strncmp(p, "#include \"", 10)))
                fprintf(e->f, "%.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
    emit_blank(e);
}

/* Bytes per row of the embedded array: under C99's 4095-character minimum
   string length, and a multiple of VX_ALIGN. */
#define BLOB_ROW 4032

/* One row as a string literal split over lines: octal escapes where needed. */
static void
emit_blob_row(FILE *f, const unsigned char *p, size_t n)
{
    size_t col = 0;
    fputs("    \"", f);
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (col >= 100) {
            fputs("\"\n    \"", f);
            col = 0;
        }
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
            fputc((int)c, f);
            col++;
        } else {
            /* The shortest octal escape, unless the next character is an octal digit. */
            bool next_digit = i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7';
            if (next_digit || c >= 64)
                col += (size_t)fprintf(f, "\\%03o", c);
            else
                col += (size_t)fprintf(f, "\\%o", c);
        }
    }
    fputs("\",\n", f);
}

static void
emit_blob(Emitter *e, const WeightsImage *w)
{
    size_t rows = (w->size + BLOB_ROW - 1) / BLOB_ROW;
    emit(e, "/* The weights file image (%zu bytes), in rows of %d bytes. */", w->size, BLOB_ROW);
    emit(e, "static const union vx_blob_u vx_blob VX_BLOB_ALIGN = {{");
    for (size_t r = 0; r < rows; r++) {
        size_t n = w->size - r * BLOB_ROW < BLOB_ROW ? w->size - r * BLOB_ROW : BLOB_ROW;
        emit_blob_row(e->f, w->bytes + r * BLOB_ROW, n);
    }
    emit(e, "}};");
}

static void
emit_source(Emitter *e, const Graph *g, const CodegenOptions *o, const char *hname,
            const WeightsImage *w, const Placement *pl, const char *wsha)
{
    const char *name = codegen_name(g, o);
    char *up = upper_case(name);
    char *ht = handle_type(o, name);
    const Value *in = g->inputs.v[0], *out = g->outputs.v[0];
    GraphStats st = graph_stats(g);
    char b[SHAPE_STRLEN];

    emit(e, "/*");
    emit(e, " * %s.c — inference code for model %s, generated by visec.  Do not edit.", name,
         g->name);
    emit(e, " *");
    emit(e, " * %d layers, %" PRId64 " multiply-accumulates per image.  Input %s, output", g->nodes.n,
         st.macs, shape_str(in->shape, b, sizeof b));
    emit(e, " * %s.  Weights: %" PRIu64 " tensors, %" PRIu64 " bytes, %s.", shape_str(out->shape, b, sizeof b),
         w->h.count, w->h.data_size, o->embed ? "embedded below" : "read from the .weights file");
    emit(e, " * API: %s.  Conventions: docs/generated-code.md in visec.", hname);
    if (o->target) {
        const Target *t = o->target;
        emit(e, " *");
        emit(e, " * Scheduled for target %s (%s):", t->name, t->descr);
        emit(e, " *   %d float lanes x %d vector registers; caches assumed L1 %" PRId64 " KiB, L2 %" PRId64
             " KiB, L3 %" PRId64 " KiB;", t->lanes, t->vregs, t->l1 >> 10, t->l2 >> 10, t->l3 >> 10);
        emit(e, " *   default register block %dx%d, Winograd F(2x2,3x3) from %d input channels and %d tiles.",
             t->reg_co, t->reg_pix, t->winograd_cin, t->winograd_tiles);
        if (t->winograd4_tiles)
            emit(e, " *   Winograd F(4x4,3x3) instead from %d 4x4 tiles.", t->winograd4_tiles);
        emit(e, " *   Each layer's comment gives its schedule.");
    }
    emit(e, " *");
    if (o->runtime == RUNTIME_HALIDE) {
        emit(e, " * Runtime: Halide's (--runtime halide): parallel loops run by halide_do_par_for,");
        emit(e, " * scratch from halide_malloc, errors through halide_error.");
        emit(e, " * Build: cc -std=c99 -O3%s%s -I<dir of HalideRuntime.h> -c %s.c",
             o->target && o->target->cflags[0] ? " " : "", o->target ? o->target->cflags : "", name);
        emit(e, " * (link with a Halide runtime, -lm -lpthread -ldl)");
    } else {
        emit(e, " * Build: cc -std=c99 -O3%s%s -fopenmp -c %s.c  (link with -lm -fopenmp)",
             o->target && o->target->cflags[0] ? " " : "", o->target ? o->target->cflags : "", name);
    }
    emit(e, " *   Any C99 compiler builds it: without -fopenmp it runs on one thread, without the");
    emit(e, " *   target's -march flag the plain-C reference kernels replace the vector ones.");
    emit(e, " *");
    emit_identity_comment(e, o, &w->h, wsha);
    emit(e, " */");
    emit(e, "/* -DVX_PROFILE times every layer (POSIX clock_gettime); close() prints them. */");
    emit(e, "#if defined(VX_PROFILE) && !defined(_POSIX_C_SOURCE)");
    emit(e, "#define _POSIX_C_SOURCE 199309L");
    emit(e, "#endif");
    emit(e, "#include <math.h>");
    emit(e, "#include <stddef.h>");
    emit(e, "#include <stdint.h>");
    emit(e, "#include <stdlib.h>");
    emit(e, "#include <string.h>");
    emit_blank(e);
    emit(e, "#include \"%s\"", hname);
    emit_blank(e);
    kernel_emit_includes(e, o->target);
    if (o->runtime == RUNTIME_HALIDE) {
        halide_emit_prelude(e);
    } else {
        emit(e, "/* OpenMP pragmas, only when compiling with OpenMP (no unknown-pragma warnings). */");
        emit(e, "#ifdef _OPENMP");
        emit(e, "#include <omp.h>");
        emit(e, "#define VX_OMP(x) _Pragma(#x)");
        emit(e, "#else");
        emit(e, "#define VX_OMP(x)");
        emit(e, "#endif");
        emit_blank(e);
    }
    emit(e, "/* VX_LAYER(i, call): layer i of run(), timed with -DVX_PROFILE. */");
    emit(e, "#ifdef VX_PROFILE");
    emit(e, "#include <stdio.h>");
    emit(e, "#include <time.h>");
    emit(e, "static double");
    emit(e, "vx_now(void)");
    emit_scope(e, NULL);
    emit(e, "struct timespec t;");
    emit(e, "clock_gettime(CLOCK_MONOTONIC, &t);");
    emit(e, "return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;");
    emit_end(e, NULL);
    emit(e, "#define VX_LAYER(i, call) do { double t0_ = vx_now(); call; if (prof) prof[i] += vx_now() - t0_; } while (0)");
    emit(e, "#else");
    emit(e, "#define VX_LAYER(i, call) call");
    emit(e, "#endif");
    emit_blank(e);
    emit_runtime(e);

    emit(e, "/* ==================================================== model %s */", g->name);
    emit_blank(e);
    emit(e, "/* What the weights must be: checked by open() before any use. */");
    emit(e, "#define VX_MODEL_NAME \"%s\"", name);
    emit(e, "#define VX_TENSOR_COUNT UINT64_C(%" PRIu64 ")", w->h.count);
    emit(e, "#define VX_DATA_SIZE UINT64_C(%" PRIu64 ")", w->h.data_size);
    emit(e, "#define VX_LAYOUT_HASH UINT64_C(0x%016" PRIx64 ")", w->h.layout_hash);
    emit_blank(e);
    emit(e, "/* Activations and scratch, bytes per image (the memory plan); the arena of a run");
    emit(e, "   holds batch times this, every offset multiplied by the batch. */");
    emit(e, "#define VX_ARENA_BYTES ((size_t)%" PRId64 ")", pl->arena > 0 ? pl->arena : VX_ALIGN);
    int64_t maxb = pl->arena;
    if (4 * shape_numel(in->shape, 1) > maxb)
        maxb = 4 * shape_numel(in->shape, 1);
    if (4 * shape_numel(out->shape, 1) > maxb)
        maxb = 4 * shape_numel(out->shape, 1);
    emit(e, "/* Largest batch whose byte sizes fit in a ptrdiff_t. */");
    emit(e, "#define VX_MAX_BATCH ((size_t)PTRDIFF_MAX / %" PRId64 ")", maxb > 0 ? maxb : 1);
    emit_blank(e);
    if (o->embed) {
        emit(e, "/* The embedded weights file image (defined at the end of this file). */");
        emit(e, "#define VX_BLOB_ROW %d", BLOB_ROW);
        emit(e, "#define VX_BLOB_ROWS %zu", (w->size + BLOB_ROW - 1) / BLOB_ROW);
        emit(e, "#define VX_BLOB_SIZE ((size_t)%zu)", w->size);
        emit_open(e, NULL, "union vx_blob_u");
        emit(e, "unsigned char b[VX_BLOB_ROWS][VX_BLOB_ROW];");
        emit(e, "double align; /* at least 8-byte alignment without compiler extensions */");
        emit_end_raw(e, "};");
        emit(e, "#if defined(__GNUC__)");
        emit(e, "#define VX_BLOB_ALIGN __attribute__((aligned(%d)))", VX_ALIGN);
        emit(e, "#else");
        emit(e, "#define VX_BLOB_ALIGN");
        emit(e, "#endif");
        emit(e, "static const union vx_blob_u vx_blob VX_BLOB_ALIGN;");
        emit_blank(e);
    }

    emit(e, "/* A model handle. */");
    emit_open(e, NULL, "struct %s", name);
    emit(e, "const unsigned char *wb; /* the checked weights file image */");
    emit(e, "void *wowned;            /* what to free at close, NULL if nothing */");
    emit(e, "float *arena;            /* activations and scratch of arena_batch images */");
    emit(e, "int arena_batch;         /* images the arena holds; 0 before the first run */");
    emit(e, "#ifdef VX_PROFILE");
    emit(e, "double prof[%d];         /* seconds spent in each layer over all runs */", g->nodes.n > 0 ? g->nodes.n : 1);
    emit(e, "int runs;                /* runs timed */");
    emit(e, "double images;           /* images those runs computed */");
    emit(e, "#endif");
    emit_end_raw(e, "};");
    emit_blank(e);
    emit(e, "#ifdef VX_PROFILE");
    emit_open(e, NULL, "static const char *const vx_layer_names[] =");
    for (int i = 0; i < g->nodes.n; i++)
        emit(e, "    \"%s\",", ((const Node *)g->nodes.v[i])->name);
    emit(e, "    \"\"");
    emit_end_raw(e, "};");
    emit(e, "/* floating-point operations per image of each layer: 2 per multiply-accumulate */");
    emit_open(e, NULL, "static const double vx_layer_flops[] =");
    for (int i = 0; i < g->nodes.n; i++)
        emit(e, "    %" PRId64 ".0,", 2 * node_macs(g->nodes.v[i]));
    emit(e, "    0.0");
    emit_end_raw(e, "};");
    emit(e, "#endif");
    emit_blank(e);

    if (o->runtime == RUNTIME_HALIDE)
        outline_attach(e);
    /* The kernel functions a layer brings go before it; a first pass over the layers, which
       writes nothing, sees every block of each kernel (kernel_fn.c). */
    for (int pass = 0; pass < 2; pass++) {
        kernels_survey(e, pass == 0);
        for (int i = 0; i < g->nodes.n; i++) {
            kernels_layer_begin(e);
            emit_layer(e, g->nodes.v[i]);
            kernels_layer_end(e);
        }
    }
    kernels_free(e);
    if (o->runtime == RUNTIME_HALIDE)
        outline_detach(e);
    if (o->runtime == RUNTIME_HALIDE)
        emit_forward(e, g, pl, up);
    else
        emit_forward_omp(e, g, pl, up);

    /* The API functions (runtime/vx_api.c.in). */
    bool hl = o->runtime == RUNTIME_HALIDE;
    char *layers = xprintf("%d", g->nodes.n);
    const char *vars[] = {"name", name, "UP", up, "handle", ht, "layers", layers,
                          "blob", o->embed ? "(const unsigned char *)&vx_blob, VX_BLOB_SIZE" : "NULL, 0", NULL};
    emit_api_function(e, vars, "open", NULL, NULL);
    emit_api_function(e, vars, "run", "run_body", hl ? "run_halide" : "run_openmp");
    emit_api_function(e, vars, "close", "close_arena", hl ? "close_arena_halide" : "close_arena_openmp");
    emit_api_function(e, vars, "strerror", "strerror_runtime", hl ? "strerror_halide" : NULL);
    free(layers);
    if (o->runtime == RUNTIME_HALIDE) {
        emit_blank(e);
        halide_emit_entry(e, g, o);
    }
    emit_blank(e);
    emit_identity_defs(e, name, up, o, &w->h, wsha);

    if (o->embed) {
        emit_blank(e);
        emit_blob(e, w);
    }
    free(up);
    free(ht);
}

void
codegen_emit(Graph *g, const CodegenOptions *o, const char *hname, FILE *h, FILE *c, FILE *w)
{
    const char *name = codegen_name(g, o);
    PtrVec order = weight_order(g);
    WeightsImage img = weights_image(g, name, &order);
    Placement pl = place_buffers(g);
    char wsha[SHA256_HEX];
    sha256_hex(img.bytes, img.size, wsha);
    Emitter e = {.f = h};
    emit_header(&e, g, o, hname, &img, wsha);
    e = (Emitter){.f = c, .target = o->target};
    emit_source(&e, g, o, hname, &img, &pl, wsha);
    if (w && !o->embed)
        fwrite(img.bytes, 1, img.size, w);
    free(img.bytes);
    free(order.v);
    free(pl.voff);
    free(pl.soff);
}
