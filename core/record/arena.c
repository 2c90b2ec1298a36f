/*
 * arena.c: bump allocation from mmap'd chunks (see arena.h).
 *
 * Invariant: [cur, end) is the unused tail of the current chunk; everything
 * below cur has been handed out exactly once.  All fields are guarded by
 * arena_lock, which is a leaf lock: nothing else is taken while holding it.
 */
#include "arena.h"

#include "lock.h"
#include "log.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE ((size_t)4 << 20)
#define ALIGN 16

static MPROF_FORK_STATE mprof_lock arena_lock = MPROF_LOCK_INIT; /* guards cur, end; a leaf */
MPROF_LOCK_RANK(arena_lock, MPROF_RANK_ARENA);
static char *cur, *end;
static size_t used, mapped;
static size_t limit = (size_t)4 << 30;
static int full_said; /* the one "arena full" line has been printed */

void mprof_arena_set_limit(size_t bytes) { limit = bytes; }

size_t mprof_arena_used(void)
{
    return __atomic_load_n(&used, __ATOMIC_RELAXED);
}

static int refill(size_t need)
{
    size_t len = need > CHUNK_SIZE ? (need + CHUNK_SIZE - 1) & ~(CHUNK_SIZE - 1)
                                   : CHUNK_SIZE;
    if (mapped + len > limit)
        return -1;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    mapped += len;
    cur = p;
    end = cur + len;
    return 0;
}

void *mprof_arena_alloc(size_t size)
{
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    mprof_lock_acquire(&arena_lock);
    void *p = NULL;
    if ((size_t)(end - cur) >= size || refill(size) == 0) {
        p = cur;
        cur += size;
        __atomic_store_n(&used, used + size, __ATOMIC_RELAXED);
    }
    int say = !p && !full_said;
    if (say)
        full_said = 1;
    size_t now = mapped;
    mprof_lock_release(&arena_lock);
    /* Once, and outside the lock: from here on events that need new
     * bookkeeping are dropped, and each profile's comments count them. */
    if (say)
        mprof_log("profiler memory full (%zu MiB in use); samples that need more are "
                  "dropped from now on and counted in each profile's comments",
                  now >> 20);
    return p; /* fresh mmap memory is zero and never reused */
}

void mprof_clear(void *p, size_t n)
{
    unsigned char *c = p;
    while (n > 0) {
        size_t len = n < 64 ? n : 64;
        for (size_t i = 0; i < len; i++)
            if (c[i]) {
                memset(c, 0, len);
                break;
            }
        c += len;
        n -= len;
    }
}

void mprof_clear_pages(void *p, size_t n)
{
    if (((uintptr_t)p | n) & 4095 || madvise(p, n, MADV_DONTNEED) != 0)
        mprof_clear(p, n);
}

void mprof_arena_after_fork(void)
{
    if (atomic_load_explicit(&arena_lock.state, memory_order_relaxed) == 0)
        return;
    /* A thread that did not follow the fork was inside: a refill may have
     * set cur but not yet end.  The chunk is abandoned; the next
     * allocation maps a new one. */
    cur = end = NULL;
    mprof_lock_reset(&arena_lock);
}
