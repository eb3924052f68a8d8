/*
 * npy.h — NumPy .npy files of float32 (the inputs and outputs of visec run).
 *
 * Only what numpy.save writes for a C-order float32 array is accepted:
 * format versions 1.0, 2.0 and 3.0, descr '<f4', fortran_order False, at
 * most IR_MAXRANK dimensions.  Anything else is refused with a message that
 * says what the file holds and how to convert it.
 */
#ifndef VISEC_NPY_H
#define VISEC_NPY_H

#include "ir.h"

/* Longest header accepted (numpy itself refuses more than 10000 bytes). */
#define NPY_MAX_HEADER 65536

/*
 * Reads path; returns the malloc'd data and its shape (concrete dims, never
 * DIM_N), or NULL with an error on d.  The data size is checked against the
 * file size before anything is allocated.
 */
float *npy_read(const char *path, Shape *shape, Diag *d);

/*
 * Parses the header dictionary text (what follows the length field) of the
 * file named path; on success sets *shape.  Exposed for tests.
 */
bool npy_parse_header(const char *path, const char *text, size_t len, Shape *shape, Diag *d);

/*
 * Writes shape.rank dims of float32 data (DIM_N not allowed) as a version
 * 1.0 file, header padded to 64 bytes like numpy.save.  Written to a
 * temporary file renamed into place, so a failure leaves no partial file.
 */
bool npy_write(const char *path, const float *data, Shape shape, Diag *d);

#endif
