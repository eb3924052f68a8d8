/*
 * bind.c — copying checkpoint tensors into the graph, with exact checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "checkpoint.h"

/* Edit distance (Levenshtein plus adjacent swaps), giving up (returning limit) once it reaches limit. */
static int
edit_distance(const char *a, const char *b, int limit)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (abs(la - lb) >= limit || la > 256 || lb > 256)
        return limit;
    int row[257], prev[257], prev2[257];
    for (int j = 0; j <= lb; j++)
        prev[j] = prev2[j] = j;
    for (int i = 1; i <= la; i++) {
        row[0] = i;
        int best = row[0];
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            /* A swap of two neighbours counts as one edit. */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < row[j])
                row[j] = prev2[j - 2] + 1;
            if (row[j] < best)
                best = row[j];
        }
        if (best >= limit)
            return limit;
        memcpy(prev2, prev, sizeof(int) * (size_t)(lb + 1));
        memcpy(prev, row, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb] < limit ? prev[lb] : limit;
}

/* "; did you mean 'X'?" (the closest key the model does not want), or a hint that a key prefix
 * differs; "" if nothing is close. */
static char *
suggest(const Checkpoint *c, const bool *wanted, const char *name)
{
    size_t n = strlen(name);
    int limit = (int)n / 3 + 2, best = limit;
    const char *bestk = NULL;
    for (int i = 0; i < c->nt; i++) {
        if (wanted[i])
            continue;       /* the model needs that one under its own name */
        int e = edit_distance(name, c->t[i].name, best);
        if (e < best) {
            best = e;
            bestk = c->t[i].name;
        }
    }
    if (bestk)
        return xprintf("; did you mean '%s'?", bestk);
    /* The same name under a different prefix, cut at a '.'. */
    for (int i = 0; i < c->nt; i++) {
        const char *k = c->t[i].name;
        size_t m = strlen(k);
        if (m > n && k[m - n - 1] == '.' && !strcmp(k + m - n, name))
            return xprintf("; the checkpoint has '%s' (try --strip-prefix '%.*s')", k,
                           (int)(m - n), k);
        if (n > m && name[n - m - 1] == '.' && !strcmp(name + n - m, k))
            return xprintf("; the checkpoint has '%s' (try --add-prefix '%.*s')", k, (int)(n - m),
                           name);
    }
    return xstrdup("");
}

static bool
shape_matches(const Tensor *t, const CkTensor *ct)
{
    if (t->shape.rank != ct->rank)
        return false;
    for (int i = 0; i < ct->rank; i++)
        if (t->shape.dim[i] != ct->shape[i])
            return false;
    return true;
}

