/*
 * kernels.h — microkernel emitters: the innermost block reduction of the
 * conv bodies (gemm, winograd(2), winograd(4)), per target family, as BLIS
 * separates its portable loop nest from small per-architecture kernels.
 *
 *   kernel_ref.c    the plain-C reference kernel: loops over k, rows and
 *                   columns of a local accumulator array; any C99 compiler
 *   kernel_fn.c     each distinct block kernel once, as a static function the
 *                   layers call; the generated code's line wrapping
 *   kernel_simd.c   explicit-vector kernels, one table per instruction set:
 *                   AVX-512 (x86-64-v4), AVX2 + FMA (x86-64-v3), NEON
 *                   (aarch64); accumulators in vector registers, explicit
 *                   fused multiply-adds, masked loads and stores for the
 *                   pixel tail of a block
 *
 * The generated code carries a vector kernel under '#if' on its
 * instruction set's macros with the reference kernel as the '#else', so
 * the file builds and runs with any C99 compiler and for any -march.
 *
 * The kernels are written as the body of a function (kernel_fn.c) and
 * name its parameters: B, ldb (floats between B's rows), k0 and k1 (the
 * reduction range), K, wt or wg, y, ldy (floats between output rows), res,
 * bias, co0 and p0 (the block's origin), mr and pn (its rows and columns),
 * and for a direct convolution cin, kh, kw, chan, row and pw (KernelTaps).
 */
#ifndef VISEC_KERNELS_H
#define VISEC_KERNELS_H

#include "emit.h"

/*
 * One block reduction:
 *   acc[r][j] (+)= sum_{k in [kfrom, kto)} W[co0 + r][k] * B[k][p0 + j]
 * for r < MR (rows, output channels) and j < cols (columns, pixels or
 * Winograd tiles).  In the reference kernel acc is the block's local
 * float[MR][NT] array, which the code around it initializes (zeros or
 * earlier partial sums) and reads in the epilogue; the vector kernels keep
 * it in registers and store the results themselves (KernelOut).  W is wt[k * MR + r] (packed panel) or
 * wg[(co0 + r) * K + k] (PyTorch's layout).
 */
/*
 * The reduction of a direct convolution block: k = (ci, i, j) runs over the
 * group's input channels and the kernel taps, and the operand row of tap k
 * is a run of the zero-padded input copy (emit_conv.c): channel ci, padded
 * row i * dh of the block's origin xb, column phase (j * dw) % sw at
 * offset (j * dw) / sw, so the block's columns are contiguous whatever
 * the stride.
 */
typedef struct KernelTaps {
    int cin, kh, kw;        /* input channels of the group, kernel rows and columns */
    int sw, dh, dw;         /* column stride, dilations */
    int row, chan;          /* floats per padded row (sw phases of pw each) and per padded channel */
    int pw;                 /* floats per phase of a padded row */
} KernelTaps;

typedef struct KernelBlock {
    const char *B;          /* the right-hand matrix (an expression) */
    int P;                  /* its row stride in floats */
    const char *kfrom, *kto;/* the reduction range (expressions) */
    int K;                  /* rows of the whole reduction (stride of unpacked W) */
    int MR;                 /* rows of the block: reg_co */
    int NT;                 /* columns of acc: reg_pix */
    int cols;               /* columns computed: NT, or the constant width of a tail block */
    bool packed;            /* W in packed [K][MR] panels (wt) */
    bool co_lanes;          /* the schedule's lanes = co: output channels in the vector lanes */
    bool tile_panel;        /* B holds this pixel tile's columns only: column j at B[k * P + j] */
    const KernelTaps *taps; /* a direct convolution: B is the block's origin in the padded input (NULL: a matrix) */
    bool prefetch_rows;     /* the pixel-lane kernel prefetches the operand rows ahead too (B straight on the input) */
    int bc;                 /* 0: B's rows as above; else B is an NCHWc input read in place, blocked in bc
                               channels: B[k][p] at B[((k / bc) * P + p) * bc + k % bc], column j at
                               bk[j * bc] (the channel-lane kernel and the reference kernel only) */
} KernelBlock;

