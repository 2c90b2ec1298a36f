/*
 * addrmap.h: which live blocks were sampled (Go's setprofilebucket specials).
 *
 * Maps the address of every sampled, not yet freed block to its bucket and
 * size, so that free() can charge the bucket.  In front of the map sits a
 * 4 KiB bitmap filter: bit h(p) is set while at least one sampled block
 * whose address hashes to that slot is live.  free() of an unsampled pointer
 * reads one bit (a relaxed load, no lock; the bitmap is small enough to stay
 * in L1 beside the program's own data) and almost always goes straight to
 * the real free.  Exact per-slot counts, kept beside the bitmap, decide when
 * a bit may be cleared; a slot's count and bit are only changed under the
 * lock of the shard that owns the slot, so they never disagree.
 *
 * Ordering: the bit is set before malloc returns the block and cleared only
 * after the block's entry is removed, both before the real free; the
 * application's own synchronization orders a free after the malloc that
 * produced the pointer, so the relaxed load suffices.
 */
#ifndef MPROF_ADDRMAP_H
#define MPROF_ADDRMAP_H

#include "bucket.h"

#include <stdatomic.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

#define MPROF_FILTER_BITS 15

extern _Atomic uint64_t mprof_addrmap_filter[(1 << MPROF_FILTER_BITS) / 64];

static inline unsigned mprof_addrmap_slot(uintptr_t p)
{
    /* Fibonacci hashing; low bits of heap pointers are mostly zero. */
    return (unsigned)(((uint64_t)p * 0x9E3779B97F4A7C15ULL) >> (64 - MPROF_FILTER_BITS));
}

/* The fast path of free(): may p be a sampled block? */
static inline int mprof_addrmap_maybe(const void *p)
{
    unsigned slot = mprof_addrmap_slot((uintptr_t)p);
    return (atomic_load_explicit(&mprof_addrmap_filter[slot / 64], memory_order_relaxed) >>
            (slot % 64)) & 1;
}

/* 0, or -1 when the arena is full (the sample is then dropped). */
int mprof_addrmap_insert(const void *p, mprof_bucket *b, uint64_t size);

/* 1 and the entry's bucket and size if p was sampled, else 0. */
int mprof_addrmap_remove(const void *p, mprof_bucket **b, uint64_t *size);

/* Number of sampled blocks currently live. */
uint64_t mprof_addrmap_count(void);

/* In a fork child: forget every entry (the parent's samples are not ours). */
void mprof_addrmap_reset(void);

#pragma GCC visibility pop

#endif
