/*
 * profiler.c: the life cycle behind profiler.h.
 *
 * fork: prepare takes every mprof lock in one fixed order (cycle lock,
 * bucket table, address map, lock waiters, arena), so the child's copy of our state is
 * never caught half-updated; parent and child release them.  The child then
 * starts an empty profile of its own (its own pid, seq from 1, no samples
 * of the parent's) and its own mprof thread.
 */
#include "profiler.h"

#include "addrmap.h"
#include "agent.h"
#include "arena.h"
#include "block.h"
#include "bucket.h"
#include "dump.h"
#include "heap.h"
#include "lockwait.h"
#include "log.h"
#include "publish.h"
#include "sample.h"
#include "stack.h"

#include <string.h>
#include <unistd.h>

int mprof_ready;
int mprof_lock_profiling;
static mprof_config config;

static uint64_t *thread_rng(void)
{
    if (!mprof_tls.rng)
        mprof_tls.rng = mprof_rng_seed(&mprof_tls);
    return &mprof_tls.rng;
}

int mprof_profiler_block_on(void) { return config.block_rate != 0; }
int mprof_profiler_mutex_track(void)
{
    return config.mutex_fraction && mprof_mutex_track(config.mutex_fraction, thread_rng());
}

const mprof_config *mprof_profiler_config(void) { return &config; }

/* A relative MPROF_OUT means relative to where the program started, not to
 * wherever it has chdir'd by the time it dumps. */
static void anchor_out(mprof_config *c)
{
    char cwd[MPROF_OUT_MAX];
    if (c->out[0] == '/' || !getcwd(cwd, sizeof cwd))
        return;
    size_t n = strlen(cwd);
    if (n + 1 + strlen(c->out) >= sizeof c->out)
        return; /* too long to anchor: keep it relative */
    memmove(c->out + n + 1, c->out, strlen(c->out) + 1);
    memcpy(c->out, cwd, n);
    c->out[n] = '/';
}

void mprof_profiler_start(const mprof_config *cfg)
{
    config = *cfg;
    anchor_out(&config);
    mprof_publish_init(&config);
    mprof_stack_init();
    mprof_heap_set_rate(config.mem_rate);
    mprof_dump_init(&config);
    int rc = mprof_agent_start(&config);
    if (rc)
        mprof_log("cannot start the mprof thread (%s); profiles will be "
                  "written at exit only", strerror(rc));
    mprof_publish_recording(); /* moves to the first recorded event */
    __atomic_store_n(&mprof_ready, 1, __ATOMIC_RELEASE);
    mprof_lock_profiling = config.block_rate || config.mutex_fraction;
}

static void sample_alloc(const void *p, size_t size)
{
    uintptr_t stk[MPROF_STACK_MAX];
    int n = mprof_stack_capture(stk, config.stack_depth);
    mprof_heap_alloc(p, size, stk, n);
}

void mprof_profiler_on_alloc(const void *p, size_t size)
{
    struct mprof_tls *t = &mprof_tls;
    /* Allocations made by mprof itself, or before settings are read, are
     * not the program's: leave the countdown at 0 so the first real one
     * comes back here. */
    if (t->guard || !__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        return;
    if (!t->armed) {
        t->armed = 1;
        if (!t->rng)
            t->rng = mprof_rng_seed(t);
        t->bytes_until_sample = mprof_sample_interval(&t->rng, config.mem_rate);
        if (size < t->bytes_until_sample) {
            t->bytes_until_sample -= size;
            return;
        }
    }
    mprof_guard_enter();
    if (p)
        sample_alloc(p, size);
    t->bytes_until_sample = mprof_sample_interval(&t->rng, config.mem_rate);
    mprof_guard_exit();
}

void mprof_profiler_on_free(const void *p)
{
    if (mprof_tls.guard)
        return; /* mprof's own memory is never sampled */
    mprof_guard_enter();
    mprof_heap_free(p);
    mprof_guard_exit();
}

int mprof_profiler_take(const void *p, mprof_taken *t)
{
    if (mprof_tls.guard)
        return 0;
    mprof_guard_enter();
    int found = mprof_addrmap_remove(p, &t->bucket, &t->size);
    mprof_guard_exit();
    return found;
}

void mprof_profiler_restore(const void *p, const mprof_taken *t)
{
    mprof_guard_enter();
    /* Cannot fail: the removal put an entry on the shard's free list. */
    mprof_addrmap_insert(p, t->bucket, t->size);
    mprof_guard_exit();
}

void mprof_profiler_release(const mprof_taken *t)
{
    mprof_guard_enter();
    mprof_heap_record_free(t->bucket, t->size);
    mprof_guard_exit();
}

static void record_lock_event(mprof_btype type, double count, double delay)
{
    uintptr_t stk[MPROF_STACK_MAX];
    int n = mprof_stack_capture(stk, config.stack_depth);
    mprof_block_add(type, stk, n, count, delay);
}

void mprof_profiler_on_block(int64_t delay)
{
    double count, scaled;
    if (mprof_tls.guard ||
        !mprof_block_sampled(delay, config.block_rate, thread_rng(), &count, &scaled))
        return;
    mprof_guard_enter();
    record_lock_event(MPROF_BLOCK, count, scaled);
    mprof_guard_exit();
}

void mprof_profiler_on_contention(int64_t delay)
{
    double count, scaled;
    if (mprof_tls.guard || delay <= 0 || !config.mutex_fraction)
        return;
    mprof_mutex_scaled(delay, config.mutex_fraction, &count, &scaled);
    mprof_guard_enter();
    record_lock_event(MPROF_MUTEX, count, scaled);
    mprof_guard_exit();
}

void mprof_profiler_exit(void)
{
    if (!__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        return;
    /* exit() called from a signal handler that interrupted mprof on this
     * thread: our locks may be held by this very thread. */
    if (mprof_tls.guard) {
        mprof_log("exit from inside the profiler (signal handler?); "
                  "no exit dump");
        return;
    }
    mprof_guard_enter();
    mprof_agent_stop_dumping();
    mprof_dump(1);
    mprof_guard_exit();
}

void mprof_profiler_fork_prepare(void)
{
    mprof_guard_enter();
    mprof_heap_lock_all();
    mprof_bucket_lock_all();
    mprof_addrmap_lock_all();
    mprof_lockwait_lock_all();
    mprof_arena_lock_all();
}

static void release_all(void)
{
    mprof_arena_unlock_all();
    mprof_lockwait_unlock_all();
    mprof_addrmap_unlock_all();
    mprof_bucket_unlock_all();
    mprof_heap_unlock_all();
}

void mprof_profiler_fork_parent(void)
{
    release_all();
    mprof_guard_exit();
}

void mprof_profiler_fork_child(void)
{
    if (__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE)) {
        mprof_bucket_reset();
        mprof_heap_reset();
        mprof_block_reset();
        mprof_lockwait_reset();
        mprof_dump_reset_after_fork();
    }
    release_all();
    if (__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE)) {
        int rc = mprof_agent_start(&config);
        if (rc)
            mprof_log("cannot start the mprof thread in the child (%s)",
                      strerror(rc));
        mprof_publish_recording();
    }
    mprof_guard_exit();
}
