/*
 * isa.h — the vector instruction sets, one row each: what the schedule
 * assumes of them (target.c: lanes and registers of a target's table) and
 * what names them to the C compiler (codegen/kernels/kernel_simd.c spells
 * each one's intrinsics in a row of its own table that points here).
 * Adding an instruction set is one row here, one in target.c's tables and
 * one with its intrinsics in kernel_simd.c.
 */
#ifndef VISEC_ISA_H
#define VISEC_ISA_H

/*        id      name          compiler macro  floats a vector  vector registers */
#define VISEC_ISAS(X)                                      \
    X(AVX512, "AVX-512",    "__AVX512F__", 16, 32)         \
    X(AVX2,   "AVX2 + FMA", "__AVX2__",    8,  16)         \
    X(NEON,   "NEON",       "__ARM_NEON",  4,  32)

/* ISA_AVX512, ...: indices into isa_facts. */
typedef enum IsaId {
#define ISA_ID(id, name, macro, lanes, vregs) ISA_##id,
    VISEC_ISAS(ISA_ID)
#undef ISA_ID
    ISA_COUNT
} IsaId;

/* ISA_AVX512_LANES, ISA_AVX512_VREGS, ...: for the target tables' initializers. */
enum {
#define ISA_SIZES(id, name, macro, lanes, vregs) ISA_##id##_LANES = lanes, ISA_##id##_VREGS = vregs,
    VISEC_ISAS(ISA_SIZES)
#undef ISA_SIZES
};

typedef struct IsaFacts {
    const char *name;       /* "AVX-512" */
    const char *macro;      /* the compiler's macro for it ("__AVX512F__") */
    int lanes;              /* floats per vector register */
    int vregs;              /* vector registers */
} IsaFacts;

/* The rows of VISEC_ISAS, indexed by IsaId (target.c). */
extern const IsaFacts isa_facts[ISA_COUNT];

#endif
