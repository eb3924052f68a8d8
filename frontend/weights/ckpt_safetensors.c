/*
 * ckpt_safetensors.c — the safetensors format, with a small strict JSON
 * parser for its header.
 *
 *   u64 LE   N, the header's length
 *   N bytes  JSON: {"NAME": {"dtype": "F32", "shape": [..],
 *                            "data_offsets": [BEGIN, END]}, ...,
 *                   "__metadata__": {"k": "v", ...}}
 *   rest     the data; offsets are relative to its start
 *
 * The JSON parser accepts RFC 8259 exactly (no comments, no trailing
 * commas, no NaN), bounds nesting depth and refuses duplicate keys.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

#define MAX_HEADER  (100u << 20)    /* what the format itself allows */
#define MAX_JDEPTH  16

typedef enum JKind { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JKind;

typedef struct Json {
    JKind kind;
    bool is_int;            /* J_NUM: an integer that fits int64 */
    int64_t i;              /* J_NUM integer, J_BOOL */
    char *s;                /* J_STR, NUL-free UTF-8 */
    struct Json **v;        /* J_ARR items, J_OBJ values */
    char **k;               /* J_OBJ keys */
    int n, cap;
    int64_t at;             /* file offset */
} Json;

typedef struct JParser {
    const char *path;
    const unsigned char *p; /* header bytes */
    size_t n, pos;
    int64_t base;           /* file offset of p[0] */
    Diag *d;
} JParser;

static Json *jvalue(JParser *jp, int depth);

static void
jfree(Json *j)
{
    if (!j)
        return;
    for (int i = 0; i < j->n; i++) {
        jfree(j->v[i]);
        if (j->k)
            free(j->k[i]);
    }
    free(j->v);
    free(j->k);
    free(j->s);
    free(j);
}

static Json *
jfail(JParser *jp, const char *what)
{
    ck_error(jp->d, jp->path, jp->base + (int64_t)jp->pos, "safetensors header: %s", what);
    return NULL;
}

static void
skip_ws(JParser *jp)
{
    while (jp->pos < jp->n && strchr(" \t\r\n", jp->p[jp->pos]) && jp->p[jp->pos])
        jp->pos++;
}

static void
put_utf8(char *out, size_t *o, uint32_t c)
{
    if (c < 0x80) {
        out[(*o)++] = (char)c;
    } else if (c < 0x800) {
        out[(*o)++] = (char)(0xc0 | c >> 6);
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out[(*o)++] = (char)(0xe0 | c >> 12);
        out[(*o)++] = (char)(0x80 | (c >> 6 & 0x3f));
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | c >> 18);
        out[(*o)++] = (char)(0x80 | (c >> 12 & 0x3f));
        out[(*o)++] = (char)(0x80 | (c >> 6 & 0x3f));
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    }
}

