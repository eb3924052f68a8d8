/*
 * ckpt_torch.c — the PyTorch zip format, and finding the state dict in a
 * decoded pickle (shared with the legacy format).
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
    if (pid->kind != PV_TUPLE || pid->n != 5 || pid->v[0]->kind != PV_STR ||
        strcmp(pid->v[0]->s, "storage") || pid->v[1]->kind != PV_GLOBAL ||
        pid->v[1]->g != G_STORAGE || pid->v[2]->kind != PV_STR || pid->v[4]->kind != PV_INT) {
        ck_error(pk->d, c->path, at, "pickle: a persistent id that is not "
                 "('storage', storage class, key, location, numel)");
        return -1;
    }
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
        const CkStorage *s = &c->st[*slot];
        if (s->dtype != dt || s->numel != numel) {
            ck_error(pk->d, c->path, at, "storage '%s' is used as %lld %s elements and as %lld %s elements",
                     key, (long long)s->numel, ck_dtype[s->dtype].name, (long long)numel,
                     ck_dtype[dt].name);
            return -1;
        }
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

/* ------------------------------------------------------------ the state dict */

/* Does v hold at least one tensor value? */
static bool
has_tensors(const PyVal *v)
{
    if (!v || v->kind != PV_DICT)
        return false;
    for (int i = 0; i < v->n; i++)
        if (v->v[i]->kind == PV_TENSOR)
            return true;
    return false;
}

/* Lists a dict's string keys for a message. */
static char *
key_list(const PyVal *v)
{
    size_t cap = 256, n = 0;
    char *s = xmalloc(cap);
    s[0] = '\0';
    for (int i = 0; i < v->n && n < 200; i++) {
        if (v->k[i]->kind != PV_STR)
            continue;
        char item[80];
        int m = snprintf(item, sizeof item, "%s'%.60s'", n ? ", " : "", v->k[i]->s);
        if (n + (size_t)m + 8 > cap)
            break;
        memcpy(s + n, item, (size_t)m + 1);
        n += (size_t)m;
    }
    if (!n)
        snprintf(s, cap, "no string keys");
    return s;
}

static bool
good_name(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Is v a placeholder for a pickled module (a class under torch.nn,
 * torchvision, timm or the script's __main__)? */
static bool
is_module(const PyVal *v)
{
    static const char *const mods[] = {"torch.nn.", "torchvision.", "timm.", "__main__."};
    if (!v || v->kind != PV_OPAQUE)
        return false;
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
        if (!strncmp(v->s, mods[i], strlen(mods[i])))
            return true;
    return false;
}

static void
module_error(Checkpoint *c, const PyVal *v, const char *where, Diag *d)
{
    ck_error(d, c->path, v->at, "%s a whole pickled '%s' object (torch.save(model)), not a state "
             "dict; visec never unpickles code.  Re-save its weights in Python with "
             "torch.save(model.state_dict(), 'weights.pth')", where, v->s);
}

bool
ck_take_state_dict(Checkpoint *c, const PyVal *root, const CkOptions *o, Diag *d)
{
    static const char *const nests[] = {"state_dict", "model_state_dict", "model", "net", "module"};
    if (root->kind == PV_OPAQUE) {
        if (is_module(root))
            module_error(c, root, "the checkpoint holds", d);
        else
            ck_error(d, c->path, root->at, "the checkpoint holds a '%s' object, not a dictionary of "
                     "tensors (nothing was run: visec keeps unknown globals as inert placeholders)",
                     root->s);
        return false;
    }
    if (root->kind != PV_DICT) {
        ck_error(d, c->path, root->at, "the checkpoint holds a %s, not a dictionary of tensors",
                 pv_kind_name(root->kind));
        return false;
    }
    const PyVal *sd = root;
    if (o->select) {
        sd = pv_dict_get(root, o->select);
        if (!sd || sd->kind != PV_DICT) {
            char *keys = key_list(root);
            ck_error(d, c->path, -1, "--select '%s': %s (the top-level keys are %s)", o->select,
                     sd ? "that entry is not a dictionary" : "no such key", keys);
            free(keys);
            return false;
        }
        c->selected = xstrdup(o->select);
    } else if (!has_tensors(root)) {
        const PyVal *found = NULL;
        const char *key = NULL;
        for (size_t i = 0; i < sizeof nests / sizeof nests[0] && !found; i++)
            if (has_tensors(pv_dict_get(root, nests[i]))) {
                found = pv_dict_get(root, nests[i]);
                key = nests[i];
            }
        /* Otherwise the one entry that holds tensors, if there is exactly one. */
        for (int i = 0; i < root->n && !key; i++) {
            if (root->k[i]->kind != PV_STR || !has_tensors(root->v[i]))
                continue;
            if (found) {
                found = NULL;
                break;
            }
            found = root->v[i];
            key = root->k[i]->s;
        }
        for (int i = 0; i < root->n && !found; i++)
            if (root->k[i]->kind == PV_STR && is_module(root->v[i])) {
                char *where = xprintf("the entry '%.60s' holds", root->k[i]->s);
                module_error(c, root->v[i], where, d);
                free(where);
                return false;
            }
        if (!found) {
            char *keys = key_list(root);
            ck_error(d, c->path, -1, "no tensors at the top level and no single nested state dict; "
                     "the top-level keys are %s (choose one with --select KEY)", keys);
            free(keys);
            return false;
        }
        sd = found;
        c->selected = xstrdup(key);
        c->select_auto = true;
    }
    for (int i = 0; i < sd->n; i++) {
        const PyVal *k = sd->k[i], *v = sd->v[i];
        if (v->kind == PV_OPAQUE) {
            /* A placeholder where a tensor may be expected: refused. */
            if (is_module(v)) {
                char *where = xprintf("the state-dict key '%.60s' holds", k->kind == PV_STR ? k->s : "?");
                module_error(c, v, where, d);
                free(where);
            } else {
                ck_error(d, c->path, v->at, "the state-dict key '%.60s' holds a '%s' object, which "
                         "visec does not load (only tensors)", k->kind == PV_STR ? k->s : "?", v->s);
            }
            return false;
        }
        if (v->kind != PV_TENSOR)
            continue;           /* not a tensor: nothing to bind */
        if (k->kind != PV_STR || k->len > CK_MAXNAME || !good_name(k->s)) {
            ck_error(d, c->path, k->at, "a tensor whose key is %s",
                     k->kind != PV_STR ? "not a string" : "too long or has control characters");
            return false;
        }
        CkTensor t = *v->t;
        t.stored = xstrdup(k->s);
        t.at = v->at;
        ck_add_tensor(c, &t);
    }
    return true;
}
