/* sample.c: exponential sampling intervals (see sample.h for the math). */
#include "sample.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/*
 * log and expm1 of our own, so that the library does not need libm: every
 * library loaded is five more mappings that each fork copies and each exit
 * tears down (a shell's command substitutions pay it every time).  Both are
 * used on sampled events only, and are accurate to a few ulp, far below what
 * sampling needs.
 */
#define LN2 0x1.62e42fefa39efp-1

/* 2^k for k in [-1022, 1023]. */
static double pow2(int k)
{
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* log(x) for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), and
 * log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172. */
static double ln(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff);
    if (e == 0) { /* subnormal: scale into the normal range */
        x *= 0x1p54;
        memcpy(&bits, &x, sizeof bits);
        e = (int)((bits >> 52) & 0x7ff) - 54;
    }
    e -= 1022; /* x = m 2^e with m in [0.5, 1) */
    bits = (bits & 0x000fffffffffffffULL) | 0x3fe0000000000000ULL;
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m < 0x1.6a09e667f3bcdp-1) { /* sqrt(1/2) */
        m *= 2;
        e--;
    }
    double s = (m - 1) / (m + 1), s2 = s * s, t = 0;
    for (int k = 23; k >= 3; k -= 2)
        t = (t + 1.0 / k) * s2;
    return (double)e * LN2 + 2 * s * (1 + t);
}

/* exp(x) - 1 for x <= 0 (all that unsampling needs), without the
 * cancellation of exp(x) - 1 near 0. */
static double expm1_neg(double x)
{
    if (x > -0.5) { /* Taylor: x + x^2/2! + ... to x^20/20! */
        double t = 0;
        for (int k = 20; k >= 2; k--)
            t = (t + 1) * x / k;
        return (t + 1) * x;
    }
    if (x < -745)
        return -1;
    /* exp(x) = 2^k exp(r), |r| <= ln2/2 */
    int k = (int)(x / LN2 - 0.5);
    double r = x - (double)k * LN2, t = 0;
    for (int i = 16; i >= 1; i--)
        t = (t + 1) * r / i;
    double ex = (t + 1) * (k < -1022 ? pow2(k + 54) * 0x1p-54 : pow2(k));
    return ex - 1;
}

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
    double x = -ln(u) * (double)rate;
    if (x >= 0x1.0p63)
        return (uint64_t)1 << 63;
    uint64_t c = (uint64_t)x; /* ceil(x), x in [0, 2^63) */
    if ((double)c < x)
        c++;
    return c ? c : 1;
}

double mprof_sample_scale(double size, uint64_t rate)
{
    if (rate <= 1 || size <= 0)
        return 1.0;
    return 1.0 / -expm1_neg(-size / (double)rate);
}
