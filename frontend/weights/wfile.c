/*
 * wfile.c — reading visec's own .weights files (see wfile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vx_crc32.h"
#include "wfile.h"

#define WF_MAXFILE (INT64_C(64) << 30)  /* 64 GiB: more is not a model */

bool
wfile_is(const char *path)
{
    unsigned char m[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool is = fread(m, 1, 8, f) == 8 && !memcmp(m, VX_WEIGHTS_MAGIC, 8);
    fclose(f);
    return is;
}

static uint64_t
rd(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static const char *
check_message(int err)
{
    switch (err) {
    case VX_ERR_TRUNCATED: return "its size differs from what the header says (truncated or extended)";
    case VX_ERR_MAGIC: return "not a visec weights file";
    case VX_ERR_VERSION: return "a weights format version this visec does not read (it reads version 2)";
    case VX_ERR_MODEL: return "the model name in the header is not NUL-terminated";
    case VX_ERR_CRC: return "corrupt: the CRC-32 of the data does not match the header";
    case VX_ERR_TABLE: return "the tensor table is misplaced or malformed";
    default: return vx_strerror(err);
    }
}

/* A length-prefixed string at *pos within [.., end); NULL if it does not fit. */
static char *
take_str(const unsigned char *b, uint64_t *pos, uint64_t end)
{
    if (end - *pos < 4)
        return NULL;
    uint64_t n = rd(b + *pos, 4);
    if (n > WF_MAXSTR || end - *pos - 4 < n || memchr(b + *pos + 4, 0, n))
        return NULL;
    char *s = xmalloc(n + 1);
    memcpy(s, b + *pos + 4, n);
    s[n] = '\0';
    *pos += 4 + n;
    return s;
}

/* Parses the tensor table; every entry must lie in the data before the
 * table, 64-byte aligned, in increasing order without overlap. */
static bool
parse_table(const char *path, const unsigned char *b, WFile *w, Diag *d)
{
    uint64_t pos = w->h.table_offset + 16, end = w->h.table_offset + w->h.table_size;
    uint64_t next_free = VX_HEADER_SIZE;
    if (w->h.count > (w->h.table_size - 16) / 20) {     /* 20: the smallest entry */
        error_plain(d, "%s: the header claims %llu tensors, more than the table has room for", path,
                    (unsigned long long)w->h.count);
        return false;
    }
    w->t = xcalloc(w->h.count ? (size_t)w->h.count : 1, sizeof *w->t);
    for (uint64_t i = 0; i < w->h.count; i++) {
        WfTensor *t = &w->t[w->n];
        if (end - pos < 12) {
            error_plain(d, "%s: tensor table entry %llu is truncated", path, (unsigned long long)i);
            return false;
        }
        uint64_t off = rd(b + pos, 8), rank = rd(b + pos + 8, 4);
        pos += 12;
        if (rank > WF_MAXRANK || end - pos < 8 * rank) {
            error_plain(d, "%s: tensor table entry %llu has a bad rank (%llu)", path,
                        (unsigned long long)i, (unsigned long long)rank);
            return false;
        }
        uint64_t numel = 1;
        bool big = false;
        for (uint64_t k = 0; k < rank; k++) {
            uint64_t dim = rd(b + pos + 8 * k, 8);
            t->dim[k] = (int64_t)dim;
            if (dim > w->h.data_size || (dim && numel > w->h.data_size / dim))
                big = true;
            else
                numel *= dim;
        }
        pos += 8 * rank;
        t->rank = (int)rank;
        t->name = take_str(b, &pos, end);
        t->provenance = t->name ? take_str(b, &pos, end) : NULL;
        w->n++;
        if (!t->name || !t->provenance) {
            error_plain(d, "%s: tensor table entry %llu has a bad name or provenance string", path,
                        (unsigned long long)i);
            return false;
        }
        if (big || off % VX_ALIGN || off < next_free || off > w->h.table_offset ||
            4 * numel > w->h.table_offset - off) {
            error_plain(d, "%s: tensor '%s' (entry %llu) lies outside the data, overlaps another or "
                        "is misaligned (offset %llu)", path, t->name, (unsigned long long)i,
                        (unsigned long long)off);
            return false;
        }
        t->offset = (int64_t)off;
        t->numel = (int64_t)numel;
        t->crc = vx_crc32(0, b + off, 4 * numel);
        next_free = off + 4 * numel;
    }
    for (; pos < end; pos++)
        if (b[pos] || end - pos >= 8) {
            error_plain(d, "%s: unexpected bytes after the tensor table's last entry", path);
            return false;
        }
    return true;
}

WFile *
wfile_read(const char *path, Diag *d)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        error_plain(d, "%s: cannot open: %s", path, f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if (st.st_size > WF_MAXFILE) {
        error_plain(d, "%s: %lld bytes is larger than any weights file visec writes", path,
                    (long long)st.st_size);
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *b = xmalloc(size ? size : 1);
    bool ok = fread(b, 1, size, f) == size;
    fclose(f);
    if (!ok) {
        error_plain(d, "%s: read error", path);
        free(b);
        return NULL;
    }
    WFile *w = xcalloc(1, sizeof *w);
    int err = vx_weights_check(b, size, NULL);
    if (err) {
        error_plain(d, "%s: %s", path, check_message(err));
    } else {
        vx_header_decode(b, &w->h);
        sha256_hex(b, size, w->sha256);
        if (parse_table(path, b, w, d)) {
            free(b);
            return w;
        }
    }
    free(b);
    wfile_free(w);
    return NULL;
}

void
wfile_free(WFile *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].provenance);
    }
    free(w->t);
    free(w);
}
