/*
 * peak.h: the heap at its high-water mark, and the growth that asks for a
 * dump.
 *
 * The peak heap profile is TCMalloc's (PeakHeapTracker): after a sampled
 * allocation takes the estimated in-use bytes past the last saved peak
 * times (1 + MPROF_PEAK_GROWTH/100), the live samples' buckets and counts
 * are copied aside, with the time; a dump writes the copy as the `peak`
 * profile.  The growth threshold is gperftools' HEAP_PROFILE_INUSE_INTERVAL:
 * each time in-use bytes pass the last mark by MPROF_INUSE_INTERVAL, the
 * caller is told to ask for a dump.
 *
 * "Estimated in-use bytes" are the sampled blocks' sizes unsampled as the
 * heap profile unsamples them (heap.h, mprof_heap_values), counted at the
 * moment of each sampled malloc and free, not at epoch boundaries: the
 * peak is an instant, and the copy is taken holding every bucket stripe,
 * so it is one consistent cut.  At MPROF_MEM_RATE=1 it is exact.
 *
 * Everything here runs on the sampled path (sample stack, guard set) or in
 * a dump; the unsampled path never comes here.
 *
 * Locking: peak_lock (rank MPROF_RANK_PEAK) guards the saved copy; it is
 * taken before the bucket stripes.  The in-use estimate and the
 * thresholds are atomics.
 */
#ifndef MPROF_PEAK_H
#define MPROF_PEAK_H

#include "bucket.h"

#include <stddef.h>
#include <stdint.h>

/* growth_pct: percent (MPROF_PEAK_OFF: no peak kept); inuse_interval:
 * bytes (0: no growth dumps).  Once, at start. */
void mprof_peak_init(uint64_t growth_pct, uint64_t inuse_interval);

/* A sampled allocation of estimated weight `est` bytes was counted in its
 * bucket (call holding no mprof lock).  May save a new peak.  Returns 1 if
 * in-use bytes just passed the growth threshold: the caller asks for a
 * dump (agent.h). */
int mprof_peak_alloc(uint64_t est);

/* The free of a sampled block of estimated weight `est`. */
void mprof_peak_free(uint64_t est);

/* The saved peak, as one dump reads it. */
typedef struct mprof_peak_info {
    int64_t time_ns;     /* CLOCK_REALTIME when it was saved; 0: none yet */
    uint64_t inuse_est;  /* estimated in-use bytes then */
    uint64_t copies;     /* copies made so far (the bound: peak.c) */
    uint64_t inuse_now;  /* estimated in-use bytes at the snapshot (same count) */
} mprof_peak_info;

/* Visit every bucket live at the saved peak with its live objects and
 * bytes (sampled, not unsampled); prepare(n) first.  Holds peak_lock
 * throughout.  *info says when and how much. */
typedef void (*mprof_peak_visitor)(const mprof_bucket *b, uint64_t objects,
                                   uint64_t bytes, void *ctx);
void mprof_peak_snapshot(void (*prepare)(size_t n, void *ctx),
                         mprof_peak_visitor visit, void *ctx, mprof_peak_info *info);

/* Fork child, after mprof_bucket_reset(): no peak, no mark. */
void mprof_peak_reset(void);

#endif
