/*
 * waitcall.h: the wrapped blocking calls, named in the profiles.
 *
 * Go puts the waiting call itself at the leaf of a block or mutex sample
 * (sync.(*Mutex).Lock, sync.(*Cond).Wait, sync.(*Mutex).Unlock), so that a
 * mutex wait and a condition wait in one function are two numbers, not
 * one.  mprof does the same with a synthetic frame: the recorder puts
 * mprof_waitcall_pc(call) first in the stack, an address no code can have
 * (just below MPROF_PC_TRUNCATED, config.h), and the writer turns it into
 * a location without a mapping whose one function is the call's name
 * (profile.c), as it does "[truncated]".  The threads profile uses the same
 * names for what a blocked thread is waiting in.
 *
 * Nothing here allocates, locks or touches errno; the table is constant.
 */
#ifndef MPROF_WAITCALL_H
#define MPROF_WAITCALL_H

#include "config.h"

#include <stdint.h>

/* X(enum suffix, name as the user called it) */
#define MPROF_WAITCALLS(X)                                                     \
    X(MUTEX_LOCK, "pthread_mutex_lock")                                        \
    X(MUTEX_TIMEDLOCK, "pthread_mutex_timedlock")                              \
    X(MUTEX_CLOCKLOCK, "pthread_mutex_clocklock")                              \
    X(MUTEX_UNLOCK, "pthread_mutex_unlock")                                    \
    X(RWLOCK_RDLOCK, "pthread_rwlock_rdlock")                                  \
    X(RWLOCK_WRLOCK, "pthread_rwlock_wrlock")                                  \
    X(RWLOCK_TIMEDRDLOCK, "pthread_rwlock_timedrdlock")                        \
    X(RWLOCK_TIMEDWRLOCK, "pthread_rwlock_timedwrlock")                        \
    X(RWLOCK_CLOCKRDLOCK, "pthread_rwlock_clockrdlock")                        \
    X(RWLOCK_CLOCKWRLOCK, "pthread_rwlock_clockwrlock")                        \
    X(RWLOCK_UNLOCK, "pthread_rwlock_unlock")                                  \
    X(COND_WAIT, "pthread_cond_wait")                                          \
    X(COND_TIMEDWAIT, "pthread_cond_timedwait")                                \
    X(COND_CLOCKWAIT, "pthread_cond_clockwait")                                \
    X(SEM_WAIT, "sem_wait")                                                    \
    X(SEM_TIMEDWAIT, "sem_timedwait")                                          \
    X(SEM_CLOCKWAIT, "sem_clockwait")                                          \
    X(JOIN, "pthread_join")                                                    \
    X(TIMEDJOIN, "pthread_timedjoin_np")                                       \
    X(BARRIER_WAIT, "pthread_barrier_wait")                                    \
    X(RUNNING, "[running]") /* not a call: the frame of a thread seen running */

#define MPROF_WAITCALL_ENUM(e, name) MPROF_WAIT_##e,
typedef enum { MPROF_WAIT_NONE = -1, MPROF_WAITCALLS(MPROF_WAITCALL_ENUM) MPROF_NWAITCALLS } mprof_waitcall;
#undef MPROF_WAITCALL_ENUM

/* The call's name ("pthread_mutex_lock"); NULL for none or out of range. */
const char *mprof_waitcall_name(int call);

/* The synthetic frame of `call` (0 <= call < MPROF_NWAITCALLS). */
static inline uintptr_t mprof_waitcall_pc(int call)
{
    return MPROF_PC_TRUNCATED - 1 - (uintptr_t)call;
}

/* The call a stack entry names, or MPROF_WAIT_NONE for a real address. */
static inline int mprof_waitcall_of_pc(uintptr_t pc)
{
    if (pc >= MPROF_PC_TRUNCATED || pc < MPROF_PC_TRUNCATED - MPROF_NWAITCALLS)
        return MPROF_WAIT_NONE;
    return (int)(MPROF_PC_TRUNCATED - 1 - pc);
}

#endif
