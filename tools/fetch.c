/*
 * fetch.c: GET a profile over HTTP into a temporary file (see fetch.h).
 * The answer is read whole (until the server closes, as HTTP/1.0 asks),
 * then split at its blank line; a ?seconds=N request is answered after N
 * seconds, so the wait for data is generous.
 */
#include "fetch.h"

#include "tool.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_MS (330 * 1000) /* longer than the longest ?seconds= (300) */
#define MAX_ANSWER ((size_t)1 << 30)

bool fetch_is_url(const char *s) { return strncmp(s, "http://", 7) == 0; }

/* url into host, port and the path with its query. */
static int split_url(const char *url, char *host, size_t hsize, char *port, size_t psize,
                     const char **path)
{
    const char *h = url + 7, *slash = strchr(h, '/');
    *path = slash ? slash : "/";
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = NULL;
    if (hl && h[0] == '[') {
        const char *close = memchr(h, ']', hl);
        if (!close)
            return -1;
        colon = close + 1 < h + hl && close[1] == ':' ? close + 1 : NULL;
        snprintf(host, hsize, "%.*s", (int)(close - h - 1), h + 1);
    } else {
        colon = memchr(h, ':', hl);
        snprintf(host, hsize, "%.*s", (int)(colon ? (size_t)(colon - h) : hl), h);
    }
    snprintf(port, psize, "%.*s", colon ? (int)(h + hl - colon - 1) : 2, colon ? colon + 1 : "80");
    return host[0] && port[0] ? 0 : -1;
}

static int dial(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s:%s: %s", host, port, strerror(e));
    return fd;
}

/* Everything the server sends, into a malloc'd *buf. */
static int read_answer(int fd, char **buf, size_t *len, char *err, size_t errlen)
{
    size_t cap = 0;
    *buf = NULL;
    *len = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, IDLE_MS) == 0) {
            snprintf(err, errlen, "no answer for %d s", IDLE_MS / 1000);
            return -1;
        }
        xgrow(buf, &cap, *len + 65536 + 1, 1);
        ssize_t n = read(fd, *buf + *len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            return -1;
        }
        if (n == 0)
            return 0;
        *len += (size_t)n;
        if (*len > MAX_ANSWER) {
            snprintf(err, errlen, "answer larger than 1 GiB");
            return -1;
        }
    }
}

/* The status and body of an answer; err holds the body's first line for
 * anything but 200. */
static int parse_answer(char *a, size_t len, const char **body, size_t *blen, char *err,
                        size_t errlen)
{
    char *end = len ? memmem(a, len, "\r\n\r\n", 4) : NULL;
    char *num = end && strncmp(a, "HTTP/1.", 7) == 0 ? strchr(a, ' ') : NULL;
    long status = num ? strtol(num + 1, NULL, 10) : 0;
    if (!end || status < 100 || status > 999) {
        snprintf(err, errlen, "not an HTTP answer");
        return -1;
    }
    *body = end + 4;
    *blen = len - (size_t)(end + 4 - a);
    if (status == 200)
        return 0;
    size_t first = strcspn(*body, "\r\n");
    snprintf(err, errlen, "HTTP %ld: %.*s", status, (int)(first < *blen ? first : *blen), *body);
    return -1;
}

static int save_temp(const char *body, size_t blen, char *path, size_t size, char *err,
                     size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/mprof-fetch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    int ok = fd >= 0;
    for (size_t off = 0; ok && off < blen;) {
        ssize_t n = write(fd, body + off, blen - off);
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    if (fd >= 0 && close(fd) < 0)
        ok = 0;
    if (!ok) {
        snprintf(err, errlen, "cannot save the profile in %s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(path);
        return -1;
    }
    return 0;
}

int fetch_to_temp(const char *url, char *path, size_t size, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *target;
    if (!fetch_is_url(url) || split_url(url, host, sizeof host, port, sizeof port, &target) < 0) {
        snprintf(err, errlen, "not an http://HOST[:PORT]/PATH URL");
        return -1;
    }
    int fd = dial(host, port, err, errlen);
    if (fd < 0)
        return -1;
    char *req = xasprintf("GET %s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: mprof\r\n\r\n",
                          target, host, port);
    size_t rl = strlen(req);
    int rc = send(fd, req, rl, MSG_NOSIGNAL) == (ssize_t)rl ? 0 : -1;
    free(req);
    if (rc < 0)
        snprintf(err, errlen, "%s", strerror(errno));
    char *answer = NULL;
    size_t alen = 0;
    if (rc == 0)
        rc = read_answer(fd, &answer, &alen, err, errlen);
    close(fd);
    const char *body;
    size_t blen;
    if (rc == 0)
        rc = parse_answer(answer, alen, &body, &blen, err, errlen);
    if (rc == 0)
        rc = save_temp(body, blen, path, size, err, errlen);
    free(answer);
    return rc;
}
