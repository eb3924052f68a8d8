/*
 * kernel_block.c — a conv's register block as a call of its kernel's
 * function: the parameters the block passes (strides, trip counts, its
 * origin), the body the function holds (the vector kernel of
 * kernel_simd.c under its '#if', the reference path of kernel_ref.c as the
 * '#else'), its name and comment; kernel_fn.c writes the function once and
 * the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

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

    /* Row guards: a block short of rows (guard_rows) stores rows from rows_sure on only if they are
       within mr.  The blocks of one kernel share its function, which guards the rows from the fewest
       any of them has (gathered by the survey pass). */
    KernelOut ko = fo;
    ko.guard_rows = false;
    ko.rows_sure = kb->MR;
    char *key = block_body(e, kb, &fkb, &ko, &p, constant, has, isa, co_isa);
    fo.rows_sure = kernel_fewest_rows(e, key, o->guard_rows ? o->rows_sure : kb->MR);
    if (fo.rows_sure < 0) {     /* the survey pass: nothing written */
        params_free(&p);
        return;
    }
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
