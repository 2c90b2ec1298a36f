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

/* pthread_atfork protocol: prepare takes the lock, parent/child release it. */
void mprof_arena_lock_all(void);
void mprof_arena_unlock_all(void);

#endif
