/*
 * safetensors_write.c — a checkpoint in the safetensors format.
 *
 * The format (huggingface/safetensors): u64 little-endian N, N bytes of
 * JSON {"NAME": {"dtype": "F32", "shape": [...], "data_offsets": [BEGIN,
 * END]}, ..., "__metadata__": {...}}, then the data; offsets are relative
 * to the first byte after the header and the tensors tile it exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "safetensors_write.h"

/* A growable string. */
typedef struct Buf {
    char *s;
    size_t n, cap;
} Buf;

static void
put(Buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
puts_(Buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A JSON string literal. */
static void
put_json_str(Buf *b, const char *s)
{
    puts_(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[8];
        if (c == '"' || c == '\\') {
            e[0] = '\\', e[1] = (char)c;
            put(b, e, 2);
        } else if (c < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", c);
            puts_(b, e);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    puts_(b, "\"");
}

static bool
written(const Tensor *t)
{
    return t->refs > 0 && !t->origin;
}

static void
le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

bool
safetensors_write(const char *path, const Graph *g, Diag *d)
{
    Buf h = {0};
    uint64_t off = 0;
    bool ok = true;
    puts_(&h, "{");
    for (int i = 0; i < g->tensors.n; i++) {
        const Tensor *t = g->tensors.v[i];
        if (!written(t))
            continue;
        if (!t->data) {
            error_plain(d, "tensor '%s' has no data to write", t->name);
            ok = false;
            continue;
        }
        uint64_t bytes = (uint64_t)shape_numel(t->shape, 1) * 4;
        char tmp[64];
        put_json_str(&h, t->name);
        puts_(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int k = 0; k < t->shape.rank; k++) {
            snprintf(tmp, sizeof tmp, "%s%lld", k ? "," : "", (long long)t->shape.dim[k]);
            puts_(&h, tmp);
        }
        snprintf(tmp, sizeof tmp, "],\"data_offsets\":[%llu,%llu]},", (unsigned long long)off,
                 (unsigned long long)(off + bytes));
        puts_(&h, tmp);
        off += bytes;
    }
    puts_(&h, "\"__metadata__\":{\"format\":\"pt\"}}");
    while (h.n % 8)
        puts_(&h, " ");
    if (!ok) {
        free(h.s);
        return false;
    }

    OutFile o;
    if (!outfile_open(&o, path, d)) {
        free(h.s);
        return false;
    }
    unsigned char len[8];
    le64(len, h.n);
    fwrite(len, 1, 8, o.f);
    fwrite(h.s, 1, h.n, o.f);
    free(h.s);
    for (int i = 0; i < g->tensors.n; i++) {
        const Tensor *t = g->tensors.v[i];
        if (!written(t))
            continue;
        int64_t n = shape_numel(t->shape, 1);
        for (int64_t k = 0; k < n; k++) {
            /* little-endian bytes of the float, whatever the host order */
            uint32_t u;
            memcpy(&u, &t->data[k], 4);
            unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8),
                                  (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
            fwrite(b, 1, 4, o.f);
        }
    }
    return outfile_commit(&o, d);
}