static int
hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i], h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static int
utf8_len(const unsigned char *s, size_t n)
{
    int len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
            : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || (size_t)len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* A string at jp->pos (the opening quote); malloc'd, NULL after an error. */
static char *
jstring(JParser *jp)
{
    size_t start = ++jp->pos, end = start;
    while (end < jp->n && jp->p[end] != '"')
        end += jp->p[end] == '\\' ? 2 : 1;
    char *out = xmalloc(end - start + 1);       /* escapes only shrink */
    size_t o = 0;
    while (jp->pos < jp->n) {
        unsigned char c = jp->p[jp->pos];
        if (c == '"') {
            jp->pos++;
            out[o] = '\0';
            return out;
        }
        if (c < 0x20) {
            jfail(jp, "a control character in a string");
            break;
        }
        if (c != '\\') {
            int len = utf8_len(jp->p + jp->pos, jp->n - jp->pos);
            if (!len) {
                jfail(jp, "invalid UTF-8 in a string");
                break;
            }
            memcpy(out + o, jp->p + jp->pos, (size_t)len);
            o += (size_t)len;
            jp->pos += (size_t)len;
            continue;
        }
        if (jp->pos + 1 >= jp->n)
            break;
        char e = (char)jp->p[jp->pos + 1];
        const char *esc = strchr("\"\\/bfnrt", e), *rep = "\"\\/\b\f\n\r\t";
        if (esc && e) {
            out[o++] = rep[esc - "\"\\/bfnrt"];
            jp->pos += 2;
            continue;
        }
        if (e != 'u' || jp->pos + 6 > jp->n || hex4(jp->p + jp->pos + 2) < 0) {
            jfail(jp, "a bad escape in a string");
            break;
        }
        uint32_t cp = (uint32_t)hex4(jp->p + jp->pos + 2);
        jp->pos += 6;
        if (cp >= 0xd800 && cp < 0xdc00) {      /* a surrogate pair */
            if (jp->pos + 6 > jp->n || jp->p[jp->pos] != '\\' || jp->p[jp->pos + 1] != 'u' ||
                hex4(jp->p + jp->pos + 2) < 0xdc00 || hex4(jp->p + jp->pos + 2) > 0xdfff) {
                jfail(jp, "an unpaired surrogate in a string");
                break;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(jp->p + jp->pos + 2) - 0xdc00);
            jp->pos += 6;
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            jfail(jp, "an unpaired surrogate in a string");
            break;
        }
        if (cp == 0) {
            jfail(jp, "a NUL character in a string");
            break;
        }
        put_utf8(out, &o, cp);
    }
    if (jp->pos >= jp->n)
        jfail(jp, "an unterminated string");
    free(out);
    return NULL;
}

/* A number, strictly as RFC 8259 spells it; integers are kept exactly. */
static Json *
jnumber(JParser *jp, Json *j)
{
    size_t s = jp->pos, i = s;
    const unsigned char *p = jp->p;
    if (i < jp->n && p[i] == '-')
        i++;
    if (i < jp->n && p[i] == '0')
        i++;
    else if (i < jp->n && p[i] >= '1' && p[i] <= '9')
        while (i < jp->n && p[i] >= '0' && p[i] <= '9')
            i++;
    else
        return jfail(jp, "a bad number");
    bool frac = false;
    if (i < jp->n && p[i] == '.') {
        frac = true;
        if (++i >= jp->n || p[i] < '0' || p[i] > '9')
            return jfail(jp, "a bad number");
        while (i < jp->n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < jp->n && (p[i] == 'e' || p[i] == 'E')) {
        frac = true;
        if (++i < jp->n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= jp->n || p[i] < '0' || p[i] > '9')
            return jfail(jp, "a bad number");
        while (i < jp->n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    j->kind = J_NUM;
    if (!frac && i - s <= 18) {         /* fits int64 without overflow */
        int64_t v = 0;
        for (size_t k = s + (p[s] == '-'); k < i; k++)
            v = v * 10 + (p[k] - '0');
        j->i = p[s] == '-' ? -v : v;
        j->is_int = true;
    }
    jp->pos = i;
    return j;
}

static bool
add_item(Json *c, char *key, Json *item)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4;
        c->v = xrealloc(c->v, sizeof *c->v * (size_t)c->cap);
        if (c->kind == J_OBJ)
            c->k = xrealloc(c->k, sizeof *c->k * (size_t)c->cap);
    }
    if (c->kind == J_OBJ)
        c->k[c->n] = key;
    c->v[c->n++] = item;
    return true;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Object or array at jp->pos. */
static Json *
jcontainer(JParser *jp, Json *j, int depth)
{
    bool obj = jp->p[jp->pos] == '{';
    char close = obj ? '}' : ']';
    j->kind = obj ? J_OBJ : J_ARR;
    jp->pos++;
    skip_ws(jp);
    if (jp->pos < jp->n && jp->p[jp->pos] == close) {
        jp->pos++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(jp);
        if (obj) {
            if (jp->pos >= jp->n || jp->p[jp->pos] != '"')
                return jfail(jp, "expected a string key");
            if (!(key = jstring(jp)))
                return NULL;
            skip_ws(jp);
            if (jp->pos >= jp->n || jp->p[jp->pos] != ':') {
                free(key);
                return jfail(jp, "expected ':'");
            }
            jp->pos++;
        }
        Json *v = jvalue(jp, depth + 1);
        if (!v) {
            free(key);
            return NULL;
        }
        add_item(j, key, v);
        skip_ws(jp);
        if (jp->pos < jp->n && jp->p[jp->pos] == ',') {
            jp->pos++;
            continue;
        }
        if (jp->pos < jp->n && jp->p[jp->pos] == close) {
            jp->pos++;
            break;
        }
        return jfail(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    if (obj && j->n > 1) {
        char **keys = xmalloc(sizeof *keys * (size_t)j->n);
        memcpy(keys, j->k, sizeof *keys * (size_t)j->n);
        qsort(keys, (size_t)j->n, sizeof *keys, cmp_str);
        for (int i = 0; i + 1 < j->n; i++)
            if (!strcmp(keys[i], keys[i + 1])) {
                char msg[160];
                snprintf(msg, sizeof msg, "the key '%.100s' appears twice", keys[i]);
                free(keys);
                return jfail(jp, msg);
            }
        free(keys);
    }
    return j;
}

static Json *
jvalue(JParser *jp, int depth)
{
    skip_ws(jp);
    if (depth > MAX_JDEPTH)
        return jfail(jp, "nested too deeply");
    if (jp->pos >= jp->n)
        return jfail(jp, "truncated");
    Json *j = xcalloc(1, sizeof *j), *r = j;
    j->at = jp->base + (int64_t)jp->pos;
    unsigned char c = jp->p[jp->pos];
    if (c == '{' || c == '[') {
        r = jcontainer(jp, j, depth);
    } else if (c == '"') {
        j->kind = J_STR;
        r = (j->s = jstring(jp)) ? j : NULL;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        r = jnumber(jp, j);
    } else if (jp->n - jp->pos >= 4 && !memcmp(jp->p + jp->pos, "null", 4)) {
        jp->pos += 4;
    } else if (jp->n - jp->pos >= 4 && !memcmp(jp->p + jp->pos, "true", 4)) {
        j->kind = J_BOOL;
        j->i = 1;
        jp->pos += 4;
    } else if (jp->n - jp->pos >= 5 && !memcmp(jp->p + jp->pos, "false", 5)) {
        j->kind = J_BOOL;
        jp->pos += 5;
    } else {
        r = jfail(jp, "expected a value");
    }
    if (!r)
        jfree(j);
    return r;
}

static const Json *
jget(const Json *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->k[i], key))
            return o->v[i];
    return NULL;
}

/* ------------------------------------------------------------ the format */

typedef struct Range {
    int64_t b, e;
    const char *name;
} Range;

static int
cmp_range(const void *a, const void *b)
{
    const Range *x = a, *y = b;
    return x->b < y->b ? -1 : x->b > y->b ? 1 : (x->e > y->e) - (x->e < y->e);
}

/* One tensor entry: {"dtype", "shape", "data_offsets"}. */
static bool
take_tensor(Checkpoint *c, const char *name, const Json *e, int64_t data, Range *r, Diag *d)
{
    const char *bad = NULL;
    const Json *dt = NULL, *shape = NULL, *offs = NULL;
    if (e->kind != J_OBJ)
        bad = "is not an object";
    for (int i = 0; !bad && i < e->n; i++)
        if (strcmp(e->k[i], "dtype") && strcmp(e->k[i], "shape") && strcmp(e->k[i], "data_offsets"))
            bad = "has a field other than dtype, shape and data_offsets";
    if (!bad) {
        dt = jget(e, "dtype");
        shape = jget(e, "shape");
        offs = jget(e, "data_offsets");
        if (!dt || dt->kind != J_STR)
            bad = "has no dtype string";
        else if (!shape || shape->kind != J_ARR)
            bad = "has no shape array";
        else if (!offs || offs->kind != J_ARR || offs->n != 2)
            bad = "has no data_offsets pair";
    }
    if (bad) {
        ck_error(d, c->path, e->at, "safetensors tensor '%s' %s", name, bad);
        return false;
    }
    int di = 0;
    while (di < CK_NDTYPES && strcmp(dt->s, ck_dtype[di].st))
        di++;
    if (di == CK_NDTYPES) {
        ck_error(d, c->path, dt->at, "safetensors tensor '%s' has the unsupported dtype '%.20s'", name, dt->s);
        return false;
    }
    CkTensor t = {.dtype = (CkDtype)di, .at = e->at};
    if (shape->n > CK_MAXRANK) {
        ck_error(d, c->path, shape->at, "safetensors tensor '%s' has %d dimensions (at most %d)", name,
                 shape->n, CK_MAXRANK);
        return false;
    }
    t.rank = shape->n;
    for (int i = 0; i < shape->n; i++) {
        const Json *x = shape->v[i];
        if (x->kind != J_NUM || !x->is_int || x->i < 0 || x->i > (INT64_C(1) << 40)) {
            ck_error(d, c->path, x->at, "safetensors tensor '%s': shape[%d] is not a reasonable size", name, i);
            return false;
        }
        t.shape[i] = x->i;
    }
    for (int i = 0; i < 2; i++) {
        const Json *x = offs->v[i];
        if (x->kind != J_NUM || !x->is_int || x->i < 0 || x->i > (int64_t)c->size - data) {
            ck_error(d, c->path, x->at, "safetensors tensor '%s': data offset %s lies outside the file",
                     name, i ? "end" : "begin");
            return false;
        }
    }
    r->b = offs->v[0]->i;
    r->e = offs->v[1]->i;
    r->name = name;
    if (r->e < r->b) {
        ck_error(d, c->path, offs->at, "safetensors tensor '%s' ends before it begins", name);
        return false;
    }
    /* Contiguous strides, and the byte count must be exactly numel * size. */
    int64_t numel = 1, es = ck_dtype[di].size;
    for (int i = t.rank - 1; i >= 0; i--) {
        t.stride[i] = numel;
        if (t.shape[i] && numel > (r->e - r->b) / es / t.shape[i] + 1) {
            numel = -1;
            break;
        }
        numel *= t.shape[i];
    }
    if (numel < 0 || numel * es != r->e - r->b) {
        char sh[160], need[32];
        snprintf(need, sizeof need, numel < 0 ? "more" : "%lld", (long long)(numel * es));
        ck_error(d, c->path, offs->at, "safetensors tensor '%s': %s %s needs %s bytes, its data_offsets span %lld",
                 name, ck_dtype[di].name, ck_shape_str(&t, sh, sizeof sh), need, (long long)(r->e - r->b));
        return false;
    }
    t.storage = ck_add_storage(c, name, t.dtype, numel, data + r->b);
    if (!ck_check_tensor(c, &t, d))
        return false;
    t.stored = xstrdup(name);
    ck_add_tensor(c, &t);
    return true;
}

bool
safetensors_load(Checkpoint *c, const CkOptions *o, Diag *d)
{
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n |= (uint64_t)c->p[i] << 8 * i;
    if (n > MAX_HEADER || n > c->size - 8) {
        ck_error(d, c->path, 0, "safetensors header length %llu is %s", (unsigned long long)n,
                 n > c->size - 8 ? "larger than the file" : "beyond the format's 100 MB limit");
        return false;
    }
    if (o->select) {
        ck_error(d, c->path, -1, "--select: a safetensors file has no nested state dicts");
        return false;
    }
    JParser jp = {.path = c->path, .p = c->p + 8, .n = (size_t)n, .base = 8, .d = d};
    Json *root = jvalue(&jp, 0);
    bool ok = root != NULL;
    if (ok) {
        skip_ws(&jp);
        if (jp.pos != jp.n) {
            jfail(&jp, "junk after the header object");
            ok = false;
        } else if (root->kind != J_OBJ) {
            ck_error(d, c->path, 8, "safetensors header is not a JSON object");
            ok = false;
        }
    }
    int64_t data = 8 + (int64_t)n;
    Range *r = ok ? xcalloc((size_t)root->n + 1, sizeof *r) : NULL;
    int nr = 0;
    for (int i = 0; ok && i < root->n; i++) {
        if (!strcmp(root->k[i], "__metadata__")) {
            const Json *m = root->v[i];
            bool strings = m->kind == J_OBJ;
            for (int k = 0; strings && k < m->n; k++)
                strings = m->v[k]->kind == J_STR;
            if (!strings) {
                ck_error(d, c->path, root->v[i]->at, "safetensors __metadata__ is not an object of strings");
                ok = false;
            }
            continue;
        }
        if (strlen(root->k[i]) > CK_MAXNAME) {
            ck_error(d, c->path, root->v[i]->at, "safetensors tensor name longer than %d bytes", CK_MAXNAME);
            ok = false;
            break;
        }
        ok = take_tensor(c, root->k[i], root->v[i], data, &r[nr], d);
        nr += ok;
    }
    if (ok && nr) {
        qsort(r, (size_t)nr, sizeof *r, cmp_range);
        for (int i = 0; i + 1 < nr; i++)
            if (r[i + 1].b < r[i].e) {
                ck_error(d, c->path, data + r[i + 1].b, "safetensors tensors '%s' and '%s' overlap",
                         r[i].name, r[i + 1].name);
                ok = false;
                break;
            }
    }
    free(r);
    jfree(root);
    return ok;
}
