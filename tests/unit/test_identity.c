/*
 * test_identity.c — the pieces behind the identity of artifacts and --json:
 * SHA-256 (known vectors), JSON string escaping, the recorded command line
 * (shell quoting, -o left out).
 */
#include <unistd.h>

#include "testutil.h"
#include "visec.h"

START_TEST(sha256_vectors)
{
    char h[SHA256_HEX];
    sha256_hex("abc", 3, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, h);
    ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char path[] = "/tmp/test_identity_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 100000; i++)    /* more than one read buffer */
        fputs("abc", f);
    fclose(f);
    char *big = malloc(300000);
    for (int i = 0; i < 100000; i++)
        memcpy(big + 3 * i, "abc", 3);
    char h2[SHA256_HEX];
    sha256_hex(big, 300000, h2);
    TestDiag td;
    td_init(&td);
    ck_assert(sha256_file(path, h, &td.d));
    ck_assert_str_eq(h, h2);
    unlink(path);
    ck_assert(!sha256_file(path, h, &td.d));
    ck_assert_ptr_nonnull(strstr(td_text(&td), "cannot open"));
    td_free(&td);
    free(big);
}
END_TEST

START_TEST(json_escapes)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_str(f, "a\"b\\c\nd\x01\xc3\xa9");
    fputc(' ', f);
    int64_t dims[] = {DIM_N, 3, 224};
    json_shape(f, 3, dims);
    fclose(f);
    ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\nd\\u0001\\u00c3\\u00a9\" [\"N\", 3, 224]");
    free(buf);
}
END_TEST

START_TEST(command_line_quoting)
{
    char *argv[] = {"m.vise", "--weights", "my ck.pt", "-o", "out", "--name=it's", "-O0", "-o=x"};
    char *s = command_line("compile", 8, argv, "-o");
    ck_assert_str_eq(s, "visec compile m.vise --weights 'my ck.pt' '--name=it'\\''s' -O0");
    free(s);
    s = command_line("check", 2, argv, NULL);
    ck_assert_str_eq(s, "visec check m.vise --weights");
    free(s);
}
END_TEST

Suite *suite_identity(void)
{
    return suite_of("identity", tcase_of("identity", 0, TESTS(sha256_vectors, json_escapes,
                                         command_line_quoting)));
}