/*
 * Opens the reduction of kb, defining k and bk (the operand row of k,
 * column 0 of the block): one loop over k, or for a direct convolution
 * the loops over input channels, kernel rows and kernel columns.
 * kernel_close_reduction closes it.
 */
void kernel_open_reduction(Emitter *e, const KernelBlock *kb);
/* Defines bk, the operand row of step k of a plain k loop (k an expression: "k", "(k + 1)"). */
void kernel_step_row(Emitter *e, const KernelBlock *kb, const char *k);
void kernel_close_reduction(Emitter *e, const KernelBlock *kb);

/*
 * Where a vector kernel leaves its block, straight from the registers:
 * row r (r < MR; with guard_rows only r < mr) of the block is
 *   out[r][j] = relu(acc[r][j] + bias[r] + res[r][j])   (each part optional)
 * at y + (size_t)(co0 + r) * ystride + p0 (res likewise), in the order and
 * rounding of the reference epilogue.  With reduction tiles (tiled) the
 * accumulators start from the partial sums in y when k0 > 0 and, while
 * k1 < K, are stored back raw; the epilogue comes with the last tile.
 */
typedef struct KernelOut {
    const char *y;          /* output base (an expression) */
    int ystride;            /* floats between rows of y and res */
    const char *res;        /* residual base, NULL: none */
    const char *bias;       /* the block's first bias ("bias + g * 64 + co0"), NULL: none */
    bool relu;
    bool guard_rows;        /* rows past mr exist in registers (zero-padded weights), never stored */
    int rows_sure;          /* with guard_rows, the rows every block has (its rows from there on are guarded) */
    bool tiled;             /* reduction tiles k0 .. k1 of K */
    int K;
    int yc;                 /* 0: as above; else y and res are NCHWc, blocked in yc channels (the ISA's
                               lanes): channel co, pixel p at y[((co / yc) * ystride + p) * yc + co % yc], so
                               the channel-lane kernel stores its accumulator vectors whole */
} KernelOut;

/* An instruction set with vector kernels (kernel_simd.c). */
typedef struct KernelIsa KernelIsa;

/* The vector kernel family of target t (NULL: none, the reference kernel only). */
const KernelIsa *kernel_isa(const Target *t);
/* The ISA's vector kernel can compute kb (the block fits its registers): the ISA, else NULL. */
const KernelIsa *kernel_vector_for(const Target *t, const KernelBlock *kb);
/* "AVX-512", "AVX2 + FMA", "NEON". */
const char *kernel_isa_name(const KernelIsa *isa);
/* "avx512", "avx2", "neon": in the names of the kernel functions. */
const char *kernel_isa_tag(const KernelIsa *isa);
/* The preprocessor condition under which the compiler has the ISA. */
const char *kernel_isa_guard(const KernelIsa *isa);

/* The includes the vector kernels of target t need, under their guards. */
void kernel_emit_includes(Emitter *e, const Target *t);

/* The vector kernel of kb with its stores out (kernel_vector_for(t, kb) == isa). */
void kernel_emit_vector(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *out);

/*
 * The same block with the output channels in the vector lanes (lanes = co):
 * per step k it loads MR / lanes weight vectors from the packed panel
 * (contiguous in co) and, per column j, broadcasts B[k][p0 + j] once:
 * cols * MR / lanes accumulators + MR / lanes + 1 registers.  For maps too
 * small to fill pixel vectors (7x7 and 14x14 here).  The block leaves
 * through a small local [cols][MR] array, transposed into the output rows
 * by the reference epilogue's own scalar statements.  The ISA, if kb is
 * packed, MR is a whole number of vectors and the block fits the registers;
 * else NULL (the pixel-lane kernel or the reference kernel serve).
 */
const KernelIsa *kernel_vector_co_for(const Target *t, const KernelBlock *kb);
void kernel_emit_vector_co(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *out);

