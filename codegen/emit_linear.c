/*
 * emit_linear.c — linear: one dot product per image and output feature,
 * summed in input order.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

void
emit_linear(Emitter *e, const Node *n, const Schedule *s)
{
    int nin = (int)n->in[0]->shape.dim[1], nout = (int)n->out->shape.dim[1];
    emit_weight(e, "w", n->param[P_WEIGHT]);
    if (n->param[P_BIAS])
        emit_weight(e, "bias", n->param[P_BIAS]);
    emit(e, "(void)x2;");
    emit(e, "(void)scratch;");
    emit(e, "/* over images and output features */");
    emit_omp_planes(e, s);
    emit_for(e, "n", "for (int n = 0; n < batch; n++)");
    emit_for(e, "o", "for (int o = 0; o < %d; o++)", nout);
    emit(e, "const float *restrict xr = x + (size_t)n * %d;", nin);
    emit(e, "const float *restrict wr = w + (size_t)o * %d;", nin);
    emit(e, "float sum = 0.0f;");
    emit(e, "/* over input features, in order */");
    emit(e, "for (int i = 0; i < %d; i++)", nin);
    emit(e, "    sum += wr[i] * xr[i];");
    emit(e, "y[(size_t)n * %d + o] = sum%s;", nout, n->param[P_BIAS] ? " + bias[o]" : "");
    emit_end(e, "o");
    emit_end(e, "n");
}
