/*
 * clock.h: the time, in nanoseconds, as every part of mprof reads it.
 *
 * One helper rather than a copy per file (dump.c stamped profiles with
 * one, the mprof thread timed its epochs with another, `mprof dump` its
 * deadlines with a third), so that units and clocks cannot drift apart.
 * The idea is Go's runtime nanotime()/walltime(): one function per clock,
 * nanoseconds in an int64.
 *
 * clock_gettime(2) of CLOCK_MONOTONIC and CLOCK_REALTIME is answered by
 * the vDSO on Linux: no system call, no lock, no allocation, and errno is
 * left alone.  Still, none of it belongs on a fast path: it is for
 * sampled events, dumps, the mprof thread and the tools.
 */
#ifndef MPROF_CLOCK_H
#define MPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * Nanoseconds on clock clk: CLOCK_MONOTONIC for intervals and deadlines
 * (since an unspecified start; never goes back), CLOCK_REALTIME for
 * timestamps (since the Unix epoch, as pprof's time_nanos).  int64
 * nanoseconds last until the year 2262.  A clock the kernel does not have
 * (the only error clock_gettime can return here) reads as 0, and then
 * errno is EINVAL.  Thread-safe and async-signal-safe.
 */
static inline int64_t mprof_clock_ns(clockid_t clk)
{
    struct timespec ts = {0, 0};
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
