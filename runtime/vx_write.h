/*
 * vx_write.h — the writing side of the .weights format (vx_runtime.h).
 *
 * Linked into visec only; generated code reads files and never writes them.
 */
#ifndef VX_WRITE_H
#define VX_WRITE_H

#include "vx_runtime.h"

/* Encodes h as the VX_HEADER_SIZE bytes that begin a weights file. */
void vx_header_encode(unsigned char out[VX_HEADER_SIZE], const vx_header *h);

/*
 * The layout hash is 64-bit FNV-1a over a byte sequence: the model name and
 * a NUL, then for every tensor in file order its name and a NUL, its rank
 * and dims and its file offset, each as 8 bytes little-endian.
 */
#define VX_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t vx_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t vx_hash_u64(uint64_t h, uint64_t v);
uint64_t vx_hash_str(uint64_t h, const char *s);  /* includes the NUL */

#endif
