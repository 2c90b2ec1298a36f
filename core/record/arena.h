/*
 * arena.h: persistent memory for the profiler's bookkeeping (Go's
 * persistentalloc).  Memory comes from mmap in chunks and is never returned:
 * other threads may still be reading a bucket or a map entry at any moment,
 * including during exit, so nothing handed out is ever unmapped.
 *
 * The arena has a cap; past it mprof_arena_alloc returns NULL and the caller
 * drops the event and counts the drop, so the host keeps running.
 */
#ifndef MPROF_ARENA_H
#define MPROF_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Zeroed, 16-byte aligned memory, or NULL when the cap is reached. */
void *mprof_arena_alloc(size_t size);

void mprof_arena_set_limit(size_t bytes);
size_t mprof_arena_used(void);

/*
 * Zero n bytes at p, writing only the 64-byte lines that are not zero
 * already.  A fork child resets the state it inherited with it: reading a
 * page shared with the parent costs nothing, writing one copies it, and a
 * child that copies a hundred pages it never changed runs several times
 * slower than bare.  Locks included: a zero mprof_lock is unlocked.
 */
void mprof_clear(void *p, size_t n);

/*
 * The same for a table of whole pages (page-aligned, zero-initialised,
 * so in .bss beyond the file's data, or mmap'd): the child drops its
 * copies of the pages with one madvise, neither reading them (a 128 KiB
 * table read costs a fork child some 10 us) nor copying the ones that
 * hold something (one page fault and copy each: the cost of a fork would
 * grow with what the parent's profile holds).  Falls back to mprof_clear.
 */
#define MPROF_PAGE_ALIGNED __attribute__((aligned(4096)))
void mprof_clear_pages(void *p, size_t n);

/* In a fork child.  fork takes no lock of the arena (a thread inside a
 * sample may hold a lock of the program's that fork itself needs after
 * the handlers ran, libio's, and wait for ours): the child repairs what a
 * thread caught inside left, by abandoning the current chunk. */
void mprof_arena_after_fork(void);

/* A module's "used" flag, set at its first write: a fork child resets only
 * the modules its parent used (reading pages the parent never touched
 * would fault them in, one by one). Written once, so the page holding the
 * flag is copied once. */
static inline void mprof_mark_used(int *used)
{
    if (!__atomic_load_n(used, __ATOMIC_RELAXED))
        __atomic_store_n(used, 1, __ATOMIC_RELAXED);
}

#endif
