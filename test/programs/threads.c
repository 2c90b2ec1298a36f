/*
 * threads: per-thread allocation sites with frees on other threads.
 *
 *   threads [--threads N] [--per N] [--race]
 *
 * Thread t (t < N <= 4) allocates `per` blocks of its own size at its own
 * site thread_site_<t>; after a barrier, thread t frees the even-numbered
 * blocks of thread (t+1) % N, so every free of a sampled block happens on a
 * thread other than the one that allocated it.  Then the threads exit.
 *
 * --race  also run two threads that allocate and free at thread_churn until
 *         the process exits: exit (and the exit dump) races with them.
 */
#include "common.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define MAX_THREADS 4

static size_t g_per = 20000;
static int g_nthreads = MAX_THREADS;
static void **g_slots[MAX_THREADS];
static int g_lines[MAX_THREADS];
static pthread_barrier_t g_barrier;

static size_t size_of(int t)
{
    return 24 + 40 * (size_t)t;
}

/* One function per thread, so each thread's allocations have their own
 * leaf frame name. */
#define THREAD_SITE(k)                                                       \
    SITE static void thread_site_##k(void **s, size_t n, size_t size)        \
    {                                                                        \
        for (size_t i = 0; i < n; i++) {                                     \
            s[i] = prog_check(malloc(size), "malloc"); g_lines[k] = __LINE__; \
        }                                                                    \
    }
THREAD_SITE(0)
THREAD_SITE(1)
THREAD_SITE(2)
THREAD_SITE(3)

typedef void (*site_fn)(void **, size_t, size_t);
static const site_fn g_sites[MAX_THREADS] = {thread_site_0, thread_site_1,
                                             thread_site_2, thread_site_3};

static void *site_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    g_sites[t](g_slots[t], g_per, size_of(t));
    pthread_barrier_wait(&g_barrier);
    void **victim = g_slots[(t + 1) % g_nthreads];
    for (size_t i = 0; i < g_per; i += 2)
        free(victim[i]);
    return NULL;
}

/* Runs until the process exits. */
PROG_CHURN_SITE(thread_churn, 512, true)

static void start_churn(void)
{
    pthread_t th[2];
    prog_threads(th, 2, thread_churn_thread, 1);
    for (int i = 0; i < 2; i++)
        pthread_detach(th[i]);
}

static void run_sites(void)
{
    pthread_t th[MAX_THREADS];
    pthread_barrier_init(&g_barrier, NULL, (unsigned)g_nthreads);
    for (int t = 0; t < g_nthreads; t++)
        g_slots[t] = prog_slots(g_per);
    prog_threads(th, g_nthreads, site_thread, 0);
    for (int t = 0; t < g_nthreads; t++)
        pthread_join(th[t], NULL);
}

int main(int argc, char **argv)
{
    bool race = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--race") == 0)
            race = true;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            g_nthreads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--per") == 0 && i + 1 < argc)
            g_per = strtoul(argv[++i], NULL, 10);
    }
    if (g_nthreads < 1 || g_nthreads > MAX_THREADS || g_per < 2) {
        dprintf(2, "usage: threads [--threads 1..4] [--per N>=2] [--race]\n");
        return 2;
    }
    dprintf(1, "pid %d\n", (int)getpid());
    if (race)
        start_churn();
    run_sites();
    for (int t = 0; t < g_nthreads; t++) {
        char name[32];
        snprintf(name, sizeof name, "thread_site_%d", t);
        prog_truth(1, name, size_of(t), g_per, g_per / 2, __FILE__, g_lines[t]);
    }
    dprintf(1, "done\n");
    return 0; /* with --race, exit runs while the churn threads allocate */
}
