/*
 * shards.h — the output directory of a list run (embed --list ... --out-dir
 * DIR), shared by embed, which writes it, and examples/search, which reads it.
 *
 *   DIR/embeddings-SSSSS.npy   (n, 2048) float32: the images of shard S
 *                              that decoded, in list order
 *   DIR/features-SSSSS.npy     (n, 2048, 7, 7), with --features only
 *   DIR/shard-SSSSS.tsv        the shard's record, written last: its
 *                              manifest rows and the size and CRC-32 of each
 *                              .npy file; a shard is complete when its
 *                              record exists and agrees with the files
 *   DIR/manifest.tsv           "shard\trow\tpath\tstatus", then one line per
 *                              list entry, in list order
 *
 * Shard S holds list entries [S*N, (S+1)*N) for shard size N.  A record:
 *
 *   # embed shard 3
 *   # shard-size 8
 *   # entries 8
 *   # ok 7
 *   # list-crc32 1c291ca3
 *   # embeddings embeddings-00003.npy 57472 5b9a81f2
 *   # features none                       (or: features NAME BYTES CRC)
 *   3	0	a.png	ok
 *   -	-	b.png	error: cannot decode: ...
 *   ...
 *
 * Paths and messages are escaped in the TSV files: a backslash, tab,
 * carriage return or newline is written as \\, \t, \r or \n.
 */
#ifndef EMBED_SHARDS_H
#define EMBED_SHARDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SHARD_MANIFEST "manifest.tsv"
#define SHARD_MANIFEST_HEADER "shard\trow\tpath\tstatus\n"

/* What a shard record says (shard_record_read). */
typedef struct {
    long shard;                    /* S */
    long shard_size;               /* N of the run that wrote it */
    long entries;                  /* list entries in the shard */
    long ok;                       /* rows in the .npy files */
    uint32_t list_crc;             /* CRC-32 of the shard's entries, see shard_list_crc */
    long long emb_bytes;           /* size and CRC-32 of embeddings-S.npy */
    uint32_t emb_crc;
    int has_features;              /* features-S.npy was written */
    long long feat_bytes;
    uint32_t feat_crc;
    char *rows;                    /* the manifest rows, "\n"-terminated (malloc) */
    size_t rows_len;
} ShardRecord;

/* CRC-32 (IEEE, as zlib computes it) of n bytes, continuing from crc (0 to start). */
uint32_t shard_crc32(uint32_t crc, const void *p, size_t n);

/* CRC-32 of the entries of a shard: each path followed by a newline. */
uint32_t shard_list_crc(uint32_t crc, const char *path);

/* Size and CRC-32 of a file.  0, or -1 with err set. */
int shard_file_crc(const char *path, long long *bytes, uint32_t *crc, char *err, size_t errlen);

/* DIR/KIND-SSSSS.EXT, e.g. shard_path(b, n, "out", "embeddings", 3, "npy"). */
void shard_path(char *buf, size_t len, const char *dir, const char *kind, long shard,
                const char *ext);

/* Writes s to f with \\, \t, \r and \n escaped. */
void shard_put_escaped(FILE *f, const char *s);

/* Undoes shard_put_escaped in place. */
void shard_unescape(char *s);

/* Writes rec (with rows) to path via path.tmp and rename.  0, or -1 with err set. */
int shard_record_write(const char *path, const ShardRecord *rec, char *err, size_t errlen);

/*
 * Reads the record at path into rec (rec->rows malloc'd; shard_record_free).
 * 0; 1 when the file does not exist; -1 with err set when it is malformed.
 */
int shard_record_read(const char *path, ShardRecord *rec, char *err, size_t errlen);

void shard_record_free(ShardRecord *rec);

/*
 * Checks that the files a record names exist under dir with the recorded
 * sizes and CRCs.  0, or -1 with the first disagreement in err.
 */
int shard_record_check_files(const char *dir, const ShardRecord *rec, char *err, size_t errlen);

/* The embedding: each channel's mean over its hw positions, for n images of c channels. */
void shard_mean_pool(const float *feat, size_t n, size_t c, size_t hw, float *emb);

#endif
