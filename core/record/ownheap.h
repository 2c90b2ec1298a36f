/*
 * ownheap.h: mprof's own heap, for every allocation made while the
 * reentrancy guard is set (mprof's code, and the libraries it calls:
 * libgcc's unwinder, elfutils, zlib, libc internals), and for the loader's
 * allocations made before the real allocator is found.
 *
 * Why: a dump must never need a lock of the program's allocator.  A program
 * whose signal handler calls exit() while the interrupted code holds
 * glibc's arena lock would otherwise hang in the exit dump; and mprof's own
 * memory stays out of the host's heap (and out of its heap statistics).
 *
 * Shape: one reservation of address space (PROT_NONE, committed in 1 MiB
 * steps as it is used), so "is this pointer ours?" is one subtraction and
 * one comparison, cheap enough for the free() fast path.  Blocks come in
 * size classes two per power of two (16, 24, 32, 48, 64, ...), each with a
 * 16-byte header in front and a free list per class; freed blocks of 256 KiB
 * and more give their pages back (MADV_DONTNEED).  Nothing is ever
 * unmapped: other threads may hold pointers into it during exit.
 *
 * Locking: one mprof futex lock (a leaf: nothing is called while holding
 * it but mprotect and madvise).  A signal handler that interrupts this
 * thread inside the heap and allocates would deadlock on it, so
 * mprof_ownheap_busy() tells the shim to send such a call to the real
 * allocator instead (the program's own handler, its own heap: no lock of
 * the program's allocator is held by mprof at that point).
 *
 * Idea: Go's persistentalloc for the never-unmapped region; the size-class
 * free lists of any segregated-fit allocator (Wilson et al., "Dynamic
 * Storage Allocation: A Survey and Critical Review", 1995).
 */
#ifndef MPROF_OWNHEAP_H
#define MPROF_OWNHEAP_H

#include "tls.h"

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

/* [lo, lo + len) is the reservation; len is 0 until the first allocation. */
extern struct mprof_ownheap_range {
    uintptr_t lo, len;
} mprof_ownheap_range;

/* Is p a block of this heap?  No lock, no memory but the range. */
static inline int mprof_ownheap_owns(const void *p)
{
    return (uintptr_t)p - mprof_ownheap_range.lo < mprof_ownheap_range.len;
}

/* Is this thread inside the heap's code (a signal handler interrupted it)? */
static inline int mprof_ownheap_busy(void) { return mprof_tls.in_ownheap != 0; }

/* size bytes aligned to `align` (a power of two; below 16 means 16), or
 * NULL with errno ENOMEM when the reservation is used up or the system
 * refuses to commit memory.  errno is otherwise unchanged. */
void *mprof_ownheap_alloc(size_t size, size_t align);

/* n * size zeroed bytes; NULL and ENOMEM on overflow or exhaustion. */
void *mprof_ownheap_calloc(size_t n, size_t size);

/* realloc(3) within this heap: p must be ours or NULL; size 0 frees p and
 * returns a minimal block.  NULL (p untouched) and ENOMEM on failure. */
void *mprof_ownheap_realloc(void *p, size_t size);

/* free(3) of a block that mprof_ownheap_owns(). */
void mprof_ownheap_free(void *p);

/* Bytes usable at p (malloc_usable_size(3)). */
size_t mprof_ownheap_usable(const void *p);

/* Bytes handed out and not freed (headers included); for tests and logs. */
size_t mprof_ownheap_in_use(void);

/* In a fork child: fork takes no lock of this heap (see arena.h for why);
 * the child frees a lock a vanished thread held (ownheap.c says why that
 * leaves the heap whole). */
void mprof_ownheap_after_fork(void);

#pragma GCC visibility pop

#endif
