/*
 * manylocks.c: one site, many locks, as a server with a lock per
 * connection has.  The block and mutex profiles key their buckets by
 * (stack, object) so that a sample names its lock, and buckets are never
 * freed: a site must not make one per object without bound (block.h,
 * MPROF_BLOCK_OBJECTS).  NLOCKS heap mutexes are each waited for once at
 * take() and let go once at release_when_blocked(), the wait made certain
 * as in whichlock.c (the holder unlocks only once the waiter is blocked in
 * futex(2) on it); NLOCKS heap condition variables are each waited on once
 * at cond_site(), a timed wait already past its deadline, which returns
 * ETIMEDOUT at once and counts as a wait.  Every count is known: NLOCKS.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NLOCKS 64

static pid_t waiter_tid;
static int held;

static int blocked_on(pid_t tid, const void *obj, size_t size)
{
    return prog_futex_wait_on(tid, obj, size);
}

SITE void release_when_blocked(pthread_mutex_t *m)
{
    while (!blocked_on(waiter_tid, m, sizeof *m))
        usleep(200);
    pthread_mutex_unlock(m);
    prog_use(m);
}

static void *holder(void *arg)
{
    pthread_mutex_t *m = arg;
    pthread_mutex_lock(m);
    __atomic_store_n(&held, 1, __ATOMIC_RELEASE);
    release_when_blocked(m);
    return NULL;
}

SITE void take(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    prog_use(m);
}

SITE int cond_site(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct timespec past = {0, 0};
    pthread_mutex_lock(m);
    int rc = pthread_cond_timedwait(c, m, &past);
    pthread_mutex_unlock(m);
    prog_use(c);
    return rc;
}

int main(void)
{
    waiter_tid = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < NLOCKS; i++) {
        pthread_mutex_t *m = malloc(sizeof *m);
        if (!m)
            return 2;
        pthread_mutex_init(m, NULL);
        __atomic_store_n(&held, 0, __ATOMIC_RELEASE);
        pthread_t t;
        if (pthread_create(&t, NULL, holder, m) != 0)
            return 2;
        while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE))
            usleep(200);
        take(m);
        pthread_join(t, NULL);
        /* not freed: a freed lock's address may come back as the next
         * one's, and every lock must be a distinct object */
    }
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    for (int i = 0; i < NLOCKS; i++) {
        pthread_cond_t *c = malloc(sizeof *c);
        if (!c)
            return 2;
        pthread_cond_init(c, NULL);
        if (cond_site(c, &mu) != ETIMEDOUT)
            return 3;
    }
    printf("locks %d\n", NLOCKS);
    return 0;
}