/*
 * Winograd F(m x m,3x3) output transform (m = 2 or 4) of one output
 * channel: Y = A^T m A per tile, then the epilogue, in vectors of tile
 * columns under the ISA's '#if' and the plain loops as the '#else'.  A
 * call of the function doing it (written before the layer if new): its
 * arguments are Mc (M + co * T: M[t] of tile i at Mc[t * SM + i]), yc (the
 * output channel), rc (its residual) and b (its bias, a variable of that
 * name).
 */
typedef struct WinoOut {
    int SM;                 /* floats between the 16 (F(4x4): 36) matrices of M */
    int TH, TW;             /* tile rows and columns */
    int H, W;               /* output rows and columns */
    bool bias, res, relu;
} WinoOut;
/* The plain loops of the output transform into a function body: Mc, ldm (floats between the
 * matrices of M), yc, rc and b are its parameters (emit_conv.c). */
typedef void WinoPlain(Emitter *e, const WinoOut *w);
/* isa NULL: the plain loops alone. */
void kernel_emit_wino_output(Emitter *e, const KernelIsa *isa, const WinoOut *w, int m, WinoPlain *plain,
                             const char *Mc, const char *yc, const char *rc);

/*
 * The plain-C reference path of a block (kernel_ref.c): the body of a
 * function with the block's parameters and MR, NT, rows, cols and
 * acc[][NT] (kernel_emit_ref_block says what they are).
 */
void kernel_emit_ref_block(Emitter *e, const KernelBlock *kb, const KernelOut *out);

/* ---- kernel_fn.c */

/* No generated line is longer (the kernels wrap theirs). */
#define KERNEL_LINE_MAX EMIT_LINE_MAX

/* Around each layer: its text is held back until the functions it brought are out. */
void kernels_layer_begin(Emitter *e);
void kernels_layer_end(Emitter *e);
void kernels_free(Emitter *e);
/* Before each of the two passes over the layers: the first (survey) writes nothing and sees every
 * block of each kernel, so that the second writes functions guarding only the rows some block lacks. */
void kernels_survey(Emitter *e, bool survey);
/*
 * The name of the VX_KERNEL function with body (malloc'd, taken over) and
 * the parameter declarations decls: one written before, or a new one, named
 * base (or base_2 .. if taken) with comment (" * " lines) above it, and
 * under '#if guard' unless guard is NULL.
 */
const char *kernel_function(Emitter *e, const char *base, const char *comment, const char *guard,
                            char *const *decls, int n, char *body);
/* name(args...); at the emitter's depth, wrapped. */
void kernel_emit_call(Emitter *e, const char *name, char *const *args, int n);
/* A text buffer for a body (open_memstream), and its close. */
FILE *kernel_memstream(char **text, size_t *len);
void kernel_memstream_close(FILE *f);
/* The VX_KERNEL macro the functions are declared with. */
void kernel_emit_prelude(Emitter *e);
/* Statements "a; b; c;" on as few lines as fit KERNEL_LINE_MAX. */
void kernel_emit_stmts(Emitter *e, const char *text);
/* A comment, its words wrapped to KERNEL_LINE_MAX. */
void kernel_emit_comment(Emitter *e, const char *text);
/* "type list;" likewise, list a declarator list "a = x, b = y". */
void kernel_emit_decls(Emitter *e, const char *type, const char *list);
/*
 * The row guards of a block kernel's function, keyed by its body without
 * guards (key, taken over): in the survey pass, records that one of its
 * blocks is sure of `sure` rows and returns -1; in the pass that writes,
 * returns the fewest rows any of its blocks is sure of.
 */
int kernel_fewest_rows(Emitter *e, char *key, int sure);

/* ---- kernel_block.c */

/*
 * A call of the function computing block kb with its stores out (the vector
 * kernel of the target where the block fits its registers, else the
 * reference path; constant false: the mr x pn block at an edge, reference
 * only), the function written first if no block so far had its body.  The
 * caller's scope has co0, p0, mr, pn, and wt (packed) or wg.
 */
void kernel_emit_block(Emitter *e, const KernelBlock *kb, const KernelOut *out, bool constant);

#endif
