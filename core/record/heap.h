/*
 * heap.h: the heap profile: sampled allocations and frees charged to their
 * buckets, published in epochs (see heap.c for the cycle diagram).
 */
#ifndef MPROF_HEAP_H
#define MPROF_HEAP_H

#include "bucket.h"

#include <stddef.h>
#include <stdint.h>

void mprof_heap_set_rate(uint64_t rate);
uint64_t mprof_heap_rate(void);

/* A sampled allocation of `size` bytes at p, with the caller's stack
 * (captured by the caller, holding no lock).  Also counted toward the peak
 * (peak.h): returns 1 when in-use bytes passed the growth mark and a dump
 * is due, else 0. */
int mprof_heap_alloc(const void *p, uint64_t size, const uintptr_t *stk, int nstk);

/* free() of p, which the filter says may be sampled. */
void mprof_heap_free(const void *p);

/* The free of a block already taken out of the address map. */
void mprof_heap_record_free(mprof_bucket *b, uint64_t size);

/* The epoch boundary: close cycle C, publish the cycle that is complete. */
void mprof_heap_tick(void);

/* Called for each bucket with data, with the published totals. */
typedef void (*mprof_heap_visitor)(const mprof_bucket *b,
                                   const mprof_mem_cycle *active, void *ctx);

/* End the current epoch and publish everything up to now (two ticks), then
 * visit every bucket with data; `prepare(n)` is called first with the number
 * of buckets that will be visited.  Serialized with ticks. */
void mprof_heap_snapshot(void (*prepare)(size_t n, void *ctx),
                         mprof_heap_visitor visit, void *ctx);

/* Pprof values [alloc_objects, alloc_space, inuse_objects, inuse_space] of a
 * bucket of objects of `size` bytes, unsampled as Go's runtime/pprof does. */
void mprof_heap_values(const mprof_mem_cycle *a, uint64_t size, uint64_t rate,
                       int64_t out[4]);

/* The estimated bytes one sampled object of `size` bytes stands for:
 * size / p(size), rounded, as mprof_heap_values unsamples it (1 at rate
 * 1: exact).  What the peak and growth marks count (peak.h). */
uint64_t mprof_heap_weight(uint64_t size);

/* Samples lost because the arena was full (or no sample stack could be
 * mapped: mprof_heap_count_dropped). */
uint64_t mprof_heap_dropped(void);
void mprof_heap_count_dropped(void);

/* Fork child, after mprof_bucket_reset(): an empty profile. */
void mprof_heap_reset(void);

#endif
