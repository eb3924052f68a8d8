/*
 * outfile.h — output files that appear whole or not at all.
 *
 * outfile_open() creates a temporary file beside the destination; the data
 * goes there, and outfile_commit() renames it into place only if every write
 * succeeded.  outfile_abort() (or a failed commit) removes it, so a failure
 * never leaves a partial or truncated output behind.
 */
#ifndef VISEC_OUTFILE_H
#define VISEC_OUTFILE_H

#include "ir.h"

typedef struct OutFile {
    FILE *f;            /* write here */
    char *path;         /* final destination */
    char *tmp;          /* temporary name in the same directory */
} OutFile;

/* false (with an error on d) if the temporary file cannot be created. */
bool outfile_open(OutFile *o, const char *path, Diag *d);
/* Flushes, closes and renames into place; false (with an error) on failure. */
bool outfile_commit(OutFile *o, Diag *d);
/* Closes and removes the temporary file. */
void outfile_abort(OutFile *o);

#endif
