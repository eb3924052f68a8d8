/*
 * target.c — the target tables: what the schedule assumes of a machine.
 *
 * Retuning for a machine is a change to this data (or a schedule file), not
 * to code.  Block sizes: a register block of reg_co x reg_pix accumulators
 * must fit the vector registers with room for the operand row and one
 * broadcast weight: reg_co * reg_pix / lanes + reg_pix / lanes + 1 <= vregs
 * (block_vregs() below, which also counts a pixel tail in channel lanes).
 *   x86-64-v4  32 x 16 floats: 6 x 64 (24 accumulators + 4 + 1)
 *   x86-64-v3  16 x 8 floats:  6 x 16 (12 + 2 + 1)
 *   aarch64    32 x 4 floats:  6 x 16 (24 + 4 + 1)
 *   generic    no vectors assumed: 4 x 16, which any C compiler keeps mostly in registers
 * Cache sizes are conservative figures for each family.
 *
 * Winograd F(2x2) from 16 tiles (a 7x7 map): VisE's two stride-1 3x3 convs
 * on 7x7 maps took 7.0-7.2 ms together as an AVX2 gemm (6 x 16 blocks: 49
 * columns in 4 tiles, each reading all 9 MiB of weights) and 3.8-4.0 ms as
 * Winograd; on two threads 3.5-3.6 against 1.95-1.98 (Sapphire Rapids,
 * batch 1).  On AVX-512 the gemm's 8 x 49 blocks read the weights once,
 * and Winograd in the table's 6 rows over its one vector of 16 tiles was
 * slower (Sapphire Rapids; and 1.18-1.19 ms a conv against 1.09-1.12 on
 * AMD EPYC Zen 5); in 24 rows (narrow_rows() in legal.c) it took 0.65 ms a
 * conv against the gemm's 1.18-1.19, on two threads 0.36-0.40 against
 * 0.61-0.63 (Zen 5, batch 1), so x86-64-v4 too starts at 16 tiles.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedules.h"

const IsaFacts isa_facts[ISA_COUNT] = {
#define ISA_ROW(id, name, macro, lanes, vregs) {name, macro, lanes, vregs},
    VISEC_ISAS(ISA_ROW)
#undef ISA_ROW
};

static const Target generic = {
    "generic", "portable C, no ISA assumed; the plain-C reference kernel",
    NULL, "", 1, 16, 32 << 10, 256 << 10, 8 << 20, 4, 16, 32, 32, 0,
};
static const Target x86_64_v3 = {
    "x86-64-v3", "AVX2 + FMA: 16 vector registers of 8 floats", &isa_facts[ISA_AVX2], "-march=x86-64-v3",
    ISA_AVX2_LANES, ISA_AVX2_VREGS, 32 << 10, 512 << 10, 16 << 20, 6, 16, 32, 16, 48,
};
static const Target x86_64_v4 = {
    "x86-64-v4", "AVX-512: 32 vector registers of 16 floats", &isa_facts[ISA_AVX512], "-march=x86-64-v4",
    ISA_AVX512_LANES, ISA_AVX512_VREGS, 32 << 10, 1 << 20, 32 << 20, 6, 64, 32, 16, 48,
};
static const Target aarch64 = {
    "aarch64", "NEON: 32 vector registers of 4 floats", &isa_facts[ISA_NEON], "",
    ISA_NEON_LANES, ISA_NEON_VREGS, 64 << 10, 1 << 20, 8 << 20, 6, 16, 32, 32, 0,
};

const Target *const target_tables[] = {&generic, &x86_64_v3, &x86_64_v4, &aarch64, NULL};

const char *
target_names(void)
{
    static char names[256];
    if (!names[0]) {
        size_t k = 0;
        for (int i = 0; target_tables[i]; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s, ", target_tables[i]->name);
        snprintf(names + k, sizeof names - k, "native");
    }
    return names;
}

/* A cache size from sysconf, or fallback when the system does not say. */
static int64_t
cache_size(int name, int64_t fallback)
{
    long v = sysconf(name);
    return v > 0 ? (int64_t)v : fallback;
}

const Target *
target_native(void)
{
    static Target t;
    static char descr[160];
    if (t.name)
        return &t;
    const Target *base = &generic;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        base = &x86_64_v4;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        base = &x86_64_v3;
#elif defined(__aarch64__)
    base = &aarch64;
#endif
    t = *base;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    t.l1 = cache_size(_SC_LEVEL1_DCACHE_SIZE, t.l1);
    t.l2 = cache_size(_SC_LEVEL2_CACHE_SIZE, t.l2);
    t.l3 = cache_size(_SC_LEVEL3_CACHE_SIZE, t.l3);
#else
    (void)cache_size;
#endif
    snprintf(descr, sizeof descr, "this machine: %s's table with the caches it reports", base->name);
    t.descr = descr;
    t.name = "native";
    if (base != &generic)
        t.cflags = "-march=native";
    return &t;
}

/*
 * A block's pixels past its last whole vector (rem = cols % lanes) go either
 * into one more, partial vector per row, which costs MR fused multiply-adds
 * a step of the reduction for rem pixels, or, with packed weights (the MR
 * weights of a step side by side), with the output channels in the lanes:
 * per tail column, ceil(MR / lanes) accumulator vectors times one broadcast
 * operand value, rem * ceil(MR / lanes) FMAs a step.  The second where it
 * does fewer: a 7x7 map's 49 pixels are 3 vectors of 16 and one pixel, so 8
 * channels x 49 pixels take 3 * 8 + 1 FMAs a step instead of 4 * 8, all
 * but one lane of which is useful.
 */
int
block_tail_vectors(int lanes, int MR, int cols, bool packed)
{
    int rem = lanes > 1 ? cols % lanes : 0, tv = (MR + lanes - 1) / lanes;
    return packed && rem && rem * tv < MR ? tv : 0;
}

/* MR x nv accumulators, nv operand vectors and one broadcast weight; with a
 * tail in channel lanes, rem x tv accumulators, tv weight vectors and one
 * broadcast operand value besides. */
int
block_vregs(int lanes, int MR, int cols, bool packed)
{
    int tv = block_tail_vectors(lanes, MR, cols, packed);
    int nv = tv ? cols / lanes : (cols + lanes - 1) / lanes;
    return (nv ? MR * nv + nv + 1 : 0) + (tv ? cols % lanes * tv + tv + 1 : 0);
}

const Target *
target_find(const char *name)
{
    if (!strcmp(name, "native"))
        return target_native();
    for (int i = 0; target_tables[i]; i++)
        if (!strcmp(target_tables[i]->name, name))
            return target_tables[i];
    return NULL;
}
