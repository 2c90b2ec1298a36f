/* Unit tests of core/record/threadreg.c, the tid -> TLS table that the
 * threads profile reads waits from: a thread's wait is read through the
 * kernel, so a TLS that was unmapped (a thread that ended, its stack
 * freed) reads as no wait instead of killing the process. */
#include "threadreg.h"
#include "waitcall.h"

#include <check.h>
#include "run_suite.h"
#include <stdint.h>
#include <sys/mman.h>
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

int main(void)
{
    TCase *tc = tcase_create("threadreg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, wait_of_an_unmapped_tls_is_none);
    return run_suite("threadreg", tc, NULL);
}
