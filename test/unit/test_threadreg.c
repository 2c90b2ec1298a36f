/* Unit tests of core/record/threadreg.c, the tid -> TLS table that the
 * threads profile reads waits from: a thread's wait is read through the
 * kernel, so a TLS that was unmapped (a thread that ended, its stack
 * freed) reads as no wait instead of killing the process; and lookups
 * stay right and bounded however many threads came and went. */
#include "threadreg.h"
#include "waitcall.h"

#include <check.h>
#include "run_suite.h"
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* A TLS in a page of its own, as a thread's lies in its stack. */
static struct mprof_tls *tls_page(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    return m;
}

/* The wait is read while the TLS is there; once its page is unmapped
 * (the dump found the slot, then the thread ended and its stack went),
 * the read fails softly: no wait, no fault. */
START_TEST(wait_of_an_unmapped_tls_is_none)
{
    struct mprof_tls *tls = tls_page();
    tls->wait_call = MPROF_WAIT_MUTEX_LOCK + 1;
    tls->wait_obj = (const void *)(uintptr_t)0x1234;
    ck_assert_int_eq(mprof_threadreg_add(4242, tls), 0);
    int call;
    const void *obj;
    ck_assert_int_eq(mprof_threadreg_wait(4242, &call, &obj), 0);
    ck_assert_int_eq(call, MPROF_WAIT_MUTEX_LOCK);
    ck_assert_ptr_eq(obj, (const void *)(uintptr_t)0x1234);
    ck_assert_int_eq(munmap(tls, 4096), 0);
    ck_assert_int_eq(mprof_threadreg_wait(4242, &call, &obj), 0);
    ck_assert_int_eq(call, MPROF_WAIT_NONE);
    ck_assert_ptr_null(obj);
    mprof_threadreg_remove(4242);
    ck_assert_int_eq(mprof_threadreg_wait(4242, &call, &obj), -1);
}
END_TEST

/* Threads come and go, many more tids over time than the table has slots
 * (2^16), LIVE of them registered at once, as a long-lived server's are:
 * every live one is found with its TLS, every ended one is not; and once
 * the churn has left no slot never used, a lookup of an unregistered tid
 * (mprof's own thread, at every dump) still examines at most 64 slots,
 * counted, not all 65,536 (as when a lookup ended only at a never-used
 * slot): no clock in it. */
START_TEST(churn_keeps_lookups_right_and_bounded)
{
    enum { LIVE = 1000, TIDS = 2000000 };
    static struct mprof_tls tls[LIVE];
    int call;
    const void *obj;
    for (int tid = 1; tid <= TIDS; tid++) {
        ck_assert_int_eq(mprof_threadreg_add(tid, &tls[tid % LIVE]), 0);
        if (tid > LIVE)
            mprof_threadreg_remove(tid - LIVE);
        if (tid % 99991 == 0) { /* now and then: every live one, some ended ones */
            for (int k = tid - LIVE + 1; k <= tid; k++)
                ck_assert_int_eq(mprof_threadreg_wait(k, &call, &obj), 0);
            for (int k = tid - 2 * LIVE; k > 0 && k <= tid - LIVE; k++)
                ck_assert_int_eq(mprof_threadreg_wait(k, &call, &obj), -1);
        }
    }
    tls[7].wait_call = MPROF_WAIT_COND_WAIT + 1;
    tls[7].wait_obj = &tls[7];
    int tid7 = TIDS - LIVE + 7; /* live (TIDS % LIVE == 0), its TLS tls[7] */
    ck_assert_int_eq(mprof_threadreg_wait(tid7, &call, &obj), 0);
    ck_assert_int_eq(call, MPROF_WAIT_COND_WAIT);
    ck_assert_ptr_eq(obj, &tls[7]);
    unsigned long before = mprof_threadreg_probes();
    for (int k = 0; k < 100000; k++)
        ck_assert_int_eq(mprof_threadreg_wait(TIDS + 1 + k, &call, &obj), -1);
    unsigned long per = (mprof_threadreg_probes() - before) / 100000;
    ck_assert_msg(per <= 64, "a lookup of an unregistered tid examined %lu slots", per);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("threadreg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, wait_of_an_unmapped_tls_is_none);
    tcase_add_test(tc, churn_keeps_lookups_right_and_bounded);
    return run_suite("threadreg", tc, NULL);
}
