/*
 * whichlock.c: which call and which lock, for the block and mutex
 * profiles' leaf frames and lock labels (issue 14, part 3).
 *
 * Three locks are waited for at one site, take(): a global (cache_lock),
 * a lock inside a global struct (registry.lock, at offset 64) and one on
 * the heap; and both() waits for a mutex and then on a condition
 * variable, one function, two calls.  Every wait is made certain, not
 * likely: the holder keeps the lock until it sees the waiter blocked in
 * futex(2) on it (/proc/self/task/<tid>/syscall), however slow the
 * machine.  Prints the heap lock's address for the test to compare, and
 * for each lock the holder held, the time it held it measured two ways
 * (MPROF_MUTEX_HOLD's truth): from just after its lock returned to just
 * before its unlock (inner), and from just before the lock to just after
 * the unlock (outer): "held <i> <inner ns> <outer ns>", i = 0 for
 * cache_lock, 1 registry.lock, 2 the heap lock.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
struct registry {
    char pad[64];
    pthread_mutex_t lock;
} registry = {.lock = PTHREAD_MUTEX_INITIALIZER};
pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;

static pid_t waiter_tid;
static int held; /* the holder has the lock: the waiter may go */

/* The holder's clock around its lock and unlock, per lock (contend()). */
static long hold_times[4][4];
static int nheld;

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int blocked_on(pid_t tid, const void *obj, size_t size)
{
    return prog_futex_wait_on(tid, obj, size);
}

static void wait_blocked(const void *obj, size_t size)
{
    while (!blocked_on(waiter_tid, obj, size))
        usleep(1000);
}

/* The holder's unlock: the mutex profile's stack for each lock. */
SITE void release_when_blocked(pthread_mutex_t *m)
{
    wait_blocked(m, sizeof *m);
    hold_times[nheld][2] = now_ns();
    pthread_mutex_unlock(m);
    hold_times[nheld][3] = now_ns();
    prog_use(m); /* no tail call: this frame stays on the unlock's stack */
}

static void *holder(void *arg)
{
    pthread_mutex_t *m = arg;
    hold_times[nheld][0] = now_ns();
    pthread_mutex_lock(m);
    hold_times[nheld][1] = now_ns();
    __atomic_store_n(&held, 1, __ATOMIC_RELEASE);
    release_when_blocked(m);
    nheld++;
    return NULL;
}

static void *cond_holder(void *arg)
{
    pthread_mutex_t *m = arg;
    pthread_mutex_lock(m);
    __atomic_store_n(&held, 1, __ATOMIC_RELEASE);
    release_when_blocked(m);
    wait_blocked(&ready_cond, sizeof ready_cond);
    pthread_mutex_lock(m);
    ready = 1;
    pthread_cond_signal(&ready_cond);
    pthread_mutex_unlock(m);
    return NULL;
}

/* One site, whichever lock. */
SITE void take(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    prog_use(m);
}

/* A mutex wait and a condition wait in one function. */
SITE void both(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    while (!ready)
        pthread_cond_wait(&ready_cond, m);
    pthread_mutex_unlock(m);
    prog_use(m);
}

static void contend(void *(*hold)(void *), void (*site)(pthread_mutex_t *), pthread_mutex_t *m)
{
    pthread_t t;
    __atomic_store_n(&held, 0, __ATOMIC_RELEASE);
    if (pthread_create(&t, NULL, hold, m) != 0)
        exit(2);
    while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE))
        usleep(1000);
    site(m);
    pthread_join(t, NULL);
}

int main(void)
{
    waiter_tid = (pid_t)syscall(SYS_gettid);
    pthread_mutex_t *heap_lock = malloc(sizeof *heap_lock);
    pthread_mutex_t *cond_lock = malloc(sizeof *cond_lock);
    if (!heap_lock || !cond_lock)
        return 2;
    pthread_mutex_init(heap_lock, NULL);
    pthread_mutex_init(cond_lock, NULL);
    contend(holder, take, &cache_lock);
    contend(holder, take, &registry.lock);
    contend(holder, take, heap_lock);
    contend(cond_holder, both, cond_lock);
    printf("heap_lock %p\ncond_lock %p\n", (void *)heap_lock, (void *)cond_lock);
    for (int i = 0; i < nheld; i++)
        printf("held %d %ld %ld\n", i, hold_times[i][2] - hold_times[i][1],
               hold_times[i][3] - hold_times[i][0]);
    return 0;
}
