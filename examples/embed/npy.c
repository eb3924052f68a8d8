/*
 * npy.c — streaming float32 .npy writer (see npy.h).
 */
#include "npy.h"
#include "set_err.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
little_endian(void)
{
    uint32_t one = 1;
    unsigned char b[4];

    memcpy(b, &one, 4);
    return b[0] == 1;
}

/*
 * Writes the .npy header for shape into header[] (at least 10 + 512 + 64
 * bytes): magic, version, length, the dict padded with spaces and a newline
 * to a multiple of 64 bytes as numpy.save does, or to exactly pad_to bytes
 * when pad_to is not 0 and large enough.  Returns the header's length.
 */
static size_t
format_header(char *header, const size_t *shape, int ndim, size_t pad_to)
{
    char dict[512];
    size_t len, total, hlen;
    int n;

    /* {'descr': '<f4', 'fortran_order': False, 'shape': (1, 2048, 7, 7), } */
    n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, ndim == 1 ? "%zu," : i ? " %zu" : "%zu",
                      shape[i]);
        if (i + 1 < ndim)
            n += snprintf(dict + n, sizeof dict - (size_t)n, ",");
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    len = (size_t)n;
    /* magic (6) + version (2) + header length (2) + dict + spaces + newline */
    total = (10 + len + 1 + 63) / 64 * 64;
    if (pad_to >= 10 + len + 1)
        total = pad_to;
    hlen = total - 10;
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)(hlen & 0xFF);
    header[9] = (char)(hlen >> 8);
    memcpy(header + 10, dict, len);
    memset(header + 10 + len, ' ', hlen - len - 1);
    header[total - 1] = '\n';
    return total;
}

int
npy_open(NpyWriter *w, const char *path, const size_t *shape, int ndim, char *err,
         size_t errlen)
{
    char header[600];
    size_t total;

    memset(w, 0, sizeof *w);
    if (ndim < 1 || ndim > NPY_MAXDIM) {
        set_err(err, errlen, "%s: cannot write a %d-dimensional array", path, ndim);
        return -1;
    }
    w->want = 1;
    for (int i = 0; i < ndim; i++) {
        w->want *= shape[i];
        w->shape[i] = shape[i];
    }
    w->ndim = ndim;
    total = format_header(header, shape, ndim, 0);
    w->header_len = total;

    w->path = malloc(strlen(path) + 1);
    w->tmp = malloc(strlen(path) + 5);
    if (!w->path || !w->tmp) {
        set_err(err, errlen, "out of memory");
        npy_abort(w);
        return -1;
    }
    strcpy(w->path, path);
    strcpy(w->tmp, path);
    strcat(w->tmp, ".tmp");
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        set_err(err, errlen, "%s: cannot create: %s", w->tmp, strerror(errno));
        npy_abort(w);
        return -1;
    }
    if (fwrite(header, 1, total, w->f) != total) {
        set_err(err, errlen, "%s: cannot write: %s", w->tmp, strerror(errno));
        npy_abort(w);
        return -1;
    }
    return 0;
}

int
npy_append(NpyWriter *w, const float *data, size_t n, char *err, size_t errlen)
{
    if (w->done + n > w->want) {
        set_err(err, errlen, "%s: more data than the shape holds", w->path);
        return -1;
    }
    if (little_endian()) {
        if (fwrite(data, sizeof *data, n, w->f) != n)
            goto fail;
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char b[4], r[4];

            memcpy(b, &data[i], 4);
            r[0] = b[3], r[1] = b[2], r[2] = b[1], r[3] = b[0];
            if (fwrite(r, 1, 4, w->f) != 4)
                goto fail;
        }
    }
    w->done += n;
    return 0;
fail:
    set_err(err, errlen, "%s: cannot write: %s", w->tmp, strerror(errno));
    return -1;
}

int
npy_commit(NpyWriter *w, char *err, size_t errlen)
{
    int rc;

    if (w->done != w->want) {
        set_err(err, errlen, "%s: %zu of %zu values written", w->path, w->done, w->want);
        npy_abort(w);
        return -1;
    }
    if (w->rows_changed) {
        char header[600];

        format_header(header, w->shape, w->ndim, w->header_len);
        if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(header, 1, w->header_len, w->f) != w->header_len) {
            set_err(err, errlen, "%s: cannot write: %s", w->tmp, strerror(errno));
            npy_abort(w);
            return -1;
        }
    }
    rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0) {
        set_err(err, errlen, "%s: cannot write: %s", w->tmp, strerror(errno));
        remove(w->tmp);
        npy_abort(w);
        return -1;
    }
    if (rename(w->tmp, w->path) != 0) {
        set_err(err, errlen, "%s: cannot rename to %s: %s", w->tmp, w->path, strerror(errno));
        remove(w->tmp);
        npy_abort(w);
        return -1;
    }
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    return 0;
}

int
npy_set_rows(NpyWriter *w, size_t rows, char *err, size_t errlen)
{
    size_t inner = 1;

    if (!w->f || rows > w->shape[0]) {
        set_err(err, errlen, "%s: %zu rows, at most %zu were announced", w->path, rows,
                w->shape[0]);
        return -1;
    }
    for (int i = 1; i < w->ndim; i++)
        inner *= w->shape[i];
    w->shape[0] = rows;
    w->want = rows * inner;
    w->rows_changed = 1;
    return 0;
}

void
npy_abort(NpyWriter *w)
{
    /* only a file this writer created and still holds open is removed */
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
        remove(w->tmp);
    }
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
}
