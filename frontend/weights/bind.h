/*
 * bind.h — binding checkpoint tensors to a model's graph (bind.c).
 *
 * Every tensor the graph uses (Graph.tensors with refs > 0) must be in the
 * checkpoint under its name, with exactly its shape, in a float dtype
 * (float16, bfloat16 and float64 are converted to float32) and finite;
 * batch-norm running variances must not be negative.  Errors point at the
 * model line that needs the tensor.  Checkpoint tensors the model does not
 * use are listed in one warning (num_batches_tracked is ignored silently);
 * conversions to float32 are counted in one note.  With strict, both are
 * errors.  When most tensors are missing because the checkpoint names its
 * tensors in another known scheme (torchvision's conv1/layer1..., or
 * nn.Sequential's 0/4.0...), one error names the description that fits.
 */
#ifndef VISEC_BIND_H
#define VISEC_BIND_H

#include "ir.h"

typedef struct BindOptions {
    const char *weights;        /* --weights FILE: PyTorch zip or legacy, or safetensors */
    const char *select;         /* --select KEY: the nested state dict (default: auto) */
    const char *strip_prefix;   /* --strip-prefix P (default: "module." if every key has it) */
    const char *add_prefix;     /* --add-prefix P */
    bool strict;                /* --strict: unused tensors and conversions are errors */
} BindOptions;

/* What binding did, for summaries. */
typedef struct BindReport {
    int ntensors;               /* tensors in the checkpoint */
    int nbound;                 /* checkpoint tensors bound to the model */
    int nignored;               /* tensors the model does not use (num_batches_tracked aside) */
    int nconverted;             /* bound tensors converted to float32 */
    const char *format;         /* "PyTorch zip", ... (a static string) */
} BindReport;

/* Reads o->weights and fills Tensor.data of every used graph tensor; false
 * if any error was reported.  r (may be NULL) receives the counts. */
bool bind_weights(Graph *g, const BindOptions *o, Diag *d);
bool bind_weights_report(Graph *g, const BindOptions *o, BindReport *r, Diag *d);

#endif
