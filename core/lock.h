/*
 * lock.h: mprof's own mutex, a three-state futex lock (Drepper, "Futexes Are
 * Tricky", mutex2).  It never calls pthread_mutex_*, so mprof's locking is
 * invisible to the lock profiler and cannot recurse into the shim; it never
 * allocates, so it is usable from inside malloc.
 *
 * State: 0 unlocked, 1 locked, 2 locked with possible waiters.
 *
 * Rule for every mprof lock: hold it only for bookkeeping.  Never call the
 * unwinder, the dynamic loader, elfutils, zlib or the application's allocator
 * while holding one (other profilers deadlocked exactly so).
 */
#ifndef MPROF_LOCK_H
#define MPROF_LOCK_H

#include <stdatomic.h>

typedef struct mprof_lock {
    atomic_int state;
} mprof_lock;

#define MPROF_LOCK_INIT {0}

/*
 * The lock order: every mprof lock has a rank, and a thread may take a lock
 * only if its rank is greater than that of every lock it already holds.
 * This is the one table of it, outermost first (a lock taken while another
 * is held ranks above it); "->" names what the holder goes on to take.
 * Idea: Go's runtime/lockrank.go, whose table is checked in
 * GOEXPERIMENT=staticlockranking builds, as this one is with
 * MPROF_LOCK_DEBUG (below).
 *
 * An array of locks of one kind (stripes, shards) has one rank for the
 * array, and its element i ranks rank + i: several are taken in index
 * order only (mprof_bucket_lock_stripes).  Ranks are MPROF_RANK_STEP apart
 * so that an array fits between two.
 *
 * Not in the table: publish.c's `writer`, an owner word that is only ever
 * tried, never waited for (whoever fails leaves the work to its holder),
 * so it cannot close a cycle; it is taken under dump_lock and state_lock.
 */
#define MPROF_RANK_STEP 100
enum mprof_lock_rank {
    /* preload/signal.c state_lock: the program's sigaction of the dump
     * signal -> publish's writer (tried) */
    MPROF_RANK_SIGNAL_STATE = 1 * MPROF_RANK_STEP,
    /* agent.c agent_lock: the mprof thread's start and stop -> the own
     * heap (pthread_create and pthread_join allocate, the guard set) */
    MPROF_RANK_AGENT = 2 * MPROF_RANK_STEP,
    /* httpd.c httpd_lock: the /debug/pprof server thread's start and stop
     * -> the own heap (as agent_lock); never held by the server thread */
    MPROF_RANK_HTTPD = 2 * MPROF_RANK_STEP + MPROF_RANK_STEP / 2,
    /* dump.c dump_lock: one dump at a time -> cycle_lock, stripes (the
     * snapshots), peak_lock (the peak's), index_lock, load_lock, kept_lock (symbols, libraries),
     * the own heap (elfutils, zlib, libc), publish's writer (tried) */
    MPROF_RANK_DUMP = 3 * MPROF_RANK_STEP,
    /* heap.c cycle_lock: ticks and heap snapshots -> every stripe */
    MPROF_RANK_CYCLE = 4 * MPROF_RANK_STEP,
    /* peak.c peak_lock: the saved peak heap -> every stripe (a copy), its
     * mappings (mmap: no lock) */
    MPROF_RANK_PEAK = 4 * MPROF_RANK_STEP + MPROF_RANK_STEP / 2,
    /* bucket.c stripes[i]: a bucket's record; all in index order in a tick */
    MPROF_RANK_BUCKET_STRIPE = 5 * MPROF_RANK_STEP,
    /* elfnames.c index_lock: building a symbol index -> load_lock (ELF()
     * loads libelf if it is not yet), the own heap (libelf allocates) */
    MPROF_RANK_ELF_INDEX = 6 * MPROF_RANK_STEP,
    /* dumplibs.c load_lock: dlopen of libdw, zlib, libelf, libstdc++ ->
     * the own heap (the loader allocates) */
    MPROF_RANK_DUMPLIBS = 7 * MPROF_RANK_STEP,
    /* segments.c kept_lock: the kept list of loaded modules, and
     * retired_lock: the segments of unloaded ones (scratch memory is
     * mmap'd: nothing further under either) */
    MPROF_RANK_SEGMENTS = 8 * MPROF_RANK_STEP,
    MPROF_RANK_SEGMENTS_RETIRED = 9 * MPROF_RANK_STEP,
    /* bucket.c insert_lock: inserts into the table -> arena_lock */
    MPROF_RANK_BUCKET_INSERT = 10 * MPROF_RANK_STEP,
    /* addrmap.c shards[i]: the sampled-address map -> arena_lock */
    MPROF_RANK_ADDRMAP_SHARD = 11 * MPROF_RANK_STEP,
    /* lockwait.c stripes[i]: waiter records -> arena_lock */
    MPROF_RANK_LOCKWAIT_STRIPE = 12 * MPROF_RANK_STEP,
    /* Leaves: nothing is taken while one is held. */
    MPROF_RANK_ARENA = 13 * MPROF_RANK_STEP,         /* arena.c arena_lock */
    MPROF_RANK_ONSTACK_POOL = 14 * MPROF_RANK_STEP,  /* onstack.c pool_lock */
    MPROF_RANK_OWNHEAP = 15 * MPROF_RANK_STEP,       /* ownheap.c heap_lock */
};

