/*
 * interp.h — the reference interpreter: the oracle for every pass and
 * every generated program.
 *
 * It runs the graph node by node with naive loops in float32 (reductions
 * accumulated in double), always on logical NCHW / NC values: a node's
 * physical layout and its schedule are ignored.
 * Constant tensors must be in PyTorch's layout (conv weights [out][in/groups]
 * [kh][kw], linear [out][in]): the graph as bound, or after passes that keep
 * that layout (fold_bn, fuse_epilogue, eliminate_dead), not after
 * pack_weights.
 */
#ifndef VISEC_INTERP_H
#define VISEC_INTERP_H

#include "ir.h"

/* Largest batch accepted. */
#define INTERP_MAX_BATCH 65536

/*
 * Runs g on `batch` images.  inputs[i] holds graph input i in NCHW float32
 * (batch images of shape_numel(shape, 1) floats each); outputs[i] receives
 * a malloc'd buffer for graph output i, owned by the caller.  Returns false
 * with an error on d if something is wrong: a tensor without data (weights
 * not bound), a bad batch.  On failure no output is set.
 */
bool interp_run(const Graph *g, int batch, const float *const *inputs, float **outputs, Diag *d);

#endif
