/* Unit tests of the bucket table, the address map and the heap record
 * cycles (core/record/bucket.c, core/record/addrmap.c, core/record/heap.c), without the shim.
 * Check forks each test, so each starts from an empty profiler. */
#include "addrmap.h"
#include "bucket.h"
#include "heap.h"
#include "stack.h"

#include <check.h>
#include "run_suite.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const uintptr_t stk_a[] = {0x401000, 0x402000, 0x403000};
static const uintptr_t stk_b[] = {0x401000, 0x402000, 0x403004};

START_TEST(bucket_identity)
{
    mprof_bucket *a = mprof_bucket_get(MPROF_HEAP, 64, stk_a, 3);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(a, mprof_bucket_get(MPROF_HEAP, 64, stk_a, 3));
    ck_assert_ptr_ne(a, mprof_bucket_get(MPROF_HEAP, 65, stk_a, 3));
    ck_assert_ptr_ne(a, mprof_bucket_get(MPROF_HEAP, 64, stk_b, 3));
    ck_assert_ptr_ne(a, mprof_bucket_get(MPROF_HEAP, 64, stk_a, 2));
    ck_assert_ptr_ne(a, mprof_bucket_get(MPROF_BLOCK, 64, stk_a, 3));
    ck_assert_uint_eq(a->size, 64);
    ck_assert_uint_eq(a->nstk, 3);
    ck_assert_mem_eq(a->stk, stk_a, sizeof stk_a);
    int n = 0;
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b))
        n++;
    ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(bucket_many_keys)
{
    enum { N = 50000 };
    static mprof_bucket *seen[N];
    for (int i = 0; i < N; i++) {
        uintptr_t s[2] = {0x400000 + (uintptr_t)i * 16, 0x500000};
        seen[i] = mprof_bucket_get(MPROF_HEAP, (uint64_t)i % 7, s, 2);
        ck_assert_ptr_nonnull(seen[i]);
    }
    for (int i = 0; i < N; i++) {
        uintptr_t s[2] = {0x400000 + (uintptr_t)i * 16, 0x500000};
        ck_assert_ptr_eq(seen[i], mprof_bucket_get(MPROF_HEAP, (uint64_t)i % 7, s, 2));
    }
}
END_TEST

struct race_arg {
    mprof_bucket *got[512];
};

static void *race_insert(void *p)
{
    struct race_arg *r = p;
    for (int i = 0; i < 512; i++) {
        uintptr_t s[1] = {0x1000 + (uintptr_t)i};
        r->got[i] = mprof_bucket_get(MPROF_HEAP, 8, s, 1);
    }
    return NULL;
}

START_TEST(bucket_concurrent_insert_is_unique)
{
    static struct race_arg r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, race_insert, &r[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 512; i++)
        for (int k = 1; k < 4; k++)
            ck_assert_ptr_eq(r[0].got[i], r[k].got[i]);
}
END_TEST

START_TEST(addrmap_insert_remove)
{
    mprof_bucket *b = mprof_bucket_get(MPROF_HEAP, 64, stk_a, 3), *got;
    uint64_t size;
    char blocks[4];
    ck_assert(!mprof_addrmap_maybe(&blocks[0]));
    ck_assert_int_eq(mprof_addrmap_insert(&blocks[0], b, 64), 0);
    ck_assert(mprof_addrmap_maybe(&blocks[0]));
    ck_assert_int_eq(mprof_addrmap_remove(&blocks[1], &got, &size), 0);
    ck_assert_int_eq(mprof_addrmap_remove(&blocks[0], &got, &size), 1);
    ck_assert_ptr_eq(got, b);
    ck_assert_uint_eq(size, 64);
    ck_assert(!mprof_addrmap_maybe(&blocks[0]));
    ck_assert_int_eq(mprof_addrmap_remove(&blocks[0], &got, &size), 0);
}
END_TEST

/* Enough entries to grow every shard several times and to put many
 * addresses in every filter slot; all must come back exactly once, and the
 * map and the filter end empty. */
