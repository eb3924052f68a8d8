/*
 * ops.h — the op table of the visec graph IR.
 *
 * One line per op.  Including this file with OP defined expands the table:
 *
 *   OP(ID, name, min_inputs, max_inputs, param_kind)
 *
 *   ID          enum suffix: OP_ID
 *   name        the spelling in the model language and in IR dumps
 *   min_inputs  fewest tensor inputs the node may have
 *   max_inputs  most tensor inputs (a conv with a fused residual add has 2)
 *   param_kind  which checkpoint tensors the op's prefix names (PK_*)
 *
 * Op semantics (what the reference interpreter computes) are in
 * docs/language.md; they never contain schedule details.
 *
 * Elementwise functions of one input are one line each of VISEC_UNARY_OPS
 * at the end:
 *
 *   X(ID, name, expr)
 *
 *   expr        y as a C expression of the float v, calling only <math.h>:
 *               the interpreter computes it and codegen prints it (#expr),
 *               so both do the same arithmetic
 *
 * Each is an OP line too (one input, no weights).  VISEC_UNARY_OPS(F)
 * walks just these, UNARY_CASE (ir.h) makes their case labels.  Such an op
 * needs nothing else: the language takes it without keywords, its output
 * has its input's shape (any rank), the memory planner lets it write over
 * a dying input, and the interpreter and codegen apply expr.
 */
OP(CONV2D,     "conv2d",         1, 2, PK_CONV)     /* y = conv(x, W) [+ b] [+ in[1]] [relu] */
OP(BATCHNORM,  "batchnorm",      1, 1, PK_BN)       /* y = (x - mean) / sqrt(var + eps) * w + b */
OP(SCALESHIFT, "scale_shift",    1, 1, PK_AFFINE)   /* y = x * s[c] + t[c]  (a folded batch norm) */
OP(RELU,       "relu",           1, 1, PK_NONE)     /* y = max(x, 0) */
OP(ADD,        "add",            2, 2, PK_NONE)     /* y = a + b, same shape */
OP(MAXPOOL,    "maxpool",        1, 1, PK_NONE)     /* y = max over window, padding is -inf */
OP(AVGPOOL,    "avgpool",        1, 1, PK_NONE)     /* y = mean over window, padding counted */
OP(GAP,        "global_avgpool", 1, 1, PK_NONE)     /* [N,C,H,W] -> [N,C,1,1] */
OP(FLATTEN,    "flatten",        1, 1, PK_NONE)     /* [N,C,H,W] -> [N,C*H*W] */
OP(LINEAR,     "linear",         1, 1, PK_LINEAR)   /* y = x W^T + b */
OP(REORDER,    "reorder",        1, 1, PK_NONE)     /* y = x in another layout (layout pass; not in the language) */

#ifndef VISEC_UNARY_OPS
#define VISEC_UNARY_OPS(X)                                                          \
    X(SIGMOID,    "sigmoid",        1.0f / (1.0f + expf(-v)))    /* y = 1 / (1 + e^-x) */
#endif
#define UNARY_AS_OP_(id, name, expr) OP(id, name, 1, 1, PK_NONE)
VISEC_UNARY_OPS(UNARY_AS_OP_)
#undef UNARY_AS_OP_
