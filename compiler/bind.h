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

/* 1 = matched one of --weights/--select/--strip-prefix/--add-prefix at
 * argv[*i] (advances *i past its value), 0 = no match, -1 = error reported. */
int bind_option(int argc, char **argv, int *i, BindOptions *o, Diag *d);

/* One line per option, for a command's --help. */
#define BIND_OPTIONS_HELP                                                              \
    "  --weights FILE    checkpoint to bind: torch.save state dict (zip or legacy)\n"  \
    "                    or safetensors\n"                                             \
    "  --select KEY      use the state dict nested under KEY (default: the top\n"      \
    "                    level, or 'state_dict', 'model', ... when it has no tensors)\n" \
    "  --strip-prefix P  remove P from checkpoint keys (default: 'module.' when\n"     \
    "                    every key starts with it)\n"                                  \
    "  --add-prefix P    prepend P to checkpoint keys\n"

/* Reads o->weights and fills Tensor.data of every used graph tensor; false
 * if any error was reported. */
bool bind_weights(Graph *g, const BindOptions *o, Diag *d);

#endif
