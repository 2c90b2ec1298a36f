/*
 * parked: the cost of a threads dump (issue 14) as a function of the
 * number of threads, for the "threads dump curve" of make bench.
 *
 *   parked <N> <K>
 *
 * N threads park in pthread_cond_wait; then the program asks K times for
 * a dump with the dump signal (SIGUSR2, raised at itself) and times each
 * from the signal to the moment its threads profile,
 * $MPROF_OUT.<pid>.<k>.threads.pb.gz, is there (polled every 100 us with
 * access(2), which allocates nothing).  Run under libmprof.so with
 * MPROF_OUT set; the parked threads run nothing meanwhile.
 *
 * Output: threads=<N> dumps=<K> dump_ms=<median ms per dump>
 */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int done;

static void *park(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    while (!done)
        pthread_cond_wait(&never, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = argc == 3 ? atol(argv[1]) : 0, k = argc == 3 ? atol(argv[2]) : 0;
    const char *out = getenv("MPROF_OUT");
    if (n < 1 || k < 1 || k > 100 || !out) {
        fprintf(stderr, "usage: MPROF_OUT=<prefix> parked <threads> <dumps>\n");
        return 2;
    }
    pthread_t *th = malloc((size_t)n * sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (long i = 0; i < n; i++)
        if (!th || pthread_create(&th[i], &attr, park, NULL))
            return 1;
    usleep(200000); /* every thread in its wait */
    double ms[100];
    char path[4096];
    for (long d = 1; d <= k; d++) {
        snprintf(path, sizeof path, "%s.%d.%ld.threads.pb.gz", out, (int)getpid(), d);
        double t0 = bench_now();
        raise(SIGUSR2);
        for (int i = 0; i < 300000 && access(path, F_OK) != 0; i++)
            usleep(100);
        if (access(path, F_OK) != 0) {
            fprintf(stderr, "parked: no %s\n", path);
            return 1;
        }
        ms[d - 1] = 1000 * (bench_now() - t0);
    }
    qsort(ms, (size_t)k, sizeof ms[0], cmp);
    pthread_mutex_lock(&m);
    done = 1;
    pthread_cond_broadcast(&never);
    pthread_mutex_unlock(&m);
    for (long i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    printf("threads=%ld dumps=%ld dump_ms=%.3f\n", n, k, ms[k / 2]);
    return 0;
}
