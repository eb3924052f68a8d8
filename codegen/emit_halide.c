/*
 * emit_halide.c — the Halide runtime's parts of a generated model
 * (--runtime halide): Halide's AOT calling convention beside the C API.
 *
 *   int NAME([struct halide_buffer_t *weights,] struct halide_buffer_t *IN,
 *            struct halide_buffer_t *OUT);
 *   int NAME_argv(void **args);
 *   const struct halide_filter_metadata_t *NAME_metadata(void);
 *   NAME.registration.cpp: registers the two with RunGenMain.cpp
 *
 * IN and OUT are the model's input and output names; their Halide
 * dimensions are the NCHW dims reversed (0 = width, 1 = height,
 * 2 = channels, 3 = batch), dense.  Both APIs run the same layer code
 * (vx_forward in NAME.c); the parallel loops are outlined by emit_par.c.
 * docs/generated-code.md describes the convention.  The fixed text is the
 * template runtime/vx_halide.c.in; this file fills it in and writes what
 * walks over the buffers and their dimensions.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "vx_runtime.h"

/* A buffer of the entry point, as the generated code checks it. */
typedef struct HlBuf {
    const char *name;   /* argument name: "weights", the input's or the output's */
    const char *kind;   /* "Input" or "Output", for messages */
    int rank;           /* Halide dimensions */
    int64_t extent[4];  /* required extents; the last is the batch (-1) except for weights */
} HlBuf;

static HlBuf
hl_tensor(const char *name, const char *kind, const Value *v)
{
    HlBuf b = {name, kind, v->shape.rank, {0}};
    for (int k = 0; k < v->shape.rank - 1; k++)
        b.extent[k] = v->shape.dim[v->shape.rank - 1 - k];
    b.extent[v->shape.rank - 1] = -1;
    return b;
}

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "bool", "true", "false", NULL,
};

/* Can name be a parameter of the entry point?  NULL if so, else why not. */
static const char *
bad_arg_name(const char *name, const char *model)
{
    for (int i = 0; c_keywords[i]; i++)
        if (!strcmp(name, c_keywords[i]))
            return "is a C keyword";
    if (!strcmp(name, "weights"))
        return "is the name of the weights argument";
    if (!strncmp(name, "vx_", 3) || !strncmp(name, "layer_", 6) || !strncmp(name, "halide_", 7))
        return "clashes with the generated code's names (vx_*, layer_*, halide_*)";
    if (!strcmp(name, model))
        return "is the model's name";
    return NULL;
}

bool
halide_check(const Graph *g, const CodegenOptions *o, Diag *d)
{
    int before = d->nerrors;
    if (g->inputs.n != 1 || g->outputs.n != 1)
        return true;    /* codegen_check() says so */
    const char *in = ((const Value *)g->inputs.v[0])->name, *out = g->outnames.v[0];
    const char *why;
    if ((why = bad_arg_name(in, codegen_name(g, o))) != NULL)
        error_plain(d, "--runtime halide: the input '%s' %s; Halide's calling convention names "
                    "the arguments after the input and output (rename it)", in, why);
    if ((why = bad_arg_name(out, codegen_name(g, o))) != NULL)
        error_plain(d, "--runtime halide: the output '%s' %s; Halide's calling convention names "
                    "the arguments after the input and output (rename it)", out, why);
    if (!strcmp(in, out))
        error_plain(d, "--runtime halide: the input and the output are both called '%s'", in);
    return d->nerrors == before;
}

/* ---------------------------------------------------------------- NAME.h */

