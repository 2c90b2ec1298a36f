/*
 * threadreg.h: the program's threads by tid, so that a dump can read what
 * each one is blocked in (tls.h: wait_call, wait_obj) from another thread.
 *
 * A thread is registered when it starts (the main thread at start-up, the
 * others in the shim's start routine) and removed when it ends, both off
 * every fast path.  A table of slots, open addressing on the tid, claimed
 * and released with compare-and-swap: no lock, so that registration never
 * waits for a dump and a dump never stops a thread.  A slot's TLS pointer
 * names the thread's TLS while the slot holds the tid, but a dump that
 * found it may read it after the thread ended and its stack (where its
 * TLS lies) was unmapped: a program's own stack freed after the join, or
 * one glibc let go.  So the dump reads the wait fields with
 * process_vm_readv, which fails where a load would fault.
 */
#ifndef MPROF_THREADREG_H
#define MPROF_THREADREG_H

#include "tls.h"

#pragma GCC visibility push(hidden)

/* The main thread's TLS, at start-up: no system call, no table yet.  It
 * is registered (tid = pid) when the first other thread registers, so a
 * process that never starts a thread never maps the table. */
void mprof_threadreg_main(struct mprof_tls *tls);

/* The calling thread (tid) with its TLS; 0, or -1 when the slots near
 * tid's are all taken or the table cannot be mapped (the thread is then
 * shown without its wait).  Called only with the threads profile on
 * (profiler.c): nothing else reads the table, and a process without it
 * maps none. */
int mprof_threadreg_add(int tid, struct mprof_tls *tls);

/* The calling thread ends. */
void mprof_threadreg_remove(int tid);

/* The slots lookups have examined so far, all threads together: what
 * bounds a lookup, counted (tests; no lock, relaxed). */
unsigned long mprof_threadreg_probes(void);

/* What thread tid waits in: *call (waitcall.h, MPROF_WAIT_NONE if none)
 * and *obj; 0, or -1 if tid is not registered. */
int mprof_threadreg_wait(int tid, int *call, const void **obj);

/* Fork child: the parent's entries are dead to it; the calling thread,
 * the child's one thread (tid = the child's pid), is registered, and
 * tls->tid set. */
void mprof_threadreg_after_fork(struct mprof_tls *tls);

#pragma GCC visibility pop

#endif
