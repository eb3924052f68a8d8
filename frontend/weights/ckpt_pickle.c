/*
 * ckpt_pickle.c — a restricted pickle machine for PyTorch state dicts.
 *
 * It knows the opcodes torch.save writes (protocol 2, plus the few of
 * protocols 3 and 4 that a checkpoint can contain) and the globals a state
 * dict names.  It never executes anything: REDUCE of a whitelisted global
 * builds a data value (an empty dict, a tensor view).  Any other global
 * (argparse.Namespace, numpy's scalar, an nn.Module class) becomes an inert
 * placeholder: calling or instantiating it gives a PV_OPAQUE that records
 * the class name and ignores its arguments and state, so a training
 * checkpoint's extras can sit beside the state dict; the state-dict reader
 * (ckpt_common.c) refuses a placeholder where a tensor is expected.
 * Unknown opcodes are refused with an error naming them.
 *
 * Every resource is bounded: the stack, the mark stack, the memo (indexes
 * up to the pickle's length), string lengths, nesting depth, and the total
 * memory the machine allocates (a multiple of the pickle's size).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

#define MAX_STACK   (1 << 20)       /* values on the stack */
#define MAX_MARKS   1024            /* open MARKs */
#define MAX_DEPTH   64              /* containers inside containers */
#define MAX_STR     (1 << 20)       /* bytes in one string */
#define MAX_GLOBAL  256             /* bytes in a GLOBAL module or name */

typedef struct Machine {
    Pickle *pk;
    size_t pc;                  /* next byte to read */
    int64_t op_at;              /* offset of the current opcode in the pickle */
    PyVal **stack;              /* operand stack */
    int sp, stack_cap;
    int marks[MAX_MARKS];       /* stack heights at each MARK */
    int nmarks;
    PyVal **memo;               /* memo[i], NULL if unset */
    size_t memo_cap;
    size_t nmemo;               /* one past the highest index set (MEMOIZE uses it) */
    PyVal *none, *yes, *no, *empty_tuple; /* shared immutable values */
} Machine;

static bool
fail(Machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
fail(Machine *m, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ck_error(m->pk->d, m->pk->path, m->pk->base + m->op_at, "pickle: %s", msg);
    return false;
}

/* Charges n bytes to the machine's allocation budget. */
static bool
charge(Machine *m, size_t n)
{
    if (n > m->pk->budget)
        return fail(m, "the pickle builds more data than its %zu bytes can describe", m->pk->n);
    m->pk->budget -= n;
    return true;
}

static PyVal *
new_val(Machine *m, PvKind k)
{
    if (!charge(m, sizeof(PyVal)))
        return NULL;
    PyVal *v = xcalloc(1, sizeof *v);
    v->kind = k;
    v->at = m->pk->base + m->op_at;
    vec_push(&m->pk->all, v);
    return v;
}

/* ------------------------------------------------------------ reading */

static bool
need(Machine *m, size_t n)
{
    if (m->pk->n - m->pc < n)
        return fail(m, "truncated: the opcode needs %zu more bytes", n);
    return true;
}

static uint64_t
arg_le(Machine *m, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)m->pk->p[m->pc + i] << 8 * i;
    m->pc += n;
    return v;
}

/* ------------------------------------------------------------ the stack */

static bool
push(Machine *m, PyVal *v)
{
    if (!v)
        return false;
    if (m->sp == m->stack_cap) {
        if (m->sp >= MAX_STACK)
            return fail(m, "stack deeper than %d values", MAX_STACK);
        if (!charge(m, sizeof(PyVal *) * (size_t)(m->stack_cap + 16)))
            return false;
        m->stack_cap = 2 * m->stack_cap + 16;
        m->stack = xrealloc(m->stack, sizeof *m->stack * (size_t)m->stack_cap);
    }
    m->stack[m->sp++] = v;
    return true;
}

static PyVal *
pop(Machine *m)
{
    int floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor) {
        fail(m, "stack underflow");
        return NULL;
    }
    return m->stack[--m->sp];
}

