/*
 * ckpt_legacy.c — the PyTorch legacy format
 * (torch.save(..., _use_new_zipfile_serialization=False)).
 *
 * Five pickles in a row, then the storages:
 *
 *   1. the magic number 0x1950a86a20f9469cfc6c
 *   2. the protocol version, 1001
 *   3. system info: {'protocol_version', 'little_endian', 'type_sizes'}
 *   4. the object; each storage is a persistent id
 *      ('storage', torch.XStorage, root_key, location, numel, view_metadata)
 *      where view_metadata is None or (view_key, offset, size)
 *   5. the list of storage keys, in the order their data follows
 *   then for each key: an int64 element count and the raw elements.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

/* The storage keys met so far: an open-addressing hash table of indexes. */
typedef struct KeyMap {
    int *slot;              /* storage index + 1, 0 if empty */
    size_t cap;             /* power of two */
    int n;                  /* used slots */
} KeyMap;

static uint64_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603u;     /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot for key: holding its index + 1, or 0 where it would go. */
static int *
map_slot(KeyMap *m, const Checkpoint *c, const char *key)
{
    for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
        if (!m->slot[i] || !strcmp(c->st[m->slot[i] - 1].key, key))
            return &m->slot[i];
}

static int
map_get(KeyMap *m, const Checkpoint *c, const char *key)
{
    return m->cap ? *map_slot(m, c, key) - 1 : -1;
}

static void
map_put(KeyMap *m, const Checkpoint *c, const char *key, int idx)
{
    if (2 * (size_t)(m->n + 1) > m->cap) {
        KeyMap old = *m;
        m->cap = m->cap ? 2 * m->cap : 64;
        m->slot = xcalloc(m->cap, sizeof *m->slot);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slot[i])
                map_put(m, c, c->st[old.slot[i] - 1].key, old.slot[i] - 1);
        free(old.slot);
    }
    *map_slot(m, c, key) = idx + 1;
    m->n++;
}

static int
legacy_persistent_load(Pickle *pk, const PyVal *pid, int64_t at, int64_t *elem_off)
{
    KeyMap *m = pk->ctx;
    Checkpoint *c = pk->ck;
    *elem_off = 0;
    /* torch.save(model) in the legacy format records each module class's
     * source as ('module', class, file, source). */
    if (pid->kind == PV_TUPLE && pid->n >= 1 && pid->v[0]->kind == PV_STR &&
        !strcmp(pid->v[0]->s, "module")) {
        ck_error(pk->d, c->path, at, "the checkpoint holds a whole pickled module (torch.save(model)), "
                 "not a state dict; visec never unpickles code.  Re-save its weights in Python with "
                 "torch.save(model.state_dict(), 'weights.pth')");
        return -1;
    }
    if (!ck_storage_pid(pk, pid, 6, at))
        return -1;
    CkDtype dt = pid->v[1]->dtype;
    const char *key = pid->v[2]->s;
    int64_t numel = pid->v[4]->i;
    /* The data follows in the file: a storage cannot be larger than the file. */
    if (numel < 0 || numel > (int64_t)c->size / ck_dtype[dt].size) {
        ck_error(pk->d, c->path, at, "storage '%s' declares %lld elements, more than the file holds",
                 key, (long long)numel);
        return -1;
    }
    int s = map_get(m, c, key);
    if (s >= 0 && !ck_same_storage(c, s, dt, numel, at, pk->d))
        return -1;
    if (s < 0) {
        s = ck_add_storage(c, key, dt, numel, -1);
        map_put(m, c, key, s);
    }
    const PyVal *view = pid->v[5];
    if (view->kind == PV_NONE)
        return s;
    /* A view of the root storage: (view_key, offset, size) in elements. */
    if (view->kind != PV_TUPLE || view->n != 3 || view->v[1]->kind != PV_INT ||
        view->v[2]->kind != PV_INT || view->v[1]->i < 0 || view->v[2]->i < 0 ||
        view->v[1]->i > numel || view->v[2]->i > numel - view->v[1]->i) {
        ck_error(pk->d, c->path, at, "storage '%s': a bad storage view", key);
        return -1;
    }
    *elem_off = view->v[1]->i;
    return s;
}

/* Runs one of the leading pickles at *pos; NULL after an error. */
static PyVal *
run(Pickle *pk, Checkpoint *c, size_t *pos, Diag *d)
{
    pk->path = c->path;
    pk->p = c->p + *pos;
    pk->n = c->size - *pos;
    pk->base = (int64_t)*pos;
    pk->d = d;
    pk->ck = c;
    PyVal *v = pickle_load(pk);
    *pos += pk->end;
    return v;
}

