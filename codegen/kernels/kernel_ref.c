/*
 * kernel_ref.c — the plain-C reference kernel of a block reduction: what
 * every target's code falls back to, and the definition the vector kernels
 * must agree with.
 */
#include <stdio.h>

#include "kernels.h"

void
kernel_emit_ref(Emitter *e, const KernelBlock *kb, bool constant)
{
    char rb[16], jb[16];
    snprintf(rb, sizeof rb, "%d", kb->MR);
    snprintf(jb, sizeof jb, "%d", kb->cols);
    emit(e, "/* reference kernel (plain C): acc[r][j] += W[co0 + r][k] * B[k][%s] */", kb->tile_panel ? "j" : "p0 + j");
    emit(e, "/* over the reduction: input channels x kernel taps */");
    emit_for(e, "k", "for (int k = %s; k < %s; k++)", kb->kfrom, kb->kto);
    emit(e, "const float *restrict bk = %s + (size_t)k * %d%s;", kb->B, kb->P, kb->tile_panel ? "" : " + p0");
    emit(e, "/* over the block's output channels */");
    emit_for(e, "r", "for (int r = 0; r < %s; r++)", constant ? rb : "mr");
    if (kb->packed)
        emit(e, "const float wk = wt[k * %d + r];", kb->MR);
    else
        emit(e, "const float wk = wg[(co0 + r) * %d + k];", kb->K);
    emit(e, "/* over the tile's pixels */");
    emit(e, "for (int j = 0; j < %s; j++)", constant ? jb : "pn");
    emit(e, "    acc[r][j] += wk * bk[j];");
    emit_end(e, "r");
    emit_end(e, "k");
}
