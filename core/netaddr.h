/*
 * netaddr.h: the address of MPROF_HTTP, "ADDR:PORT" or "unix:PATH", parsed
 * without the resolver (no DNS, no NSS modules loaded into the host).
 *
 * Accepted forms (Go's net.Listen addresses, less host names):
 *   127.0.0.1:6060   IPv4 address and port
 *   [::1]:6060       IPv6 address in brackets and port
 *   localhost:6060   the IPv4 loopback
 *   :6060            no address: the IPv4 loopback, not every interface as
 *                    Go takes it (exposing a profiler is a choice to make
 *                    by naming the address, e.g. 0.0.0.0:6060)
 *   unix:/run/x.sock a unix socket; "%p" in the path stands for the pid
 * Port 0 asks the kernel for a free port (the chosen one is published,
 * httpd.h).  A fork child gets a server of its own only where the address
 * can differ from its parent's: port 0, or "%p" in the path (per_process).
 */
#ifndef MPROF_NETADDR_H
#define MPROF_NETADDR_H

#include <stdint.h>

enum { MPROF_NETADDR_NONE, MPROF_NETADDR_IP4, MPROF_NETADDR_IP6, MPROF_NETADDR_UNIX };

#define MPROF_NETADDR_PATH_MAX 108 /* sizeof sun_path, the NUL included */

typedef struct mprof_netaddr {
    int kind;                        /* MPROF_NETADDR_* */
    uint8_t ip[16];                  /* network order; 4 bytes for IP4 */
    uint16_t port;                   /* host order; 0 = any free port */
    int per_process;                 /* port 0 or %p: children serve too */
    char path[MPROF_NETADDR_PATH_MAX]; /* unix: the path, %p unexpanded */
} mprof_netaddr;

/* Parse s into *a.  0, or -1 with *why set to a static phrase saying what
 * is wrong ("no port", "port above 65535", ...). */
int mprof_netaddr_parse(const char *s, mprof_netaddr *a, const char **why);

/* The unix path with "%p" replaced by pid, into out[MPROF_NETADDR_PATH_MAX].
 * 0, or -1 if it does not fit. */
int mprof_netaddr_unix_path(const mprof_netaddr *a, long pid, char *out);

#endif
