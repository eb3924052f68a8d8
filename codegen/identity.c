/*
 * identity.c — what every generated artifact says about where it came from.
 *
 * NAME.h and NAME.c open with the visec version, the command line as given,
 * the model description and the checkpoint with their SHA-256, and the
 * digests of the weights written.  NAME.h defines NAME_VISEC_VERSION,
 * NAME_ABI_VERSION and NAME_LAYOUT_HASH and declares NAME_info() (the same
 * facts for a running program) and NAME_weights_crc32() (the CRC-32 of the
 * weights a handle opened, to compare with NAME_info()->weights_crc32 when
 * the caller wants exactly the weights compiled with; open() itself accepts
 * any layout-compatible .weights file).  The .weights file carries a tensor
 * table with every tensor's offset, shape, name and provenance, which
 * `visec inspect` prints.  Everything here depends only on the inputs, so
 * identical inputs give identical files.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "vx_write.h"

/* ---------------------------------------------------------------- the tensor table */

typedef struct Buf {
    unsigned char *p;
    size_t n, cap;
} Buf;

static void
put(Buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void
put_le(Buf *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(b, x, (size_t)bytes);
}

static void
put_str(Buf *b, const char *s)
{
    put_le(b, strlen(s), 4);
    put(b, s, strlen(s));
}

/* Does name occur in s as a whole tensor name (not followed by more of a name)? */
static bool
mentions(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(s, name); p; p = strstr(p + 1, name)) {
        char after = p[n], before = p > s ? p[-1] : ' ';
        if ((after == '\0' || after == ' ' || after == ',' || after == ')' || after == ';') &&
            (before == ' ' || before == '(' || before == '\''))
            return true;
    }
    return false;
}

/* How t came to be: its checkpoint key, or its origin followed by the
 * origins of the computed tensors that origin names, back to checkpoint
 * keys (a few levels: fold, then pack or Winograd). */
static char *
provenance(const Graph *g, const Tensor *t)
{
    if (!t->origin)
        return xprintf("checkpoint tensor '%s'", t->name);
    char *s = xprintf("computed: %s", t->origin);
    for (int level = 0; level < 4; level++) {
        bool grew = false;
        for (int i = 0; i < g->tensors.n; i++) {
            const Tensor *u = g->tensors.v[i];
            if (u == t || !u->origin || !mentions(s, u->name))
                continue;
            char *def = xprintf("%s = ", u->name);
            if (!strstr(s, def)) {
                char *r = xprintf("%s; %s%s", s, def, u->origin);
                free(s);
                s = r;
                grew = true;
            }
            free(def);
        }
        if (!grew)
            break;
    }
    return s;
}

unsigned char *
weights_table(const Graph *g, const PtrVec *order, size_t *size)
{
    Buf b = {0};
    put(&b, VX_TABLE_MAGIC, 8);
    put_le(&b, (uint64_t)order->n, 8);
    for (int i = 0; i < order->n; i++) {
        const Tensor *t = order->v[i];
        put_le(&b, (uint64_t)t->offset, 8);
        put_le(&b, (uint64_t)t->shape.rank, 4);
        for (int k = 0; k < t->shape.rank; k++)
            put_le(&b, (uint64_t)t->shape.dim[k], 8);
        put_str(&b, t->name);
        char *prov = provenance(g, t);
        put_str(&b, prov);
        free(prov);
    }
    static const unsigned char zero[8];
    put(&b, zero, (8 - b.n % 8) % 8);
    *size = b.n;
    return b.p;
}

/* ---------------------------------------------------------------- text */

/* s made safe for a C comment: no star-slash, no control characters. */
static char *
comment_text(const char *s)
{
    char *r = xstrdup(s ? s : "(unknown)");
    for (char *p = r; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
        if (p[0] == '*' && p[1] == '/')
            p[1] = '|';
    }
    return r;
}

/* s as the body of a C string literal (octal escapes for anything odd). */
static char *
c_literal(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *r = xmalloc(4 * n + 1), *q = r;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *q++ = '\\';
            *q++ = (char)*p;
        } else if (*p < 0x20 || *p >= 0x7f || *p == '?') {
            /* '?' too: no trigraphs */
            q += sprintf(q, "\\%03o", *p);
        } else {
            *q++ = (char)*p;
        }
    }
    *q = '\0';
    return r;
}

