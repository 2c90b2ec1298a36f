/*
 * pthread.c: the exported blocking pthread and semaphore calls.
 *
 * Every wrapper behaves exactly as the real call: same return codes, same
 * errno, same cancellation points.  It only observes:
 *   - a lock is first tried; only when the try says "busy" is the thread
 *     about to block, and only then is the clock read and the wait timed
 *     (block profile) and, one wait in MPROF_MUTEX_FRACTION, registered
 *     with the lock (mutex profile);
 *   - an unlock reads one filter slot; only a lock with registered waiters
 *     costs a clock read, and the unlocker is charged their delay;
 *   - calls that always block (cond waits, barriers, joins) are timed.
 * Calls made by mprof itself (guard set) go straight through; mprof's own
 * locks are futexes and never come here.  The real calls come from
 * real.h's table; the waiter records and the samples are core's, reached
 * through profiler.h, which takes the guard and keeps errno around them.
 */
#include "real.h"

#include "profiler.h"
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

typedef mprof_abstime abst;

/* Some real calls reject a bad clock or timeout before looking at the
 * lock (sem_timedwait does, even on a positive semaphore); trying first
 * would succeed where they fail.  Such calls never wait, so they go
 * straight to the real function, unobserved. */
static int clock_ok(clockid_t c) { return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC; }
static int abstime_ok(abst t) { return t && t->tv_nsec >= 0 && t->tv_nsec < 1000000000; }
static int timed_ok(clockid_t c, abst t) { return clock_ok(c) && abstime_ok(t); }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A wait that is about to block, from its first clock read to its end. */
struct wait {
    const void *lock; /* tracked by the mutex profile, or NULL */
    int64_t start;
    int call;        /* which wrapped call (waitcall.h): the sample's leaf */
    const void *obj; /* what it waits on: the sample's label */
};

/* Out of line, where the compiler put it before the waiter records moved
 * behind profiler.h: inlined, it changes the prologue that every
 * uncontended lock runs, and the fast paths are kept instruction for
 * instruction as they were measured. */
static __attribute__((noinline)) void wait_begin(struct wait *w, const void *lock,
                                                int call, const void *obj)
{
    w->lock = NULL;
    w->call = call;
    w->obj = obj;
    mprof_tls.wait_obj = obj; /* what the threads profile shows it waiting in */
    mprof_tls.wait_call = call + 1;
    w->start = now_ns();
    if (lock && mprof_profiler_wait_track(lock, w->start))
        w->lock = lock;
}

/* rc: the real call's result; errors that mean "did not wait" (EINVAL,
 * EDEADLK...) are not blocking events. */
static void wait_end(struct wait *w, int waited)
{
    int e = errno;
    mprof_tls.wait_call = 0;
    int64_t end = now_ns();
    if (w->lock)
        mprof_profiler_wait_untrack(w->lock, w->start);
    if (waited && mprof_profiler_block_on())
        mprof_profiler_on_block(end - w->start, w->call, w->obj);
    errno = e;
}

static int lock_waited(int rc) { return rc == 0 || rc == ETIMEDOUT || rc == EOWNERDEAD; }

/* ---- hold times (MPROF_MUTEX_HOLD; block.h) ----
 * Off, the default, each mutex call pays one test of a global for them;
 * on, every acquisition reads the clock. */

static __attribute__((noinline)) void hold_from_now(const void *m)
{
    int e = errno;
    mprof_profiler_hold_begin(m, now_ns());
    errno = e;
}

/* rc of a call that may have acquired mutex m: timed from now if it did. */
static inline int acquired(int rc, const void *m)
{
    if (unlikely(mprof_hold_profiling) && (rc == 0 || rc == EOWNERDEAD))
        hold_from_now(m);
    return rc;
}

/* m is let go, its holder not charged (no tracked waiter): forgotten. */
static __attribute__((noinline)) void hold_drop(const void *m) { mprof_profiler_hold_end(m, 0); }

/* An unlock of a lock with registered waiters: charge them to us, with
 * how long we held it.  The stack is taken after the real unlock, so the
 * lock is not held longer. */
static int unlock_charged(const void *lock, int call, int (*unlock)(void *), void *arg)
{
    int64_t now = now_ns();
    int64_t charge = mprof_profiler_unlock_charge(lock, now);
    int64_t hold = mprof_hold_profiling ? mprof_profiler_hold_end(lock, now) : 0;
    int rc = unlock(arg);
    if (charge > 0 && rc == 0) {
        int e = errno;
        mprof_profiler_on_contention(charge, hold, call, lock);
        errno = e;
    }
    return rc;
}

