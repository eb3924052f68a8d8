/*
 * npy.h — streaming writer for float32 .npy files (format 1.0, C order),
 * readable by numpy.load.
 *
 * The shape is known up front; the data is appended in pieces as batches
 * finish.  The file is written under a temporary name and renamed into place
 * by npy_commit(), so a run that fails leaves no partial output.  When the
 * number of rows is known only at the end, npy_open() announces an upper
 * bound and npy_set_rows() the final count before npy_commit().
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
    size_t shape[NPY_MAXDIM];      /* the shape (shape[0] may shrink, npy_set_rows) */
    int ndim;
    size_t header_len;             /* bytes of the header written by npy_open */
    int rows_changed;              /* npy_set_rows was called: rewrite the header */
} NpyWriter;

/* Creates the temporary file and writes the header.  0 or -1 (err set). */
int npy_open(NpyWriter *w, const char *path, const size_t *shape, int ndim, char *err,
             size_t errlen);

/* Appends n floats.  0 or -1 (err set). */
int npy_append(NpyWriter *w, const float *data, size_t n, char *err, size_t errlen);

/*
 * Lowers the first dimension to rows (at most the shape npy_open was given),
 * for a file whose row count is known only at the end: npy_commit then
 * rewrites the header, padded to its original length.  0 or -1 (err set).
 */
int npy_set_rows(NpyWriter *w, size_t rows, char *err, size_t errlen);

/* Checks the count, closes and renames into place.  0 or -1 (err set). */
int npy_commit(NpyWriter *w, char *err, size_t errlen);

/* Closes and removes the temporary file; safe on a closed writer. */
void npy_abort(NpyWriter *w);

#endif
