/*
 * vx_runtime.h — what generated code needs at run time: aligned memory,
 * error codes and their messages, and the .weights file format.
 *
 * These files (vx_runtime.h, vx_alloc.c, vx_weights.c, and vx_crc32.{h,c})
 * are ordinary C99 using only standard headers.  visec links them to WRITE
 * weights files and pastes them verbatim into every generated model to READ
 * them, so writer and reader share one definition of the format.  The
 * generated file defines VX_API as `static` before the paste, so each model
 * carries a private copy and several models link into one program.
 *
 * The .weights file (all integers little-endian):
 *
 *   offset  size  field
 *        0     8  magic "VISEWTS\0"
 *        8     4  format version (VX_WEIGHTS_VERSION)
 *       12     4  header size in bytes (VX_HEADER_SIZE)
 *       16     8  tensor count
 *       24     8  data size in bytes (everything after the header)
 *       32     8  layout hash: model name + every tensor's name, shape, offset
 *       40     4  CRC-32 (zlib) of the data
 *       44     4  zero
 *       48    64  model name, NUL-padded (at most VX_NAME_MAX bytes)
 *      112     8  tensor table offset (a file offset, multiple of 8)
 *      120     8  tensor table size in bytes
 *      128     …  data: float32 little-endian tensors, each at a file offset
 *                 that is a multiple of VX_ALIGN, zero bytes in between,
 *                 then the tensor table, which ends the file
 *
 * The tensor table (version 2; for tools such as `visec inspect`, the
 * generated code checks only its place and its first 16 bytes):
 *
 *        8  magic "VXTABLE\0"
 *        8  tensor count (the header's)
 *   per tensor, in file order:
 *        8  file offset
 *        4  rank (at most 8), then rank x 8 bytes: dims
 *        4  name length, then the name (the tensor's name in the graph)
 *        4  provenance length, then the provenance: the checkpoint key it
 *           was read from, or how a pass computed it from checkpoint tensors
 *   zero padding to a multiple of 8 bytes
 *
 * The file size must be exactly VX_HEADER_SIZE + data size; the CRC and
 * the data size cover the table; the layout hash covers the table's offset
 * and size.  Version 1 files (no table) are refused.
 */
#ifndef VX_RUNTIME_H
#define VX_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifndef VX_API
#define VX_API
#endif

/* Error codes: every generated entry point returns 0 or one of these. */
#define VX_OK             0
#define VX_ERR_ARG       (-1)   /* a NULL pointer or an invalid argument */
#define VX_ERR_BATCH     (-2)   /* batch < 1, or so large the sizes overflow */
#define VX_ERR_NOMEM     (-3)   /* memory allocation failed */
#define VX_ERR_OPEN      (-4)   /* the weights file cannot be opened */
#define VX_ERR_READ      (-5)   /* reading the weights file failed */
#define VX_ERR_TRUNCATED (-6)   /* the file is shorter or longer than its header says */
#define VX_ERR_MAGIC     (-7)   /* not a visec weights file */
#define VX_ERR_VERSION   (-8)   /* a weights format version this code does not read */
#define VX_ERR_MODEL     (-9)   /* the weights are for another model (name differs) */
#define VX_ERR_SIZE      (-10)  /* tensor count or data size differ from this build */
#define VX_ERR_LAYOUT    (-11)  /* layout hash differs: written for another build */
#define VX_ERR_CRC       (-12)  /* the data does not match its CRC-32: corrupt file */
#define VX_ERR_EMBEDDED  (-13)  /* weights are compiled in: the path must be NULL */
#define VX_ERR_TABLE     (-14)  /* the tensor table is misplaced or malformed */
#define VX_ERR_LAST      (-14)  /* the lowest code */

#define VX_WEIGHTS_MAGIC   "VISEWTS"    /* 7 characters and the NUL: 8 bytes */
#define VX_TABLE_MAGIC     "VXTABLE"    /* 7 characters and the NUL: 8 bytes */
#define VX_WEIGHTS_VERSION 2u
#define VX_HEADER_SIZE     128
#define VX_NAME_MAX        63           /* longest model name the header holds */
#define VX_ALIGN           64           /* alignment of tensors and of vx_alloc */

/* The fields of a weights file header, decoded. */
typedef struct vx_header {
    uint32_t version;       /* format version */
    uint32_t header_size;   /* bytes before the data */
    uint64_t count;         /* tensors in the file */
    uint64_t data_size;     /* bytes after the header */
    uint64_t layout_hash;   /* see vx_layout_hash() in the compiler */
    uint32_t crc;           /* CRC-32 of the data */
    char name[VX_NAME_MAX + 1]; /* model name, NUL-terminated */
    uint64_t table_offset;  /* file offset of the tensor table */
    uint64_t table_size;    /* bytes of the tensor table */
} vx_header;

/* What a generated model expects of its weights file. */
typedef struct vx_expect {
    const char *name;       /* model name */
    uint64_t count;         /* tensor count */
    uint64_t data_size;     /* data bytes */
    uint64_t layout_hash;   /* layout hash compiled into the model */
} vx_expect;

/* ---------------------------------------------------------------- vx_alloc.c: memory, messages */

/* n bytes aligned to VX_ALIGN; NULL if n is 0 or memory is short. */
VX_API void *vx_alloc(size_t n);
/* Frees what vx_alloc returned; NULL is fine. */
VX_API void vx_free(void *p);
/* The message for an error code ("unknown error" for others). */
VX_API const char *vx_strerror(int err);

/* ---------------------------------------------------------------- vx_weights.c */

/* Decodes the first VX_HEADER_SIZE bytes of buf: checks the magic only. */
VX_API int vx_header_decode(const unsigned char *buf, vx_header *h);

/*
 * Checks a whole weights file image of `size` bytes against what the model
 * expects: size, magic, version, name, count, data size, layout hash, CRC,
 * the tensor table's place and magic, in that order; returns VX_OK or the
 * first mismatch's error code.  A NULL e checks only the file's own
 * consistency (for tools).
 */
VX_API int vx_weights_check(const unsigned char *file, size_t size, const vx_expect *e);

/*
 * Gets a checked weights image for a model.  With embedded == NULL it reads
 * the file at path; otherwise path must be NULL and the image is the
 * embedded array of embedded_size bytes.  On success *image points at the
 * file image (header included; aligned to VX_ALIGN when read from a file,
 * to at least 8 bytes when embedded), with float32 data in host
 * byte order, and *owned is what to vx_free() at close (NULL if nothing).
 */
VX_API int vx_weights_open(const char *path, const unsigned char *embedded, size_t embedded_size,
                           const vx_expect *e, const unsigned char **image, void **owned);

#endif
