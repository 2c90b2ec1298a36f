/*
 * profiler.c: the life cycle behind profiler.h.
 *
 * Sampled events run on a sample stack (onstack.h): the caller's stack
 * pays only for the shim's frames and the switch.  The first event recorded
 * starts the mprof thread; a process that records nothing has none.
 *
 * fork: prepare waits (briefly: forkgate.c) until no thread is inside a
 * sampled event, so that no lock of the unwinder is held mid-capture.  It
 * takes no lock of mprof's: a thread inside a sample may hold a lock of the
 * program's that fork needs after the handlers ran (libio's list lock,
 * taken by fflush(NULL)), and would wait for ours.  Instead the child
 * repairs what a vanished thread may have left half done in what it goes
 * on using (the arena, the own heap, the lazily loaded libraries).  The child
 * starts an empty profile of its own (its own pid, seq from 1, no samples
 * of the parent's, no thread until it records): every table is abandoned
 * and reset, locks included, writing only what is not already zero so
 * that the child copies no page it does not need.  A fork from a signal
 * handler that interrupted mprof on the forking thread cannot wait for
 * itself: the child is then left unprofiled.
 */
#include "profiler.h"

#include "addrmap.h"
#include "agent.h"
#include "arena.h"
#include "block.h"
#include "bucket.h"
#include "census.h"
#include "dump.h"
#include "forkgate.h"
#include "heap.h"
#include "httpd.h"
#include "lockwait.h"
#include "log.h"
#include "onstack.h"
#include "ownheap.h"
#include "peak.h"
#include "publish.h"
#include "sample.h"
#include "stack.h"
#include "threadcreate.h"
#include "threadreg.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int mprof_ready;
int mprof_lock_profiling;
int mprof_hold_profiling;
static mprof_config config;
static MPROF_FORK_STATE int recorded; /* this process has recorded an event */
static __thread int fork_nested; /* fork entered with the guard already set */
static MPROF_FORK_STATE int ready_asked; /* mprof_dump_ready_children asked for */
/* This process, as the fork handlers know it: a child made without them
 * (vfork, _Fork, clone) still says its parent's. */
static MPROF_FORK_STATE pid_t self_pid;

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
static void anchor_out(mprof_config *c, const char *cwd)
{
    if (c->out[0] == '/' || !cwd)
        return;
    size_t n = strlen(cwd);
    if (n + 1 + strlen(c->out) >= sizeof c->out)
        return; /* too long to anchor: keep it relative */
    memmove(c->out + n + 1, c->out, strlen(c->out) + 1);
    memcpy(c->out, cwd, n);
    c->out[n] = '/';
}

/* The Go toolchain's note (".note.go.buildid": name "Go", its size 3 or,
 * as the Go linker writes it, 4; type 4) in one of the program's PT_NOTE
 * segments, read in memory. */
static int go_note(const char *p, size_t len)
{
    while (len >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p, 4);
        memcpy(&descsz, p + 4, 4);
        memcpy(&type, p + 8, 4);
        size_t step = 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
        if (step > len)
            return 0;
        if (type == 4 && (namesz == 3 || namesz == 4) && memcmp(p + 12, "Go", 3) == 0)
            return 1;
        p += step;
        len -= step;
    }
    return 0;
}

static int program_is_go(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_NOTE &&
            go_note((const char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz)) // NOLINT(performance-no-int-to-ptr)
            *(int *)arg = 1;
    }
    return 1; /* the program is the first object: stop there */
}

/* A Go program (cgo: it calls into C, and C allocates through us) ends with
 * the exit_group system call, not libc's exit: no atexit handler runs, so
 * no exit dump is written, and the Go runtime takes every signal for its
 * own, the dump signal included.  What works is the interval: say so,
 * once, unless it is set already. */
static void say_if_go(void)
{
    int go = 0;
    dl_iterate_phdr(program_is_go, &go);
    if (go && !config.dump_interval)
        mprof_log("this is a Go program: it ends without running atexit handlers, so "
                  "no exit profile is written, and the Go runtime takes the dump signal; "
                  "set MPROF_DUMP_INTERVAL=<seconds> to write profiles while it runs");
}

