/*
 * host_clean: an ordinary C program with nothing unusual about it.
 *
 *   host_clean
 *
 * Four threads allocate at clean_site (keeping one block in four), share a
 * mutex and hand work over through a condition variable; the program
 * reports its progress on stderr, as command-line tools do, and its result
 * on stdout with the truth of clean_site.  Under the profiler its stderr
 * must stay exactly what it is bare.
 */
#include "hprog.h"

#include <pthread.h>

#define THREADS 4
#define PER 5000
#define SIZE 72

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static long g_queue, g_done;
static void **g_keep;
static int g_line;

SITE static void *clean_site(void)
{
    void *p = prog_check(malloc(SIZE), "malloc"); g_line = __LINE__;
    return p;
}

static void *producer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PER; i++) {
        void *p = clean_site();
        hp_fill(p, SIZE, (uint64_t)i);
        if (i % 4 == 0)
            g_keep[t * PER + i] = p;
        else
            free(p);
        pthread_mutex_lock(&g_m);
        g_queue++;
        pthread_cond_signal(&g_c);
        pthread_mutex_unlock(&g_m);
    }
    return NULL;
}

int main(void)
{
    g_keep = prog_slots(THREADS * PER);
    fprintf(stderr, "host_clean: starting %d threads\n", THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i);
    pthread_mutex_lock(&g_m);
    while (g_done < THREADS * PER) {
        while (g_queue == 0)
            pthread_cond_wait(&g_c, &g_m);
        g_done += g_queue;
        g_queue = 0;
    }
    pthread_mutex_unlock(&g_m);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    fprintf(stderr, "host_clean: %ld items done\n", g_done);
    size_t kept = THREADS * ((PER + 3) / 4);
    printf("items %ld\n", g_done);
    fflush(stdout);
    prog_truth(1, "clean_site", SIZE, THREADS * PER, kept, __FILE__, g_line);
    return 0;
}
