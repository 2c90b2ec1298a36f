/*
 * tls.h: the per-thread state that the shim's fast paths read.
 *
 * Initial-exec TLS: one %fs-relative load, no __tls_get_addr call, no lazy
 * allocation (which could itself call malloc).  Zero-initialised, so a new
 * thread's first allocation takes the slow path, which seeds it.
 */
#ifndef MPROF_TLS_H
#define MPROF_TLS_H

#include <stdint.h>

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

#define MPROF_HELD_MAX 8

struct mprof_tls {
    /* Bytes still to allocate before the next heap sample.  0 sends every
     * allocation to the slow path (unseeded thread, or rate 1). */
    uint64_t bytes_until_sample;
    uint64_t rng;   /* xorshift state; 0 = unseeded */
    int armed;      /* the heap countdown has been drawn */
    /* Nonzero while mprof itself runs on this thread: allocations and lock
     * calls it makes (libgcc, elfutils, zlib, libc) are not profiled and are
     * served by mprof's own heap.
     * volatile: glibc declares malloc/free/dlsym __leaf__, so GCC may assume
     * they never re-enter us and move plain stores to this across them. */
    volatile int guard;
    /* The countdown while the guard is set: the guard zeroes it, so that
     * every allocation mprof makes takes the slow path to mprof's own heap,
     * and puts it back when the outermost guard is left. */
    uint64_t saved_countdown;
    /* Readying asked of this thread's next allocation (profiler.c,
     * note_fork), with the countdown that allocation resumes. */
    int ready_due;
    uint64_t ready_countdown;
    int in_ownheap; /* inside ownheap.c's lock (see mprof_ownheap_busy) */
    /* While the thread waits in a wrapped blocking call: the call + 1
     * (waitcall.h) and the object it waits on; 0 otherwise.  Written by
     * the wrapper's slow path only (a wait about to block), read by the
     * threads profile from another thread (threadreg.h). */
    volatile int wait_call;
    const void *volatile wait_obj;
    int tid; /* set when the thread registers (threadreg.h); 0 before */
    /* MPROF_MUTEX_HOLD: the mutexes this thread holds, innermost last,
     * with when it took them (CLOCK_MONOTONIC ns); deeper nesting than
     * MPROF_HELD_MAX goes untimed. */
    int nheld;
    struct {
        const void *lock;
        int64_t since;
    } held[MPROF_HELD_MAX];
};

extern __thread struct mprof_tls mprof_tls __attribute__((tls_model("initial-exec")));

/* Out of line on purpose, so that the stores stay where they are written.
 * Guards nest; while one is set, mprof_tls.bytes_until_sample is 0. */
void mprof_guard_enter(void);
void mprof_guard_exit(void);

static inline int mprof_guarded(void) { return mprof_tls.guard != 0; }

#pragma GCC visibility pop

#endif
