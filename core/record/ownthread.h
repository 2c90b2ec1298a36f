/*
 * ownthread.h: a thread of mprof's own (the mprof thread, agent.c; the
 * /debug/pprof server, httpd.c): how it is started and joined, once.
 *
 * Its stack is a mapping of mprof's, not one from glibc's cache of
 * stacks of threads that ended: a fork child reusing one of those copies
 * every page of it the parent touched (a process per connection paid
 * 0.1 ms for it).  The lowest 64 KiB are the guard.  It is started with
 * every signal blocked, which it inherits, so that no signal meant for
 * the program is ever delivered to it.  It is joined with cancellation
 * off: the calls that step the threads aside (setuid, unshare) are not
 * cancellation points, and a pending cancel must neither act inside them
 * nor unwind with the owner's lock held.
 *
 * Locking: the owner's (agent_lock, httpd_lock) around every call; none
 * of its own.  errno: may be changed (the owners keep the program's).
 */
#ifndef MPROF_OWNTHREAD_H
#define MPROF_OWNTHREAD_H

#include <pthread.h>

typedef struct mprof_ownthread {
    pthread_t thread;
    void *stack_map; /* while mapped; NULL in a fork child (the parent's stays) */
    int running;
} mprof_ownthread;

/* Start fn(NULL) on t, mapping its stack first if it has none: 0, or the
 * errno of mmap or pthread_create (t->running stays 0). */
int mprof_ownthread_start(mprof_ownthread *t, void *(*fn)(void *));

/* Join t, which the caller has told to return; with unmap, its stack goes
 * too (else it is kept for the next start). */
void mprof_ownthread_join(mprof_ownthread *t, int unmap);

/* Fork child: no thread; the parent's stack is left mapped, unused. */
void mprof_ownthread_after_fork(mprof_ownthread *t);

#endif
