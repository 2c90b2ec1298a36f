/*
 * heap.c: heap profile records and their cycles (Go's memRecord).
 *
 * Allocations happen in real time, but a profile must be a consistent
 * picture of one instant: a block allocated and freed inside the window
 * must never show as live, and in-use must never go negative.  So events
 * are not added to the published totals (active) directly; they are counted
 * in a ring of per-cycle slots and a cycle is folded into active only once
 * it is closed and no event can still be on its way into it.
 *
 *        tick         tick         tick         tick
 *   ------|------------|------------|------------|------> time
 *          cycle C      cycle C+1    cycle C+2
 *          malloc, free
 *          -> future[(C+2)%3]       ^ published here (that tick flushes
 *                                     future[(C+2)%3] into active)
 *
 * In Go, GC sweep frees arrive a cycle late and count toward C+1 while
 * mallocs count toward C+2.  In C every free is explicit, so mallocs and
 * frees both count toward C+2.  A tick (the mprof thread plays mark
 * termination and sweep completion in one) advances C with every stripe
 * lock held, so no event is mid-flight into the slot it then flushes: events
 * read C under their bucket's stripe lock.  A free always lands in the same
 * or a later cycle than its malloc, so active never shows it first.
 *
 * A dump ends the current epoch twice in a row, which publishes everything
 * up to the first of those two ticks: the snapshot is exact as of the
 * moment the dump was asked for, and still an epoch boundary.
 *
 * A tick must not cost in proportion to every bucket ever made (a long
 * running server has many), so each stripe keeps, per future slot, a list
 * of its buckets with events in that slot; a tick folds only those.
 *
 * Locking: future[], dirty_next[] and dirty[stripe][] are guarded by the
 * stripe lock; active and `cycle` writes are guarded by cycle_lock (ticks
 * and snapshots) plus, for `cycle`, all stripes.  Order: cycle_lock, then
 * stripes.
 */
#include "heap.h"

#include "addrmap.h"
#include "arena.h"
#include "lock.h"
#include "peak.h"

#include "sample.h"

#include <string.h>

static mprof_lock cycle_lock = MPROF_LOCK_INIT; /* writes of cycle and active (see top) */
MPROF_LOCK_RANK(cycle_lock, MPROF_RANK_CYCLE);
static unsigned cycle; /* index into future[]: 0, 1, 2 */
static uint64_t heap_rate;
static uint64_t dropped;
static mprof_bucket *dirty[MPROF_STRIPES][3];

/* Set once this module's state is first written: a fork child resets
 * only what its parent used (reading pages the parent never touched would
 * fault them in, one by one). */
static MPROF_FORK_STATE int used;

static void mark_used(void)
{
    if (!__atomic_load_n(&used, __ATOMIC_RELAXED))
        __atomic_store_n(&used, 1, __ATOMIC_RELAXED);
}

void mprof_heap_set_rate(uint64_t rate) { heap_rate = rate; }
uint64_t mprof_heap_rate(void) { return heap_rate; }
void mprof_heap_count_dropped(void) { __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED); }

uint64_t mprof_heap_dropped(void) { return __atomic_load_n(&dropped, __ATOMIC_RELAXED); }

static void add_cycle(mprof_mem_cycle *a, const mprof_mem_cycle *b)
{
    a->allocs += b->allocs;
    a->frees += b->frees;
    a->alloc_bytes += b->alloc_bytes;
    a->free_bytes += b->free_bytes;
}

static int cycle_empty(const mprof_mem_cycle *c) { return c->allocs == 0 && c->frees == 0; }

/* The slot events count toward now; called with b's stripe lock held. */
static mprof_mem_cycle *current_slot(mprof_bucket *b)
{
    mprof_lock_assert_held(mprof_bucket_stripe(b));
    unsigned k = (cycle + 2) % 3;
    mprof_mem_cycle *c = &b->rec.mem.future[k];
    if (cycle_empty(c)) {
        mprof_bucket **head = &dirty[mprof_bucket_stripe_index(b)][k];
        b->rec.mem.dirty_next[k] = *head;
        *head = b;
    }
    return c;
}

/* One sampled malloc or free (ev), counted toward b's current cycle. */
static void count_event(mprof_bucket *b, const mprof_mem_cycle *ev)
{
    mprof_lock *l = mprof_bucket_stripe(b);
    mprof_lock_acquire(l);
    add_cycle(current_slot(b), ev);
    mprof_lock_release(l);
}

uint64_t mprof_heap_weight(uint64_t size)
{
    return (uint64_t)((double)size * mprof_sample_scale((double)size, heap_rate) + 0.5);
}

