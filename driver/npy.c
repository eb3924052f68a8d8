/*
 * npy.c — reading and writing NumPy .npy files of float32.
 *
 * The format (numpy/lib/format.py): the magic "\x93NUMPY", a major and a
 * minor version byte, the header length (2 bytes little-endian in version 1,
 * 4 bytes in versions 2 and 3), then the header: the text of a Python dict
 * literal {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with
 * spaces and a final newline.  The raw array data follows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"
#include "outfile.h"

static const char magic[6] = "\x93NUMPY";

/* Bound on one dimension, far above any real tensor, far below overflow. */
#define NPY_MAX_DIM (INT64_C(1) << 40)

static bool
host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void
swap4(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t = b[0];
        b[0] = b[3];
        b[3] = t;
        t = b[1];
        b[1] = b[2];
        b[2] = t;
    }
}

/* ---------------------------------------------------------------- header */

/* A cursor over the header text; errors name the file. */
typedef struct Hdr {
    const char *path;   /* file, for messages */
    const char *p;      /* next character */
    const char *end;    /* one past the last character */
    Diag *d;            /* where errors go */
} Hdr;

static void
skip_ws(Hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static bool
bad_header(Hdr *h, const char *what)
{
    error_plain(h->d, "%s: malformed .npy header: %s", h->path, what);
    return false;
}

static bool
expect(Hdr *h, char c, const char *what)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return bad_header(h, what);
}

/* A quoted string literal without escapes; copied into buf (NUL-terminated). */
static bool
str_lit(Hdr *h, char *buf, size_t size)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return bad_header(h, "expected a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p == '\n' || n + 1 >= size)
            return bad_header(h, "bad string");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end)
        return bad_header(h, "unterminated string");
    h->p++;
    buf[n] = '\0';
    return true;
}

/* A bare word (True, False, an integer): letters, digits and '_'. */
static size_t
word(Hdr *h, char *buf, size_t size)
{
    skip_ws(h);
    size_t n = 0;
    while (h->p < h->end && n + 1 < size &&
           ((*h->p >= '0' && *h->p <= '9') || (*h->p >= 'a' && *h->p <= 'z') ||
            (*h->p >= 'A' && *h->p <= 'Z') || *h->p == '_'))
        buf[n++] = *h->p++;
    buf[n] = '\0';
    return n;
}

/* The shape tuple: "()", "(5,)", "(1, 3, 224, 224)", trailing comma allowed. */
static bool
shape_tuple(Hdr *h, Shape *shape)
{
    int rank = 0;
    int64_t dims[IR_MAXRANK];
    if (!expect(h, '(', "'shape' must be a tuple"))
        return false;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            break;
        }
        char w[32];
        size_t n = word(h, w, sizeof w);
        if (n == 0 || n > 15 || strspn(w, "0123456789") != n)
            return bad_header(h, "'shape' must be a tuple of non-negative integers");
        int64_t v = strtoll(w, NULL, 10);
        if (v > NPY_MAX_DIM) {
            error_plain(h->d, "%s: dimension %lld is too large", h->path, (long long)v);
            return false;
        }
        if (rank == IR_MAXRANK) {
            error_plain(h->d, "%s: arrays of more than %d dimensions are not supported",
                        h->path, IR_MAXRANK);
            return false;
        }
        dims[rank++] = v;
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            continue;
        }
        if (!expect(h, ')', "expected ',' or ')' in 'shape'"))
            return false;
        /* "(5)" is an int in Python, not a tuple. */
        if (rank == 1)
            return bad_header(h, "'shape' must be a tuple");
        break;
    }
    *shape = shape_make(rank, dims);
    return true;
}

