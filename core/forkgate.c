/*
 * forkgate.c: the fork gate (see forkgate.h).
 *
 * One word: the number of threads inside (low 16 bits) and the number of
 * forks in progress (above; glibc runs the prepare handlers of concurrent
 * forks concurrently). fork's prepare handler adds a fork and waits on the
 * word (a futex) for the count inside to fall to 0; whoever leaves last
 * while a fork waits wakes it. Those inside never wait for anything the
 * forking thread holds, so the wait ends.
 */
#include "forkgate.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ONE_FORK 0x10000u
#define INSIDE 0xffffu

static atomic_uint gate;

static long futex(atomic_uint *w, int op, unsigned val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

int mprof_forkgate_enter(void)
{
    unsigned v = atomic_load(&gate);
    while (v < ONE_FORK)
        if (atomic_compare_exchange_weak(&gate, &v, v + 1))
            return 1;
    return 0;
}

void mprof_forkgate_leave(void)
{
    unsigned v = atomic_fetch_sub(&gate, 1) - 1;
    if (v >= ONE_FORK && (v & INSIDE) == 0)
        futex(&gate, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/* Holds nest on one thread (a dump's indexing holds the gate and reads a
 * deleted library's image, which holds it too): only the outermost enters
 * and leaves, so a fork arriving in between never waits for a thread that
 * waits for it. */
static __thread int held;

void mprof_forkgate_hold(void)
{
    if (held++)
        return;
    /* A fork in progress is short (its prepare waits only for those
     * inside): wait it out rather than go on outside. */
    while (!mprof_forkgate_enter()) {
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
}

void mprof_forkgate_release(void)
{
    if (--held == 0)
        mprof_forkgate_leave();
}

void mprof_forkgate_fork_prepare(void)
{
    unsigned v = atomic_fetch_add(&gate, ONE_FORK) + ONE_FORK;
    while (v & INSIDE) {
        futex(&gate, FUTEX_WAIT_PRIVATE, v);
        v = atomic_load(&gate);
    }
}

void mprof_forkgate_fork_parent(void) { atomic_fetch_sub(&gate, ONE_FORK); }

void mprof_forkgate_fork_child(void) { atomic_store(&gate, 0); }
