/*
 * parked.c: threads parked in known functions, for the threads profile
 * and `mprof stacks` (issue 14, part 2).  Each thread names itself and
 * blocks for good in its own function:
 *
 *   holder      hold_lock: holds cache_lock, then reads a pipe
 *   waiter x2   wait_lock: pthread_mutex_lock(&cache_lock), held by holder
 *   condwaiter  wait_cond: pthread_cond_wait(&ready_cond, ...)
 *   joiner      wait_join: pthread_join(holder)
 *   sleeper     wait_sleep: nanosleep
 *   reader x3   wait_read: read on a pipe
 *   masked      wait_masked: every signal blocked, then read on a pipe
 *
 * It prints "ready" once every one of them is blocked in the system call
 * its function ends in (/proc/self/task/<tid>/syscall: futex, read,
 * clock_nanosleep), then "tid NAME N" for each, and waits to be killed.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;

enum { NTHREADS = 10 };
static pid_t tids[NTHREADS];
static const char *names[NTHREADS];
static int nstarted;
static int never_fd[2];     /* nobody ever writes it */
static pthread_t holder_thread;

static void hold_lock(int i);
static void wait_lock(int i);
static void wait_cond(int i);
static void wait_join(int i);
static void wait_sleep(int i);
static void wait_read(int i);
static void wait_masked(int i);

static const struct role {
    void (*fn)(int);
    long nr; /* the system call it blocks in */
} roles[NTHREADS] = {
    {hold_lock, SYS_read},        {wait_lock, SYS_futex}, {wait_lock, SYS_futex},
    {wait_cond, SYS_futex},       {wait_join, SYS_futex}, {wait_sleep, SYS_clock_nanosleep},
    {wait_read, SYS_read},        {wait_read, SYS_read},  {wait_read, SYS_read},
    {wait_masked, SYS_read},
};

static void me(int i, const char *name)
{
    pthread_setname_np(pthread_self(), name);
    names[i] = name;
    __atomic_store_n(&tids[i], (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
}

static void block_forever(void)
{
    char c;
    while (read(never_fd[0], &c, 1) != 0)
        ;
}

SITE static void hold_lock(int i)
{
    pthread_mutex_lock(&cache_lock);
    me(i, "holder");
    block_forever();
    prog_use(names[i] ? (void *)names[i] : NULL);
}

SITE static void wait_lock(int i)
{
    me(i, "waiter");
    pthread_mutex_lock(&cache_lock);
    prog_use(names[i] ? (void *)names[i] : NULL);
}

SITE static void wait_cond(int i)
{
    me(i, "condwaiter");
    pthread_mutex_lock(&cond_lock);
    for (;;)
        pthread_cond_wait(&ready_cond, &cond_lock);
}

SITE static void wait_join(int i)
{
    me(i, "joiner");
    pthread_join(holder_thread, NULL);
    prog_use(names[i] ? (void *)names[i] : NULL);
}

SITE static void wait_sleep(int i)
{
    me(i, "sleeper");
    for (;;) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    }
}

SITE static void wait_read(int i)
{
    me(i, "reader");
    block_forever();
    prog_use(names[i] ? (void *)names[i] : NULL);
}

SITE static void wait_masked(int i)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    me(i, "masked");
    block_forever();
    prog_use(names[i] ? (void *)names[i] : NULL);
}

static void *run_role(void *arg)
{
    int i = (int)(intptr_t)arg;
    roles[i].fn(i);
    return NULL;
}

static int blocked_in(pid_t tid, long nr)
{
    long now;
    unsigned long arg;
    return prog_syscall_of(tid, &now, &arg) && now == nr;
}

int main(void)
{
    if (pipe(never_fd) != 0)
        return 2;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run_role, (void *)(intptr_t)i) != 0)
            return 2;
        if (i == 0) {
            holder_thread = t;
            while (!__atomic_load_n(&tids[0], __ATOMIC_ACQUIRE))
                usleep(1000); /* the holder has the lock before anyone waits */
        }
        nstarted++;
    }
    for (int i = 0; i < NTHREADS; i++)
        while (!__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE) || !blocked_in(tids[i], roles[i].nr))
            usleep(1000);
    printf("ready\n");
    for (int i = 0; i < NTHREADS; i++)
        printf("tid %s %d\n", names[i], (int)tids[i]);
    fflush(stdout);
    for (;;)
        pause();
}
