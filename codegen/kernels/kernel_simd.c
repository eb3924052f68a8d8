/*
 * kernel_simd.c — explicit-vector microkernels of a block reduction, one
 * table per instruction set; a single emitter walks the table.
 *
 * The kernel keeps the MR x cols block in ceil(cols / lanes) accumulator
 * vectors per row.  Per step k it loads the operand row B[k][p0 ..] once
 * (nv vectors), then per output channel r broadcasts the weight W[r][k]
 * and does nv fused multiply-adds: MR * nv + nv + 1 registers, which
 * kernel_vector_for() checks against the ISA's register count.  The FMAs
 * are intrinsics, so they are fused whatever -std or -ffp-contract says.
 * The last vector of a row whose width is not a multiple of the lanes is
 * loaded and stored with a mask (AVX-512 mask registers, AVX2 maskload /
 * maskstore) or through a small zero-padded copy (NEON): the pixel tail of
 * a block runs in vectors too.  Where that tail is fewer pixels than the
 * block has rows and the weights are packed, it runs with the output
 * channels in the lanes instead (block_tail_vectors() in target.c): per
 * step the MR weights of W[.][k] as a vector and one broadcast operand value
 * per tail column, so a 7x7 map's 49 pixels take 8 rows in 3 vectors and
 * one column, not 6 rows in 4 vectors the last of which holds one pixel.
 *
 * The accumulators start from zero (or, with reduction tiles, the partial
 * sums stored in the output) and leave through the epilogue straight from
 * the registers: bias, residual and relu in the reference epilogue's order,
 * so each element is summed in k order as in the reference kernel, and only
 * the rounding of fused against separate multiply and add can differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/*
 * One instruction set's spellings: a row per ISA, which points at its row
 * of isa.h (name, compiler macro, lanes, registers).  Everything the
 * emitter writes for a vector kernel comes from these fields.
 */
struct KernelIsa {
    const IsaFacts *facts;  /* isa.h: name, macro, lanes, vregs */
    const char *tag;        /* in function names */
    const char *target;     /* the target table that uses it, for comments */
    const char *guard;      /* preprocessor condition under which the compiler has it */
    const char *header;     /* the intrinsics header */
    const char *vtype;      /* vector type */
    const char *load, *store, *bcast;   /* unaligned load (p), store (p, v), broadcast (x) */
    const char *zero, *add, *sub, *max; /* a zero vector; a + b, a - b, max (a, b) */
    const char *fma;        /* fused multiply-add acc + a * b: fma(a, b, acc), or fma(acc, a, b) */
    bool fma_acc_first;     /* the second form (NEON) */
    const char *prefetch;   /* prefetch into L1 of an address (an integer expression), NULL: none */
    /* The last, partial vector of a row: a masked load mload (zeros past the mask; the mask
     * its first argument, or with mask_second its second) and masked store mstore (p, mask, v),
     * the mask of the first n lanes a bit mask printed by mask_bits, or else a vector
     * mask_vec(-1, .., 0, ..) of the lanes; mload NULL: through a zero-padded local copy. */
    const char *mload, *mstore;
    bool mask_second;
    const char *mask_bits, *mask_vec;
    /* The body of vx_<tag>_zip(a, b, lo, hi): lo, hi = the lanes of a and b interleaved,
     * a0 b0 a1 b1 ... (the Winograd output transforms). */
    const char *zip[4];
};

static const KernelIsa avx512 = {
    &isa_facts[ISA_AVX512], "avx512", "x86-64-v4", "defined(__AVX512F__)", "<immintrin.h>",
    "__m512", "_mm512_loadu_ps", "_mm512_storeu_ps", "_mm512_set1_ps",
    "_mm512_setzero_ps()", "_mm512_add_ps", "_mm512_sub_ps", "_mm512_max_ps",
    "_mm512_fmadd_ps", false, "_mm_prefetch((const char *)(%s), _MM_HINT_T0);",
    "_mm512_maskz_loadu_ps", "_mm512_mask_storeu_ps", false, "(__mmask16)0x%04x", NULL,
    {"*lo = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);",
     "*hi = _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15,"
     " 31), b);"},
};
static const KernelIsa avx2 = {
    &isa_facts[ISA_AVX2], "avx2", "x86-64-v3", "defined(__AVX2__) && defined(__FMA__)", "<immintrin.h>",
    "__m256", "_mm256_loadu_ps", "_mm256_storeu_ps", "_mm256_set1_ps",
    "_mm256_setzero_ps()", "_mm256_add_ps", "_mm256_sub_ps", "_mm256_max_ps",
    "_mm256_fmadd_ps", false, "_mm_prefetch((const char *)(%s), _MM_HINT_T0);",
    "_mm256_maskload_ps", "_mm256_maskstore_ps", true, NULL, "_mm256_setr_epi32",
    {"const __m256 l_ = _mm256_unpacklo_ps(a, b), h_ = _mm256_unpackhi_ps(a, b);",
     "*lo = _mm256_permute2f128_ps(l_, h_, 0x20);", "*hi = _mm256_permute2f128_ps(l_, h_, 0x31);"},
};
static const KernelIsa neon = {
    &isa_facts[ISA_NEON], "neon", "aarch64", "defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)", "<arm_neon.h>",
    "float32x4_t", "vld1q_f32", "vst1q_f32", "vdupq_n_f32",
    "vdupq_n_f32(0.0f)", "vaddq_f32", "vsubq_f32", "vmaxq_f32",
    "vfmaq_f32", true, NULL,
    NULL, NULL, false, NULL, NULL,
    {"const float32x4x2_t z_ = vzipq_f32(a, b);", "*lo = z_.val[0];", "*hi = z_.val[1];"},
};
static const KernelIsa *const isas[] = {&avx512, &avx2, &neon, NULL};

const KernelIsa *
kernel_isa(const Target *t)
{
    if (!t || !t->isa)
        return NULL;
    for (int i = 0; isas[i]; i++)
        if (isas[i]->facts == t->isa)
            return isas[i];
    return NULL;
}

const char *
kernel_isa_name(const KernelIsa *isa)
{
    return isa->facts->name;
}

const char *
kernel_isa_tag(const KernelIsa *isa)
{
    return isa->tag;
}

const char *
kernel_isa_guard(const KernelIsa *isa)
{
    return isa->guard;
}

/* The block fits the registers (block_vregs(): MR x nv accumulators, nv
 * operand vectors and one broadcast weight, and the tail in channel lanes). */
const KernelIsa *
kernel_vector_for(const Target *t, const KernelBlock *kb)
{
    const KernelIsa *isa = kernel_isa(t);
    if (!isa || kb->bc)
        return NULL;
    return block_vregs(isa->facts->lanes, kb->MR, kb->cols, kb->packed) <= isa->facts->vregs ? isa : NULL;
}

void
kernel_emit_includes(Emitter *e, const Target *t)
{
    const KernelIsa *isa = kernel_isa(t);
    if (isa) {
        emit(e, "/* %s kernels (target %s) when the compiler targets that instruction set,", isa->facts->name, t->name);
        emit(e, "   else the plain-C reference kernels. */");
        emit(e, "#if %s", isa->guard);
        emit(e, "#include %s", isa->header);
        emit(e, "#endif");
    }
    kernel_emit_prelude(e);
}

/* Appends the statement acc = acc + a * b (fused) to line. */
static void
append_fma(const KernelIsa *isa, char *line, size_t size, const char *acc, const char *a, const char *b)
{
    size_t l = strlen(line);
    if (isa->fma_acc_first)
        snprintf(line + l, size - l, " %s = %s(%s, %s, %s);", acc, isa->fma, acc, a, b);
    else
        snprintf(line + l, size - l, " %s = %s(%s, %s, %s);", acc, isa->fma, a, b, acc);
}

