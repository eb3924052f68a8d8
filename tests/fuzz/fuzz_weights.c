/*
 * fuzz_weights.c — libFuzzer target: any bytes as a .weights file, for the
 * loader every generated model carries (runtime/vx_weights.c, pasted into
 * each output) and for `visec inspect`'s reader of the tensor table
 * (frontend/weights/wfile.c).  Built by `make fuzz`.
 *
 * Each input is tried as it is and again with its CRC-32 field recomputed,
 * so mutations get past the checksum to the checks behind it.  The model's
 * expectations are taken from the header, except the data size, which is
 * the file's own (as for a model compiled for a file of that size: the
 * loader must check the header before it trusts any size in it).
 * Opening must end in VX_OK or an error code, never a crash, a leak or an
 * allocation the file does not justify.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx_crc32.h"
#include "vx_runtime.h"
#include "wfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const unsigned char *b, size_t size, const char *path)
{
    vx_weights_check(b, size, NULL);
    if (size < VX_HEADER_SIZE)
        return;
    vx_header h;
    if (vx_header_decode(b, &h) != VX_OK)
        return;
    vx_expect e = {h.name, h.count, size - VX_HEADER_SIZE, h.layout_hash};
    const unsigned char *img;
    void *owned;
    int err = vx_weights_open(NULL, b, size, &e, &img, &owned);
    if (err == VX_OK)
        vx_free(owned);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(b, 1, size, f);
    fclose(f);
    err = vx_weights_open(path, NULL, 0, &e, &img, &owned);
    if (err == VX_OK)
        vx_free(owned);
    FILE *null = fopen("/dev/null", "w");
    Diag d;
    diag_init(&d, null);
    wfile_free(wfile_read(path, &d));
    fclose(null);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "%s/visec-fuzz-%ld.weights",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    unsigned char *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    exercise(b, size, path);
    if (size >= VX_HEADER_SIZE) {
        uint32_t crc = vx_crc32(0, b + VX_HEADER_SIZE, size - VX_HEADER_SIZE);
        for (int i = 0; i < 4; i++)
            b[40 + i] = (unsigned char)(crc >> (8 * i));
        exercise(b, size, path);
    }
    free(b);
    return 0;
}
