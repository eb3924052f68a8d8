/*
 * wfile.h — reading visec's own .weights files back (wfile.c), for
 * `visec inspect`: the header, the tensor table (format in
 * runtime/vx_runtime.h) and per-tensor checksums.  The file is hostile
 * until checked: the runtime's own vx_weights_check() validates the header,
 * the table's place and the CRC, then every table entry is bounds-checked.
 */
#ifndef VISEC_WFILE_H
#define VISEC_WFILE_H

#include "ir.h"
#include "vx_runtime.h"

#define WF_MAXRANK 8
#define WF_MAXSTR 4096              /* longest name or provenance accepted */

typedef struct WfTensor {
    int64_t offset;                 /* file offset */
    int rank;
    int64_t dim[WF_MAXRANK];
    int64_t numel;
    char *name;                     /* the graph tensor's name */
    char *provenance;               /* checkpoint key, or how a pass computed it */
    uint32_t crc;                   /* CRC-32 of its float32 little-endian bytes */
} WfTensor;

typedef struct WFile {
    vx_header h;                    /* decoded header */
    char sha256[SHA256_HEX];        /* of the whole file */
    WfTensor *t;                    /* h.count tensors, in file order */
    int n;
} WFile;

/* Does the file start with the .weights magic? (false if unreadable) */
bool wfile_is(const char *path);
/* Reads and checks path; NULL with errors reported. */
WFile *wfile_read(const char *path, Diag *d);
void wfile_free(WFile *w);

#endif