/* Prefetches into L1 the cache lines of the bytes at base + ahead (base a
 * pointer, the address computed as an integer: it may lie past the array,
 * and a prefetch never faults); the first line carries the comment. */
static void
emit_prefetch(Emitter *e, const KernelIsa *isa, const char *base, const char *ahead, int bytes, const char *comment)
{
    if (!isa->prefetch)
        return;
    emit(e, "/* %s */", comment);
    for (int off = 0; off < bytes; off += 64) {
        char addr[96], line[160];
        if (off)
            snprintf(addr, sizeof addr, "(uintptr_t)%s + %s + %d", base, ahead, off);
        else
            snprintf(addr, sizeof addr, "(uintptr_t)%s + %s", base, ahead);
        snprintf(line, sizeof line, isa->prefetch, addr);
        emit(e, "%s", line);
    }
}

/* Steps of the reduction the weight prefetch runs ahead: far enough ahead
 * (about a thousand cycles) to hide a load from memory. */
#define PREFETCH_STEPS 64

/*
 * The packed weight panel of a block is read once, front to back, straight
 * from memory (all the weights of a model do not stay in the caches between
 * runs), and the hardware prefetchers alone leave the kernel waiting for
 * it: per step k, the cache lines of the panel PREFETCH_STEPS steps ahead
 * are prefetched into L1.  The address is computed as an integer, as it may
 * lie past the end of the panel (a prefetch never faults).  One thread,
 * batch 1, VisE on the development machine: 57-58 ms without, 49-52 with.
 */
static void
emit_weight_prefetch(Emitter *e, const KernelIsa *isa, const KernelBlock *kb)
{
    char ahead[16];
    snprintf(ahead, sizeof ahead, "%d", PREFETCH_STEPS * kb->MR * 4);
    if (kb->packed)
        emit_prefetch(e, isa, "wk", ahead, kb->MR * 4, "the weight panel, ahead");
}

/*
 * The operand rows of a gemm straight on its input (a 1x1 conv's input, or
 * an im2col panel of all the pixels) lie a whole map apart, and a block
 * reads a cache line or more of each, one row a step: their lines
 * PREFETCH_ROWS rows ahead are prefetched too, in either loop order.
 * With pixel tiles outside (1x1 convs on large maps) the rows are read once
 * per tile before the later channel blocks find them in L2: 0.04-0.09 ms
 * less on each such layer (VisE, one thread, batch 1).  With channel blocks
 * outside every block reads the whole operand again from L2, where the
 * prefetchers alone leave the tall blocks waiting: the 1024 -> 256 1x1
 * convs on 14x14 maps 0.47-0.50 -> 0.40-0.42 ms on two threads; the whole
 * trunk (medians, interleaved, Sapphire Rapids) 55.3 -> 53.9 ms on one
 * thread and 29.6 -> 28.2 on two at batch 1, 426 -> 410 ms on one thread
 * at batch 8 and the same on two; x86-64-v3 the same.  Winograd's
 * products and the im2col tile panels measured no gain, so they do
 * without (Winograd: the transformed tiles of a position lie close).
 */
#define PREFETCH_ROWS 8

static void
emit_row_prefetch(Emitter *e, const KernelIsa *isa, const KernelBlock *kb)
{
    char ahead[32];
    snprintf(ahead, sizeof ahead, "%d * ldb", PREFETCH_ROWS * 4);
    if (kb->prefetch_rows)
        emit_prefetch(e, isa, "bk", ahead, kb->cols * 4, "the operand rows, ahead");
}

