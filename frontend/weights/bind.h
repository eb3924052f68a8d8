/*
 * bind.h — binding checkpoint tensors to a model's graph (bind.c).
 *
 * Every tensor the graph uses (Graph.tensors with refs > 0) must be in the
 * checkpoint under its name, with exactly its shape, in a float dtype
 * (float16, bfloat16 and float64 are converted to float32) and finite;
 * batch-norm running variances must not be negative.  Errors point at the
 * model line that needs the tensor.  Checkpoint tensors the model does not
 * use are listed in one warning (num_batches_tracked is ignored silently).
 */
#ifndef VISEC_BIND_H
#define VISEC_BIND_H

#include "ir.h"

typedef struct BindOptions {
    const char *weights;        /* --weights FILE: PyTorch zip or legacy, or safetensors */
    const char *select;         /* --select KEY: the nested state dict (default: auto) */
    const char *strip_prefix;   /* --strip-prefix P (default: "module." if every key has it) */
    const char *add_prefix;     /* --add-prefix P */
} BindOptions;

/* Reads o->weights and fills Tensor.data of every used graph tensor; false
 * if any error was reported. */
bool bind_weights(Graph *g, const BindOptions *o, Diag *d);

#endif