/* ---- mutexes ---- */

MPROF_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_mutex_lock(m);
    int rc = mprof_real.pthread_mutex_trylock(m);
    if (likely(rc != EBUSY))
        return acquired(rc, m); /* acquired (0, EOWNERDEAD) or an error lock would give */
    struct wait w;
    wait_begin(&w, m, MPROF_WAIT_MUTEX_LOCK, m);
    rc = mprof_real.pthread_mutex_lock(m);
    wait_end(&w, lock_waited(rc));
    return acquired(rc, m);
}

MPROF_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    mprof_real_calls();
    /* Hold times are all a trylock can feed: off (the default), one test
     * and a tail call, as before they existed. */
    if (likely(!mprof_hold_profiling) || !mprof_shim_locks_observed())
        return mprof_real.pthread_mutex_trylock(m);
    return acquired(mprof_real.pthread_mutex_trylock(m), m);
}

MPROF_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed() || !abstime_ok(t))
        return mprof_real.pthread_mutex_timedlock(m, t);
    int rc = mprof_real.pthread_mutex_trylock(m);
    if (likely(rc != EBUSY))
        return acquired(rc, m);
    struct wait w;
    wait_begin(&w, m, MPROF_WAIT_MUTEX_TIMEDLOCK, m);
    rc = mprof_real.pthread_mutex_timedlock(m, t);
    wait_end(&w, lock_waited(rc));
    return acquired(rc, m);
}


MPROF_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed() || !timed_ok(c, t))
        return mprof_real.pthread_mutex_clocklock(m, c, t);
    int rc = mprof_real.pthread_mutex_trylock(m);
    if (likely(rc != EBUSY))
        return acquired(rc, m);
    struct wait w;
    wait_begin(&w, m, MPROF_WAIT_MUTEX_CLOCKLOCK, m);
    rc = mprof_real.pthread_mutex_clocklock(m, c, t);
    wait_end(&w, lock_waited(rc));
    return acquired(rc, m);
}

static int mutex_unlock_fn(void *m) { return mprof_real.pthread_mutex_unlock(m); }

MPROF_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    mprof_real_calls();
    if (likely(!mprof_lockwait_maybe(m)) || mprof_tls.guard) {
        if (unlikely(mprof_hold_profiling))
            hold_drop(m);
        return mprof_real.pthread_mutex_unlock(m);
    }
    return unlock_charged(m, MPROF_WAIT_MUTEX_UNLOCK, mutex_unlock_fn, m);
}

/* ---- rwlocks ---- */

#define RWLOCK_WRAPPER(name, call, tryname)                          \
    MPROF_EXPORT int name(pthread_rwlock_t *l)                         \
    {                                                                  \
        mprof_real_calls();                                             \
        if (!mprof_shim_locks_observed())                                              \
            return mprof_real.name(l);                                      \
        int rc = mprof_real.tryname(l);                                     \
        if (likely(rc != EBUSY))                                       \
            return rc;                                                 \
        struct wait w;                                                 \
        wait_begin(&w, l, call, l);                                           \
        rc = mprof_real.name(l);                                            \
        wait_end(&w, lock_waited(rc));                                 \
        return rc;                                                     \
    }

RWLOCK_WRAPPER(pthread_rwlock_rdlock, MPROF_WAIT_RWLOCK_RDLOCK, pthread_rwlock_tryrdlock)
RWLOCK_WRAPPER(pthread_rwlock_wrlock, MPROF_WAIT_RWLOCK_WRLOCK, pthread_rwlock_trywrlock)

#define RWLOCK_TIMED_WRAPPER(name, call, tryname)                    \
    MPROF_EXPORT int name(pthread_rwlock_t *l, abst t)                 \
    {                                                                  \
        mprof_real_calls();                                             \
        if (!mprof_shim_locks_observed() || !abstime_ok(t))                            \
            return mprof_real.name(l, t);                                   \
        int rc = mprof_real.tryname(l);                                     \
        if (likely(rc != EBUSY))                                       \
            return rc;                                                 \
        struct wait w;                                                 \
        wait_begin(&w, l, call, l);                                           \
        rc = mprof_real.name(l, t);                                         \
        wait_end(&w, lock_waited(rc));                                 \
        return rc;                                                     \
    }

