/* Unit tests of core/record/ownheap.c: mprof's own heap behaves as malloc(3) does
 * (sizes, alignment, zeroing, realloc contents, reuse), owns exactly its
 * blocks, and keeps errno. */
#include "ownheap.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

START_TEST(sizes_and_ownership)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 24, 25, 100, 4095, 4096, 65537,
                                   300000, 5u << 20};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = mprof_ownheap_alloc(sizes[i], 0);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_msg(((uintptr_t)p[i] & 15) == 0, "%zu: not 16-byte aligned", sizes[i]);
        ck_assert(mprof_ownheap_owns(p[i]));
        ck_assert_uint_ge(mprof_ownheap_usable(p[i]), sizes[i]);
        /* no more than 1.5x plus the smallest class */
        ck_assert_uint_le(mprof_ownheap_usable(p[i]), sizes[i] + sizes[i] / 2 + 16);
        memset(p[i], 0xa5, sizes[i]); /* the whole of it is ours to write */
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        mprof_ownheap_free(p[i]);
    void *host = malloc(64);
    ck_assert(!mprof_ownheap_owns(host));
    ck_assert(!mprof_ownheap_owns(NULL));
    int local;
    ck_assert(!mprof_ownheap_owns(&local));
    free(host);
}
END_TEST

START_TEST(freed_blocks_are_reused)
{
    size_t before = mprof_ownheap_in_use();
    void *a = mprof_ownheap_alloc(1000, 0);
    mprof_ownheap_free(a);
    void *b = mprof_ownheap_alloc(1000, 0);
    ck_assert_ptr_eq(a, b); /* same class, head of its free list */
    mprof_ownheap_free(b);
    ck_assert_uint_eq(mprof_ownheap_in_use(), before);
}
END_TEST

START_TEST(alignment)
{
    for (size_t align = 16; align <= 65536; align *= 2) {
        void *p = mprof_ownheap_alloc(100, align);
        ck_assert_ptr_nonnull(p);
        ck_assert_msg(((uintptr_t)p & (align - 1)) == 0, "align %zu: %p", align, p);
        ck_assert_uint_ge(mprof_ownheap_usable(p), 100);
        memset(p, 1, 100);
        mprof_ownheap_free(p);
    }
}
END_TEST

START_TEST(calloc_zeroes_recycled_blocks)
{
    unsigned char *p = mprof_ownheap_alloc(512, 0);
    memset(p, 0xff, 512);
    mprof_ownheap_free(p);
    unsigned char *q = mprof_ownheap_calloc(64, 8);
    ck_assert_ptr_eq(q, p);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(q[i], 0);
    mprof_ownheap_free(q);
    errno = 0;
    ck_assert_ptr_null(mprof_ownheap_calloc(SIZE_MAX / 2, 4));
    ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

START_TEST(realloc_keeps_contents)
{
    char *p = mprof_ownheap_realloc(NULL, 10);
    memcpy(p, "0123456789", 10);
    p = mprof_ownheap_realloc(p, 100000);
    ck_assert(memcmp(p, "0123456789", 10) == 0);
    p = mprof_ownheap_realloc(p, 5);
    ck_assert(memcmp(p, "01234", 5) == 0);
    ck_assert_uint_lt(mprof_ownheap_usable(p), 100000); /* shrunk for real */
    mprof_ownheap_free(p);
}
END_TEST

START_TEST(errno_kept)
{
    errno = 1234;
    void *p = mprof_ownheap_alloc(77, 0);
    p = mprof_ownheap_realloc(p, 7777);
    mprof_ownheap_free(p);
    ck_assert_int_eq(errno, 1234);
    ck_assert_ptr_null(mprof_ownheap_alloc((size_t)1 << 50, 0)); /* too big */
    ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

/* Threads allocating and freeing each other's blocks: no block handed out
 * twice (each is stamped with its owner and checked before it is freed). */
#define T 4
#define N 20000
static void *ring[T][64];

static void *churn(void *arg)
{
    int t = (int)(intptr_t)arg;
    unsigned x = (unsigned)t * 2654435761u + 1;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        int slot = (int)(x >> 16) % 64;
        size_t size = 8 + (x >> 8) % 3000;
        if (ring[t][slot]) {
            unsigned char *old = ring[t][slot];
            ck_assert_uint_eq(old[0], (unsigned char)t);
            mprof_ownheap_free(old);
        }
        unsigned char *p = mprof_ownheap_alloc(size, 0);
        ck_assert_ptr_nonnull(p);
        memset(p, t, size);
        ring[t][slot] = p;
    }
    return NULL;
}

START_TEST(threads)
{
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        pthread_create(&th[t], NULL, churn, (void *)(intptr_t)t);
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++)
        for (int s = 0; s < 64; s++)
            if (ring[t][s]) {
                ck_assert_uint_eq(((unsigned char *)ring[t][s])[0], (unsigned char)t);
                mprof_ownheap_free(ring[t][s]);
            }
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("ownheap");
    tcase_add_test(tc, sizes_and_ownership);
    tcase_add_test(tc, freed_blocks_are_reused);
    tcase_add_test(tc, alignment);
    tcase_add_test(tc, calloc_zeroes_recycled_blocks);
    tcase_add_test(tc, realloc_keeps_contents);
    tcase_add_test(tc, errno_kept);
    tcase_add_test(tc, threads);
    return run_suite("ownheap", tc, NULL);
}