void
emit_identity_comment(Emitter *e, const CodegenOptions *o, const vx_header *h,
                      const char *weights_sha256)
{
    char *cmd = comment_text(o->command), *mp = comment_text(o->model_path),
         *wp = comment_text(o->weights_path);
    emit(e, " * Generated by visec %s (generated-code ABI %d) with:", VISEC_VERSION, VISEC_ABI_VERSION);
    emit(e, " *   %s", cmd);
    emit(e, " * Model description: %s", mp);
    emit(e, " *   SHA-256 %s", o->model_sha256 ? o->model_sha256 : "(unknown)");
    emit(e, " * Checkpoint: %s", wp);
    emit(e, " *   SHA-256 %s", o->weights_sha256 ? o->weights_sha256 : "(unknown)");
    emit(e, " * Weights (%s): layout hash %016" PRIx64 ", CRC-32 %08" PRIx32 ",",
         o->embed ? "embedded" : "the .weights file written with this code", h->layout_hash, h->crc);
    emit(e, " *   SHA-256 %s", weights_sha256);
    free(cmd);
    free(mp);
    free(wp);
}

void
emit_identity_decls(Emitter *e, const CodegenOptions *o, const char *name, const char *up)
{
    emit(e, "/* What this code is: the visec that generated it and the generated API's version. */");
    emit(e, "#define %s_VISEC_VERSION \"%s\"", up, VISEC_VERSION);
    emit(e, "#define %s_ABI_VERSION %d", up, VISEC_ABI_VERSION);
    emit_blank(e);
    emit(e, "/* Where this code came from (see the comment at the top); %s_info() gives it. */", name);
    emit_open(e, NULL, "struct %s_info", name);
    emit(e, "const char *model;             /* the API prefix (the model name) */");
    emit(e, "const char *visec_version;     /* visec that generated this code */");
    emit(e, "int abi_version;               /* %s_ABI_VERSION */", up);
    emit(e, "const char *layout_hash;       /* 16 hex digits: the .weights files open() accepts */");
    emit(e, "unsigned long weights_crc32;   /* CRC-32 of the weights data compiled with */");
    emit(e, "const char *weights_sha256;    /* SHA-256 of the .weights file (or image) written */");
    emit(e, "const char *model_sha256;      /* SHA-256 of the model description */");
    emit(e, "const char *checkpoint_sha256; /* SHA-256 of the checkpoint */");
    emit(e, "const char *command;           /* the visec command line */");
    emit_end_raw(e, "};");
    emit_blank(e);
    emit(e, "/* The facts above; never NULL. */");
    emit(e, "const struct %s_info *%s_info(void);", name, name);
    emit(e, "/* CRC-32 of the weights data a handle opened: equal to %s_info()->weights_crc32", name);
    emit(e, "   when they are exactly the weights compiled with (open() accepts any file with");
    emit(e, "   the same layout, such as a retrained checkpoint's).  0 for a NULL handle. */");
    char *ht = handle_type(o, name);
    emit(e, "unsigned long %s_weights_crc32(const %s *model);", name, ht);
    free(ht);
}

void
emit_identity_defs(Emitter *e, const char *name, const char *up, const CodegenOptions *o,
                   const vx_header *h, const char *weights_sha256)
{
    char *cmd = c_literal(o->command);
    char *ht = handle_type(o, name);
    char *hash = xprintf("%016" PRIx64, h->layout_hash), *crc = xprintf("0x%08" PRIx32, h->crc);
    const char *vars[] = {"name", name, "UP", up, "handle", ht, "layout_hash", hash, "crc", crc,
                          "weights_sha256", weights_sha256,
                          "model_sha256", o->model_sha256 ? o->model_sha256 : "",
                          "checkpoint_sha256", o->weights_sha256 ? o->weights_sha256 : "",
                          "command", cmd, NULL};
    emit_template(e, "runtime/vx_api.c.in", "info", vars);
    free(hash);
    free(crc);
    free(ht);
    free(cmd);
}
