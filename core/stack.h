/*
 * stack.h: call stacks of sampled events, captured with libunwind.
 *
 * Only sampled or contended events unwind.  Leading frames inside mprof's
 * own code (the shim and core) are dropped by address range, not by a fixed
 * count, so the first frame kept is the caller of malloc (or of the lock).
 * Call without holding any mprof lock: the unwinder takes the loader's lock.
 */
#ifndef MPROF_STACK_H
#define MPROF_STACK_H

#include <stdint.h>

/* Once, before threads: per-thread unwind caches. */
void mprof_stack_init(void);

/* Drop leading frames in the loaded object that contains `addr`
 * (the library passes one of its own functions). */
void mprof_stack_skip_object_of(const void *addr);

/* Up to `max` return addresses, leaf first; returns how many. */
int mprof_stack_capture(uintptr_t *pcs, int max);

/* Hash of a stack plus a discriminator (size, bucket type). */
uint64_t mprof_stack_hash(const uintptr_t *pcs, int n, uint64_t extra);

#endif
