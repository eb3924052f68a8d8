/*
 * cmd_inspect.c — visec inspect: list the tensors of a checkpoint.
 *
 * One header line (file, format, tensor count), then one line per tensor:
 *
 *   NAME  DTYPE[ -> float32]  SHAPE  BYTES  CRC32
 *
 * BYTES is the stored size; CRC32 is the CRC-32 (zlib's) of the tensor's
 * float32 little-endian bytes in C order after conversion (of the stored
 * elements for integer tensors): what `visec check --weights` would bind.
 */
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "checkpoint.h"
#include "visec.h"

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
            "options:\n"
            "  --select KEY      list the state dict nested under KEY\n"
            "  --strip-prefix P  remove P from the keys (default: 'module.' when every\n"
            "                    key starts with it)\n"
            "  --add-prefix P    prepend P to the keys\n"
            "  --help            this text\n");
}

int
cmd_inspect(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    const char *path = NULL;
    BindOptions bo = {0};
    for (int i = 0; i < argc; i++) {
        int r;
        if (opt_flag(argv, i, "--help") || opt_flag(argv, i, "-h")) {
            help(stdout);
            return 0;
        } else if (!strncmp(argv[i], "--weights", 9) || opt_flag(argv, i, "--strict")) {
            opt_unknown(&d, "inspect", argv[i]);
        } else if ((r = bind_option(argc, argv, &i, &bo, &d))) {
            if (r < 0)
                break;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            opt_unknown(&d, "inspect", argv[i]);
        }
    }
    if (!path && !d.nerrors)
        error_plain(&d, "no checkpoint given (usage: visec inspect FILE)");
    if (d.nerrors)
        return 1;

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
