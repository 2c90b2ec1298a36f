/*
 * lock.h: mprof's own mutex, a three-state futex lock (Drepper, "Futexes Are
 * Tricky", mutex2).  It never calls pthread_mutex_*, so mprof's locking is
 * invisible to the lock profiler and cannot recurse into the shim; it never
 * allocates, so it is usable from inside malloc.
 *
 * State: 0 unlocked, 1 locked, 2 locked with possible waiters.
 *
 * Rule for every mprof lock: hold it only for bookkeeping.  Never call the
 * unwinder, the dynamic loader, elfutils, zlib or the application's allocator
 * while holding one (other profilers deadlocked exactly so).
 */
#ifndef MPROF_LOCK_H
#define MPROF_LOCK_H

#include <stdatomic.h>

typedef struct mprof_lock {
    atomic_int state;
} mprof_lock;

#define MPROF_LOCK_INIT {0}

/*
 * Where state goes that every fork touches, in the parent and in the child
 * (the locks fork's handlers take, what the child resets): all of it in one
 * section of its own, so that it shares a page or two.  After fork each
 * page a process writes is copied, and a fork that writes one word in each
 * of a dozen files' data costs a dozen copies on both sides.
 */
#define MPROF_FORK_STATE __attribute__((section("mprof_fork_state")))

void mprof_lock_wait(mprof_lock *l);
void mprof_lock_wake(mprof_lock *l);

static inline void mprof_lock_acquire(mprof_lock *l)
{
    int expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             &l->state, &expected, 1, memory_order_acquire,
                             memory_order_relaxed), 1))
        return;
    mprof_lock_wait(l);
}

static inline void mprof_lock_release(mprof_lock *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        mprof_lock_wake(l);
}

/* After fork, in the child: the only thread left owns nothing. */
static inline void mprof_lock_reset(mprof_lock *l)
{
    /* Only if held: a write would copy the page shared with the parent. */
    if (atomic_load_explicit(&l->state, memory_order_relaxed))
        atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif
