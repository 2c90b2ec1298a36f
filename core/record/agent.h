/*
 * agent.h: the mprof thread.  It ends an epoch every MPROF_EPOCH_MS, writes
 * a dump when asked (signal) and every MPROF_DUMP_INTERVAL seconds.  It
 * blocks every signal and runs with its reentrancy guard set for life, so
 * everything it does (elfutils, zlib, libc) is invisible to the profiler
 * and served by mprof's own heap.
 *
 * It exists only while there is something to do: it is started by the
 * first recorded event (mprof_agent_want), not at start-up, so a process
 * that records nothing (a shell's command substitution, /bin/true) never
 * has a second thread; the one exception is a process whose fork children
 * have written 8 exit dumps (a server with a process per request), whose
 * next allocation starts it to ready their dumps (profiler.c, note_fork).  It steps aside (stopped and joined, then started
 * again) around calls that need the process to have one thread or the same
 * credentials on every thread (unshare, setns, set*id), and retires for
 * good when the program's last thread ends, so it never keeps a process
 * alive.  In a fork child it does not exist until the child records.
 *
 * Locking: agent_lock guards the thread's existence (running, the pause
 * depth, retired); it is held across pthread_create and pthread_join, never
 * by the thread itself, and taken by no other mprof lock holder.
 */
#ifndef MPROF_AGENT_H
#define MPROF_AGENT_H

#include "config.h"

#include <stdint.h>

/* Settings the thread will use; no thread is started. */
void mprof_agent_init(const mprof_config *cfg);

/* Something was recorded: start the thread unless it runs, is paused or
 * retired.  Call with the guard set, holding no mprof lock.  0, or an
 * errno from pthread_create (said once on stderr by the agent itself). */
int mprof_agent_want(void);

/* Stop and join the thread if it runs (nests); resume starts it again if
 * it ran or was wanted meanwhile.  For calls that need a single thread. */
void mprof_agent_pause(void);
void mprof_agent_resume(void);

/* The program's last thread is ending: stop the thread for good. */
void mprof_agent_retire(void);

/* Async-signal-safe: an atomic store and a futex wake, errno preserved.
 * Without a thread there is nothing recorded, hence nothing to dump. */
void mprof_agent_request_dump(void);

/* A dump for MPROF_INUSE_INTERVAL (peak.h): written as an interval dump
 * is (dump.h, MPROF_DUMP_INTERVAL: no threads profile unless
 * MPROF_THREADS=2), not as one asked for.  Same calling rules as
 * mprof_agent_request_dump. */
void mprof_agent_request_growth_dump(void);

/* The final dump, asked from a signal handler (profiler.h, last words):
 * the thread writes it as the exit dump is written (mprof_dump(1)) and
 * stops dumping.  Waits for it at most timeout_ns; if the exit dump is
 * being written on another thread, waits for that one instead, as long.
 * Returns at once if the thread is not running (nothing recorded,
 * stepped aside, retired) and no exit dump is under way, or the final
 * dump is written.  Async-signal-safe, errno kept.  1 if the dump was
 * written (or already was), 0 on time-out or without a thread. */
int mprof_agent_final_dump(int64_t timeout_ns);

/* Ask the thread to run mprof_dump_ready_children (dump.h), once it can;
 * from a fork's parent handler.  Keeps errno. */
void mprof_agent_request_ready_children(void);

/* The exit dump is starting (on a thread of the program): dump no more. */
void mprof_agent_stop_dumping(void);

/* The exit dump is written (or there was none to write): a last-words
 * handler waiting for it lets the signal go on. */
void mprof_agent_final_written(void);

/* Fork child: no thread, nothing wanted; the next record starts one. */
void mprof_agent_reset_after_fork(void);

#endif
