/*
 * locks: pthread mutex lock/unlock benchmark.
 *
 *   locks <threads> <pairs per thread> [work]
 *
 * Every thread runs <pairs> times: pthread_mutex_lock(m); a few stores in
 * the critical section; pthread_mutex_unlock(m); then <work> rounds of a
 * PRNG outside the lock (default 0 with 1 thread, 20 with more).  All threads
 * share one default (normal) mutex.  With 1 thread every pair is
 * uncontended: that is the fast path the shim adds to each lock and unlock.
 * With 2 threads on 2 cores the lock changes hands often and waiters block
 * in the kernel: the contended path (and its block/mutex sampling).
 *
 * Timed with CLOCK_MONOTONIC from the start of the threads to their end.
 * Output: threads=<n> ops=<pairs, all threads> seconds=<wall>
 *         ns_per_op=<wall / all pairs> handoffs=<share of pairs where the
 *         lock came from another thread>
 */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_pairs, g_work;
static volatile long g_counter;
static volatile int g_owner = -1;
static long g_handoffs;

static void *worker(void *arg)
{
    int me = (int)(uintptr_t)arg;
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(me + 1);
    for (long i = 0; i < g_pairs; i++) {
        pthread_mutex_lock(&g_lock);
        g_counter++;
        if (g_owner != me) {
            g_owner = me;
            g_handoffs++;
        }
        pthread_mutex_unlock(&g_lock);
        for (long k = 0; k < g_work; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    }
    return (void *)(uintptr_t)(x & 1);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: locks <threads> <pairs per thread> [work]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    g_pairs = atol(argv[2]);
    g_work = argc == 4 ? atol(argv[3]) : (n > 1 ? 20 : 0);
    if (n < 1 || n > BENCH_MAX_THREADS || g_pairs < 1 || g_work < 0) {
        fprintf(stderr, "locks: bad arguments\n");
        return 2;
    }
    double secs = bench_run(n, worker);
    long total = g_pairs * n;
    if (g_counter != total) {
        fprintf(stderr, "locks: counter %ld, expected %ld\n", g_counter, total);
        return 1;
    }
    printf("threads=%d ops=%ld seconds=%.6f ns_per_op=%.3f handoffs=%.4f\n", n,
           total, secs, secs * 1e9 / (double)total,
           (double)g_handoffs / (double)total);
    return 0;
}
