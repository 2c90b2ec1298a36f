/*
 * pprof_decode.c: the decoder (core/output/pprof.c) against every truncation,
 * bit flips and garbage of the fixture, hand-made invalid input (each
 * error names its field), and what Go writes: fields in any order,
 * repeated scalars unpacked, unknown fields, ids not 1..n.
 */
#include "test_pprof.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbuf.h"

/* ---- decoder robustness ---- */

START_TEST(test_decode_every_truncation)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    const uint8_t *data;
    size_t len;
    encode_fixture(&sc, &data, &len);
    size_t failures = 0;
    for (size_t n = 0; n < len; n++) {
        /* an exact-size copy, so reading past the end would be caught by
         * ASan or a guard page */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data, n);
        mprof_pprof_profile p;
        char err[256] = "";
        if (mprof_pprof_decode(&p, copy, n, err, sizeof err) == 0) {
            mprof_pprof_free(&p);
        } else {
            if (err[0] == '\0' || strchr(err, '\n'))
                ck_abort_msg("bad message '%s' at length %zu", err, n);
            failures++;
        }
        free(copy);
    }
    /* a prefix cut inside a field always fails; most prefixes are */
    ck_assert_uint_gt(failures, len / 2);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_decode_bit_flips)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    const uint8_t *data;
    size_t len;
    encode_fixture(&sc, &data, &len);
    unsigned seed = 4242;
    uint8_t *copy = malloc(len);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, data, len);
        int flips = 1 + rand_r(&seed) % 4;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)rand_r(&seed) % len;
            if (rand_r(&seed) % 2)
                copy[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
            else
                copy[at] = (uint8_t)rand_r(&seed);
        }
        mprof_pprof_profile p;
        char err[256] = "";
        if (mprof_pprof_decode(&p, copy, len, err, sizeof err) == 0)
            mprof_pprof_free(&p);
        else if (err[0] == '\0')
            ck_abort_msg("no message for flip iteration %d", iter);
    }
    free(copy);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_decode_garbage)
{
    unsigned seed = 99;
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = (size_t)(rand_r(&seed) % 300);
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rand_r(&seed);
        mprof_pprof_profile p;
        char err[128] = "";
        if (mprof_pprof_decode(&p, buf, n, err, sizeof err) == 0)
            mprof_pprof_free(&p);
        else if (err[0] == '\0')
            ck_abort_msg("no message for garbage iteration %d", iter);
        free(buf);
    }
    /* a tiny err buffer is fine, and NULL too */
    mprof_pprof_profile p;
    char tiny[4];
    ck_assert_int_eq(mprof_pprof_decode(&p, "\x0a\x05", 2, tiny, sizeof tiny), -1);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
    ck_assert_int_eq(mprof_pprof_decode(&p, "\x0a\x05", 2, NULL, 0), -1);
}
END_TEST

static int decode_err(const void *data, size_t len, char *err, size_t errlen)
{
    mprof_pprof_profile p;
    int rc = mprof_pprof_decode(&p, data, len, err, errlen);
    if (rc == 0)
        mprof_pprof_free(&p);
    return rc;
}

#define ASSERT_DECODE_FAILS(b, substr)                                     \
    do {                                                                   \
        char err_[256] = "";                                               \
        ck_assert_int_eq(decode_err((b).buf, (b).len, err_, sizeof err_), -1); \
        ck_assert_msg(strstr(err_, substr), "error '%s' lacks '%s'", err_, substr); \
    } while (0)

static void str(mprof_pbuf *b, const char *s)
{
    mprof_pbuf_bytes(b, 6, s, strlen(s));
}

/* A hand-made minimal profile: strings "", "samples", "count". */
static void minimal(mprof_pbuf *b)
{
    str(b, "");
    str(b, "samples");
    str(b, "count");
    size_t m = mprof_pbuf_begin(b, 1);
    mprof_pbuf_int64(b, 1, 1);
    mprof_pbuf_int64(b, 2, 2);
    mprof_pbuf_end(b, m);
}

START_TEST(test_decode_validation_errors)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;

    mprof_pbuf_init(&b, &sc);
    ASSERT_DECODE_FAILS(b, "string_table"); /* empty input */

    mprof_pbuf_init(&b, &sc);
    str(&b, "x");
    ASSERT_DECODE_FAILS(b, "Profile.string_table[0]: must be \"\"");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_int64(&b, 12, 1);
    mprof_pbuf_int64(&b, 14, 7); /* default_sample_type out of range */
    ASSERT_DECODE_FAILS(b, "Profile.default_sample_type: string index 7");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    size_t m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_int64(&b, 2, 1);
    mprof_pbuf_int64(&b, 2, 2);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0]: 2 values for 1 sample types");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_uint64(&b, 1, 5);
    mprof_pbuf_int64(&b, 2, 1);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].location_id[0]: no location with id 5");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    for (int i = 0; i < 2; i++) {
        m = mprof_pbuf_begin(&b, 5);
        mprof_pbuf_uint64(&b, 1, 3);
        mprof_pbuf_end(&b, m);
    }
    ASSERT_DECODE_FAILS(b, "Profile.function[1]: duplicate id 3");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0]: id 0 is reserved");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 1);
    mprof_pbuf_uint64(&b, 2, 9);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0].mapping_id: no mapping with id 9");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 1);
    size_t l = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 2);
    mprof_pbuf_end(&b, l);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0].line[0].function_id: no function with id 2");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_uint64(&b, 1, 1); /* sample_type as a varint */
    ASSERT_DECODE_FAILS(b, "Profile.sample_type[1]: unexpected wire type varint");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_fixed64(&b, 9, 1); /* time_nanos as fixed64 */
    ASSERT_DECODE_FAILS(b, "Profile.time_nanos: unexpected wire type fixed64");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_raw(&b, "\x0a\x02\x80\x80", 4); /* packed, cut mid-varint */
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].location_id: packed: truncated varint");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_raw(&b, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0]: varint overflows 64 bits at byte");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_raw(&b, "\x12\xff\xff\xff\xff\xff\xff\xff\x3f", 9); /* huge length */
    ASSERT_DECODE_FAILS(b, "runs past the end");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_int64(&b, 2, 1);
    size_t lb = mprof_pbuf_begin(&b, 3);
    mprof_pbuf_int64(&b, 1, 99); /* label key */
    mprof_pbuf_end(&b, lb);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].label[0].key: string index 99 out of range");

    mprof_scratch_release(&sc);
}
END_TEST

