/*
 * vx_write.c — encoding .weights headers and the layout hash.
 */
#include <string.h>

#include "vx_write.h"

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

void
vx_header_encode(unsigned char out[VX_HEADER_SIZE], const vx_header *h)
{
    memset(out, 0, VX_HEADER_SIZE);
    memcpy(out, VX_WEIGHTS_MAGIC, 8);
    put32(out + 8, h->version);
    put32(out + 12, h->header_size);
    put64(out + 16, h->count);
    put64(out + 24, h->data_size);
    put64(out + 32, h->layout_hash);
    put32(out + 40, h->crc);
    size_t n = strlen(h->name);
    memcpy(out + 48, h->name, n < VX_NAME_MAX ? n : VX_NAME_MAX);
    put64(out + 112, h->table_offset);
    put64(out + 120, h->table_size);
}

uint64_t
vx_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t
vx_hash_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    put64(b, v);
    return vx_hash_bytes(h, b, 8);
}

uint64_t
vx_hash_str(uint64_t h, const char *s)
{
    return vx_hash_bytes(h, s, strlen(s) + 1);
}
