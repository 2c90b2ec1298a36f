/*
 * outname.c: the profile file names (see outname.h).  A name is read from
 * its end because PREFIX is the user's and may hold anything, while what
 * follows it has a fixed shape: two numbers, letters, ".pb.gz".
 */
#include "outname.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

const char *const mprof_outname_kinds[MPROF_NKINDS] = {"heap", "block", "mutex", "threadcreate",
                                                       "threads", "peak"};

static const char suffix[] = ".pb.gz";
static const char tmp_suffix[] = ".tmp";

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A kind formats only if it parses back. */
static int valid_kind(const char *kind)
{
    size_t n = 0;
    while (is_lower(kind[n]))
        n++;
    return n > 0 && n < MPROF_OUTNAME_KIND_MAX && kind[n] == '\0';
}

int mprof_outname_format(char *buf, size_t size, const char *prefix, long pid,
                         unsigned long seq, const char *kind)
{
    if (size)
        buf[0] = '\0';
    if (!prefix[0] || pid < 0 || !valid_kind(kind))
        return -EINVAL;
    int n = snprintf(buf, size, "%s.%ld.%lu.%s%s", prefix, pid, seq, kind, suffix);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return -ENAMETOOLONG;
    }
    return n;
}

int mprof_outname_tmp(char *buf, size_t size, const char *path)
{
    size_t len = strlen(path);
    if (size)
        buf[0] = '\0';
    if (len == 0)
        return -EINVAL;
    if (len + sizeof tmp_suffix > size)
        return -ENAMETOOLONG;
    memcpy(buf, path, len);
    memcpy(buf + len, tmp_suffix, sizeof tmp_suffix);
    return (int)(len + sizeof tmp_suffix - 1);
}

/* Does s[0, *end) end with the n bytes of tail?  Then *end drops them. */
static int strip(const char *s, size_t *end, const char *tail, size_t n)
{
    if (*end < n || memcmp(s + *end - n, tail, n) != 0)
        return 0;
    *end -= n;
    return 1;
}

/* The decimal number that ends s[0, *end), preceded by a '.': its value
 * (if it fits below max), and *end moves to that '.'. */
static int number_before(const char *s, size_t *end, unsigned long max,
                         unsigned long *v)
{
    size_t i = *end;
    while (i > 0 && is_digit(s[i - 1]))
        i--;
    if (i == *end || i == 0 || s[i - 1] != '.')
        return 0;
    unsigned long x = 0;
    for (size_t k = i; k < *end; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (x > (max - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = x;
    *end = i - 1;
    return 1;
}

int mprof_outname_parse(const char *name, mprof_outname *out)
{
    size_t end = strlen(name);
    out->tmp = strip(name, &end, tmp_suffix, sizeof tmp_suffix - 1);
    if (!strip(name, &end, suffix, sizeof suffix - 1))
        return -1;
    size_t k = end;
    while (k > 0 && is_lower(name[k - 1]))
        k--;
    if (k == end || end - k >= MPROF_OUTNAME_KIND_MAX || k == 0 || name[k - 1] != '.')
        return -1;
    memcpy(out->kind, name + k, end - k);
    out->kind[end - k] = '\0';
    end = k - 1;
    unsigned long pid;
    if (!number_before(name, &end, ULONG_MAX, &out->seq) ||
        !number_before(name, &end, LONG_MAX, &pid) || end == 0)
        return -1;
    out->pid = (long)pid;
    out->prefix_len = end;
    return 0;
}

int mprof_outname_match(const char *name, const char *prefix, mprof_outname *out)
{
    if (mprof_outname_parse(name, out) < 0)
        return -1;
    return out->prefix_len == strlen(prefix) &&
                   memcmp(name, prefix, out->prefix_len) == 0
               ? 0 : -1;
}

/* The kinds a dump writes first, in its order; any other after them. */
static int kind_rank(const char *kind)
{
    for (int k = 0; k < MPROF_NKINDS; k++)
        if (strcmp(kind, mprof_outname_kinds[k]) == 0)
            return k;
    return MPROF_NKINDS;
}

int mprof_outname_cmp(const mprof_outname *a, const mprof_outname *b)
{
    if (a->pid != b->pid)
        return a->pid < b->pid ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    int ra = kind_rank(a->kind), rb = kind_rank(b->kind);
    if (ra != rb)
        return ra - rb;
    int c = strcmp(a->kind, b->kind);
    return c ? c : a->tmp - b->tmp;
}
