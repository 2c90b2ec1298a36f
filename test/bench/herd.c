/*
 * herd: a thundering herd on one condition variable.
 *
 *   herd <threads> <rounds>
 *
 * <threads> threads wait on one pthread_cond_t (under one mutex); when all
 * are waiting the main thread wakes them with one pthread_cond_broadcast,
 * and they go back to wait for the next round.  Every waiter waits longer
 * than the block profile's default rate (10 us), so each wait is recorded
 * (Go's blockevent); the mutex that the woken herd reacquires one by one is
 * where extra work done while holding it shows.  Threads have 64 KiB
 * stacks.  Timed whole-process by the bench; the program times the rounds.
 *
 * Output: threads=<n> rounds=<r> seconds=<rounds wall> us_per_round=<...>
 *         main_end=<CLOCK_MONOTONIC seconds when main returns> (see stacks.c)
 */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_here = PTHREAD_COND_INITIALIZER;
static long arrived, gen;
static long n_threads, n_rounds;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    for (long r = 0; r < n_rounds; r++) {
        if (++arrived == n_threads * (r + 1))
            pthread_cond_signal(&all_here);
        while (gen == r)
            pthread_cond_wait(&go, &m);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (n_threads = atol(argv[1])) < 1 || (n_rounds = atol(argv[2])) < 1) {
        fprintf(stderr, "usage: herd <threads> <rounds>\n");
        return 2;
    }
    pthread_t *th = malloc((size_t)n_threads * sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (long i = 0; i < n_threads; i++)
        if (!th || pthread_create(&th[i], &attr, waiter, NULL)) {
            fprintf(stderr, "herd: cannot start thread %ld\n", i);
            return 1;
        }
    double t0 = 0;
    for (long r = 0; r < n_rounds; r++) {
        pthread_mutex_lock(&m);
        while (arrived < n_threads * (r + 1))
            pthread_cond_wait(&all_here, &m);
        if (r == 0)
            t0 = bench_now(); /* every thread started and waiting */
        gen++;
        pthread_cond_broadcast(&go);
        pthread_mutex_unlock(&m);
    }
    for (long i = 0; i < n_threads; i++)
        pthread_join(th[i], NULL);
    double secs = bench_now() - t0;
    printf("threads=%ld rounds=%ld seconds=%.6f us_per_round=%.1f main_end=%.6f\n",
           n_threads, n_rounds, secs, secs * 1e6 / (double)n_rounds, bench_now());
    fflush(stdout);
    return 0;
}
