/*
 * httpreq.c: request line and query of an HTTP/1.x request (httpreq.h).
 * RFC 9112 section 3: request-line = method SP request-target SP version.
 */
#include "httpreq.h"

#include <string.h>

size_t mprof_httpreq_head_len(const char *buf, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* RFC 9110 tchar, the bytes of a method name. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A target byte: visible ASCII. */
static int is_vchar(unsigned char c) { return c > 0x20 && c < 0x7f; }

/* Target [t, t + len) into path and query. */
static int split_target(const char *t, size_t len, mprof_httpreq *r)
{
    if (len > 7 && memcmp(t, "http://", 7) == 0) { /* absolute-form */
        const char *slash = memchr(t + 7, '/', len - 7);
        if (!slash)
            return -1;
        len -= (size_t)(slash - t);
        t = slash;
    }
    if (len == 0 || t[0] != '/')
        return -1;
    const char *q = memchr(t, '?', len);
    r->path = t;
    r->path_len = q ? (size_t)(q - t) : len;
    r->query = q ? q + 1 : t + len;
    r->query_len = q ? len - r->path_len - 1 : 0;
    return 0;
}

int mprof_httpreq_parse(const char *head, size_t n, mprof_httpreq *r)
{
    memset(r, 0, sizeof *r);
    const char *eol = memchr(head, '\n', n);
    size_t line = eol ? (size_t)(eol - head) : n;
    if (line && head[line - 1] == '\r')
        line--;
    size_t m = 0;
    while (m < line && is_tchar((unsigned char)head[m]))
        m++;
    if (m == 0 || m >= line || head[m] != ' ')
        return -1;
    size_t t0 = m + 1, t1 = t0;
    while (t1 < line && is_vchar((unsigned char)head[t1]))
        t1++;
    if (t1 >= line || head[t1] != ' ')
        return -1;
    size_t vlen = line - t1 - 1;
    if (vlen != 8 || memcmp(head + t1 + 1, "HTTP/1.", 7) != 0 ||
        (head[t1 + 8] != '0' && head[t1 + 8] != '1'))
        return -1;
    r->method = head;
    r->method_len = m;
    return split_target(head + t0, t1 - t0, r);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0, n) into out[0, size): length, or -1 if it does not
 * fit or holds a bad escape. */
static long decode(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    if (size == 0)
        return -1;
    out[o] = 0;
    return (long)o;
}

/* The raw value of the first parameter named `name`: 1 with [*v, *v + *vl)
 * ("" for a bare "name"), or 0 if there is none. */
static int find_param(const mprof_httpreq *r, const char *name, const char **v, size_t *vl)
{
    size_t nl = strlen(name);
    const char *p = r->query, *end = r->query + r->query_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq ? eq : pe;
        char key[32];
        long kl = decode(p, (size_t)(ke - p), key, sizeof key);
        if (kl == (long)nl && memcmp(key, name, nl) == 0) {
            *v = eq ? eq + 1 : pe;
            *vl = (size_t)(pe - *v);
            return 1;
        }
        p = pe + 1;
    }
    return 0;
}

long mprof_httpreq_param(const mprof_httpreq *r, const char *name, char *out, size_t size)
{
    const char *v;
    size_t vl;
    return find_param(r, name, &v, &vl) ? decode(v, vl, out, size) : -1;
}

int mprof_httpreq_int(const mprof_httpreq *r, const char *name, int64_t *v)
{
    const char *raw;
    size_t rl;
    char s[32];
    if (!find_param(r, name, &raw, &rl))
        return 0;
    if (decode(raw, rl, s, sizeof s) < 0)
        return -1;
    const char *p = s;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return -1;
    uint64_t acc = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || acc > (UINT64_MAX - 9) / 10)
            return -1;
        acc = acc * 10 + (uint64_t)(*p - '0');
    }
    if (acc > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 1;
}
