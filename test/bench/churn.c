/*
 * churn: a malloc/free churn benchmark.
 *
 *   churn <threads> <ops per thread> [mixed|small]
 *
 * Each thread keeps a ring of live blocks; every operation frees the block in
 * a random slot of the ring and allocates a new one in its place (and writes
 * its first byte, as a program would).  The sizes and slots come from a
 * fixed-seed PRNG, so every run does the same work.  The program times itself
 * with CLOCK_MONOTONIC from the start of the threads to their end, so
 * start-up and the profiler's exit dump are not counted: this measures the
 * steady-state cost of the allocation path.
 *
 * Size mixes:
 *   mixed  (default) mostly 16..255 bytes, one in 16 from 256 to 4 KiB:
 *          a typical small-object mix, mean ~270 bytes
 *   small  16..127 bytes only, mean ~72 bytes: the most allocations per
 *          sampled byte, so the unsampled fast path dominates
 *
 * Output: threads=<n> ops=<per thread> seconds=<wall> ns_per_op=<wall/ops>
 */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 4096

static long g_ops;
static int g_small;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static size_t pick_size(uint64_t r)
{
    if (g_small)
        return 16 + (r >> 8) % 112;
    if ((r & 15) == 0)
        return 256 + (r >> 8) % 3840;
    return 16 + (r >> 8) % 240;
}

static void *worker(void *arg)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull * ((uint64_t)(uintptr_t)arg + 1);
    char **ring = calloc(RING, sizeof *ring);
    if (!ring)
        abort();
    for (long i = 0; i < g_ops; i++) {
        uint64_t r = xorshift(&seed);
        size_t slot = (size_t)(r >> 40) % RING;
        free(ring[slot]);
        ring[slot] = malloc(pick_size(r));
        if (!ring[slot])
            abort();
        ring[slot][0] = (char)i;
    }
    for (size_t i = 0; i < RING; i++)
        free(ring[i]);
    free(ring);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: churn <threads> <ops per thread> [mixed|small]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    g_ops = atol(argv[2]);
    if (argc == 4 && strcmp(argv[3], "small") == 0)
        g_small = 1;
    else if (argc == 4 && strcmp(argv[3], "mixed") != 0)
        n = 0;
    if (n < 1 || n > BENCH_MAX_THREADS || g_ops < 1) {
        fprintf(stderr, "churn: bad arguments\n");
        return 2;
    }
    double secs = bench_run(n, worker);
    printf("threads=%d ops=%ld seconds=%.6f ns_per_op=%.3f\n", n, g_ops, secs,
           secs * 1e9 / (double)g_ops);
    return 0;
}
