/*
 * ckpt_torch.c — the PyTorch zip format.
 *
 * torch.save (torch >= 1.6) writes a ZIP archive:
 *
 *   PREFIX/data.pkl     the object, pickle protocol 2; each tensor is
 *                       _rebuild_tensor_v2(storage, offset, size, stride, ...)
 *                       with the storage as a persistent id
 *                       ('storage', torch.FloatStorage, KEY, location, numel)
 *   PREFIX/data/KEY     the storage's raw little-endian elements
 *   PREFIX/byteorder    "little" or "big" (newer versions)
 *   PREFIX/version      format version
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

typedef struct ZipCtx {
    Zip z;
    const char *prefix;     /* "archive" */
    int *storage_of;        /* per zip entry: storage index, -1 if none yet */
} ZipCtx;

/* ('storage', torch.XStorage, key, location, numel) -> a storage index */
static int
zip_persistent_load(Pickle *pk, const PyVal *pid, int64_t at, int64_t *elem_off)
{
    ZipCtx *zc = pk->ctx;
    Checkpoint *c = pk->ck;
    *elem_off = 0;
    if (!ck_storage_pid(pk, pid, 5, at))
        return -1;
    CkDtype dt = pid->v[1]->dtype;
    const char *key = pid->v[2]->s;
    int64_t numel = pid->v[4]->i;
    char *name = xprintf("%s/data/%s", zc->prefix, key);
    const ZipEntry *e = zip_find(&zc->z, name);
    free(name);
    if (!e) {
        ck_error(pk->d, c->path, at, "storage '%s' has no record %s/data/%s in the archive", key,
                 zc->prefix, key);
        return -1;
    }
    int *slot = &zc->storage_of[e - zc->z.e];
    if (*slot >= 0) {
        if (!ck_same_storage(c, *slot, dt, numel, at, pk->d))
            return -1;
        return *slot;
    }
    int64_t es = ck_dtype[dt].size;
    if (numel < 0 || numel > e->size / es || numel * es != e->size) {
        ck_error(pk->d, c->path, at, "storage '%s' declares %lld %s elements (%lld bytes) but its record has %lld bytes",
                 key, (long long)numel, ck_dtype[dt].name, (long long)(numel < 0 ? -1 : numel) * es,
                 (long long)e->size);
        return -1;
    }
    if (e->inflated) {
        *slot = ck_add_storage(c, key, dt, numel, 0);
        c->st[*slot].base = e->inflated;
    } else {
        *slot = ck_add_storage(c, key, dt, numel, e->off);
    }
    return *slot;
}

bool
torch_zip_load(Checkpoint *c, const CkOptions *o, Diag *d)
{
    ZipCtx zc = {0};
    if (!zip_read(c->path, c->p, c->size, &zc.z, d))
        goto fail;
    /* The one PREFIX/data.pkl at the top of the archive names the prefix. */
    const ZipEntry *pkl = NULL;
    for (int i = 0; i < zc.z.n; i++) {
        const char *n = zc.z.e[i].name, *slash = strchr(n, '/');
        if (!slash || strcmp(slash, "/data.pkl"))
            continue;
        if (pkl) {
            ck_error(d, c->path, zc.z.e[i].hdr, "the archive has two pickles, %s and %s", pkl->name, n);
            goto fail;
        }
        pkl = &zc.z.e[i];
    }
    if (!pkl) {
        ck_error(d, c->path, -1, "a ZIP archive without a PREFIX/data.pkl record: not a PyTorch checkpoint");
        goto fail;
    }
    c->archive = xprintf("%.*s", (int)(strchr(pkl->name, '/') - pkl->name), pkl->name);
    zc.prefix = c->archive;
    for (int i = 0; i < zc.z.n; i++)
        if (!zip_check_crc(c->path, &zc.z.e[i], d))
            goto fail;
    char *bo = xprintf("%s/byteorder", c->archive);
    const ZipEntry *e = zip_find(&zc.z, bo);
    free(bo);
    if (e && !(e->size == 6 && !memcmp(e->data, "little", 6))) {
        ck_error(d, c->path, e->off, "the checkpoint is not little-endian (byteorder '%.*s')",
                 e->size < 16 ? (int)e->size : 16, (const char *)e->data);
        goto fail;
    }
    zc.storage_of = xmalloc(sizeof *zc.storage_of * (size_t)zc.z.n);
    for (int i = 0; i < zc.z.n; i++)
        zc.storage_of[i] = -1;

    Pickle pk = {.path = c->path, .p = pkl->data, .n = (size_t)pkl->size, .base = pkl->off,
                 .d = d, .ck = c, .persistent_load = zip_persistent_load, .ctx = &zc};
    PyVal *root = pickle_load(&pk);
    bool ok = root && ck_take_state_dict(c, root, o, d);
    pickle_free(&pk);
    free(zc.storage_of);
    /* The storages may point into inflated entries: the checkpoint keeps them. */
    for (int i = 0; i < zc.z.n; i++)
        if (zc.z.e[i].inflated) {
            vec_push(&c->bufs, zc.z.e[i].inflated);
            zc.z.e[i].inflated = NULL;
            c->ndeflated++;
        }
    zip_free(&zc.z);
    return ok;
fail:
    zip_free(&zc.z);
    return false;
}
