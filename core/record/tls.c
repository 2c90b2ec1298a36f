/* tls.c: the per-thread state and its reentrancy guard (see tls.h). */
#include "tls.h"

__thread struct mprof_tls mprof_tls __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) void mprof_guard_enter(void)
{
    struct mprof_tls *t = &mprof_tls;
    if (t->guard++ == 0) {
        t->saved_countdown = t->bytes_until_sample;
        t->bytes_until_sample = 0;
    }
}

__attribute__((noinline)) void mprof_guard_exit(void)
{
    struct mprof_tls *t = &mprof_tls;
    if (--t->guard == 0)
        t->bytes_until_sample = t->saved_countdown;
}
