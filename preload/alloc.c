/*
 * alloc.c: the exported allocation API.
 *
 * Each call forwards to the real allocator and then decides, as cheaply as
 * possible, whether the event matters:
 *   - allocation: subtract the size from the thread's countdown; only when
 *     it would reach zero does the call leave the fast path (core samples it
 *     or, for an unseeded thread, seeds the countdown);
 *   - free: one range test (mprof's own heap) and one read of the address
 *     filter; only a possibly sampled block goes to core, and it is removed
 *     from the map before the real free, so that another thread cannot get
 *     the address back (and sample it) before we forget it.
 * The fast path takes no lock, makes no system call and allocates nothing.
 *
 * Who serves what: while this thread's reentrancy guard is set (mprof's own
 * code, the libraries it calls) and before the real allocator is found
 * (the loader's early allocations, dlsym's), memory comes from mprof's own
 * heap (core/record/ownheap.h), never from the program's allocator; the guard
 * zeroes the countdown, so those calls leave the fast path by themselves.
 * A block is freed, resized and measured by the heap it came from, whoever
 * frees it and when.
 */
#include "real.h"

#include "profiler.h"
#include "shim.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static inline int real_ready(void)
{
    return likely(__atomic_load_n(&mprof_real.free, __ATOMIC_ACQUIRE) != NULL) ||
           mprof_real_resolve() == 0;
}

/* Should this call be served by mprof's own heap?  While the guard is set,
 * yes, unless a signal handler interrupted the own heap itself on this
 * thread: then it is the program's handler allocating, and the program's
 * allocator (whose locks mprof does not hold here) serves it. */
static inline int own_heap_serves(void)
{
    if (mprof_guarded())
        return !mprof_ownheap_busy() || !real_ready();
    return !real_ready();
}

/* The countdown: Go's nextSample, see core/record/sample.h.  Applied after the
 * real call for the slower entry points. */
static inline void *account_alloc(void *p, size_t size)
{
    struct mprof_tls *t = &mprof_tls;
    if (likely(size < t->bytes_until_sample)) {
        t->bytes_until_sample -= size;
        return p;
    }
    /* Before start-up every allocation comes here (the countdown is 0);
     * once started, this one counts down as any other. */
    if (unlikely(!mprof_shim_started())) {
        mprof_start_early();
        if (size < t->bytes_until_sample) {
            t->bytes_until_sample -= size;
            return p;
        }
    }
    return mprof_profiler_on_alloc(p, size); /* a tail call: one frame less to unwind */
}

static __attribute__((noinline)) void *malloc_slow(size_t size)
{
    if (own_heap_serves())
        return mprof_profiler_own_alloc(size, 0);
    return account_alloc(mprof_real.malloc(size), size);
}

/* The hottest entry point takes the countdown first, so that the call to
 * the real malloc is a tail call.  A thread's countdown is nonzero only
 * once the profiler is up and outside mprof's guard, which implies the
 * real allocator was found; a failed allocation then counts toward the
 * countdown, which only shifts where the next sample falls. */
MPROF_EXPORT void *malloc(size_t size)
{
    struct mprof_tls *t = &mprof_tls;
    if (likely(size < t->bytes_until_sample)) {
        t->bytes_until_sample -= size;
        return mprof_real.malloc(size);
    }
    return malloc_slow(size);
}

static __attribute__((noinline)) void free_slow(void *p)
{
    if (mprof_ownheap_owns(p)) {
        mprof_profiler_own_free(p);
        return;
    }
    if (!p || !real_ready())
        return; /* nothing but our own heap exists yet */
    if (mprof_addrmap_maybe(p))
        mprof_profiler_on_free(p);
    mprof_real.free(p);
}

/* Fast path: not ours, filter slot empty: straight to the real free as a
 * tail call. */
MPROF_EXPORT void free(void *p)
{
    void (*real_free)(void *) = mprof_real.free;
    if (likely(!mprof_ownheap_owns(p)) && likely(!mprof_addrmap_maybe(p)) &&
        likely(real_free != NULL))
        return real_free(p);
    free_slow(p);
}