/* The mask of the first n lanes, as an expression. */
static void
mask_expr(const KernelIsa *isa, int n, char *buf, size_t size)
{
    if (isa->mask_bits) {
        snprintf(buf, size, isa->mask_bits, (1u << n) - 1);
        return;
    }
    snprintf(buf, size, "%s(", isa->mask_vec);
    for (int i = 0; i < isa->facts->lanes; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", i < n ? "-1" : "0");
    snprintf(buf + strlen(buf), size - strlen(buf), ")");
}

/* dst = the partial vector of n floats at p (p an expression), zeros past them. */
static void
emit_tail_load(Emitter *e, const KernelIsa *isa, const char *dst, const char *p, int n)
{
    char m[160];
    if (!isa->mload) {
        emit_scope(e, NULL);
        emit(e, "float tl[%d] = {0.0f};", isa->facts->lanes);
        emit(e, "memcpy(tl, %s, %d * sizeof(float));", p, n);
        emit(e, "%s = %s(tl);", dst, isa->load);
        emit_end(e, NULL);
        return;
    }
    mask_expr(isa, n, m, sizeof m);
    if (isa->mask_second)
        emit(e, "%s = %s(%s, %s);", dst, isa->mload, p, m);
    else
        emit(e, "%s = %s(%s, %s);", dst, isa->mload, m, p);
}

/* The first n floats of vector v stored at p. */
static void
emit_tail_store(Emitter *e, const KernelIsa *isa, const char *p, const char *v, int n)
{
    char m[160];
    if (!isa->mload) {
        emit_scope(e, NULL);
        emit(e, "float tl[%d];", isa->facts->lanes);
        emit(e, "%s(tl, %s);", isa->store, v);
        emit(e, "memcpy(%s, tl, %d * sizeof(float));", p, n);
        emit_end(e, NULL);
        return;
    }
    mask_expr(isa, n, m, sizeof m);
    emit(e, "%s(%s, %s, %s);", isa->mstore, p, m, v);
}

/* p = base + row r (rows ldy apart) + off, as an expression. */
static void
row_at(char *p, size_t size, const char *base, int r, int off)
{
    if (r == 0)
        snprintf(p, size, "%s + %d", base, off);
    else if (r == 1)
        snprintf(p, size, "%s + ldy + %d", base, off);
    else
        snprintf(p, size, "%s + %d * ldy + %d", base, r, off);
}

/* Row r of the block is stored under a guard: rows from o->rows_sure on
 * may lie past mr (a block short of output channels). */
static bool
row_guarded(const KernelOut *o, int r)
{
    return o->guard_rows && r > 0 && r >= o->rows_sure;
}

/* Emits "v = <load of vector j of row r at base>" for every accumulator,
 * or zeros; rows past mr (guard) are zero. */
static void
emit_acc_from(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o, int nv, int full,
              int rem)
{
    char v[32], p[96];
    for (int r = 0; r < kb->MR; r++) {
        if (row_guarded(o, r))
            emit_open(e, NULL, "if (mr > %d)", r);
        for (int j = 0; j < nv; j++) {
            snprintf(v, sizeof v, "a%d_%d", r, j);
            row_at(p, sizeof p, "yb", r, j * isa->facts->lanes);
            if (j < full)
                emit(e, "%s = %s(%s);", v, isa->load, p);
            else
                emit_tail_load(e, isa, v, p, rem);
        }
        if (row_guarded(o, r))
            emit_end(e, NULL);
    }
}

/*
 * The function that takes one whole accumulator vector v through the
 * epilogue, in the reference epilogue's order (+ bias bv, + the vector at
 * r, relu), and stores it at y: its name, the function written if new
 * (under the ISA's guard, as its vector type needs the intrinsics header).
 */
static const char *
epilogue_function(Emitter *e, const KernelIsa *isa, bool bias, bool res, bool relu)
{
    char *body;
    size_t len;
    FILE *f = kernel_memstream(&body, &len);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    if (bias)
        emit(&fe, "v = %s(v, bv);", isa->add);
    if (res)
        emit(&fe, "v = %s(v, %s(r));", isa->add, isa->load);
    if (relu)
        emit(&fe, "v = %s(%s, v); /* max(0, v): 0 where v < 0, v itself otherwise (NaN too) */", isa->max,
             isa->zero);
    emit(&fe, "%s(y, v);", isa->store);
    kernel_memstream_close(f);
    char *decl[4], vd[48], bd[48];
    int n = 0;
    snprintf(vd, sizeof vd, "%s v", isa->vtype);
    snprintf(bd, sizeof bd, "%s bv", isa->vtype);
    decl[n++] = "float *y";
    if (res)
        decl[n++] = "const float *r";
    decl[n++] = vd;
    if (bias)
        decl[n++] = bd;
    char *base = xprintf("vx_%s_store%s%s%s", isa->tag, bias ? "_bias" : "", res ? "_res" : "", relu ? "_relu" : "");
    char *comment = xprintf(" * y = %s%s%s%s%s: an accumulator vector through the epilogue to the output",
                            relu ? "relu(" : "", "v", bias ? " + bv" : "", res ? " + r" : "", relu ? ")" : "");
    const char *name = kernel_function(e, base, comment, isa->guard, decl, n, body);
    free(base);
    free(comment);
    return name;
}

/* Appends to line the epilogue of one whole accumulator vector acc and its
 * store at out: + bias (a vector expression, NULL: none), + the vector at
 * res (NULL: none), relu, by epilogue_function(); or the store alone. */
static void
append_epilogue_store(Emitter *e, char *line, size_t size, const KernelIsa *isa, const char *acc,
                      const char *bias, const char *res, bool relu, const char *out)
{
    size_t l = strlen(line);
    const char *sp = l ? " " : "";
    if (!bias && !res && !relu) {
        snprintf(line + l, size - l, "%s%s(%s, %s);", sp, isa->store, out, acc);
        return;
    }
    const char *fn = epilogue_function(e, isa, bias != NULL, res != NULL, relu);
    snprintf(line + l, size - l, "%s%s(%s%s%s, %s%s%s);", sp, fn, out, res ? ", " : "", res ? res : "", acc,
             bias ? ", " : "", bias ? bias : "");
}

/* Stores the accumulators to yb, raw (epi false) or through the epilogue:
 * a row's whole vectors on a line or two, its partial one after them. */
static void
emit_acc_store(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o, int nv, int full,
               int rem, bool epi)
{
    char v[32], p[96], q[96], line[2048];
    if (epi && o->bias)
        emit(e, "%s bv; /* the row's bias */", isa->vtype);
    for (int r = 0; r < kb->MR; r++) {
        bool guard = row_guarded(o, r);
        if (guard)
            emit_open(e, NULL, "if (mr > %d)", r);
        line[0] = '\0';
        if (epi && o->bias)
            snprintf(line, sizeof line, "bv = %s(%s[%d]);", isa->bcast, o->bias, r);
        for (int j = 0; j < nv; j++) {
            snprintf(v, sizeof v, "a%d_%d", r, j);
            row_at(p, sizeof p, "yb", r, j * isa->facts->lanes);
            row_at(q, sizeof q, "rb", r, j * isa->facts->lanes);
            if (j < full) {
                append_epilogue_store(e, line, sizeof line, isa, v, epi && o->bias ? "bv" : NULL,
                                      epi && o->res ? q : NULL, epi && o->relu, p);
                continue;
            }
            /* the partial vector: its residual loaded and its store masked */
            size_t l = strlen(line);
            if (epi && o->bias)
                snprintf(line + l, sizeof line - l, "%s%s = %s(%s, bv);", l ? " " : "", v, isa->add, v);
            if (line[0])
                kernel_emit_stmts(e, line);
            line[0] = '\0';
            if (epi && o->res) {
                emit_scope(e, NULL);
                emit(e, "%s rv;", isa->vtype);
                emit_tail_load(e, isa, "rv", q, rem);
                emit(e, "%s = %s(%s, rv);", v, isa->add, v);
                emit_end(e, NULL);
            }
            if (epi && o->relu) /* max(0, v): 0 where v < 0, v itself otherwise (NaN too) */
                emit(e, "%s = %s(%s, %s);", v, isa->max, isa->zero, v);
            emit_tail_store(e, isa, p, v, rem);
        }
        if (line[0])
            kernel_emit_stmts(e, line);
        if (guard)
            emit_end(e, NULL);
    }
}

/* The block's output row yb and residual rb (KernelOut); its bias is o->bias[r]. */
static void
emit_block_out(Emitter *e, const KernelOut *o)
{
    emit(e, "float *restrict yb = %s + (size_t)co0 * ldy + p0; /* row r at yb + r * ldy */", o->y);
    if (o->res)
        emit(e, "const float *restrict rb = %s + (size_t)co0 * ldy + p0;", o->res);
}

/* Accumulators <name><i>_<v> for i < n, v < nv, zero: one declaration per i. */
static void
emit_zero_accs(Emitter *e, const KernelIsa *isa, const char *name, int n, int nv)
{
    char line[8192] = "";
    for (int i = 0; i < n && nv > 0; i++)
        for (int v = 0; v < nv; v++)
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s%d_%d = %s", i || v ? ", " : "", name,
                     i, v, isa->zero);
    if (line[0])
        kernel_emit_decls(e, isa->vtype, line);
}

/* ---------------------------------------------------------------- columns with the channels in the lanes */

/*
 * A column of a block whose accumulators hold output channels in their
 * lanes (the lanes = co kernel, and the tail columns of the pixel-lane
 * kernel) goes to the output, and with reduction tiles comes back from it,
 * through a transposed array arr[column][channel] in memory.
 */

/* Accumulators <acc><j>_<v> (column j, channels v * lanes ..) to (store)
 * or from arr[j][v * lanes], one line per column. */
static void
emit_columns_through(Emitter *e, const KernelIsa *isa, const char *acc, const char *arr, int cols, int nv,
                     bool store)
{
    char line[1024];
    for (int j = 0; j < cols; j++) {
        line[0] = '\0';
        for (int v = 0; v < nv; v++)
            if (store)
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s(&%s[%d][%d], %s%d_%d);",
                         v ? " " : "", isa->store, arr, j, v * isa->facts->lanes, acc, j, v);
            else
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s%d_%d = %s(&%s[%d][%d]);",
                         v ? " " : "", acc, j, v, isa->load, arr, j, v * isa->facts->lanes);
        kernel_emit_stmts(e, line);
    }
}

/* " + col0", or nothing for column 0. */
static void
column_offset(char *buf, size_t size, int col0)
{
    if (col0)
        snprintf(buf, size, " + %d", col0);
    else
        buf[0] = '\0';
}

/* arr[j][r] from column col0 + j of output row r, for j < cols and the
 * rows r < MR (guard_rows: r < mr); the rows past those, up to alloc, zero. */
static void
emit_columns_read(Emitter *e, const KernelBlock *kb, const KernelOut *o, const char *arr, int col0, int cols,
                  int alloc)
{
    char rows[16], off[32];
    snprintf(rows, sizeof rows, "%d", kb->MR);
    column_offset(off, sizeof off, col0);
    if (o->guard_rows || alloc > kb->MR) {
        emit(e, "for (int r = %s; r < %d; r++)", o->guard_rows ? "mr" : rows, alloc);
        emit(e, "    for (int j = 0; j < %d; j++)", cols);
        emit(e, "        %s[j][r] = 0.0f;", arr);
    }
    emit_for(e, "r", "for (int r = 0; r < %s; r++)", o->guard_rows ? "mr" : rows);
    emit(e, "const float *restrict yr = yb + (size_t)r * ldy%s;", off);
    emit(e, "for (int j = 0; j < %d; j++)", cols);
    emit(e, "    %s[j][r] = yr[j];", arr);
    emit_end(e, "r");
}

