/*
 * kernel_ref.c — the plain-C reference kernel of a block reduction: what
 * every target's code falls back to, and the definition the vector kernels
 * must agree with.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"

void
kernel_open_reduction(Emitter *e, const KernelBlock *kb)
{
    const KernelTaps *t = kb->taps;
    if (!t) {
        emit_for(e, "k", "for (int k = %s; k < %s; k++)", kb->kfrom, kb->kto);
        kernel_step_row(e, kb, "k");
        return;
    }
    emit_for(e, "ci", "for (int ci = 0; ci < cin; ci++)");
    emit_for(e, "i", "for (int i = 0; i < kh; i++)");
    if (t->dh == 1)
        emit(e, "const float *restrict xr = %s + (size_t)ci * chan + row * i; /* padded row i of the block */", kb->B);
    else
        emit(e, "const float *restrict xr = %s + (size_t)ci * chan + row * i; /* padded row i * %d */", kb->B, t->dh);
    emit_for(e, "j", "for (int j = 0; j < kw; j++)");
    emit(e, "const int k = (ci * kh + i) * kw + j;");
    if (t->sw == 1)
        emit(e, "const float *restrict bk = xr + j * %d; /* the columns tap j meets */", t->dw);
    else if (t->dw == 1)
        emit(e, "const float *restrict bk = xr + j %% %d * pw + j / %d; /* phase and offset of tap j */", t->sw,
             t->sw);
    else
        emit(e, "const float *restrict bk = xr + j * %d %% %d * pw + j * %d / %d; /* phase, offset of tap j */",
             t->dw, t->sw, t->dw, t->sw);
}

void
kernel_step_row(Emitter *e, const KernelBlock *kb, const char *k)
{
    if (kb->bc)
        emit(e, "const float *restrict bk = %s + (size_t)(%s / %d) * %d * ldb + %s %% %d; /* column j at bk[j * %d] */",
             kb->B, k, kb->bc, kb->bc, k, kb->bc, kb->bc);
    else
        emit(e, "const float *restrict bk = %s + (size_t)%s * ldb;", kb->B, k);
}

void
kernel_close_reduction(Emitter *e, const KernelBlock *kb)
{
    if (!kb->taps) {
        emit_end(e, "k");
        return;
    }
    emit_end(e, "j");
    emit_end(e, "i");
    emit_end(e, "ci");
}

/* The reference kernel over rows x cols of the block (names of the function's parameters). */
static void
emit_ref_kernel(Emitter *e, const KernelBlock *kb)
{
    emit(e, "/* reference kernel (plain C): acc[r][j] += W[co0 + r][k] * B[k][j] */");
    emit(e, "/* over the reduction: input channels x kernel taps */");
    kernel_open_reduction(e, kb);
    emit(e, "/* over the block's output channels */");
    emit_for(e, "r", "for (int r = 0; r < rows; r++)");
    if (kb->packed)
        emit(e, "const float wk = wt[k * MR + r];");
    else
        emit(e, "const float wk = wg[(co0 + r) * K + k];");
    emit(e, "/* over the tile's pixels */");
    emit(e, "for (int j = 0; j < cols; j++)");
    if (kb->bc)
        emit(e, "    acc[r][j] += wk * bk[j * %d];", kb->bc);
    else
        emit(e, "    acc[r][j] += wk * bk[j];");
    emit_end(e, "r");
    kernel_close_reduction(e, kb);
}

/* Row r of the output (yc: NCHWc, blocked in yc channels) at base, as an expression of r. */
static char *
ref_row(const char *base, int yc)
{
    if (yc)
        return xprintf("%s + ((size_t)((co0 + r) / %d) * ldy + p0) * %d + (co0 + r) %% %d", base, yc, yc, yc);
    return xprintf("%s + (size_t)(co0 + r) * ldy + p0", base);
}

/* The block's partial sums (reduction tiles) between acc and the output rows yrow (column j at
 * yrow[jj]): stored there (store), or read back. */
static void
emit_partial_sums(Emitter *e, const char *yrow, const char *jj, bool store)
{
    emit_for(e, "r", "for (int r = 0; r < mr; r++)");
    emit(e, store ? "float *restrict yr = %s;" : "const float *restrict yr = %s;", yrow);
    emit(e, "for (int j = 0; j < pn; j++)");
    if (store)
        emit(e, "    yr[%s] = acc[r][j];", jj);
    else
        emit(e, "    acc[r][j] = yr[%s];", jj);
    emit_end(e, "r");
}

/*
 * The reference path of a block, the body of a function with parameters
 * MR (the rows of the weight panel), NT, rows x cols (the block computed)
 * and acc[MR][NT] besides the block's: its accumulators zero, or with
 * reduction tiles the partial sums so far, the reference kernel, and the
 * epilogue of KernelOut in the order of the vector kernels: + bias,
 * + residual, relu, one store.  With reduction tiles, blocks before the
 * last store their partial sums instead.
 */
void
kernel_emit_ref_block(Emitter *e, const KernelBlock *kb, const KernelOut *o)
{
    int yc = o->yc;
    char *yrow = ref_row(o->y, yc), *rrow = o->res ? ref_row(o->res, yc) : NULL;
    char jj[32] = "j"; /* column j's offset in a row: j, or j * c in an NCHWc output */
    if (yc)
        snprintf(jj, sizeof jj, "j * %d", yc);
    emit(e, "/* zero the accumulators */");
    emit(e, "for (int r = 0; r < MR; r++)");
    emit(e, "    for (int j = 0; j < NT; j++)");
    emit(e, "        acc[r][j] = 0.0f;");
    if (o->tiled) {
        emit(e, "/* a later tile of the reduction: the partial sums so far */");
        emit_open(e, NULL, "if (k0 > 0)");
        emit_partial_sums(e, yrow, jj, false);
        emit_end(e, NULL);
    }
    emit_ref_kernel(e, kb);
    bool epi = o->bias || o->res || o->relu;
    if (o->tiled && epi) {
        emit(e, "/* not the last tile: store the partial sums */");
        emit_open(e, NULL, "if (k1 < K)");
        emit_partial_sums(e, yrow, jj, true);
        emit(e, "return;");
        emit_end(e, NULL);
    }
    emit(e, epi ? "/* epilogue:%s%s%s store */" : "/* store%s%s%s */", o->bias ? " bias," : "",
         o->res ? " residual," : "", o->relu ? " relu," : "");
    emit_for(e, "r", "for (int r = 0; r < mr; r++)");
    emit(e, "float *restrict yr = %s;", yrow);
    if (o->res)
        emit(e, "const float *restrict rr = %s;", rrow);
    if (o->bias)
        emit(e, "const float b = %s[r];", o->bias);
    emit_for(e, "j", "for (int j = 0; j < pn; j++)");
    emit(e, "float v = acc[r][j]%s;", o->bias ? " + b" : "");
    if (o->res)
        emit(e, "v += rr[%s];", jj);
    if (o->relu)
        emit(e, "v = v < 0.0f ? 0.0f : v;");
    emit(e, "yr[%s] = v;", jj);
    emit_end(e, "j");
    emit_end(e, "r");
    free(yrow);
    free(rrow);
}
