/* threadcreate.c: the threadcreate records (see threadcreate.h). */
#include "threadcreate.h"

#include "block.h"

mprof_bucket *mprof_threadcreate_begin(const uintptr_t *stk, int nstk)
{
    mprof_bucket *b = mprof_bucket_get(MPROF_THREADCREATE, 0, stk, nstk);
    if (!b) {
        mprof_block_count_dropped(MPROF_THREADCREATE);
        return NULL;
    }
    __atomic_add_fetch(&b->rec.thr.created, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&b->rec.thr.live, 1, __ATOMIC_RELAXED);
    return b;
}

void mprof_threadcreate_failed(mprof_bucket *b)
{
    __atomic_sub_fetch(&b->rec.thr.created, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&b->rec.thr.live, 1, __ATOMIC_RELAXED);
}

void mprof_threadcreate_ended(mprof_bucket *b)
{
    __atomic_sub_fetch(&b->rec.thr.live, 1, __ATOMIC_RELAXED);
}

void mprof_threadcreate_snapshot(void (*prepare)(size_t n, void *ctx),
                                 void (*visit)(const mprof_bucket *b,
                                               const mprof_thread_record *r, void *ctx),
                                 void *ctx)
{
    size_t n = 0;
    for (mprof_bucket *b = mprof_bucket_list(MPROF_THREADCREATE); b; b = mprof_bucket_next_of_type(b))
        n++;
    prepare(n, ctx);
    for (mprof_bucket *b = mprof_bucket_list(MPROF_THREADCREATE); b && n;
         b = mprof_bucket_next_of_type(b), n--) {
        mprof_thread_record r = {__atomic_load_n(&b->rec.thr.created, __ATOMIC_RELAXED),
                                 __atomic_load_n(&b->rec.thr.live, __ATOMIC_RELAXED)};
        if (r.created > 0)
            visit(b, &r, ctx);
    }
}
