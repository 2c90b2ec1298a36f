/*
 * threadstacks.h: every thread's stack at one moment, for the threads
 * profile (Go's goroutine profile, for native threads) and `mprof stacks`.
 *
 * How, and why so: no thread is stopped and none is sent a signal.  A
 * thread blocked in the kernel (a lock, a condition variable, a read, a
 * sleep: what a hung program's threads are doing) has its stack and
 * instruction pointers in /proc/self/task/<tid>/syscall; its stack, in
 * our own address space, is copied with process_vm_readv and unwound with
 * the unwind tables, by libdwfl (core/output/cfi.h).  So a thread that blocks every signal is seen
 * like any other, a thread in a long system call is not interrupted (a
 * signal handler would make its sleep, poll or read fail with EINTR), a
 * thread inside mprof's own code is read as it is, and one that exits
 * meanwhile is simply gone (its /proc entry fails to open).  A thread
 * that is running user code at that moment has no registers there: it is
 * reported as running, with no stack.  Cost: four small /proc reads and
 * one copy of up to MPROF_THREADSTACK_COPY bytes per thread, on the
 * thread that dumps (the mprof thread), never on the program's.
 *
 * What each thread waits for comes from the wrappers (threadreg.h): the
 * wrapped call and its object; for a mutex, its holder is the tid glibc
 * keeps in the mutex (__data.__owner), read with process_vm_readv.
 */
#ifndef MPROF_THREADSTACKS_H
#define MPROF_THREADSTACKS_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

/* Most of a thread's stack read, from its stack pointer up. */
#define MPROF_THREADSTACK_COPY ((size_t)256 << 10)

enum mprof_thread_how {
    MPROF_THREAD_UNWOUND, /* blocked in the kernel; pcs unwound from its registers */
    MPROF_THREAD_RUNNING, /* running (or woke while read): no stack */
};

typedef struct mprof_thread_stack {
    int tid;
    char name[16];   /* its comm (pthread_setname_np, prctl) */
    char state;      /* as /proc says: S sleeping, D uninterruptible, R, T... */
    int how;         /* enum mprof_thread_how */
    int call;        /* the wrapped call it is blocked in (waitcall.h), or none */
    uintptr_t obj;   /* that call's object (lock, condition variable...), or 0 */
    int owner;       /* for a mutex or a write-locked rwlock: the holder's tid, or 0 */
    int npcs;        /* pcs, leaf first: the call's synthetic frame when in a
                        wrapped call, then return addresses */
    uintptr_t pcs[MPROF_STACK_MAX + 2];
} mprof_thread_stack;

/*
 * mprof's own threads (the mprof thread, the /debug/pprof server) are
 * not the program's and are never listed, whichever of them captures:
 * each names itself here when it starts, in its role's slot (a restart,
 * as in a fork child, takes the slot over).  Lock-free.
 */
enum mprof_own_thread { MPROF_OWN_AGENT, MPROF_OWN_HTTPD, MPROF_NOWN };
void mprof_threadstacks_own(enum mprof_own_thread role);

/* Threads of the process now, at most max (the rest are left out). */
size_t mprof_threadstacks_count(void);

/*
 * How a blocked thread's stack is unwound: cfi.h's mprof_cfi_unwind and
 * its session, which dump.c (the bridge to the output half, where libdw
 * is) passes in.  pcs as in mprof_thread_stack, at most max; stack[0, len)
 * is a copy of the thread's memory at [sp, sp + len).  Returns how many.
 */
typedef struct mprof_unwinder mprof_unwinder;
typedef int mprof_unwind_fn(mprof_unwinder *u, int tid, uintptr_t pc, uintptr_t sp,
                            const unsigned char *stack, size_t len, uintptr_t *pcs,
                            int max);

/*
 * Every thread but the caller and mprof's own into out[0, max): tid, name, state, its
 * wait, and its stack of at most `depth` frames, by unwind(u, ...).
 * `copy` is a buffer of MPROF_THREADSTACK_COPY bytes.  Returns how many
 * were filled.  Opens and closes descriptors (raised above the
 * program's, fdmove.h); call with the guard set and no mprof lock held.
 */
size_t mprof_threadstacks_capture(mprof_thread_stack *out, size_t max, int depth,
                                  unsigned char *copy, mprof_unwind_fn *unwind,
                                  mprof_unwinder *u);

#endif
