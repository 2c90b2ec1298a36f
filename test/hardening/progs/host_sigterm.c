/*
 * host_sigterm: SIGTERM while every thread is inside malloc.
 *
 *   host_sigterm [--threads T] [--handler none|exit|_exit]
 *
 * T threads (default 3) and the main thread replace blocks of 16 bytes to
 * 39 KB (64 sizes) at random for ever, so that at any moment each of them
 * is most likely inside malloc or free (and, under a profiler at
 * MPROF_MEM_RATE=1, inside its sampling).  Once every thread has made 1000 calls the program
 * prints "ready"; the test then sends SIGTERM.
 *
 *   none    no handler: the process dies by SIGTERM;
 *   exit    the handler calls exit(5): exit handlers run while the other
 *           threads (and perhaps the interrupted one) are inside malloc;
 *   _exit   the handler calls _exit(6).
 */
#include "hprog.h"

#include <pthread.h>

#define SLOTS 1024

static uint64_t *g_count; /* per thread, 64 bytes apart */

SITE static void churn_site(void **slot, uint64_t *x)
{
    hp_rand(x);
    free(*slot);
    *slot = malloc(16 + (*x >> 24) % 64 * 625); /* 64 sizes: a small profile */
}

static void churn(int t)
{
    void **slots = prog_slots(SLOTS);
    uint64_t x = 0xC0FFEEULL + (uint64_t)t * 7919;
    for (;;) {
        churn_site(&slots[x % SLOTS], &x);
        __atomic_fetch_add(&g_count[t * 8], 1, __ATOMIC_RELAXED);
    }
}

static void *thread_main(void *arg)
{
    churn((int)(intptr_t)arg);
    return NULL;
}

static void on_term_exit(int sig)
{
    (void)sig;
    exit(5);
}

static void on_term__exit(int sig)
{
    (void)sig;
    _exit(6);
}

static void *announce(void *arg)
{
    int n = (int)(intptr_t)arg;
    for (int t = 0; t < n; t++)
        while (__atomic_load_n(&g_count[t * 8], __ATOMIC_RELAXED) < 1000)
            prog_sleep_ms(1);
    dprintf(1, "ready\n");
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = (int)hp_long(argc, argv, "--threads", 3);
    const char *h = hp_arg(argc, argv, "--handler");
    if (h && strcmp(h, "exit") == 0)
        signal(SIGTERM, on_term_exit);
    else if (h && strcmp(h, "_exit") == 0)
        signal(SIGTERM, on_term__exit);
    g_count = hp_map((size_t)(threads + 1) * 8 * sizeof *g_count);
    for (int t = 1; t <= threads; t++) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, thread_main, (void *)(intptr_t)t) != 0)
            prog_fail("pthread_create");
    }
    /* "ready" comes from a short-lived thread, so that main churns too;
     * the test waits a moment after it before signalling */
    pthread_t a;
    if (pthread_create(&a, NULL, announce, (void *)(intptr_t)(threads + 1)) != 0)
        prog_fail("pthread_create");
    pthread_detach(a);
    churn(0);
}
