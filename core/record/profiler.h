/*
 * profiler.h: the profiler's life cycle, as the shim drives it: start once
 * settings are read, record sampled events, follow fork, dump at exit.
 * This is the API preload/ calls; everything behind it is core/.  With
 * shim.h (the inline tests of the fast paths) it is the shim's only way
 * into core/: where the shim needs the mprof thread, the published state,
 * the waiter records, the unwinder or the own heap, it goes through a
 * function here, which takes the reentrancy guard (and keeps errno) where
 * the call needs it, so that preload/ holds no such knowledge.
 */
#ifndef MPROF_PROFILER_H
#define MPROF_PROFILER_H

#include "bucket.h"
#include "config.h"
#include "rebind.h"
#include "tls.h"
#include "waitcall.h"

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Set once mprof_profiler_start has run; before that nothing is sampled. */
extern int mprof_ready;

/* Nonzero once started with the block or mutex profile on: the lock
 * wrappers' one global check. */
extern int mprof_lock_profiling;

/* Nonzero once started with MPROF_MUTEX_HOLD=1 and the mutex profile on:
 * mutex acquisitions and releases are timed (block.h, hold time). */
extern int mprof_hold_profiling;

/* Copies *cfg; starts the mprof thread.  Call with the guard set. */
void mprof_profiler_start(const mprof_config *cfg);
const mprof_config *mprof_profiler_config(void);

/* Slow path of an allocation whose size reached the thread's countdown:
 * seeds the thread, or samples p and draws the next interval.  Handles the
 * guard itself; p may be NULL (failed allocation: nothing recorded).
 * Returns p, so that the shim's call is a tail call: every frame of
 * mprof's on the stack is one more the unwinder must walk through. */
void *mprof_profiler_on_alloc(void *p, size_t size);

/* Draw this thread's first countdown now rather than at its first
 * allocation (call without the guard). */
void mprof_profiler_arm_thread(void);

/* A free (or realloc away) of p, which the filter flagged. */
void mprof_profiler_on_free(const void *p);

/* realloc of a possibly sampled block, in three steps around the real
 * realloc: take the block out of the address map (1 if it was sampled),
 * then either restore it (the realloc failed, the block is still live) or
 * release it (charge the free to its bucket). */
typedef struct mprof_taken {
    struct mprof_bucket *bucket;
    uint64_t size;
} mprof_taken;
int mprof_profiler_take(const void *p, mprof_taken *t);
void mprof_profiler_restore(const void *p, const mprof_taken *t);
void mprof_profiler_release(const mprof_taken *t);

/* The exit dump: once, complete, never from inside mprof itself. */
void mprof_profiler_exit(void);

/* A thread waited `delay` ns in the blocking call `call` (waitcall.h) on
 * `obj` (the lock, condition variable, semaphore or barrier; NULL for a
 * join): block profile, the waiter's stack under the call's synthetic
 * frame, the sample labelled with the object (captured here, so call it
 * from the wrapper). */
void mprof_profiler_on_block(int64_t delay, int call, const void *obj);

/* The same in two steps, for a wait that returns holding a lock (a
 * condition variable's mutex): the draw, then, only when it says so and
 * once the caller has let the lock go, the recording.  The caller fills
 * call and obj. */
typedef struct mprof_block_event {
    double count, delay;
    int call;
    const void *obj;
} mprof_block_event;
int mprof_profiler_block_sampled(int64_t delay, mprof_block_event *e);
void mprof_profiler_block_record(const mprof_block_event *e);

/* An unlock of `lock` in `call` (pthread_mutex_unlock, or a condition
 * wait that released it) that made tracked waiters wait `delay` ns in
 * total (mutex profile; the unlocker's stack, as Go's
 * sync.(*Mutex).Unlock leaf), after holding it `hold` ns (0: not timed). */
void mprof_profiler_on_contention(int64_t delay, int64_t hold, int call, const void *lock);

/* MPROF_MUTEX_HOLD: the calling thread took mutex `lock` at `now` (ns),
 * or lets it go at `now`: how long it held it, 0 if it was not timed.
 * Thread-local only: no lock, no system call. */
void mprof_profiler_hold_begin(const void *lock, int64_t now);
int64_t mprof_profiler_hold_end(const void *lock, int64_t now);

int mprof_profiler_block_on(void);

/* Is the wait that is starting one of the 1/N tracked by the mutex
 * profile?  (0 when the mutex profile is off.) */
int mprof_profiler_mutex_track(void);

void mprof_profiler_fork_prepare(void);
void mprof_profiler_fork_parent(void);
void mprof_profiler_fork_child(void);

/* ---- start-up (init.c) ---- */

/* The defaults, then the MPROF_* settings that `get` finds (config.h: a
 * bad value gets one mprof: line and the default). */
void mprof_profiler_read_settings(mprof_config *cfg, mprof_env_lookup get, void *ctx);

/* Stacks start at the first frame outside the object containing `addr`
 * (the library passes one of its own functions; stack.h).  Once, at start,
 * before the first sample. */
void mprof_profiler_skip_object_of(const void *addr);

/* ---- the lock wrappers (pthread.c) ----
 * Each takes the guard around core's records itself and leaves errno as
 * it found it: the wrapper calls them between the program's call and its
 * return.  Times are CLOCK_MONOTONIC ns. */

/* A wait for `lock` that is about to block, from `start`: 1 if it is one
 * of the 1/N the mutex profile tracks and is now registered with the lock
 * (end it with mprof_profiler_wait_untrack), 0 if not (mutex profile off,
 * not drawn, or out of memory). */