static const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

/* The magic number, protocol version and system info. */
static bool
check_header(Checkpoint *c, size_t *pos, Diag *d)
{
    Pickle pk = {0};
    PyVal *v = run(&pk, c, pos, d);
    bool ok = v != NULL;
    if (ok && !(v->kind == PV_BIGINT && v->len == 10 && !memcmp(v->s, magic, 10))) {
        ck_error(d, c->path, 0, "a pickle that is not a PyTorch checkpoint (no legacy magic number)");
        ok = false;
    }
    pickle_free(&pk);
    if (!ok)
        return false;
    int64_t at = (int64_t)*pos;
    v = run(&pk, c, pos, d);
    ok = v != NULL;
    if (ok && !(v->kind == PV_INT && v->i == 1001)) {
        ck_error(d, c->path, at, "legacy format protocol version is not 1001");
        ok = false;
    }
    pickle_free(&pk);
    if (!ok)
        return false;
    at = (int64_t)*pos;
    v = run(&pk, c, pos, d);
    ok = v != NULL;
    if (ok) {
        const PyVal *le = pv_dict_get(v, "little_endian");
        if (v->kind != PV_DICT || !le || le->kind != PV_BOOL) {
            ck_error(d, c->path, at, "legacy format system info is not a dictionary with 'little_endian'");
            ok = false;
        } else if (!le->i) {
            ck_error(d, c->path, at, "the checkpoint is big-endian");
            ok = false;
        }
    }
    pickle_free(&pk);
    return ok;
}

bool
torch_legacy_load(Checkpoint *c, const CkOptions *o, Diag *d)
{
    size_t pos = 0;
    if (!check_header(c, &pos, d))
        return false;
    KeyMap m = {0};
    Pickle main = {.persistent_load = legacy_persistent_load, .ctx = &m};
    PyVal *root = run(&main, c, &pos, d);
    bool ok = root && ck_take_state_dict(c, root, o, d);
    pickle_free(&main);

    /* The storage keys, in file order; each used storage exactly once. */
    Pickle keys = {0};
    int64_t at = (int64_t)pos;
    PyVal *list = ok ? run(&keys, c, &pos, d) : NULL;
    ok = list != NULL;
    if (ok && list->kind != PV_LIST) {
        ck_error(d, c->path, at, "the storage key list is a %s, not a list", pv_kind_name(list->kind));
        ok = false;
    }
    for (int i = 0; ok && i < list->n; i++) {
        const PyVal *k = list->v[i];
        int s = k->kind == PV_STR ? map_get(&m, c, k->s) : -1;
        if (s < 0 || c->st[s].off >= 0) {
            ck_error(d, c->path, at, "storage key list entry %d is %s", i,
                     s < 0 ? "not a storage of the checkpoint" : "listed twice");
            ok = false;
            break;
        }
        CkStorage *st = &c->st[s];
        int64_t es = ck_dtype[st->dtype].size;
        if (c->size - pos < 8) {
            ck_error(d, c->path, (int64_t)pos, "truncated: storage '%s' is missing", st->key);
            ok = false;
            break;
        }
        uint64_t n = 0;
        for (int b = 0; b < 8; b++)
            n |= (uint64_t)c->p[pos + b] << 8 * b;
        if (n != (uint64_t)st->numel) {
            ck_error(d, c->path, (int64_t)pos, "storage '%s' has %llu elements here but %lld in the pickle",
                     st->key, (unsigned long long)n, (long long)st->numel);
            ok = false;
            break;
        }
        pos += 8;
        if ((uint64_t)(c->size - pos) / (uint64_t)es < n) {
            ck_error(d, c->path, (int64_t)pos, "truncated: storage '%s' needs %lld bytes, the file has %zu left",
                     st->key, (long long)(st->numel * es), c->size - pos);
            ok = false;
            break;
        }
        st->off = (int64_t)pos;
        pos += (size_t)(st->numel * es);
    }
    for (int s = 0; ok && s < c->nst; s++)
        if (c->st[s].off < 0) {
            ck_error(d, c->path, at, "storage '%s' is not in the storage key list", c->st[s].key);
            ok = false;
        }
    if (ok && pos != c->size) {
        ck_error(d, c->path, (int64_t)pos, "%zu bytes of junk after the last storage", c->size - pos);
        ok = false;
    }
    pickle_free(&keys);
    free(m.slot);
    return ok;
}
