/*
 * exit_race: the process ends while threads are inside malloc/free and
 * inside lock calls.
 *
 *   exit_race [--how exit|return|quick_exit|_exit|thread] [--after-ms X]
 *             [--alloc N] [--lock N] [--storm]
 *
 * N threads spin in malloc/free (race_alloc), N more in contended mutex,
 * rwlock and condition-variable calls; one more waits on a condition
 * variable that is never signalled.  After X ms the process ends with
 * status 7: exit(7) from main, return 7 from main, quick_exit(7), _exit(7),
 * or exit(7) called by a worker thread while main waits in pthread_join.
 * --storm adds a thread sending the dump signal every 200 us, so the exit
 * dump races with signal dumps.
 */
#include "hprog.h"

#include <pthread.h>

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER, g_never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t g_never_m = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t g_shared;
static long g_after = 100;

SITE static void race_alloc(uint64_t *x)
{
    void *p = prog_check(malloc(8 + hp_rand(x) % 4000), "malloc");
    void *q = prog_check(calloc(1, 24), "calloc");
    p = prog_check(realloc(p, 16 + hp_rand(x) % 9000), "realloc");
    free(q);
    free(p);
}

static void *allocator(void *arg)
{
    uint64_t x = 0x2545F4914F6CDD1DULL + (uint64_t)(intptr_t)arg;
    for (;;)
        race_alloc(&x);
    return NULL;
}

static void *locker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (uint64_t i = 0;; i++) {
        pthread_mutex_lock(&g_m);
        g_shared++;
        if (i % 4 == 0)
            pthread_cond_broadcast(&g_c);
        else if (t % 2 == 0 && i % 4 == 1) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&g_c, &g_m, &ts);
        }
        pthread_mutex_unlock(&g_m);
        if (i % 2) {
            pthread_rwlock_wrlock(&g_rw);
            g_shared++;
            pthread_rwlock_unlock(&g_rw);
        } else {
            pthread_rwlock_rdlock(&g_rw);
            pthread_rwlock_unlock(&g_rw);
        }
    }
    return NULL;
}

static void *never(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_never_m);
    for (;;)
        pthread_cond_wait(&g_never, &g_never_m);
    return NULL;
}

static void *storm(void *arg)
{
    (void)arg;
    for (;;) {
        kill(getpid(), SIGUSR2);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *exiter(void *arg)
{
    (void)arg;
    prog_sleep_ms(g_after);
    dprintf(1, "exiting\n");
    exit(7);
}

static void start(void *(*fn)(void *), long arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, (void *)(intptr_t)arg) != 0)
        prog_fail("pthread_create");
}

int main(int argc, char **argv)
{
    const char *how = hp_arg(argc, argv, "--how");
    how = how ? how : "exit";
    g_after = hp_long(argc, argv, "--after-ms", g_after);
    long nalloc = hp_long(argc, argv, "--alloc", 3), nlock = hp_long(argc, argv, "--lock", 3);
    dprintf(1, "pid %d\n", (int)getpid());
    for (long i = 0; i < nalloc; i++)
        start(allocator, i);
    for (long i = 0; i < nlock; i++)
        start(locker, i);
    start(never, 0);
    if (hp_flag(argc, argv, "--storm"))
        start(storm, 0);
    if (strcmp(how, "thread") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, exiter, NULL);
        pthread_join(t, NULL); /* never returns: the thread exits the process */
        hp_damaged("exiter returned");
    }
    prog_sleep_ms(g_after);
    dprintf(1, "exiting\n");
    if (strcmp(how, "return") == 0)
        return 7;
    if (strcmp(how, "quick_exit") == 0)
        quick_exit(7);
    if (strcmp(how, "_exit") == 0)
        _exit(7);
    exit(7);
}
