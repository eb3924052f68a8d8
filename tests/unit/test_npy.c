/*
 * test_npy.c — .npy round trips and the refusal of every malformed file.
 */
#include <dirent.h>
#include <unistd.h>

#include "npy.h"
#include "testutil.h"

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/visec-npy-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the directory and whatever the test left in it. */
static void
teardown(void)
{
    DIR *dd = opendir(dir);
    struct dirent *e;
    while (dd && (e = readdir(dd))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xprintf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (dd)
        closedir(dd);
    rmdir(dir);
}

static int
count_files(void)
{
    DIR *dd = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dd)))
        if (e->d_name[0] != '.')
            n++;
    closedir(dd);
    return n;
}

static char *
path(const char *name)
{
    return xprintf("%s/%s", dir, name);
}

/* Writes a version-1 file with header text hdr (padded as numpy does) and
 * nbytes of data bytes; returns the malloc'd path. */
static char *
write_raw(const char *name, int major, const char *hdr, size_t nbytes)
{
    char *p = path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    size_t len = strlen(hdr);
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(major, f);
    fputc(0, f);
    if (major == 1) {
        fputc((int)(len & 0xff), f);
        fputc((int)(len >> 8), f);
    } else {
        for (int i = 0; i < 4; i++)
            fputc((int)((len >> (8 * i)) & 0xff), f);
    }
    fwrite(hdr, 1, len, f);
    for (size_t i = 0; i < nbytes; i++)
        fputc(0, f);
    fclose(f);
    return p;
}

/* Reads p and expects failure with a message containing msg. */
static void
expect_error(char *p, const char *msg)
{
    TestDiag td;
    td_init(&td);
    Shape s;
    float *x = npy_read(p, &s, &td.d);
    ck_assert_ptr_null(x);
    ck_assert_int_eq(td.d.nerrors, 1);
    ck_assert_msg(strstr(td_text(&td), msg) != NULL, "message '%s' lacks '%s'", td_text(&td), msg);
    td_free(&td);
    free(p);
}