MPROF_EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (unlikely(__builtin_mul_overflow(n, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    if (unlikely(own_heap_serves()))
        return mprof_profiler_own_calloc(n, size);
    return account_alloc(mprof_real.calloc(n, size), total);
}

/* A block of mprof's own heap stays there, whoever resizes it. */
static void *realloc_own(void *old, size_t size)
{
    if (size == 0) {
        mprof_profiler_own_free(old);
        return NULL; /* as glibc: realloc(p, 0) frees and returns NULL */
    }
    return mprof_profiler_own_realloc(old, size);
}

/*
 * realloc of a sampled block counts as a free of the old block plus an
 * allocation at the realloc call site.  The old entry is removed before the
 * real realloc (which may release the address to other threads) and put
 * back if the realloc fails, since the old block then stays live.
 */
MPROF_EXPORT void *realloc(void *old, size_t size)
{
    if (unlikely(mprof_ownheap_owns(old)))
        return realloc_own(old, size);
    if (unlikely(own_heap_serves()))
        return old ? mprof_real.realloc(old, size) : mprof_profiler_own_alloc(size, 0);
    if (!old)
        return account_alloc(mprof_real.malloc(size), size);
    if (likely(!mprof_addrmap_maybe(old))) {
        void *p = mprof_real.realloc(old, size);
        return p ? account_alloc(p, size) : p;
    }
    mprof_taken taken;
    int sampled = mprof_profiler_take(old, &taken);
    void *p = mprof_real.realloc(old, size);
    if (!p && size != 0) {
        if (sampled)
            mprof_profiler_restore(old, &taken);
        return NULL;
    }
    if (sampled)
        mprof_profiler_release(&taken);
    return p ? account_alloc(p, size) : p;
}

MPROF_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

static size_t round_pow2(size_t a)
{
    if (a < sizeof(void *))
        return sizeof(void *);
    if ((a & (a - 1)) == 0)
        return a;
    return a > (SIZE_MAX >> 1) ? 0 : (size_t)1 << (64 - __builtin_clzl(a));
}

/* memalign semantics (alignment rounded up to a power of two) from the
 * real allocator's posix_memalign. */
static void *aligned_from_posix(size_t align, size_t size)
{
    void *p = NULL;
    align = round_pow2(align);
    int rc = align ? mprof_real.posix_memalign(&p, align, size) : EINVAL;
    if (rc) {
        errno = rc;
        return NULL;
    }
    return p;
}

static void *own_aligned(size_t align, size_t size)
{
    align = round_pow2(align);
    if (!align) {
        errno = EINVAL;
        return NULL;
    }
    return mprof_profiler_own_alloc(size, align);
}

MPROF_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (unlikely(own_heap_serves())) {
        if (align < sizeof(void *) || (align & (align - 1)))
            return EINVAL;
        int saved = errno;
        void *p = mprof_profiler_own_alloc(size, align);
        errno = saved;
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    int rc = mprof_real.posix_memalign(out, align, size);
    if (rc == 0)
        account_alloc(*out, size);
    return rc;
}

/* memalign and aligned_alloc: the allocator's own (real), else derived. */
static inline void *aligned_entry(void *(*real)(size_t, size_t), size_t align, size_t size)
{
    if (unlikely(own_heap_serves()))
        return own_aligned(align, size);
    void *p = real ? real(align, size) : aligned_from_posix(align, size);
    return account_alloc(p, size);
}

MPROF_EXPORT void *memalign(size_t align, size_t size)
{
    return aligned_entry(mprof_real.memalign, align, size);
}

MPROF_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    return aligned_entry(mprof_real.aligned_alloc, align, size);
}

MPROF_EXPORT void *valloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (unlikely(own_heap_serves()))
        return mprof_profiler_own_alloc(size, page);
    void *p = mprof_real.valloc ? mprof_real.valloc(size)
                                : aligned_from_posix(page, size);
    return account_alloc(p, size);
}

MPROF_EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (size + page - 1) & ~(page - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    if (rounded == 0)
        rounded = page;
    if (unlikely(own_heap_serves()))
        return mprof_profiler_own_alloc(rounded, page);
    return account_alloc(aligned_from_posix(page, rounded), rounded);
}

MPROF_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (unlikely(mprof_ownheap_owns(p)))
        return mprof_profiler_own_usable(p);
    if (unlikely(!real_ready()) || !mprof_real.malloc_usable_size)
        return 0;
    return mprof_real.malloc_usable_size(p);
}

/* The shim's entry points by addresses no other definition can preempt:
 * `&malloc` here would be the global scope's first malloc, which is not
 * ours when another allocator comes first in LD_PRELOAD (real.c). */
#define ENTRY(f) extern __typeof__(f) mprof_entry_##f __attribute__((alias(#f)));
ENTRY(malloc)
ENTRY(free)
ENTRY(calloc)
ENTRY(realloc)
ENTRY(reallocarray)
ENTRY(posix_memalign)
ENTRY(memalign)
ENTRY(aligned_alloc)
ENTRY(valloc)
ENTRY(pvalloc)
ENTRY(malloc_usable_size)
#undef ENTRY

#define ENTRY(f) {#f, (void *)mprof_entry_##f},
const mprof_rebind_fn mprof_alloc_entries[] = {
    ENTRY(malloc) ENTRY(free) ENTRY(calloc) ENTRY(realloc) ENTRY(reallocarray)
    ENTRY(posix_memalign) ENTRY(memalign) ENTRY(aligned_alloc) ENTRY(valloc)
    ENTRY(pvalloc) ENTRY(malloc_usable_size)};
const size_t mprof_alloc_nentries = sizeof mprof_alloc_entries / sizeof mprof_alloc_entries[0];
#undef ENTRY