RWLOCK_TIMED_WRAPPER(pthread_rwlock_timedrdlock, MPROF_WAIT_RWLOCK_TIMEDRDLOCK, pthread_rwlock_tryrdlock)
RWLOCK_TIMED_WRAPPER(pthread_rwlock_timedwrlock, MPROF_WAIT_RWLOCK_TIMEDWRLOCK, pthread_rwlock_trywrlock)

#define RWLOCK_CLOCK_WRAPPER(name, call, tryname)                    \
    MPROF_EXPORT int name(pthread_rwlock_t *l, clockid_t c, abst t)    \
    {                                                                  \
        mprof_real_calls();                                             \
        if (!mprof_shim_locks_observed() || !timed_ok(c, t))                           \
            return mprof_real.name(l, c, t);                                \
        int rc = mprof_real.tryname(l);                                     \
        if (likely(rc != EBUSY))                                       \
            return rc;                                                 \
        struct wait w;                                                 \
        wait_begin(&w, l, call, l);                                           \
        rc = mprof_real.name(l, c, t);                                      \
        wait_end(&w, lock_waited(rc));                                 \
        return rc;                                                     \
    }

RWLOCK_CLOCK_WRAPPER(pthread_rwlock_clockrdlock, MPROF_WAIT_RWLOCK_CLOCKRDLOCK, pthread_rwlock_tryrdlock)
RWLOCK_CLOCK_WRAPPER(pthread_rwlock_clockwrlock, MPROF_WAIT_RWLOCK_CLOCKWRLOCK, pthread_rwlock_trywrlock)

MPROF_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
    mprof_real_calls();
    return mprof_real.pthread_rwlock_tryrdlock(l);
}

MPROF_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
    mprof_real_calls();
    return mprof_real.pthread_rwlock_trywrlock(l);
}

static int rwlock_unlock_fn(void *l) { return mprof_real.pthread_rwlock_unlock(l); }

MPROF_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    mprof_real_calls();
    if (likely(!mprof_lockwait_maybe(l)) || mprof_tls.guard)
        return mprof_real.pthread_rwlock_unlock(l);
    return unlock_charged(l, MPROF_WAIT_RWLOCK_UNLOCK, rwlock_unlock_fn, l);
}

/* ---- condition variables ----
 * The wait releases the mutex inside libc, out of our sight; waiters of
 * that mutex are charged to the cond waiter here, as its unlock would. */

static void cond_releases(pthread_mutex_t *m, int call)
{
    if (unlikely(mprof_lockwait_maybe(m))) {
        int64_t now = now_ns();
        int64_t charge = mprof_profiler_unlock_charge(m, now);
        int64_t hold = mprof_hold_profiling ? mprof_profiler_hold_end(m, now) : 0;
        if (charge > 0) {
            int e = errno;
            mprof_profiler_on_contention(charge, hold, call, m);
            errno = e;
        }
    } else if (unlikely(mprof_hold_profiling)) {
        hold_drop(m);
    }
}

/* A condition wait returns holding the mutex (rc 0 or ETIMEDOUT). */
static int cond_reacquired(int rc, pthread_mutex_t *m)
{
    acquired(rc == ETIMEDOUT ? 0 : rc, m);
    return rc;
}

static int cond_waited(int rc) { return rc == 0 || rc == ETIMEDOUT; }

static int mutex_unlock_fn(void *m);

/*
 * The end of a condition variable wait, which returns holding the mutex.
 * A recorded wait costs a stack walk (microseconds); made with the mutex
 * held, it lengthens the caller's critical section, and a herd woken by one
 * broadcast, which reacquires the mutex one waiter after the other, would
 * pay every waiter's recording in turn, on every other waiter's clock.  So
 * the mutex is let go for the recording and taken again: the same as the
 * wait's own reacquire happening later, which the caller (who must recheck
 * its predicate) cannot tell apart.  Not on an error return: the mutex
 * may not be held, or be a robust one to mend first (EOWNERDEAD).  The
 * retake is unobserved, as the wait's own reacquire is; the release
 * charges tracked waiters of the mutex, as the caller's unlock would.
 */
static int cond_wait_end(struct wait *w, int rc, pthread_mutex_t *m)
{
    int e = errno;
    mprof_tls.wait_call = 0;
    int64_t end = now_ns();
    mprof_block_event ev = {.call = w->call, .obj = w->obj};
    if (cond_waited(rc) && mprof_profiler_block_on() &&
        mprof_profiler_block_sampled(end - w->start, &ev)) {
        int urc = likely(!mprof_lockwait_maybe(m)) ? mprof_real.pthread_mutex_unlock(m)
                                                   : unlock_charged(m, w->call, mutex_unlock_fn, m);
        mprof_profiler_block_record(&ev);
        if (urc == 0) {
            int lrc = mprof_real.pthread_mutex_lock(m);
            if (lrc != 0)
                rc = lrc; /* EOWNERDEAD, as the wait's own reacquire would say */
        }
    }
    errno = e;
    return rc;
}

