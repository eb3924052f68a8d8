/*
 * load.c — from a model file to a graph, the one way every command does it:
 *
 *   frontend -> graph_verify -> o->check -> schedule file -> bind_weights
 *            -> [placeholders] -> run_pipeline
 *
 * The frontend is chosen from the file here and nowhere else: a frontend for
 * another kind of model is one more line of frontends[].
 */
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "visec.h"

/* The frontends, by the ending of the file name.  A file with none of
 * these endings is read by the first if it is text (a description needs
 * no particular name); a binary one is of no kind visec reads. */
static const struct {
    const char *kind;       /* for messages */
    const char *ext;        /* the file name's ending */
    Graph *(*load)(const char *path, Diag *d, Source **src);
} frontends[] = {
    {"model descriptions", ".vise", frontend_load},
};
#define NFRONTENDS (int)(sizeof frontends / sizeof frontends[0])

static bool
ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && !strcmp(s + n - m, end);
}

/* Does the file start with bytes no text has (a checkpoint, an archive)?
 * false if it cannot be read: the frontend then says why. */
static bool
binary_file(const char *path)
{
    unsigned char head[512];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (head[i] < 0x20 && !strchr("\t\n\v\f\r", head[i]))
            return true;
    return false;
}

/* The frontend for the file at path; -1 (reported) if there is none. */
static int
pick_frontend(const char *path, Diag *d)
{
    for (int i = 0; i < NFRONTENDS; i++)
        if (ends_with(path, frontends[i].ext))
            return i;
    if (!binary_file(path))
        return 0;
    char *kinds = xstrdup("");
    for (int i = 0; i < NFRONTENDS; i++) {
        char *t = xprintf("%s%s%s %s", kinds, i ? ", " : "", frontends[i].ext, frontends[i].kind);
        free(kinds);
        kinds = t;
    }
    error_plain(d, "'%s' is not a model visec reads (%s); a checkpoint goes with --weights FILE", path,
                kinds);
    free(kinds);
    return -1;
}

/* Placeholder values for unbound tensors, so passes can run. */
static void
placeholder_weights(Graph *g)
{
    for (int i = 0; i < g->tensors.n; i++) {
        Tensor *t = g->tensors.v[i];
        if (t->data)
            continue;
        int64_t n = shape_numel(t->shape, 1);
        t->data = xmalloc(sizeof *t->data * (size_t)(n ? n : 1));
        for (int64_t k = 0; k < n; k++)
            t->data[k] = 1.0f;
    }
}

Graph *
load_model(const char *path, const LoadOptions *o, Diag *d, Source **src)
{
    *src = NULL;
    int k = pick_frontend(path, d);
    Graph *g = k < 0 ? NULL : frontends[k].load(path, d, src);
    if (!g)
        return NULL;
    graph_verify(g, "frontend");
    const BindOptions *bo = o->bind && o->bind->weights ? o->bind : NULL;
    bool ok = (!o->check || o->check(g, o->check_arg, d)) &&
              (!o->pipeline || pipeline_prepare(o->pipeline, d)) &&
              (!bo || bind_weights_report(g, bo, o->report, d));
    if (ok && !bo && o->placeholders)
        placeholder_weights(g);
    if (ok && o->pipeline)
        ok = run_pipeline(g, o->pipeline);     /* false: schedule-file errors */
    if (!ok) {
        graph_free(g);
        return NULL;
    }
    return g;
}
