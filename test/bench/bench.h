/*
 * bench.h: what the timed benchmark programs share: n threads started
 * together running one worker each, timed with CLOCK_MONOTONIC from the
 * first start to the last join, so process start-up and the profiler's
 * exit dump are not in the figure.
 */
#ifndef MPROF_BENCH_H
#define MPROF_BENCH_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MAX_THREADS 64

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs worker(i) on n threads (i = 0..n-1); the seconds they took. */
static inline double bench_run(int n, void *(*worker)(void *))
{
    pthread_t th[BENCH_MAX_THREADS];
    double t0 = bench_now();
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i))
            abort();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return bench_now() - t0;
}

#endif
