/*
 * bucket.c: the bucket hash table (see bucket.h for the locking rules).
 *
 * The table is a fixed array of chain heads, allocated from the arena on
 * first use.  Chains only ever grow at the head, and a bucket is fully
 * written before the release store that links it, so a reader that sees a
 * pointer sees a complete bucket.
 */
#include "bucket.h"

#include "arena.h"
#include "stack.h"

#include <string.h>

#define HASH_BITS 17
#define HASH_SIZE ((size_t)1 << HASH_BITS)

struct stripe {
    mprof_lock lock; /* guards the records of the buckets striped to it (bucket.h) */
    char pad[64 - sizeof(mprof_lock)];
};

static MPROF_FORK_STATE mprof_bucket **heads; /* HASH_SIZE chain heads; atomic */
static mprof_bucket *all[MPROF_NTYPES];
static mprof_lock insert_lock = MPROF_LOCK_INIT; /* serializes inserts into heads, all */
MPROF_LOCK_RANK(insert_lock, MPROF_RANK_BUCKET_INSERT);
static struct stripe stripes[MPROF_STRIPES] MPROF_PAGE_ALIGNED; /* whole pages */
MPROF_LOCK_RANK_ARRAY(stripes, lock, MPROF_RANK_BUCKET_STRIPE);

static mprof_bucket **table(void)
{
    mprof_bucket **h = __atomic_load_n(&heads, __ATOMIC_ACQUIRE);
    if (h)
        return h;
    mprof_lock_acquire(&insert_lock);
    h = heads;
    if (!h) {
        h = mprof_arena_alloc(HASH_SIZE * sizeof(mprof_bucket *));
        __atomic_store_n(&heads, h, __ATOMIC_RELEASE);
    }
    mprof_lock_release(&insert_lock);
    return h;
}

static int matches(const mprof_bucket *b, uint64_t hash, mprof_btype type,
                   uint64_t size, const uintptr_t *stk, int nstk)
{
    return b->hash == hash && b->type == (uint32_t)type && b->size == size &&
           b->nstk == (uint32_t)nstk &&
           memcmp(b->stk, stk, (size_t)nstk * sizeof *stk) == 0;
}

static mprof_bucket *find(mprof_bucket *b, uint64_t hash, mprof_btype type,
                          uint64_t size, const uintptr_t *stk, int nstk)
{
    for (; b; b = __atomic_load_n(&b->next, __ATOMIC_ACQUIRE))
        if (matches(b, hash, type, size, stk, nstk))
            return b;
    return NULL;
}

static mprof_bucket *insert(mprof_bucket **slot, uint64_t hash, mprof_btype type,
                            uint64_t size, const uintptr_t *stk, int nstk)
{
    mprof_lock_acquire(&insert_lock);
    /* Another thread may have inserted the same key since our lookup. */
    mprof_bucket *b = find(*slot, hash, type, size, stk, nstk);
    if (!b) {
        b = mprof_arena_alloc(sizeof *b + (size_t)nstk * sizeof *stk);
        if (b) {
            b->hash = hash;
            b->type = type;
            b->size = size;
            b->nstk = (uint32_t)nstk;
            memcpy(b->stk, stk, (size_t)nstk * sizeof *stk);
            b->next = *slot;
            b->allnext = all[type];
            __atomic_store_n(slot, b, __ATOMIC_RELEASE);
            __atomic_store_n(&all[type], b, __ATOMIC_RELEASE);
        }
    }
    mprof_lock_release(&insert_lock);
    return b;
}

/* The chain (type, size, stk) hashes to, its hash in *hash; NULL when
 * the table cannot be had. */
static mprof_bucket **chain_of(mprof_btype type, uint64_t size, const uintptr_t *stk,
                               int nstk, uint64_t *hash)
{
    mprof_bucket **h = table();
    if (!h)
        return NULL;
    *hash = mprof_stack_hash(stk, nstk, size * MPROF_NTYPES + type);
    return &h[*hash & (HASH_SIZE - 1)];
}

mprof_bucket *mprof_bucket_get(mprof_btype type, uint64_t size,
                               const uintptr_t *stk, int nstk)
{
    uint64_t hash;
    mprof_bucket **slot = chain_of(type, size, stk, nstk, &hash);
    if (!slot)
        return NULL;
    mprof_bucket *b = find(__atomic_load_n(slot, __ATOMIC_ACQUIRE), hash, type, size, stk, nstk);
    return b ? b : insert(slot, hash, type, size, stk, nstk);
}

mprof_bucket *mprof_bucket_find(mprof_btype type, uint64_t size,
                                const uintptr_t *stk, int nstk)
{
    uint64_t hash;
    mprof_bucket **slot = chain_of(type, size, stk, nstk, &hash);
    return slot ? find(__atomic_load_n(slot, __ATOMIC_ACQUIRE), hash, type, size, stk, nstk)
                : NULL;
}

mprof_bucket *mprof_bucket_list(mprof_btype type)
{
    return __atomic_load_n(&all[type], __ATOMIC_ACQUIRE);
}

unsigned mprof_bucket_stripe_index(const mprof_bucket *b)
{
    return (unsigned)((b->hash >> 32) % MPROF_STRIPES);
}

mprof_lock *mprof_bucket_stripe(const mprof_bucket *b)
{
    return &stripes[mprof_bucket_stripe_index(b)].lock;
}

mprof_lock *mprof_bucket_stripe_at(unsigned index) { return &stripes[index].lock; }

void mprof_bucket_lock_stripes(void)
{
    for (int i = 0; i < MPROF_STRIPES; i++)
        mprof_lock_acquire(&stripes[i].lock);
}

void mprof_bucket_unlock_stripes(void)
{
    for (int i = MPROF_STRIPES - 1; i >= 0; i--)
        mprof_lock_release(&stripes[i].lock);
}

void mprof_bucket_reset(void)
{
    if (!__atomic_load_n(&heads, __ATOMIC_RELAXED))
        return; /* never used: nothing to reset, and no page to fault in */
    /* table() makes a new one on first use; locks held by threads that
     * did not follow the fork guarded only what is abandoned here. */
    mprof_clear(&heads, sizeof heads);
    mprof_clear(all, sizeof all);
    mprof_clear(&insert_lock, sizeof insert_lock);
    mprof_clear_pages(stripes, sizeof stripes);
}

void mprof_bucket_rename(uintptr_t lo, uintptr_t hi, uintptr_t new_lo)
{
    for (int t = 0; t < MPROF_NTYPES; t++)
        for (mprof_bucket *b = mprof_bucket_list((mprof_btype)t); b;
             b = mprof_bucket_next_of_type(b))
            for (uint32_t i = 0; i < b->nstk; i++) {
                uintptr_t pc = __atomic_load_n(&b->stk[i], __ATOMIC_RELAXED);
                if (pc >= lo && pc < hi)
                    __atomic_store_n(&b->stk[i], pc - lo + new_lo, __ATOMIC_RELAXED);
            }
}
