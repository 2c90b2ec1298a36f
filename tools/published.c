/*
 * published.c: see published.h.  A maps line ends with the mapping's
 * path; for a memfd that is "/memfd:<name> (deleted)".  Nothing in a name
 * is trusted beyond its syntax: a field that does not parse makes the
 * mapping count as absent.
 */
#include "published.h"

#include "outname.h"
#include "tool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECES 64

static const char memfd[] = "/memfd:";
static const char deleted[] = " (deleted)";

/* The mapping name of one maps line [l, end), or NULL; *len its length. */
static const char *memfd_name(const char *l, const char *end, size_t *len)
{
    const char *m = memmem(l, (size_t)(end - l), memfd, sizeof memfd - 1);
    if (!m)
        return NULL;
    m += sizeof memfd - 1;
    size_t n = (size_t)(end - m), dl = sizeof deleted - 1;
    if (n >= dl && memcmp(m + n - dl, deleted, dl) == 0)
        n -= dl;
    *len = n;
    return m;
}

/* "<key><decimal>" at *s, then *s past it. */
static bool field(const char **s, const char *key, unsigned long max, unsigned long *v)
{
    size_t kl = strlen(key);
    if (strncmp(*s, key, kl) != 0 || (*s)[kl] < '0' || (*s)[kl] > '9')
        return false;
    char *end;
    *v = strtoul(*s + kl, &end, 10);
    *s = end;
    return *v <= max;
}

static bool files_field(const char **s, unsigned *mask)
{
    const char *const *kinds = mprof_outname_kinds; /* bit k: kinds[k] */
    if (strncmp(*s, ":files=", 7) != 0)
        return false;
    *s += 7;
    *mask = 0;
    if (**s == '-') {
        (*s)++;
        return true;
    }
    for (int k = 0; k < MPROF_NKINDS; k++) {
        size_t kl = strlen(kinds[k]);
        if (strncmp(*s, kinds[k], kl) == 0 && ((*s)[kl] == ',' || (*s)[kl] == ':')) {
            *mask |= 1U << k;
            *s += kl + ((*s)[kl] == ',');
        }
    }
    return *mask != 0 && (*s)[-1] != ',';
}

typedef struct primary {
    published p;
    unsigned long more;
    const char *head;
    size_t head_len;
} primary;

/* "mprof:1:pid=...:out=HEAD" (name of length n, NUL-free) into *pr. */
static bool parse_primary(const char *name, size_t n, primary *pr)
{
    char buf[256];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, name, n);
    buf[n] = '\0';
    const char *s = buf + 7; /* "mprof:1" */
    unsigned long pid, sig, own, rec, seq;
    if (!field(&s, ":pid=", INT32_MAX, &pid) || !field(&s, ":sig=", 127, &sig) ||
        !field(&s, ":own=", 1, &own) || !field(&s, ":rec=", 1, &rec) ||
        !field(&s, ":seq=", UINT32_MAX, &seq) || !files_field(&s, &pr->p.files))
        return false;
    pr->more = 0;
    if (strncmp(s, ":more=", 6) == 0 && !field(&s, ":more=", MAX_PIECES, &pr->more))
        return false;
    if (strncmp(s, ":out=", 5) != 0)
        return false;
    pr->p.pid = (long)pid;
    pr->p.sig = (int)sig;
    pr->p.own = own;
    pr->p.rec = rec;
    pr->p.seq = seq;
    pr->head = name + (s + 5 - buf);
    pr->head_len = n - (size_t)(s + 5 - buf);
    return true;
}

/* "mprof:1c:<i>:PIECE" into pieces[i]. */
static void note_piece(const char *name, size_t n, const char **piece, size_t *plen)
{
    char num[8];
    size_t i = 9; /* "mprof:1c:" */
    size_t d = 0;
    while (i < n && name[i] >= '0' && name[i] <= '9' && d < sizeof num - 1)
        num[d++] = name[i++];
    num[d] = '\0';
    long k = d ? strtol(num, NULL, 10) : 0;
    if (i < n && name[i] == ':' && k >= 1 && k <= MAX_PIECES) {
        piece[k] = name + i + 1;
        plen[k] = n - i - 1;
    }
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The percent-decoding of s, in place. */
static void decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && r[1] && r[2] && (hi = hex(r[1])) >= 0 && (lo = hex(r[2])) >= 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* The better of two primaries for `pid`: its own over an inherited one,
 * then the later dump. */
static bool better(const primary *a, const primary *b, long pid)
{
    bool a_own = a->p.pid == pid, b_own = b->p.pid == pid;
    if (a_own != b_own)
        return a_own;
    return a->p.seq > b->p.seq;
}

static void scan(const char *maps, long pid, primary *best, bool *found,
                 const char **piece, size_t *plen)
{
    for (const char *l = maps; l && *l;) {
        const char *end = strchr(l, '\n');
        if (!end)
            end = l + strlen(l);
        size_t n;
        const char *name = memfd_name(l, end, &n);
        primary pr;
        if (name && n > 9 && memcmp(name, "mprof:1c:", 9) == 0)
            note_piece(name, n, piece, plen);
        else if (name && n > 8 && memcmp(name, "mprof:1:", 8) == 0 &&
                 parse_primary(name, n, &pr) && (!*found || better(&pr, best, pid))) {
            *best = pr;
            *found = true;
        }
        l = *end ? end + 1 : end;
    }
}

int published_parse(const char *maps, long pid, published *p)
{
    primary best = {.head = NULL};
    bool found = false;
    const char *piece[MAX_PIECES + 1] = {0};
    size_t plen[MAX_PIECES + 1] = {0};
    memset(p, 0, sizeof *p);
    scan(maps, pid, &best, &found, piece, plen);
    if (!found)
        return -1;
    for (unsigned long k = 1; k <= best.more; k++)
        if (!piece[k])
            return -1;
    *p = best.p;
    /* Pieces may split an escape: join first, then decode. */
    char *enc = xasprintf("%.*s", (int)best.head_len, best.head);
    for (unsigned long k = 1; k <= best.more; k++) {
        char *joined = xasprintf("%s%.*s", enc, (int)plen[k], piece[k]);
        free(enc);
        enc = joined;
    }
    decode(enc);
    p->out = enc;
    if (p->pid != pid) { /* a parent's, inherited through fork */
        p->rec = false;
        p->seq = 0;
        p->files = 0;
    }
    return 0;
}

void published_free(published *p)
{
    free(p->out);
    p->out = NULL;
}
