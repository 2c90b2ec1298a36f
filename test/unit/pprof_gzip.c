/*
 * pprof_gzip.c: gzip and gunzip (core/output/gzip.c) round trips and errors,
 * and reading profile files (core/output/pprof.c) that are missing, not
 * profiles, truncated, uncompressed or directories.
 */
#include "test_pprof.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- gzip ---- */

START_TEST(test_gzip_roundtrip)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    size_t n = 3 << 20;
    uint8_t *in = mprof_scratch_alloc(&sc, n);
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(i % 251 < 100 ? (size_t)rand_r(&seed) : i % 7);
    void *gz, *out;
    size_t gzlen, outlen;
    const char *err = NULL;
    ck_assert_int_eq(mprof_gzip(&sc, in, n, &gz, &gzlen), 0);
    ck_assert_uint_lt(gzlen, n);
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 30, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, n);
    ck_assert(memcmp(out, in, n) == 0);

    /* empty input */
    ck_assert_int_eq(mprof_gzip(&sc, in, 0, &gz, &gzlen), 0);
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 30, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, 0);

    /* two members back to back read as one stream */
    void *g1, *g2;
    size_t l1, l2;
    ck_assert_int_eq(mprof_gzip(&sc, "hello ", 6, &g1, &l1), 0);
    ck_assert_int_eq(mprof_gzip(&sc, "world", 5, &g2, &l2), 0);
    uint8_t *both = mprof_scratch_alloc(&sc, l1 + l2);
    memcpy(both, g1, l1);
    memcpy(both + l1, g2, l2);
    ck_assert_int_eq(mprof_gunzip(&sc, both, l1 + l2, 100, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, 11);
    ck_assert(memcmp(out, "hello world", 11) == 0);
    mprof_scratch_release(&sc);
}
END_TEST

/* Up to 4 KiB: one stored block, read back by zlib (and by gzip(1), which
 * checks the CRC and the size), every truncation refused; 4 KiB + 1 is
 * deflated. */
START_TEST(test_gzip_small_stored)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    size_t sizes[] = {1, 100, 4096};
    uint8_t *in = mprof_scratch_alloc(&sc, 4097);
    for (size_t i = 0; i < 4097; i++)
        in[i] = (uint8_t)(i * 7 % 13);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], gzlen, outlen;
        void *gz, *out;
        const char *err = NULL;
        ck_assert_int_eq(mprof_gzip(&sc, in, n, &gz, &gzlen), 0);
        ck_assert_uint_eq(gzlen, 10 + 5 + n + 8);
        ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 20, &out, &outlen, &err), 0);
        ck_assert_uint_eq(outlen, n);
        ck_assert(memcmp(out, in, n) == 0);
        for (size_t cut = 0; cut < gzlen; cut++)
            ck_assert_int_eq(mprof_gunzip(&sc, gz, cut, 1 << 20, &out, &outlen, &err), -1);
        ((uint8_t *)gz)[gzlen - 6] ^= 1; /* the CRC */
        ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 20, &out, &outlen, &err), -1);
    }
    size_t gzlen;
    void *gz;
    ck_assert_int_eq(mprof_gzip(&sc, in, 4097, &gz, &gzlen), 0);
    ck_assert_uint_lt(gzlen, 4097); /* deflated: the input repeats every 13 bytes */
    /* gzip(1) reads a stored member as it reads any other */
    ck_assert_int_eq(mprof_gzip(&sc, in, 100, &gz, &gzlen), 0);
    FILE *f = popen("gzip -t", "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(gz, 1, gzlen, f), gzlen);
    ck_assert_int_eq(pclose(f), 0);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_gunzip_errors)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    size_t n = 1 << 20;
    uint8_t *in = mprof_scratch_alloc(&sc, n); /* zeros: compresses well */
    void *gz, *out;
    size_t gzlen, outlen;
    const char *err = NULL;
    ck_assert_int_eq(mprof_gzip(&sc, in, n, &gz, &gzlen), 0);

    /* the size cap */
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, n - 1, &out, &outlen, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "exceeds"));
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, n, &out, &outlen, &err), 0);

    /* every truncation of a smaller, less regular stream */
    size_t small = 20000;
    unsigned seed = 3;
    for (size_t i = 0; i < small; i++)
        in[i] = (uint8_t)(i % 3 ? i / 64 : (size_t)rand_r(&seed));
    void *sgz;
    size_t sgzlen;
    ck_assert_int_eq(mprof_gzip(&sc, in, small, &sgz, &sgzlen), 0);
    for (size_t k = 0; k < sgzlen; k++) {
        mprof_scratch one;
        mprof_scratch_init(&one);
        err = NULL;
        if (mprof_gunzip(&one, sgz, k, n, &out, &outlen, &err) != -1 || !err)
            ck_abort_msg("truncation at %zu of %zu not reported", k, sgzlen);
        mprof_scratch_release(&one);
    }
    /* not gzip at all; trailing garbage */
    ck_assert_int_eq(mprof_gunzip(&sc, "garbage!", 8, n, &out, &outlen, &err), -1);
    uint8_t *tail = mprof_scratch_alloc(&sc, gzlen + 3);
    memcpy(tail, gz, gzlen);
    memcpy(tail + gzlen, "xyz", 3);
    ck_assert_int_eq(mprof_gunzip(&sc, tail, gzlen + 3, n, &out, &outlen, &err), -1);
    /* corrupt CRC */
    uint8_t *bad = mprof_scratch_alloc(&sc, gzlen);
    memcpy(bad, gz, gzlen);
    bad[gzlen - 6] ^= 0xff;
    ck_assert_int_eq(mprof_gunzip(&sc, bad, gzlen, n, &out, &outlen, &err), -1);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_read_file_errors)
{
    make_tmpdir();
    mprof_pprof_profile p;
    char err[256];
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("missing"), err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing: No such file"));

    /* a gzip file holding garbage */
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *gz;
    size_t gzlen;
    ck_assert_int_eq(mprof_gzip(&sc, "\x0a\x05", 2, &gz, &gzlen), 0);
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("bad.pb.gz"), gz, gzlen, 0), 0);
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("bad.pb.gz"), err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad.pb.gz: Profile"));

    /* a truncated gzip file */
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("cut.pb.gz"), gz, gzlen - 4, 0), 0);
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("cut.pb.gz"), err, sizeof err), -1);

    /* an uncompressed profile is accepted too */
    const uint8_t *raw;
    size_t rawlen;
    encode_fixture(&sc, &raw, &rawlen);
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("raw.pb"), raw, rawlen, 0), 0);
    ck_assert_msg(mprof_pprof_read_file(&p, tmp_path("raw.pb"), err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nsample, 5);
    mprof_pprof_free(&p);

    /* a directory */
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmpdir, err, sizeof err), -1);
    mprof_scratch_release(&sc);
    remove_tmpdir();
}
END_TEST

void pprof_add_gzip_tests(TCase *tc)
{
    tcase_add_test(tc, test_gzip_roundtrip);
    tcase_add_test(tc, test_gzip_small_stored);
    tcase_add_test(tc, test_gunzip_errors);
    tcase_add_test(tc, test_read_file_errors);
}
