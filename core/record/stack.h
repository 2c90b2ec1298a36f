/*
 * stack.h: call stacks of sampled events, captured with libgcc's unwinder
 * (_Unwind_Backtrace, the one C++ exceptions use).
 *
 * Why libgcc's: it needs no descriptor (libunwind keeps a pipe open for
 * its memory checks, on fds the program thinks are free), allocates
 * nothing, and finds unwind tables through glibc's lock-free
 * _dl_find_object.  It trusts the tables and never guesses from frame
 * pointers: a frame without unwind info (JIT code) ends the stack.
 *
 * Only sampled or contended events unwind, on a sample stack (onstack.h).
 * Leading frames inside mprof's own code (the shim and core) are dropped
 * by address range, not by a fixed count, so the first frame kept is the
 * caller of malloc (or of the lock).  Call without holding any mprof lock.
 */
#ifndef MPROF_STACK_H
#define MPROF_STACK_H

#include "config.h"

#include <stdint.h>
#include <unwind.h>

/* Drop leading frames in the loaded object that contains `addr`
 * (the library passes one of its own functions). */
void mprof_stack_skip_object_of(const void *addr);

/* The walk's state, and its per-frame callback (stack.c). */
struct mprof_trace {
    uintptr_t *pcs;
    int n, max;
    int leading; /* still in mprof's own frames */
    int truncated; /* there was a frame beyond max */
};
_Unwind_Reason_Code mprof_stack_on_frame(struct _Unwind_Context *ctx, void *arg);

/* Up to `max` return addresses, leaf first, then MPROF_PC_TRUNCATED if
 * the stack went deeper: pcs has room for max + 1. Returns how many.
 * Inline, so that the walk starts in the caller's frame: each of mprof's
 * frames costs the unwinder a step (a few hundred ns) before the
 * program's first. */
static inline int mprof_stack_capture(uintptr_t *pcs, int max)
{
    if (max > MPROF_STACK_MAX)
        max = MPROF_STACK_MAX;
    if (max <= 0)
        return 0;
    struct mprof_trace t = {pcs, 0, max, 1, 0};
    _Unwind_Backtrace(mprof_stack_on_frame, &t);
    if (t.truncated)
        pcs[t.n++] = MPROF_PC_TRUNCATED;
    return t.n;
}

/* Is pc (an address inside an instruction) in mprof's own object? */
int mprof_stack_in_mprof(uintptr_t pc);

/* Hash of a stack plus a discriminator (size, bucket type). */
uint64_t mprof_stack_hash(const uintptr_t *pcs, int n, uint64_t extra);

#endif
