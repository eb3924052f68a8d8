/*
 * fuzz_checkpoint.c — libFuzzer target: any bytes as a checkpoint file
 * (PyTorch zip or legacy, safetensors).  Opening it and reading every
 * tensor must end in success or a reported error, never a crash, a hang or
 * an allocation the file does not justify.  Built by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/visec-fuzz-%ld.ckpt", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    FILE *null = fopen("/dev/null", "w");
    Diag d;
    diag_init(&d, null);
    CkOptions o = {0};
    Checkpoint *c = ckpt_open(path, &o, &d);
    if (c) {
        for (int i = 0; i < c->nt; i++) {
            uint32_t crc;
            ckpt_crc32(c, &c->t[i], &crc, &d);
        }
        ckpt_free(c);
    }
    fclose(null);
    return 0;
}