void
halide_emit_header(Emitter *e, const Graph *g, const CodegenOptions *o)
{
    const char *name = codegen_name(g, o);
    HlBuf in = hl_tensor(((const Value *)g->inputs.v[0])->name, "Input", g->inputs.v[0]);
    HlBuf out = hl_tensor(g->outnames.v[0], "Output", g->outputs.v[0]);
    char *up = upper_case(name);
    emit_blank(e);
    emit(e, "/* run() and the Halide entry point: halide_do_par_for reported an error. */");
    emit(e, "#define %s_ERR_RUNTIME (-14)", up);
    emit_blank(e);
    emit(e, "/*");
    emit(e, " * Halide's AOT calling convention (--runtime halide), as a Halide pipeline");
    emit(e, " * compiled ahead of time is called: buffers in Halide's dimension order,");
    for (int pass = 0; pass < 2; pass++) {
        const HlBuf *b = pass ? &out : &in;
        char dims[96] = "";
        size_t k = 0;
        for (int i = 0; i < b->rank - 1; i++)
            k += (size_t)snprintf(dims + k, sizeof dims - k, "%" PRId64 " x ", b->extent[i]);
        emit(e, " *   %-9s float32 [%sbatch]%s", b->name, dims,
             pass ? ", written" : " (dim 0 = width, ..., last = batch)");
    }
    if (!o->embed)
        emit(e, " *   weights   uint8 [%s.weights file size]: the file's bytes", name);
    emit(e, " * all with mins 0 and dense strides (NCHW memory).  A buffer with neither host");
    emit(e, " * nor device memory makes the call a bounds query: its shape is filled in and");
    emit(e, " * nothing is computed.  Returns 0 or a halide_error_code_t, after a message to");
    emit(e, " * halide_error().  Parallel loops run on halide_do_par_for, scratch comes from");
    emit(e, " * halide_malloc: link a Halide runtime (see docs/generated-code.md in visec).");
    emit(e, " */");
    emit(e, "struct halide_buffer_t;");
    emit(e, "struct halide_filter_metadata_t;");
    emit(e, "int %s(%sstruct halide_buffer_t *%s, struct halide_buffer_t *%s);", name,
         o->embed ? "" : "struct halide_buffer_t *weights, ", in.name, out.name);
    emit(e, "/* The same, with the arguments in an array (for Halide's RunGen). */");
    emit(e, "int %s_argv(void **args);", name);
    emit(e, "/* The arguments' names, kinds, types, dimensions and shape estimates. */");
    emit(e, "const struct halide_filter_metadata_t *%s_metadata(void);", name);
    free(up);
}

/* ---------------------------------------------------------------- NAME.c */

#define HALIDE_TEMPLATE "runtime/vx_halide.c.in"

void
halide_emit_prelude(Emitter *e)
{
    const char *none[] = {NULL};
    emit_template(e, HALIDE_TEMPLATE, "prelude", none);
}

/* An Emitter into memory: what it writes becomes the value of a template key. */
typedef struct Capture {
    Emitter e;          /* write with it at depth 0; the template indents */
    char *text;         /* after capture_end: the text (malloc'd) */
    size_t len;
} Capture;

static Emitter *
capture_begin(Capture *c)
{
    memset(c, 0, sizeof *c);
    c->e.f = open_memstream(&c->text, &c->len);
    if (!c->e.f)
        bug("open_memstream failed (out of memory)");
    return &c->e;
}

static char *
capture_end(Capture *c)
{
    if (fclose(c->e.f) != 0)
        bug("open_memstream failed (out of memory)");
    return c->text;
}

/* The checks of one real buffer's dims: mins 0, the extents, dense strides. */
static void
emit_shape_checks(Emitter *e, const HlBuf *b)
{
    emit(e, "/* %s: mins 0, extents as required, dense strides */", b->name);
    for (int i = 0; i < b->rank; i++) {
        emit(e, "if (%s->dim[%d].min != 0)", b->name, i);
        emit(e, "    return halide_error_constraint_violated(NULL, \"%s.min.%d\", %s->dim[%d].min, \"0\", 0);",
             b->name, i, b->name, i);
        const char *want = "vx_batch";
        char num[32];
        if (b->extent[i] >= 0) {
            snprintf(num, sizeof num, "%" PRId64, b->extent[i]);
            want = num;
        }
        if (!strcmp(b->kind, "Input")) {
            /* too small: out of bounds, as Halide reports a short input */
            emit(e, "if (%s->dim[%d].extent < %s)", b->name, i, want);
            emit(e, "    return halide_error_access_out_of_bounds(NULL, \"%s buffer %s\", %d, 0, %s - 1, 0, "
                 "%s->dim[%d].extent - 1);", b->kind, b->name, i, want, b->name, i);
        }
        emit(e, "if (%s->dim[%d].extent != %s)", b->name, i, want);
        emit(e, "    return halide_error_constraint_violated(NULL, \"%s.extent.%d\", %s->dim[%d].extent, "
             "\"%s\", %s);", b->name, i, b->name, i, b->extent[i] >= 0 ? want : "the batch", want);
        if (i == 0) {
            emit(e, "if (%s->dim[0].stride != 1)", b->name);
            emit(e, "    return halide_error_constraint_violated(NULL, \"%s.stride.0\", %s->dim[0].stride, "
                 "\"1\", 1);", b->name, b->name);
        } else {
            emit(e, "if (%s->dim[%d].stride != %s->dim[%d].stride * %s->dim[%d].extent)", b->name, i,
                 b->name, i - 1, b->name, i - 1);
            emit(e, "    return halide_error_constraint_violated(NULL, \"%s.stride.%d\", %s->dim[%d].stride, "
                 "\"the dense stride\", %s->dim[%d].stride * %s->dim[%d].extent);", b->name, i, b->name,
                 i, b->name, i - 1, b->name, i - 1);
        }
    }
}

