/* Unit tests of core/record/block.c (block and mutex sampling, records) and
 * core/record/lockwait.c (per-lock waiter records and unlock charges). */
#include "block.h"
#include "bucket.h"
#include "lockwait.h"
#include "profiler.h"

#include <check.h>
#include "run_suite.h"
#include <math.h>

/* Waits of a fixed mix of durations, sampled at rate r: the scaled totals
 * must estimate the true count and delay within 5 standard deviations. */
START_TEST(block_sampling_unbiased)
{
    const uint64_t rate = 10000;
    const int64_t durations[] = {100, 1000, 5000, 9999, 10000, 50000};
    uint64_t rng = 99;
    for (size_t k = 0; k < sizeof durations / sizeof durations[0]; k++) {
        int64_t d = durations[k];
        const int n = 200000;
        double count = 0, delay = 0;
        for (int i = 0; i < n; i++) {
            double c, dl;
            if (mprof_block_sampled(d, rate, &rng, &c, &dl)) {
                count += c;
                delay += dl;
            }
        }
        double p = d >= (int64_t)rate ? 1.0 : (double)d / rate;
        /* count is n_sampled / p: sd = sqrt(n (1-p) / p) */
        double sd = sqrt(n * (1 - p) / p);
        ck_assert_msg(fabs(count - n) <= 5 * sd + 1e-9, "d=%lld: count %.0f vs %d",
                      (long long)d, count, n);
        ck_assert_msg(fabs(delay - (double)n * d) <= (5 * sd + 1e-9) * d,
                      "d=%lld: delay %.0f vs %.0f", (long long)d, delay, (double)n * d);
    }
}
END_TEST

START_TEST(block_rate_one_records_everything)
{
    uint64_t rng = 5;
    double c, d;
    for (int64_t w = 1; w < 100000; w += 997) {
        ck_assert(mprof_block_sampled(w, 1, &rng, &c, &d));
        ck_assert(c == 1.0 && d == (double)w);
    }
    ck_assert(!mprof_block_sampled(500, 0, &rng, &c, &d));
}
END_TEST

START_TEST(mutex_fraction_scales)
{
    uint64_t rng = 7;
    const int n = 300000;
    int tracked = 0;
    for (int i = 0; i < n; i++)
        tracked += mprof_mutex_track(10, &rng);
    /* tracked ~ Binomial(n, 0.1): sd = sqrt(n * .1 * .9) */
    ck_assert_msg(fabs(tracked - n * 0.1) < 5 * sqrt(n * 0.1 * 0.9), "tracked %d", tracked);
    ck_assert(!mprof_mutex_track(0, &rng));
    for (int i = 0; i < 100; i++)
        ck_assert(mprof_mutex_track(1, &rng));
    double c, d;
    mprof_mutex_scaled(1000, 10, &c, &d);
    ck_assert(c == 10.0 && d == 10000.0);
    mprof_mutex_scaled(1000, 1, &c, &d);
    ck_assert(c == 1.0 && d == 1000.0);
}
END_TEST

START_TEST(records_accumulate_per_stack)
{
    uintptr_t a[] = {0x1000, 0x2000}, b[] = {0x1000, 0x2004};
    mprof_block_add(MPROF_BLOCK, 0, a, 2, 1, 100, 0);
    mprof_block_add(MPROF_BLOCK, 0, a, 2, 2, 300, 0);
    mprof_block_add(MPROF_BLOCK, 0, b, 2, 1, 50, 0);
    mprof_block_add(MPROF_MUTEX, 0, a, 2, 10, 1000, 0);
    mprof_bucket *ba = mprof_bucket_get(MPROF_BLOCK, 0, a, 2);
    ck_assert(ba->rec.blk.count == 3 && ba->rec.blk.delay_ns == 400);
    mprof_bucket *ma = mprof_bucket_get(MPROF_MUTEX, 0, a, 2);
    ck_assert_ptr_ne(ba, ma);
    ck_assert(ma->rec.blk.count == 10 && ma->rec.blk.delay_ns == 1000);
    mprof_bucket_reset();
    mprof_block_reset();
    ck_assert_ptr_null(mprof_bucket_list(MPROF_BLOCK));
    mprof_bucket *fresh = mprof_bucket_get(MPROF_BLOCK, 0, a, 2);
    ck_assert_ptr_ne(fresh, ba);
    ck_assert(fresh->rec.blk.count == 0 && fresh->rec.blk.delay_ns == 0);
}
END_TEST

