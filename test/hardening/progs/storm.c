/*
 * storm: allocating and locking under a storm of dump signals.
 *
 *   storm [--ms D] [--threads T] [--self-storm] [--every-us U]
 *
 * For D ms, T workers allocate at storm_site (checking each block's
 * contents before freeing it, keeping one in 16), bump a mutex-guarded
 * counter, ping-pong through a condition variable and a semaphore, sleep
 * and read a pipe (interruptible calls, retried on EINTR as a careful
 * program does).  With --self-storm, a thread sends the process SIGUSR2
 * every U us (default 1000); the test may storm from outside as well,
 * after "ready".  Prints the truth of storm_site and the signals sent.
 */
#include "hprog.h"

#include <pthread.h>
#include <semaphore.h>

#define STORM_SIZE 96

static long g_ms = 1500, g_every_us = 1000;
static int g_threads = 4;
static volatile int g_stop;
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static uint64_t g_counter, g_turn;
static sem_t g_sem;
static int g_pipe[2];
static int g_line;

struct wstat {
    uint64_t allocs, kept, bumps;
} __attribute__((aligned(64)));

static struct wstat *g_stat;
static void ***g_keep;
static const size_t KEEP_MAX = 1 << 16;

SITE static void *storm_site(void)
{
    void *p = prog_check(malloc(STORM_SIZE), "malloc"); g_line = __LINE__;
    return p;
}

static bool stopped(void) { return __atomic_load_n(&g_stop, __ATOMIC_RELAXED) != 0; }

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    struct wstat *st = &g_stat[t];
    uint64_t x = 0x9E3779B97F4A7C15ULL + (uint64_t)t;
    while (!stopped()) {
        for (int i = 0; i < 64; i++) {
            void *p = storm_site();
            uint64_t tag = hp_rand(&x);
            hp_fill(p, STORM_SIZE, tag);
            st->allocs++;
            if (tag % 16 == 0 && st->kept < KEEP_MAX) {
                g_keep[t][st->kept++] = p;
                continue;
            }
            hp_check(p, STORM_SIZE, tag);
            free(p);
        }
        pthread_mutex_lock(&g_m);
        g_counter++;
        pthread_mutex_unlock(&g_m);
        st->bumps++;
        if (t < 2) { /* threads 0 and 1 take turns through the condvar */
            pthread_mutex_lock(&g_m);
            while (g_turn % 2 != (uint64_t)t && !stopped())
                pthread_cond_wait(&g_c, &g_m);
            g_turn++;
            pthread_cond_broadcast(&g_c);
            pthread_mutex_unlock(&g_m);
        } else if (t == 2) {
            sem_post(&g_sem);
            char c = 'x';
            if (write(g_pipe[1], &c, 1) != 1)
                hp_damaged("pipe write");
        } else if (t == 3) {
            while (sem_wait(&g_sem) != 0 && errno == EINTR)
                ;
            char c;
            ssize_t r;
            while ((r = read(g_pipe[0], &c, 1)) < 0 && errno == EINTR)
                ;
            if (r != 1 || c != 'x')
                hp_damaged("pipe read");
        } else {
            prog_sleep_ms(1);
        }
    }
    return NULL;
}

static uint64_t g_sent;

static void *stormer(void *arg)
{
    (void)arg;
    struct timespec ts = {0, g_every_us * 1000};
    while (!stopped()) {
        kill(getpid(), SIGUSR2);
        g_sent++;
        struct timespec left = ts;
        while (nanosleep(&left, &left) != 0 && errno == EINTR)
            ;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    g_ms = hp_long(argc, argv, "--ms", g_ms);
    g_threads = (int)hp_long(argc, argv, "--threads", g_threads);
    g_every_us = hp_long(argc, argv, "--every-us", g_every_us);
    if (g_threads < 4)
        g_threads = 4; /* the pipe/semaphore pair needs threads 2 and 3 */
    if (pipe(g_pipe) != 0 || sem_init(&g_sem, 0, 0) != 0)
        prog_fail("setup");
    g_stat = hp_map((size_t)g_threads * sizeof *g_stat);
    g_keep = hp_map((size_t)g_threads * sizeof *g_keep);
    for (int t = 0; t < g_threads; t++)
        g_keep[t] = prog_slots(KEEP_MAX);
    dprintf(1, "pid %d\nready\n", (int)getpid());
    pthread_t *tid = hp_map((size_t)g_threads * sizeof *tid), st;
    for (int t = 0; t < g_threads; t++)
        pthread_create(&tid[t], NULL, worker, (void *)(intptr_t)t);
    bool self = hp_flag(argc, argv, "--self-storm");
    if (self)
        pthread_create(&st, NULL, stormer, NULL);
    prog_sleep_ms(g_ms);
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&g_m);
    pthread_cond_broadcast(&g_c);
    pthread_mutex_unlock(&g_m);
    sem_post(&g_sem); /* thread 3 may wait for one more post */
    if (write(g_pipe[1], "x", 1) != 1)
        hp_damaged("pipe write");
    for (int t = 0; t < g_threads; t++)
        pthread_join(tid[t], NULL);
    if (self)
        pthread_join(st, NULL);
    uint64_t allocs = 0, kept = 0, bumps = 0;
    for (int t = 0; t < g_threads; t++) {
        allocs += g_stat[t].allocs;
        kept += g_stat[t].kept;
        bumps += g_stat[t].bumps;
    }
    if (bumps != g_counter)
        hp_damaged("mutex-guarded counter");
    dprintf(1, "signals sent %llu\n", (unsigned long long)g_sent);
    dprintf(1, "truth 1 storm_site %d %llu %llu %llu %llu %s %d\n", STORM_SIZE,
            (unsigned long long)allocs, (unsigned long long)allocs * STORM_SIZE,
            (unsigned long long)kept, (unsigned long long)kept * STORM_SIZE, __FILE__, g_line);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