int mprof_profiler_wait_track(const void *lock, int64_t start);

/* A tracked wait ended (acquired, timed out or failed); `start` as given
 * to mprof_profiler_wait_track. */
void mprof_profiler_wait_untrack(const void *lock, int64_t start);

/* An unlock of `lock` at `now` that the filter (mprof_lockwait_maybe)
 * flagged: the delay its tracked waiters are to charge the unlocker, ns,
 * 0 if none.  Record it with mprof_profiler_on_contention once the lock is
 * released. */
int64_t mprof_profiler_unlock_charge(const void *lock, int64_t now);

/* ---- threads the program starts (threads.c) ---- */

/* pthread_create is about to start a thread for the caller: the
 * threadcreate profile (threadcreate.h) counts it, created and live, under
 * the caller's stack.  Returns the handle for the thread's end, or NULL
 * (profile off, profiler not up, guard set, no memory).  Takes the guard
 * itself and keeps errno.  Every creation costs one stack walk (a few
 * microseconds, against pthread_create's tens); MPROF_THREADCREATE=0
 * leaves a flag test. */
void *mprof_profiler_thread_create(void);

/* The pthread_create that mprof_profiler_thread_create announced failed. */
void mprof_profiler_thread_create_failed(void *created);

/* The thread whose creation returned `created` ends (its start routine
 * returned, it called pthread_exit, or it was cancelled).  Lock-free. */
void mprof_profiler_thread_end(void *created);

/* The calling thread starts (the main thread at start-up, the others in
 * the shim's start routine) or ends: registered by tid, so that the
 * threads profile can say what it waits in (threadreg.h; tls.h's
 * wait_call and wait_obj, which the lock wrappers set before a wait
 * blocks).  Begin makes one gettid system call, finish none; both keep
 * errno and take no lock. */
void mprof_profiler_thread_begin(void);
/* The same for the main thread, at start-up: no system call (threadreg.h). */
void mprof_profiler_main_thread(void);
void mprof_profiler_thread_finish(void);

/* ---- the mprof thread and the published state (signal.c, threads.c) ---- */

/* The dump signal arrived: wake the mprof thread to dump.  Async-signal-
 * safe (an atomic store and a futex wake), errno kept (agent.h). */
void mprof_profiler_request_dump(void);

/*
 * Last words: a termination signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT,
 * SIGABRT) reached mprof's handler, the program having left it at its
 * default action.  Asks the mprof thread for the final dump (as the exit
 * dump: every profile, then no more dumps) and waits for it at most
 * MPROF_LAST_WORDS ms; the caller then restores SIG_DFL and raises the
 * signal again, so that the process dies of it as bare.  Returns at once
 * when it is off, when nothing was recorded (no mprof thread), when the
 * exit dump is written, or on a thread inside mprof (whose locks the dump
 * might need).  Returns 0, having done nothing, in a child made without
 * the fork handlers (vfork before exec, _Fork), which must not write the
 * state it shares with its parent; else 1.  Async-signal-safe (atomics,
 * futex, clock_gettime, getpid); errno kept.  The idea: the JVM's and Go's "dump, then die of the signal"
 * (Go's dieFromSignal: SIG_DFL, unblock, raise).
 */
int mprof_profiler_last_words(void);

/* mprof's handler for `sig` (0: none) is installed (own 1) or is not, for
 * `mprof dump` to read (publish.h: raw system calls, errno kept). */
void mprof_profiler_signal_owned(int sig, int own);

/* Around a call that needs the process to have one thread, or the same
 * credentials on every thread (unshare, setns, set*id): the mprof thread
 * is stopped and joined, then started again if it ran or was wanted
 * meanwhile.  Nests; keeps errno (agent.h). */
void mprof_profiler_solo_begin(void);
void mprof_profiler_solo_end(void);

/* The program's last thread is ending: the mprof thread stops for good, so
 * that it never keeps the process alive.  Keeps errno (agent.h). */
void mprof_profiler_last_thread_ends(void);

/* ---- loaded objects (dlopen.c, real.c) ---- */

/* Bind the loaded objects' calls to fns[0, n) to the shim's entries where
 * the loader bound them past it (rebind.h says which slots, and why).
 * Takes the guard itself; call outside any mprof lock. */
void mprof_profiler_rebind(const mprof_rebind_fn *fns, size_t n, const void *allocator);

/* dlclose(handle) through `real_dlclose`, the objects it unloads keeping
 * their names in the stacks recorded through them (dump.h,
 * mprof_dump_unload_begin/end).  Call once the profiler is up, outside the
 * guard; returns what real_dlclose returned, with its errno (and the
 * caller's, where it left errno alone). */
int mprof_profiler_dlclose(int (*real_dlclose)(void *), void *handle);

/* ---- mprof's own heap (ownheap.h), for what the shim serves from it:
 * allocations made under the guard, before the real allocator is found,
 * and the blocks it handed out then.  The same calls with the same
 * results and errno as ownheap.h's; no lock of the program's. ---- */
void *mprof_profiler_own_alloc(size_t size, size_t align);
void *mprof_profiler_own_calloc(size_t n, size_t size);
void *mprof_profiler_own_realloc(void *p, size_t size);
void mprof_profiler_own_free(void *p);
size_t mprof_profiler_own_usable(const void *p);

#pragma GCC visibility pop

#endif