/* arr[j][r] out to column col0 + j of output row r, for j < cols and the
 * rows r < MR (guard_rows: r < mr): raw partial sums (epi false) or
 * through the reference epilogue, in its order. */
static void
emit_columns_write(Emitter *e, const KernelBlock *kb, const KernelOut *o, const char *arr, int col0, int cols,
                   bool epi)
{
    char rows[16], off[32];
    snprintf(rows, sizeof rows, "%d", kb->MR);
    column_offset(off, sizeof off, col0);
    emit_for(e, "r", "for (int r = 0; r < %s; r++)", o->guard_rows ? "mr" : rows);
    emit(e, "float *restrict yr = yb + (size_t)r * ldy%s;", off);
    if (epi && o->res)
        emit(e, "const float *restrict rr = rb + (size_t)r * ldy%s;", off);
    if (epi && o->bias)
        emit(e, "const float b = %s[r];", o->bias);
    emit_for(e, "j", "for (int j = 0; j < %d; j++)", cols);
    emit(e, "float v = %s[j][r]%s;", arr, epi && o->bias ? " + b" : "");
    if (epi && o->res)
        emit(e, "v += rr[j];");
    if (epi && o->relu)
        emit(e, "v = v < 0.0f ? 0.0f : v;");
    emit(e, "yr[j] = v;");
    emit_end(e, "j");
    emit_end(e, "r");
}

/* ---------------------------------------------------------------- pixels in the lanes */

/* The block's stores after the reduction: the pixel vectors and, with a
 * tail in channel lanes, its columns, raw (epi false) or through the epilogue. */
static void
emit_block_store(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o, int nv, int full,
                 int rem, int tv, bool epi)
{
    if (nv)
        emit_acc_store(e, isa, kb, o, nv, full, tv ? 0 : rem, epi);
    if (tv)
        emit_columns_write(e, kb, o, "tc", full * isa->facts->lanes, rem, epi);
}

/* Defines wk, the packed weight panel's row of step k (an expression). */
static void
emit_step_weights(Emitter *e, const KernelBlock *kb, const char *k)
{
    emit(e, "const float *restrict wk = wt + (size_t)%s * %d;", k, kb->MR);
}

/* Declares name0 .. name<n-1> and extra, vectors of isa, and loads name<j>
 * from base + j * lanes (base an expression): whole vectors for j < whole,
 * the last one (if j reaches whole) a partial vector of part floats. */
