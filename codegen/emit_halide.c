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
 * docs/generated-code.md describes the convention.
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
    char *up = xstrdup(name);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
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

void
halide_emit_prelude(Emitter *e)
{
    emit(e, "/* Halide's runtime API (HalideRuntime.h, from Halide's include directory):");
    emit(e, "   halide_buffer_t, the thread pool, the allocator and the error handler. */");
    emit(e, "#include <stdio.h>");
    emit(e, "#include \"HalideRuntime.h\"");
    emit_blank(e);
    emit(e, "/* Tasks per parallel loop at most (build with -DVX_HL_TASKS=N to change): each task");
    emit(e, "   takes a contiguous share of the loop's iterations.  More tasks than threads let");
    emit(e, "   the pool balance the load; each task costs a trip through the pool's queue. */");
    emit(e, "#ifndef VX_HL_TASKS");
    emit(e, "#define VX_HL_TASKS 64");
    emit(e, "#endif");
    emit_blank(e);
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
    char *up = xstrdup(name);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);

    emit(e, "/* ==================================================== Halide entry points */");
    emit_blank(e);
    emit(e, "/* A halide_type_t as the bits halide_error_bad_type() takes. */");
    emit(e, "#define VX_HL_TYPE(code, bits, lanes) ((uint32_t)(code) | (uint32_t)(bits) << 8 | (uint32_t)(lanes) << 16)");
    if (!o->embed)
        emit(e, "#define VX_HL_WEIGHTS_BYTES ((int64_t)VX_HEADER_SIZE + (int64_t)VX_DATA_SIZE)");
    emit(e, "/* Largest batch: sizes fit in a ptrdiff_t and Halide's int32 extents and strides. */");
    emit(e, "#define VX_HL_MAX_BATCH (VX_MAX_BATCH < (size_t)INT32_MAX / %" PRId64 " ? (int)VX_MAX_BATCH : "
         "(int)(INT32_MAX / %" PRId64 "))", per_image, per_image);
    emit(e, "/* The target string of the metadata (Halide's canonical form where known). */");
    emit(e, "#if defined(__x86_64__) && defined(__linux__)");
    emit(e, "#define VX_HL_TARGET \"x86-64-linux\"");
    emit(e, "#elif defined(__aarch64__) && defined(__linux__)");
    emit(e, "#define VX_HL_TARGET \"arm-64-linux\"");
    emit(e, "#elif defined(__x86_64__) && defined(__APPLE__)");
    emit(e, "#define VX_HL_TARGET \"x86-64-osx\"");
    emit(e, "#elif defined(__aarch64__) && defined(__APPLE__)");
    emit(e, "#define VX_HL_TARGET \"arm-64-osx\"");
    emit(e, "#else");
    emit(e, "#define VX_HL_TARGET \"host\"");
    emit(e, "#endif");
    emit_blank(e);

    emit(e, "/* A bounds query: the buffer has neither host nor device memory. */");
    emit(e, "static int");
    emit(e, "vx_hl_is_query(const struct halide_buffer_t *b)");
    emit_scope(e, NULL);
    emit(e, "return b->host == NULL && b->device == 0;");
    emit_end(e, NULL);
    emit_blank(e);
    emit(e, "/* What every call checks, bounds queries too: the buffer, its type, its rank. */");
    emit(e, "static int");
    emit(e, "vx_hl_check_kind(const char *what, const char *name, const struct halide_buffer_t *b,");
    emit(e, "                 uint32_t type, int rank)");
    emit_scope(e, NULL);
    emit(e, "uint32_t given;");
    emit(e, "if (!b)");
    emit(e, "    return halide_error_buffer_argument_is_null(NULL, name);");
    emit(e, "given = VX_HL_TYPE(b->type.code, b->type.bits, b->type.lanes);");
    emit(e, "if (given != type)");
    emit(e, "    return halide_error_bad_type(NULL, what, given, type);");
    emit(e, "if (b->dimensions != rank)");
    emit(e, "    return halide_error_bad_dimensions(NULL, what, b->dimensions, rank);");
    emit_open(e, NULL, "if (!b->dim)");
    emit(e, "halide_error(NULL, \"%s: a buffer with dimensions but no dim array\\n\");", name);
    emit(e, "return halide_error_code_bad_dimensions;");
    emit_end(e, NULL);
    emit(e, "return 0;");
    emit_end(e, NULL);
    emit_blank(e);
    emit(e, "/* A bounds query's answer: mins 0, these extents, dense strides. */");
    emit(e, "static void");
    emit(e, "vx_hl_set_shape(struct halide_buffer_t *b, const int32_t *extent)");
    emit_scope(e, NULL);
    emit(e, "int64_t stride = 1;");
    emit(e, "int i;");
    emit_for(e, "i", "for (i = 0; i < b->dimensions; i++)");
    emit(e, "b->dim[i].min = 0;");
    emit(e, "b->dim[i].extent = extent[i];");
    emit(e, "b->dim[i].stride = (int32_t)stride;");
    emit(e, "stride *= extent[i];");
    emit_end(e, "i");
    emit_end(e, NULL);
    emit_blank(e);
    emit(e, "/* A message through halide_error(): \"%s: what: why\". */", name);
    emit(e, "static int");
    emit(e, "vx_hl_fail(int code, const char *what, const char *why)");
    emit_scope(e, NULL);
    emit(e, "char msg[256];");
    emit(e, "snprintf(msg, sizeof msg, \"%s: %%s: %%s\\n\", what, why);", name);
    emit(e, "halide_error(NULL, msg);");
    emit(e, "return code;");
    emit_end(e, NULL);
    emit_blank(e);
    emit(e, "/* Do [a, a + an) and [b, b + bn) overlap? */");
    emit(e, "static int");
    emit(e, "vx_hl_overlap(const void *a, size_t an, const void *b, size_t bn)");
    emit_scope(e, NULL);
    emit(e, "const uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;");
    emit(e, "return pa < pb + bn && pb < pa + an;");
    emit_end(e, NULL);
    emit_blank(e);
    emit(e, "/* Makes a buffer's host memory current (copied from the device if it is newer). */");
    emit(e, "static int");
    emit(e, "vx_hl_host(struct halide_buffer_t *b, const char *what)");
    emit_scope(e, NULL);
    emit_open(e, NULL, "if (b->flags & halide_buffer_flag_device_dirty)");
    emit(e, "const int err = halide_copy_to_host(NULL, b);");
    emit(e, "if (err)");
    emit(e, "    return err;");
    emit_end(e, NULL);
    emit(e, "if (!b->host)");
    emit(e, "    return halide_error_host_is_null(NULL, what);");
    emit(e, "if ((uintptr_t)b->host %% sizeof(float) != 0)");
    emit(e, "    return halide_error_unaligned_host_ptr(NULL, what, (int)sizeof(float));");
    emit(e, "return 0;");
    emit_end(e, NULL);
    emit_blank(e);

    /* The entry point. */
    emit(e, "/*");
    emit(e, " * %s(%s%s, %s): Halide's AOT calling convention (NAME.h).  Checks every", name,
         o->embed ? "" : "weights, ", in.name, out.name);
    emit(e, " * buffer, answers bounds queries, then runs the layers on one halide_malloc'd");
    emit(e, " * arena, their parallel loops on halide_do_par_for.");
    emit(e, " */");
    emit(e, "int");
    emit(e, "%s(%sstruct halide_buffer_t *%s, struct halide_buffer_t *%s)", name,
         o->embed ? "" : "struct halide_buffer_t *weights, ", in.name, out.name);
    emit_scope(e, NULL);
    emit(e, "int vx_err, vx_batch;");
    emit(e, "float *vx_arena;");
    emit(e, "/* the buffers, their types and ranks */");
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        emit(e, "vx_err = vx_hl_check_kind(\"%s buffer %s\", \"%s\", %s, VX_HL_TYPE(%s, %d, 1), %d);",
             b->kind, b->name, b->name, b->name, i == 0 ? "halide_type_uint" : "halide_type_float",
             i == 0 ? 8 : 32, b->rank);
        emit(e, "if (vx_err)");
        emit(e, "    return vx_err;");
    }
    emit(e, "/* A bounds query: fill in the shapes of the query buffers.  The batch comes from");
    emit(e, "   the output, unless the output is a query itself: then from the input's extent");
    emit(e, "   (RunGen queries with the input's real shape and a guessed output). */");
    emit_open(e, NULL, "if (%svx_hl_is_query(%s) || vx_hl_is_query(%s))", o->embed ? "" : "vx_hl_is_query(weights) || ",
              in.name, out.name);
    emit(e, "vx_batch = %s->dim[%d].extent;", out.name, out.rank - 1);
    emit(e, "if (vx_hl_is_query(%s) && %s->dim[%d].extent >= 1)", out.name, in.name, in.rank - 1);
    emit(e, "    vx_batch = %s->dim[%d].extent;", in.name, in.rank - 1);
    emit_open(e, NULL, "if (vx_batch < 1 || vx_batch > VX_HL_MAX_BATCH)");
    emit(e, "vx_batch = vx_batch < 1 ? 1 : VX_HL_MAX_BATCH;");
    emit_end(e, NULL);
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        char *init = i == 0 ? xstrdup("{(int32_t)VX_HL_WEIGHTS_BYTES}") : shape_init(b);
        emit_open(e, NULL, "if (vx_hl_is_query(%s))", b->name);
        emit(e, "const int32_t extent[%d] = %s;", b->rank, init);
        emit(e, "vx_hl_set_shape(%s, extent);", b->name);
        emit_end(e, NULL);
        free(init);
    }
    emit(e, "return 0;");
    emit_end(e, NULL);

    emit(e, "/* A real call: the batch, then every buffer's shape */");
    emit(e, "vx_batch = %s->dim[%d].extent;", out.name, out.rank - 1);
    emit(e, "if (vx_batch < 1)");
    emit(e, "    return halide_error_param_too_small_i64(NULL, \"%s.extent.%d (the batch)\", vx_batch, 1);",
         out.name, out.rank - 1);
    emit(e, "if (vx_batch > VX_HL_MAX_BATCH)");
    emit(e, "    return halide_error_param_too_large_i64(NULL, \"%s.extent.%d (the batch)\", vx_batch, "
         "VX_HL_MAX_BATCH);", out.name, out.rank - 1);
    for (int i = 1; i < 3; i++)
        emit_shape_checks(e, bufs[i]);
    for (int i = first; i < 3; i++) {
        emit(e, "vx_err = vx_hl_host(%s, \"%s\");", bufs[i]->name, bufs[i]->name);
        emit(e, "if (vx_err)");
        emit(e, "    return vx_err;");
    }
    emit(e, "if (vx_hl_overlap(%s->host, (size_t)vx_batch * %s_INPUT_SIZE * sizeof(float), %s->host,", in.name,
         up, out.name);
    emit(e, "                  (size_t)vx_batch * %s_OUTPUT_SIZE * sizeof(float)))", up);
    emit(e, "    return vx_hl_fail(halide_error_code_generic_error, \"%s, %s\", \"the input and the output "
         "overlap in memory\");", in.name, out.name);
    emit(e, "/* the bytes are little-endian floats: a big-endian host needs %s_open() */", name);
    emit_scope(e, NULL);
    emit(e, "const uint16_t one = 1;");
    emit(e, "if (*(const unsigned char *)&one != 1)");
    emit(e, "    return vx_hl_fail(halide_error_code_generic_error, \"weights\", \"a big-endian host: use %s_open()\");",
         name);
    emit_end(e, NULL);
    if (!o->embed) {
        emit(e, "/* weights: the whole .weights file, its header as this build expects (the CRC is");
        emit(e, "   not checked per call: %s_open() does) */", name);
        emit(e, "if (weights->dim[0].min != 0)");
        emit(e, "    return halide_error_constraint_violated(NULL, \"weights.min.0\", weights->dim[0].min, \"0\", 0);");
        emit(e, "if (weights->dim[0].extent != VX_HL_WEIGHTS_BYTES)");
        emit(e, "    return halide_error_constraint_violated(NULL, \"weights.extent.0\", weights->dim[0].extent,");
        emit(e, "                                            \"the .weights file size\", (int)VX_HL_WEIGHTS_BYTES);");
        emit(e, "if (weights->dim[0].stride != 1)");
        emit(e, "    return halide_error_constraint_violated(NULL, \"weights.stride.0\", weights->dim[0].stride, \"1\", 1);");
        emit(e, "if (vx_hl_overlap(weights->host, (size_t)VX_HL_WEIGHTS_BYTES, %s->host,", out.name);
        emit(e, "                  (size_t)vx_batch * %s_OUTPUT_SIZE * sizeof(float)))", up);
        emit(e, "    return vx_hl_fail(halide_error_code_generic_error, \"weights, %s\", \"the weights and the "
             "output overlap in memory\");", out.name);
        emit_scope(e, NULL);
        emit(e, "static const vx_expect expect = {VX_MODEL_NAME, VX_TENSOR_COUNT, VX_DATA_SIZE, VX_LAYOUT_HASH};");
        emit(e, "vx_header h;");
        emit(e, "const int err = vx_check_header(weights->host, &expect, &h);");
        emit(e, "if (err)");
        emit(e, "    return vx_hl_fail(halide_error_code_generic_error, \"weights\", vx_strerror(err));");
        emit_end(e, NULL);
    }
    emit(e, "/* the arena, from halide_malloc */");
    emit(e, "vx_arena = (float *)halide_malloc(NULL, (size_t)vx_batch * VX_ARENA_BYTES);");
    emit(e, "if (!vx_arena)");
    emit(e, "    return halide_error_out_of_memory(NULL);");
    emit(e, "vx_err = vx_forward(NULL, %s, vx_arena, vx_batch, (const float *)(const void *)%s->host,",
         o->embed ? "(const unsigned char *)&vx_blob" : "weights->host", in.name);
    emit(e, "                    (float *)(void *)%s->host, NULL);", out.name);
    emit(e, "halide_free(NULL, vx_arena);");
    emit(e, "if (vx_err)");
    emit(e, "    return vx_err;");
    emit(e, "/* the output is on the host, newer than any device copy */");
    emit(e, "%s->flags = (%s->flags & ~(uint64_t)halide_buffer_flag_device_dirty) | halide_buffer_flag_host_dirty;",
         out.name, out.name);
    emit(e, "return 0;");
    emit_end(e, NULL);
    emit_blank(e);

    emit(e, "int");
    emit(e, "%s_argv(void **args)", name);
    emit_scope(e, NULL);
    if (o->embed)
        emit(e, "return %s((struct halide_buffer_t *)args[0], (struct halide_buffer_t *)args[1]);", name);
    else
        emit(e, "return %s((struct halide_buffer_t *)args[0], (struct halide_buffer_t *)args[1],\n"
             "                     (struct halide_buffer_t *)args[2]);", name);
    emit_end(e, NULL);
    emit_blank(e);

    emit(e, "/* Shape estimates (min, extent per dimension; batch 1) for Halide's tools. */");
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
    emit(e, "/* The arguments, in the order of %s()'s parameters. */", name);
    emit_open(e, NULL, "static const struct halide_filter_argument_t vx_hl_arguments[%d] =", 3 - first);
    for (int i = first; i < 3; i++) {
        const HlBuf *b = bufs[i];
        emit(e, "{\"%s\", %s, %d, {%s, %d, 1}, NULL, NULL, NULL, NULL, vx_hl_estimate_%d_p},", b->name,
             i == 2 ? "halide_argument_kind_output_buffer" : "halide_argument_kind_input_buffer", b->rank,
             i == 0 ? "halide_type_uint" : "halide_type_float", i == 0 ? 8 : 32, i);
    }
    emit_end_raw(e, "};");
    emit(e, "static const struct halide_filter_metadata_t vx_hl_metadata = {1, %d, vx_hl_arguments, "
         "VX_HL_TARGET, \"%s\"};", 3 - first, name);
    emit_blank(e);
    emit(e, "const struct halide_filter_metadata_t *");
    emit(e, "%s_metadata(void)", name);
    emit_scope(e, NULL);
    emit(e, "return &vx_hl_metadata;");
    emit_end(e, NULL);
    free(up);
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