static PyVal *
top(Machine *m)
{
    int floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor) {
        fail(m, "stack underflow");
        return NULL;
    }
    return m->stack[m->sp - 1];
}

/* The value just below stack height base (the container under a MARK). */
static PyVal *
below(Machine *m, int base)
{
    int floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (base <= floor) {
        fail(m, "stack underflow");
        return NULL;
    }
    return m->stack[base - 1];
}

/* Pops the topmost MARK; returns the stack height it recorded, -1 if none. */
static int
pop_mark(Machine *m)
{
    if (!m->nmarks) {
        fail(m, "no MARK on the stack");
        return -1;
    }
    return m->marks[--m->nmarks];
}

/* ------------------------------------------------------------ containers */

/* Appends item (and key, for dicts) to container c. */
static bool
add_item(Machine *m, PyVal *c, PyVal *key, PyVal *item)
{
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 4;
        if (!charge(m, sizeof(PyVal *) * (size_t)cap * (key ? 2 : 1)))
            return false;
        c->v = xrealloc(c->v, sizeof *c->v * (size_t)cap);
        if (key)
            c->k = xrealloc(c->k, sizeof *c->k * (size_t)cap);
        c->cap = cap;
    }
    int depth = item->depth + 1;
    if (key && key->depth + 1 > depth)
        depth = key->depth + 1;
    if (depth > c->depth)
        c->depth = depth;
    if (c->depth > MAX_DEPTH)
        return fail(m, "containers nested more than %d deep", MAX_DEPTH);
    if (key)
        c->k[c->n] = key;
    c->v[c->n++] = item;
    return true;
}

/* A tuple of the stack items from height base up. */
static PyVal *
make_tuple(Machine *m, int base)
{
    if (base == m->sp)
        return m->empty_tuple;
    PyVal *t = new_val(m, PV_TUPLE);
    if (!t)
        return NULL;
    for (int i = base; i < m->sp; i++)
        if (!add_item(m, t, NULL, m->stack[i]))
            return NULL;
    m->sp = base;
    return t;
}

static bool
op_tuple_n(Machine *m, int n)
{
    int floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp - floor < n)
        return fail(m, "stack underflow");
    return push(m, make_tuple(m, m->sp - n));
}

static bool
set_items(Machine *m, PyVal *d, int base)
{
    if ((m->sp - base) % 2)
        return fail(m, "SETITEMS with an odd number of items");
    if (d->kind == PV_OPAQUE) {     /* a dict subclass visec does not know: dropped */
        m->sp = base;
        return true;
    }
    if (d->kind != PV_DICT)
        return fail(m, "SETITEM on a %s, not a dict", pv_kind_name(d->kind));
    for (int i = base; i < m->sp; i += 2)
        if (!add_item(m, d, m->stack[i], m->stack[i + 1]))
            return false;
    m->sp = base;
    return true;
}

static bool
append_items(Machine *m, PyVal *l, int base)
{
    if (l->kind == PV_OPAQUE) {     /* a list subclass visec does not know: dropped */
        m->sp = base;
        return true;
    }
    if (l->kind != PV_LIST)
        return fail(m, "APPEND to a %s, not a list", pv_kind_name(l->kind));
    for (int i = base; i < m->sp; i++)
        if (!add_item(m, l, NULL, m->stack[i]))
            return false;
    m->sp = base;
    return true;
}

/* ------------------------------------------------------------ strings, memo */

