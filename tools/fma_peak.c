/*
 * fma_peak.c — the machine's measured single-precision FMA peak, for
 * tools/bench.sh: GFLOP/s that the generated code's effective rate is
 * compared with.
 *
 *   cc -std=c99 -O2 -march=native -fopenmp tools/fma_peak.c -o fma_peak
 *   OMP_NUM_THREADS=T ./fma_peak      prints "fma peak: G GFLOP/s, T threads, ISA"
 *
 * Each thread runs independent chains of vector FMAs (enough to cover the
 * latency of two FMA units: 16 where the ISA has 32 vector registers, 12
 * where it has 16, so that the chains and the constant stay in registers;
 * 16 chains on AVX2 spilled four of them to the stack, and the peak came
 * out at two thirds of the real one) for a fixed count, several times; the best
 * run counts (2 flops per lane per FMA), timed by the CPU time of the
 * threads (clock()), which other processes on a busy machine do not
 * inflate, and by the wall clock.  The vectors are those of the
 * widest instruction set the build targets: AVX-512, AVX2 + FMA, NEON, or
 * scalar fmaf.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__)
#include <immintrin.h>
#define ISA "AVX-512"
#define LANES 16
#define CHAINS 16
typedef __m512 vec;
#define SET(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ISA "AVX2 + FMA"
#define LANES 8
#define CHAINS 12
typedef __m256 vec;
#define SET(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float
SUM(vec v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#elif defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
#include <arm_neon.h>
#define ISA "NEON"
#define LANES 4
#define CHAINS 16
typedef float32x4_t vec;
#define SET(x) vdupq_n_f32(x)
#define FMA(a, b, c) vfmaq_f32(c, a, b)
#define SUM(v) vaddvq_f32(v)
#else
#define ISA "scalar"
#define LANES 1
#define CHAINS 12
typedef float vec;
#define SET(x) (x)
#define FMA(a, b, c) fmaf(a, b, c)
#define SUM(v) (v)
#endif

#define STEPS 20000000L

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* STEPS x CHAINS FMAs on one thread; returns a sum so nothing is optimized away. */
static float
chains(float seed)
{
    /* the chains written out: in registers at any -O, no array in memory */
    vec a = SET(0.999999f), b = SET(1e-7f * seed);
    vec c0 = SET(0), c1 = SET(1), c2 = SET(2), c3 = SET(3), c4 = SET(4), c5 = SET(5), c6 = SET(6);
    vec c7 = SET(7), c8 = SET(8), c9 = SET(9), c10 = SET(10), c11 = SET(11);
#if CHAINS == 16
    vec c12 = SET(12), c13 = SET(13), c14 = SET(14), c15 = SET(15);
#endif
    for (long s = 0; s < STEPS; s++) {
        c0 = FMA(a, c0, b), c1 = FMA(a, c1, b), c2 = FMA(a, c2, b), c3 = FMA(a, c3, b);
        c4 = FMA(a, c4, b), c5 = FMA(a, c5, b), c6 = FMA(a, c6, b), c7 = FMA(a, c7, b);
        c8 = FMA(a, c8, b), c9 = FMA(a, c9, b), c10 = FMA(a, c10, b), c11 = FMA(a, c11, b);
#if CHAINS == 16
        c12 = FMA(a, c12, b), c13 = FMA(a, c13, b), c14 = FMA(a, c14, b), c15 = FMA(a, c15, b);
#endif
    }
    float sum = SUM(c0) + SUM(c1) + SUM(c2) + SUM(c3) + SUM(c4) + SUM(c5) + SUM(c6) + SUM(c7) +
                SUM(c8) + SUM(c9) + SUM(c10) + SUM(c11);
#if CHAINS == 16
    sum += SUM(c12) + SUM(c13) + SUM(c14) + SUM(c15);
#endif
    return sum;
}

int
main(void)
{
    int threads = 1;
    double best = 0.0;
    float sink = 0.0f;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double best_wall = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        clock_t c0 = clock();
#ifdef _OPENMP
#pragma omp parallel reduction(+ : sink)
#endif
        sink += chains((float)rep + 1.0f);
        double flop = 2.0 * LANES * CHAINS * (double)STEPS * threads;
        double wall = now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
        /* per CPU-second of each thread: what the cores can do even when
           other processes take turns on them */
        double gf = flop / (cpu / threads) / 1e9;
        if (gf > best)
            best = gf;
        if (flop / wall / 1e9 > best_wall)
            best_wall = flop / wall / 1e9;
    }
    printf("fma peak: %.1f GFLOP/s, %d threads, %s (by CPU time; %.1f by the wall clock) (checksum %g)\n",
           best, threads, ISA, best_wall, (double)sink);
    return 0;
}
