/*
 * locks: a pthread mutex benchmark, with the churn benchmark's interface.
 *
 *   locks <threads> <ops per thread>
 *
 * 1 thread: uncontended lock+unlock pairs, the wrappers' fast path (a try
 * that succeeds, and an unlock whose filter bit is clear).  2 or more
 * threads: all share one mutex with a little work inside, so most locks
 * contend and take the slow path (clock reads, waiter records, sampling).
 * Prints "threads=T ops=N seconds=S ns_per_op=X", X per lock+unlock pair.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static long g_ops;
static volatile uint64_t sink;

static void *worker(void *arg)
{
    (void)arg;
    uint64_t x = 0;
    for (long i = 0; i < g_ops; i++) {
        pthread_mutex_lock(&shared);
        x += (uint64_t)i * 2654435761u; /* a few ns of work while holding it */
        sink = x;
        pthread_mutex_unlock(&shared);
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: locks <threads> <ops per thread>\n");
        return 2;
    }
    int n = atoi(argv[1]);
    g_ops = atol(argv[2]);
    if (n < 1 || n > 64 || g_ops < 1) {
        fprintf(stderr, "locks: bad arguments\n");
        return 2;
    }
    pthread_t th[64];
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, worker, NULL))
            abort();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0;
    printf("threads=%d ops=%ld seconds=%.6f ns_per_op=%.3f\n", n, g_ops, secs,
           secs * 1e9 / (double)g_ops);
    return 0;
}
