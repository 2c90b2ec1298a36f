/*
 * stacks: N distinct allocation stacks, for the cost of a dump as a
 * function of what the profile holds (the "dump curve" of make bench).
 *
 *   stacks <N>
 *
 * Allocation i (64 bytes, kept live to the end) is made at the end of a
 * chain of calls through 16 distinct functions, chosen by the base-16
 * digits of i: with depth D = the digits N needs, the N chains are N
 * distinct stacks of D + a few frames, each function a frame of its own
 * (no inlining, no tail calls).  Run with MPROF_MEM_RATE=1, the exit
 * profile has N heap samples and N * D distinct locations at most.
 *
 * Output: stacks=<N> depth=<D> seconds=<allocation wall>
 *         main_end=<CLOCK_MONOTONIC seconds when main returns>
 * The bench takes the exit dump's time as the process's end (measure's
 * end=) minus main_end, less the same for the bare program.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

typedef void *(*step_fn)(const unsigned char *digit, int left);
static step_fn steps[16];

#define STEP(k)                                                               \
    static __attribute__((noinline)) void *step##k(const unsigned char *d, int left) \
    {                                                                         \
        void *p = left ? steps[d[0]](d + 1, left - 1) : malloc(64);           \
        __asm__ volatile("" : : "r"(p) : "memory"); /* no tail call */        \
        return p;                                                             \
    }
STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)
STEP(8) STEP(9) STEP(10) STEP(11) STEP(12) STEP(13) STEP(14) STEP(15)

int main(int argc, char **argv)
{
    long n = argc == 2 ? atol(argv[1]) : 0;
    if (n < 1) {
        fprintf(stderr, "usage: stacks <N>\n");
        return 2;
    }
    step_fn all[16] = {step0, step1, step2, step3, step4, step5, step6, step7,
                       step8, step9, step10, step11, step12, step13, step14, step15};
    for (int k = 0; k < 16; k++)
        steps[k] = all[k];
    int depth = 1;
    for (long cap = 16; cap < n; cap *= 16)
        depth++;
    void **keep = malloc((size_t)n * sizeof *keep);
    if (!keep)
        return 1;
    unsigned char digit[16];
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        long v = i;
        for (int j = depth - 1; j >= 0; j--, v /= 16)
            digit[j] = (unsigned char)(v % 16);
        /* depth digits: the first picks the entry, the rest the chain */
        keep[i] = steps[digit[0]](digit + 1, depth - 1);
        if (!keep[i])
            return 1;
    }
    double secs = bench_now() - t0;
    printf("stacks=%ld depth=%d seconds=%.6f main_end=%.6f\n", n, depth, secs, bench_now());
    fflush(stdout);
    return 0;
}
