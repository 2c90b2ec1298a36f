/*
 * endpoints.h: Go's /debug/pprof paths (net/http/pprof) and what each
 * answers, from one table (endpoints.c) where a profile is one line.  The
 * sockets, slots and timeouts are httpd.c's; this file only turns a parsed
 * request into a reply.
 *
 * Semantics, as Go's handlers (net/http/pprof/pprof.go):
 *   /debug/pprof/            an HTML index of the profiles
 *   /debug/pprof/NAME        the profile, gzipped pprof, Content-Disposition
 *                            attachment; filename="NAME"
 *     ?debug=N (N != 0)      the text form (proftext.h), text/plain
 *     ?seconds=N (N > 0)     a delta profile: snapshot now, again N seconds
 *                            later, every value the difference (delta.h)
 *     ?gc=1                  accepted: a snapshot is always current (the
 *                            heap's epoch is ended first, which is what
 *                            Go's runtime.GC() does for its profile)
 *   /debug/pprof/allocs      the heap profile, default_sample_type alloc_space
 *   /debug/pprof/goroutine   the threads profile (threadstacks.h), captured at
 *                            the request; debug=1 Go's count text, debug=2
 *                            every thread as goroutine?debug=2 (proftext.h)
 *   /debug/pprof/threadcreate  the threadcreate profile; debug=1 Go's count text
 *   /debug/pprof/peak        the peak heap profile (peak.h); ?seconds=N is a
 *                            400, as Go answers for a profile without deltas
 *   ?seconds=N checks in Go's order: not a positive integer, no deltas for
 *   this profile, above MPROF_HTTP_MAX_SECONDS, with debug: each a 400
 *   /debug/pprof/delta_heap, delta_block, delta_mutex
 *                            Grafana godeltaprof's: the difference from the
 *                            previous request of the same path (the first
 *                            gets everything), heap in-use values whole
 *   a profile that is off (its setting 0) or not built: 404, a one-line
 *   body saying which and why; an unknown path: 404 "Unknown profile".
 * Only GET is answered; any other method gets 405 (Go's handlers answer
 * any method: a profiler endpoint has no use for the others).
 *
 * Called on the server thread only (no locking); replies and snapshots
 * are in mappings of their own, never in the host's heap.
 */
#ifndef MPROF_ENDPOINTS_H
#define MPROF_ENDPOINTS_H

#include "dump.h"
#include "httpreq.h"

#include <stdint.h>

#define MPROF_HTTP_MAX_SECONDS 300 /* the longest ?seconds= window */

typedef struct mprof_reply {
    int status;               /* 200, 400, 404, 405, 500, 503 */
    const char *content_type;
    char filename[32];        /* Content-Disposition name, "" for none */
    mprof_dump_body body;     /* a rendered profile, or empty */
    const char *text;         /* else a static body of text_len bytes */
    size_t text_len;
} mprof_reply;

/* A ?seconds=N request between its two snapshots. */
typedef struct mprof_pending {
    const void *ep;           /* the endpoint; NULL: nothing pending */
    mprof_dump_snap *start;
    int64_t due_ns;           /* CLOCK_MONOTONIC */
} mprof_pending;

/* Answer r: 0 with *out filled, or 1 with *p filled: call
 * mprof_endpoints_finish at p->due_ns (or _abandon if the client left). */
int mprof_endpoints_serve(const mprof_httpreq *r, mprof_reply *out, mprof_pending *p);
void mprof_endpoints_finish(mprof_pending *p, mprof_reply *out);
void mprof_endpoints_abandon(mprof_pending *p);

void mprof_reply_free(mprof_reply *r);

/* Fork child: the delta_* baselines are the parent's buckets' (the child
 * starts an empty table), so they are forgotten. */
void mprof_endpoints_after_fork(void);

#endif
