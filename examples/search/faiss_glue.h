/*
 * faiss_glue.h — the few FAISS calls search needs, behind a C interface
 * (faiss_glue.cpp; FAISS itself is C++ and Debian ships no C API library).
 * Every function catches FAISS's exceptions and returns -1 or NULL with the
 * message in err.
 */
#ifndef SEARCH_FAISS_GLUE_H
#define SEARCH_FAISS_GLUE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct SxIndex SxIndex;

/* An empty inner-product index of dim-vectors: exact (IndexFlatIP) when
   nlist is 0, else IndexIVFFlat with nlist lists (needs sx_train). */
SxIndex *sx_new(int dim, int nlist, char *err, size_t errlen);

/* Trains an IVF index on n vectors (a no-op for a flat one). */
int sx_train(SxIndex *ix, long n, const float *x, char *err, size_t errlen);

/* Adds n vectors; their ids continue from sx_size(). */
int sx_add(SxIndex *ix, long n, const float *x, char *err, size_t errlen);

long sx_size(const SxIndex *ix);
int sx_dim(const SxIndex *ix);

/* Writes the index at f's position / reads one from f's position. */
int sx_write(const SxIndex *ix, FILE *f, char *err, size_t errlen);
SxIndex *sx_read(FILE *f, char *err, size_t errlen);

/* The k best of nq queries: scores[nq*k] (inner products), ids[nq*k];
   nprobe is used by IVF indexes only. */
int sx_search(SxIndex *ix, long nq, const float *q, int k, int nprobe, float *scores,
              long *ids, char *err, size_t errlen);

void sx_free(SxIndex *ix);

#ifdef __cplusplus
}
#endif

#endif
