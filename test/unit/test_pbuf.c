/*
 * test_pbuf.c: the protobuf wire format (core/output/pbuf.c) and the scratch
 * allocator under it (core/output/scratch.c): varint edges, nested length
 * backpatching, and a reader that fails cleanly on every malformed input.
 */
#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbuf.h"
#include "scratch.h"

static const uint64_t edge_values[] = {
    0, 1, 127, 128, 255, 300, 16383, 16384, (1ull << 21) - 1, 1ull << 21,
    (1ull << 28), (1ull << 35) - 1, (1ull << 49), (1ull << 56) - 1,
    (1ull << 63) - 1, 1ull << 63, UINT64_MAX - 1, UINT64_MAX};

START_TEST(test_varint_sizes)
{
    ck_assert_uint_eq(mprof_pbuf_varint_size(0), 1);
    ck_assert_uint_eq(mprof_pbuf_varint_size(127), 1);
    ck_assert_uint_eq(mprof_pbuf_varint_size(128), 2);
    ck_assert_uint_eq(mprof_pbuf_varint_size(16383), 2);
    ck_assert_uint_eq(mprof_pbuf_varint_size(16384), 3);
    ck_assert_uint_eq(mprof_pbuf_varint_size(UINT64_MAX), 10);
    ck_assert_uint_eq(mprof_pbuf_varint_size(1ull << 63), 10);
    ck_assert_uint_eq(mprof_pbuf_varint_size((1ull << 63) - 1), 9);
    uint8_t b[10];
    ck_assert_uint_eq(mprof_pbuf_put_varint(b, 300), 2);
    ck_assert_uint_eq(b[0], 0xac);
    ck_assert_uint_eq(b[1], 0x02);
}
END_TEST

START_TEST(test_varint_roundtrip)
{
    for (size_t i = 0; i < sizeof edge_values / sizeof edge_values[0]; i++) {
        uint8_t b[10];
        size_t n = mprof_pbuf_put_varint(b, edge_values[i]);
        ck_assert_uint_eq(n, mprof_pbuf_varint_size(edge_values[i]));
        mprof_pbuf_reader r;
        mprof_pbuf_reader_init(&r, b, n);
        uint64_t v = 0;
        ck_assert_int_eq(mprof_pbuf_read_varint(&r, &v), 0);
        ck_assert_uint_eq(v, edge_values[i]);
        ck_assert(mprof_pbuf_at_end(&r));
        /* every shorter prefix is a truncation */
        for (size_t k = 0; k < n; k++) {
            mprof_pbuf_reader_init(&r, b, k);
            ck_assert_int_eq(mprof_pbuf_read_varint(&r, &v), -1);
            ck_assert_str_eq(r.err, "truncated varint");
        }
    }
}
END_TEST

START_TEST(test_varint_malformed)
{
    uint8_t eleven[11];
    memset(eleven, 0xff, sizeof eleven);
    eleven[10] = 0x01;
    mprof_pbuf_reader r;
    uint64_t v;
    mprof_pbuf_reader_init(&r, eleven, sizeof eleven);
    ck_assert_int_eq(mprof_pbuf_read_varint(&r, &v), -1);
    ck_assert_ptr_nonnull(r.err);

    /* 10th byte may carry only bit 63 */
    uint8_t over[10];
    memset(over, 0xff, 9);
    over[9] = 0x02;
    mprof_pbuf_reader_init(&r, over, sizeof over);
    ck_assert_int_eq(mprof_pbuf_read_varint(&r, &v), -1);
    ck_assert_str_eq(r.err, "varint overflows 64 bits");

    /* non-minimal encodings are legal protobuf */
    uint8_t padded[] = {0x81, 0x80, 0x80, 0x00};
    mprof_pbuf_reader_init(&r, padded, sizeof padded);
    ck_assert_int_eq(mprof_pbuf_read_varint(&r, &v), 0);
    ck_assert_uint_eq(v, 1);
}
END_TEST

