/*
 * digest.c — SHA-256 of buffers and files, for the identity of artifacts
 * (Debian's nettle; generated code never needs it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

#include "ir.h"

static void
to_hex(const uint8_t *dig, char out[SHA256_HEX])
{
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

void
sha256_hex(const void *p, size_t n, char out[SHA256_HEX])
{
    struct sha256_ctx c;
    uint8_t dig[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, n, p);
    sha256_digest(&c, sizeof dig, dig);
    to_hex(dig, out);
}

bool
sha256_file(const char *path, char out[SHA256_HEX], Diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_plain(d, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    struct sha256_ctx c;
    uint8_t buf[1 << 16], dig[SHA256_DIGEST_SIZE];
    size_t n;
    sha256_init(&c);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&c, n, buf);
    bool ok = !ferror(f);
    fclose(f);
    if (!ok) {
        error_plain(d, "%s: read error", path);
        return false;
    }
    sha256_digest(&c, sizeof dig, dig);
    to_hex(dig, out);
    return true;
}
