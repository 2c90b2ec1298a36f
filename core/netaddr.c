/*
 * netaddr.c: MPROF_HTTP's address (see netaddr.h).  inet_pton does the
 * numeric forms; nothing here resolves a name.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int parse_port(const char *s, uint16_t *port, const char **why)
{
    unsigned v = 0;
    if (!*s) {
        *why = "no port after ':'";
        return -1;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            *why = "the port is not a number";
            return -1;
        }
        v = v * 10 + (unsigned)(*s - '0');
        if (v > 65535) {
            *why = "the port is above 65535";
            return -1;
        }
    }
    *port = (uint16_t)v;
    return 0;
}

/* The unix form; the path must fit sun_path once %p is a 7-digit pid. */
static int parse_unix(const char *path, mprof_netaddr *a, const char **why)
{
    size_t len = strlen(path);
    if (len == 0) {
        *why = "the unix socket path is empty";
        return -1;
    }
    if (len >= sizeof a->path) {
        *why = "the unix socket path is longer than 107 bytes";
        return -1;
    }
    a->kind = MPROF_NETADDR_UNIX;
    memcpy(a->path, path, len + 1);
    a->per_process = strstr(path, "%p") != NULL;
    char probe[MPROF_NETADDR_PATH_MAX];
    if (mprof_netaddr_unix_path(a, 9999999, probe) < 0) {
        *why = "the unix socket path is too long once %p is a pid";
        return -1;
    }
    return 0;
}

/* host (already cut at its ':' and stripped of brackets) into a. */
static int parse_host(const char *host, int bracketed, mprof_netaddr *a, const char **why)
{
    if (!*host || strcmp(host, "localhost") == 0) {
        a->kind = MPROF_NETADDR_IP4;
        inet_pton(AF_INET, "127.0.0.1", a->ip);
        return 0;
    }
    if (!bracketed && inet_pton(AF_INET, host, a->ip) == 1) {
        a->kind = MPROF_NETADDR_IP4;
        return 0;
    }
    if (bracketed && inet_pton(AF_INET6, host, a->ip) == 1) {
        a->kind = MPROF_NETADDR_IP6;
        return 0;
    }
    *why = bracketed ? "not an IPv6 address in brackets"
                     : "not a numeric IPv4 address, [IPv6] or localhost (no name lookup)";
    return -1;
}

int mprof_netaddr_parse(const char *s, mprof_netaddr *a, const char **why)
{
    memset(a, 0, sizeof *a);
    *why = "";
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s + 5, a, why);
    char host[64];
    const char *colon = strrchr(s, ':');
    int bracketed = s[0] == '[';
    if (!colon) {
        *why = "no ':PORT' (or 'unix:PATH')";
        return -1;
    }
    size_t hl = (size_t)(colon - s);
    if (bracketed) {
        if (hl < 2 || s[hl - 1] != ']') {
            *why = "an IPv6 address needs the form [ADDR]:PORT";
            return -1;
        }
        s++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        *why = "the address is too long";
        return -1;
    }
    memcpy(host, s, hl);
    host[hl] = 0;
    if (parse_host(host, bracketed, a, why) < 0 || parse_port(colon + 1, &a->port, why) < 0) {
        a->kind = MPROF_NETADDR_NONE;
        return -1;
    }
    a->per_process = a->port == 0;
    return 0;
}

int mprof_netaddr_unix_path(const mprof_netaddr *a, long pid, char *out)
{
    size_t o = 0;
    for (const char *p = a->path; *p; p++) {
        char piece[24];
        size_t n = 1;
        piece[0] = *p;
        if (p[0] == '%' && p[1] == 'p') {
            n = (size_t)snprintf(piece, sizeof piece, "%ld", pid);
            p++;
        }
        if (o + n >= MPROF_NETADDR_PATH_MAX)
            return -1;
        memcpy(out + o, piece, n);
        o += n;
    }
    out[o] = 0;
    return 0;
}
