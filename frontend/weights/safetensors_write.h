/*
 * safetensors_write.h — writing checkpoints (visec init-weights).
 */
#ifndef VISEC_SAFETENSORS_WRITE_H
#define VISEC_SAFETENSORS_WRITE_H

#include "ir.h"

/*
 * Writes every checkpoint tensor of g (origin NULL, used by a node) as F32
 * in safetensors format, in graph order: an 8-byte little-endian header
 * length, the JSON header (padded with spaces to a multiple of 8 bytes),
 * then the raw little-endian data.  Same graph and data give the same bytes.
 * Written to a temporary file renamed into place.  False with an error on d
 * if a tensor has no data or the file cannot be written.
 */
bool safetensors_write(const char *path, const Graph *g, Diag *d);

/*
 * Fills every checkpoint tensor of g with deterministic synthetic values
 * from seed (see cmd_init_weights.c): the same seed gives bit-identical
 * values on every IEEE-754 machine.  Tensors that already have data are
 * left alone.
 */
void weights_synthesize(Graph *g, uint64_t seed);

#endif
