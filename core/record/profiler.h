/*
 * profiler.h: the profiler's life cycle, as the shim drives it: start once
 * settings are read, record sampled events, follow fork, dump at exit.
 * This is the API preload/ calls; everything behind it is core/.
 */
#ifndef MPROF_PROFILER_H
#define MPROF_PROFILER_H

#include "bucket.h"
#include "config.h"
#include "tls.h"

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Set once mprof_profiler_start has run; before that nothing is sampled. */
extern int mprof_ready;

/* Nonzero once started with the block or mutex profile on: the lock
 * wrappers' one global check. */
extern int mprof_lock_profiling;

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

/* A thread waited `delay` ns in a blocking call (block profile; the
 * waiter's stack is captured here, so call it from the wrapper). */
void mprof_profiler_on_block(int64_t delay);

/* The same in two steps, for a wait that returns holding a lock (a
 * condition variable's mutex): the draw, then, only when it says so and
 * once the caller has let the lock go, the recording. */
typedef struct mprof_block_event {
    double count, delay;
} mprof_block_event;
int mprof_profiler_block_sampled(int64_t delay, mprof_block_event *e);
void mprof_profiler_block_record(const mprof_block_event *e);

/* An unlock that made tracked waiters wait `delay` ns in total (mutex
 * profile; the unlocker's stack). */
void mprof_profiler_on_contention(int64_t delay);

int mprof_profiler_block_on(void);

/* Is the wait that is starting one of the 1/N tracked by the mutex
 * profile?  (0 when the mutex profile is off.) */
int mprof_profiler_mutex_track(void);

void mprof_profiler_fork_prepare(void);
void mprof_profiler_fork_parent(void);
void mprof_profiler_fork_child(void);

#pragma GCC visibility pop

#endif
