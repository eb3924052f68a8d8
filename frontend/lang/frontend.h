/*
 * frontend.h — reading model descriptions (lexer.l, parser.y, lower.c).
 */
#ifndef VISEC_FRONTEND_H
#define VISEC_FRONTEND_H

#include "ir.h"

/*
 * Reads, parses and elaborates the model description at path into a graph
 * (blocks expanded, loops unrolled, shapes inferred).  Every error found is
 * reported through d; the result is NULL if there was any.  *src receives
 * the source text, which node locations point into: free it with
 * source_free() after the graph.
 */
Graph *frontend_load(const char *path, Diag *d, Source **src);

/* The same for a description held in memory (tests). */
Graph *frontend_load_string(const char *path, const char *text, Diag *d, Source **src);

#endif
