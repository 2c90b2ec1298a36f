/*
 * publish.h: the state `mprof dump` needs, published where the program
 * cannot overwrite it: in the names of memfd mappings, which
 * /proc/PID/maps shows to anyone allowed to read it.
 *
 * Why not /proc/PID/environ: nginx, redis and PostgreSQL write their
 * process titles over the environ block, and `mprof dump` then read no
 * MPROF_SIGNAL and signalled SIGUSR2, which those servers act on (issue
 * 10, item 8).  Why not a file: mprof holds no descriptor and leaves
 * nothing behind.  A mapping's name is set once by memfd_create(2) and
 * lives as long as the mapping; the program would have to unmap memory it
 * never mapped to lose it.  The mappings are PROT_NONE and never touched:
 * they cost an entry in the address space, no memory.  The idea is
 * Android's named anonymous mappings ("[anon:<name>]" in maps, set with
 * prctl(PR_SET_VMA_ANON_NAME)), which tools read from outside; memfd names
 * do the same on any kernel since 3.17, where PR_SET_VMA_ANON_NAME needs
 * 5.17 and a kernel option.
 *
 * The format (a user may see it in /proc/PID/maps; tools/published.c reads
 * it), one mapping, its name at most 249 bytes:
 *
 *   /memfd:mprof:1:pid=P:sig=S:own=O:rec=R:seq=N:files=F[:more=K]:out=E (deleted)
 *
 *   P     the pid the state is about.  A fork child inherits its parent's
 *         mappings: one whose P is not the process's own pid says the
 *         parent's S, O and out, with N = 0 and R = 0, until the child
 *         publishes its own.
 *   S     the dump signal's number, 0 for MPROF_SIGNAL=none.
 *   O     1 while mprof's handler for S is installed (the program left S at
 *         its default action), 0 once the program took S or found it set.
 *   R     1 once the process recorded an event: before that a dump writes
 *         nothing.
 *   N     the seq of the latest dump (0: none yet), modulo 2^27.
 *   F     the files that dump N wrote: "heap,block,mutex,threadcreate,
 *         threads,peak", a subset in that order, or "-" for none.
 *   E     the absolute MPROF_OUT prefix, percent-encoded: '%', bytes below
 *         0x20 and 0x7f become %XX (the kernel would show a newline as
 *         \012, which no reader could tell from a backslash).  E is last,
 *         so it may contain ':'.  If it does not fit, the name ends with
 *         its head and K more mappings carry the rest, in order:
 *           /memfd:mprof:1c:<i>:<piece i> (deleted)      i = 1..K
 *         The prefix never changes, so these are made once, at start.
 *
 * Updates replace the mapping in place (mremap over the old address), so
 * a reader sees the old name or the new one, never both or neither.
 *
 * Every function here may be called with the reentrancy guard set, from a
 * sampled path, from a signal handler and from several threads: each uses
 * raw system calls only (no malloc, no stdio, no descriptor kept), leaves
 * errno as it found it, and never waits: the state is one atomic word, and
 * whoever finds the mapping being rewritten (another thread, or a handler
 * that interrupted the rewrite on this thread) leaves the rewrite of its
 * update to the thread doing it, which checks for news before it lets go.
 * Each uses about 500 bytes of the caller's stack (gcc -fstack-usage,
 * x86-64, the deepest path: update, rewrite, put_fixed); a call that changes
 * nothing costs one getpid system call and no rewrite, so repeating one is
 * cheap.  Before mprof_publish_init every call does nothing.  Failures (no
 * memfd_create, no address space) are silent: `mprof dump` then finds no
 * published state and says so.
 */
#ifndef MPROF_PUBLISH_H
#define MPROF_PUBLISH_H

#include "config.h"

#pragma GCC visibility push(hidden)

/* At start, once cfg->out is absolute (a relative prefix is published as
 * it is): makes the continuation mappings if the prefix needs them and
 * publishes sig = cfg->signal, own 0, rec 0, seq 0.  Once, from the
 * constructor: unlike the others it asks sysconf for the page size and
 * uses about 1.2 KiB of stack. */
void mprof_publish_init(const mprof_config *cfg);

/* signal.c: mprof's handler for `sig` (a signal number, 0 for none) is
 * installed (own = 1) or not (own = 0). */
void mprof_publish_signal(int sig, int own);

/* The first event was recorded in this process (in a fork child too: the
 * child's own state starts with its first call here). */
void mprof_publish_recording(void);

/* After dump `seq` (1, 2, ...): `kinds` is the mask of the files it
 * actually wrote, MPROF_PUBLISH_HEAP | _BLOCK | _MUTEX | _THREADCREATE |
 * _THREADS | _PEAK. Not called for the exit dump (dump.c): a reader
 * waiting then sees the process end ("exited before its dump was
 * published"), and the files are named by the seq after the last one
 * published. */
void mprof_publish_dump(unsigned seq, unsigned kinds);

/* The /debug/pprof server listens at addr ("127.0.0.1:41234", the port
 * the kernel chose for port 0, or "unix:/path"): one more mapping, made
 * once per server start, named
 *   /memfd:mprof-http:1:pid=P:addr=ADDR (deleted)
 * so that tests and tools find a server whose port was chosen by the
 * kernel.  A fork child that serves adds its own, with its own P. */
void mprof_publish_http(const char *addr);

enum {
    MPROF_PUBLISH_HEAP = 1,
    MPROF_PUBLISH_BLOCK = 2,
    MPROF_PUBLISH_MUTEX = 4,
    MPROF_PUBLISH_THREADCREATE = 8,
    MPROF_PUBLISH_THREADS = 16,
    MPROF_PUBLISH_PEAK = 32
};

#pragma GCC visibility pop

#endif
