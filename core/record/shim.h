/*
 * shim.h: what the shim (preload/) tests inline on its fast paths, and
 * the few macros it is written with.  With profiler.h, the slow paths and
 * state changes, it is the shim's one door into core/: the files of preload/
 * include these two and their own real.h, nothing else of core/
 * (test/quality/layers.sh checks it).
 *
 * Why a header of inline tests rather than calls: an unsampled malloc or
 * free, an uncontended lock or unlock, must cost a few loads and compares,
 * not a call into core/.  So the state those tests read is reached here
 * directly, and only here:
 *
 *   mprof_tls.bytes_until_sample   the thread's heap countdown (tls.h)
 *   mprof_guarded(), mprof_guard_enter/exit
 *                                  the reentrancy guard (tls.h)
 *   mprof_addrmap_maybe(p)         free's filter: may p be sampled? (addrmap.h)
 *   mprof_ownheap_owns(p), mprof_ownheap_busy()
 *                                  is p mprof's own; is this thread inside
 *                                  the own heap (ownheap.h)
 *   mprof_lockwait_maybe(lock)     unlock's filter: may the lock have
 *                                  tracked waiters? (lockwait.h)
 *   mprof_shim_started()           the profiler is up (profiler.h's flag)
 *   mprof_shim_locks_observed()    the lock wrappers' one global test
 *   mprof_hold_profiling           MPROF_MUTEX_HOLD: mutex acquisitions and
 *                                  releases are timed (profiler.h)
 *   mprof_lock, MPROF_FORK_STATE   mprof's own futex lock and the fork
 *                                  section, for the shim's own state
 *                                  (signal.c's dispositions, threads.c's
 *                                  count: lock.h)
 *
 * Everything else those headers declare (inserting into the map, the own
 * heap's allocation calls, the waiter records) is core's business: the
 * shim calls it through profiler.h, which handles the guard and errno.
 *
 * Each test reads thread-local or one small shared table, with no lock,
 * no system call and no allocation; each is async-signal-safe.  The idea
 * of one narrow header for an interposer's exported half is heaptrack's
 * libheaptrack.h (its preload's only include) and mimalloc's
 * alloc-override.c (the exported symbols, and nothing else).
 */
#ifndef MPROF_SHIM_H
#define MPROF_SHIM_H

#include "addrmap.h"
#include "lock.h"
#include "lockwait.h"
#include "ownheap.h"
#include "profiler.h"
#include "tls.h"

/* An exported symbol of libmprof.so (everything else is hidden). */
#define MPROF_EXPORT __attribute__((visibility("default")))

/* Branch hints for the fast paths: the expected case falls through. */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#pragma GCC visibility push(hidden)

/* mprof_profiler_start has run: settings are read, sampling may begin. */
static inline int mprof_shim_started(void)
{
    return __atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE) != 0;
}

/* Profile this lock call?  Not before the profiler is up with the block
 * or mutex profile on, not for mprof's own calls (guard set). */
static inline int mprof_shim_locks_observed(void)
{
    return likely(mprof_lock_profiling) && likely(!mprof_tls.guard);
}

#pragma GCC visibility pop

#endif
