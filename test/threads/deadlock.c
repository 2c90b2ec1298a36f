/*
 * deadlock.c: two threads that take two mutexes in opposite orders and
 * deadlock, for `mprof stacks` (issue 14, part 2): "left" holds lock_a
 * and waits for lock_b, "right" holds lock_b and waits for lock_a.  It
 * prints "ready" and both tids once both are blocked, then waits to be
 * killed.
 */
#include "common.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static pid_t tid_left, tid_right;

SITE void take_in_order(pthread_mutex_t *first, pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_barrier_wait(&both_hold);
    pthread_mutex_lock(second);
    prog_use(second);
}

static void *left(void *arg)
{
    pthread_setname_np(pthread_self(), "left");
    __atomic_store_n(&tid_left, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    take_in_order(&lock_a, &lock_b);
    return arg;
}

static void *right(void *arg)
{
    pthread_setname_np(pthread_self(), "right");
    __atomic_store_n(&tid_right, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    take_in_order(&lock_b, &lock_a);
    return arg;
}

static int blocked_on(pid_t tid, const pthread_mutex_t *m)
{
    return prog_futex_wait_on(tid, m, sizeof *m);
}

int main(void)
{
    pthread_barrier_init(&both_hold, NULL, 2);
    pthread_t l, r;
    if (pthread_create(&l, NULL, left, NULL) || pthread_create(&r, NULL, right, NULL))
        return 2;
    /* both hold their first lock (the barrier), then block on the second */
    while (!__atomic_load_n(&tid_left, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&tid_right, __ATOMIC_ACQUIRE) || !blocked_on(tid_left, &lock_b) ||
           !blocked_on(tid_right, &lock_a))
        usleep(1000);
    printf("ready\nleft %d\nright %d\n", (int)tid_left, (int)tid_right);
    fflush(stdout);
    for (;;)
        pause();
}
