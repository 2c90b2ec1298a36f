/*
 * agent.c: the mprof thread (see agent.h).
 *
 * It sleeps on a futex word, not on a file descriptor, so a program that
 * closes or dup2s over every descriptor cannot take its wake-ups away, and
 * the signal handler needs nothing but a store and one syscall.
 */
#include "agent.h"

#include "dump.h"
#include "heap.h"
#include "tls.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_uint wake_word;
static atomic_int dump_requested;
static atomic_int stopped;
static const mprof_config *config;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mprof_agent_request_dump(void)
{
    int saved = errno;
    atomic_store(&dump_requested, 1);
    atomic_fetch_add(&wake_word, 1);
    syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

void mprof_agent_stop_dumping(void) { atomic_store(&stopped, 1); }

static void sleep_until(int64_t deadline, unsigned seen)
{
    int64_t left = deadline - mono_ns();
    if (left <= 0)
        return;
    struct timespec ts = {left / 1000000000, left % 1000000000};
    syscall(SYS_futex, &wake_word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

static void *agent_main(void *arg)
{
    (void)arg;
    mprof_guard_enter();
    const int64_t epoch = (int64_t)config->epoch_ms * 1000000;
    const int64_t interval = (int64_t)config->dump_interval * 1000000000;
    int64_t next_tick = mono_ns() + epoch;
    int64_t next_dump = interval ? mono_ns() + interval : INT64_MAX;
    for (;;) {
        unsigned seen = atomic_load(&wake_word);
        int64_t deadline = next_tick < next_dump ? next_tick : next_dump;
        if (!atomic_load(&dump_requested))
            sleep_until(deadline, seen);
        int64_t now = mono_ns();
        int want_dump = atomic_exchange(&dump_requested, 0) || now >= next_dump;
        if (want_dump && !atomic_load(&stopped)) {
            mprof_dump(0); /* a dump ends the epoch itself */
            if (now >= next_dump)
                next_dump = now + interval;
            next_tick = mono_ns() + epoch;
        } else if (now >= next_tick) {
            mprof_heap_tick();
            next_tick = now + epoch;
        }
    }
    return NULL;
}

int mprof_agent_start(const mprof_config *cfg)
{
    config = cfg;
    atomic_store(&dump_requested, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    pthread_t t;
    int rc = pthread_create(&t, &attr, agent_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        pthread_setname_np(t, "mprof");
    return rc;
}
