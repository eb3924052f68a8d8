/*
 * interp.h — the reference interpreter: the oracle for every pass and
 * every generated program.
 *
 * It runs the graph node by node with naive loops in float32 (reductions
 * accumulated in double), always on logical NCHW / NC values: a node's
 * physical layout and its schedule are ignored.
 * Constant tensors are read in PyTorch's layout (conv weights [out][in/groups]
 * [kh][kw], linear [out][in]); a conv weight that pack_weights packed is read
 * back through tensor_conv_weight(), and a Winograd-transformed one through
 * the tensor it was made from (Tensor.from), so the interpreter runs the
 * graph as bound or after any of the passes ('visec run --passes').
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
