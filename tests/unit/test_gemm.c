/*
 * test_gemm.c — the microkernel against its plain-C reference, and packed
 * convolution (panels + kernel) against a naive convolution.
 */
#include <math.h>

#include "testutil.h"
#include "vx_gemm.h"

static float
noise(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Every flag combination and every edge tile size gives the reference's bits
 * up to rounding of the summation order (the vector kernel sums the same
 * terms in the same order, so the results are equal). */
START_TEST(kernel_matches_reference)
{
    unsigned s = 7;
    enum { KC = 37, LDC = 40 };
    float a[KC * VX_MR], b[KC * VX_NR], bias[VX_MR], res[VX_MR * LDC];
    for (int i = 0; i < KC * VX_MR; i++)
        a[i] = noise(&s);
    for (int i = 0; i < KC * VX_NR; i++)
        b[i] = noise(&s);
    for (int i = 0; i < VX_MR; i++)
        bias[i] = noise(&s);
    for (int i = 0; i < VX_MR * LDC; i++)
        res[i] = noise(&s);
    int sizes[][2] = {{VX_MR, VX_NR}, {1, 1}, {VX_MR, 5}, {3, VX_NR}, {5, 13}};
    for (int f = 0; f < 8; f++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            float c1[VX_MR * LDC], c2[VX_MR * LDC];
            for (int i = 0; i < VX_MR * LDC; i++)
                c1[i] = c2[i] = noise(&s);
            int mr = sizes[z][0], nr = sizes[z][1];
            const float *bp = f & 4 ? bias : NULL, *rp = f & 4 ? res : NULL;
            vx_kernel(KC, a, b, c1, LDC, mr, nr, f, bp, rp);
            vx_kernel_ref(KC, a, b, c2, LDC, mr, nr, f, bp, rp);
            for (int i = 0; i < VX_MR * LDC; i++)
                ck_assert_msg(fabsf(c1[i] - c2[i]) <= 1e-5f * (1 + fabsf(c2[i])),
                              "flags %d tile %dx%d: element %d %g != %g", f, mr, nr, i, c1[i], c2[i]);
        }
}
END_TEST

/* A strided, padded, dilated conv through im2col panels and the kernel,
 * with the reduction split into blocks, equals the naive loop nest. */
START_TEST(packed_conv_matches_naive)
{
    unsigned s = 11;
    enum { CI = 5, CO = 13, IH = 9, IW = 11, KH = 3, KW = 2, SH = 2, SW = 1, PH = 1, PW = 1, DH = 1, DW = 2 };
    const int OH = (IH + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (IW + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int P = OH * OW, K = CI * KH * KW, NCB = (CO + VX_MR - 1) / VX_MR;
    float x[CI * IH * IW], w[CO * CI * KH * KW];
    for (int i = 0; i < CI * IH * IW; i++)
        x[i] = noise(&s);
    for (int i = 0; i < CO * K; i++)
        w[i] = noise(&s);
    /* pack the weights: [cb][k][MR], zero rows past CO */
    float *ap = xcalloc((size_t)NCB * K * VX_MR, sizeof *ap);
    for (int co = 0; co < CO; co++)
        for (int k = 0; k < K; k++)
            ap[((co / VX_MR) * K + k) * VX_MR + co % VX_MR] = w[co * K + k];
    vx_conv_geom g = {IH, IW, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW};
    float *y = xcalloc((size_t)CO * P, sizeof *y), *panel = xmalloc((size_t)K * VX_NR * sizeof *panel);
    const int KCB = 7;  /* reduction block, so VX_ACC is exercised */
    for (int k0 = 0; k0 < K; k0 += KCB) {
        int kc = K - k0 < KCB ? K - k0 : KCB;
        for (int p0 = 0; p0 < P; p0 += VX_NR) {
            vx_pack_im2col(&g, x, k0, kc, p0, panel);
            for (int cb = 0; cb < NCB; cb++) {
                int mr = CO - cb * VX_MR < VX_MR ? CO - cb * VX_MR : VX_MR;
                int nr = P - p0 < VX_NR ? P - p0 : VX_NR;
                int flags = (k0 ? VX_ACC : 0) | (k0 + kc == K ? VX_LAST | VX_RELU : 0);
                vx_kernel(kc, ap + ((size_t)cb * K + k0) * VX_MR, panel, y + cb * VX_MR * P + p0, P,
                          mr, nr, flags, NULL, NULL);
            }
        }
    }
    for (int co = 0; co < CO; co++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                double acc = 0;
                for (int ci = 0; ci < CI; ci++)
                    for (int i = 0; i < KH; i++)
                        for (int j = 0; j < KW; j++) {
                            int h = oh * SH - PH + i * DH, ww = ow * SW - PW + j * DW;
                            if (h >= 0 && h < IH && ww >= 0 && ww < IW)
                                acc += (double)w[((co * CI + ci) * KH + i) * KW + j] * x[(ci * IH + h) * IW + ww];
                        }
                acc = acc < 0 ? 0 : acc;
                float got = y[co * P + oh * OW + ow];
                ck_assert_msg(fabs(got - acc) <= 1e-5 * (1 + fabs(acc)), "y[%d][%d][%d] = %g, want %g", co, oh, ow, got, acc);
            }
    free(ap);
    free(y);
    free(panel);
}
END_TEST

Suite *suite_gemm(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, kernel_matches_reference);
    tcase_add_test(tc, packed_conv_matches_naive);
    suite_add_tcase(s, tc);
    return s;
}