int mprof_heap_alloc(const void *p, uint64_t size, const uintptr_t *stk, int nstk)
{
    mark_used();
    mprof_bucket *b = mprof_bucket_get(MPROF_HEAP, size, stk, nstk);
    if (!b || mprof_addrmap_insert(p, b, size) != 0) {
        mprof_heap_count_dropped();
        return 0;
    }
    count_event(b, &(mprof_mem_cycle){.allocs = 1, .alloc_bytes = size});
    return mprof_peak_alloc(mprof_heap_weight(size));
}

void mprof_heap_free(const void *p)
{
    mprof_bucket *b;
    uint64_t size;
    if (mprof_addrmap_remove(p, &b, &size))
        mprof_heap_record_free(b, size);
}

void mprof_heap_record_free(mprof_bucket *b, uint64_t size)
{
    count_event(b, &(mprof_mem_cycle){.frees = 1, .free_bytes = size});
    mprof_peak_free(mprof_heap_weight(size));
}

/* Called with cycle_lock held. */
static void tick_locked(void)
{
    mprof_lock_assert_held(&cycle_lock);
    mark_used();
    mprof_bucket_lock_stripes();
    cycle = (cycle + 1) % 3;
    mprof_bucket_unlock_stripes();
    /* future[cycle] was C+1 a moment ago: closed, and no longer written
     * (writers now use (cycle+2)%3), so fold it into active. */
    for (unsigned s = 0; s < MPROF_STRIPES; s++) {
        mprof_lock *l = mprof_bucket_stripe_at(s);
        mprof_lock_acquire(l);
        mprof_bucket *b = dirty[s][cycle];
        dirty[s][cycle] = NULL;
        while (b) {
            mprof_mem_cycle *slot = &b->rec.mem.future[cycle];
            add_cycle(&b->rec.mem.active, slot);
            memset(slot, 0, sizeof *slot);
            mprof_bucket *next = b->rec.mem.dirty_next[cycle];
            b->rec.mem.dirty_next[cycle] = NULL;
            b = next;
        }
        mprof_lock_release(l);
    }
}

void mprof_heap_tick(void)
{
    mprof_lock_acquire(&cycle_lock);
    tick_locked();
    mprof_lock_release(&cycle_lock);
}

static int has_data(const mprof_bucket *b)
{
    return b->rec.mem.active.allocs != 0;
}

void mprof_heap_snapshot(void (*prepare)(size_t n, void *ctx),
                         mprof_heap_visitor visit, void *ctx)
{
    mprof_lock_acquire(&cycle_lock);
    tick_locked();
    tick_locked();
    size_t n = 0;
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b;
         b = mprof_bucket_next_of_type(b))
        n += has_data(b);
    prepare(n, ctx);
    /* active only changes under cycle_lock, which we hold. */
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b && n;
         b = mprof_bucket_next_of_type(b)) {
        if (has_data(b)) {
            visit(b, &b->rec.mem.active, ctx);
            n--;
        }
    }
    mprof_lock_release(&cycle_lock);
}

/*
 * Unsampling, as Go's runtime/pprof scaleHeapSample: each object of size s
 * was sampled with probability p(s) = 1 - exp(-s/rate), so count/p(s) and
 * bytes/p(s) are unbiased estimates of the true count and bytes.
 */
static void scale_pair(uint64_t count, uint64_t bytes, uint64_t size,
                       uint64_t rate, int64_t *c_out, int64_t *b_out)
{
    if (count == 0) {
        *c_out = *b_out = 0;
        return;
    }
    double k = mprof_sample_scale((double)size, rate);
    *c_out = (int64_t)((double)count * k + 0.5);
    *b_out = (int64_t)((double)bytes * k + 0.5);
}

void mprof_heap_values(const mprof_mem_cycle *a, uint64_t size, uint64_t rate,
                       int64_t out[4])
{
    scale_pair(a->allocs, a->alloc_bytes, size, rate, &out[0], &out[1]);
    scale_pair(a->allocs - a->frees, a->alloc_bytes - a->free_bytes, size, rate,
               &out[2], &out[3]);
}

/* Called after mprof_bucket_reset(): only the cycle state is ours. */
void mprof_heap_reset(void)
{
    mprof_addrmap_reset();
    if (!used)
        return;
    used = 0;
    mprof_clear(&cycle_lock, sizeof cycle_lock);
    mprof_clear(dirty, sizeof dirty);
    mprof_clear(&cycle, sizeof cycle);
    mprof_clear(&dropped, sizeof dropped);
}
