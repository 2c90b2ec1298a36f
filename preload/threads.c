/*
 * threads.c: the program's threads, and the calls that need them alone.
 *
 * The mprof thread must never be what keeps a process alive.  glibc ends a
 * process when its last thread ends (the main thread may leave early with
 * pthread_exit), and it counts the mprof thread too.  So the shim counts
 * the program's own threads: the main thread, plus every thread started
 * through pthread_create, each until its start routine returns, it calls
 * pthread_exit or it is cancelled (a cleanup handler around the start
 * routine sees all three; a thread-specific destructor sees main's end).
 * When the count falls to zero, the last thread retires the mprof thread
 * before it ends itself, and glibc then exits the process from that
 * thread, status 0, exit dump included, as bare.
 *
 * Some calls need the process to have a single thread (unshare with
 * CLONE_NEWUSER, setns into a mount or user namespace) or every thread to
 * agree (glibc runs set*id on each thread and aborts if one fails, as the
 * mprof thread would without the capabilities the program kept on its main
 * thread only).  Around those the mprof thread steps aside: stopped and
 * joined, then started again (profiler.h, mprof_profiler_solo_begin).
 */
#include "real.h"

#include "profiler.h"
#include "shim.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

/* the program's threads: main + started, not ended */
static MPROF_FORK_STATE int live = 1;

/* The calling thread was started through our pthread_create (so its end
 * is counted by the cleanup handler, not by main_key's destructor). */
static __thread int started_by_us __attribute__((tls_model("initial-exec")));

/* The calling thread's record in the threadcreate profile, NULL if none
 * (profile off, main, a thread mprof did not start). */
static __thread void *created_at __attribute__((tls_model("initial-exec")));

/* main_key is set on the calling thread (values are per thread, and a fork
 * child's thread keeps the forking thread's). */
static __thread int has_main_key __attribute__((tls_model("initial-exec")));

static void thread_ends(void *unused)
{
    (void)unused;
    mprof_profiler_thread_finish();
    if (created_at) {
        mprof_profiler_thread_end(created_at);
        created_at = NULL;
    }
    if (__atomic_sub_fetch(&live, 1, __ATOMIC_ACQ_REL) == 0)
        mprof_profiler_last_thread_ends();
}

struct start {
    void *(*fn)(void *);
    void *arg;
    void *created; /* its threadcreate record, or NULL */
};

static void *start_counted(void *p)
{
    struct start s = *(struct start *)p;
    mprof_profiler_own_free(p);
    started_by_us = 1;
    created_at = s.created;
    mprof_profiler_thread_begin();
    void *ret;
    pthread_cleanup_push(thread_ends, NULL);
    ret = s.fn(s.arg);
    pthread_cleanup_pop(1);
    return ret;
}

MPROF_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                void *(*fn)(void *), void *arg)
{
    mprof_real_calls();
    /* mprof's own thread is not the program's. */
    if (mprof_guarded())
        return mprof_real.pthread_create(t, attr, fn, arg);
    struct start *s = mprof_profiler_own_alloc(sizeof *s, 0);
    if (!s)
        return mprof_real.pthread_create(t, attr, fn, arg); /* uncounted, as glibc's own */
    s->fn = fn;
    s->arg = arg;
    s->created = mprof_profiler_thread_create();
    __atomic_add_fetch(&live, 1, __ATOMIC_ACQ_REL);
    int rc = mprof_real.pthread_create(t, attr, start_counted, s);
    if (rc != 0) {
        mprof_profiler_thread_create_failed(s->created);
        mprof_profiler_own_free(s);
        __atomic_sub_fetch(&live, 1, __ATOMIC_ACQ_REL); /* the caller lives on */
    }
    return rc;
}

/*
 * The main thread's end: it has no start routine of ours to return through,
 * and it can end by pthread_exit, thrd_exit (glibc calls its internal
 * exit there, not the exported one) or cancellation.  A thread-specific
 * value's destructor runs on all three (and not when main returns from
 * main(), which is exit()).  The key is set on the main thread only; a
 * fork child's thread keeps what it had (the child's main is the thread
 * that forked: its start routine's cleanup, or this key, counts it).
 */
static pthread_key_t main_key;

static void main_ends(void *value)
{
    (void)value;
    thread_ends(NULL);
}

void mprof_threads_init(void)
{
    mprof_profiler_main_thread();
    if (pthread_key_create(&main_key, main_ends) == 0 &&
        pthread_setspecific(main_key, &live) == 0) /* any non-NULL value */
        has_main_key = 1;
}

/* A fork child has one thread, the one that forked.  If our start routine
 * did not start it (it was main, or glibc started it for thrd_create), its
 * end is counted by the key, as main's is.  Forked from main, it has the
 * key already: no call (a fork child that calls into a page of libc the
 * fork path does not touch pays a page fault for it). */
void mprof_threads_after_fork(void)
{
    if (live != 1)
        live = 1;
    if (created_at)
        created_at = NULL; /* the child's profile starts empty (bucket.h) */
    if (!started_by_us && !has_main_key && pthread_setspecific(main_key, &live) == 0)
        has_main_key = 1;
}

/* ---- calls around which the mprof thread steps aside ---- */

#define SOLO(name, params, args)                       \
    MPROF_EXPORT int name params                       \
    {                                                  \
        mprof_real_calls();                            \
        mprof_profiler_solo_begin();                   \
        int rc = mprof_real.name args;                 \
        mprof_profiler_solo_end(); /* keeps errno */   \
        return rc;                                     \
    }

SOLO(unshare, (int flags), (flags))
SOLO(setns, (int fd, int nstype), (fd, nstype))
SOLO(setuid, (uid_t u), (u))
SOLO(setgid, (gid_t g), (g))
SOLO(seteuid, (uid_t u), (u))
SOLO(setegid, (gid_t g), (g))
SOLO(setreuid, (uid_t r, uid_t e), (r, e))
SOLO(setregid, (gid_t r, gid_t e), (r, e))
SOLO(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
SOLO(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
SOLO(setgroups, (size_t n, const gid_t *list), (n, list))
SOLO(initgroups, (const char *user, gid_t g), (user, g))