START_TEST(test_zigzag)
{
    ck_assert_uint_eq(mprof_pbuf_zigzag(0), 0);
    ck_assert_uint_eq(mprof_pbuf_zigzag(-1), 1);
    ck_assert_uint_eq(mprof_pbuf_zigzag(1), 2);
    ck_assert_uint_eq(mprof_pbuf_zigzag(-2), 3);
    ck_assert_uint_eq(mprof_pbuf_zigzag(INT64_MAX), UINT64_MAX - 1);
    ck_assert_uint_eq(mprof_pbuf_zigzag(INT64_MIN), UINT64_MAX);
    int64_t vals[] = {0, 1, -1, 63, -64, 1000000, -1000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        ck_assert_int_eq(mprof_pbuf_unzigzag(mprof_pbuf_zigzag(vals[i])), vals[i]);
}
END_TEST

START_TEST(test_fields_roundtrip)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    mprof_pbuf_uint64(&b, 1, 150);
    mprof_pbuf_int64(&b, 2, -5);
    mprof_pbuf_sint64(&b, 3, -5);
    mprof_pbuf_bool(&b, 4, 7);
    mprof_pbuf_fixed64(&b, 5, 0x0102030405060708ull);
    mprof_pbuf_fixed32(&b, 6, 0xdeadbeef);
    mprof_pbuf_bytes(&b, 7, "hello", 5);
    uint64_t packed[] = {1, 300, UINT64_MAX};
    mprof_pbuf_packed_uint64(&b, 8, packed, 3);
    mprof_pbuf_packed_uint64(&b, 9, packed, 0); /* writes nothing */
    mprof_pbuf_uint64(&b, MPROF_PBUF_MAX_FIELD, 1);
    ck_assert_int_eq(b.err, 0);
    /* known encoding of the first field */
    ck_assert_uint_eq(b.buf[0], 0x08);
    ck_assert_uint_eq(b.buf[1], 0x96);
    ck_assert_uint_eq(b.buf[2], 0x01);

    mprof_pbuf_reader r;
    mprof_pbuf_field f;
    mprof_pbuf_reader_init(&r, b.buf, b.len);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_uint_eq(f.num, 1);
    ck_assert_uint_eq(f.u64, 150);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_int_eq((int64_t)f.u64, -5);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_int_eq(mprof_pbuf_unzigzag(f.u64), -5);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_uint_eq(f.u64, 1);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_int_eq(f.wire, MPROF_WIRE_I64);
    ck_assert_uint_eq(f.u64, 0x0102030405060708ull);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_int_eq(f.wire, MPROF_WIRE_I32);
    ck_assert_uint_eq(f.u64, 0xdeadbeef);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_int_eq(f.wire, MPROF_WIRE_LEN);
    ck_assert_uint_eq(f.len, 5);
    ck_assert(memcmp(f.data, "hello", 5) == 0);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_uint_eq(f.num, 8);
    size_t count;
    const char *e;
    ck_assert_int_eq(mprof_pbuf_count_varints(f.data, f.len, &count, &e), 0);
    ck_assert_uint_eq(count, 3);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
    ck_assert_uint_eq(f.num, MPROF_PBUF_MAX_FIELD);
    ck_assert(mprof_pbuf_at_end(&r));
    mprof_scratch_release(&sc);
}
END_TEST

/* Bodies of every size around the 1-, 2- and 3-byte length boundaries,
 * nested three deep, so the backpatch has to move bodies. */
