/*
 * addrmap.c: the sampled-address map (see addrmap.h).
 *
 * SHARDS independent chained hash tables, each with its own lock, so
 * threads sampling at rate 1 rarely meet.  The shard of an address is
 * chosen by its filter slot, so one shard lock covers each slot's count
 * and bit.  A shard doubles
 * its head array when it holds more entries than heads; the old array is
 * abandoned to the arena (it may still be read by nobody: every access is
 * under the shard lock, so abandoning is safe, merely memory spent).
 * Removed entries go to the shard's free list and are reused.
 */
#include "addrmap.h"

#include "arena.h"

#include <string.h>

#define SHARDS 64
#define MIN_HEADS 256

struct entry {
    uintptr_t ptr;
    mprof_bucket *bucket;
    uint64_t size;
    struct entry *next;
};

struct shard {
    mprof_lock lock; /* guards the shard's heads, entries and free list, and the
                        counts and bits of the filter slots that map to it */
    uint32_t nheads; /* power of two, 0 before first use */
    uint64_t count;
    struct entry **heads;
    struct entry *free_list;
    char pad[16];
} __attribute__((aligned(64)));

/* Whole pages each, for mprof_clear_pages. */
_Atomic uint64_t mprof_addrmap_filter[(1 << MPROF_FILTER_BITS) / 64] MPROF_PAGE_ALIGNED;
static uint32_t slot_count[1 << MPROF_FILTER_BITS] MPROF_PAGE_ALIGNED; /* under the slot's shard lock */
static struct shard shards[SHARDS] MPROF_PAGE_ALIGNED;
MPROF_LOCK_RANK_ARRAY(shards, lock, MPROF_RANK_ADDRMAP_SHARD);

static MPROF_FORK_STATE int used; /* mprof_mark_used (arena.h) */

static uint64_t hash_ptr(uintptr_t p)
{
    uint64_t h = (uint64_t)p * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 29);
}

static struct shard *shard_of(uintptr_t p)
{
    return &shards[mprof_addrmap_slot(p) % SHARDS];
}

static struct entry **head_of(struct shard *s, uintptr_t p)
{
    return &s->heads[hash_ptr(p) & (s->nheads - 1)];
}

/* Called with the shard lock of p's slot held. */
static void filter_add(uintptr_t p, int delta)
{
    mprof_lock_assert_held(&shard_of(p)->lock);
    unsigned slot = mprof_addrmap_slot(p);
    uint64_t bit = (uint64_t)1 << (slot % 64);
    slot_count[slot] += (uint32_t)delta;
    if (delta > 0 && slot_count[slot] == 1)
        atomic_fetch_or_explicit(&mprof_addrmap_filter[slot / 64], bit, memory_order_relaxed);
    else if (delta < 0 && slot_count[slot] == 0)
        atomic_fetch_and_explicit(&mprof_addrmap_filter[slot / 64], ~bit, memory_order_relaxed);
}

/* Called with s->lock held.  On failure the old table stays in use. */
static void grow(struct shard *s)
{
    mprof_lock_assert_held(&s->lock);
    uint32_t n = s->nheads ? s->nheads * 2 : MIN_HEADS;
    struct entry **h = mprof_arena_alloc((size_t)n * sizeof(struct entry *));
    if (!h)
        return;
    struct entry **old = s->heads;
    uint32_t oldn = s->nheads;
    s->heads = h;
    s->nheads = n;
    for (uint32_t i = 0; i < oldn; i++) {
        for (struct entry *e = old[i], *next; e; e = next) {
            next = e->next;
            struct entry **hd = head_of(s, e->ptr);
            e->next = *hd;
            *hd = e;
        }
    }
}

static struct entry *new_entry(struct shard *s)
{
    struct entry *e = s->free_list;
    if (e) {
        s->free_list = e->next;
        return e;
    }
    return mprof_arena_alloc(sizeof *e);
}

int mprof_addrmap_insert(const void *ptr, mprof_bucket *b, uint64_t size)
{
    uintptr_t p = (uintptr_t)ptr;
    struct shard *s = shard_of(p);
    int rc = -1;
    mprof_mark_used(&used);
    mprof_lock_acquire(&s->lock);
    if (s->count >= s->nheads)
        grow(s);
    struct entry *e = s->nheads ? new_entry(s) : NULL;
    if (e) {
        e->ptr = p;
        e->bucket = b;
        e->size = size;
        struct entry **hd = head_of(s, p);
        e->next = *hd;
        *hd = e;
        /* Atomic store: mprof_addrmap_count() reads it without the lock. */
        __atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
        filter_add(p, 1);
        rc = 0;
    }
    mprof_lock_release(&s->lock);
    return rc;
}

int mprof_addrmap_remove(const void *ptr, mprof_bucket **b, uint64_t *size)
{
    uintptr_t p = (uintptr_t)ptr;
    struct shard *s = shard_of(p);
    int found = 0;
    mprof_lock_acquire(&s->lock);
    if (s->nheads) {
        for (struct entry **pe = head_of(s, p); *pe; pe = &(*pe)->next) {
            struct entry *e = *pe;
            if (e->ptr != p)
                continue;
            *pe = e->next;
            *b = e->bucket;
            *size = e->size;
            e->next = s->free_list;
            s->free_list = e;
            __atomic_store_n(&s->count, s->count - 1, __ATOMIC_RELAXED);
            filter_add(p, -1);
            found = 1;
            break;
        }
    }
    mprof_lock_release(&s->lock);
    return found;
}

uint64_t mprof_addrmap_count(void)
{
    uint64_t n = 0;
    for (int i = 0; i < SHARDS; i++)
        n += __atomic_load_n(&shards[i].count, __ATOMIC_RELAXED);
    return n;
}

/* Entries are abandoned with their table; see mprof_clear_pages for why
 * the pages are dropped, not written. */
void mprof_addrmap_reset(void)
{
    if (!used)
        return;
    used = 0;
    mprof_clear_pages(shards, sizeof shards);
    mprof_clear_pages((void *)mprof_addrmap_filter, sizeof mprof_addrmap_filter);
    mprof_clear_pages(slot_count, sizeof slot_count);
}
