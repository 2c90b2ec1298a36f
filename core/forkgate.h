/*
 * forkgate.h: the fork gate, which keeps a fork child from inheriting a
 * lock held mid-operation by a thread that did not follow it into the
 * child.
 *
 * Work that calls into libraries which take locks of their own (libgcc's
 * unwinder during a sample; the loader's dl_load_write_lock during a walk
 * of the loaded objects) runs inside the gate, and fork waits, in its
 * prepare handler, until none is inside. Two ways in:
 *
 *  - mprof_forkgate_enter: for a sampled event. It never waits: while a
 *    fork is in progress it returns 0 and the event goes on outside the
 *    gate (it may hold a lock of the program's that the forking thread
 *    needs after mprof's handler ran, such as libio's list lock).
 *  - mprof_forkgate_hold: for mprof's own work outside a sample (a dump's
 *    walk of the loader's list, indexing symbol tables for the children).
 *    It waits out a fork in progress, and a fork waits for it.
 *
 * mprof_forkgate_enter does not nest: a thread inside the gate must not
 * enter it again (a fork arriving between the two would wait for the
 * first while the second waits for the fork). mprof_forkgate_hold nests
 * on one thread (only the outermost enters), but not inside a sample's
 * mprof_forkgate_enter. Idea: the quiescence a stop-the-world collector
 * asks of its mutators, here asked of mprof's own code only.
 */
#ifndef MPROF_FORKGATE_H
#define MPROF_FORKGATE_H

/* 1 if entered; 0 if a fork is in progress (then do not leave). */
int mprof_forkgate_enter(void);
void mprof_forkgate_leave(void);

/* Enter, waiting (20 us naps) for a fork in progress to end; leave. */
void mprof_forkgate_hold(void);
void mprof_forkgate_release(void);

/* pthread_atfork protocol: prepare waits until no thread is inside;
 * parent ends the fork's count; child starts with an open gate. */
void mprof_forkgate_fork_prepare(void);
void mprof_forkgate_fork_parent(void);
void mprof_forkgate_fork_child(void);

#endif
