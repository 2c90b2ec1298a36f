/*
 * httpd.h: the /debug/pprof server (MPROF_HTTP, netaddr.h), so that `go
 * tool pprof http://...`, Parca and Grafana Alloy read a live program's
 * profiles as they read a Go program's (what each path answers is
 * endpoints.h's).
 *
 * One thread of its own ("mprof-http"), started at start-up only when
 * MPROF_HTTP is set, with every signal blocked, the reentrancy guard set
 * for life and a stack mprof mapped; it sleeps in poll(2) on the listening
 * socket, its connections and an eventfd that stops it.  Limits, all
 * fixed: MPROF_HTTP_SLOTS connections at a time (one more is answered 503
 * and closed), a request head of at most MPROF_HTTP_REQ_MAX bytes (431),
 * MPROF_HTTP_READ_S seconds to send it (then closed), MPROF_HTTP_WRITE_S
 * to take the answer (then closed).  Sockets are non-blocking and written
 * with MSG_NOSIGNAL, so a client that stalls or vanishes costs a slot
 * until its deadline and nothing else: profiles are rendered into mprof's
 * mappings under dump_lock (dump.h) and sent after it is released, so
 * dumps, signals and the program never wait on a client.
 *
 * Descriptors: the listening socket and the eventfd are CLOEXEC and moved
 * above the program's usual range (fdmove.h), as are accepted sockets.
 * A unix socket is created with mode 0600 (umask 0177 around bind(2)); an
 * existing socket file at the path is replaced only if nobody answers on
 * it, and the file is removed at exit.  A bind that fails (port in use) is one mprof: line; the program
 * runs on.  The address actually bound is published (publish.h,
 * mprof_publish_http) for clients of port 0.
 *
 * Fork: the child closes the parent's sockets (the port stays the
 * parent's) and serves only if the address is per-process (port 0, or %p
 * in a unix path), from its first recorded event on (mprof_httpd_want).
 * The thread steps aside like the mprof thread (agent.h) around calls
 * that need one thread, and retires with the program's last thread.
 *
 * Locking: httpd_lock guards the thread's existence, held across
 * pthread_create and pthread_join, never by the server thread.
 */
#ifndef MPROF_HTTPD_H
#define MPROF_HTTPD_H

#include "config.h"

#define MPROF_HTTP_SLOTS 8
#define MPROF_HTTP_REQ_MAX 4096
#define MPROF_HTTP_READ_S 5
#define MPROF_HTTP_WRITE_S 30

/* At start-up, with the guard set: bind and start serving if cfg->http is
 * set (cfg must outlive the process). */
void mprof_httpd_start(const mprof_config *cfg);

/* A fork child's first event: serve if the address is per-process. Cheap
 * when not (one load). */
void mprof_httpd_want(void);

/* Around calls that need a single thread (agent.h); nest. */
void mprof_httpd_pause(void);
void mprof_httpd_resume(void);

/* The program's last thread is ending: stop for good. */
void mprof_httpd_retire(void);

/* exit(): the unix socket file this process bound is removed (the thread
 * runs on until the process ends; a client that connected is answered or
 * cut off with it).  No lock, no join: errno kept. */
void mprof_httpd_at_exit(void);

/* Fork child, from the atfork handler: no thread; the parent's sockets
 * closed. */
void mprof_httpd_after_fork(void);

#endif