MPROF_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_cond_wait(c, m);
    cond_releases(m, MPROF_WAIT_COND_WAIT);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_COND_WAIT, c);
    int rc = mprof_real.pthread_cond_wait(c, m);
    return cond_reacquired(cond_wait_end(&w, rc, m), m);
}

MPROF_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_cond_timedwait(c, m, t);
    cond_releases(m, MPROF_WAIT_COND_TIMEDWAIT);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_COND_TIMEDWAIT, c);
    int rc = mprof_real.pthread_cond_timedwait(c, m, t);
    return cond_reacquired(cond_wait_end(&w, rc, m), m);
}

MPROF_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                        clockid_t clk, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed() || !clock_ok(clk))
        return mprof_real.pthread_cond_clockwait(c, m, clk, t);
    cond_releases(m, MPROF_WAIT_COND_CLOCKWAIT);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_COND_CLOCKWAIT, c);
    int rc = mprof_real.pthread_cond_clockwait(c, m, clk, t);
    return cond_reacquired(cond_wait_end(&w, rc, m), m);
}

/* ---- semaphores ----
 * sem_wait is a cancellation point that must act even when it would not
 * block, so test for cancellation before the try, as the real call does.
 * errno is left as the real call leaves it: the try's EAGAIN is undone. */

static int sem_wait_observed(sem_t *s, int call, int (*wait)(sem_t *, clockid_t, abst),
                             clockid_t clk, abst t)
{
    int e = errno;
    pthread_testcancel();
    if (mprof_real.sem_trywait(s) == 0)
        return 0;
    if (errno != EAGAIN)
        return -1; /* EINVAL: what the real call would say */
    errno = e;
    struct wait w;
    wait_begin(&w, NULL, call, s);
    int rc = wait(s, clk, t);
    int waited = rc == 0 || errno == ETIMEDOUT;
    wait_end(&w, waited);
    return rc;
}

static int call_sem_wait(sem_t *s, clockid_t c, abst t) { (void)c, (void)t; return mprof_real.sem_wait(s); }
static int call_sem_timedwait(sem_t *s, clockid_t c, abst t) { (void)c; return mprof_real.sem_timedwait(s, t); }
static int call_sem_clockwait(sem_t *s, clockid_t c, abst t) { return mprof_real.sem_clockwait(s, c, t); }

MPROF_EXPORT int sem_wait(sem_t *s)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.sem_wait(s);
    return sem_wait_observed(s, MPROF_WAIT_SEM_WAIT, call_sem_wait, 0, NULL);
}

MPROF_EXPORT int sem_timedwait(sem_t *s, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed() || !abstime_ok(t))
        return mprof_real.sem_timedwait(s, t);
    return sem_wait_observed(s, MPROF_WAIT_SEM_TIMEDWAIT, call_sem_timedwait, 0, t);
}

MPROF_EXPORT int sem_clockwait(sem_t *s, clockid_t c, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed() || !timed_ok(c, t))
        return mprof_real.sem_clockwait(s, c, t);
    return sem_wait_observed(s, MPROF_WAIT_SEM_CLOCKWAIT, call_sem_clockwait, c, t);
}

/* ---- joins and barriers: always potentially blocking, timed ---- */

MPROF_EXPORT int pthread_join(pthread_t th, void **ret)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_join(th, ret);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_JOIN, NULL);
    int rc = mprof_real.pthread_join(th, ret);
    wait_end(&w, rc == 0);
    return rc;
}

MPROF_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, abst t)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_timedjoin_np(th, ret, t);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_TIMEDJOIN, NULL);
    int rc = mprof_real.pthread_timedjoin_np(th, ret, t);
    wait_end(&w, rc == 0 || rc == ETIMEDOUT);
    return rc;
}

MPROF_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    mprof_real_calls();
    if (!mprof_shim_locks_observed())
        return mprof_real.pthread_barrier_wait(b);
    struct wait w;
    wait_begin(&w, NULL, MPROF_WAIT_BARRIER_WAIT, b);
    int rc = mprof_real.pthread_barrier_wait(b);
    wait_end(&w, rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    return rc;
}
