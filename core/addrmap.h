/*
 * addrmap.h: which live blocks were sampled (Go's setprofilebucket specials).
 *
 * Maps the address of every sampled, not yet freed block to its bucket and
 * size, so that free() can charge the bucket.  In front of the map sits a
 * 32 KiB counting filter: filter[h(p)] counts sampled blocks whose address
 * hashes to that slot.  free() of an unsampled pointer reads one filter slot
 * (a relaxed load, no lock) and, almost always finding 0, goes straight to
 * the real free.  A slot that reaches 0xffff sticks there: it may then give
 * false positives (a lookup that finds nothing), never false negatives.
 *
 * Ordering: the filter is incremented before malloc returns the block and
 * decremented only after the block's entry is removed, both before the
 * real free; the application's own synchronization orders a free after the
 * malloc that produced the pointer, so the relaxed load suffices.
 */
#ifndef MPROF_ADDRMAP_H
#define MPROF_ADDRMAP_H

#include "bucket.h"

#include <stdatomic.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

#define MPROF_FILTER_BITS 14

extern _Atomic uint16_t mprof_addrmap_filter[1 << MPROF_FILTER_BITS];

static inline unsigned mprof_addrmap_slot(uintptr_t p)
{
    /* Fibonacci hashing; low bits of heap pointers are mostly zero. */
    return (unsigned)(((uint64_t)p * 0x9E3779B97F4A7C15ULL) >> (64 - MPROF_FILTER_BITS));
}

/* The fast path of free(): may p be a sampled block? */
static inline int mprof_addrmap_maybe(const void *p)
{
    return atomic_load_explicit(&mprof_addrmap_filter[mprof_addrmap_slot((uintptr_t)p)],
                                memory_order_relaxed) != 0;
}

/* 0, or -1 when the arena is full (the sample is then dropped). */
int mprof_addrmap_insert(const void *p, mprof_bucket *b, uint64_t size);

/* 1 and the entry's bucket and size if p was sampled, else 0. */
int mprof_addrmap_remove(const void *p, mprof_bucket **b, uint64_t *size);

/* Number of sampled blocks currently live. */
uint64_t mprof_addrmap_count(void);

/* In a fork child: forget every entry (the parent's samples are not ours). */
void mprof_addrmap_reset(void);

void mprof_addrmap_lock_all(void);
void mprof_addrmap_unlock_all(void);

#pragma GCC visibility pop

#endif
