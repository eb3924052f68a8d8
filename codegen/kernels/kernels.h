/*
 * kernels.h — microkernel emitters: the innermost block reduction of the
 * conv bodies (gemm, winograd(2)), per target family, as BLIS separates
 * its portable loop nest from small per-architecture kernels.
 *
 *   kernel_ref.c    the plain-C reference kernel: loops over k, rows and
 *                   columns of a local accumulator array; any C99 compiler
 *   kernel_simd.c   explicit-vector kernels, one table per instruction set:
 *                   AVX-512 (x86-64-v4), AVX2 + FMA (x86-64-v3), NEON
 *                   (aarch64); accumulators in vector registers, explicit
 *                   fused multiply-adds, masked loads and stores for the
 *                   pixel tail of a block
 *
 * The generated code carries a vector kernel under '#if' on its
 * instruction set's macros with the reference kernel as the '#else', so
 * the file builds and runs with any C99 compiler and for any -march.
 */
#ifndef VISEC_KERNELS_H
#define VISEC_KERNELS_H

#include "emit.h"

/*
 * One block reduction:
 *   acc[r][j] (+)= sum_{k in [kfrom, kto)} W[co0 + r][k] * B[k][p0 + j]
 * for r < MR (rows, output channels) and j < cols (columns, pixels or
 * Winograd tiles).  acc is the block's local float[MR][NT] array, which
 * the code around the kernel initializes (zeros or earlier partial sums)
 * and reads in the epilogue.  W is wt[k * MR + r] (packed panel) or
 * wg[(co0 + r) * K + k] (PyTorch's layout).
 */
typedef struct KernelBlock {
    const char *B;          /* the right-hand matrix (an expression) */
    int P;                  /* its row stride in floats */
    const char *kfrom, *kto;/* the reduction range (expressions) */
    int K;                  /* rows of the whole reduction (stride of unpacked W) */
    int MR;                 /* rows of the block: reg_co */
    int NT;                 /* columns of acc: reg_pix */
    int cols;               /* columns computed: NT, or the constant width of a tail block */
    bool packed;            /* W in packed [K][MR] panels (wt) */
} KernelBlock;

/* An instruction set with vector kernels (kernel_simd.c). */
typedef struct KernelIsa KernelIsa;

/* The vector kernel family of target t (NULL: none, the reference kernel only). */
const KernelIsa *kernel_isa(const Target *t);
/* "AVX-512", "AVX2 + FMA", "NEON". */
const char *kernel_isa_name(const KernelIsa *isa);
/* Does a block of MR rows x cols columns fit the ISA's vector registers? */
bool kernel_fits(const KernelIsa *isa, int MR, int cols);

/* The includes the vector kernels of target t need, under their guards. */
void kernel_emit_includes(Emitter *e, const Target *t);

/*
 * The block reduction kb for target t: the vector kernel under its
 * '#if' with the reference kernel as '#else' when the block fits the
 * registers, else the reference kernel alone.
 */
void kernel_emit_block(Emitter *e, const Target *t, const KernelBlock *kb);

/*
 * The plain-C reference kernel (kernel_ref.c).  With constant true the
 * trip counts are MR x cols (the accumulators can live in registers);
 * else the variables mr x pn of the block at the edge.
 */
void kernel_emit_ref(Emitter *e, const KernelBlock *kb, bool constant);

#endif
