/*
 * agent.c: the mprof thread (see agent.h).
 *
 * It sleeps on a futex word, not on a file descriptor, so a program that
 * closes or dup2s over every descriptor cannot take its wake-ups away, and
 * the signal handler needs nothing but a store and one syscall.
 */
#include "agent.h"

#include "clock.h"
#include "dump.h"
#include "heap.h"
#include "lock.h"
#include "log.h"
#include "ownthread.h"
#include "threadstacks.h"
#include "tls.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_uint wake_word;
static MPROF_FORK_STATE atomic_int dump_requested;
static MPROF_FORK_STATE atomic_int growth_requested; /* MPROF_INUSE_INTERVAL */
static MPROF_FORK_STATE atomic_int ready_requested; /* mprof_dump_ready_children */
static MPROF_FORK_STATE atomic_int stopped; /* the exit dump is written */
static MPROF_FORK_STATE atomic_int leave; /* the thread is asked to return */
static MPROF_FORK_STATE atomic_int alive; /* the thread is created and not told to leave */
static MPROF_FORK_STATE atomic_int final_requested; /* last words (agent.h) */
static MPROF_FORK_STATE atomic_int final_done;      /* a futex word */
static const mprof_config *config;

/* Guards the thread's existence: own, wanted, pause_depth,
 * retired (agent.h); held across pthread_create and pthread_join. */
static MPROF_FORK_STATE mprof_lock agent_lock = MPROF_LOCK_INIT;
MPROF_LOCK_RANK(agent_lock, MPROF_RANK_AGENT);
static MPROF_FORK_STATE mprof_ownthread own; /* the thread, its stack (ownthread.h) */
static MPROF_FORK_STATE int pause_depth, wanted, retired;
static int create_failed_said;