START_TEST(test_nested_backpatch)
{
    static const size_t sizes[] = {0, 1, 126, 127, 128, 129, 16382, 16383,
                                   16384, 16385, 200000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        mprof_scratch sc;
        mprof_scratch_init(&sc);
        mprof_pbuf b;
        mprof_pbuf_init(&b, &sc);
        char *body = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++)
            body[k] = (char)('a' + k % 26);
        size_t outer = mprof_pbuf_begin(&b, 1);
        size_t mid = mprof_pbuf_begin(&b, 2);
        mprof_pbuf_bytes(&b, 3, body, sizes[i]);
        mprof_pbuf_end(&b, mid);
        mprof_pbuf_uint64(&b, 4, 42);
        mprof_pbuf_end(&b, outer);
        ck_assert_int_eq(b.err, 0);

        mprof_pbuf_reader r, r2, r3;
        mprof_pbuf_field f;
        mprof_pbuf_reader_init(&r, b.buf, b.len);
        ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), 0);
        ck_assert(mprof_pbuf_at_end(&r));
        mprof_pbuf_reader_init(&r2, f.data, f.len);
        ck_assert_int_eq(mprof_pbuf_read_field(&r2, &f), 0);
        ck_assert_uint_eq(f.num, 2);
        mprof_pbuf_reader_init(&r3, f.data, f.len);
        ck_assert_int_eq(mprof_pbuf_read_field(&r2, &f), 0);
        ck_assert_uint_eq(f.num, 4);
        ck_assert_uint_eq(f.u64, 42);
        ck_assert(mprof_pbuf_at_end(&r2));
        ck_assert_int_eq(mprof_pbuf_read_field(&r3, &f), 0);
        ck_assert_uint_eq(f.num, 3);
        ck_assert_uint_eq(f.len, sizes[i]);
        ck_assert(memcmp(f.data, body, sizes[i]) == 0);
        ck_assert(mprof_pbuf_at_end(&r3));
        free(body);
        mprof_scratch_release(&sc);
    }
}
END_TEST

START_TEST(test_cancel)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    mprof_pbuf_bytes(&b, 1, "\x80\x80", 2); /* bytes with the high bit set */
    size_t before = b.len;
    size_t m = mprof_pbuf_begin(&b, 300); /* two-byte tag */
    ck_assert_uint_eq(mprof_pbuf_body_len(&b, m), 0);
    mprof_pbuf_cancel(&b, m, 300);
    ck_assert_uint_eq(b.len, before);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_reader_errors)
{
    mprof_pbuf_reader r;
    mprof_pbuf_field f;
    /* length far beyond the input */
    uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    mprof_pbuf_reader_init(&r, huge, sizeof huge);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_ptr_nonnull(strstr(r.err, "past the end"));
    /* length one more than available */
    uint8_t over[] = {0x0a, 0x03, 'a', 'b'};
    mprof_pbuf_reader_init(&r, over, sizeof over);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    /* field number 0 */
    uint8_t zero[] = {0x00, 0x01};
    mprof_pbuf_reader_init(&r, zero, sizeof zero);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_str_eq(r.err, "invalid field number");
    /* groups and reserved wire types */
    uint8_t group[] = {0x0b};
    mprof_pbuf_reader_init(&r, group, sizeof group);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_ptr_nonnull(strstr(r.err, "groups"));
    uint8_t wire6[] = {0x0e};
    mprof_pbuf_reader_init(&r, wire6, sizeof wire6);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_str_eq(r.err, "invalid wire type");
    /* truncated fixed values */
    uint8_t f64[] = {0x09, 1, 2, 3};
    mprof_pbuf_reader_init(&r, f64, sizeof f64);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_str_eq(r.err, "truncated fixed64");
    uint8_t f32[] = {0x0d, 1, 2, 3};
    mprof_pbuf_reader_init(&r, f32, sizeof f32);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    ck_assert_str_eq(r.err, "truncated fixed32");
    /* a tag whose field number does not fit 29 bits */
    uint8_t bigtag[] = {0xf8, 0xff, 0xff, 0xff, 0x7f, 0x00};
    mprof_pbuf_reader_init(&r, bigtag, sizeof bigtag);
    ck_assert_int_eq(mprof_pbuf_read_field(&r, &f), -1);
    /* packed payload ending mid-varint */
    size_t count;
    const char *e = NULL;
    uint8_t packed[] = {0x01, 0x80};
    ck_assert_int_eq(mprof_pbuf_count_varints(packed, sizeof packed, &count, &e), -1);
    ck_assert_str_eq(e, "truncated varint");
}
END_TEST

/* Random bytes: the reader ends in success or a message, never reads
 * outside its buffer (run under ASan/valgrind to see that too). */
