/*
 * lockwait.h: who is waiting for which lock, for the mutex profile.
 *
 * A record exists for a lock only while at least one thread waits for it
 * inside our wrappers: created by the first waiter, freed by the last one
 * to stop waiting.  So a lock that is destroyed and whose memory is reused
 * cannot inherit a stale record (a destroyed lock has no waiters).
 *
 * The delay to charge an unlocker is what its hold cost the waiters, every
 * waiter counted (as Go does since 1.22).  For a lock with n waiters that
 * started waiting at s_i, and the previous unlock (or handoff) at r:
 *
 *     charge(u) = sum_i (u - max(s_i, r)) = n * u - sum_i max(s_i, r)
 *
 * The record keeps n and S = sum_i max(s_i, r); an unlock at u is charged
 * n*u - S and sets r = u, S = n*u.  Summed over all unlocks, charges equal
 * the waiters' total wait up to their last unlock (the wake-up latency
 * after it is nobody's hold time).
 *
 * The unlock fast path reads one slot of a small counting filter, like the
 * address map's: zero means no record, so no clock read and no lock.
 */
#ifndef MPROF_LOCKWAIT_H
#define MPROF_LOCKWAIT_H

#include <stdatomic.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define MPROF_LOCKWAIT_FILTER_BITS 12

extern _Atomic uint16_t mprof_lockwait_filter[1 << MPROF_LOCKWAIT_FILTER_BITS];

static inline unsigned mprof_lockwait_slot(const void *lock)
{
    return (unsigned)(((uint64_t)(uintptr_t)lock * 0x9E3779B97F4A7C15ULL) >>
                      (64 - MPROF_LOCKWAIT_FILTER_BITS));
}

/* Unlock fast path: may this lock have waiters we know of? */
static inline int mprof_lockwait_maybe(const void *lock)
{
    return atomic_load_explicit(&mprof_lockwait_filter[mprof_lockwait_slot(lock)],
                                memory_order_relaxed) != 0;
}

/* A thread starts waiting for `lock` at time t (ns).  Returns 0, or -1 if
 * out of memory (the wait then goes unrecorded in the mutex profile). */
int mprof_lockwait_begin(const void *lock, int64_t t);

/* It stops waiting (acquired, timed out or failed); `t` is its start time. */
void mprof_lockwait_end(const void *lock, int64_t t);

/* An unlock at time u: the delay (ns, summed over waiters) to charge. */
int64_t mprof_lockwait_charge(const void *lock, int64_t u);

void mprof_lockwait_reset(void);

#pragma GCC visibility pop

#endif