START_TEST(addrmap_many_shared_slots)
{
    enum { N = 300000 };
    mprof_bucket *b = mprof_bucket_get(MPROF_HEAP, 16, stk_a, 3), *got;
    uint64_t size;
    for (uintptr_t i = 0; i < N; i++)
        ck_assert_int_eq(mprof_addrmap_insert((void *)(0x10000000 + i * 16), b, i), 0);
    ck_assert_uint_eq(mprof_addrmap_count(), N);
    for (uintptr_t i = 0; i < N; i++) {
        ck_assert(mprof_addrmap_maybe((void *)(0x10000000 + i * 16)));
        ck_assert_int_eq(mprof_addrmap_remove((void *)(0x10000000 + i * 16), &got, &size), 1);
        ck_assert_uint_eq(size, i);
    }
    ck_assert_uint_eq(mprof_addrmap_count(), 0);
    for (size_t w = 0; w < sizeof mprof_addrmap_filter / sizeof mprof_addrmap_filter[0]; w++)
        ck_assert_uint_eq(mprof_addrmap_filter[w], 0);
    mprof_addrmap_insert((void *)0x10000000, b, 1);
    mprof_addrmap_reset();
    ck_assert(!mprof_addrmap_maybe((void *)0x10000000));
}
END_TEST

static mprof_mem_cycle published(const mprof_bucket *b) { return b->rec.mem.active; }

/* Events are published on the second tick after they happen, never
 * earlier; an alloc and free in one window never show as live. */
START_TEST(cycle_publication_delay)
{
    mprof_heap_set_rate(1);
    char blk[2];
    mprof_heap_alloc(&blk[0], 100, stk_a, 3);
    mprof_bucket *b = mprof_bucket_get(MPROF_HEAP, 100, stk_a, 3);
    ck_assert_uint_eq(published(b).allocs, 0);
    mprof_heap_tick();
    ck_assert_uint_eq(published(b).allocs, 0);
    mprof_heap_tick();
    ck_assert_uint_eq(published(b).allocs, 1);
    ck_assert_uint_eq(published(b).alloc_bytes, 100);

    mprof_heap_alloc(&blk[1], 100, stk_a, 3);
    mprof_heap_free(&blk[1]);
    mprof_heap_tick();
    mprof_heap_tick();
    mprof_mem_cycle a = published(b);
    ck_assert_uint_eq(a.allocs, 2);
    ck_assert_uint_eq(a.frees, 1);
    ck_assert_uint_eq(a.alloc_bytes - a.free_bytes, 100);
}
END_TEST

/* Thousands of buckets over every stripe, each with one event: the dirty
 * lists publish each exactly once, however many ticks follow. */
START_TEST(cycle_publishes_each_bucket_once)
{
    mprof_heap_set_rate(1);
    enum { N = 5000 };
    static char blocks[N];
    for (int i = 0; i < N; i++) {
        uintptr_t stk[1] = {0x7000 + (uintptr_t)i * 4};
        mprof_heap_alloc(&blocks[i], 8, stk, 1);
    }
    for (int t = 0; t < 7; t++)
        mprof_heap_tick();
    int n = 0;
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b), n++)
        ck_assert_uint_eq(published(b).allocs, 1);
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i += 2)
        mprof_heap_free(&blocks[i]);
    mprof_heap_tick();
    mprof_heap_tick();
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b))
        ck_assert_uint_le(published(b).frees, 1);
}
END_TEST

struct churn_arg {
    int id;
    int *stop; /* atomic */
    long live;
};

/* Each thread allocates (fake addresses of its own) and frees at random. */
static void *churn(void *p)
{
    struct churn_arg *c = p;
    enum { SLOTS = 256 };
    char *base = malloc(SLOTS);
    int used[SLOTS] = {0};
    uint64_t x = 88172645463325252ULL + (uint64_t)c->id;
    uintptr_t stk[2] = {0x1000 + (uintptr_t)c->id, 0x2000};
    while (!__atomic_load_n(c->stop, __ATOMIC_RELAXED)) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % SLOTS);
        if (used[k])
            mprof_heap_free(base + k);
        else
            mprof_heap_alloc(base + k, 32 + (x >> 60), stk, 2);
        used[k] ^= 1;
    }
    for (int k = 0; k < SLOTS; k++)
        c->live += used[k];
    return NULL;
}