/* The shape a bounds query gets: as an initializer of int32_t[rank]. */
static char *
shape_init(const HlBuf *b)
{
    char buf[128];
    size_t k = 0;
    for (int i = 0; i < b->rank; i++) {
        if (b->extent[i] >= 0)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%" PRId64, i ? ", " : "", b->extent[i]);
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%svx_batch", i ? ", " : "");
    }
    return xprintf("{%s}", buf);
}

/* static const int64_t estimates and the array of pointers to them. */
static void
emit_estimates(Emitter *e, const char *var, const HlBuf *b)
{
    char buf[256];
    size_t k = 0;
    for (int i = 0; i < b->rank; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s0, %" PRId64, i ? ", " : "",
                              b->extent[i] >= 0 ? b->extent[i] : 1);
    emit(e, "static const int64_t %s[%d] = {%s};", var, 2 * b->rank, buf);
    k = 0;
    for (int i = 0; i < 2 * b->rank; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s&%s[%d]", i ? ", " : "", var, i);
    emit(e, "static const int64_t *const %s_p[%d] = {%s};", var, 2 * b->rank, buf);
}

/* The parts of the entry point that walk over its buffers, for the template's keys. */
typedef struct EntryParts {
    char *check_kinds, *queries, *shape_checks, *hosts, *estimates, *arguments;
} EntryParts;

static EntryParts
entry_parts(const HlBuf *const *bufs, int first)
{
    EntryParts p;
    Capture c;
    Emitter *e = capture_begin(&c);
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        emit(e, "vx_err = vx_hl_check_kind(\"%s buffer %s\", \"%s\", %s, VX_HL_TYPE(%s, %d, 1), %d);",
             b->kind, b->name, b->name, b->name, i == 0 ? "halide_type_uint" : "halide_type_float",
             i == 0 ? 8 : 32, b->rank);
        emit(e, "if (vx_err)");
        emit(e, "    return vx_err;");
    }
    p.check_kinds = capture_end(&c);

    e = capture_begin(&c);
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        char *init = i == 0 ? xstrdup("{(int32_t)VX_HL_WEIGHTS_BYTES}") : shape_init(b);
        emit_open(e, NULL, "if (vx_hl_is_query(%s))", b->name);
        emit(e, "const int32_t extent[%d] = %s;", b->rank, init);
        emit(e, "vx_hl_set_shape(%s, extent);", b->name);
        emit_end(e, NULL);
        free(init);
    }
    p.queries = capture_end(&c);

    e = capture_begin(&c);
    for (int i = 1; i < 3; i++)
        emit_shape_checks(e, bufs[i]);
    p.shape_checks = capture_end(&c);

    e = capture_begin(&c);
    for (int i = first; i < 3; i++) {
        emit(e, "vx_err = vx_hl_host(%s, \"%s\");", bufs[i]->name, bufs[i]->name);
        emit(e, "if (vx_err)");
        emit(e, "    return vx_err;");
    }
    p.hosts = capture_end(&c);

    e = capture_begin(&c);
    for (int i = first; i < 3; i++) {
        char *var = xprintf("vx_hl_estimate_%d", i);
        if (i == 0) {
            emit(e, "static const int64_t %s[2] = {0, VX_HL_WEIGHTS_BYTES};", var);
            emit(e, "static const int64_t *const %s_p[2] = {&%s[0], &%s[1]};", var, var, var);
        } else {
            emit_estimates(e, var, bufs[i]);
        }
        free(var);
    }
    p.estimates = capture_end(&c);

    e = capture_begin(&c);
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        emit(e, "{\"%s\", %s, %d, {%s, %d, 1}, NULL, NULL, NULL, NULL, vx_hl_estimate_%d_p},", b->name,
             i == 2 ? "halide_argument_kind_output_buffer" : "halide_argument_kind_input_buffer", b->rank,
             i == 0 ? "halide_type_uint" : "halide_type_float", i == 0 ? 8 : 32, i);
    }
    p.arguments = capture_end(&c);
    return p;
}