/*
 * Give a lock its rank, on the line after its definition, at file scope:
 *   MPROF_LOCK_RANK(cycle_lock, MPROF_RANK_CYCLE);
 *   MPROF_LOCK_RANK_ARRAY(stripes, lock, MPROF_RANK_BUCKET_STRIPE);
 * for a lone lock, and for an array of structs whose member `lock` is one.
 * The rank is kept beside the lock, not in it: the release build's lock
 * stays one int, and locks that a fork child zeroes (mprof_clear, or an
 * madvise of a striped table that must stay zero-initialised) keep their
 * rank.  Without MPROF_LOCK_DEBUG this is a compile-time check only.
 */
#define MPROF_LOCK_IS_LOCK_(p) _Generic((p), mprof_lock *: 1, default: 0)
#define MPROF_LOCK_COUNT_(a) (sizeof(a) / sizeof((a)[0]))
#ifdef MPROF_LOCK_DEBUG
/* One lock or array of locks and its rank; in a section of their own, which
 * lock.c walks (the linker's __start_/__stop_ symbols bound it). */
struct mprof_lock_class {
    const char *name, *file; /* as declared, for the one line of a failure */
    const void *first;       /* the lock, or the first of the array's */
    unsigned long stride;    /* bytes from one to the next */
    unsigned long count;
    long rank;               /* of the first; element i ranks rank + i */
};
#define MPROF_LOCK_CLASS_(id, first_, stride_, count_, rank_)                        \
    static struct mprof_lock_class mprof_lock_class_##id                             \
        __attribute__((used, section("mprof_lock_classes"), aligned(8))) = {         \
            #id, __FILE__, first_, stride_, count_, rank_}
#define MPROF_LOCK_RANK(lock, rank)                                                  \
    _Static_assert(MPROF_LOCK_IS_LOCK_(&(lock)), #lock " is not an mprof_lock");     \
    MPROF_LOCK_CLASS_(lock, &(lock), sizeof(mprof_lock), 1, rank)
#define MPROF_LOCK_RANK_ARRAY(array, member, rank)                                   \
    _Static_assert(MPROF_LOCK_IS_LOCK_(&(array)[0].member) &&                        \
                       MPROF_LOCK_COUNT_(array) <= MPROF_RANK_STEP,                  \
                   #array " is not an array of at most MPROF_RANK_STEP locks");      \
    MPROF_LOCK_CLASS_(array, &(array)[0].member, sizeof((array)[0]),                 \
                      MPROF_LOCK_COUNT_(array), rank)
#else
#define MPROF_LOCK_RANK(lock, rank)                                                  \
    _Static_assert(MPROF_LOCK_IS_LOCK_(&(lock)) && (rank) > 0, #lock " is not an mprof_lock")
#define MPROF_LOCK_RANK_ARRAY(array, member, rank)                                   \
    _Static_assert(MPROF_LOCK_IS_LOCK_(&(array)[0].member) &&                        \
                       MPROF_LOCK_COUNT_(array) <= MPROF_RANK_STEP && (rank) > 0,    \
                   #array " is not an array of at most MPROF_RANK_STEP locks")
#endif

/*
 * Where state goes that every fork touches, in the parent and in the child
 * (the locks fork's handlers take, what the child resets): all of it in one
 * section of its own, so that it shares a page or two.  After fork each
 * page a process writes is copied, and a fork that writes one word in each
 * of a dozen files' data costs a dozen copies on both sides.
 */
#define MPROF_FORK_STATE __attribute__((section("mprof_fork_state")))

void mprof_lock_wait(mprof_lock *l);
void mprof_lock_wake(mprof_lock *l);

/*
 * The checks of MPROF_LOCK_DEBUG builds (`make check-sanitize`): each
 * thread keeps a small stack of the locks it holds (initial-exec TLS).
 * Taking a lock whose rank is not above every one held, releasing one not
 * held, a failing mprof_lock_assert_held or mprof_lock_assert_none_held,
 * or taking a lock that has no rank writes one line naming both locks on
 * stderr (write(2): no stdio, no allocation) and aborts.  The order is
 * checked before the lock is waited for, so an inversion aborts rather
 * than hangs.  Without MPROF_LOCK_DEBUG none of this exists: the lock and
 * its inline paths are exactly as fast and as large.
 */
#ifdef MPROF_LOCK_DEBUG
void mprof_lock_debug_taking(const mprof_lock *l);
void mprof_lock_debug_took(const mprof_lock *l);
void mprof_lock_debug_releasing(const mprof_lock *l);
void mprof_lock_debug_forget(const mprof_lock *l);
void mprof_lock_assert_held(const mprof_lock *l);
void mprof_lock_assert_none_held(void);
/* l's rank, or -1 if it has none (for tests). */
long mprof_lock_rank_of(const mprof_lock *l);
#else
/* The argument is type-checked but not evaluated. */
#define mprof_lock_assert_held(l) ((void)sizeof((l)->state))
#define mprof_lock_assert_none_held() ((void)0)
#endif

static inline void mprof_lock_acquire(mprof_lock *l)
{
#ifdef MPROF_LOCK_DEBUG
    mprof_lock_debug_taking(l);
#endif
    int expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             &l->state, &expected, 1, memory_order_acquire,
                             memory_order_relaxed), 1)) {
#ifdef MPROF_LOCK_DEBUG
        mprof_lock_debug_took(l);
#endif
        return;
    }
    mprof_lock_wait(l);
#ifdef MPROF_LOCK_DEBUG
    mprof_lock_debug_took(l);
#endif
}

static inline void mprof_lock_release(mprof_lock *l)
{
#ifdef MPROF_LOCK_DEBUG
    mprof_lock_debug_releasing(l);
#endif
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        mprof_lock_wake(l);
}

/* After fork, in the child: the only thread left owns nothing.  (The
 * forking thread holds no mprof lock across fork, profiler.c; were it to,
 * the debug stack forgets the lock here.) */
static inline void mprof_lock_reset(mprof_lock *l)
{
#ifdef MPROF_LOCK_DEBUG
    mprof_lock_debug_forget(l);
#endif
    /* Only if held: a write would copy the page shared with the parent. */
    if (atomic_load_explicit(&l->state, memory_order_relaxed))
        atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif
