/*
 * ckpt_zip.c — the ZIP container of PyTorch's file format.
 *
 * torch.save writes a ZIP archive of STORED (uncompressed) entries with
 * ZIP64 records; a checkpoint re-zipped by another tool may hold DEFLATE
 * entries, which torch.load reads too.  We read the end-of-central-directory
 * record (and its ZIP64 form), then every central-directory header and the
 * local header it points to.  Every offset and size is checked against the
 * file; entries must be STORED or DEFLATE, unencrypted, uniquely named and
 * must not overlap.  DEFLATE entries are inflated with zlib into buffers of
 * exactly their declared size (bounded, see CK_MAX_INFLATE).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "vx_crc32.h"

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD    0x06054b50u
#define SIG_EOCD64  0x06064b50u
#define SIG_LOC64   0x07064b50u

static uint16_t
rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
rd32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
rd64(const unsigned char *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Finds the end-of-central-directory record; its comment must reach the end. */
static int64_t
find_eocd(const unsigned char *p, size_t size)
{
    if (size < 22)
        return -1;
    int64_t lo = (int64_t)size - 22 - 65535;
    for (int64_t i = (int64_t)size - 22; i >= 0 && i >= lo; i--)
        if (rd32(p + i) == SIG_EOCD && (size_t)i + 22 + rd16(p + i + 20) == size)
            return i;
    return -1;
}

/* Reads the ZIP64 extra field of a central header: the 32-bit fields that
 * hold 0xffffffff are replaced, in the order usize, csize, offset. */
static bool
zip64_extra(const unsigned char *x, size_t n, uint64_t *usize, uint64_t *csize, uint64_t *lho)
{
    while (n >= 4) {
        uint16_t id = rd16(x), len = rd16(x + 2);
        if ((size_t)len + 4 > n)
            return false;
        if (id == 1) {
            const unsigned char *q = x + 4, *end = x + 4 + len;
            uint64_t *f[3] = {usize, csize, lho};
            for (int i = 0; i < 3; i++) {
                if (*f[i] != 0xffffffffu)
                    continue;
                if (end - q < 8)
                    return false;
                *f[i] = rd64(q);
                q += 8;
            }
            return true;
        }
        x += 4 + len;
        n -= 4 + (size_t)len;
    }
    return n == 0;
}

static int
cmp_hdr(const void *a, const void *b)
{
    const ZipEntry *x = *(ZipEntry *const *)a, *y = *(ZipEntry *const *)b;
    return x->hdr < y->hdr ? -1 : x->hdr > y->hdr;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp((*(ZipEntry *const *)a)->name, (*(ZipEntry *const *)b)->name);
}

static int
cmp_entry(const void *a, const void *b)
{
    return strcmp(((const ZipEntry *)a)->name, ((const ZipEntry *)b)->name);
}

/* No two entries share a name, and no entry's bytes overlap another's. */
static bool
check_layout(const char *path, Zip *z, int64_t cd_off, Diag *d)
{
    bool ok = true;
    ZipEntry **s = xmalloc(sizeof *s * (size_t)(z->n ? z->n : 1));
    for (int i = 0; i < z->n; i++)
        s[i] = &z->e[i];
    qsort(s, (size_t)z->n, sizeof *s, cmp_hdr);
    for (int i = 0; i < z->n && ok; i++) {
        int64_t end = s[i]->off + s[i]->csize;
        int64_t next = i + 1 < z->n ? s[i + 1]->hdr : cd_off;
        if (end > next) {
            ck_error(d, path, s[i]->hdr, "ZIP entry '%s' (%lld bytes) overlaps %s", s[i]->name,
                     (long long)s[i]->csize,
                     i + 1 < z->n ? "the next entry" : "the central directory");
            ok = false;
        }
    }
    qsort(s, (size_t)z->n, sizeof *s, cmp_name);
    for (int i = 0; i + 1 < z->n && ok; i++)
        if (!strcmp(s[i]->name, s[i + 1]->name)) {
            ck_error(d, path, s[i + 1]->hdr, "ZIP entry '%s' appears twice", s[i]->name);
            ok = false;
        }
    free(s);
    return ok;
}

/* Inflates a DEFLATE entry into a new buffer of exactly e->size bytes; the
 * stream must end exactly there. */
