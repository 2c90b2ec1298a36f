/*
 * httpreq.h: the little of an HTTP/1.x request that mprof's /debug/pprof
 * server reads: the request line and the query string.  Header fields are
 * skipped unread (the server answers the same whatever they say), so the
 * only parsing is of one line of at most the request buffer's size.
 *
 * Hand-written on purpose, and fuzzed (fuzz/fuzz_httpreq.c, `make fuzz`):
 * Debian's HTTP server libraries link a TLS stack (libmicrohttpd: GnuTLS)
 * or are no longer maintained (http-parser), and a GET line needs neither.
 *
 * Every function is pure: no allocation, no state, no locale; inputs are
 * byte ranges that need not be NUL-terminated.
 */
#ifndef MPROF_HTTPREQ_H
#define MPROF_HTTPREQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct mprof_httpreq {
    const char *method, *path, *query; /* into the caller's buffer */
    size_t method_len, path_len, query_len; /* query: after '?', may be 0 */
} mprof_httpreq;

/* Length of the request head in buf[0, n) up to and including the blank
 * line that ends it (CRLF CRLF, or bare LF LF as lenient servers accept),
 * or 0 if it has not all arrived. */
size_t mprof_httpreq_head_len(const char *buf, size_t n);

/* The request line of head[0, n): "METHOD SP target SP HTTP/1.x".  The
 * target is origin-form ("/debug/pprof/heap?seconds=5") or absolute-form
 * ("http://host:port/..."), the authority then skipped.  0, or -1 if the
 * line is malformed (the server answers 400). */
int mprof_httpreq_parse(const char *head, size_t n, mprof_httpreq *r);

/* The value of query parameter `name`, percent- and '+'-decoded into
 * out[0, size) and NUL-terminated: its length, or -1 if absent or longer
 * than size - 1.  The first occurrence wins, as Go's FormValue. */
long mprof_httpreq_param(const mprof_httpreq *r, const char *name, char *out, size_t size);

/* Go's strconv.Atoi of parameter `name`: 1 and *v if present and a decimal
 * integer (optional sign) that fits in int64, 0 if absent, -1 if not a
 * number. */
int mprof_httpreq_int(const mprof_httpreq *r, const char *name, int64_t *v);

#endif
