/*
 * threadcreate.h: the threadcreate profile (Go's threadcreate, made
 * right): one record per stack that called pthread_create, counting the
 * threads it started and how many of them have not ended yet.
 *
 * Every creation is recorded, not sampled, as Go does: the counts are
 * exact, and a thread leak shows as a `live` count that grows from one
 * dump to the next at one site.  (Go's own profile has been broken since
 * 2013, golang/go#6104: it takes the creating stack from the wrong
 * goroutine; here the stack is the caller's own, taken in the wrapper.)
 *
 *     created  +1 when a thread is about to be started (its handle is
 *              the bucket), -1 again if pthread_create then fails
 *     live     the same, and -1 when the thread ends (its start routine
 *              returns, it calls pthread_exit, or it is cancelled)
 *
 * Counters are atomics in the bucket (bucket.h, mprof_thread_record); a
 * dump reads them without a lock, so a creation in flight may show as
 * created and live a moment before the thread runs.
 */
#ifndef MPROF_THREADCREATE_H
#define MPROF_THREADCREATE_H

#include "bucket.h"

#include <stddef.h>
#include <stdint.h>

/* A thread is about to be started from stack stk[0, nstk): its bucket
 * (created and live counted), or NULL when the arena is full (counted as
 * dropped). */
mprof_bucket *mprof_threadcreate_begin(const uintptr_t *stk, int nstk);

/* pthread_create failed after mprof_threadcreate_begin returned b. */
void mprof_threadcreate_failed(mprof_bucket *b);

/* The thread started at b ends. */
void mprof_threadcreate_ended(mprof_bucket *b);

/* Visit every bucket with a creation; prepare(n) first.  Lock-free. */
void mprof_threadcreate_snapshot(void (*prepare)(size_t n, void *ctx),
                                 void (*visit)(const mprof_bucket *b,
                                               const mprof_thread_record *r, void *ctx),
                                 void *ctx);

#endif