static void wake(void)
{
    atomic_fetch_add(&wake_word, 1);
    syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void mprof_agent_request_dump(void)
{
    int saved = errno;
    atomic_store(&dump_requested, 1);
    wake();
    errno = saved;
}

void mprof_agent_request_growth_dump(void)
{
    int saved = errno;
    atomic_store(&growth_requested, 1);
    wake();
    errno = saved;
}

void mprof_agent_request_ready_children(void)
{
    int saved = errno;
    atomic_store(&ready_requested, 1);
    wake();
    errno = saved;
}

void mprof_agent_stop_dumping(void) { atomic_store(&stopped, 1); }

void mprof_agent_final_written(void)
{
    int saved = errno;
    atomic_store(&final_done, 1);
    syscall(SYS_futex, &final_done, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    errno = saved;
}

/* On the mprof thread: the final dump, then whoever waits for it wakes.
 * If the exit dump began meanwhile, its thread says when it is written. */
static void serve_final(void)
{
    if (atomic_exchange(&stopped, 1))
        return;
    mprof_dump(MPROF_DUMP_FINAL);
    mprof_agent_final_written();
}

/* In a signal handler: only atomics, the futex and the vDSO clock. */
int mprof_agent_final_dump(int64_t timeout_ns)
{
    int saved = errno, done = atomic_load(&final_done);
    /* The exit dump under way on another thread: wait for it, not for
     * the mprof thread, which dumps no more. */
    int exiting = atomic_load(&stopped);
    if (!done && (exiting || atomic_load(&alive))) {
        if (!exiting) {
            atomic_store(&final_requested, 1);
            wake();
        }
        int64_t deadline = mprof_clock_ns(CLOCK_MONOTONIC) + timeout_ns;
        while (!(done = atomic_load(&final_done))) {
            int64_t left = deadline - mprof_clock_ns(CLOCK_MONOTONIC);
            if (left <= 0)
                break;
            struct timespec ts = {left / 1000000000, left % 1000000000};
            syscall(SYS_futex, &final_done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
        }
    }
    errno = saved;
    return done;
}

static void sleep_until(int64_t deadline, unsigned seen)
{
    int64_t left = deadline - mprof_clock_ns(CLOCK_MONOTONIC);
    if (left <= 0)
        return;
    struct timespec ts = {left / 1000000000, left % 1000000000};
    syscall(SYS_futex, &wake_word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

static void *agent_main(void *arg)
{
    (void)arg;
    mprof_guard_enter();
    /* Named from inside (prctl), not by pthread_setname_np from the
     * starting thread, which writes /proc/self/task/<tid>/comm: any
     * /proc/<pid> entry a process has looked up is walked again when it
     * is reaped (proc_invalidate_siblings_dcache), in its parent's wait,
     * which for a server forking a process per request is the bottleneck. */
    prctl(PR_SET_NAME, "mprof", 0, 0, 0);
    mprof_threadstacks_own(MPROF_OWN_AGENT); /* not in the threads profile */
    const int64_t epoch = (int64_t)config->epoch_ms * 1000000;
    const int64_t interval = (int64_t)config->dump_interval * 1000000000;
    int64_t next_tick = mprof_clock_ns(CLOCK_MONOTONIC) + epoch;
    int64_t next_dump = interval ? mprof_clock_ns(CLOCK_MONOTONIC) + interval : INT64_MAX;
    while (!atomic_load(&leave)) {
        unsigned seen = atomic_load(&wake_word);
        int64_t deadline = next_tick < next_dump ? next_tick : next_dump;
        if (!atomic_load(&dump_requested) && !atomic_load(&growth_requested) &&
            !atomic_load(&ready_requested) && !atomic_load(&final_requested) &&
            !atomic_load(&leave))
            sleep_until(deadline, seen);
        if (atomic_exchange(&final_requested, 0))
            serve_final();
        if (atomic_exchange(&ready_requested, 0) && !atomic_load(&stopped))
            mprof_dump_ready_children();
        int64_t now = mprof_clock_ns(CLOCK_MONOTONIC);
        int asked = atomic_exchange(&dump_requested, 0);
        int grown = atomic_exchange(&growth_requested, 0);
        int want_dump = asked || grown || now >= next_dump;
        if (want_dump && !atomic_load(&stopped)) {
            mprof_dump(asked ? MPROF_DUMP_ASKED : MPROF_DUMP_INTERVAL); /* ends the epoch itself */
            if (now >= next_dump)
                next_dump = now + interval;
            next_tick = mprof_clock_ns(CLOCK_MONOTONIC) + epoch;
        } else if (now >= next_tick) {
            mprof_heap_tick();
            next_tick = now + epoch;
        }
    }
    mprof_guard_exit();
    return NULL;
}

void mprof_agent_init(const mprof_config *cfg) { config = cfg; }

/* With agent_lock held: 0 or an errno. */
static int start_locked(void)
{
    mprof_lock_assert_held(&agent_lock);
    atomic_store(&leave, 0);
    int rc = mprof_ownthread_start(&own, agent_main);
    if (rc == 0) {
        /* Now, not when the thread first runs: a request made before it
         * is scheduled (last words) is served by its first iteration. */
        atomic_store(&alive, 1);
    } else if (!create_failed_said) {
        create_failed_said = 1;
        mprof_log("cannot start the mprof thread (%s); profiles will be "
                  "written at exit only", strerror(rc));
    }
    return rc;
}

static void stop_locked(void)
{
    mprof_lock_assert_held(&agent_lock);
    if (!own.running)
        return;
    atomic_store(&alive, 0);
    atomic_store(&leave, 1);
    wake();
    mprof_ownthread_join(&own, 1);
}

int mprof_agent_want(void)
{
    mprof_lock_assert_none_held();
    int saved = errno, rc = 0;
    mprof_lock_acquire(&agent_lock);
    wanted = 1;
    if (!own.running && !pause_depth && !retired && !create_failed_said)
        rc = start_locked();
    mprof_lock_release(&agent_lock);
    errno = saved;
    return rc;
}

/* pause, resume and retire run in the program's threads, around the calls
 * that need a single thread and when its last thread ends: each under the
 * reentrancy guard with agent_lock held, errno left as it was found.
 * enter_locked returns the errno for leave_locked to restore. */
static int enter_locked(void)
{
    int saved = errno;
    mprof_guard_enter();
    mprof_lock_acquire(&agent_lock);
    return saved;
}

static void leave_locked(int saved)
{
    mprof_lock_assert_held(&agent_lock);
    mprof_lock_release(&agent_lock);
    mprof_guard_exit();
    errno = saved;
}

void mprof_agent_pause(void)
{
    int saved = enter_locked();
    pause_depth++;
    stop_locked();
    leave_locked(saved);
}

void mprof_agent_resume(void)
{
    int saved = enter_locked();
    if (pause_depth > 0 && --pause_depth == 0 && wanted && !retired && !own.running)
        start_locked();
    leave_locked(saved);
}

void mprof_agent_retire(void)
{
    int saved = enter_locked();
    retired = 1;
    stop_locked();
    leave_locked(saved);
}

void mprof_agent_reset_after_fork(void)
{
    mprof_lock_reset(&agent_lock);
    if (pause_depth | wanted | retired)
        pause_depth = wanted = retired = 0;
    mprof_ownthread_after_fork(&own);
    if (atomic_load(&dump_requested))
        atomic_store(&dump_requested, 0);
    if (atomic_load(&ready_requested))
        atomic_store(&ready_requested, 0);
    if (atomic_load(&leave))
        atomic_store(&leave, 0);
    if (atomic_load(&alive)) /* the parent's thread, which did not follow */
        atomic_store(&alive, 0);
    if (atomic_load(&final_requested))
        atomic_store(&final_requested, 0);
    if (atomic_load(&growth_requested))
        atomic_store(&growth_requested, 0);
}