START_TEST(test_reader_random)
{
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t buf[64];
        size_t n = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rand_r(&seed);
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        mprof_pbuf_reader r;
        mprof_pbuf_reader_init(&r, exact, n);
        int fields = 0;
        while (!mprof_pbuf_at_end(&r)) {
            mprof_pbuf_field f;
            if (mprof_pbuf_read_field(&r, &f) < 0) {
                ck_assert_ptr_nonnull(r.err);
                break;
            }
            ck_assert(r.p <= r.end);
            if (f.wire == MPROF_WIRE_LEN)
                ck_assert(f.data + f.len <= r.end);
            ck_assert_int_lt(++fields, 65);
        }
        free(exact);
    }
}
END_TEST

START_TEST(test_scratch_basics)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    char *a = mprof_scratch_alloc(&sc, 10);
    char *b = mprof_scratch_alloc(&sc, 10);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((uintptr_t)a % 16, 0);
    ck_assert_int_eq((uintptr_t)b % 16, 0);
    ck_assert(b >= a + 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(a[i], 0);
    /* the latest allocation grows in place */
    char *b2 = mprof_scratch_grow(&sc, b, 10, 1000);
    ck_assert_ptr_eq(b2, b);
    /* an older one is copied */
    memcpy(a, "abcdefghi", 10);
    char *a2 = mprof_scratch_grow(&sc, a, 10, 100);
    ck_assert_ptr_ne(a2, a);
    ck_assert_str_eq(a2, "abcdefghi");
    /* a large block grows through mremap, keeping its contents */
    size_t big = 1 << 20;
    char *l = mprof_scratch_alloc(&sc, big);
    ck_assert_ptr_nonnull(l);
    memset(l, 7, big);
    char *l2 = mprof_scratch_grow(&sc, l, big, 64 * big);
    ck_assert_ptr_nonnull(l2);
    ck_assert_int_eq(l2[big - 1], 7);
    ck_assert_int_eq(l2[64 * big - 1], 0);
    char *s = mprof_scratch_strndup(&sc, "hello world", 5);
    ck_assert_str_eq(s, "hello");
    /* many small allocations across chunks */
    for (int i = 0; i < 100000; i++)
        ck_assert_ptr_nonnull(mprof_scratch_alloc(&sc, 100));
    ck_assert_ptr_null(mprof_scratch_calloc(&sc, SIZE_MAX / 2, 4));
    mprof_scratch_release(&sc);
    ck_assert_uint_eq(sc.mapped, 0);
    ck_assert_ptr_null(sc.chunks);
    /* reusable after release */
    ck_assert_ptr_nonnull(mprof_scratch_alloc(&sc, 10));
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_scratch_limit)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_scratch_set_limit(&sc, 4 << 20);
    ck_assert_ptr_nonnull(mprof_scratch_alloc(&sc, 1 << 20));
    ck_assert_ptr_null(mprof_scratch_alloc(&sc, 8 << 20));
    void *p = mprof_scratch_alloc(&sc, 1 << 20);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(mprof_scratch_grow(&sc, p, 1 << 20, 16 << 20));
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_pbuf_oom_is_sticky)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_scratch_set_limit(&sc, 1 << 20);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    char chunk[4096] = {0};
    for (int i = 0; i < 1000; i++)
        mprof_pbuf_bytes(&b, 1, chunk, sizeof chunk);
    ck_assert_int_eq(b.err, -ENOMEM);
    size_t len = b.len;
    mprof_pbuf_uint64(&b, 1, 1);
    ck_assert_uint_eq(b.len, len);
    mprof_scratch_release(&sc);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("pbuf");
    tcase_add_test(tc, test_varint_sizes);
    tcase_add_test(tc, test_varint_roundtrip);
    tcase_add_test(tc, test_varint_malformed);
    tcase_add_test(tc, test_zigzag);
    tcase_add_test(tc, test_fields_roundtrip);
    tcase_add_test(tc, test_nested_backpatch);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_reader_errors);
    tcase_add_test(tc, test_reader_random);
    tcase_add_test(tc, test_scratch_basics);
    tcase_add_test(tc, test_scratch_limit);
    tcase_add_test(tc, test_pbuf_oom_is_sticky);
    return run_suite("pbuf", tc, NULL);
}
