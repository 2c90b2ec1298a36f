/*
 * fetch.h: profiles read from a URL, as `go tool pprof http://...` reads
 * them: `mprof top http://127.0.0.1:6060/debug/pprof/heap`, and `mprof
 * diff` of two fetches.  Plain HTTP/1.0 GET (no TLS, no redirects, no
 * proxy): what mprof's own server (MPROF_HTTP) and Go's net/http/pprof
 * answer.  The host is a name (getaddrinfo) or a numeric address, [v6] in
 * brackets; the port defaults to 80.
 */
#ifndef MPROF_TOOLS_FETCH_H
#define MPROF_TOOLS_FETCH_H

#include <stdbool.h>
#include <stddef.h>

/* s starts with "http://". */
bool fetch_is_url(const char *s);

/* GET url; the body of a 200 answer saved to a new temporary file whose
 * path is written to path[size] (the caller unlinks it).  0, or -1 with a
 * one-line reason in err ("connection refused", "HTTP 404: Unknown
 * profile"). */
int fetch_to_temp(const char *url, char *path, size_t size, char *err, size_t errlen);

#endif
