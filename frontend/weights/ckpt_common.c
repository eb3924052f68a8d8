/*
 * ckpt_common.c — what the checkpoint loaders share: reporting an error at
 * a file offset, adding storages and tensors to a Checkpoint, checking a
 * tensor's view against its storage, reading decoded pickle values, the
 * persistent id of a PyTorch storage, and finding the state dict in a
 * decoded pickle.
 *
 * The loaders (ckpt_torch.c, ckpt_legacy.c, ckpt_safetensors.c) and the
 * format libraries (ckpt_zip.c, ckpt_pickle.c) call these; this file calls
 * none of them, and ckpt_open.c calls the loaders.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

/* ------------------------------------------------------------ errors, storages, tensors */

void
ck_error(Diag *d, const char *path, int64_t at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at >= 0)
        error_plain(d, "%s: %s (at byte offset %lld)", path, msg, (long long)at);
    else
        error_plain(d, "%s: %s", path, msg);
}

int
ck_add_storage(Checkpoint *c, const char *key, CkDtype dt, int64_t numel, int64_t off)
{
    if (c->nst % 64 == 0)
        c->st = xrealloc(c->st, sizeof *c->st * (size_t)(c->nst + 64));
    CkStorage *s = &c->st[c->nst];
    s->key = xstrdup(key);
    s->dtype = dt;
    s->numel = numel;
    s->off = off;
    s->base = NULL;
    return c->nst++;
}

void
ck_add_tensor(Checkpoint *c, const CkTensor *t)
{
    if (c->nt % 64 == 0)
        c->t = xrealloc(c->t, sizeof *c->t * (size_t)(c->nt + 64));
    c->t[c->nt++] = *t;
}

char *
ck_shape_str(const CkTensor *t, char *buf, size_t size)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < t->rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

bool
ck_check_tensor(Checkpoint *c, CkTensor *t, Diag *d)
{
    const CkStorage *s = &c->st[t->storage];
    int64_t numel = 1, last = t->offset;
    for (int i = 0; i < t->rank; i++) {
        if (t->shape[i] == 0)
            numel = 0;
        else if (numel > (INT64_C(1) << 40) / t->shape[i]) {
            ck_error(d, c->path, t->at, "tensor of absurd size");
            return false;
        } else
            numel *= t->shape[i];
    }
    t->numel = numel;
    if (numel == 0)
        return true;
    for (int i = 0; i < t->rank; i++) {
        if (t->shape[i] > 1 && t->stride[i] > (INT64_C(1) << 56) / (t->shape[i] - 1)) {
            ck_error(d, c->path, t->at, "tensor with absurd strides");
            return false;
        }
        last += (t->shape[i] - 1) * t->stride[i];   /* at most 8 terms < 2^56 each */
    }
    if (last >= s->numel) {
        ck_error(d, c->path, t->at,
                 "tensor view reaches element %lld of storage '%s', which has only %lld elements",
                 (long long)last, s->key, (long long)s->numel);
        return false;
    }
    if (numel > s->numel) {
        ck_error(d, c->path, t->at,
                 "tensor view has %lld elements but its storage '%s' only %lld (an expanded view; "
                 "save a contiguous copy)", (long long)numel, s->key, (long long)s->numel);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ pickle values */

const char *
pv_kind_name(PvKind k)
{
    static const char *const names[] = {
        [PV_NONE] = "None", [PV_BOOL] = "bool", [PV_INT] = "int", [PV_BIGINT] = "int",
        [PV_FLOAT] = "float", [PV_STR] = "str", [PV_TUPLE] = "tuple", [PV_LIST] = "list",
        [PV_DICT] = "dict", [PV_GLOBAL] = "global", [PV_STORAGE] = "storage",
        [PV_TENSOR] = "tensor", [PV_BYTES] = "bytes", [PV_OPAQUE] = "object",
    };
    return names[k];
}

PyVal *
pv_dict_get(const PyVal *d, const char *key)
{
    if (!d || d->kind != PV_DICT)
        return NULL;
    PyVal *found = NULL;    /* the last one wins, as in Python */
    for (int i = 0; i < d->n; i++)
        if (d->k[i]->kind == PV_STR && !strcmp(d->k[i]->s, key))
            found = d->v[i];
    return found;
}

/* ------------------------------------------------------------ PyTorch storages */

bool
ck_storage_pid(const Pickle *pk, const PyVal *pid, int n, int64_t at)
{
    if (pid->kind != PV_TUPLE || pid->n != n || pid->v[0]->kind != PV_STR ||
        strcmp(pid->v[0]->s, "storage") || pid->v[1]->kind != PV_GLOBAL ||
        pid->v[1]->g != G_STORAGE || pid->v[2]->kind != PV_STR || pid->v[4]->kind != PV_INT) {
        ck_error(pk->d, pk->ck->path, at, "pickle: a persistent id that is not "
                 "('storage', storage class, key, location, numel%s)", n == 6 ? ", view" : "");
        return false;
    }
    return true;
}

bool
ck_same_storage(const Checkpoint *c, int s, CkDtype dt, int64_t numel, int64_t at, Diag *d)
{
    const CkStorage *st = &c->st[s];
    if (st->dtype != dt || st->numel != numel) {
        ck_error(d, c->path, at, "storage '%s' is used as %lld %s elements and as %lld %s elements",
                 st->key, (long long)st->numel, ck_dtype[st->dtype].name, (long long)numel,
                 ck_dtype[dt].name);
        return false;
    }
    return true;
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
