/*
 * vx_crc32.h — CRC-32 (the zlib/IEEE 802.3 polynomial, reflected).
 *
 * vx_crc32(0, p, n) equals Python's zlib.crc32(bytes); chaining works the
 * same way: vx_crc32(vx_crc32(0, a, na), b, nb) == crc of a followed by b.
 * visec uses it for tensor checksums (of the float32 little-endian bytes in
 * C order) and for ZIP entries.  The generated code can carry a copy: define
 * VX_API (e.g. as static) before including this file and vx_crc32.c.
 */
#ifndef VX_CRC32_H
#define VX_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifndef VX_API
#define VX_API
#endif

VX_API uint32_t vx_crc32(uint32_t crc, const void *p, size_t n);

#endif