static bool
inflate_entry(const char *path, ZipEntry *e, Diag *d)
{
    e->inflated = xmalloc(e->size ? (size_t)e->size : 1);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        ck_error(d, path, e->hdr, "ZIP entry '%s': zlib cannot start inflating", e->name);
        return false;
    }
    const unsigned char *in = e->data;
    int64_t in_left = e->csize, out_left = e->size;
    unsigned char *out = e->inflated, spare;
    int r = Z_OK;
    bool over = false;      /* the stream produced more than e->size bytes */
    /* zlib counts in uInt: feed and drain in pieces of at most 1 GiB. */
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            zs.next_in = (unsigned char *)in;
            zs.avail_in = (uInt)(in_left < (1 << 30) ? in_left : (1 << 30));
            in += zs.avail_in;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
            if (out_left > 0) {
                zs.next_out = out;
                zs.avail_out = (uInt)(out_left < (1 << 30) ? out_left : (1 << 30));
                out += zs.avail_out;
                out_left -= zs.avail_out;
            } else {
                /* Full: one spare byte to see whether the stream ends here. */
                if (over)
                    break;
                over = true;
                zs.next_out = &spare;
                zs.avail_out = 1;
            }
        }
        r = inflate(&zs, Z_NO_FLUSH);
        if (r != Z_OK)
            break;
        if (over && zs.avail_out == 0)
            break;          /* a byte past the declared size */
    }
    bool ok = r == Z_STREAM_END && out_left == 0 && (over ? zs.avail_out == 1 : zs.avail_out == 0);
    inflateEnd(&zs);
    if (!ok)
        ck_error(d, path, e->off, "ZIP entry '%s': the DEFLATE data is corrupt or does not inflate "
                 "to the %lld bytes the directory says", e->name, (long long)e->size);
    else
        e->data = e->inflated;
    return ok;
}

