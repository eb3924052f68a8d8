/*
 * shards.c — shard names, shard records, checksums and the embedding
 * (see shards.h).
 */
#include "shards.h"
#include "set_err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t
shard_crc32(uint32_t crc, const void *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    const unsigned char *b = p;

    /* the table is built on first use: a program with threads calls this
       once before it starts them */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t
shard_list_crc(uint32_t crc, const char *path)
{
    crc = shard_crc32(crc, path, strlen(path));
    return shard_crc32(crc, "\n", 1);
}

int
shard_file_crc(const char *path, long long *bytes, uint32_t *crc, char *err, size_t errlen)
{
    enum { BUFSIZE = 1 << 16 };
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    size_t n;

    *bytes = 0;
    *crc = 0;
    if (!f) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(BUFSIZE);
    if (!buf) {
        set_err(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }
    while ((n = fread(buf, 1, BUFSIZE, f)) > 0) {
        *crc = shard_crc32(*crc, buf, n);
        *bytes += (long long)n;
    }
    free(buf);
    if (ferror(f)) {
        set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

void
shard_path(char *buf, size_t len, const char *dir, const char *kind, long shard, const char *ext)
{
    snprintf(buf, len, "%s/%s-%05ld.%s", dir, kind, shard, ext);
}

void
shard_put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\\\", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        case '\n': fputs("\\n", f); break;
        default: fputc(*s, f);
        }
    }
}

void
shard_unescape(char *s)
{
    char *d = s;

    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *d++ = *s == 't' ? '\t' : *s == 'r' ? '\r' : *s == 'n' ? '\n' : *s;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
}

/* The file name part of a path. */
static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int
shard_record_write(const char *path, const ShardRecord *rec, char *err, size_t errlen)
{
    char tmp[4096], name[64];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) {
        set_err(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# embed shard %ld\n# shard-size %ld\n# entries %ld\n# ok %ld\n", rec->shard,
            rec->shard_size, rec->entries, rec->ok);
    fprintf(f, "# list-crc32 %08lx\n", (unsigned long)rec->list_crc);
    shard_path(name, sizeof name, ".", "embeddings", rec->shard, "npy");
    fprintf(f, "# embeddings %s %lld %08lx\n", base_name(name), rec->emb_bytes,
            (unsigned long)rec->emb_crc);
    if (rec->has_features) {
        shard_path(name, sizeof name, ".", "features", rec->shard, "npy");
        fprintf(f, "# features %s %lld %08lx\n", base_name(name), rec->feat_bytes,
                (unsigned long)rec->feat_crc);
    } else {
        fprintf(f, "# features none\n");
    }
    fwrite(rec->rows, 1, rec->rows_len, f);
    if (ferror(f) | fclose(f)) {
        set_err(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Reads the whole file; NULL with errno set on failure. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;

    if (!f)
        return NULL;
    do {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        errno = EIO;
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

int
shard_record_read(const char *path, ShardRecord *rec, char *err, size_t errlen)
{
    size_t len;
    char *text, *p, name[64], ename[64], fname[64];
    unsigned long lcrc, ecrc, fcrc = 0;
    int consumed = 0, nf;

    memset(rec, 0, sizeof *rec);
    text = slurp(path, &len);
    if (!text) {
        if (errno == ENOENT)
            return 1;
        set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    if (sscanf(text,
               "# embed shard %ld\n# shard-size %ld\n# entries %ld\n# ok %ld\n"
               "# list-crc32 %8lx\n# embeddings %63s %lld %8lx\n%n",
               &rec->shard, &rec->shard_size, &rec->entries, &rec->ok, &lcrc, ename,
               &rec->emb_bytes, &ecrc, &consumed) != 8 || consumed == 0)
        goto bad;
    p = text + consumed;
    if (!strncmp(p, "# features none\n", 16)) {
        p += 16;
    } else {
        consumed = 0;
        nf = sscanf(p, "# features %63s %lld %8lx\n%n", fname, &rec->feat_bytes, &fcrc, &consumed);
        if (nf != 3 || consumed == 0)
            goto bad;
        p += consumed;
        rec->has_features = 1;
        shard_path(name, sizeof name, ".", "features", rec->shard, "npy");
        if (strcmp(fname, base_name(name)) != 0)
            goto bad;
    }
    shard_path(name, sizeof name, ".", "embeddings", rec->shard, "npy");
    if (strcmp(ename, base_name(name)) != 0 || rec->ok < 0 || rec->ok > rec->entries)
        goto bad;
    rec->list_crc = (uint32_t)lcrc;
    rec->emb_crc = (uint32_t)ecrc;
    rec->feat_crc = (uint32_t)fcrc;
    rec->rows_len = len - (size_t)(p - text);
    memmove(text, p, rec->rows_len + 1);
    rec->rows = text;
    /* one line per entry */
    {
        long lines = 0;

        for (size_t i = 0; i < rec->rows_len; i++)
            lines += text[i] == '\n';
        if (lines != rec->entries || (rec->rows_len && text[rec->rows_len - 1] != '\n'))
            goto bad;
    }
    return 0;
bad:
    free(text);
    memset(rec, 0, sizeof *rec);
    set_err(err, errlen, "%s: not a shard record written by embed", path);
    return -1;
}

void
shard_record_free(ShardRecord *rec)
{
    free(rec->rows);
    rec->rows = NULL;
}

/* Compares one file with its recorded size and CRC. */
static int
check_file(const char *dir, const char *kind, long shard, long long bytes, uint32_t crc,
           char *err, size_t errlen)
{
    char path[4096];
    long long b;
    uint32_t c;

    shard_path(path, sizeof path, dir, kind, shard, "npy");
    if (shard_file_crc(path, &b, &c, err, errlen) != 0)
        return -1;
    if (b != bytes || c != crc) {
        set_err(err, errlen, "%s: %lld bytes with CRC-32 %08lx, its record says %lld bytes, "
                "%08lx", path, b, (unsigned long)c, bytes, (unsigned long)crc);
        return -1;
    }
    return 0;
}

int
shard_record_check_files(const char *dir, const ShardRecord *rec, char *err, size_t errlen)
{
    if (check_file(dir, "embeddings", rec->shard, rec->emb_bytes, rec->emb_crc, err, errlen) != 0)
        return -1;
    if (rec->has_features &&
        check_file(dir, "features", rec->shard, rec->feat_bytes, rec->feat_crc, err, errlen) != 0)
        return -1;
    return 0;
}

void
shard_mean_pool(const float *feat, size_t n, size_t c, size_t hw, float *emb)
{
    for (size_t i = 0; i < n * c; i++) {
        double s = 0.0;

        for (size_t p = 0; p < hw; p++)
            s += feat[i * hw + p];
        emb[i] = (float)(s / (double)hw);
    }
}