void mprof_profiler_start(const mprof_config *cfg)
{
    config = *cfg;
    char cwd[PATH_MAX]; /* where the program started: read once, here */
    const char *start_dir = getcwd(cwd, sizeof cwd);
    anchor_out(&config, start_dir);
    mprof_publish_init(&config);
    mprof_heap_set_rate(config.mem_rate);
    mprof_peak_init(config.peak_growth, config.inuse_interval);
    mprof_dump_init(&config, start_dir);
    mprof_agent_init(&config);
    mprof_httpd_start(&config);
    say_if_go();
    self_pid = getpid();
    __atomic_store_n(&mprof_ready, 1, __ATOMIC_RELEASE);
    mprof_lock_profiling = config.block_rate || config.mutex_fraction;
    mprof_hold_profiling = config.mutex_hold && config.mutex_fraction;
}

/* On a sample stack: the first event of the process starts the thread
 * that ticks its epochs and tells `mprof dump` there is something to dump
 * (pthread_create needs more stack than a caller's budget allows, so it
 * happens here too).  A fork child's first event does the same for it. */
static void note_recorded(void)
{
    if (!__atomic_load_n(&recorded, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&recorded, 1, __ATOMIC_ACQ_REL)) {
        mprof_publish_recording();
        mprof_agent_want();
        mprof_httpd_want();
    }
}

struct alloc_event {
    const void *p;
    size_t size;
};

static void sample_alloc(void *arg)
{
    const struct alloc_event *e = arg;
    uintptr_t stk[MPROF_STACK_MAX + 1]; /* + the truncation mark */
    int n = mprof_stack_capture(stk, config.stack_depth);
    int grown = mprof_heap_alloc(e->p, e->size, stk, n);
    note_recorded();
    if (grown) /* MPROF_INUSE_INTERVAL: after note_recorded, which starts the thread */
        mprof_agent_request_growth_dump();
}

/* Seeds the thread and draws its first interval; 1 if it was not armed. */
static int arm(struct mprof_tls *t)
{
    if (t->armed)
        return 0;
    t->armed = 1;
    if (!t->rng)
        t->rng = mprof_rng_seed(t);
    t->bytes_until_sample = mprof_sample_interval(&t->rng, config.mem_rate);
    return 1;
}