struct check_ctx {
    int bad;
    uint64_t live;
};

static void count_prepare(size_t n, void *ctx) { (void)n; (void)ctx; }

static void check_visit(const mprof_bucket *b, const mprof_mem_cycle *a, void *ctx)
{
    (void)b;
    struct check_ctx *c = ctx;
    if (a->frees > a->allocs || a->free_bytes > a->alloc_bytes)
        c->bad++;
    c->live += a->allocs - a->frees;
}

/* Under concurrent churn, every published state has frees <= allocs in
 * every bucket, and the final snapshot's live count is exact. */
START_TEST(cycle_invariants_under_churn)
{
    mprof_heap_set_rate(1);
    int stop = 0;
    struct churn_arg args[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (struct churn_arg){i, &stop, 0};
        pthread_create(&t[i], NULL, churn, &args[i]);
    }
    for (int round = 0; round < 2000; round++) {
        mprof_heap_tick();
        for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b)) {
            mprof_mem_cycle a = published(b);
            ck_assert_msg(a.frees <= a.allocs, "round %d: frees %llu > allocs %llu",
                          round, (unsigned long long)a.frees, (unsigned long long)a.allocs);
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    long live = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        live += args[i].live;
    }
    struct check_ctx c = {0, 0};
    mprof_heap_snapshot(count_prepare, check_visit, &c);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_uint_eq(c.live, (uint64_t)live);
}
END_TEST

START_TEST(values_unsampled)
{
    mprof_mem_cycle a = {.allocs = 10, .frees = 4, .alloc_bytes = 10 * 512, .free_bytes = 4 * 512};
    int64_t v[4];
    mprof_heap_values(&a, 512, 1, v);
    ck_assert_int_eq(v[0], 10);
    ck_assert_int_eq(v[1], 5120);
    ck_assert_int_eq(v[2], 6);
    ck_assert_int_eq(v[3], 3072);
    /* rate = size: p = 1 - 1/e, scale = 1.5820 */
    mprof_heap_values(&a, 512, 512, v);
    ck_assert_int_eq(v[0], 16);
    ck_assert_int_eq(v[1], 8100);
    ck_assert_int_eq(v[2], 9);
    ck_assert_int_eq(v[3], 4860);
}
END_TEST

START_TEST(reset_forgets_everything)
{
    mprof_heap_set_rate(1);
    char blk;
    mprof_heap_alloc(&blk, 10, stk_a, 3);
    mprof_bucket_reset();
    mprof_heap_reset();
    ck_assert_ptr_null(mprof_bucket_list(MPROF_HEAP));
    ck_assert(!mprof_addrmap_maybe(&blk));
    mprof_heap_free(&blk); /* the parent's block: nothing to charge */
    struct check_ctx c = {0, 0};
    mprof_heap_snapshot(count_prepare, check_visit, &c);
    ck_assert_uint_eq(c.live, 0);
    ck_assert_int_eq(c.bad, 0);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("heap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bucket_identity);
    tcase_add_test(tc, bucket_many_keys);
    tcase_add_test(tc, bucket_concurrent_insert_is_unique);
    tcase_add_test(tc, addrmap_insert_remove);
    tcase_add_test(tc, addrmap_many_shared_slots);
    tcase_add_test(tc, cycle_publication_delay);
    tcase_add_test(tc, cycle_publishes_each_bucket_once);
    tcase_add_test(tc, cycle_invariants_under_churn);
    tcase_add_test(tc, values_unsampled);
    tcase_add_test(tc, reset_forgets_everything);
    return run_suite("heap", tc, NULL);
}
