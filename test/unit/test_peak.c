/* Unit tests of the peak heap and the growth mark (core/record/peak.c),
 * driven through heap.c's sampled events at rate 1 (exact), without the
 * shim.  Check forks each test, so each starts from an empty profiler. */
#include "bucket.h"
#include "config.h"
#include "heap.h"
#include "peak.h"

#include <check.h>
#include "run_suite.h"
#include <math.h>
#include <string.h>
#include <sys/mman.h>

static const uintptr_t stk_a[] = {0x401000, 0x402000, 0x403000};
static const uintptr_t stk_b[] = {0x401000, 0x402000, 0x403004};

/* Addresses for the address map: never dereferenced, never freed. */
static char *space(size_t n)
{
    void *p = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

struct seen {
    uint64_t a_objects, a_bytes, b_objects, b_bytes;
    size_t n, prepared;
};

static void prepare(size_t n, void *ctx) { ((struct seen *)ctx)->prepared = n; }

static void visit(const mprof_bucket *b, uint64_t objects, uint64_t bytes, void *ctx)
{
    struct seen *s = ctx;
    s->n++;
    if (b->nstk == 3 && b->stk[2] == stk_a[2]) {
        s->a_objects += objects;
        s->a_bytes += bytes;
    } else {
        s->b_objects += objects;
        s->b_bytes += bytes;
    }
}

static mprof_peak_info snapshot(struct seen *s)
{
    mprof_peak_info info;
    memset(s, 0, sizeof *s);
    mprof_peak_snapshot(prepare, visit, s, &info);
    ck_assert_uint_eq(s->n, s->prepared);
    return info;
}

/* Every new high copied (growth 0): the copy is the heap at its highest,
 * not after; frees never copy. */
START_TEST(keeps_the_high_water_mark)
{
    mprof_heap_set_rate(1);
    mprof_peak_init(0, 0);
    char *p = space(1 << 20);
    for (int i = 0; i < 10; i++)
        mprof_heap_alloc(p + i, 100, stk_a, 3);
    for (int i = 0; i < 5; i++)
        mprof_heap_alloc(p + 100 + i, 200, stk_b, 3);
    for (int i = 0; i < 10; i++)
        mprof_heap_free(p + i);
    for (int i = 0; i < 3; i++)
        mprof_heap_alloc(p + 200 + i, 200, stk_b, 3);
    struct seen s;
    mprof_peak_info info = snapshot(&s);
    ck_assert_uint_eq(s.a_objects, 10);
    ck_assert_uint_eq(s.a_bytes, 1000);
    ck_assert_uint_eq(s.b_objects, 5);
    ck_assert_uint_eq(s.b_bytes, 1000);
    ck_assert_uint_eq(info.inuse_est, 2000);
    ck_assert_int_gt(info.time_ns, 0);
    ck_assert_uint_eq(info.copies, 15); /* one per new high */
}
END_TEST

/* At growth g the copies are bounded by 1 + log(P / first) / log(1 + g)
 * (fewer at first, where one block is a step of more than g), and the
 * saved peak is within a factor 1 + g of the highest. */
START_TEST(copies_bounded_by_log_growth)
{
    enum { N = 200000, SIZE = 1000 };
    mprof_heap_set_rate(1);
    mprof_peak_init(10, 0);
    char *p = space(N);
    for (int i = 0; i < N; i++)
        mprof_heap_alloc(p + i, SIZE, i % 2 ? stk_a : stk_b, 3);
    struct seen s;
    mprof_peak_info info = snapshot(&s);
    double bound = 1 + log((double)N * SIZE / SIZE) / log(1.1);
    ck_assert_msg(info.copies <= (uint64_t)bound && info.copies >= (uint64_t)bound / 2,
                  "%llu copies for a %d-fold growth at 10%%: bound %.1f",
                  (unsigned long long)info.copies, N, bound);
    ck_assert_uint_le(info.inuse_est, (uint64_t)N * SIZE);
    ck_assert_uint_ge(info.inuse_est, (uint64_t)((double)N * SIZE / 1.1));
    ck_assert_uint_eq(s.a_bytes + s.b_bytes, info.inuse_est);
}
END_TEST

/* MPROF_PEAK_GROWTH=off: no copy is ever made. */
START_TEST(off_makes_no_copy)
{
    mprof_heap_set_rate(1);
    mprof_peak_init(MPROF_PEAK_OFF, 0);
    char *p = space(4096);
    for (int i = 0; i < 100; i++)
        mprof_heap_alloc(p + i, 64, stk_a, 3);
    struct seen s;
    mprof_peak_info info = snapshot(&s);
    ck_assert_uint_eq(info.copies, 0);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* The growth mark: a dump is due each time in-use passes the last mark by
 * the interval, once per crossing; shrinking and growing back below the
 * mark plus the interval asks for none. */
START_TEST(growth_mark_once_per_step)
{
    mprof_heap_set_rate(1);
    mprof_peak_init(MPROF_PEAK_OFF, 1000);
    char *p = space(4096);
    int due[64] = {0};
    for (int i = 0; i < 35; i++)
        due[i] = mprof_heap_alloc(p + i, 100, stk_a, 3);
    for (int i = 0; i < 35; i++)
        ck_assert_msg(due[i] == (i == 9 || i == 19 || i == 29), "allocation %d: %d", i, due[i]);
    for (int i = 0; i < 10; i++) /* 3500 -> 2500 */
        mprof_heap_free(p + i);
    for (int i = 0; i < 14; i++) /* 2500 -> 3900: below 3000 + 1000 */
        ck_assert_int_eq(mprof_heap_alloc(p + 100 + i, 100, stk_a, 3), 0);
    ck_assert_int_eq(mprof_heap_alloc(p + 200, 100, stk_a, 3), 1); /* 4000 */
}
END_TEST

START_TEST(reset_forgets_the_peak)
{
    mprof_heap_set_rate(1);
    mprof_peak_init(0, 0);
    char *p = space(4096);
    mprof_heap_alloc(p, 100, stk_a, 3);
    mprof_bucket_reset();
    mprof_heap_reset();
    mprof_peak_reset();
    struct seen s;
    mprof_peak_info info = snapshot(&s);
    ck_assert_uint_eq(info.copies, 0);
    ck_assert_uint_eq(s.n, 0);
    /* A child's own peak: 50, not whatever it adds to its parent's. */
    mprof_heap_alloc(p + 1, 50, stk_b, 3);
    mprof_heap_free(p + 1);
    mprof_heap_alloc(p + 2, 40, stk_b, 3);
    info = snapshot(&s);
    ck_assert_uint_eq(info.inuse_est, 50);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("peak");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, keeps_the_high_water_mark);
    tcase_add_test(tc, copies_bounded_by_log_growth);
    tcase_add_test(tc, off_makes_no_copy);
    tcase_add_test(tc, growth_mark_once_per_step);
    tcase_add_test(tc, reset_forgets_the_peak);
    return run_suite("peak", tc, NULL);
}
