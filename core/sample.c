/* sample.c: exponential sampling intervals (see sample.h for the math). */
#include "sample.h"

#include <math.h>
#include <time.h>

/* xorshift64*: fast, 64-bit state, good enough for sampling decisions. */
uint64_t mprof_rng_next(uint64_t *rng)
{
    uint64_t x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t mprof_rng_seed(const void *salt)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = mix64((uint64_t)(uintptr_t)salt ^
                       mix64((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec));
    return s ? s : 0x9E3779B97F4A7C15ULL;
}

uint64_t mprof_sample_interval(uint64_t *rng, uint64_t rate)
{
    if (rate == 0)
        return UINT64_MAX;
    if (rate == 1)
        return 0;
    /* u uniform in (0, 1]: 53 random bits, never 0 so log(u) is finite. */
    double u = (double)((mprof_rng_next(rng) >> 11) + 1) * 0x1.0p-53;
    double x = -log(u) * (double)rate;
    if (x >= 0x1.0p63)
        return (uint64_t)1 << 63;
    return (uint64_t)ceil(x) ? (uint64_t)ceil(x) : 1;
}

double mprof_sample_scale(double size, uint64_t rate)
{
    if (rate <= 1 || size <= 0)
        return 1.0;
    return 1.0 / -expm1(-size / (double)rate);
}
