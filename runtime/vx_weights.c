/*
 * vx_weights.c — reading and checking .weights files (format in vx_runtime.h).
 *
 * The reader trusts nothing: every header field is checked against what
 * the generated model was compiled for before any tensor is used, and the
 * file is read with its size taken from the header, so a short or long
 * file is noticed without seeking.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_crc32.h"
#include "vx_runtime.h"

static uint32_t
vx_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
vx_get64(const unsigned char *p)
{
    return (uint64_t)vx_get32(p) | (uint64_t)vx_get32(p + 4) << 32;
}

VX_API int
vx_header_decode(const unsigned char *buf, vx_header *h)
{
    if (memcmp(buf, VX_WEIGHTS_MAGIC, 8) != 0)
        return VX_ERR_MAGIC;
    h->version = vx_get32(buf + 8);
    h->header_size = vx_get32(buf + 12);
    h->count = vx_get64(buf + 16);
    h->data_size = vx_get64(buf + 24);
    h->layout_hash = vx_get64(buf + 32);
    h->crc = vx_get32(buf + 40);
    memcpy(h->name, buf + 48, VX_NAME_MAX);
    h->name[VX_NAME_MAX] = '\0';
    h->table_offset = vx_get64(buf + 112);
    h->table_size = vx_get64(buf + 120);
    return VX_OK;
}

/* The header checks, in order; size is the file's size if known. */
static int
vx_check_header(const unsigned char *buf, const vx_expect *e, vx_header *h)
{
    int err = vx_header_decode(buf, h);
    if (err)
        return err;
    if (h->version != VX_WEIGHTS_VERSION || h->header_size != VX_HEADER_SIZE)
        return VX_ERR_VERSION;
    if (buf[48 + VX_NAME_MAX] != '\0' || (e && strcmp(h->name, e->name) != 0))
        return VX_ERR_MODEL;
    if (e && (h->count != e->count || h->data_size != e->data_size))
        return VX_ERR_SIZE;
    if (e && h->layout_hash != e->layout_hash)
        return VX_ERR_LAYOUT;
    /* The table lies inside the data, 8-aligned, and ends the file. */
    if (h->table_size < 16 || h->table_size > h->data_size || h->table_offset % 8 != 0 ||
        h->table_offset < VX_HEADER_SIZE ||
        h->table_offset - VX_HEADER_SIZE != h->data_size - h->table_size)
        return VX_ERR_TABLE;
    return VX_OK;
}

VX_API int
vx_weights_check(const unsigned char *file, size_t size, const vx_expect *e)
{
    vx_header h;
    if (!file)
        return VX_ERR_ARG;
    if (size < VX_HEADER_SIZE)
        return VX_ERR_TRUNCATED;
    int err = vx_check_header(file, e, &h);
    if (err)
        return err;
    if ((uint64_t)(size - VX_HEADER_SIZE) != h.data_size)
        return VX_ERR_TRUNCATED;
    if (vx_crc32(0, file + VX_HEADER_SIZE, size - VX_HEADER_SIZE) != h.crc)
        return VX_ERR_CRC;
    if (memcmp(file + h.table_offset, VX_TABLE_MAGIC, 8) != 0 ||
        vx_get64(file + h.table_offset + 8) != h.count)
        return VX_ERR_TABLE;
    return VX_OK;
}

/* 1 if floats are stored little-endian here, as in the file. */
static int
vx_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b[4];
    memcpy(b, &one, 4);
    return b[0] == 1;
}

/* Brings the float32 data of a checked image into host byte order. */
static void
vx_to_host_order(unsigned char *image, size_t size)
{
    if (vx_little_endian())
        return;
    for (size_t i = VX_HEADER_SIZE; i + 4 <= size; i += 4) {
        unsigned char t = image[i];
        image[i] = image[i + 3];
        image[i + 3] = t;
        t = image[i + 1];
        image[i + 1] = image[i + 2];
        image[i + 2] = t;
    }
}

/* Reads the whole file at path, checked, into a new aligned buffer. */
static int
vx_read_file(const char *path, const vx_expect *e, unsigned char **out, size_t *out_size)
{
    unsigned char head[VX_HEADER_SIZE];
    vx_header h;
    FILE *f = fopen(path, "rb");
    if (!f)
        return VX_ERR_OPEN;
    size_t got = fread(head, 1, VX_HEADER_SIZE, f);
    int err = VX_OK;
    if (got < VX_HEADER_SIZE)
        err = ferror(f) ? VX_ERR_READ : VX_ERR_TRUNCATED;
    if (!err)
        err = vx_check_header(head, e, &h);
    if (!err && h.data_size > SIZE_MAX - VX_HEADER_SIZE)
        err = VX_ERR_NOMEM;
    unsigned char *buf = NULL;
    size_t size = 0;
    if (!err) {
        size = VX_HEADER_SIZE + (size_t)h.data_size;
        buf = vx_alloc(size);
        if (!buf)
            err = VX_ERR_NOMEM;
    }
    if (!err) {
        memcpy(buf, head, VX_HEADER_SIZE);
        got = fread(buf + VX_HEADER_SIZE, 1, size - VX_HEADER_SIZE, f);
        if (got < size - VX_HEADER_SIZE)
            err = ferror(f) ? VX_ERR_READ : VX_ERR_TRUNCATED;
        else if (fgetc(f) != EOF)
            err = VX_ERR_TRUNCATED;     /* trailing bytes */
        else if (ferror(f))
            err = VX_ERR_READ;
    }
    fclose(f);
    if (!err)
        err = vx_weights_check(buf, size, e);
    if (err) {
        vx_free(buf);
        return err;
    }
    *out = buf;
    *out_size = size;
    return VX_OK;
}

VX_API int
vx_weights_open(const char *path, const unsigned char *embedded, size_t embedded_size,
                const vx_expect *e, const unsigned char **image, void **owned)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    int err;
    if (!image || !owned || !e)
        return VX_ERR_ARG;
    *image = NULL;
    *owned = NULL;
    if (embedded) {
        if (path)
            return VX_ERR_EMBEDDED;
        err = vx_weights_check(embedded, embedded_size, e);
        if (err)
            return err;
        if (vx_little_endian()) {
            *image = embedded;
            return VX_OK;
        }
        buf = vx_alloc(embedded_size);
        if (!buf)
            return VX_ERR_NOMEM;
        memcpy(buf, embedded, embedded_size);
        size = embedded_size;
    } else {
        if (!path)
            return VX_ERR_ARG;
        err = vx_read_file(path, e, &buf, &size);
        if (err)
            return err;
    }
    vx_to_host_order(buf, size);
    *image = buf;
    *owned = buf;
    return VX_OK;
}
