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

/* One warning (an error with strict) listing the checkpoint tensors nobody
 * asked for; returns how many there are. */
static int
warn_unused(Diag *d, const Checkpoint *c, const bool *used, bool strict)
{
    int n = 0;
    for (int i = 0; i < c->nt; i++)
        n += !used[i] && !ends_with(c->t[i].name, "num_batches_tracked");
    if (!n)
        return 0;
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
    if (strict)
        error_plain(d, "%s: %d tensor%s not used by the model (--strict): %s%s", c->path, n,
                    n == 1 ? " is" : "s are", list, n > shown ? ", ..." : "");
    else
        warning_plain(d, "%s: %d tensor%s not used by the model: %s%s", c->path, n,
                      n == 1 ? " is" : "s are", list, n > shown ? ", ..." : "");
    free(list);
    return n;
}

/* ---------------------------------------------------------------- naming schemes */

/* The ResNet naming schemes visec's examples cover, recognised by one key. */
static const struct {
    const char *key;        /* a key only this scheme has */
    const char *what;       /* for the message */
    const char *fits;       /* the descriptions that use it */
} schemes[] = {
    {"layer1.0.conv1.weight", "torchvision's ResNet names ('conv1.weight', 'layer1.0.conv1.weight', ...)",
     "examples/vise_resnet50_torchvision.vise (the VisE trunk) or examples/resnet50.vise "
     "(with the classifier)"},
    {"4.0.conv1.weight", "nn.Sequential numbering ('0.weight', '4.0.conv1.weight', ...)",
     "examples/vise_resnet50.vise"},
};
#define NSCHEMES (int)(sizeof schemes / sizeof schemes[0])

/* The scheme of a list of names, -1 if none; *prefix (malloc'd) is what
 * comes before the key. */
static int
scheme_of(const char *const *names, int n, char **prefix)
{
    for (int s = 0; s < NSCHEMES; s++) {
        size_t m = strlen(schemes[s].key);
        for (int i = 0; i < n; i++) {
            size_t l = strlen(names[i]);
            if (l >= m && !strcmp(names[i] + l - m, schemes[s].key) &&
                (l == m || names[i][l - m - 1] == '.')) {
                *prefix = xprintf("%.*s", (int)(l - m), names[i]);
                return s;
            }
        }
    }
    return -1;
}

/*
 * When most of the model's tensors are missing, compares the naming schemes
 * of the model and the checkpoint; on a recognised mismatch reports one
 * error saying what fits and returns true (the per-tensor errors would only
 * mislead).
 */
static bool
scheme_mismatch(const Graph *g, const Checkpoint *c, const char *model_path, Diag *d)
{
    int need = 0, missing = 0;
    PtrVec mine = {0};
    for (int i = 0; i < g->tensors.n; i++) {
        const Tensor *t = g->tensors.v[i];
        if (t->refs <= 0 || t->origin)
            continue;
        need++;
        missing += !ckpt_find(c, t->name);
        vec_push(&mine, t->name);
    }
    bool reported = false;
    if (need >= 4 && 2 * missing > need) {
        const char **theirs = xmalloc(sizeof *theirs * (size_t)(c->nt + 1));
        for (int i = 0; i < c->nt; i++)
            theirs[i] = c->t[i].name;
        char *pm = NULL, *pc = NULL;
        int sm = scheme_of((const char *const *)mine.v, mine.n, &pm);
        int sc = scheme_of(theirs, c->nt, &pc);
        if (sm >= 0 && sc >= 0 && sm != sc) {
            error_plain(d, "%s: %d of the %d tensors of model %s are missing: the checkpoint uses %s, "
                        "%s uses %s; use %s%s%s%s", c->path, missing, need, g->name,
                        schemes[sc].what, model_path ? model_path : "the model", schemes[sm].what,
                        schemes[sc].fits, *pc ? " with --strip-prefix '" : "", pc, *pc ? "'" : "");
            reported = true;
        } else if (sm >= 0 && sm == sc && strcmp(pm, pc)) {
            if (*pc && !*pm)
                error_plain(d, "%s: %d of the %d tensors are missing: the checkpoint's keys start with "
                            "'%s' (try --strip-prefix '%s')", c->path, missing, need, pc, pc);
            else if (!*pc)
                error_plain(d, "%s: %d of the %d tensors are missing: the model's keys start with "
                            "'%s', the checkpoint's do not (try --add-prefix '%s')", c->path, missing,
                            need, pm, pm);
            else
                error_plain(d, "%s: %d of the %d tensors are missing: the checkpoint's keys start with "
                            "'%s' where the model's start with '%s' (try --strip-prefix '%s' "
                            "--add-prefix '%s')", c->path, missing, need, pc, pm, pc, pm);
            reported = true;
        }
        free(pm);
        free(pc);
        free(theirs);
    }
    free(mine.v);
    return reported;
}

bool
bind_weights(Graph *g, const BindOptions *o, Diag *d)
{
    return bind_weights_report(g, o, NULL, d);
}

bool
bind_weights_report(Graph *g, const BindOptions *o, BindReport *r, Diag *d)
{
    if (!o->weights)
        bug("bind_weights without a checkpoint");
    BindReport rep = {0};
    int before = d->nerrors;
    CkOptions co = {o->select, o->strip_prefix, o->add_prefix};
    Checkpoint *c = ckpt_open(o->weights, &co, d);
    if (!c)
        return false;
    if (c->select_auto)
        note_at(d, (Loc){0}, "%s: using the state dict under the key '%s'", c->path, c->selected);
    if (c->strip_auto)
        note_at(d, (Loc){0}, "%s: removing the prefix '%s' from every key", c->path, c->stripped);
    if (c->ndeflated)
        note_at(d, (Loc){0}, "%s: %d ZIP entr%s DEFLATE-compressed (inflated and CRC-checked)",
                c->path, c->ndeflated, c->ndeflated == 1 ? "y is" : "ies are");
    rep.ntensors = c->nt;
    rep.format = c->format;
    if (scheme_mismatch(g, c, g->name_loc.src ? g->name_loc.src->path : NULL, d)) {
        ckpt_free(c);
        if (r)
            *r = rep;
        return false;
    }
    int nconv[CK_NDTYPES] = {0};

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
        if (ct->dtype != CK_F32) {
            nconv[ct->dtype]++;
            rep.nconverted++;
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
    for (int i = 0; i < c->nt; i++)
        rep.nbound += used[i];
    if (rep.nconverted) {
        char what[256] = "";
        size_t n = 0;
        for (int dt = 0; dt < CK_NDTYPES; dt++)
            if (nconv[dt] && n < sizeof what)
                n += (size_t)snprintf(what + n, sizeof what - n, "%s%d from %s", n ? ", " : "",
                                      nconv[dt], ck_dtype[dt].name);
        if (o->strict)
            error_plain(d, "%s: %d tensor%s would be converted to float32 (%s) (--strict; convert the "
                        "checkpoint to float32 or drop --strict)", c->path, rep.nconverted,
                        rep.nconverted == 1 ? "" : "s", what);
        else
            note_at(d, (Loc){0}, "%s: %d tensor%s converted to float32 (%s)", c->path,
                    rep.nconverted, rep.nconverted == 1 ? "" : "s", what);
    }
    if (d->nerrors == before || o->strict)
        rep.nignored = warn_unused(d, c, used, o->strict);
    if (r)
        *r = rep;
    free(used);
    free(wanted);
    free(is_var);
    ckpt_free(c);
    return d->nerrors == before;
}
