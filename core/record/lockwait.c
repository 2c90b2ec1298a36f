/*
 * lockwait.c: per-lock waiter records (see lockwait.h for the charge
 * formula).  A fixed hash table of chains, striped locks; records come
 * from the arena and are recycled through a free list per stripe.
 */
#include "lockwait.h"

#include "arena.h"
#include "lock.h"

#include <string.h>

#define HEADS 4096
#define STRIPES 64

struct record {
    const void *lock;
    int64_t nwaiters;
    int64_t sum_start; /* S = sum of max(s_i, r) */
    int64_t reset;     /* r: last unlock seen */
    struct record *next;
};

struct stripe {
    mprof_lock lock; /* guards the chains hashed to it, their records, free_list */
    struct record *free_list;
} __attribute__((aligned(64)));

/* Whole pages each, for mprof_clear_pages. */
_Atomic uint16_t mprof_lockwait_filter[1 << MPROF_LOCKWAIT_FILTER_BITS] MPROF_PAGE_ALIGNED;
static struct record *heads[HEADS] MPROF_PAGE_ALIGNED;
static struct stripe stripes[STRIPES] MPROF_PAGE_ALIGNED;
MPROF_LOCK_RANK_ARRAY(stripes, lock, MPROF_RANK_LOCKWAIT_STRIPE);

static MPROF_FORK_STATE int used; /* mprof_mark_used (arena.h) */

static unsigned head_index(const void *lock)
{
    uint64_t h = (uint64_t)(uintptr_t)lock * 0xff51afd7ed558ccdULL;
    return (unsigned)((h ^ (h >> 32)) % HEADS);
}

/* Stripes partition heads, so a chain is guarded by one stripe lock. */
static struct stripe *stripe_of(unsigned head) { return &stripes[head % STRIPES]; }

static void filter_add(const void *lock, int delta)
{
    _Atomic uint16_t *slot = &mprof_lockwait_filter[mprof_lockwait_slot(lock)];
    uint16_t v = atomic_load_explicit(slot, memory_order_relaxed);
    do {
        if (v == UINT16_MAX)
            return;
    } while (!atomic_compare_exchange_weak_explicit(slot, &v, (uint16_t)(v + delta),
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
}

static struct record **find(unsigned h, const void *lock)
{
    struct record **p = &heads[h];
    while (*p && (*p)->lock != lock)
        p = &(*p)->next;
    return p;
}

int mprof_lockwait_begin(const void *lock, int64_t t)
{
    unsigned h = head_index(lock);
    struct stripe *s = stripe_of(h);
    int rc = 0;
    mprof_mark_used(&used);
    mprof_lock_acquire(&s->lock);
    struct record **p = find(h, lock), *r = *p;
    if (!r) {
        r = s->free_list;
        if (r)
            s->free_list = r->next;
        else
            r = mprof_arena_alloc(sizeof *r);
        if (r) {
            memset(r, 0, sizeof *r);
            r->lock = lock;
            r->reset = t;
            *p = r;
            filter_add(lock, 1);
        }
    }
    if (r) {
        r->nwaiters++;
        r->sum_start += t > r->reset ? t : r->reset;
    } else {
        rc = -1;
    }
    mprof_lock_release(&s->lock);
    return rc;
}

void mprof_lockwait_end(const void *lock, int64_t t)
{
    unsigned h = head_index(lock);
    struct stripe *s = stripe_of(h);
    mprof_lock_acquire(&s->lock);
    struct record **p = find(h, lock), *r = *p;
    if (r) {
        r->nwaiters--;
        r->sum_start -= t > r->reset ? t : r->reset;
        if (r->nwaiters <= 0) {
            *p = r->next;
            r->next = s->free_list;
            s->free_list = r;
            filter_add(lock, -1);
        }
    }
    mprof_lock_release(&s->lock);
}

int64_t mprof_lockwait_charge(const void *lock, int64_t u)
{
    unsigned h = head_index(lock);
    struct stripe *s = stripe_of(h);
    int64_t charge = 0;
    mprof_lock_acquire(&s->lock);
    struct record *r = *find(h, lock);
    if (r && r->nwaiters > 0 && u > r->reset) {
        charge = r->nwaiters * u - r->sum_start;
        r->reset = u;
        r->sum_start = r->nwaiters * u;
    }
    mprof_lock_release(&s->lock);
    return charge > 0 ? charge : 0;
}

/* Records are abandoned with their table, locks and all (mprof_clear_pages). */
void mprof_lockwait_reset(void)
{
    if (!used)
        return;
    used = 0;
    mprof_clear_pages(heads, sizeof heads);
    mprof_clear_pages(stripes, sizeof stripes);
    mprof_clear_pages((void *)mprof_lockwait_filter, sizeof mprof_lockwait_filter);
}
