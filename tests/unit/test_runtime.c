/*
 * test_runtime.c — the runtime generated code carries: aligned memory,
 * error messages, and the .weights format (header round trip, every
 * corruption detected with its own error code, file and embedded loading).
 */
#include <stdint.h>
#include <unistd.h>

#include "testutil.h"

#include "vx_crc32.h"
#include "vx_runtime.h"
#include "vx_write.h"

/* ------------------------------------------------------------------ alloc */

START_TEST(alloc_aligned)
{
    for (size_t n = 1; n < 5000; n = n * 3 + 1) {
        unsigned char *p = vx_alloc(n);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % VX_ALIGN, 0);
        memset(p, 0xab, n);     /* the whole block is usable (ASan checks) */
        vx_free(p);
    }
    ck_assert_ptr_null(vx_alloc(0));
    ck_assert_ptr_null(vx_alloc(SIZE_MAX));
    ck_assert_ptr_null(vx_alloc(SIZE_MAX - 10));
    vx_free(NULL);
}
END_TEST

START_TEST(strerror_distinct)
{
    for (int a = VX_ERR_LAST; a <= 0; a++) {
        ck_assert_str_ne(vx_strerror(a), "unknown error");
        for (int b = VX_ERR_LAST; b < a; b++)
            ck_assert_str_ne(vx_strerror(a), vx_strerror(b));
    }
    ck_assert_str_eq(vx_strerror(1), "unknown error");
    ck_assert_str_eq(vx_strerror(VX_ERR_LAST - 1), "unknown error");
}
END_TEST

/* ------------------------------------------------------------------ format */