/* Two waiters, three holders in turn: the charges add up to exactly the
 * waiters' waits up to the last unlock, and go where the holds were. */
START_TEST(lockwait_charges_sum_to_waits)
{
    int lock = 0;
    ck_assert(!mprof_lockwait_maybe(&lock));
    ck_assert_int_eq(mprof_lockwait_begin(&lock, 100), 0); /* W1 from 100 */
    ck_assert(mprof_lockwait_maybe(&lock));
    ck_assert_int_eq(mprof_lockwait_begin(&lock, 150), 0); /* W2 from 150 */
    /* H1 unlocks at 200: W1 waited 100, W2 50 during its hold */
    ck_assert_int_eq(mprof_lockwait_charge(&lock, 200), 150);
    /* W1 gets it at 210 and leaves the waiters */
    mprof_lockwait_end(&lock, 100);
    /* W1 unlocks at 300: only W2 waited, 100 ns since the last unlock */
    ck_assert_int_eq(mprof_lockwait_charge(&lock, 300), 100);
    /* a second charge at the same time adds nothing */
    ck_assert_int_eq(mprof_lockwait_charge(&lock, 300), 0);
    mprof_lockwait_end(&lock, 150);
    /* no waiters: record gone, filter clear, nothing to charge */
    ck_assert(!mprof_lockwait_maybe(&lock));
    ck_assert_int_eq(mprof_lockwait_charge(&lock, 400), 0);
}
END_TEST

/* A lock whose memory is reused after its waiters left starts clean. */
START_TEST(lockwait_reuse_starts_clean)
{
    long storage = 0;
    ck_assert_int_eq(mprof_lockwait_begin(&storage, 1000), 0);
    mprof_lockwait_end(&storage, 1000);
    ck_assert_int_eq(mprof_lockwait_begin(&storage, 5000), 0);
    ck_assert_int_eq(mprof_lockwait_charge(&storage, 5100), 100);
    mprof_lockwait_end(&storage, 5000);
}
END_TEST

START_TEST(lockwait_many_locks)
{
    static long locks[20000];
    for (int i = 0; i < 20000; i++)
        ck_assert_int_eq(mprof_lockwait_begin(&locks[i], i), 0);
    for (int i = 0; i < 20000; i++)
        ck_assert_int_eq(mprof_lockwait_charge(&locks[i], 100000), 100000 - i);
    for (int i = 0; i < 20000; i++)
        mprof_lockwait_end(&locks[i], i);
    for (int i = 0; i < 20000; i++)
        ck_assert_int_eq(mprof_lockwait_charge(&locks[i], 200000), 0);
}
END_TEST

/* MPROF_MUTEX_HOLD's per-thread list of held locks: entries never ended
 * (a mutex another thread unlocked) do not keep it full for good. */
START_TEST(hold_list_survives_stale_entries)
{
    for (uintptr_t i = 0; i < 20; i++)
        mprof_profiler_hold_begin((const void *)(0x1000 + i), 100);
    mprof_profiler_hold_begin((const void *)0x9999, 1000);
    ck_assert_int_eq(mprof_profiler_hold_end((const void *)0x9999, 1500), 500);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("block");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, block_sampling_unbiased);
    tcase_add_test(tc, block_rate_one_records_everything);
    tcase_add_test(tc, mutex_fraction_scales);
    tcase_add_test(tc, records_accumulate_per_stack);
    tcase_add_test(tc, lockwait_charges_sum_to_waits);
    tcase_add_test(tc, lockwait_reuse_starts_clean);
    tcase_add_test(tc, lockwait_many_locks);
    tcase_add_test(tc, hold_list_survives_stale_entries);
    return run_suite("block", tc, NULL);
}
