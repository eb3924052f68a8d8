/*
 * vx_gemm.h — the register-tiled microkernel of convolutions, and the
 * packing of its right-hand panels.
 *
 * A convolution of one image and group is the matrix product
 *
 *     Y[co][p] = sum_k W[co][k] * B[k][p]
 *
 * with k over (input channel, kernel row, kernel column) and p over output
 * pixels.  The generated loop nest walks tiles of VX_MR output channels by
 * VX_NR pixels and blocks of the reduction; for each it calls vx_kernel(),
 * which keeps the whole VX_MR x VX_NR tile in registers, then applies the
 * epilogue (bias, residual, relu) before the single store.
 *
 *   a  packed weights: for each tile of VX_MR output channels, a [K][VX_MR]
 *      panel (packed at compile time; rows past Cout are zero)
 *   b  packed pixels: a [kc][VX_NR] panel made by vx_pack_rows() or
 *      vx_pack_im2col() (pixels past the end are zero)
 *
 * Like the rest of runtime/, this is pasted into generated code with
 * VX_API defined as static.
 */
#ifndef VX_GEMM_H
#define VX_GEMM_H

#ifndef VX_API
#define VX_API
#endif

#define VX_MR 6     /* output channels per microkernel tile */
#define VX_NR 16    /* output pixels per microkernel tile */

/* vx_kernel() flags */
#define VX_ACC  1   /* add to what c holds (not the first reduction block) */
#define VX_LAST 2   /* the last reduction block: apply the epilogue */
#define VX_RELU 4   /* epilogue ends in relu */

/* The geometry of one image and group of a convolution, for im2col. */
typedef struct vx_conv_geom {
    int ih, iw;     /* input rows and columns */
    int kh, kw;     /* kernel rows and columns */
    int sh, sw;     /* strides */
    int ph, pw;     /* zero padding */
    int dh, dw;     /* dilation */
    int oh, ow;     /* output rows and columns */
} vx_conv_geom;

/*
 * b[k][j] = x[(k0 + k) * P + p0 + j] for k < kc, j < VX_NR: the panel of a
 * 1x1, stride 1, unpadded convolution, whose input is its own B matrix.
 */
VX_API void vx_pack_rows(const float *x, int P, int k0, int kc, int p0, float *b);

/* The same for any convolution: b[k][j] = im2col(x)[k0 + k][p0 + j]. */
VX_API void vx_pack_im2col(const vx_conv_geom *g, const float *x, int k0, int kc, int p0,
                           float *b);

/*
 * c[r * ldc + j] (=, or += with VX_ACC) sum_k a[k * VX_MR + r] * b[k * VX_NR + j]
 * for r < mr <= VX_MR and j < nr <= VX_NR; with VX_LAST then
 * + bias[r] (bias may be NULL), + res[r * ldc + j] (res may be NULL),
 * and relu with VX_RELU.  vx_kernel_ref() is the plain-C definition;
 * vx_kernel() computes the same with the compiler's vector extension
 * where there is one.
 */
VX_API void vx_kernel(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr,
                      int flags, const float *bias, const float *res);
VX_API void vx_kernel_ref(int kc, const float *a, const float *b, float *c, int ldc, int mr,
                          int nr, int flags, const float *bias, const float *res);

#endif
