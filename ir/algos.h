/*
 * algos.h — the table of the algorithms a schedule may choose.
 *
 * One line per algorithm.  Including this file with ALGO defined expands
 * the table:
 *
 *   ALGO(ID, name, detail)
 *
 *   ID      enum suffix: ALGO_ID (the order is the enum's)
 *   name    the spelling in schedule files, IR dumps and layer comments
 *   detail  what a schedule file's error message adds after the name of
 *           one of a family called with a number ("winograd(2)"), else ""
 */
ALGO(NONE,      "none",        "")              /* not scheduled yet (only before the schedule pass) */
ALGO(PLAIN,     "plain",       "")              /* an op with one way to run: its own loop nest */
ALGO(GEMM,      "gemm",        "")              /* conv as a matrix product: 1x1 reads the input, others an im2col panel */
ALGO(DIRECT,    "direct",      "")              /* conv as a direct loop nest over a zero-padded copy of the input */
ALGO(WINOGRAD2, "winograd(2)", "F(2x2,3x3)")    /* conv 3x3 stride 1 by Winograd F(2x2,3x3) */
ALGO(WINOGRAD4, "winograd(4)", "F(4x4,3x3)")    /* conv 3x3 stride 1 by Winograd F(4x4,3x3) */
