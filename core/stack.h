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

#include <stdint.h>

/* Drop leading frames in the loaded object that contains `addr`
 * (the library passes one of its own functions). */
void mprof_stack_skip_object_of(const void *addr);

/* Up to `max` return addresses, leaf first; returns how many. */
int mprof_stack_capture(uintptr_t *pcs, int max);

/* Hash of a stack plus a discriminator (size, bucket type). */
uint64_t mprof_stack_hash(const uintptr_t *pcs, int n, uint64_t extra);

#endif