START_TEST(hash_fnv1a)
{
    ck_assert_uint_eq(vx_hash_bytes(VX_HASH_INIT, "", 0), UINT64_C(0xcbf29ce484222325));
    ck_assert_uint_eq(vx_hash_bytes(VX_HASH_INIT, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
    ck_assert_uint_eq(vx_hash_str(VX_HASH_INIT, "a"), vx_hash_bytes(VX_HASH_INIT, "a", 2));
    ck_assert_uint_ne(vx_hash_u64(VX_HASH_INIT, 1), vx_hash_u64(VX_HASH_INIT, 256));
}
END_TEST

START_TEST(header_round_trip)
{
    vx_header h = {VX_WEIGHTS_VERSION, VX_HEADER_SIZE, 318, UINT64_C(94000000),
                   UINT64_C(0x0123456789abcdef), 0xdeadbeefu, "vise_resnet50",
                   UINT64_C(93999000), 1000}, r;
    unsigned char b[VX_HEADER_SIZE];
    vx_header_encode(b, &h);
    ck_assert_mem_eq(b, "VISEWTS\0", 8);
    ck_assert_int_eq(b[8], 2);          /* little-endian version */
    ck_assert_int_eq(b[40], 0xef);      /* little-endian CRC */
    ck_assert_int_eq(vx_header_decode(b, &r), VX_OK);
    ck_assert_uint_eq(r.version, h.version);
    ck_assert_uint_eq(r.header_size, h.header_size);
    ck_assert_uint_eq(r.count, h.count);
    ck_assert_uint_eq(r.data_size, h.data_size);
    ck_assert_uint_eq(r.layout_hash, h.layout_hash);
    ck_assert_uint_eq(r.crc, h.crc);
    ck_assert_str_eq(r.name, h.name);
    ck_assert_uint_eq(r.table_offset, h.table_offset);
    ck_assert_uint_eq(r.table_size, h.table_size);
}
END_TEST

/* A valid image: header + data_size bytes of data, for model "m". */
#define DATA 256
static const vx_expect expect = {"tiny_model", 3, DATA, UINT64_C(0x1122334455667788)};

static unsigned char *
make_image(size_t *size)
{
    *size = VX_HEADER_SIZE + DATA;
    unsigned char *b = calloc(*size, 1);
    for (int i = 0; i < DATA; i++)
        b[VX_HEADER_SIZE + i] = (unsigned char)(i * 7 + 1);
    /* The smallest tensor table ends the data: magic and count. */
    memcpy(b + VX_HEADER_SIZE + DATA - 16, VX_TABLE_MAGIC, 8);
    memset(b + VX_HEADER_SIZE + DATA - 8, 0, 8);
    b[VX_HEADER_SIZE + DATA - 8] = (unsigned char)expect.count;
    vx_header h = {VX_WEIGHTS_VERSION, VX_HEADER_SIZE, expect.count, expect.data_size,
                   expect.layout_hash, vx_crc32(0, b + VX_HEADER_SIZE, DATA), "tiny_model",
                   VX_HEADER_SIZE + DATA - 16, 16};
    vx_header_encode(b, &h);
    return b;
}

/* Re-encodes the CRC after an edit of the data. */
static void
fix_crc(unsigned char *b)
{
    vx_header h;
    vx_header_decode(b, &h);
    h.crc = vx_crc32(0, b + VX_HEADER_SIZE, (size_t)h.data_size);
    vx_header_encode(b, &h);
}

/* The error code of checking an image changed by `edit`. */
static int
check_edited(void (*edit)(unsigned char *b, size_t *size))
{
    size_t size;
    unsigned char *b = make_image(&size);
    b = realloc(b, size + 1);
    b[size] = 0;
    edit(b, &size);
    int err = vx_weights_check(b, size, &expect);
    free(b);
    return err;
}

static void
e_none(unsigned char *b, size_t *size)
{
    (void)b, (void)size;
}
static void
e_truncate(unsigned char *b, size_t *size)
{
    (void)b;
    *size -= 1;
}
static void
e_trailing(unsigned char *b, size_t *size)
{
    (void)b;
    *size += 1;
}
static void
e_header_only(unsigned char *b, size_t *size)
{
    (void)b;
    *size = VX_HEADER_SIZE - 1;
}
static void
e_flip_data(unsigned char *b, size_t *size)
{
    b[*size - 7] ^= 0x10;
}
static void
e_magic(unsigned char *b, size_t *size)
{
    (void)size;
    b[0] = 'X';
}
static void
e_version(unsigned char *b, size_t *size)
{
    (void)size;
    b[8] = 1;           /* version 1: no tensor table */
}
static void
e_name(unsigned char *b, size_t *size)
{
    (void)size;
    memcpy(b + 48, "tiny_modem", 10);
}
static void
e_name_longer(unsigned char *b, size_t *size)
{
    (void)size;
    b[48 + 10] = 'x';
}
static void
e_count(unsigned char *b, size_t *size)
{
    (void)size;
    b[16] = 4;
}
static void
e_data_size(unsigned char *b, size_t *size)
{
    (void)size;
    b[24] = 0;
    b[25] = 2;      /* 512 */
}
static void
e_hash(unsigned char *b, size_t *size)
{
    (void)size;
    b[32] ^= 1;
}
static void
e_crc_field(unsigned char *b, size_t *size)
{
    (void)size;
    b[43] ^= 0x80;
}

static void
e_table_misaligned(unsigned char *b, size_t *size)
{
    (void)size;
    b[112] += 4;
}
static void
e_table_not_last(unsigned char *b, size_t *size)
{
    (void)size;
    b[112] -= 8;
}
static void
e_table_small(unsigned char *b, size_t *size)
{
    (void)size;
    b[112] += 8;
    b[120] = 8;
}
static void
e_table_magic(unsigned char *b, size_t *size)
{
    b[*size - 16] = 'W';
    fix_crc(b);
}
static void
e_table_count(unsigned char *b, size_t *size)
{
    b[*size - 8] ^= 1;
    fix_crc(b);
}

START_TEST(check_detects_each_corruption)
{
    ck_assert_int_eq(check_edited(e_none), VX_OK);
    ck_assert_int_eq(check_edited(e_truncate), VX_ERR_TRUNCATED);
    ck_assert_int_eq(check_edited(e_trailing), VX_ERR_TRUNCATED);
    ck_assert_int_eq(check_edited(e_header_only), VX_ERR_TRUNCATED);
    ck_assert_int_eq(check_edited(e_flip_data), VX_ERR_CRC);
    ck_assert_int_eq(check_edited(e_crc_field), VX_ERR_CRC);
    ck_assert_int_eq(check_edited(e_magic), VX_ERR_MAGIC);
    ck_assert_int_eq(check_edited(e_version), VX_ERR_VERSION);
    ck_assert_int_eq(check_edited(e_name), VX_ERR_MODEL);
    ck_assert_int_eq(check_edited(e_name_longer), VX_ERR_MODEL);
    ck_assert_int_eq(check_edited(e_count), VX_ERR_SIZE);
    ck_assert_int_eq(check_edited(e_data_size), VX_ERR_SIZE);
    ck_assert_int_eq(check_edited(e_hash), VX_ERR_LAYOUT);
    ck_assert_int_eq(check_edited(e_table_misaligned), VX_ERR_TABLE);
    ck_assert_int_eq(check_edited(e_table_not_last), VX_ERR_TABLE);
    ck_assert_int_eq(check_edited(e_table_small), VX_ERR_TABLE);
    ck_assert_int_eq(check_edited(e_table_magic), VX_ERR_TABLE);
    ck_assert_int_eq(check_edited(e_table_count), VX_ERR_TABLE);
}
END_TEST

/* Writes n bytes of b to a new temporary file; returns its malloc'd path. */
static char *
temp_file(const unsigned char *b, size_t n)
{
    char *path = strdup("/tmp/test_runtime_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    close(fd);
    return path;
}

static int
open_file(const unsigned char *b, size_t n)
{
    char *path = temp_file(b, n);
    const unsigned char *img;
    void *owned;
    int err = vx_weights_open(path, NULL, 0, &expect, &img, &owned);
    if (err == VX_OK) {
        ck_assert_ptr_nonnull(owned);
        ck_assert_uint_eq((uintptr_t)img % VX_ALIGN, 0);
        ck_assert_mem_eq(img, b, n);
        vx_free(owned);
    } else {
        ck_assert_ptr_null(img);
        ck_assert_ptr_null(owned);
    }
    unlink(path);
    free(path);
    return err;
}

START_TEST(open_file_checks)
{
    size_t size;
    unsigned char *b = make_image(&size);
    ck_assert_int_eq(open_file(b, size), VX_OK);
    ck_assert_int_eq(open_file(b, size - 1), VX_ERR_TRUNCATED);
    ck_assert_int_eq(open_file(b, 100), VX_ERR_TRUNCATED);
    ck_assert_int_eq(open_file(b, 0), VX_ERR_TRUNCATED);
    b = realloc(b, size + 1);
    b[size] = 0;
    ck_assert_int_eq(open_file(b, size + 1), VX_ERR_TRUNCATED);
    b[size - 1] ^= 1;
    ck_assert_int_eq(open_file(b, size), VX_ERR_CRC);
    b[size - 1] ^= 1;
    b[50] = 'X';
    ck_assert_int_eq(open_file(b, size), VX_ERR_MODEL);
    free(b);

    const unsigned char *img;
    void *owned;
    ck_assert_int_eq(vx_weights_open("/nonexistent/dir/x.weights", NULL, 0, &expect, &img, &owned),
                     VX_ERR_OPEN);
    ck_assert_int_eq(vx_weights_open(NULL, NULL, 0, &expect, &img, &owned), VX_ERR_ARG);
    ck_assert_int_eq(vx_weights_open("x", NULL, 0, NULL, &img, &owned), VX_ERR_ARG);
}
END_TEST

START_TEST(open_embedded)
{
    size_t size;
    unsigned char *b = make_image(&size);
    const unsigned char *img;
    void *owned;
    ck_assert_int_eq(vx_weights_open(NULL, b, size, &expect, &img, &owned), VX_OK);
    ck_assert_ptr_eq(img, b);           /* little-endian host: used in place */
    ck_assert_ptr_null(owned);
    ck_assert_int_eq(vx_weights_open("w.weights", b, size, &expect, &img, &owned), VX_ERR_EMBEDDED);
    b[size - 1] ^= 1;
    ck_assert_int_eq(vx_weights_open(NULL, b, size, &expect, &img, &owned), VX_ERR_CRC);
    free(b);
}
END_TEST

Suite *suite_runtime(void)
{
    return suite_of("runtime", tcase_of("runtime", 0, TESTS(alloc_aligned, strerror_distinct,
                                        hash_fnv1a, header_round_trip,
                                        check_detects_each_corruption, open_file_checks,
                                        open_embedded)));
}
