/*
 * schedules.h — schedules: how each layer runs, kept apart from what it computes.
 *
 * The Schedule record itself lives on every node (ir.h).  This module holds
 * everything else about it, in one place:
 *
 *   target.c      the target tables (generic, x86-64-v3, x86-64-v4, aarch64)
 *                 and "native", the host visec runs on
 *   legal.c       what a layer may use on a target (algorithms, block sizes),
 *                 the checks, the scratch model, the default choice and the
 *                 reason for it, the trivial schedule of -O0, random draws
 *   sched_lexer.l, sched_parser.y, sched_file.c
 *                 schedule files: reading, applying to a graph, writing
 *   candidates.c  the schedules the tuner (driver/tune.c) measures for a conv
 *
 * Passes and codegen read the schedule; nobody else decides it.
 */
#ifndef VISEC_SCHED_H
#define VISEC_SCHED_H

#include "ir.h"
#include "isa.h"

/* ------------------------------------------------------------------ target.c */

/* What scheduling needs to know of a machine.  Data, not code. */
typedef struct Target {
    const char *name;       /* as given to --target */
    const char *descr;      /* one line for 'visec targets' */
    const IsaFacts *isa;    /* its vector instruction set (isa.h), NULL: none */
    const char *cflags;     /* the build line's machine flags ("-march=x86-64-v4") */
    int lanes;              /* floats per vector register (1: no vectors assumed): isa->lanes */
    int vregs;              /* vector registers (general registers for generic): isa->vregs */
    int64_t l1, l2, l3;     /* data cache bytes assumed: L1 and L2 per core, L3 shared */
    int reg_co, reg_pix;    /* default register block: output channels x pixels */
    int winograd_cin;       /* default: Winograd F(2x2,3x3) from this many input channels (0 never) */
    int winograd_tiles;     /* ... and this many 2x2 output tiles */
    int winograd4_tiles;    /* ... but F(4x4,3x3) from this many 4x4 output tiles (0 never) */
} Target;

/* The fixed tables, NULL-terminated (native is not among them). */
extern const Target *const target_tables[];
/* A table by name ("native" included); NULL if there is none. */
const Target *target_find(const char *name);
/* The host: its ISA and caches read at run time of visec. */
const Target *target_native(void);
/* "generic, x86-64-v3, x86-64-v4, aarch64, native": for messages. */
const char *target_names(void);

/* The pixel-lane vector kernel's register block of MR output channels x
 * cols pixels on vectors of `lanes` floats (codegen/kernels/kernel_simd.c):
 * the channel vectors per column with which the pixels past the last whole
 * vector run with output channels in the lanes (0: in a partial vector per
 * row), and the vector registers the block needs. */
int block_tail_vectors(int lanes, int MR, int cols, bool packed);
int block_vregs(int lanes, int MR, int cols, bool packed);

/* ------------------------------------------------------------------ legal.c */

/* The legal range of each block field for node n; min > max: not settable. */
typedef struct SchedRange {
    int reg_co_max;         /* reg_co in [1, reg_co_max] */
    int reg_pix_max;        /* reg_pix in [1, reg_pix_max] */
    int block_max;          /* reg_co * reg_pix at most this (accumulators on the stack) */
    int tile_k_max;         /* tile_k in {0} or [1, tile_k_max] */
} SchedRange;
SchedRange sched_range(const Node *n, Algo a);

/* Winograd F(2x2,3x3) and F(4x4,3x3) compute this conv (3x3, stride 1, pad 1, dilation 1, one group). */
bool sched_winograd_shape(const Node *n);
/* The output tile side m of a Winograd algorithm F(mxm,3x3) (2 or 4); 0 for the others. */
int sched_winograd_m(Algo a);
/* Output pixels per image a conv's blocks walk over (Winograd: mxm tiles). */
int64_t sched_block_columns(const Node *n, Algo a);
/* Rows of the conv's reduction: input channels x taps (Winograd: input channels). */
int64_t sched_reduction(const Node *n, Algo a);

/*
 * NULL if algorithm a may compute n on target t (with the passes given),
 * else why not, as a static string ("Winograd needs a 3x3 stride-1 conv").
 */
const char *sched_algo_illegal(const Node *n, const Target *t, Algo a, bool can_pack);

/*
 * Checks a complete schedule for n.  NULL if legal; else a malloc'd
 * message naming the field and its legal range, and in *field (if not
 * NULL) the SF_* bit of the field at fault.
 */
char *sched_check(const Node *n, const Target *t, const Schedule *s, bool can_pack, unsigned *field);

/* NULL if s's layout (layout_c) is legal for n on t, else why not (a static
 * string): a blocked output (NCHWc) needs a gemm in channel lanes whose
 * block rows and output channels are whole blocks of the target's lanes. */
const char *sched_blocked_illegal(const Node *n, const Target *t, const Schedule *s);
/* n under s reads a blocked (NCHWc) input in place: a conv in one group
 * that copies its input first (an im2col panel, Winograd's input tiles,
 * direct's padded copy), or a 1x1 gemm with lanes = co (it broadcasts the
 * input values); the layout pass puts a reorder before any other reader. */
bool sched_reads_blocked(const Node *n, const Schedule *s);

/*
 * The zero-padded input copy of a direct conv: the padded rows the output
 * reaches, each stored as sw column phases (column q at phase q % sw,
 * offset q / sw) of `cols` floats, for each input channel of a group.
 */
typedef struct SchedPad {
    int64_t rows, phases, cols;
} SchedPad;
SchedPad sched_direct_pad(const Node *n);

/* Scratch bytes per image n's kernel needs under schedule s (0 none). */
int64_t sched_scratch_bytes(const Node *n, const Schedule *s);
/* The tiles and scratch layout of n under Winograd algorithm a (all 0 for
 * the other algorithms). */
WinoLayout sched_wino_layout(const Node *n, Algo a);
/* Sets what follows from n->sched for codegen: n->scratch and n->wino. */
void sched_fill_scratch(Node *n);

/*
 * The default schedule of n on t, and in *why (malloc'd, may be NULL) one
 * line saying why it was chosen.
 */
Schedule sched_default(const Node *n, const Target *t, bool can_pack, char **why);
/* The default schedule of n on t once its algorithm is chosen (legal for n;
 * can_pack: the weights will be packed in blocks of output channels). */
Schedule sched_default_for(const Node *n, const Target *t, Algo algo, bool can_pack);
/* The default tile_pix of schedule s for n (its other fields set): 8 pixel
 * tiles where a tile is one cache line of a row, else 0. */
int sched_default_tile_pix(const Node *n, const Schedule *s);
/* s with the output channels in the vector lanes (lanes = co) and the
 * register block of t's kernels for that: whole vectors of channels x as
 * many columns as the registers hold.  s itself where t has no vectors,
 * the layer fewer channels than a vector, or s is not gemm or Winograd. */
Schedule sched_lanes_co(const Node *n, const Target *t, Schedule s);
/* The trivial legal schedule -O0 and a disabled schedule pass use. */
Schedule sched_trivial(const Node *n);
/* A random legal schedule: every field drawn from what t allows for n. */
Schedule sched_random(const Node *n, const Target *t, bool can_pack, uint64_t *rng);
/* A pseudo-random number from a xorshift state (never 0). */
uint64_t sched_rand(uint64_t *state);

/* The schedule as one line: "algo=gemm reg=6x64 tile_k=0 order=co,pix parallel=inside". */
char *sched_text(const Node *n, const Schedule *s);

/* ------------------------------------------------------------------ sched_file.c */

/* Bits of SchedEntry.set: which fields an entry sets. */
enum {
    SF_ALGO = 1 << 0,
    SF_REG = 1 << 1,        /* reg_co and reg_pix */
    SF_TILE_K = 1 << 2,
    SF_ORDER = 1 << 3,
    SF_PARALLEL = 1 << 4,
    SF_LANES = 1 << 5,
    SF_TILE_PIX = 1 << 6,
    SF_LAYOUT = 1 << 7,
};
#define SF_NFIELDS 8

/* One entry of a schedule file: a pattern and the fields it sets. */
typedef struct SchedEntry {
    char *pattern;          /* layer name, glob ("l6_*_conv2") or "default" */
    Loc loc;                /* of the pattern */
    unsigned set;           /* SF_* */
    Schedule s;             /* values of the fields in set */
    Loc field_loc[SF_NFIELDS]; /* where each set field's value is written, by bit index */
} SchedEntry;

typedef struct SchedFile {
    Source *src;            /* the text, for diagnostics */
    char *target;           /* the 'target NAME;' line, NULL if none */
    Loc target_loc;
    PtrVec entries;         /* SchedEntry*, in file order */
} SchedFile;

/* Parses a schedule file; NULL (errors on d) if it has syntax errors. */
SchedFile *schedfile_read(const char *path, Diag *d);
SchedFile *schedfile_read_string(const char *path, const char *text, Diag *d);
void schedfile_free(SchedFile *f);

/*
 * Applies the file's entries to the schedules the nodes have, in file order
 * (later entries override earlier ones; an entry that changes a layer's
 * algorithm brings that algorithm's defaults for the fields it leaves out).  Reports every
 * pattern that matches no layer, every illegal value (at its location, with
 * the legal range) and a target line that names another target; false if
 * any error was reported.
 */
bool schedfile_apply(const SchedFile *f, Graph *g, const Target *t, bool can_pack, Diag *d);

/* Does the glob pattern (with * and ?) match name? */
bool sched_glob(const char *pattern, const char *name);

/*
 * Writes the schedules of g's nodes as a schedule file: a header naming the
 * model and the target, then every layer spelled out, with a comment (shape,
 * MACs, and the note in notes[i] for node i, if any).
 */
void schedfile_write(FILE *f, const Graph *g, const Target *t, char *const *notes);

/* ------------------------------------------------------------------ candidates.c */

#define SCHED_MAX_CANDIDATES 16
/* The candidate schedules of conv n on t into list (room for
 * SCHED_MAX_CANDIDATES), each legal and different; list[0] is n's schedule
 * as it is (the default).  Returns how many. */
int sched_candidates(const Node *n, const Target *t, Schedule *list);

#endif
