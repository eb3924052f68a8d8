/*
 * cmd_inspect.c — visec inspect: list the tensors of a checkpoint, or of a
 * .weights file that visec compile wrote.
 *
 * Checkpoint: one header line (file, format, tensor count), then one line
 * per tensor:
 *
 *   NAME  DTYPE[ -> float32]  SHAPE  BYTES  CRC32
 *
 * BYTES is the stored size; CRC32 is the CRC-32 (zlib's) of the tensor's
 * float32 little-endian bytes in C order after conversion (of the stored
 * elements for integer tensors): what `visec check --weights` would bind.
 *
 * .weights file: the header (format version, model name, layout hash,
 * CRC-32, SHA-256 of the file, the tensor table's place), then one line per
 * tensor in file order:
 *
 *   NAME  OFFSET  SHAPE  CRC32  PROVENANCE
 *
 * --json prints the same facts as one JSON object (docs/json.md).
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "visec.h"
#include "wfile.h"

static void
shape_text(int rank, const int64_t *dim, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dim[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

/* A .weights file written by visec compile. */
static int
inspect_weights(const char *path, bool json, Diag *d)
{
    WFile *w = wfile_read(path, d);
    if (!w)
        return 1;
    const vx_header *h = &w->h;
    if (json) {
        printf("{\"schema\": \"visec-inspect-1\", \"kind\": \"weights\", \"file\": ");
        json_str(stdout, path);
        printf(", \"version\": %u, \"model\": ", h->version);
        json_str(stdout, h->name);
        printf(", \"layout_hash\": \"%016llx\", \"crc32\": \"%08x\", \"sha256\": \"%s\", "
               "\"data_size\": %llu, \"table_offset\": %llu, \"table_size\": %llu, \"tensors\": [",
               (unsigned long long)h->layout_hash, h->crc, w->sha256, (unsigned long long)h->data_size,
               (unsigned long long)h->table_offset, (unsigned long long)h->table_size);
        for (int i = 0; i < w->n; i++) {
            const WfTensor *t = &w->t[i];
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_str(stdout, t->name);
            printf(", \"offset\": %lld, \"shape\": ", (long long)t->offset);
            json_shape(stdout, t->rank, t->dim);
            printf(", \"crc32\": \"%08x\", \"provenance\": ", t->crc);
            json_str(stdout, t->provenance);
            printf("}");
        }
        printf("]}\n");
        wfile_free(w);
        return 0;
    }
    printf("%s: visec weights format %u, model %s, %llu tensors, %llu data bytes\n", path, h->version,
           h->name, (unsigned long long)h->count, (unsigned long long)h->data_size);
    printf("layout hash %016llx, CRC-32 %08x (checked), SHA-256 %s\n",
           (unsigned long long)h->layout_hash, h->crc, w->sha256);
    printf("tensor table at offset %llu, %llu bytes\n", (unsigned long long)h->table_offset,
           (unsigned long long)h->table_size);
    int width = 4;
    for (int i = 0; i < w->n; i++)
        if ((int)strlen(w->t[i].name) > width)
            width = (int)strlen(w->t[i].name);
    for (int i = 0; i < w->n; i++) {
        const WfTensor *t = &w->t[i];
        char sh[160];
        shape_text(t->rank, t->dim, sh, sizeof sh);
        printf("%-*s  %12lld  %-20s  %08x  %s\n", width, t->name, (long long)t->offset, sh, t->crc,
               t->provenance);
    }
    wfile_free(w);
    return 0;
}

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec inspect FILE [OPTIONS]\n\n"
            "Lists every tensor of a checkpoint: a PyTorch state dict written by\n"
            "torch.save (zip format or the legacy format) or a safetensors file.\n"
            "Each line gives the name, the stored dtype (and '-> float32' when visec\n"
            "converts it), the shape, the stored size in bytes and the CRC-32 of the\n"
            "tensor as float32 little-endian bytes in C order.\n\n"
            "FILE may also be a .weights file written by visec compile: then the\n"
            "header (model name, layout hash, CRC-32, SHA-256) is checked and\n"
            "printed, and each tensor's offset, shape, CRC-32 and provenance.\n\n"
            "options:\n"
            "  --json            one JSON object instead of text (docs/json.md)\n"
            "  --select KEY      list the state dict nested under KEY\n"
            "  --strip-prefix P  remove P from the keys (default: 'module.' when every\n"
            "                    key starts with it)\n"
            "  --add-prefix P    prepend P to the keys\n"
            "  --help            this text\n");
}

/* The checkpoint listing as JSON. */
static void
print_json(const Checkpoint *c, const uint32_t *crc)
{
    printf("{\"schema\": \"visec-inspect-1\", \"kind\": \"checkpoint\", \"file\": ");
    json_str(stdout, c->path);
    printf(", \"format\": ");
    json_str(stdout, c->format);
    printf(", \"archive\": ");
    c->archive ? json_str(stdout, c->archive) : (void)printf("null");
    printf(", \"selected\": ");
    c->selected ? json_str(stdout, c->selected) : (void)printf("null");
    printf(", \"stripped\": ");
    c->stripped ? json_str(stdout, c->stripped) : (void)printf("null");
    printf(", \"tensors\": [");
    for (int i = 0; i < c->nt; i++) {
        const CkTensor *t = &c->t[i];
        const CkDtypeInfo *di = &ck_dtype[t->dtype];
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_str(stdout, t->name);
        printf(", \"dtype\": \"%s\", \"converted\": %s, \"shape\": ", di->name,
               di->is_float && t->dtype != CK_F32 ? "true" : "false");
        json_shape(stdout, t->rank, t->shape);
        printf(", \"bytes\": %lld, \"crc32\": \"%08x\"}", (long long)(t->numel * di->size), crc[i]);
    }
    printf("]}\n");
}

int
cmd_inspect(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    bool json = false;
    Opt opts[] = {{"--json", .flag = &json}, {0}};
    Args a = {.cmd = "inspect", .takes = TAKES_FILE | TAKES_KEYS, .help = help, .opts = opts};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    const char *path = a.file;
    BindOptions bo = a.bind;
    if (!path) {
        error_plain(&d, "no checkpoint given (usage: visec inspect FILE)");
        return 1;
    }
    if (wfile_is(path)) {
        if (bo.select || bo.strip_prefix || bo.add_prefix) {
            error_plain(&d, "%s is a .weights file: --select, --strip-prefix and --add-prefix apply "
                        "to checkpoints only", path);
            return 1;
        }
        return inspect_weights(path, json, &d);
    }

    CkOptions co = {bo.select, bo.strip_prefix, bo.add_prefix};
    Checkpoint *c = ckpt_open(path, &co, &d);
    if (!c)
        return 1;
    /* Checksums first: a tensor that cannot be read fails before any output. */
    uint32_t *crc = xcalloc((size_t)c->nt + 1, sizeof *crc);
    for (int i = 0; i < c->nt; i++)
        if (!ckpt_crc32(c, &c->t[i], &crc[i], &d))
            break;
    if (d.nerrors) {
        free(crc);
        ckpt_free(c);
        return 1;
    }
    if (json) {
        print_json(c, crc);
        free(crc);
        ckpt_free(c);
        return 0;
    }
    int64_t elems = 0;
    int width = 4;
    bool converted = false;
    for (int i = 0; i < c->nt; i++) {
        const CkTensor *t = &c->t[i];
        elems += t->numel;
        if ((int)strlen(t->name) > width)
            width = (int)strlen(t->name);
        converted |= ck_dtype[t->dtype].is_float && t->dtype != CK_F32;
    }
    printf("%s: %s format", c->path, c->format);
    if (c->archive)
        printf(" (archive '%s')", c->archive);
    printf(", %d tensor%s, %lld elements\n", c->nt, c->nt == 1 ? "" : "s", (long long)elems);
    if (c->selected)
        printf("state dict: under the key '%s'%s\n", c->selected,
               c->select_auto ? " (found automatically; --select to choose)" : "");
    if (c->stripped)
        printf("prefix '%s' removed from the keys%s\n", c->stripped,
               c->strip_auto ? " (every key had it; --strip-prefix '' to keep it)" : "");
    if (converted)
        printf("tensors marked '-> float32' are converted to float32 when bound\n");
    for (int i = 0; i < c->nt; i++) {
        const CkTensor *t = &c->t[i];
        char dt[32], sh[160];
        const CkDtypeInfo *di = &ck_dtype[t->dtype];
        snprintf(dt, sizeof dt, "%s%s", di->name, di->is_float && t->dtype != CK_F32 ? " -> float32" : "");
        printf("%-*s  %-19s %-20s %12lld  %08x\n", width, t->name, dt, ck_shape_str(t, sh, sizeof sh),
               (long long)(t->numel * di->size), crc[i]);
    }
    free(crc);
    ckpt_free(c);
    return 0;
}