void mprof_profiler_arm_thread(void)
{
    struct mprof_tls *t = &mprof_tls;
    if (!t->guard && __atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        arm(t);
}

static void run_readying(struct mprof_tls *t); /* below, with note_fork */

void *mprof_profiler_on_alloc(void *p, size_t size)
{
    struct mprof_tls *t = &mprof_tls;
    /* Allocations made by mprof itself, or before settings are read, are
     * not the program's: leave the countdown at 0 so the first real one
     * comes back here. */
    if (t->guard || !__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        return p;
    int resumed = t->ready_due; /* its countdown is armed: put back */
    if (resumed)
        run_readying(t);
    if ((arm(t) | resumed) && size < t->bytes_until_sample) {
        t->bytes_until_sample -= size;
        return p;
    }
    mprof_guard_enter();
    if (p) {
        struct alloc_event e = {p, size};
        if (mprof_onstack_sample(sample_alloc, &e) != 0)
            mprof_heap_count_dropped();
    }
    mprof_guard_exit();
    /* After the guard, which restores the countdown it zeroed. */
    t->bytes_until_sample = mprof_sample_interval(&t->rng, config.mem_rate);
    return p;
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

struct lock_event {
    mprof_btype type;
    double count, delay, hold;
    int call;
    const void *obj;
};

/* The stack is the call's synthetic frame, then the caller's frames (the
 * wrapper's own are dropped by address), as Go's blocking calls lead
 * their samples. */
static void sample_lock_event(void *arg)
{
    const struct lock_event *e = arg;
    uintptr_t stk[MPROF_STACK_MAX + 2]; /* + the call's frame, the truncation mark */
    stk[0] = mprof_waitcall_pc(e->call);
    int n = 1 + mprof_stack_capture(stk + 1, config.stack_depth);
    mprof_block_add(e->type, (uintptr_t)e->obj, stk, n, e->count, e->delay, e->hold);
    note_recorded();
}

static void record_lock_event(mprof_btype type, double count, double delay, double hold,
                              int call, const void *obj)
{
    struct lock_event e = {type, count, delay, hold, call, obj};
    if (mprof_onstack_sample(sample_lock_event, &e) != 0)
        mprof_block_count_dropped(type);
}

int mprof_profiler_block_sampled(int64_t delay, mprof_block_event *e)
{
    return !mprof_tls.guard &&
           mprof_block_sampled(delay, config.block_rate, thread_rng(), &e->count, &e->delay);
}

void mprof_profiler_block_record(const mprof_block_event *e)
{
    mprof_guard_enter();
    record_lock_event(MPROF_BLOCK, e->count, e->delay, 0, e->call, e->obj);
    mprof_guard_exit();
}

void mprof_profiler_on_block(int64_t delay, int call, const void *obj)
{
    mprof_block_event e = {.call = call, .obj = obj};
    if (mprof_profiler_block_sampled(delay, &e))
        mprof_profiler_block_record(&e);
}

void mprof_profiler_on_contention(int64_t delay, int64_t hold, int call, const void *lock)
{
    double count, scaled;
    if (mprof_tls.guard || delay <= 0 || !config.mutex_fraction)
        return;
    mprof_mutex_scaled(delay, config.mutex_fraction, &count, &scaled);
    mprof_guard_enter();
    record_lock_event(MPROF_MUTEX, count, scaled, (double)config.mutex_fraction * (double)hold,
                      call, lock);
    mprof_guard_exit();
}

struct create_event {
    mprof_bucket *b;
};

static void sample_thread_create(void *arg)
{
    struct create_event *e = arg;
    uintptr_t stk[MPROF_STACK_MAX + 1]; /* + the truncation mark */
    int n = mprof_stack_capture(stk, config.stack_depth);
    e->b = mprof_threadcreate_begin(stk, n);
    note_recorded();
}

void *mprof_profiler_thread_create(void)
{
    if (!config.threadcreate || mprof_tls.guard ||
        !__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        return NULL;
    int saved = errno;
    struct create_event e = {NULL};
    mprof_guard_enter();
    if (mprof_onstack_sample(sample_thread_create, &e) != 0)
        mprof_block_count_dropped(MPROF_THREADCREATE);
    mprof_guard_exit();
    errno = saved;
    return e.b;
}

void mprof_profiler_thread_create_failed(void *created)
{
    if (created)
        mprof_threadcreate_failed(created);
}

void mprof_profiler_thread_end(void *created)
{
    if (created)
        mprof_threadcreate_ended(created);
}

static int my_tid(void) { return (int)syscall(SYS_gettid); }

void mprof_profiler_thread_begin(void)
{
    /* The registry is read by the threads profile alone (the waits it
     * shows): without it, or in a process not profiled (a nested fork's
     * child), a new thread pays no gettid, no insert, and the first no
     * 1 MiB table. */
    if (!config.threads || !__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
        return;
    int saved = errno;
    mprof_tls.tid = my_tid();
    mprof_threadreg_add(mprof_tls.tid, &mprof_tls);
    errno = saved;
}

void mprof_profiler_main_thread(void) { mprof_threadreg_main(&mprof_tls); }

void mprof_profiler_thread_finish(void)
{
    if (mprof_tls.tid) /* registered: no system call to find who we are */
        mprof_threadreg_remove(mprof_tls.tid);
}

void mprof_profiler_hold_begin(const void *lock, int64_t now)
{
    struct mprof_tls *t = &mprof_tls;
    /* Full: the oldest entry goes.  It is most likely a stale one, a
     * mutex this thread locked and another unlocked (a semaphore's way),
     * which would otherwise keep the list full and this thread's holds
     * untimed for good; a thread holding more at once loses its
     * outermost lock's hold time. */
    if (t->nheld == MPROF_HELD_MAX) {
        for (int k = 1; k < t->nheld; k++)
            t->held[k - 1] = t->held[k];
        t->nheld--;
    }
    t->held[t->nheld].lock = lock;
    t->held[t->nheld++].since = now;
}

/* Locks are usually let go innermost first: the search starts there. */
int64_t mprof_profiler_hold_end(const void *lock, int64_t now)
{
    struct mprof_tls *t = &mprof_tls;
    for (int i = t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock == lock) {
            int64_t since = t->held[i].since;
            for (int k = i + 1; k < t->nheld; k++)
                t->held[k - 1] = t->held[k];
            t->nheld--;
            return now > since ? now - since : 0;
        }
    return 0;
}

static void exit_dump(void *arg)
{
    (void)arg;
    mprof_dump(MPROF_DUMP_FINAL);
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
    mprof_httpd_at_exit();
    /* Nothing recorded: nothing to write, and nothing to load for it. */
    if (__atomic_load_n(&recorded, __ATOMIC_ACQUIRE) || config.write_empty) {
        mprof_onstack_dump(exit_dump, NULL);
    }
    mprof_agent_final_written();
    mprof_guard_exit();
}

void mprof_profiler_fork_prepare(void)
{
    fork_nested = mprof_tls.guard != 0;
    mprof_guard_enter();
    if (fork_nested)
        return;
    mprof_census_map();
    mprof_forkgate_fork_prepare();
}

/* A process whose fork children have written READY_AFTER exit dumps is
 * likely a server with a process per request, whose every child will:
 * its mprof thread readies what their dumps need once (dump.h), for the
 * children forked after, from the modules the children named (census.h)
 * and its own stacks. A shell whose subshells seldom record (a child
 * allocating 10 KB records with odds of 2% at the default rate) does not
 * get there in a few hundred of them.
 *
 * A process that has recorded has its thread: it is asked. One that has
 * not (a postmaster often has not) has none yet, and this fork handler
 * does not start it: a host may fork from a signal handler, or with
 * another atfork handler's locks held. The forking thread's next
 * allocation starts it instead, as a first sample does (agent.h), before
 * that allocation is counted; the thread does the waiting and loading. */
#define READY_AFTER 8
static void note_fork(void)
{
    if (mprof_census_child_dumps() < READY_AFTER ||
        __atomic_exchange_n(&ready_asked, 1, __ATOMIC_RELAXED))
        return;
    if (__atomic_load_n(&recorded, __ATOMIC_ACQUIRE)) {
        mprof_agent_request_ready_children();
        return;
    }
    struct mprof_tls *t = &mprof_tls; /* guarded: the countdown is saved */
    t->ready_countdown = t->saved_countdown;
    t->saved_countdown = 0; /* the next allocation takes the slow path */
    t->ready_due = 1;
}

/* On a sample stack (pthread_create's depth). */
static void start_readying(void *arg)
{
    (void)arg;
    if (mprof_agent_want() == 0)
        mprof_agent_request_ready_children();
}

/* The allocation after note_fork asked: the thread started and asked,
 * then the countdown as it was (the allocation is counted against it).
 * A child made without the fork handlers (_Fork) inherits the request and
 * drops it: it is not the server. */
static void run_readying(struct mprof_tls *t)
{
    t->ready_due = 0;
    t->bytes_until_sample = t->ready_countdown;
    int saved = errno;
    pid_t me = (pid_t)syscall(SYS_getpid);
    errno = saved;
    if (me != self_pid)
        return;
    mprof_guard_enter(); /* saves the countdown just put back */
    mprof_onstack_sample(start_readying, NULL); /* dropped if no stack */
    mprof_guard_exit();
}

void mprof_profiler_fork_parent(void)
{
    if (!fork_nested) {
        mprof_forkgate_fork_parent();
        if (__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE))
            note_fork();
    }
    mprof_guard_exit();
}

/* The child of a fork made from inside mprof on this thread: our locks,
 * or the unwinder's, may be held by the frame the handler interrupted.
 * Stop profiling in it; it keeps running, unprofiled. */
static void child_unprofiled(void)
{
    __atomic_store_n(&mprof_ready, 0, __ATOMIC_RELEASE);
    mprof_lock_profiling = 0;
    mprof_hold_profiling = 0;
}

void mprof_profiler_fork_child(void)
{
    self_pid = getpid();
    mprof_agent_reset_after_fork();
    mprof_httpd_after_fork();
    if (fork_nested) {
        child_unprofiled();
        mprof_census_after_fork(); /* nor does it ready: it is not profiled */
        mprof_guard_exit();
        return;
    }
    if (__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE)) {
        mprof_bucket_reset();
        mprof_heap_reset();
        mprof_peak_reset();
        mprof_block_reset();
        mprof_lockwait_reset();
        mprof_dump_reset_after_fork();
    }
    if (__atomic_load_n(&recorded, __ATOMIC_RELAXED))
        __atomic_store_n(&recorded, 0, __ATOMIC_RELEASE);
    if (ready_asked)
        ready_asked = 0;
    mprof_census_after_fork(); /* the parent's page: counted in, not read */
    mprof_threadreg_after_fork(&mprof_tls); /* the child's one thread */
    mprof_arena_after_fork();
    mprof_ownheap_after_fork();
    mprof_dump_output_after_fork();
    mprof_forkgate_fork_child();
    mprof_onstack_fork_child();
    /* A countdown of its own: the interval is memoryless, so drawing anew
     * is as unbiased as going on with the parent's, and children forked
     * in a row then sample independently, not all at once when the
     * parent's countdown runs low.  (The guard's exit restores it: 0, so
     * the next allocation draws.) */
    struct mprof_tls *t = &mprof_tls;
    t->rng = 0;
    t->armed = 0;
    t->saved_countdown = 0;
    t->ready_due = 0; /* the parent's, asked at an earlier fork */
    mprof_guard_exit();
}

/* ---- the shim's other ways in (profiler.h): thin, so that preload/
 * reaches core/ through this file and shim.h alone ---- */

void mprof_profiler_read_settings(mprof_config *cfg, mprof_env_lookup get, void *ctx)
{
    mprof_config_defaults(cfg);
    mprof_config_load(cfg, get, ctx);
}

void mprof_profiler_skip_object_of(const void *addr) { mprof_stack_skip_object_of(addr); }

/* The waiter records take a stripe lock, whose wait is a futex system
 * call that may set errno. */
int mprof_profiler_wait_track(const void *lock, int64_t start)
{
    if (!mprof_profiler_mutex_track())
        return 0;
    int e = errno;
    mprof_guard_enter();
    int tracked = mprof_lockwait_begin(lock, start) == 0;
    mprof_guard_exit();
    errno = e;
    return tracked;
}

void mprof_profiler_wait_untrack(const void *lock, int64_t start)
{
    int e = errno;
    mprof_guard_enter();
    mprof_lockwait_end(lock, start);
    mprof_guard_exit();
    errno = e;
}

int64_t mprof_profiler_unlock_charge(const void *lock, int64_t now)
{
    int e = errno;
    mprof_guard_enter();
    int64_t charge = mprof_lockwait_charge(lock, now);
    mprof_guard_exit();
    errno = e;
    return charge;
}

void mprof_profiler_request_dump(void) { mprof_agent_request_dump(); }

int mprof_profiler_last_words(void)
{
    /* A child made without the fork handlers (vfork before its exec,
     * _Fork) shares or copies the parent's state, and would ask the
     * parent's thread, or none, for the parent's final dump. */
    int saved = errno;
    pid_t me = (pid_t)syscall(SYS_getpid);
    errno = saved;
    if (me != self_pid)
        return 0;
    /* On a thread inside mprof (a sample, the exit dump, the mprof thread
     * itself, which runs guarded for life) the dump could wait for this
     * very thread: no last words, the signal goes on at once. */
    if (config.last_words_ms && !mprof_tls.guard)
        mprof_agent_final_dump((int64_t)config.last_words_ms * 1000000);
    return 1;
}
void mprof_profiler_signal_owned(int sig, int own) { mprof_publish_signal(sig, own); }
void mprof_profiler_solo_begin(void)
{
    mprof_agent_pause();
    mprof_httpd_pause();
}

void mprof_profiler_solo_end(void)
{
    mprof_httpd_resume();
    mprof_agent_resume();
}

void mprof_profiler_last_thread_ends(void)
{
    mprof_agent_retire();
    mprof_httpd_retire();
}

void mprof_profiler_rebind(const mprof_rebind_fn *fns, size_t n, const void *allocator)
{
    mprof_guard_enter();
    mprof_rebind(fns, n, allocator);
    mprof_guard_exit();
}

/* errno is the program's on both sides of the real call: the snapshot
 * taken before it may fail a system call (EINVAL), and a successful
 * dlclose leaves errno alone. */
int mprof_profiler_dlclose(int (*real_dlclose)(void *), void *handle)
{
    mprof_unload u;
    int saved = errno;
    mprof_guard_enter();
    mprof_dump_unload_begin(&u);
    mprof_guard_exit();
    errno = saved;
    int rc = real_dlclose(handle);
    saved = errno;
    mprof_guard_enter();
    mprof_dump_unload_end(&u);
    mprof_guard_exit();
    errno = saved;
    return rc;
}

void *mprof_profiler_own_alloc(size_t size, size_t align)
{
    return mprof_ownheap_alloc(size, align);
}
void *mprof_profiler_own_calloc(size_t n, size_t size) { return mprof_ownheap_calloc(n, size); }
void *mprof_profiler_own_realloc(void *p, size_t size) { return mprof_ownheap_realloc(p, size); }
void mprof_profiler_own_free(void *p) { mprof_ownheap_free(p); }
size_t mprof_profiler_own_usable(const void *p) { return mprof_ownheap_usable(p); }