bool
npy_parse_header(const char *path, const char *text, size_t len, Shape *shape, Diag *d)
{
    Hdr h = {path, text, text + len, d};
    bool have_descr = false, have_order = false, have_shape = false;
    char descr[64] = "";
    bool fortran = false;

    if (memchr(text, '\0', len))
        return bad_header(&h, "NUL byte in header");
    if (!expect(&h, '{', "expected '{'"))
        return false;
    for (;;) {
        skip_ws(&h);
        if (h.p < h.end && *h.p == '}') {
            h.p++;
            break;
        }
        char key[32];
        if (!str_lit(&h, key, sizeof key) || !expect(&h, ':', "expected ':' after a key"))
            return false;
        if (!strcmp(key, "descr") && !have_descr) {
            if (!str_lit(&h, descr, sizeof descr))
                return false;
            have_descr = true;
        } else if (!strcmp(key, "fortran_order") && !have_order) {
            char w[16];
            word(&h, w, sizeof w);
            if (strcmp(w, "True") && strcmp(w, "False"))
                return bad_header(&h, "'fortran_order' must be True or False");
            fortran = !strcmp(w, "True");
            have_order = true;
        } else if (!strcmp(key, "shape") && !have_shape) {
            if (!shape_tuple(&h, shape))
                return false;
            have_shape = true;
        } else {
            error_plain(d, "%s: malformed .npy header: %s key '%s'", path,
                        strcmp(key, "descr") && strcmp(key, "fortran_order") && strcmp(key, "shape")
                            ? "unknown" : "repeated",
                        key);
            return false;
        }
        skip_ws(&h);
        if (h.p < h.end && *h.p == ',') {
            h.p++;
            continue;
        }
        if (!expect(&h, '}', "expected ',' or '}'"))
            return false;
        break;
    }
    skip_ws(&h);
    if (h.p != h.end)
        return bad_header(&h, "text after the dictionary");
    if (!have_descr || !have_order || !have_shape)
        return bad_header(&h, !have_descr ? "no 'descr' key"
                              : !have_order ? "no 'fortran_order' key" : "no 'shape' key");

    if (strcmp(descr, "<f4") != 0) {
        if (!strcmp(descr, ">f4"))
            error_plain(d, "%s: big-endian float32 ('>f4') is not supported; "
                           "save it with x.astype('<f4')", path);
        else
            error_plain(d, "%s: dtype '%s' is not float32 ('<f4'); "
                           "save it with x.astype(numpy.float32)", path, descr);
        return false;
    }
    if (fortran) {
        error_plain(d, "%s: Fortran-order arrays are not supported; "
                       "save it with numpy.ascontiguousarray(x)", path);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- read */

static uint32_t
le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

float *
npy_read(const char *path, Shape *shape, Diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_plain(d, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    float *data = NULL;
    char *text = NULL;
    struct stat st;
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f);
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        error_plain(d, "%s: not a regular file", path);
        goto out;
    }
    if (got < 10 || memcmp(pre, magic, sizeof magic) != 0) {
        error_plain(d, "%s: not a .npy file (no \\x93NUMPY magic)", path);
        goto out;
    }
    int major = pre[6];
    if (major < 1 || major > 3) {
        error_plain(d, "%s: unsupported .npy format version %d.%d", path, major, pre[7]);
        goto out;
    }
    size_t lensz = major == 1 ? 2 : 4;
    if (got < 8 + lensz) {
        error_plain(d, "%s: truncated .npy header", path);
        goto out;
    }
    uint64_t hlen = major == 1 ? (uint64_t)(pre[8] | pre[9] << 8) : le32(pre + 8);
    uint64_t start = 8 + lensz;
    if (hlen > NPY_MAX_HEADER) {
        error_plain(d, "%s: .npy header of %llu bytes is too long (at most %d)", path,
                    (unsigned long long)hlen, NPY_MAX_HEADER);
        goto out;
    }
    if ((uint64_t)st.st_size < start + hlen) {
        error_plain(d, "%s: truncated .npy header (%llu bytes declared, file has %lld)", path,
                    (unsigned long long)hlen, (long long)st.st_size);
        goto out;
    }
    text = xmalloc(hlen + 1);
    if (fseek(f, (long)start, SEEK_SET) != 0 || fread(text, 1, hlen, f) != hlen) {
        error_plain(d, "%s: cannot read the .npy header", path);
        goto out;
    }
    text[hlen] = '\0';
    if (!npy_parse_header(path, text, hlen, shape, d))
        goto out;

    /* Every dim is below 2^40, but the product may still overflow: check. */
    int64_t numel = 1;
    for (int i = 0; i < shape->rank; i++) {
        if (shape->dim[i] && numel > INT64_MAX / 4 / shape->dim[i]) {
            error_plain(d, "%s: array of shape too large", path);
            goto out;
        }
        numel *= shape->dim[i];
    }
    uint64_t want = (uint64_t)numel * 4, have = (uint64_t)st.st_size - start - hlen;
    if (have != want) {
        char b[SHAPE_STRLEN];
        error_plain(d, "%s: %s: shape %s needs %llu bytes of float32 data, the file has %llu",
                    path, have < want ? "truncated" : "trailing bytes",
                    shape_str(*shape, b, sizeof b), (unsigned long long)want,
                    (unsigned long long)have);
        goto out;
    }
    data = xmalloc(want ? want : 4);
    if (fread(data, 1, want, f) != want) {
        error_plain(d, "%s: cannot read the array data", path);
        free(data);
        data = NULL;
        goto out;
    }
    if (!host_little_endian())
        swap4(data, (size_t)numel);
out:
    free(text);
    fclose(f);
    return data;
}

/* ---------------------------------------------------------------- write */

bool
npy_write(const char *path, const float *data, Shape shape, Diag *d)
{
    char dict[256];
    size_t k = (size_t)snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.rank; i++) {
        if (shape.dim[i] < 0)
            bug("npy_write: symbolic dimension");
        k += (size_t)snprintf(dict + k, sizeof dict - k, "%s%lld", i ? ", " : "",
                              (long long)shape.dim[i]);
    }
    k += (size_t)snprintf(dict + k, sizeof dict - k, "%s), }", shape.rank == 1 ? "," : "");
    /* Pad with spaces so magic + version + length + header is a multiple of 64. */
    size_t total = 10 + k + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = k + pad + 1;
    if (hlen > 65535 || k >= sizeof dict)
        bug("npy header too long");

    unsigned char pre[10];
    memcpy(pre, magic, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);

    OutFile o;
    if (!outfile_open(&o, path, d))
        return false;
    fwrite(pre, 1, sizeof pre, o.f);
    fwrite(dict, 1, k, o.f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', o.f);
    fputc('\n', o.f);
    size_t n = (size_t)shape_numel(shape, 1);
    if (host_little_endian()) {
        fwrite(data, sizeof(float), n, o.f);
    } else {
        for (size_t i = 0; i < n; i++) {
            float v = data[i];
            swap4(&v, 1);
            fwrite(&v, sizeof v, 1, o.f);
        }
    }
    return outfile_commit(&o, d);
}
