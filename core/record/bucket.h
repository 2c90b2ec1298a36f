/*
 * bucket.h: the stack-keyed bucket table (Go's stkbucket/buckhash).
 *
 * A bucket is keyed by (type, size, stack) and carries the record for that
 * key: a heap memRecord, or a block/mutex record.  For block and mutex
 * buckets `size` is the address of the object waited on (the lock, the
 * condition variable; 0 for a join), so that two locks taken at one site
 * are two samples, each labelled with its lock; their stacks start with
 * the wrapped call's synthetic frame (waitcall.h).  At most
 * MPROF_BLOCK_OBJECTS objects per stack get buckets of their own; waits
 * on further objects go to the stack's bucket of size 0 (block.h).
 * Buckets come from the arena and are never freed or moved, so a bucket
 * pointer stays valid for the life of the process (the address map and
 * dumps rely on it).
 *
 * Locking:
 *   - lookups walk hash chains without a lock (chains only grow at the head,
 *     published with release stores);
 *   - inserts take insert_lock (then the arena's lock, a leaf);
 *   - a record's counters are guarded by the stripe lock of its bucket,
 *     mprof_bucket_stripe(b); stripes are taken in index order when all are
 *     needed (epoch ticks, fork).
 */
#ifndef MPROF_BUCKET_H
#define MPROF_BUCKET_H

#include "lock.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { MPROF_HEAP, MPROF_BLOCK, MPROF_MUTEX, MPROF_THREADCREATE, MPROF_NTYPES } mprof_btype;

/* One profiling cycle's worth of heap events (not cumulative). */
typedef struct mprof_mem_cycle {
    uint64_t allocs, frees;
    uint64_t alloc_bytes, free_bytes;
} mprof_mem_cycle;

/* active: everything published so far; future: cycles C, C+1, C+2 (see
 * heap.c for the cycle diagram).  dirty_next[k] links the buckets whose
 * future[k] has events, per stripe, so a tick visits only those. */
typedef struct mprof_mem_record {
    mprof_mem_cycle active;
    mprof_mem_cycle future[3];
    struct mprof_bucket *dirty_next[3];
} mprof_mem_record;

/* Block and mutex events, already scaled to unbiased estimates. */
typedef struct mprof_block_record {
    double count;
    double delay_ns;
    double hold_ns; /* mutex profile, MPROF_MUTEX_HOLD: the unlockers' hold times */
    /* In a stack's object-less bucket (size 0): buckets of their own given
     * to objects waited on at this stack, MPROF_BLOCK_OBJECTS at most
     * (block.h); atomic, outside the stripe lock. */
    uint32_t objects;
} mprof_block_record;

/* Threads created at one stack (threadcreate.h): atomics, no stripe lock. */
typedef struct mprof_thread_record {
    uint64_t created; /* pthread_create calls that started a thread */
    int64_t live;     /* of those, threads not yet ended */
} mprof_thread_record;

typedef struct mprof_bucket {
    struct mprof_bucket *next;    /* hash chain; atomic loads/stores */
    struct mprof_bucket *allnext; /* all buckets of this type; atomic */
    uint64_t hash;
    uint64_t size;
    uint32_t nstk;
    uint32_t type;
    union {
        mprof_mem_record mem;
        mprof_block_record blk;
        mprof_thread_record thr;
    } rec;
    uintptr_t stk[];
} mprof_bucket;

#define MPROF_STRIPES 64

/* The bucket whose stack `pcs` is: a dump's samples point into their
 * buckets' stk (dump.c), so that a sample leads back to its key. */
static inline const mprof_bucket *mprof_bucket_of_stack(const uintptr_t *pcs)
{
    return (const mprof_bucket *)(const void *)((const char *)pcs - offsetof(mprof_bucket, stk));
}

/* Find or create the bucket; NULL only when the arena is full. */
mprof_bucket *mprof_bucket_get(mprof_btype type, uint64_t size,
                               const uintptr_t *stk, int nstk);

/* Find the bucket, creating none; NULL if there is none. */
mprof_bucket *mprof_bucket_find(mprof_btype type, uint64_t size,
                                const uintptr_t *stk, int nstk);

/*
 * Rename, in every recorded stack of every type, each address in [lo, hi)
 * to address - lo + new_lo: for the code of an object that was unloaded
 * (segments.h, mprof_segments_retire), so that its stacks never match or
 * name what is loaded at those addresses next. A bucket keeps its hash: a
 * new stack with the old addresses compares unequal and gets a bucket of
 * its own. Stores are atomic per address; a dump reading a stack meanwhile
 * sees each address old or new.
 */
void mprof_bucket_rename(uintptr_t lo, uintptr_t hi, uintptr_t new_lo);

/* Head of the list of all buckets of `type` (newest first); acquire load. */
mprof_bucket *mprof_bucket_list(mprof_btype type);
static inline mprof_bucket *mprof_bucket_next_of_type(const mprof_bucket *b)
{
    return __atomic_load_n(&b->allnext, __ATOMIC_ACQUIRE);
}

unsigned mprof_bucket_stripe_index(const mprof_bucket *b);
mprof_lock *mprof_bucket_stripe(const mprof_bucket *b);
mprof_lock *mprof_bucket_stripe_at(unsigned index);
void mprof_bucket_lock_stripes(void);
void mprof_bucket_unlock_stripes(void);

/* Fork child: an empty table, every lock free.  The old buckets are
 * abandoned untouched, so a child that execs soon copies none of their
 * pages.  Needs no lock taken before the fork: nothing of the old table
 * is read again. */
void mprof_bucket_reset(void);

#endif
