/*
 * forks: fork + _exit + wait, in a loop.
 *
 *   forks <n>
 *
 * The child does nothing but _exit(0): it records nothing, so under mprof
 * it must cost what a fork costs (issue 11 measured 4.2x that).  Timed
 * whole-process by the bench (start-up and exit included); the program
 * also times the loop itself.
 *
 * Output: forks=<n> seconds=<loop wall> us_per_fork=<median round trip>
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc == 2 ? atoi(argv[1]) : 0;
    if (n < 1) {
        fprintf(stderr, "usage: forks <n>\n");
        return 2;
    }
    double *rt = malloc((size_t)n * sizeof *rt);
    if (!rt)
        return 1;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        double s = bench_now();
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        if (p < 0) {
            perror("fork");
            return 1;
        }
        int st;
        while (waitpid(p, &st, 0) < 0)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "forks: child %d failed\n", i);
            return 1;
        }
        rt[i] = bench_now() - s;
    }
    double secs = bench_now() - t0;
    qsort(rt, (size_t)n, sizeof *rt, cmp);
    printf("forks=%d seconds=%.6f us_per_fork=%.2f\n", n, secs, rt[n / 2] * 1e6);
    return 0;
}