bool
zip_read(const char *path, const unsigned char *p, size_t size, Zip *z, Diag *d)
{
    memset(z, 0, sizeof *z);
    int64_t eocd = find_eocd(p, size);
    if (eocd < 0) {
        ck_error(d, path, -1, "no ZIP end-of-central-directory record; the file is truncated or not a ZIP archive");
        return false;
    }
    uint64_t nent = rd16(p + eocd + 10), cd_size = rd32(p + eocd + 12), cd_off = rd32(p + eocd + 16);
    int64_t cd_limit = eocd;    /* the central directory ends before this */
    if (rd16(p + eocd + 4) != 0 || rd16(p + eocd + 6) != 0 || rd16(p + eocd + 8) != rd16(p + eocd + 10)) {
        ck_error(d, path, eocd, "multi-disk ZIP archives are not supported");
        return false;
    }
    if (eocd >= 20 && rd32(p + eocd - 20) == SIG_LOC64) {
        uint64_t e64 = rd64(p + eocd - 20 + 8);
        if (e64 > (uint64_t)eocd - 20 || (uint64_t)eocd - 20 - e64 < 56 || rd32(p + e64) != SIG_EOCD64) {
            ck_error(d, path, eocd - 20, "the ZIP64 locator points to %llu, where there is no ZIP64 end record",
                     (unsigned long long)e64);
            return false;
        }
        nent = rd64(p + e64 + 32);
        cd_size = rd64(p + e64 + 40);
        cd_off = rd64(p + e64 + 48);
        cd_limit = (int64_t)e64;
    }
    if (cd_off > (uint64_t)cd_limit || cd_size > (uint64_t)cd_limit - cd_off) {
        ck_error(d, path, eocd, "the ZIP central directory (%llu bytes at %llu) lies outside the file",
                 (unsigned long long)cd_size, (unsigned long long)cd_off);
        return false;
    }
    if (nent > cd_size / 46) {
        ck_error(d, path, eocd, "the ZIP central directory claims %llu entries but has room for %llu",
                 (unsigned long long)nent, (unsigned long long)(cd_size / 46));
        return false;
    }
    z->e = xcalloc(nent ? nent : 1, sizeof *z->e);
    const unsigned char *q = p + cd_off, *end = p + cd_off + cd_size;
    for (uint64_t i = 0; i < nent; i++) {
        int64_t at = q - p;
        if (end - q < 46 || rd32(q) != SIG_CENTRAL) {
            ck_error(d, path, at, "bad ZIP central directory header for entry %llu", (unsigned long long)i);
            return false;
        }
        uint16_t flags = rd16(q + 8), method = rd16(q + 10);
        uint64_t csize = rd32(q + 20), usize = rd32(q + 24), lho = rd32(q + 42);
        size_t nlen = rd16(q + 28), xlen = rd16(q + 30), clen = rd16(q + 32);
        if ((size_t)(end - q) < 46 + nlen + xlen + clen) {
            ck_error(d, path, at, "ZIP central directory header %llu runs past the directory",
                     (unsigned long long)i);
            return false;
        }
        if (nlen == 0 || nlen > CK_MAXNAME || memchr(q + 46, 0, nlen)) {
            ck_error(d, path, at, "ZIP entry %llu has a bad name", (unsigned long long)i);
            return false;
        }
        ZipEntry *e = &z->e[z->n++];
        e->name = xmalloc(nlen + 1);
        memcpy(e->name, q + 46, nlen);
        e->name[nlen] = '\0';
        if (!zip64_extra(q + 46 + nlen, xlen, &usize, &csize, &lho)) {
            ck_error(d, path, at, "ZIP entry '%s' has a malformed extra field", e->name);
            return false;
        }
        if (flags & 1) {
            ck_error(d, path, at, "ZIP entry '%s' is encrypted", e->name);
            return false;
        }
        if ((method != 0 && method != 8) || (method == 0 && csize != usize)) {
            ck_error(d, path, at, "ZIP entry '%s' uses compression method %u; only STORED (0) and "
                     "DEFLATE (8) are read", e->name, method);
            return false;
        }
        if (method == 8 && (usize > CK_MAX_INFLATE || usize > 1032 * csize + 64)) {
            ck_error(d, path, at, "ZIP entry '%s' claims to inflate %llu bytes to %llu, more than "
                     "DEFLATE can (or than %lld GiB)", e->name, (unsigned long long)csize,
                     (unsigned long long)usize, (long long)(CK_MAX_INFLATE >> 30));
            return false;
        }
        /* The local header: its own name and extra lengths place the data. */
        if (lho > (uint64_t)cd_off || cd_off - lho < 30 || rd32(p + lho) != SIG_LOCAL) {
            ck_error(d, path, at, "ZIP entry '%s' points to %llu, where there is no local header",
                     e->name, (unsigned long long)lho);
            return false;
        }
        uint64_t loff = lho + 30 + rd16(p + lho + 26) + (uint64_t)rd16(p + lho + 28);
        if (loff > cd_off || csize > cd_off - loff) {
            ck_error(d, path, (int64_t)lho, "ZIP entry '%s' (%llu bytes at %llu) runs past the end of the data",
                     e->name, (unsigned long long)csize, (unsigned long long)loff);
            return false;
        }
        if (rd16(p + lho + 26) != nlen || memcmp(p + lho + 30, e->name, nlen)) {
            ck_error(d, path, (int64_t)lho, "ZIP local header of '%s' names another entry", e->name);
            return false;
        }
        e->hdr = (int64_t)lho;
        e->off = (int64_t)loff;
        e->size = (int64_t)usize;
        e->csize = (int64_t)csize;
        e->method = method;
        e->data = p + loff;
        e->crc = rd32(q + 16);
        q += 46 + nlen + xlen + clen;
    }
    if (!check_layout(path, z, (int64_t)cd_off, d))
        return false;
    int64_t total = 0;
    for (int i = 0; i < z->n; i++) {
        ZipEntry *e = &z->e[i];
        if (e->method != 8)
            continue;
        total += e->size;
        if (total > CK_MAX_INFLATE) {
            ck_error(d, path, e->hdr, "the ZIP entries inflate to more than %lld GiB",
                     (long long)(CK_MAX_INFLATE >> 30));
            return false;
        }
        if (!inflate_entry(path, e, d))
            return false;
    }
    qsort(z->e, (size_t)z->n, sizeof *z->e, cmp_entry);   /* for zip_find */
    return true;
}

const ZipEntry *
zip_find(const Zip *z, const char *name)
{
    ZipEntry key = {.name = (char *)name};
    return z->n ? bsearch(&key, z->e, (size_t)z->n, sizeof *z->e, cmp_entry) : NULL;
}

bool
zip_check_crc(const char *path, const ZipEntry *e, Diag *d)
{
    uint32_t crc = vx_crc32(0, e->data, (size_t)e->size);
    if (crc == e->crc)
        return true;
    ck_error(d, path, e->off, "ZIP entry '%s' is corrupt: CRC-32 %08x, the directory says %08x",
             e->name, crc, e->crc);
    return false;
}

void
zip_free(Zip *z)
{
    for (int i = 0; i < z->n; i++) {
        free(z->e[i].name);
        free(z->e[i].inflated);
    }
    free(z->e);
    memset(z, 0, sizeof *z);
}