void
halide_emit_entry(Emitter *e, const Graph *g, const CodegenOptions *o)
{
    const char *name = codegen_name(g, o);
    HlBuf in = hl_tensor(((const Value *)g->inputs.v[0])->name, "Input", g->inputs.v[0]);
    HlBuf out = hl_tensor(g->outnames.v[0], "Output", g->outputs.v[0]);
    HlBuf wts = {"weights", "Input", 1, {0}};
    const HlBuf *bufs[3] = {&wts, &in, &out};
    int first = o->embed ? 1 : 0;
    int64_t per_image = shape_numel(((const Value *)g->inputs.v[0])->shape, 1);
    if (shape_numel(((const Value *)g->outputs.v[0])->shape, 1) > per_image)
        per_image = shape_numel(((const Value *)g->outputs.v[0])->shape, 1);
    char *up = upper_case(name);
    char *pi = xprintf("%" PRId64, per_image), *ib = xprintf("%d", in.rank - 1), *ob = xprintf("%d", out.rank - 1);
    char *nargs = xprintf("%d", 3 - first);
    const char *base[] = {"name", name, "UP", up, "out", out.name, NULL};
    char *wdefine = o->embed ? xstrdup("") : template_text(HALIDE_TEMPLATE, "weights_define", base);
    char *wchecks = o->embed ? xstrdup("") : template_text(HALIDE_TEMPLATE, "weights_checks", base);
    char *argv = template_text(HALIDE_TEMPLATE, o->embed ? "argv_embedded" : "argv_weights", base);
    EntryParts p = entry_parts(bufs, first);
    const char *vars[] = {
        "name", name, "UP", up, "in", in.name, "out", out.name, "in_batch", ib, "out_batch", ob,
        "per_image", pi, "nargs", nargs, "weights_define", wdefine, "weights_checks", wchecks,
        "argv_return", argv,
        "weights_param", o->embed ? "" : "weights, ",
        "weights_arg", o->embed ? "" : "struct halide_buffer_t *weights, ",
        "query_weights", o->embed ? "" : "vx_hl_is_query(weights) || ",
        "wb", o->embed ? "(const unsigned char *)&vx_blob" : "weights->host",
        "check_kinds", p.check_kinds, "queries", p.queries, "shape_checks", p.shape_checks,
        "hosts", p.hosts, "estimates", p.estimates, "arguments", p.arguments, NULL,
    };
    emit_template(e, HALIDE_TEMPLATE, "entry", vars);
    char *parts[] = {up, pi, ib, ob, nargs, wdefine, wchecks, argv, p.check_kinds, p.queries,
                     p.shape_checks, p.hosts, p.estimates, p.arguments};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        free(parts[i]);
}

/* ---------------------------------------------------------------- registration */

void
codegen_emit_registration(const Graph *g, const CodegenOptions *o, FILE *f)
{
    const char *name = codegen_name(g, o);
    Emitter e0 = {.f = f}, *e = &e0;
    emit(e, "// %s.registration.cpp — registers %s with Halide's RunGenMain.cpp, as the", name, name);
    emit(e, "// registration file of a Halide generator does; generated by visec.  Do not edit.");
    emit(e, "//");
    emit(e, "//   c++ -std=c++17 -I<Halide include> -I<Halide tools> RunGenMain.cpp");
    emit(e, "//       %s.registration.cpp %s.o halide_runtime.o -lpthread -ldl -o %s.rungen", name, name, name);
    emit(e, "#include \"HalideRuntime.h\"");
    emit_blank(e);
    emit(e, "extern \"C\" {");
    emit(e, "int %s_argv(void **args);", name);
    emit(e, "const struct halide_filter_metadata_t *%s_metadata(void);", name);
    emit(e, "}");
    emit_blank(e);
    emit(e, "namespace {");
    emit_blank(e);
    emit(e, "struct Register_%s {", name);
    emit(e, "    Register_%s() {", name);
    emit(e, "        halide_register_argv_and_metadata(::%s_argv, ::%s_metadata(), nullptr);", name, name);
    emit(e, "    }");
    emit(e, "};");
    emit_blank(e);
    emit(e, "Register_%s register_%s;", name, name);
    emit_blank(e);
    emit(e, "}  // namespace");
}