/* As Go writes: fields out of order, repeated scalars unpacked (pprof's own
 * encoder does that for short lists), unknown fields, ids not 1..n. */
START_TEST(test_decode_unpacked_any_order)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);

    size_t m = mprof_pbuf_begin(&b, 2); /* sample before everything */
    mprof_pbuf_uint64(&b, 1, 90);
    mprof_pbuf_int64(&b, 2, 5);
    mprof_pbuf_uint64(&b, 99, 12345);     /* unknown varint field */
    mprof_pbuf_bytes(&b, 100, "zz", 2);   /* unknown bytes field */
    mprof_pbuf_fixed32(&b, 101, 7);       /* unknown fixed32 */
    mprof_pbuf_uint64(&b, 1, 80);
    uint64_t more[] = {90, 80};
    mprof_pbuf_packed_uint64(&b, 1, more, 2); /* mixed with packed */
    mprof_pbuf_int64(&b, 2, -3);
    mprof_pbuf_end(&b, m);

    m = mprof_pbuf_begin(&b, 4);
    size_t l = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_int64(&b, 2, 12);
    mprof_pbuf_uint64(&b, 1, 7);
    mprof_pbuf_end(&b, l);
    mprof_pbuf_uint64(&b, 3, 0x1234);
    mprof_pbuf_uint64(&b, 1, 90);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 80);
    mprof_pbuf_end(&b, m);

    str(&b, "");
    m = mprof_pbuf_begin(&b, 5);
    mprof_pbuf_int64(&b, 4, 4);
    mprof_pbuf_int64(&b, 2, 3);
    mprof_pbuf_uint64(&b, 1, 7);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 1);
    mprof_pbuf_int64(&b, 2, 2);
    mprof_pbuf_int64(&b, 1, 1);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 1);
    mprof_pbuf_int64(&b, 1, 1);
    mprof_pbuf_end(&b, m);
    str(&b, "samples");
    str(&b, "count");
    str(&b, "main");
    str(&b, "f.c");
    mprof_pbuf_int64(&b, 12, 1);
    mprof_pbuf_int64(&b, 12, 3); /* a repeated singular field: last wins */
    ck_assert_int_eq(b.err, 0);

    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_decode(&p, b.buf, b.len, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nstring_table, 5);
    ck_assert_uint_eq(p.nsample_type, 2);
    ck_assert_int_eq(p.period, 3);
    ck_assert_uint_eq(p.nsample, 1);
    ck_assert_uint_eq(p.sample[0].nlocation_id, 4);
    ck_assert_uint_eq(p.sample[0].location_id[0], 90);
    ck_assert_uint_eq(p.sample[0].location_id[1], 80);
    ck_assert_uint_eq(p.sample[0].location_id[2], 90);
    ck_assert_uint_eq(p.sample[0].location_id[3], 80);
    ck_assert_uint_eq(p.sample[0].nvalue, 2);
    ck_assert_int_eq(p.sample[0].value[0], 5);
    ck_assert_int_eq(p.sample[0].value[1], -3);
    const mprof_pprof_location *loc = mprof_pprof_location_by_id(&p, 90);
    ck_assert_ptr_nonnull(loc);
    ck_assert_uint_eq(loc->address, 0x1234);
    ck_assert_uint_eq(loc->nline, 1);
    ck_assert_int_eq(loc->line[0].line, 12);
    const mprof_pprof_function *fn = mprof_pprof_function_by_id(&p, 7);
    ck_assert_ptr_nonnull(fn);
    ck_assert_str_eq(mprof_pprof_string(&p, fn->name), "main");
    ck_assert_str_eq(mprof_pprof_string(&p, fn->filename), "f.c");
    ck_assert_ptr_null(mprof_pprof_location_by_id(&p, 1));
    ck_assert_ptr_null(mprof_pprof_location_by_id(&p, 0));
    ck_assert_ptr_null(mprof_pprof_mapping_by_id(&p, 1));
    ck_assert_str_eq(mprof_pprof_string(&p, 1000), "");
    ck_assert_str_eq(mprof_pprof_string(&p, -1), "");
    mprof_pprof_free(&p);
    mprof_scratch_release(&sc);
}
END_TEST

void pprof_add_decode_tests(TCase *tc)
{
    tcase_add_test(tc, test_decode_every_truncation);
    tcase_add_test(tc, test_decode_bit_flips);
    tcase_add_test(tc, test_decode_garbage);
    tcase_add_test(tc, test_decode_validation_errors);
    tcase_add_test(tc, test_decode_unpacked_any_order);
}
