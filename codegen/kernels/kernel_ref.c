/*
 * kernel_ref.c — the plain-C reference kernel of a block reduction: what
 * every target's code falls back to, and the definition the vector kernels
 * must agree with.
 */
#include <stdio.h>

#include "kernels.h"

const char *
kernel_block_column(const KernelBlock *kb)
{
    return kb->tile_panel || kb->taps ? "j" : "p0 + j";
}

void
kernel_open_reduction(Emitter *e, const KernelBlock *kb)
{
    const KernelTaps *t = kb->taps;
    if (!t) {
        emit_for(e, "k", "for (int k = %s; k < %s; k++)", kb->kfrom, kb->kto);
        kernel_step_row(e, kb, "k");
        return;
    }
    emit_for(e, "ci", "for (int ci = 0; ci < %d; ci++)", t->cin);
    emit_for(e, "i", "for (int i = 0; i < %d; i++)", t->kh);
    if (t->dh == 1)
        emit(e, "const float *restrict xr = %s + (size_t)ci * %d + %d * i; /* padded row i of the block */", kb->B,
             t->chan, t->row);
    else
        emit(e, "const float *restrict xr = %s + (size_t)ci * %d + %d * i; /* padded row i * %d of the block */",
             kb->B, t->chan, t->dh * t->row, t->dh);
    emit_for(e, "j", "for (int j = 0; j < %d; j++)", t->kw);
    emit(e, "const int k = (ci * %d + i) * %d + j;", t->kh, t->kw);
    if (t->sw == 1)
        emit(e, "const float *restrict bk = xr + j * %d; /* the columns tap j meets */", t->dw);
    else if (t->dw == 1)
        emit(e, "const float *restrict bk = xr + j %% %d * %d + j / %d; /* phase and offset of tap j */", t->sw,
             t->pw, t->sw);
    else
        emit(e, "const float *restrict bk = xr + j * %d %% %d * %d + j * %d / %d; /* phase and offset of tap j */",
             t->dw, t->sw, t->pw, t->dw, t->sw);
}

void
kernel_step_row(Emitter *e, const KernelBlock *kb, const char *k)
{
    if (kb->bc)
        emit(e, "const float *restrict bk = %s + (size_t)(%s / %d) * %d + %s %% %d + p0 * %d; /* column j at bk[j * %d] */",
             kb->B, k, kb->bc, kb->P * kb->bc, k, kb->bc, kb->bc, kb->bc);
    else
        emit(e, "const float *restrict bk = %s + (size_t)%s * %d%s;", kb->B, k, kb->P, kb->tile_panel ? "" : " + p0");
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

void
kernel_emit_ref(Emitter *e, const KernelBlock *kb, bool constant)
{
    char rb[16], jb[16];
    snprintf(rb, sizeof rb, "%d", kb->MR);
    snprintf(jb, sizeof jb, "%d", kb->cols);
    emit(e, "/* reference kernel (plain C): acc[r][j] += W[co0 + r][k] * B[k][%s] */", kernel_block_column(kb));
    emit(e, "/* over the reduction: input channels x kernel taps */");
    kernel_open_reduction(e, kb);
    emit(e, "/* over the block's output channels */");
    emit_for(e, "r", "for (int r = 0; r < %s; r++)", constant ? rb : "mr");
    if (kb->packed)
        emit(e, "const float wk = wt[k * %d + r];", kb->MR);
    else
        emit(e, "const float wk = wg[(co0 + r) * %d + k];", kb->K);
    emit(e, "/* over the tile's pixels */");
    emit(e, "for (int j = 0; j < %s; j++)", constant ? jb : "pn");
    if (kb->bc)
        emit(e, "    acc[r][j] += wk * bk[j * %d];", kb->bc);
    else
        emit(e, "    acc[r][j] += wk * bk[j];");
    emit_end(e, "r");
    kernel_close_reduction(e, kb);
}
