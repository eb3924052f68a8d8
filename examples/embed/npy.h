/*
 * npy.h — streaming writer for float32 .npy files (format 1.0, C order),
 * readable by numpy.load.
 *
 * The shape is known up front; the data is appended in pieces as batches
 * finish.  The file is written under a temporary name and renamed into place
 * by npy_commit(), so a run that fails leaves no partial output.
 */
#ifndef EMBED_NPY_H
#define EMBED_NPY_H

#include <stddef.h>
#include <stdio.h>

#define NPY_MAXDIM 8

typedef struct {
    FILE *f;                       /* the temporary file, NULL when closed */
    char *path;                    /* final name */
    char *tmp;                     /* temporary name: path + ".tmp" */
    size_t want;                   /* floats the shape holds */
    size_t done;                   /* floats written so far */
} NpyWriter;

/* Creates the temporary file and writes the header.  0 or -1 (err set). */
int npy_open(NpyWriter *w, const char *path, const size_t *shape, int ndim, char *err,
             size_t errlen);

/* Appends n floats.  0 or -1 (err set). */
int npy_append(NpyWriter *w, const float *data, size_t n, char *err, size_t errlen);

/* Checks the count, closes and renames into place.  0 or -1 (err set). */
int npy_commit(NpyWriter *w, char *err, size_t errlen);

/* Closes and removes the temporary file; safe on a closed writer. */
void npy_abort(NpyWriter *w);

#endif
