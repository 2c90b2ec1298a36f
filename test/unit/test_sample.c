/* Unit tests of core/record/sample.c: the interval distribution and the
 * unbiasedness of the countdown sampler as a whole. */
#include "sample.h"

#include <check.h>
#include "run_suite.h"
#include <math.h>
#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(mean_is_rate)
{
    const int n = 400000;
    const uint64_t rate = 524288;
    uint64_t rng = 12345;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)mprof_sample_interval(&rng, rate);
    double mean = sum / n;
    /* std of the mean = rate/sqrt(n) = 0.16% of rate; allow 6 sigma. */
    ck_assert_msg(fabs(mean / rate - 1) < 0.01, "mean %f vs rate %llu", mean,
                  (unsigned long long)rate);
}
END_TEST

/* Kolmogorov-Smirnov against Exponential(rate): D < 1.95/sqrt(n) at
 * alpha = 0.001; a uniform or constant interval fails by far. */
START_TEST(shape_is_exponential)
{
    const int n = 100000;
    const double rate = 65536;
    uint64_t *v = malloc(n * sizeof *v);
    uint64_t rng = 987654321;
    for (int i = 0; i < n; i++)
        v[i] = mprof_sample_interval(&rng, (uint64_t)rate);
    qsort(v, n, sizeof *v, cmp_u64);
    double d = 0;
    for (int i = 0; i < n; i++) {
        double cdf = 1 - exp(-(double)v[i] / rate);
        double lo = fabs(cdf - (double)i / n), hi = fabs((double)(i + 1) / n - cdf);
        d = fmax(d, fmax(lo, hi));
    }
    free(v);
    ck_assert_msg(d < 1.95 / sqrt(n), "KS D = %f", d);
}
END_TEST

START_TEST(rate_one_and_zero)
{
    uint64_t rng = 1;
    for (int i = 0; i < 1000; i++) {
        ck_assert_uint_eq(mprof_sample_interval(&rng, 1), 0);
        ck_assert_uint_eq(mprof_sample_interval(&rng, 0), UINT64_MAX);
        ck_assert_uint_ge(mprof_sample_interval(&rng, 2), 1);
    }
    ck_assert(mprof_sample_scale(100, 1) == 1.0);
}
END_TEST

/* The whole scheme as the shim runs it: a countdown over a stream of
 * allocations of mixed sizes; the scaled estimate of each size class must
 * be close to the truth (unbiased), within 5 standard deviations. */
START_TEST(countdown_estimates_are_unbiased)
{
    const uint64_t rate = 8192;
    const uint64_t sizes[] = {16, 100, 4096, 20000, 1 << 20};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    uint64_t sampled[NS] = {0}, truth[NS] = {0};
    uint64_t rng = 42, left = mprof_sample_interval(&rng, rate);
    uint64_t x = 7;
    for (int i = 0; i < 2000000; i++) {
        int k = (int)(mprof_rng_next(&x) % NS);
        if (k == NS - 1 && (mprof_rng_next(&x) % 64)) /* keep 1 MiB rare */
            k = 0;
        uint64_t s = sizes[k];
        truth[k]++;
        if (s < left) {
            left -= s;
        } else {
            sampled[k]++;
            left = mprof_sample_interval(&rng, rate);
        }
    }
    for (int k = 0; k < NS; k++) {
        double p = 1 - exp(-(double)sizes[k] / rate);
        double est = (double)sampled[k] * mprof_sample_scale((double)sizes[k], rate);
        double sd = sqrt((double)truth[k] * (1 - p) / p);
        ck_assert_msg(fabs(est - (double)truth[k]) < 5 * sd + 1,
                      "size %llu: estimated %.0f, truth %llu (sd %.1f)",
                      (unsigned long long)sizes[k], est,
                      (unsigned long long)truth[k], sd);
    }
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mean_is_rate);
    tcase_add_test(tc, shape_is_exponential);
    tcase_add_test(tc, rate_one_and_zero);
    tcase_add_test(tc, countdown_estimates_are_unbiased);
    return run_suite("sample", tc, NULL);
}