/* "[3, 0, 1, 2]": the index of flat element i of shape s. */
static char *
index_str(Shape s, int64_t i, char *buf, size_t size)
{
    int64_t idx[IR_MAXRANK];
    for (int k = s.rank - 1; k >= 0; k--) {
        idx[k] = s.dim[k] ? i % s.dim[k] : 0;
        i = s.dim[k] ? i / s.dim[k] : 0;
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int k = 0; k < s.rank && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", k ? ", " : "", (long long)idx[k]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

/* NaN or Inf anywhere is an error; so is a negative running variance. */
static bool
check_values(Diag *d, const Tensor *t, const float *x, bool is_var)
{
    int64_t n = shape_numel(t->shape, 1);
    char b[SHAPE_STRLEN];
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            error_at(d, t->loc, "tensor '%s' has a non-finite value (%g) at index %s", t->name,
                     (double)x[i], index_str(t->shape, i, b, sizeof b));
            return false;
        }
        if (is_var && x[i] < 0) {
            error_at(d, t->loc, "batch-norm running variance '%s' is negative (%g) at index %s",
                     t->name, (double)x[i], index_str(t->shape, i, b, sizeof b));
            return false;
        }
    }
    return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* One warning listing the checkpoint tensors nobody asked for. */
static void
warn_unused(Diag *d, const Checkpoint *c, const bool *used)
{
    int n = 0;
    for (int i = 0; i < c->nt; i++)
        n += !used[i] && !ends_with(c->t[i].name, "num_batches_tracked");
    if (!n)
        return;
    size_t cap = 512, len = 0;
    char *list = xmalloc(cap);
    list[0] = '\0';
    int shown = 0;
    for (int i = 0; i < c->nt && shown < 8; i++) {
        if (used[i] || ends_with(c->t[i].name, "num_batches_tracked"))
            continue;
        char *item = xprintf("%s'%s'", shown ? ", " : "", c->t[i].name);
        size_t m = strlen(item);
        if (len + m + 1 > cap) {
            cap = 2 * (len + m + 1);
            list = xrealloc(list, cap);
        }
        memcpy(list + len, item, m + 1);
        len += m;
        shown++;
        free(item);
    }
    warning_plain(d, "%s: %d tensor%s not used by the model: %s%s", c->path, n, n == 1 ? " is" : "s are",
                  list, n > shown ? ", ..." : "");
    free(list);
}

bool
bind_weights(Graph *g, const BindOptions *o, Diag *d)
{
    if (!o->weights)
        bug("bind_weights without a checkpoint");
    int before = d->nerrors;
    CkOptions co = {o->select, o->strip_prefix, o->add_prefix};
    Checkpoint *c = ckpt_open(o->weights, &co, d);
    if (!c)
        return false;
    if (c->select_auto)
        note_at(d, (Loc){0}, "%s: using the state dict under the key '%s'", c->path, c->selected);
    if (c->strip_auto)
        note_at(d, (Loc){0}, "%s: removing the prefix '%s' from every key", c->path, c->stripped);

    /* Running variances are the P_VAR tensors of batch norms. */
    bool *is_var = xcalloc((size_t)g->tensors.n + 1, sizeof *is_var);
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = GRAPH_NODE(g, i);
        if (n->op == OP_BATCHNORM && n->param[P_VAR])
            is_var[n->param[P_VAR]->id] = true;
    }
    bool *used = xcalloc((size_t)c->nt + 1, sizeof *used);
    bool *wanted = xcalloc((size_t)c->nt + 1, sizeof *wanted);
    for (int i = 0; i < g->tensors.n; i++) {
        const Tensor *t = g->tensors.v[i];
        const CkTensor *ct = t->refs > 0 && !t->origin ? ckpt_find(c, t->name) : NULL;
        if (ct)
            wanted[ct - c->t] = true;
    }
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (t->refs <= 0 || t->origin)
            continue;
        const CkTensor *ct = ckpt_find(c, t->name);
        if (!ct) {
            char *hint = suggest(c, wanted, t->name);
            error_at(d, t->loc, "tensor '%s' is not in the checkpoint '%s'%s", t->name, c->path, hint);
            free(hint);
            continue;
        }
        used[ct - c->t] = true;
        char b1[SHAPE_STRLEN], b2[SHAPE_STRLEN];
        if (!shape_matches(t, ct)) {
            error_at(d, t->loc, "tensor '%s' has shape %s in the checkpoint, the model needs %s",
                     t->name, ck_shape_str(ct, b1, sizeof b1), shape_str(t->shape, b2, sizeof b2));
            continue;
        }
        if (!ck_dtype[ct->dtype].is_float) {
            error_at(d, t->loc, "tensor '%s' is %s in the checkpoint; the model needs floating-point values",
                     t->name, ck_dtype[ct->dtype].name);
            continue;
        }
        float *x = ckpt_read_f32(c, ct, d);
        if (!x)
            continue;
        if (!check_values(d, t, x, is_var[t->id])) {
            free(x);
            continue;
        }
        free(t->data);
        t->data = x;
    }
    if (d->nerrors == before)
        warn_unused(d, c, used);
    free(used);
    free(wanted);
    free(is_var);
    ckpt_free(c);
    return d->nerrors == before;
}
