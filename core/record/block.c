/* block.c: block and mutex records (see block.h for the sampling math). */
#include "block.h"

#include "arena.h"
#include "sample.h"

#include <string.h>

static uint64_t dropped[MPROF_NTYPES];

void mprof_block_count_dropped(mprof_btype type)
{
    __atomic_add_fetch(&dropped[type], 1, __ATOMIC_RELAXED);
}

uint64_t mprof_block_dropped_of(mprof_btype type)
{
    return __atomic_load_n(&dropped[type], __ATOMIC_RELAXED);
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *rng)
{
    return (double)(mprof_rng_next(rng) >> 11) * 0x1.0p-53;
}

int mprof_block_sampled(int64_t d, uint64_t rate, uint64_t *rng,
                        double *count, double *delay)
{
    if (rate == 0)
        return 0;
    if (d <= 0)
        d = 1;
    if ((uint64_t)d >= rate) {
        *count = 1;
        *delay = (double)d;
        return 1;
    }
    if (uniform(rng) * (double)rate >= (double)d)
        return 0;
    *count = (double)rate / (double)d;
    *delay = (double)rate;
    return 1;
}

int mprof_mutex_track(uint64_t fraction, uint64_t *rng)
{
    if (fraction <= 1)
        return fraction == 1;
    return mprof_rng_next(rng) % fraction == 0;
}

void mprof_mutex_scaled(int64_t d, uint64_t fraction, double *count, double *delay)
{
    *count = (double)fraction;
    *delay = (double)fraction * (double)d;
}

/* The bucket for a wait on obj at stk (block.h: at most
 * MPROF_BLOCK_OBJECTS objects per stack have their own). */
static mprof_bucket *bucket_for(mprof_btype type, uintptr_t obj, const uintptr_t *stk,
                                int nstk)
{
    if (!obj)
        return mprof_bucket_get(type, 0, stk, nstk);
    /* an object that has its bucket: one lookup, as before the bound */
    mprof_bucket *b = mprof_bucket_find(type, obj, stk, nstk);
    if (b)
        return b;
    mprof_bucket *site = mprof_bucket_get(type, 0, stk, nstk);
    if (!site)
        return NULL;
    uint32_t *n = &site->rec.blk.objects;
    /* The load first: a site past its bound is not written again, so the
     * count cannot wrap and its cache line stays shared.  The first
     * object refused still adds one, so that a count over the bound says
     * the site's bucket holds waits on objects (dump.c labels it). */
    if (__atomic_load_n(n, __ATOMIC_RELAXED) <= MPROF_BLOCK_OBJECTS &&
        __atomic_fetch_add(n, 1, __ATOMIC_RELAXED) < MPROF_BLOCK_OBJECTS) {
        b = mprof_bucket_get(type, obj, stk, nstk);
        return b ? b : site;
    }
    return site;
}

void mprof_block_add(mprof_btype type, uintptr_t obj, const uintptr_t *stk, int nstk,
                     double count, double delay, double hold)
{
    mprof_bucket *b = bucket_for(type, obj, stk, nstk);
    if (!b) {
        mprof_block_count_dropped(type);
        return;
    }
    mprof_lock *l = mprof_bucket_stripe(b);
    mprof_lock_acquire(l);
    b->rec.blk.count += count;
    b->rec.blk.delay_ns += delay;
    b->rec.blk.hold_ns += hold;
    mprof_lock_release(l);
}

void mprof_block_snapshot(mprof_btype type, void (*prepare)(size_t n, void *ctx),
                          void (*visit)(const mprof_bucket *b,
                                        const mprof_block_record *r, void *ctx),
                          void *ctx)
{
    size_t n = 0;
    for (mprof_bucket *b = mprof_bucket_list(type); b; b = mprof_bucket_next_of_type(b))
        n++;
    prepare(n, ctx);
    for (mprof_bucket *b = mprof_bucket_list(type); b && n; b = mprof_bucket_next_of_type(b), n--) {
        mprof_lock *l = mprof_bucket_stripe(b);
        mprof_lock_acquire(l);
        mprof_block_record r = {b->rec.blk.count, b->rec.blk.delay_ns, b->rec.blk.hold_ns,
                                __atomic_load_n(&b->rec.blk.objects, __ATOMIC_RELAXED)};
        mprof_lock_release(l);
        if (r.count > 0)
            visit(b, &r, ctx);
    }
}

void mprof_block_reset(void)
{
    /* the records went with the table; dropped is read first so that a
     * page the parent never wrote is not faulted in by a write */
    mprof_clear(dropped, sizeof dropped);
}