static void
emit_vector_loads(Emitter *e, const KernelIsa *isa, const char *name, const char *extra, const char *base, int n,
                  int whole, int part)
{
    char line[1024], v[32], p[96];
    line[0] = '\0';
    for (int j = 0; j < n; j++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s%d", j ? ", " : "", name, j);
    snprintf(line + strlen(line), sizeof line - strlen(line), ", %s", extra);
    kernel_emit_decls(e, isa->vtype, line);
    for (int j = 0; j < n; j++) {
        snprintf(v, sizeof v, "%s%d", name, j);
        snprintf(p, sizeof p, "%s + %d", base, j * isa->facts->lanes);
        if (j < whole)
            emit(e, "%s = %s(%s);", v, isa->load, p);
        else
            emit_tail_load(e, isa, v, p, part);
    }
}

/* One step of the reduction for the tail columns in channel lanes: the
 * step's weight vectors, then a broadcast operand value per column into
 * the accumulators t<j>_<u><set> (set "" or "_<c>"). */
static void
emit_tail_step(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, int nv, int rem, int tv, const char *set)
{
    int L = isa->facts->lanes, MR = kb->MR;
    char line[1024];
    emit_vector_loads(e, isa, "tw", "tx", "wk", tv, MR / L, MR % L);
    for (int j = 0; j < rem; j++) {
        snprintf(line, sizeof line, "tx = %s(bk[%d]);", isa->bcast, nv * L + j);
        for (int u = 0; u < tv; u++) {
            char acc[48], w[16];
            snprintf(acc, sizeof acc, "t%d_%d%s", j, u, set);
            snprintf(w, sizeof w, "tw%d", u);
            append_fma(isa, line, sizeof line, acc, w, "tx");
        }
        kernel_emit_stmts(e, line);
    }
}

/*
 * A block of tail columns only (a map's last few pixels in a tile of their
 * own: 49 = 3 x 16 + 1 with x86-64-v3's 16-pixel tiles) has so few
 * accumulators that each step's FMAs wait on the last step's, 4 cycles
 * and more a step for a single column.  Its reduction runs TAIL_CHAINS
 * steps at a time into as many sets of accumulators, added up at the end
 * (the sums of the tail columns then go in another order than the
 * reference kernel's).  On VisE for x86-64-v3, where every gemm on the 7x7
 * map has such a one-column tile, the layers on that map took 19.9-20.6
 * ms before and 19.4-20.0 after on one thread, 9.6-10.9 and 9.5-10.8 on
 * two (medians 20.3 -> 20.0 and 10.8 -> 10.4; Sapphire Rapids, batch 1).
 */
#define TAIL_CHAINS 4

/* The sets a tail-only block's reduction runs in: 1 where the block
 * already has TAIL_CHAINS accumulators or more, or no plain k loop; else
 * 4 for one accumulator, 2 for two or three. */
static int
tail_chains(const KernelBlock *kb, int nv, int rem, int tv)
{
    if (nv || !tv || kb->taps || rem * tv >= TAIL_CHAINS)
        return 1;
    return (TAIL_CHAINS + rem * tv - 1) / (rem * tv);
}

/* The reduction of a tail-only block in chains sets (tail_chains()):
 * chains steps at a time, each into its own set, the steps left over into
 * the first, then the sets added into the first. */
static void
emit_tail_chains(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, int rem, int tv, int chains)
{
    char line[1024], set[16];
    for (int c = 1; c < chains; c++)
        for (int j = 0; j < rem; j++) {
            line[0] = '\0';
            for (int u = 0; u < tv; u++)
                snprintf(line + strlen(line), sizeof line - strlen(line), "%st%d_%d_%d = %s", u ? ", " : "", j, u,
                         c, isa->zero);
            kernel_emit_decls(e, isa->vtype, line);
        }
    emit(e, "/* over the reduction, %d steps at a time into %d sets of accumulators (t<j>_<v>_<set>), so", chains,
         chains);
    emit(e, "   that a step's FMAs need not wait on the last step's; the steps left over into the first */");
    emit(e, "int k = %s;", kb->kfrom);
    emit_for(e, "k", "for (; k + %d <= %s; k += %d)", chains, kb->kto, chains);
    for (int c = 0; c < chains; c++) {
        char k[24];
        snprintf(k, sizeof k, "(k + %d)", c);
        emit_scope(e, NULL);
        kernel_step_row(e, kb, k);
        emit_step_weights(e, kb, k);
        emit_weight_prefetch(e, isa, kb);
        emit_row_prefetch(e, isa, kb);
        if (c)
            snprintf(set, sizeof set, "_%d", c);
        else
            set[0] = '\0';
        emit_tail_step(e, isa, kb, 0, rem, tv, set);
        emit_end(e, NULL);
    }
    emit_end(e, "k");
    emit_for(e, "k", "for (; k < %s; k++)", kb->kto);
    kernel_step_row(e, kb, "k");
    emit_step_weights(e, kb, "k");
    emit_tail_step(e, isa, kb, 0, rem, tv, "");
    emit_end(e, "k");
    /* chains is 2 or 4 (tail_chains()): the sets added in pairs */
    for (int j = 0; j < rem; j++)
        for (int u = 0; u < tv; u++) {
            if (chains == 4)
                emit(e, "t%d_%d = %s(%s(t%d_%d, t%d_%d_1), %s(t%d_%d_2, t%d_%d_3));", j, u, isa->add, isa->add, j,
                     u, j, u, isa->add, j, u, j, u);
            else
                emit(e, "t%d_%d = %s(t%d_%d, t%d_%d_1);", j, u, isa->add, j, u, j, u);
        }
}

/* The vector kernel of kb for isa (the caller checked kernel_vector_for). */
void
kernel_emit_vector(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o)
{
    int L = isa->facts->lanes, MR = kb->MR, rem = kb->cols % L;
    int tv = block_tail_vectors(L, MR, kb->cols, kb->packed);  /* the tail in channel lanes: vectors per column */
    int nv = tv ? kb->cols / L : (kb->cols + L - 1) / L;       /* pixel vectors per row */
    int full = rem && !tv ? nv - 1 : nv;   /* whole vectors per row; the last is partial if rem and no tail */
    char line[1024];

    char *tail = tv ? xprintf("; the last %d column%s with the channels in the lanes (t<j>_<v>: column %d + j, %d"
                              " vector%s of channels), one broadcast operand value each: %d FMAs a step instead"
                              " of %d in partial vectors", rem, rem > 1 ? "s" : "", nv * L, tv,
                              tv > 1 ? "s" : "", rem * tv, MR)
                     : xstrdup(rem ? ", the last vector of each row a partial one" : "");
    char *what = xprintf("%s kernel (target %s) of %d x %d: %d accumulator vectors of %d floats (a<r>_<v>),"
                         " %d operand vectors, explicit FMAs%s; then%s%s%s stored from the registers",
                         isa->facts->name, isa->target, MR, kb->cols, MR * nv, L, nv, tail,
                         o->bias ? " bias," : "", o->res ? " residual," : "", o->relu ? " relu," : "");
    kernel_emit_comment(e, what);
    free(tail);
    free(what);
    emit_block_out(e, o);
    emit_zero_accs(e, isa, "a", MR, nv);
    if (tv) {
        emit(e, "float tc[%d][%d]; /* the tail columns through memory: [column][channel] */", rem, tv * L);
        emit_zero_accs(e, isa, "t", rem, tv);
    }
    if (o->tiled) {
        emit(e, "/* a later tile of the reduction: the partial sums so far */");
        emit_open(e, NULL, "if (k0 > 0)");
        if (nv)
            emit_acc_from(e, isa, kb, o, nv, full, tv ? 0 : rem);
        if (tv) {
            emit_columns_read(e, kb, o, "tc", nv * L, rem, tv * L);
            emit_columns_through(e, isa, "t", "tc", rem, tv, false);
        }
        emit_end(e, NULL);
    }
    int chains = tail_chains(kb, nv, rem, tv);
    if (chains > 1) {
        emit_tail_chains(e, isa, kb, rem, tv, chains);
    } else {
        char *c = xprintf("over the reduction: an operand row, a broadcast weight per row%s",
                          tv ? "; tail columns: the weights, a broadcast operand value each" : "");
        kernel_emit_comment(e, c);
        free(c);
        kernel_open_reduction(e, kb);
        if (kb->packed)
            emit_step_weights(e, kb, "k");
        emit_weight_prefetch(e, isa, kb);
        emit_row_prefetch(e, isa, kb);
        if (nv) {
            emit_vector_loads(e, isa, "b", "wv", "bk", nv, full, rem);
            for (int r = 0; r < MR; r++) {
                if (kb->packed)
                    snprintf(line, sizeof line, "wv = %s(wk[%d]);", isa->bcast, r);
                else
                    snprintf(line, sizeof line, "wv = %s(wg[(size_t)(co0 + %d) * K + k]);", isa->bcast, r);
                for (int j = 0; j < nv; j++) {
                    char acc[32], b[32];
                    snprintf(acc, sizeof acc, "a%d_%d", r, j);
                    snprintf(b, sizeof b, "b%d", j);
                    append_fma(isa, line, sizeof line, acc, "wv", b);
                }
                kernel_emit_stmts(e, line);
            }
        }
        if (tv)
            emit_tail_step(e, isa, kb, nv, rem, tv, "");
        kernel_close_reduction(e, kb);
    }
    if (tv)
        emit_columns_through(e, isa, "t", "tc", rem, tv, true);
    bool epi = o->bias || o->res || o->relu;
    if (o->tiled && epi) {
        emit(e, "/* not the last tile: the partial sums to the output */");
        emit_open(e, NULL, "if (k1 < K)");
        emit_block_store(e, isa, kb, o, nv, full, rem, tv, false);
        emit_else(e, "else");
        emit(e, "/* epilogue:%s%s%s store */", o->bias ? " bias," : "", o->res ? " residual," : "",
             o->relu ? " relu," : "");
        emit_block_store(e, isa, kb, o, nv, full, rem, tv, true);
        emit_end(e, NULL);
    } else {
        emit(e, epi ? "/* epilogue:%s%s%s store */" : "/* store%s%s%s */", o->bias ? " bias," : "",
             o->res ? " residual," : "", o->relu ? " relu," : "");
        emit_block_store(e, isa, kb, o, nv, full, rem, tv, epi);
    }
}

/* ---------------------------------------------------------------- output channels in the lanes */

const KernelIsa *
kernel_vector_co_for(const Target *t, const KernelBlock *kb)
{
    const KernelIsa *isa = kernel_isa(t);
    if (!isa || !kb->packed || kb->MR % isa->facts->lanes)
        return NULL;
    int nv = kb->MR / isa->facts->lanes;
    return kb->cols * nv + nv + 1 <= isa->facts->vregs ? isa : NULL;
}

/*
 * The accumulators of a channel-lane block and an NCHWc output blocked in
 * the ISA's lanes: accumulator a<j>_<v> (column j, channels v * lanes ..)
 * is one whole vector of the output at yb + (v * ldy + j) * lanes.
 * load: from there (the partial sums of the tiles before); else stored
 * there, raw (epi false) or through the epilogue in the reference order:
 * + bias, + residual, relu.  With guard_rows the vectors past mr are
 * neither loaded nor stored.
 */
static void
emit_blocked_columns(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o, bool load,
                     bool epi)
{
    int L = isa->facts->lanes, nv = kb->MR / L;
    char line[1024];
    if (epi && o->bias) {
        char type[32];
        emit(e, "/* the block's bias, channels v * %d .. */", L);
        line[0] = '\0';
        for (int v = 0; v < nv; v++)
            snprintf(line + strlen(line), sizeof line - strlen(line), "%sbv%d = %s(%s + %d)", v ? ", " : "", v,
                     isa->load, o->bias, v * L);
        snprintf(type, sizeof type, "const %s", isa->vtype);
        kernel_emit_decls(e, type, line);
    }
    for (int v = 0; v < nv; v++) {
        bool guard = row_guarded(o, v * L);
        if (guard)
            emit_open(e, NULL, "if (mr > %d)", v * L);
        for (int j = 0; j < kb->cols; j++) {
            char acc[32], res[48], out[48];
            row_at(res, sizeof res, "rb", v * L, j * L);
            row_at(out, sizeof out, "yb", v * L, j * L);
            snprintf(acc, sizeof acc, "a%d_%d", j, v);
            if (load) {
                emit(e, "%s = %s(%s);", acc, isa->load, out);
                continue;
            }
            char bv[16];
            snprintf(bv, sizeof bv, "bv%d", v);
            line[0] = '\0';
            append_epilogue_store(e, line, sizeof line, isa, acc, epi && o->bias ? bv : NULL,
                                  epi && o->res ? res : NULL, epi && o->relu, out);
            kernel_emit_stmts(e, line);
        }
        if (guard)
            emit_end(e, NULL);
    }
}

void
kernel_emit_vector_co(Emitter *e, const KernelIsa *isa, const KernelBlock *kb, const KernelOut *o)
{
    int L = isa->facts->lanes, MR = kb->MR, nv = MR / L, cols = kb->cols;
    char line[1024];
    if (o->yc && o->yc != L)
        bug("an NCHW%dc output for %d-lane vectors", o->yc, L);

    char *into = o->yc ? xprintf("each vector whole into the NCHW%dc output", o->yc)
                       : xstrdup("through tb[column][channel] into the output rows");
    char *what = xprintf("%s kernel (target %s) of %d x %d, output channels in the lanes: %d accumulator vectors"
                         " of %d output channels (a<j>_<v>: column j, channels v * %d ..), %d weight vectors and"
                         " one broadcast operand value per column, explicit FMAs; then %s%s%s%s",
                         isa->facts->name, isa->target, MR, cols, cols * nv, L, L, nv, into,
                         o->bias ? ", bias" : "", o->res ? ", residual" : "", o->relu ? ", relu" : "");
    kernel_emit_comment(e, what);
    free(into);
    free(what);
    if (o->yc) {
        emit(e, "/* column j, channels v * %d .. at yb + (v * ldy + j) * %d */", L, L);
        emit(e, "float *restrict yb = %s + ((size_t)(co0 / %d) * ldy + p0) * %d;", o->y, L, L);
        if (o->res)
            emit(e, "const float *restrict rb = %s + ((size_t)(co0 / %d) * ldy + p0) * %d;", o->res, L, L);
    } else {
        emit_block_out(e, o);
        emit(e, "float tb[%d][%d]; /* the block transposed: [column][channel] */", cols, MR);
    }
    emit_zero_accs(e, isa, "a", cols, nv);
    if (o->tiled && o->yc) {
        emit(e, "/* a later tile of the reduction: the partial sums so far */");
        emit_open(e, NULL, "if (k0 > 0)");
        emit_blocked_columns(e, isa, kb, o, true, false);
        emit_end(e, NULL);
    } else if (o->tiled) {
        emit(e, "/* a later tile of the reduction: the partial sums so far, transposed */");
        emit_open(e, NULL, "if (k0 > 0)");
        emit_columns_read(e, kb, o, "tb", 0, cols, MR);
        emit_columns_through(e, isa, "a", "tb", cols, nv, false);
        emit_end(e, NULL);
    }
    emit(e, "/* over the reduction: the weight vectors of row k, then a broadcast operand value per column */");
    kernel_open_reduction(e, kb);
    emit_step_weights(e, kb, "k");
    emit_weight_prefetch(e, isa, kb);
    line[0] = '\0';
    for (int v = 0; v < nv; v++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%sw%d = %s(wk + %d)", v ? ", " : "", v,
                 isa->load, v * L);
    snprintf(line + strlen(line), sizeof line - strlen(line), ", bv");
    kernel_emit_decls(e, isa->vtype, line);
    for (int j = 0; j < cols; j++) {
        snprintf(line, sizeof line, "bv = %s(bk[%d]);", isa->bcast, kb->bc ? j * kb->bc : j);
        for (int v = 0; v < nv; v++) {
            char acc[32], w[16];
            snprintf(acc, sizeof acc, "a%d_%d", j, v);
            snprintf(w, sizeof w, "w%d", v);
            append_fma(isa, line, sizeof line, acc, w, "bv");
        }
        kernel_emit_stmts(e, line);
    }
    kernel_close_reduction(e, kb);
    bool epi = o->bias || o->res || o->relu;
    if (o->yc) {
        if (o->tiled && epi) {
            emit(e, "/* not the last tile: the partial sums to the output */");
            emit_open(e, NULL, "if (k1 < K)");
            emit_blocked_columns(e, isa, kb, o, false, false);
            emit_else(e, "else");
            emit(e, "/* epilogue:%s%s%s store */", o->bias ? " bias," : "", o->res ? " residual," : "",
                 o->relu ? " relu," : "");
            emit_blocked_columns(e, isa, kb, o, false, true);
            emit_end(e, NULL);
        } else {
            emit(e, epi ? "/* epilogue:%s%s%s store */" : "/* store%s%s%s */", o->bias ? " bias," : "",
                 o->res ? " residual," : "", o->relu ? " relu," : "");
            emit_blocked_columns(e, isa, kb, o, false, epi);
        }
        return;
    }
    emit(e, "/* the accumulators to tb[column][channel] */");
    emit_columns_through(e, isa, "a", "tb", cols, nv, true);
    if (o->tiled && epi) {
        emit(e, "/* not the last tile: the partial sums to the output */");
        emit_open(e, NULL, "if (k1 < K)");
        emit_columns_write(e, kb, o, "tb", 0, cols, false);
        emit_else(e, "else");
        emit(e, "/* epilogue:%s%s%s store */", o->bias ? " bias," : "", o->res ? " residual," : "",
             o->relu ? " relu," : "");
        emit_columns_write(e, kb, o, "tb", 0, cols, true);
        emit_end(e, NULL);
    } else {
        emit(e, epi ? "/* epilogue:%s%s%s store */" : "/* store%s%s%s */", o->bias ? " bias," : "",
             o->res ? " residual," : "", o->relu ? " relu," : "");
        emit_columns_write(e, kb, o, "tb", 0, cols, epi);
    }
}

/* ---------------------------------------------------------------- Winograd output transform */

/* A function of the ISA (name base, "vx_<tag>_..."), written if new, under its guard. */
static const char *
isa_function(Emitter *e, const KernelIsa *isa, const char *what, const char *comment, char *const *decls, int n,
             char *body)
{
    char *base = xprintf("vx_%s_%s", isa->tag, what);
    const char *name = kernel_function(e, base, comment, isa->guard, decls, n, body);
    free(base);
    return name;
}

/* lo, hi = the lanes of a and b interleaved: a0 b0 a1 b1 ... (lo, hi: vectors declared by the caller). */
static void
emit_interleave(Emitter *e, const KernelIsa *isa, const char *a, const char *b, const char *lo, const char *hi)
{
    char *body, d[4][48];
    size_t len;
    FILE *f = kernel_memstream(&body, &len);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    for (int i = 0; i < 4 && isa->zip[i]; i++)
        kernel_emit_stmts(&fe, isa->zip[i]);
    kernel_memstream_close(f);
    snprintf(d[0], sizeof d[0], "%s a", isa->vtype);
    snprintf(d[1], sizeof d[1], "%s b", isa->vtype);
    snprintf(d[2], sizeof d[2], "%s *lo", isa->vtype);
    snprintf(d[3], sizeof d[3], "%s *hi", isa->vtype);
    char *decl[4] = {d[0], d[1], d[2], d[3]};
    const char *fn = isa_function(e, isa, "zip", " * *lo, *hi = the lanes of a and b interleaved: a0 b0 a1 b1 ...",
                                  decl, 4, body);
    emit(e, "%s(%s, %s, &%s, &%s);", fn, a, b, lo, hi);
}

/* v (n of whose lanes count) through the epilogue, stored at out (residual at res). */
static void
emit_out_vector(Emitter *e, const KernelIsa *isa, const WinoOut *w, const char *v, const char *out,
                const char *res, int n)
{
    int L = isa->facts->lanes;
    if (n == L) {
        char line[256] = "";
        append_epilogue_store(e, line, sizeof line, isa, v, w->bias ? "bv" : NULL, w->res ? res : NULL, w->relu,
                              out);
        kernel_emit_stmts(e, line);
        return;
    }
    emit_scope(e, NULL);
    emit(e, "%s o_ = %s;", isa->vtype, v);
    if (w->bias)
        emit(e, "o_ = %s(o_, bv);", isa->add);
    if (w->res) {
        emit(e, "%s r_;", isa->vtype);
        if (n == L)
            emit(e, "r_ = %s(%s);", isa->load, res);
        else
            emit_tail_load(e, isa, "r_", res, n);
        emit(e, "o_ = %s(o_, r_);", isa->add);
    }
    if (w->relu)
        emit(e, "o_ = %s(%s, o_);", isa->max, isa->zero);
    if (n == L)
        emit(e, "%s(%s, o_);", isa->store, out);
    else
        emit_tail_store(e, isa, out, "o_", n);
    emit_end(e, NULL);
}

/* n tiles from tile column tw0 (an expression) of tile row th; cnt of the
 * 2 n output columns lie inside the output. */
static void
emit_wino_chunk(Emitter *e, const KernelIsa *isa, const WinoOut *w, const char *tw0, int n, int cnt)
{
    int L = isa->facts->lanes;
    char v[16], p[96], q[96];
    emit_scope(e, NULL);
    emit(e, "%s m[16], s0[4], s1[4];", isa->vtype);
    emit(e, "/* m[t] = M[t][co][tile] for the %d tiles */", n);
    for (int t = 0; t < 16; t++) {
        snprintf(v, sizeof v, "m[%d]", t);
        if (t)
            snprintf(p, sizeof p, "mt + %d * ldm + %s", t, tw0);
        else
            snprintf(p, sizeof p, "mt + %s", tw0);
        if (n == L)
            emit(e, "%s = %s(%s);", v, isa->load, p);
        else
            emit_tail_load(e, isa, v, p, n);
    }
    emit(e, "/* A^T m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (rows of the 4x4 tile) */");
    for (int j = 0; j < 4; j++) {
        emit(e, "s0[%d] = %s(%s(m[%d], m[%d]), m[%d]);", j, isa->add, isa->add, j, 4 + j, 8 + j);
        emit(e, "s1[%d] = %s(%s(m[%d], m[%d]), m[%d]);", j, isa->sub, isa->sub, 4 + j, 8 + j, 12 + j);
    }
    for (int i = 0; i < 2; i++) {
        const char *sv = i ? "s1" : "s0";
        if (i == 1 && w->H % 2)
            emit_open(e, NULL, "if (th * 2 + 1 < %d)", w->H);
        else
            emit_scope(e, NULL);
        emit(e, "/* output row 2 th + %d: (A^T m A)[%d][0..1] of each tile, interleaved */", i, i);
        emit(e, "const %s ya = %s(%s(%s[0], %s[1]), %s[2]);", isa->vtype, isa->add, isa->add, sv, sv, sv);
        emit(e, "const %s yb_ = %s(%s(%s[1], %s[2]), %s[3]);", isa->vtype, isa->sub, isa->sub, sv, sv, sv);
        emit(e, "%s lo, hi;", isa->vtype);
        emit_interleave(e, isa, "ya", "yb_", "lo", "hi");
        snprintf(p, sizeof p, "y%d + 2 * %s", i, tw0);
        snprintf(q, sizeof q, "r%d + 2 * %s", i, tw0);
        emit_out_vector(e, isa, w, "lo", p, q, cnt < L ? cnt : L);
        if (cnt > L) {
            snprintf(p, sizeof p, "y%d + 2 * %s + %d", i, tw0, L);
            snprintf(q, sizeof q, "r%d + 2 * %s + %d", i, tw0, L);
            emit_out_vector(e, isa, w, "hi", p, q, cnt - L);
        } else {
            emit(e, "(void)hi; /* past the output */");
        }
        emit_end(e, NULL);
    }
    emit_end(e, NULL);
}

/* A chunk of n tiles from tile column tw0 (an expression) of tile row th,
 * cnt of whose output columns lie inside the output. */
typedef void WinoChunk(Emitter *e, const KernelIsa *isa, const WinoOut *w, const char *tw0, int n, int cnt);

/* The vector output transform of F(m x m, 3x3), m = 2 or 4: per tile row,
 * chunks of `lanes` tiles, then the last, partial chunk. */
static void
emit_wino_output_rows(Emitter *e, const KernelIsa *isa, const WinoOut *w, int m, WinoChunk *chunk)
{
    int L = isa->facts->lanes, TW = w->TW;
    /* chunks of L tiles; the last one may hold fewer tiles, or (a width
     * that is not a multiple of m) one to m - 1 output columns fewer than
     * its tiles */
    int nloop = TW / L, last_n = TW % L;
    if (!last_n && w->W % m) {
        nloop--;
        last_n = L;
    }
    emit(e, "/* %s output transform (target %s): %d tiles of a tile row at a time, the %d x %d",
         isa->facts->name, isa->target, L, m, m);
    emit(e, "   outputs of each interleaved into output rows; the same operations as the plain loops */");
    if (w->bias)
        emit(e, "const %s bv = %s(b);", isa->vtype, isa->bcast);
    emit(e, "/* over tile rows */");
    emit_for(e, "th", "for (int th = 0; th < %d; th++)", w->TH);
    emit(e, "const float *restrict mt = Mc + th * %d; /* M[t][co][tile (th, tw)] at mt[t * ldm + tw] */", TW);
    if (m == 2) {
        emit(e, "float *restrict y0 = yc + (size_t)(2 * th) * %d;", w->W);
        emit(e, "float *restrict y1 = y0 + %d;", w->W);
        if (w->res) {
            emit(e, "const float *restrict r0 = rc + (size_t)(2 * th) * %d;", w->W);
            emit(e, "const float *restrict r1 = r0 + %d;", w->W);
        }
        if (w->H % 2)
            emit(e, "(void)y1; /* no row 2 th + 1 in the last tile row */");
    }
    if (nloop > 0) {
        emit(e, "/* over chunks of %d tile columns */", L);
        emit_for(e, "tw0", "for (int tw0 = 0; tw0 < %d; tw0 += %d)", nloop * L, L);
        chunk(e, isa, w, "tw0", L, m * L);
        emit_end(e, "tw0");
    }
    if (last_n) {
        char tw0[16];
        snprintf(tw0, sizeof tw0, "%d", nloop * L);
        emit(e, "/* the last %d tile columns: %d output columns */", last_n, w->W - m * nloop * L);
        chunk(e, isa, w, tw0, last_n, w->W - m * nloop * L);
    }
    emit_end(e, "th");
}



/* ---------------------------------------------------------------- Winograd F(4x4) output transform */

/* The A^T combination of six vectors a0 .. a5 (one lane per tile) into
 * r0 .. r3, the operations of the plain loops: with p = a1 + a2,
 * d = a1 - a2, P = a3 + a4, D = a3 - a4:
 *   r0 = (a0 + p) + P, r1 = d + 2 D, r2 = p + 4 P, r3 = (d + 8 D) + a5,
 * the multiples by doubling, which is exact as the multiplication is. */
static void
emit_wino4_at(Emitter *e, const KernelIsa *isa, const char *a[6], const char *r)
{
    char *body, d[7][48];
    size_t len;
    FILE *f = kernel_memstream(&body, &len);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    const char *V = isa->vtype, *add = isa->add, *sub = isa->sub;
    emit(&fe, "const %s p_ = %s(a1, a2);", V, add);
    emit(&fe, "const %s d_ = %s(a1, a2);", V, sub);
    emit(&fe, "const %s P_ = %s(a3, a4);", V, add);
    emit(&fe, "const %s D_ = %s(a3, a4);", V, sub);
    emit(&fe, "const %s D2 = %s(D_, D_);", V, add);
    emit(&fe, "const %s D4 = %s(D2, D2);", V, add);
    emit(&fe, "const %s P2 = %s(P_, P_);", V, add);
    emit(&fe, "r[0] = %s(%s(a0, p_), P_);", add, add);
    emit(&fe, "r[1] = %s(d_, D2);", add);
    emit(&fe, "r[2] = %s(p_, %s(P2, P2));", add, add);
    emit(&fe, "r[3] = %s(%s(d_, %s(D4, D4)), a5);", add, add, add);
    kernel_memstream_close(f);
    char *decl[7];
    for (int i = 0; i < 6; i++) {
        snprintf(d[i], sizeof d[i], "%s a%d", V, i);
        decl[i] = d[i];
    }
    snprintf(d[6], sizeof d[6], "%s *r", V);
    decl[6] = d[6];
    const char *fn = isa_function(e, isa, "wino4_at",
                                  " * r[0..3] = A^T a of Winograd F(4x4,3x3), a0 .. a5 one lane per tile:\n"
                                  " * with p = a1 + a2, d = a1 - a2, P = a3 + a4, D = a3 - a4,\n"
                                  " *   r0 = (a0 + p) + P, r1 = d + 2 D, r2 = p + 4 P, r3 = (d + 8 D) + a5",
                                  decl, 7, body);
    emit(e, "%s(%s, %s, %s, %s, %s, %s, %s);", fn, a[0], a[1], a[2], a[3], a[4], a[5], r);
}

/* n tiles from tile column tw0 (an expression) of tile row th; cnt of
 * their 4 n output columns lie inside the output. */
static void
emit_wino4_chunk(Emitter *e, const KernelIsa *isa, const WinoOut *w, const char *tw0, int n, int cnt)
{
    int L = isa->facts->lanes;
    const char *V = isa->vtype;
    char p[96], q[96], names[10][32];
    const char *a[6];
    emit_scope(e, NULL);
    emit(e, "%s s[6][4];", V);
    emit(e, "/* A^T m down each column l of the 6 x 6 tiles, the %d tiles in the lanes: s[l][i] */", n);
    for (int l = 0; l < 6; l++) {
        emit_scope(e, NULL);
        emit(e, "%s m[6];", V);
        for (int k = 0; k < 6; k++) {
            snprintf(names[k], sizeof names[k], "m[%d]", k);
            if (6 * k + l)
                snprintf(p, sizeof p, "mt + %d * ldm + %s", 6 * k + l, tw0);
            else
                snprintf(p, sizeof p, "mt + %s", tw0);
            if (n == L)
                emit(e, "%s = %s(%s);", names[k], isa->load, p);
            else
                emit_tail_load(e, isa, names[k], p, n);
            a[k] = names[k];
        }
        snprintf(names[6], sizeof names[6], "s[%d]", l);
        emit_wino4_at(e, isa, a, names[6]);
        emit_end(e, NULL);
    }
    for (int i = 0; i < 4; i++) {
        if (i > 0 && w->H % 4)
            emit_open(e, NULL, "if (th * 4 + %d < %d)", i, w->H);
        else
            emit_scope(e, NULL);
        emit(e, "/* output row 4 th + %d: (A^T m A)[%d][0..3] of each tile, interleaved */", i, i);
        emit(e, "float *restrict yr = yc + (size_t)(4 * th + %d) * %d;", i, w->W);
        if (w->res)
            emit(e, "const float *restrict rr = rc + (size_t)(4 * th + %d) * %d;", i, w->W);
        emit(e, "%s yo[4], o[4], a0, a1, b0, b1;", V);
        for (int k = 0; k < 6; k++) {
            snprintf(names[k], sizeof names[k], "s[%d][%d]", k, i);
            a[k] = names[k];
        }
        emit_wino4_at(e, isa, a, "yo");
        emit(e, "/* y0 y2 and y1 y3 interleaved, then the two results: y0 y1 y2 y3 of each tile in turn */");
        static const char *const pairs[4][4] = {
            {"yo[0]", "yo[2]", "a0", "a1"}, {"yo[1]", "yo[3]", "b0", "b1"}, {"a0", "b0", "o[0]", "o[1]"},
            {"a1", "b1", "o[2]", "o[3]"},
        };
        for (int k = 0; k < 4; k++)
            emit_interleave(e, isa, pairs[k][0], pairs[k][1], pairs[k][2], pairs[k][3]);
        for (int k = 0; k < 4; k++) {
            if (k * L >= cnt) {
                emit(e, "(void)o[%d]; /* past the output */", k);
                continue;
            }
            char v[16];
            snprintf(v, sizeof v, "o[%d]", k);
            snprintf(p, sizeof p, "yr + 4 * %s + %d", tw0, k * L);
            snprintf(q, sizeof q, "rr + 4 * %s + %d", tw0, k * L);
            emit_out_vector(e, isa, w, v, p, q, cnt - k * L < L ? cnt - k * L : L);
        }
        emit_end(e, NULL);
    }
    emit_end(e, NULL);
}

/* ---------------------------------------------------------------- the output transform's function */

void
kernel_emit_wino_output(Emitter *e, const KernelIsa *isa, const WinoOut *w, int m, WinoPlain *plain, const char *Mc,
                        const char *yc, const char *rc)
{
    char *body;
    size_t len;
    FILE *f = kernel_memstream(&body, &len);
    Emitter fe = {.f = f, .target = e->target, .depth = 1, .kernels = e->kernels};
    if (isa) {
        emit(&fe, "#if %s", isa->guard);
        emit_wino_output_rows(&fe, isa, w, m, m == 2 ? emit_wino_chunk : emit_wino4_chunk);
        emit(&fe, "#else");
    }
    plain(&fe, w);
    if (isa)
        emit(&fe, "#endif");
    kernel_memstream_close(f);
    char *decl[5], *arg[5];
    int n = 0;
    decl[n] = "const float *restrict Mc", arg[n++] = (char *)Mc;
    decl[n] = "int ldm", arg[n++] = xprintf("%d", w->SM);
    decl[n] = "float *restrict yc", arg[n++] = (char *)yc;
    if (w->res)
        decl[n] = "const float *restrict rc", arg[n++] = (char *)rc;
    if (w->bias)
        decl[n] = "float b", arg[n++] = "b";
    char *base = xprintf("vx_wino%d_output_%s_%dx%d%s%s%s", m, isa ? isa->tag : "ref", w->H, w->W,
                         w->bias ? "_bias" : "", w->res ? "_res" : "", w->relu ? "_relu" : "");
    char *comment = xprintf(" * Winograd F(%dx%d,3x3) output transform of one output channel of a %d x %d map:\n"
                            " *   yc = A^T m A per tile%s%s%s, m[t] of a tile at Mc + t * ldm + tile",
                            m, m, w->H, w->W, w->bias ? " + b" : "", w->res ? " + rc" : "", w->relu ? ", relu" : "");
    const char *name = kernel_function(e, base, comment, NULL, decl, n, body);
    kernel_emit_call(e, name, arg, n);
    free(arg[1]);
    free(base);
    free(comment);
}
