/*
 * vx_gemm.c — the microkernel and panel packing (see vx_gemm.h).
 */
#include <string.h>

#include "vx_gemm.h"

VX_API void
vx_pack_rows(const float *x, int P, int k0, int kc, int p0, float *b)
{
    int n = P - p0 < VX_NR ? P - p0 : VX_NR;
    /* over the panel's rows: one input channel each */
    for (int k = 0; k < kc; k++) {
        const float *src = x + (long)(k0 + k) * P + p0;
        float *dst = b + (long)k * VX_NR;
        int j = 0;
        for (; j < n; j++)
            dst[j] = src[j];
        for (; j < VX_NR; j++)
            dst[j] = 0.0f;
    }
}

VX_API void
vx_pack_im2col(const vx_conv_geom *g, const float *x, int k0, int kc, int p0, float *b)
{
    int P = g->oh * g->ow, khw = g->kh * g->kw;
    int base_h[VX_NR], base_w[VX_NR];   /* top-left input tap of each pixel */
    int n = P - p0 < VX_NR ? P - p0 : VX_NR;
    for (int j = 0; j < n; j++) {
        int p = p0 + j;
        base_h[j] = (p / g->ow) * g->sh - g->ph;
        base_w[j] = (p % g->ow) * g->sw - g->pw;
    }
    /* over the panel's rows: (input channel, kernel row, kernel column) */
    int ci = k0 / khw, i = k0 % khw / g->kw, jj = k0 % g->kw;
    for (int k = 0; k < kc; k++) {
        const float *xc = x + (long)ci * g->ih * g->iw;
        float *dst = b + (long)k * VX_NR;
        int dh = i * g->dh, dw = jj * g->dw;
        int j = 0;
        for (; j < n; j++) {
            int h = base_h[j] + dh, w = base_w[j] + dw;
            dst[j] = h >= 0 && h < g->ih && w >= 0 && w < g->iw ? xc[h * g->iw + w] : 0.0f;
        }
        for (; j < VX_NR; j++)
            dst[j] = 0.0f;
        if (++jj == g->kw) {
            jj = 0;
            if (++i == g->kh) {
                i = 0;
                ci++;
            }
        }
    }
}

/* The epilogue and store of one tile held in t[VX_MR][VX_NR]. */
static void
vx_store_tile(float t[VX_MR][VX_NR], float *c, int ldc, int mr, int nr, int flags,
              const float *bias, const float *res)
{
    for (int r = 0; r < mr; r++) {
        float *cr = c + (long)r * ldc;
        for (int j = 0; j < nr; j++) {
            float v = t[r][j];
            if (flags & VX_ACC)
                v += cr[j];
            if (flags & VX_LAST) {
                if (bias)
                    v += bias[r];
                if (res)
                    v += res[(long)r * ldc + j];
                if ((flags & VX_RELU) && v < 0.0f)
                    v = 0.0f;
            }
            cr[j] = v;
        }
    }
}

VX_API void
vx_kernel_ref(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr,
              int flags, const float *bias, const float *res)
{
    float t[VX_MR][VX_NR];
    for (int r = 0; r < VX_MR; r++)
        for (int j = 0; j < VX_NR; j++)
            t[r][j] = 0.0f;
    /* over the reduction */
    for (int k = 0; k < kc; k++)
        for (int r = 0; r < VX_MR; r++)
            for (int j = 0; j < VX_NR; j++)
                t[r][j] += a[k * VX_MR + r] * b[k * VX_NR + j];
    vx_store_tile(t, c, ldc, mr, nr, flags, bias, res);
}

#if defined(__GNUC__) && !defined(VX_NO_VECTOR_EXTENSION)
/*
 * Eight floats in a vector register (AVX: one ymm; SSE and NEON: two).
 * may_alias: the vectors are read from and written to float arrays;
 * aligned(4): tile rows in c start anywhere.
 */
typedef float vx_v8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int vx_m8 __attribute__((vector_size(32)));   /* lane masks of comparisons */

VX_API void
vx_kernel(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr, int flags,
          const float *bias, const float *res)
{
    /* the 6 x 16 tile: 12 accumulators, 2 per row */
    vx_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    vx_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    /* over the reduction: one row of b, one column of a per step */
    for (int k = 0; k < kc; k++) {
        const vx_v8 b0 = *(const vx_v8 *)(b + k * VX_NR);
        const vx_v8 b1 = *(const vx_v8 *)(b + k * VX_NR + 8);
        const float *ak = a + k * VX_MR;
        c00 += ak[0] * b0; c01 += ak[0] * b1;
        c10 += ak[1] * b0; c11 += ak[1] * b1;
        c20 += ak[2] * b0; c21 += ak[2] * b1;
        c30 += ak[3] * b0; c31 += ak[3] * b1;
        c40 += ak[4] * b0; c41 += ak[4] * b1;
        c50 += ak[5] * b0; c51 += ak[5] * b1;
    }
    vx_v8 acc[VX_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (mr == VX_MR && nr == VX_NR) {
        /* a full tile: epilogue on whole vectors */
        for (int r = 0; r < VX_MR; r++) {
            vx_v8 *cr = (vx_v8 *)(c + (long)r * ldc);
            for (int h = 0; h < 2; h++) {
                vx_v8 v = acc[r][h];
                if (flags & VX_ACC)
                    v += cr[h];
                if (flags & VX_LAST) {
                    if (bias)
                        v += bias[r];
                    if (res)
                        v += ((const vx_v8 *)(res + (long)r * ldc))[h];
                    if (flags & VX_RELU) {
                        const vx_v8 zero = {0};
                        v = (vx_v8)((vx_m8)v & (v > zero));     /* keep lanes above 0 */
                    }
                }
                cr[h] = v;
            }
        }
        return;
    }
    /* a partial tile at the edge of the matrix */
    float t[VX_MR][VX_NR];
    memcpy(t, acc, sizeof t);
    vx_store_tile(t, c, ldc, mr, nr, flags, bias, res);
}
#else
VX_API void
vx_kernel(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr, int flags,
          const float *bias, const float *res)
{
    vx_kernel_ref(kc, a, b, c, ldc, mr, nr, flags, bias, res);
}
#endif
