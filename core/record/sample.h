/*
 * sample.h: where heap samples fall (Go's nextSample, jemalloc's prof
 * sampling).
 *
 * Each thread counts down the bytes it allocates; the allocation that takes
 * the count to zero or below is sampled and a fresh interval is drawn.
 * Intervals are R = ceil(X), X ~ Exponential(mean = rate).  For integer
 * sizes this is memoryless: P(R > a + b | R > a) = exp(-b / rate), so an
 * allocation of s bytes is sampled with probability
 *
 *     p(s) = 1 - exp(-s / rate)
 *
 * whatever was allocated before it, and the writer unbiases a bucket of
 * objects of size s by dividing counts and bytes by p(s).
 */
#ifndef MPROF_SAMPLE_H
#define MPROF_SAMPLE_H

#include <stdint.h>

/* Next countdown: 0 for rate 1 (every allocation), UINT64_MAX for rate 0. */
uint64_t mprof_sample_interval(uint64_t *rng, uint64_t rate);

/* A nonzero seed that differs between threads and processes. */
uint64_t mprof_rng_seed(const void *salt);
uint64_t mprof_rng_next(uint64_t *rng);

/* 1 / p(size): the unbiasing factor for one sampled object of `size`. */
double mprof_sample_scale(double size, uint64_t rate);

#endif
