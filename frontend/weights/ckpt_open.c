/*
 * ckpt_open.c — opening a checkpoint: mapping the file, recognising its
 * format and calling its loader, naming its tensors, and reading tensor
 * data as float32.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "vx_crc32.h"

static int
cmp_tensor(const void *a, const void *b)
{
    return strcmp(((const CkTensor *)a)->name, ((const CkTensor *)b)->name);
}

static bool
starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Applies the prefix options, sorts by name and refuses duplicates. */
static bool
finish(Checkpoint *c, const CkOptions *o, Diag *d)
{
    const char *strip = o->strip_prefix;
    if (!strip && c->nt > 0) {
        bool all = true;
        for (int i = 0; i < c->nt && all; i++)
            all = starts_with(c->t[i].stored, "module.");
        if (all) {
            strip = "module.";
            c->strip_auto = true;
        }
    }
    if (strip && *strip) {
        int n = 0;
        for (int i = 0; i < c->nt; i++)
            n += starts_with(c->t[i].stored, strip);
        if (n)
            c->stripped = xstrdup(strip);
        else
            warning_plain(d, "%s: no tensor name starts with '%s' (--strip-prefix)", c->path, strip);
    }
    const char *add = o->add_prefix ? o->add_prefix : "";
    for (int i = 0; i < c->nt; i++) {
        const char *s = c->t[i].stored;
        if (c->stripped && starts_with(s, c->stripped))
            s += strlen(c->stripped);
        c->t[i].name = xprintf("%s%s", add, s);
    }
    if (c->nt)
        qsort(c->t, (size_t)c->nt, sizeof *c->t, cmp_tensor);
    for (int i = 0; i + 1 < c->nt; i++)
        if (!strcmp(c->t[i].name, c->t[i + 1].name)) {
            ck_error(d, c->path, c->t[i + 1].at, "two tensors are named '%s'%s", c->t[i].name,
                     strcmp(c->t[i].stored, c->t[i + 1].stored) ? " after the prefix options" : "");
            return false;
        }
    return true;
}

/* Maps the file read-only. */
static bool
map_file(Checkpoint *c, Diag *d)
{
    int fd = open(c->path, O_RDONLY);
    if (fd < 0) {
        ck_error(d, c->path, -1, "cannot open: %s", strerror(errno));
        return false;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        ck_error(d, c->path, -1, "not a regular file");
        close(fd);
        return false;
    }
    if (sb.st_size == 0) {
        ck_error(d, c->path, -1, "the file is empty");
        close(fd);
        return false;
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        ck_error(d, c->path, -1, "cannot map: %s", strerror(errno));
        return false;
    }
    c->p = p;
    c->size = (size_t)sb.st_size;
    return true;
}

Checkpoint *
ckpt_open(const char *path, const CkOptions *o, Diag *d)
{
    static const CkOptions none;
    if (!o)
        o = &none;
    Checkpoint *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    if (!map_file(c, d)) {
        ckpt_free(c);
        return NULL;
    }
    const unsigned char *p = c->p;
    bool ok;
    if (c->size >= 4 && !memcmp(p, "PK\x03\x04", 4)) {
        c->format = "PyTorch zip";
        ok = torch_zip_load(c, o, d);
    } else if (c->size >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5) {
        c->format = "PyTorch legacy";
        ok = torch_legacy_load(c, o, d);
    } else if (c->size >= 9 && (p[8] == '{' || p[8] == '[')) {
        c->format = "safetensors";
        ok = safetensors_load(c, o, d);
    } else {
        ck_error(d, path, 0, "not a checkpoint: neither a PyTorch file (zip or legacy) nor safetensors");
        ok = false;
    }
    if (ok)
        ok = finish(c, o, d);
    if (!ok) {
        ckpt_free(c);
        return NULL;
    }
    return c;
}

void
ckpt_free(Checkpoint *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nst; i++)
        free(c->st[i].key);
    for (int i = 0; i < c->nt; i++) {
        free(c->t[i].name);
        free(c->t[i].stored);
    }
    if (c->p)
        munmap((void *)c->p, c->size);
    for (int i = 0; i < c->bufs.n; i++)
        free(c->bufs.v[i]);
    free(c->bufs.v);
    free(c->st);
    free(c->t);
    free(c->path);
    free(c->archive);
    free(c->selected);
    free(c->stripped);
    free(c);
}

const CkTensor *
ckpt_find(const Checkpoint *c, const char *name)
{
    CkTensor key = {.name = (char *)name};
    return c->nt ? bsearch(&key, c->t, (size_t)c->nt, sizeof *c->t, cmp_tensor) : NULL;
}

/* Copies the tensor's elements in C order, honouring offset and strides. */
static unsigned char *
gather(const Checkpoint *c, const CkTensor *t)
{
    const CkStorage *s = &c->st[t->storage];
    size_t es = (size_t)ck_dtype[t->dtype].size;
    unsigned char *out = xmalloc((size_t)t->numel * es), *o = out;
    if (t->numel == 0)
        return out;
    const unsigned char *base = (s->base ? s->base : c->p) + s->off;
    /* Walk every index but the last with an odometer; copy the last as a run. */
    int r = t->rank;
    int64_t idx[CK_MAXRANK] = {0};
    int64_t inner = r ? t->shape[r - 1] : 1, istride = r ? t->stride[r - 1] : 1;
    for (;;) {
        int64_t e = t->offset;
        for (int i = 0; i < r - 1; i++)
            e += idx[i] * t->stride[i];
        if (istride == 1) {
            memcpy(o, base + (size_t)e * es, (size_t)inner * es);
            o += (size_t)inner * es;
        } else {
            for (int64_t j = 0; j < inner; j++, o += es)
                memcpy(o, base + (size_t)(e + j * istride) * es, es);
        }
        int i = r - 2;
        while (i >= 0 && ++idx[i] == t->shape[i])
            idx[i--] = 0;
        if (i < 0)
            break;
    }
    return out;
}

float *
ckpt_read_f32(const Checkpoint *c, const CkTensor *t, Diag *d)
{
    if (!ck_dtype[t->dtype].is_float) {
        ck_error(d, c->path, -1, "tensor '%s' is %s; only float32, float16, bfloat16 and "
                 "float64 tensors can be read as float32", t->name, ck_dtype[t->dtype].name);
        return NULL;
    }
    if (t->dtype == CK_F32)
        return (float *)gather(c, t);   /* little-endian hosts only */
    unsigned char *raw = gather(c, t);
    float *f = xmalloc((size_t)(t->numel ? t->numel : 1) * sizeof *f);
    ck_to_f32(t->dtype, raw, t->numel, f);
    free(raw);
    return f;
}

bool
ckpt_crc32(const Checkpoint *c, const CkTensor *t, uint32_t *crc, Diag *d)
{
    if (ck_dtype[t->dtype].is_float) {
        float *f = ckpt_read_f32(c, t, d);
        if (!f)
            return false;
        *crc = vx_crc32(0, f, (size_t)t->numel * sizeof *f);
        free(f);
    } else {
        unsigned char *raw = gather(c, t);
        *crc = vx_crc32(0, raw, (size_t)t->numel * (size_t)ck_dtype[t->dtype].size);
        free(raw);
    }
    return true;
}