static void
round_trip(Shape s)
{
    TestDiag td;
    td_init(&td);
    int64_t n = shape_numel(s, 1);
    float *x = xmalloc((size_t)(n ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i * 0.25f - 3;
    char *p = path("rt.npy");
    ck_assert(npy_write(p, x, s, &td.d));
    ck_assert_int_eq(count_files(), 1);     /* no temporary left behind */

    /* numpy's layout: the data starts on a 64-byte boundary after the header */
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ck_assert_int_eq((size - n * 4) % 64, 0);

    Shape got;
    float *y = npy_read(p, &got, &td.d);
    ck_assert_ptr_nonnull(y);
    ck_assert(shape_eq(got, s));
    ck_assert(n == 0 || memcmp(x, y, (size_t)n * 4) == 0);
    ck_assert_int_eq(td.d.nerrors, 0);
    free(x);
    free(y);
    free(p);
    td_free(&td);
}

START_TEST(round_trips)
{
    round_trip(shape4(3, 2, 5, 7));
    round_trip((Shape){2, {4, 2048}});
    round_trip((Shape){1, {5}});
    round_trip((Shape){0, {0}});
    round_trip((Shape){2, {0, 3}});
}
END_TEST

START_TEST(header_text)
{
    /* Byte for byte what numpy.save writes for a (2, 3) float32 array. */
    TestDiag td;
    td_init(&td);
    float x[6] = {0};
    char *p = path("h.npy");
    ck_assert(npy_write(p, x, (Shape){2, {2, 3}}, &td.d));
    char buf[128];
    FILE *f = fopen(p, "rb");
    ck_assert_int_eq(fread(buf, 1, 128, f), 128);
    fclose(f);
    const char want[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    ck_assert_int_eq(memcmp(buf, want, sizeof want - 1), 0);
    ck_assert_int_eq(buf[127], '\n');
    ck_assert_int_eq(buf[126], ' ');
    free(p);
    td_free(&td);
}
END_TEST

START_TEST(version2_and_spacing)
{
    /* Version 2 header, double quotes, no trailing comma, odd spacing. */
    char *p = write_raw("v2.npy", 2, "{ \"shape\":(2,),\"fortran_order\" : False ,'descr':'<f4'}\n", 8);
    TestDiag td;
    td_init(&td);
    Shape s;
    float *x = npy_read(p, &s, &td.d);
    ck_assert_msg(x != NULL, "%s", td_text(&td));
    ck_assert_int_eq(s.rank, 1);
    ck_assert_int_eq(s.dim[0], 2);
    ck_assert(x[0] == 0 && x[1] == 0);
    free(x);
    free(p);
    td_free(&td);
}
END_TEST

#define HDR(descr, order, shape) \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }\n"

START_TEST(bad_dtype)
{
    expect_error(write_raw("f8.npy", 1, HDR("<f8", "False", "(2,)"), 16),
                 "dtype '<f8' is not float32 ('<f4'); save it with x.astype(numpy.float32)");
    expect_error(write_raw("be.npy", 1, HDR(">f4", "False", "(2,)"), 8),
                 "big-endian float32 ('>f4') is not supported");
    expect_error(write_raw("obj.npy", 1, HDR("|O", "False", "(2,)"), 16), "dtype '|O' is not float32");
}
END_TEST

START_TEST(fortran_order)
{
    expect_error(write_raw("f.npy", 1, HDR("<f4", "True", "(2, 2)"), 16),
                 "Fortran-order arrays are not supported");
}
END_TEST

START_TEST(size_mismatch)
{
    expect_error(write_raw("t.npy", 1, HDR("<f4", "False", "(2, 3)"), 20),
                 "truncated: shape [2, 3] needs 24 bytes of float32 data, the file has 20");
    expect_error(write_raw("x.npy", 1, HDR("<f4", "False", "(2, 3)"), 28),
                 "trailing bytes: shape [2, 3] needs 24 bytes of float32 data, the file has 28");
    /* 4 TB declared by a tiny file: refused before any allocation */
    expect_error(write_raw("huge.npy", 1, HDR("<f4", "False", "(1000000, 1000000)"), 16),
                 "truncated: shape [1000000, 1000000] needs 4000000000000 bytes");
    expect_error(write_raw("ovf.npy", 1, HDR("<f4", "False", "(1099511627776, 1099511627776)"), 0),
                 "array of shape too large");
    expect_error(write_raw("big.npy", 1, HDR("<f4", "False", "(99999999999999999999,)"), 0),
                 "'shape' must be a tuple of non-negative integers");
}
END_TEST

START_TEST(bad_headers)
{
    expect_error(write_raw("k.npy", 1, "{'descr': '<f4', 'shape': (2,), }\n", 8), "no 'fortran_order' key");
    expect_error(write_raw("u.npy", 1, HDR("<f4", "False", "(2,)") "x", 8), "text after the dictionary");
    expect_error(write_raw("n.npy", 1, HDR("<f4", "False", "(-2,)"), 8), "non-negative integers");
    expect_error(write_raw("i.npy", 1, HDR("<f4", "False", "(2)"), 8), "'shape' must be a tuple");
    expect_error(write_raw("r.npy", 1, HDR("<f4", "False", "(1, 1, 1, 1, 1)"), 4),
                 "more than 4 dimensions");
    expect_error(write_raw("o.npy", 1, HDR("<f4", "maybe", "(2,)"), 8), "must be True or False");
    expect_error(write_raw("d.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8),
                 "repeated key 'descr'");
    expect_error(write_raw("e.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8),
                 "unknown key 'x'");
    expect_error(write_raw("s.npy", 1, "{'descr: '<f4'}", 0), "malformed .npy header");
    expect_error(write_raw("v.npy", 9, HDR("<f4", "False", "(2,)"), 8), "unsupported .npy format version 9.0");
}
END_TEST

START_TEST(bad_files)
{
    /* not an npy file, an empty file, a header longer than the file */
    char *p = path("text.npy");
    FILE *f = fopen(p, "w");
    fputs("hello, world\n", f);
    fclose(f);
    expect_error(p, "not a .npy file");
    p = path("empty.npy");
    fclose(fopen(p, "w"));
    expect_error(p, "not a .npy file");
    p = path("short.npy");
    f = fopen(p, "wb");
    fwrite("\x93NUMPY\x01\x00\xff\x00{'descr'", 1, 18, f);
    fclose(f);
    expect_error(p, "truncated .npy header (255 bytes declared, file has 18)");
    p = path("long.npy");
    f = fopen(p, "wb");
    fwrite("\x93NUMPY\x02\x00\x00\x00\x00\x01", 1, 12, f);
    fclose(f);
    expect_error(p, "header of 16777216 bytes is too long");
    expect_error(path("missing.npy"), "cannot open");
    expect_error(xstrdup(dir), "not a regular file");
}
END_TEST

START_TEST(write_failure_leaves_nothing)
{
    TestDiag td;
    td_init(&td);
    float x[1] = {1};
    char *p = path("nodir/y.npy");
    ck_assert(!npy_write(p, x, (Shape){1, {1}}, &td.d));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "cannot create"));
    ck_assert_int_eq(count_files(), 0);
    free(p);
    td_free(&td);
}
END_TEST

Suite *suite_npy(void)
{
    TCase *tc = tcase_of("npy", 0, TESTS(round_trips, header_text, version2_and_spacing, bad_dtype,
                         fortran_order, size_mismatch, bad_headers, bad_files,
                         write_failure_leaves_nothing));
    tcase_add_checked_fixture(tc, setup, teardown);
    return suite_of("npy", tc);
}
