/*
 * real.h: the functions the shim wraps, as found in the objects loaded
 * after it (dlsym(RTLD_NEXT)): one table, one lookup for each, so
 * LD_PRELOAD="libmprof.so libjemalloc.so.2" profiles a program on jemalloc
 * and every wrapper ends in the function it stands in for.
 *
 * When: the allocator lazily, by whichever allocation comes first (the
 * loader allocates before any constructor runs); until then, and while
 * dlsym itself allocates, memory comes from mprof's own heap, which free,
 * realloc and malloc_usable_size recognise by address.  Everything else
 * at start, or by the first wrapper called before start (a library's
 * constructor may lock or set a signal before ours runs); at start, so
 * that no fork child and no signal handler has to look anything up.
 *
 * Checked: a function that is not found is said once on stderr (mprof:)
 * and never called through NULL.  The allocator falls back on mprof's own
 * heap (a required function missing) or on posix_memalign (memalign,
 * aligned_alloc, valloc, see real.c); any other call on a stand-in that
 * fails as the call fails when it cannot act (ENOSYS; dlopen's NULL, as
 * if the file were missing).
 *
 * One exception to "after it": when another allocator comes ahead of the
 * shim in LD_PRELOAD, the allocator's slots are taken from that one, from
 * the first lookup on (what it lacks, pvalloc say, may reach the shim from
 * a library's constructor before mprof starts), and at start the loaded
 * objects are bound to the shim (mprof_real_check_order).
 */
#ifndef MPROF_REAL_H
#define MPROF_REAL_H

#include "shim.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

typedef const struct timespec *mprof_abstime;

struct mprof_real {
    /* The allocator (alloc.c), all from the object that provides malloc;
     * free is the flag that these are complete.  NULL: derive from
     * posix_memalign (memalign, aligned_alloc, valloc), or none
     * (malloc_usable_size answers 0). */
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    size_t (*malloc_usable_size)(void *);

    /* The blocking calls (pthread.c).  pthread_mutex_lock is the flag that
     * every call from here down is set. */
    int (*pthread_mutex_lock)(pthread_mutex_t *);
    int (*pthread_mutex_trylock)(pthread_mutex_t *);
    int (*pthread_mutex_timedlock)(pthread_mutex_t *, mprof_abstime);
    int (*pthread_mutex_clocklock)(pthread_mutex_t *, clockid_t, mprof_abstime);
    int (*pthread_mutex_unlock)(pthread_mutex_t *);
    int (*pthread_rwlock_rdlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_wrlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_tryrdlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_trywrlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_timedrdlock)(pthread_rwlock_t *, mprof_abstime);
    int (*pthread_rwlock_timedwrlock)(pthread_rwlock_t *, mprof_abstime);
    int (*pthread_rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, mprof_abstime);
    int (*pthread_rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, mprof_abstime);
    int (*pthread_rwlock_unlock)(pthread_rwlock_t *);
    int (*pthread_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*pthread_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, mprof_abstime);
    int (*pthread_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                                  mprof_abstime);
    int (*sem_wait)(sem_t *);
    int (*sem_trywait)(sem_t *);
    int (*sem_timedwait)(sem_t *, mprof_abstime);
    int (*sem_clockwait)(sem_t *, clockid_t, mprof_abstime);
    int (*pthread_join)(pthread_t, void **);
    int (*pthread_timedjoin_np)(pthread_t, void **, mprof_abstime);
    int (*pthread_barrier_wait)(pthread_barrier_t *);

    /* The dispositions of signals (signal.c). */
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    __sighandler_t (*signal)(int, __sighandler_t);
    __sighandler_t (*bsd_signal)(int, __sighandler_t);
    __sighandler_t (*ssignal)(int, __sighandler_t);
    __sighandler_t (*sysv_signal)(int, __sighandler_t);
    __sighandler_t (*sysv_signal_internal)(int, __sighandler_t); /* __sysv_signal */
    __sighandler_t (*sigset)(int, __sighandler_t);
    int (*sigignore)(int);
    int (*siginterrupt)(int, int);

    /* Threads, and the calls around which the mprof thread steps aside
     * (threads.c). */
    int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    int (*unshare)(int);
    int (*setns)(int, int);
    int (*setuid)(uid_t);
    int (*setgid)(gid_t);
    int (*seteuid)(uid_t);
    int (*setegid)(gid_t);
    int (*setreuid)(uid_t, uid_t);
    int (*setregid)(gid_t, gid_t);
    int (*setresuid)(uid_t, uid_t, uid_t);
    int (*setresgid)(gid_t, gid_t, gid_t);
    int (*setgroups)(size_t, const gid_t *);
    int (*initgroups)(const char *, gid_t);

    /* Loading and unloading objects (dlopen.c). */
    void *(*dlopen)(const char *, int);
    int (*dlclose)(void *);
};

extern struct mprof_real mprof_real;

/* Resolve the allocator if not yet done; 0 if usable.  -1 while it cannot
 * be (inside dlsym, or a required function missing): mprof's own heap
 * serves the call. */
int mprof_real_resolve(void);

/* Resolve every other call if not yet done (takes the guard itself). */
void mprof_real_resolve_calls(void);

/* Each wrapper of a call other than the allocator's starts with this: one
 * load and a branch once resolved. */
static inline void mprof_real_calls(void)
{
    if (unlikely(!__atomic_load_n(&mprof_real.pthread_mutex_lock, __ATOMIC_ACQUIRE)))
        mprof_real_resolve_calls();
}

/* alloc.c: the shim's allocation entry points, by name (rebind.h, through
 * profiler.h). */
extern const mprof_rebind_fn mprof_alloc_entries[];
extern const size_t mprof_alloc_nentries;

/*
 * At start: if another object serves malloc ahead of the shim (it came
 * first in LD_PRELOAD; mprof_real_resolve then took the allocator's slots
 * from it, or said in one mprof: line that it cannot and which order
 * works), bind the loaded objects' allocation calls to the shim
 * (rebind.h).  Call with the guard set, after mprof_real_resolve_calls.
 */
void mprof_real_check_order(void);

/* Whether another allocator came ahead of the shim (then every dlopen
 * binds its objects to the shim too). */
int mprof_real_behind(void);

/* init.c: start the profiler now if it has not started and libc is
 * initialised (from an allocation's slow path: the libraries a program
 * links allocate in their constructors, before ours runs). */
void mprof_start_early(void);

/* signal.c: take the dump signal `sig` (0 = none) and, if last_words,
 * the termination signals, each where the program left it alone. */
void mprof_signal_install(int sig, int last_words);

/* threads.c: count the main thread (at start, on the main thread); a fork
 * child has one thread of the program's. */
void mprof_threads_init(void);
void mprof_threads_after_fork(void);

#pragma GCC visibility pop

#endif