static bool
op_string(Machine *m, int lenbytes)
{
    if (!need(m, (size_t)lenbytes))
        return false;
    uint64_t n = arg_le(m, lenbytes);
    if (n > MAX_STR)
        return fail(m, "string of %llu bytes (at most %d)", (unsigned long long)n, MAX_STR);
    if (!need(m, n) || !charge(m, n + 1))
        return false;
    const char *s = (const char *)m->pk->p + m->pc;
    if (memchr(s, 0, n)) {
        /* Not a key or a name (protocol 2 pickles bytes as latin-1 text with
         * NULs, e.g. a numpy scalar's): kept as inert bytes. */
        m->pc += n;
        return push(m, new_val(m, PV_BYTES));
    }
    PyVal *v = new_val(m, PV_STR);
    if (!v)
        return false;
    v->s = xmalloc(n + 1);
    memcpy(v->s, s, n);
    v->s[n] = '\0';
    v->len = n;
    m->pc += n;
    return push(m, v);
}

/* BINBYTES and friends: the contents are skipped, only the kind is kept. */
static bool
op_bytes(Machine *m, int lenbytes)
{
    if (!need(m, (size_t)lenbytes))
        return false;
    uint64_t n = arg_le(m, lenbytes);
    if (!need(m, n))
        return false;
    m->pc += n;
    return push(m, new_val(m, PV_BYTES));
}

static bool
memo_put(Machine *m, uint64_t idx)
{
    /* Real pickles number their memo entries 0, 1, 2, ...: every entry takes
     * at least one byte of the pickle, so larger indexes are refused. */
    if (idx > m->pk->n)
        return fail(m, "memo index %llu is larger than the pickle", (unsigned long long)idx);
    PyVal *v = top(m);
    if (!v)
        return false;
    if (idx >= m->memo_cap) {
        size_t cap = m->memo_cap ? m->memo_cap : 64;
        while (cap <= idx)
            cap *= 2;
        if (!charge(m, sizeof(PyVal *) * (cap - m->memo_cap)))
            return false;
        m->memo = xrealloc(m->memo, sizeof *m->memo * cap);
        memset(m->memo + m->memo_cap, 0, sizeof *m->memo * (cap - m->memo_cap));
        m->memo_cap = cap;
    }
    m->memo[idx] = v;
    if (idx >= m->nmemo)
        m->nmemo = idx + 1;
    return true;
}

static bool
memo_get(Machine *m, uint64_t idx)
{
    if (idx >= m->memo_cap || !m->memo[idx])
        return fail(m, "memo entry %llu is not set", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* ------------------------------------------------------------ globals */

static const struct {
    const char *module, *name;
    PyGlobal g;
} allowed[] = {
    {"collections", "OrderedDict", G_ORDEREDDICT},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_WITH_STATE},
};

/* Prints s for a message, with anything unprintable as '?'. */
static void
clean(char *dst, const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    dst[i] = '\0';
}

static bool
push_global(Machine *m, const char *module, const char *name)
{
    PyVal *v = new_val(m, PV_GLOBAL);
    if (!v)
        return false;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!strcmp(module, allowed[i].module) && !strcmp(name, allowed[i].name)) {
            v->g = allowed[i].g;
            return push(m, v);
        }
    if (!strcmp(module, "torch"))
        for (int dt = 0; dt < CK_NDTYPES; dt++) {
            if (!strcmp(name, ck_dtype[dt].storage)) {
                v->g = G_STORAGE;
                v->dtype = (CkDtype)dt;
                return push(m, v);
            }
            if (!strcmp(name, ck_dtype[dt].name)) {
                v->g = G_DTYPE;
                v->dtype = (CkDtype)dt;
                return push(m, v);
            }
        }
    /* Anything else: an inert placeholder that remembers its name. */
    char a[MAX_GLOBAL + 1], b[MAX_GLOBAL + 1];
    clean(a, module, sizeof a);
    clean(b, name, sizeof b);
    v->g = G_UNKNOWN;
    v->s = xprintf("%s.%s", a, b);
    v->len = strlen(v->s);
    if (!charge(m, v->len + 1))
        return false;
    return push(m, v);
}

/* A placeholder for an object of the unknown class cls (its arguments and
 * state are dropped, nothing is called). */
static PyVal *
opaque(Machine *m, const PyVal *cls)
{
    PyVal *v = new_val(m, PV_OPAQUE);
    if (!v || !charge(m, cls->len + 1))
        return NULL;
    v->s = xstrdup(cls->s);
    v->len = cls->len;
    return v;
}

/* GLOBAL: "module\nname\n". */
static bool
op_global(Machine *m)
{
    char part[2][MAX_GLOBAL + 1];
    for (int k = 0; k < 2; k++) {
        const unsigned char *s = m->pk->p + m->pc;
        size_t avail = m->pk->n - m->pc, lim = avail < MAX_GLOBAL + 1 ? avail : MAX_GLOBAL + 1;
        const unsigned char *nl = memchr(s, '\n', lim);
        if (!nl)
            return fail(m, "GLOBAL without a newline in its first %d bytes", MAX_GLOBAL);
        size_t n = (size_t)(nl - s);
        memcpy(part[k], s, n);
        part[k][n] = '\0';
        if (memchr(s, 0, n))
            return fail(m, "GLOBAL name with a NUL byte");
        m->pc += n + 1;
    }
    return push_global(m, part[0], part[1]);
}

static bool
op_stack_global(Machine *m)
{
    PyVal *name = pop(m), *module = name ? pop(m) : NULL;
    if (!module)
        return false;
    if (name->kind != PV_STR || module->kind != PV_STR || name->len > MAX_GLOBAL ||
        module->len > MAX_GLOBAL)
        return fail(m, "STACK_GLOBAL needs two short strings");
    return push_global(m, module->s, name->s);
}

static const char *
global_name(const PyVal *g)
{
    switch (g->g) {
    case G_ORDEREDDICT: return "collections.OrderedDict";
    case G_REBUILD_TENSOR_V2: return "torch._utils._rebuild_tensor_v2";
    case G_REBUILD_PARAMETER: return "torch._utils._rebuild_parameter";
    case G_REBUILD_PARAMETER_WITH_STATE: return "torch._utils._rebuild_parameter_with_state";
    case G_STORAGE: return ck_dtype[g->dtype].storage;
    case G_DTYPE: return ck_dtype[g->dtype].name;
    case G_UNKNOWN: return g->s;
    }
    return "?";
}

/* What NEWOBJ was asked to instantiate, for messages. */
static const char *
class_name(const PyVal *cls)
{
    return cls->kind == PV_GLOBAL ? global_name(cls) : pv_kind_name(cls->kind);
}

/* ------------------------------------------------------------ tensors */

/* A tuple of non-negative ints into dims; false if it is anything else. */
static bool
int_tuple(Machine *m, const PyVal *t, const char *what, int64_t *dims, int *rank)
{
    if (t->kind != PV_TUPLE)
        return fail(m, "_rebuild_tensor_v2: %s is a %s, not a tuple", what, pv_kind_name(t->kind));
    if (t->n > CK_MAXRANK)
        return fail(m, "_rebuild_tensor_v2: %s has %d dimensions (at most %d)", what, t->n, CK_MAXRANK);
    for (int i = 0; i < t->n; i++) {
        const PyVal *x = t->v[i];
        if (x->kind != PV_INT || x->i < 0 || x->i > (INT64_C(1) << 40))
            return fail(m, "_rebuild_tensor_v2: %s[%d] is not a reasonable size", what, i);
        dims[i] = x->i;
    }
    *rank = t->n;
    return true;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static PyVal *
rebuild_tensor(Machine *m, const PyVal *args)
{
    if (args->n < 6 || args->n > 7) {
        fail(m, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %d", args->n);
        return NULL;
    }
    const PyVal *st = args->v[0], *off = args->v[1];
    if (st->kind != PV_STORAGE) {
        fail(m, "_rebuild_tensor_v2: the first argument is a %s, not a storage", pv_kind_name(st->kind));
        return NULL;
    }
    if (off->kind != PV_INT || off->i < 0 || off->i > (INT64_C(1) << 40)) {
        fail(m, "_rebuild_tensor_v2: bad storage offset");
        return NULL;
    }
    CkTensor t = {0};
    int srank = 0;
    if (!int_tuple(m, args->v[2], "size", t.shape, &t.rank) ||
        !int_tuple(m, args->v[3], "stride", t.stride, &srank))
        return NULL;
    if (srank != t.rank) {
        fail(m, "_rebuild_tensor_v2: size has %d dimensions but stride has %d", t.rank, srank);
        return NULL;
    }
    t.storage = st->storage;
    t.dtype = m->pk->ck->st[st->storage].dtype;
    t.offset = off->i + st->i;
    t.at = m->pk->base + m->op_at;
    if (!ck_check_tensor(m->pk->ck, &t, m->pk->d))
        return NULL;
    PyVal *v = new_val(m, PV_TENSOR);
    if (!v || !charge(m, sizeof t))
        return NULL;
    v->t = xmalloc(sizeof t);
    *v->t = t;
    return v;
}

static bool
op_reduce(Machine *m)
{
    PyVal *args = pop(m), *fn = args ? pop(m) : NULL;
    if (!fn)
        return false;
    if (fn->kind != PV_GLOBAL)
        return fail(m, "REDUCE of a %s, not a class or function", pv_kind_name(fn->kind));
    if (args->kind != PV_TUPLE)
        return fail(m, "REDUCE arguments are a %s, not a tuple", pv_kind_name(args->kind));
    switch (fn->g) {
    case G_ORDEREDDICT:
        if (args->n != 0)
            return fail(m, "collections.OrderedDict with arguments");
        return push(m, new_val(m, PV_DICT));
    case G_REBUILD_TENSOR_V2:
        return push(m, rebuild_tensor(m, args));
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_WITH_STATE:
        if (args->n < 1 || args->v[0]->kind != PV_TENSOR)
            return fail(m, "%s without a tensor", global_name(fn));
        return push(m, args->v[0]);
    case G_UNKNOWN:
        return push(m, opaque(m, fn));
    case G_STORAGE:
    case G_DTYPE:
        break;
    }
    return fail(m, "refusing to call '%s'", global_name(fn));
}

static bool
op_newobj(Machine *m)
{
    PyVal *args = pop(m), *cls = args ? pop(m) : NULL;
    if (!cls)
        return false;
    if (cls->kind == PV_GLOBAL && cls->g == G_ORDEREDDICT && args->kind == PV_TUPLE && args->n == 0)
        return push(m, new_val(m, PV_DICT));
    if (cls->kind == PV_GLOBAL && cls->g == G_UNKNOWN)
        return push(m, opaque(m, cls));
    return fail(m, "NEWOBJ of a %s is not supported", class_name(cls));
}

/* NEWOBJ_EX: cls, args, kwargs. */
static bool
op_newobj_ex(Machine *m)
{
    PyVal *kw = pop(m), *args = kw ? pop(m) : NULL, *cls = args ? pop(m) : NULL;
    if (!cls)
        return false;
    if (cls->kind == PV_GLOBAL && cls->g == G_UNKNOWN)
        return push(m, opaque(m, cls));
    return fail(m, "NEWOBJ_EX of a %s is not supported", class_name(cls));
}

/* BUILD sets an object's state.  A state dict's OrderedDict gets its
 * _metadata attribute this way, a tensor may get hooks, a placeholder its
 * attributes: all are ignored. */
static bool
op_build(Machine *m)
{
    PyVal *state = pop(m), *obj = state ? top(m) : NULL;
    if (!obj)
        return false;
    if (obj->kind == PV_TENSOR || obj->kind == PV_OPAQUE || (obj->kind == PV_DICT && (state->kind == PV_DICT ||
                                                            state->kind == PV_NONE)))
        return true;
    return fail(m, "BUILD of a %s with a %s state is not supported", pv_kind_name(obj->kind),
                pv_kind_name(state->kind));
}

static bool
op_persid(Machine *m)
{
    PyVal *pid = pop(m);
    if (!pid)
        return false;
    if (!m->pk->persistent_load)
        return fail(m, "persistent id in a pickle that cannot have one");
    int64_t elem = 0;
    int s = m->pk->persistent_load(m->pk, pid, m->pk->base + m->op_at, &elem);
    if (s < 0)
        return false;
    PyVal *v = new_val(m, PV_STORAGE);
    if (!v)
        return false;
    v->storage = s;
    v->i = elem;
    return push(m, v);
}

static bool
op_long1(Machine *m)
{
    if (!need(m, 1))
        return false;
    int n = m->pk->p[m->pc++];
    if (!need(m, (size_t)n))
        return false;
    if (n <= 8) {
        uint64_t u = arg_le(m, n);
        if (n && n < 8 && (u >> (8 * n - 1)) & 1)     /* sign-extend */
            u |= ~UINT64_C(0) << 8 * n;
        PyVal *v = new_val(m, PV_INT);
        if (!v)
            return false;
        memcpy(&v->i, &u, 8);
        return push(m, v);
    }
    PyVal *v = new_val(m, PV_BIGINT);
    if (!v || !charge(m, (size_t)n))
        return false;
    v->s = xmalloc((size_t)n);
    memcpy(v->s, m->pk->p + m->pc, (size_t)n);
    v->len = (size_t)n;
    m->pc += n;
    return push(m, v);
}

static bool
push_int(Machine *m, int64_t i)
{
    PyVal *v = new_val(m, PV_INT);
    if (!v)
        return false;
    v->i = i;
    return push(m, v);
}

static bool
op_binfloat(Machine *m)
{
    if (!need(m, 8))
        return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)         /* big-endian */
        u = u << 8 | m->pk->p[m->pc + i];
    m->pc += 8;
    PyVal *v = new_val(m, PV_FLOAT);
    if (!v)
        return false;
    memcpy(&v->f, &u, 8);
    return push(m, v);
}

/* One opcode; false after an error, *stop set at STOP. */
static bool
step(Machine *m, bool *stop)
{
    m->op_at = (int64_t)m->pc;
    if (m->pc >= m->pk->n)
        return fail(m, "truncated: no STOP opcode");
    int op = m->pk->p[m->pc++];
    int base;
    PyVal *a, *b, *c;
    switch (op) {
    case 0x80: /* PROTO */
        if (!need(m, 1))
            return false;
        if (m->pk->p[m->pc] < 2 || m->pk->p[m->pc] > 5)
            return fail(m, "pickle protocol %d is not supported", m->pk->p[m->pc]);
        m->pc++;
        return true;
    case 0x95: /* FRAME */
        if (!need(m, 8))
            return false;
        arg_le(m, 8);
        return true;
    case '.': /* STOP */
        if (m->nmarks || m->sp != 1)
            return fail(m, "STOP with %d values and %d marks on the stack", m->sp, m->nmarks);
        *stop = true;
        return true;
    case '(': /* MARK */
        if (m->nmarks == MAX_MARKS)
            return fail(m, "more than %d nested MARKs", MAX_MARKS);
        m->marks[m->nmarks++] = m->sp;
        return true;
    case '0': /* POP */
        return pop(m) != NULL;
    case '}': /* EMPTY_DICT */
        return push(m, new_val(m, PV_DICT));
    case ']': /* EMPTY_LIST */
        return push(m, new_val(m, PV_LIST));
    case ')': /* EMPTY_TUPLE */
        return push(m, m->empty_tuple);
    case 't': /* TUPLE */
        if ((base = pop_mark(m)) < 0)
            return false;
        return push(m, make_tuple(m, base));
    case 0x85: return op_tuple_n(m, 1);
    case 0x86: return op_tuple_n(m, 2);
    case 0x87: return op_tuple_n(m, 3);
    case 'X': return op_string(m, 4);       /* BINUNICODE */
    case 0x8c: return op_string(m, 1);      /* SHORT_BINUNICODE */
    case 0x8d: return op_string(m, 8);      /* BINUNICODE8 */
    case 'C': return op_bytes(m, 1);        /* SHORT_BINBYTES */
    case 'B': return op_bytes(m, 4);        /* BINBYTES */
    case 0x8e: return op_bytes(m, 8);       /* BINBYTES8 */
    case 0x8f: /* EMPTY_SET: kept as a list */
        return push(m, new_val(m, PV_LIST));
    case 0x90: /* ADDITEMS */
        if ((base = pop_mark(m)) < 0 || !(c = below(m, base)))
            return false;
        return append_items(m, c, base);
    case 0x91: /* FROZENSET: kept as a tuple */
        if ((base = pop_mark(m)) < 0)
            return false;
        return push(m, make_tuple(m, base));
    case 0x92: return op_newobj_ex(m);
    case 'q': /* BINPUT */
        return need(m, 1) && memo_put(m, arg_le(m, 1));
    case 'r': /* LONG_BINPUT */
        return need(m, 4) && memo_put(m, arg_le(m, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(m, m->nmemo);
    case 'h': /* BINGET */
        return need(m, 1) && memo_get(m, arg_le(m, 1));
    case 'j': /* LONG_BINGET */
        return need(m, 4) && memo_get(m, arg_le(m, 4));
    case 'c': return op_global(m);
    case 0x93: return op_stack_global(m);
    case 'R': return op_reduce(m);
    case 'b': return op_build(m);
    case 0x81: return op_newobj(m);
    case 's': /* SETITEM */
        if (!(a = pop(m)) || !(b = pop(m)) || !(c = top(m)))
            return false;
        if (!push(m, b) || !push(m, a))
            return false;
        return set_items(m, c, m->sp - 2);
    case 'u': /* SETITEMS */
        if ((base = pop_mark(m)) < 0 || !(c = below(m, base)))
            return false;
        return set_items(m, c, base);
    case 'a': /* APPEND */
        if (!(a = pop(m)) || !(c = top(m)) || !push(m, a))
            return false;
        return append_items(m, c, m->sp - 1);
    case 'e': /* APPENDS */
        if ((base = pop_mark(m)) < 0 || !(c = below(m, base)))
            return false;
        return append_items(m, c, base);
    case 'J': /* BININT */
        return need(m, 4) && push_int(m, (int32_t)(uint32_t)arg_le(m, 4));
    case 'K': /* BININT1 */
        return need(m, 1) && push_int(m, (int64_t)arg_le(m, 1));
    case 'M': /* BININT2 */
        return need(m, 2) && push_int(m, (int64_t)arg_le(m, 2));
    case 0x8a: return op_long1(m);
    case 'G': return op_binfloat(m);
    case 'N': return push(m, m->none);
    case 0x88: return push(m, m->yes);
    case 0x89: return push(m, m->no);
    case 'Q': return op_persid(m);
    }
    if (op >= 0x20 && op < 0x7f)
        return fail(m, "unsupported opcode 0x%02x ('%c')", op, op);
    return fail(m, "unsupported opcode 0x%02x", op);
}

PyVal *
pickle_load(Pickle *pk)
{
    Machine m = {.pk = pk};
    pk->budget = 64 * pk->n + (4u << 20);
    m.none = new_val(&m, PV_NONE);
    m.yes = new_val(&m, PV_BOOL);
    m.no = new_val(&m, PV_BOOL);
    m.empty_tuple = new_val(&m, PV_TUPLE);
    m.yes->i = 1;
    bool stop = false, ok = true;
    while (ok && !stop)
        ok = step(&m, &stop);
    PyVal *r = ok ? m.stack[0] : NULL;
    pk->end = m.pc;
    free(m.stack);
    free(m.memo);
    return r;
}

void
pickle_free(Pickle *pk)
{
    for (int i = 0; i < pk->all.n; i++) {
        PyVal *v = pk->all.v[i];
        free(v->s);
        free(v->v);
        free(v->k);
        free(v->t);
        free(v);
    }
    free(pk->all.v);
    memset(&pk->all, 0, sizeof pk->all);
}
