/*
 * block.h: the block and mutex profiles (Go's blockevent / mutexevent).
 *
 * Block: every wait of a thread in a pthread/sem call, charged to the
 * waiter's stack.  With rate r ns, a wait of d ns is recorded when d >= r,
 * otherwise with probability d/r; a recorded short wait counts as r/d
 * events and r ns, so E[count] = 1 and E[delay] = d for every wait:
 *
 *     d >= r:  count += 1,     delay += d
 *     d <  r:  count += r / d, delay += r     (with probability d / r)
 *
 * Mutex: contention delay charged to the stack of the unlocker (the code
 * that held the lock while others waited).  One wait in N is tracked, chosen
 * when it starts (so untracked waits cost no bookkeeping at all), and the
 * delay tracked waits cause is scaled by N: count += N, delay += N * d.
 *
 * Hold time (MPROF_MUTEX_HOLD=1, off by default: it reads the clock at
 * every mutex acquisition): an unlock charged for tracked waiters also
 * adds how long the unlocker held the lock, from its acquisition to this
 * unlock, scaled by N as the delay is: hold += N * h.  Only contended
 * critical sections are charged (those whose unlock made someone wait),
 * on the holder's stack, as the delay is; Go has no such profile.
 *
 * Buckets are keyed by (stack, object waited on), so that a sample names
 * its lock (dump.c, label_objects).  Buckets are never freed, so that key
 * is bounded: at one stack, the first MPROF_BLOCK_OBJECTS distinct objects
 * get buckets of their own; waits on any further object at that stack go
 * to the stack's object-less bucket (size 0), labelled lock=other, and
 * Go's grouping by stack alone is what remains for them.  The count of
 * objects given buckets lives in that object-less bucket and is taken
 * with an atomic increment before a bucket is made, so the bound is exact;
 * two threads racing to give the same new object its bucket may spend two
 * places on it (the site then has fewer than the bound, never more).
 *
 * Records are plain sums in the bucket's mprof_block_record, guarded by the
 * bucket's stripe lock; there are no cycles, as in Go.
 */
#ifndef MPROF_BLOCK_H
#define MPROF_BLOCK_H

#include "bucket.h"

#include <stddef.h>
#include <stdint.h>

/* Objects waited on at one stack that get buckets (and lock labels) of
 * their own.  The labels are for the common case of a few locks taken at
 * one site (globals, a handful of named instances), which 8 covers; a site
 * that waits on many (per-connection locks, a condition variable per
 * request) would otherwise make a bucket per object forever, some
 * hundred bytes each, the per-object samples telling no more than their
 * sum.  At most 8 + 1 buckets per stack, so the profile grows with the
 * program's code, not with its data. */
#define MPROF_BLOCK_OBJECTS 8

/* Should a wait of d ns be recorded at rate r?  Sets *count, *delay to the
 * scaled values to add. */
int mprof_block_sampled(int64_t d, uint64_t rate, uint64_t *rng,
                        double *count, double *delay);

/* Should a wait that is starting be tracked for the mutex profile? */
int mprof_mutex_track(uint64_t fraction, uint64_t *rng);

/* The scaled values of `d` ns of delay caused to tracked waiters. */
void mprof_mutex_scaled(int64_t d, uint64_t fraction, double *count, double *delay);

/* Add to the bucket of (obj, stk) in the block or mutex profile, or to
 * that of (0, stk) once MPROF_BLOCK_OBJECTS objects at stk have theirs:
 * obj is the object waited on (0: none), stk starts with the wrapped call's
 * synthetic frame (waitcall.h); hold: ns the unlocker held the lock
 * (mutex profile with MPROF_MUTEX_HOLD, scaled as delay is; else 0). */
void mprof_block_add(mprof_btype type, uintptr_t obj, const uintptr_t *stk, int nstk,
                     double count, double delay, double hold);

/* Visit every bucket of `type` with data (under its stripe lock, so the
 * visitor must not call out). prepare(n) is called first. */
void mprof_block_snapshot(mprof_btype type, void (*prepare)(size_t n, void *ctx),
                          void (*visit)(const mprof_bucket *b,
                                        const mprof_block_record *r, void *ctx),
                          void *ctx);

/* Events lost because the arena was full (or no sample stack could be
 * mapped: mprof_block_count_dropped). */
uint64_t mprof_block_dropped_of(mprof_btype type);
void mprof_block_count_dropped(mprof_btype type);

/* Fork child, after mprof_bucket_reset(): empty profiles. */
void mprof_block_reset(void);

#endif
