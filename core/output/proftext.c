/*
 * proftext.c: Go's debug=1 text profiles (see proftext.h).  The stacks are
 * symbolized by building the pprof message first (profile.c), whose
 * sample i is the input's sample i.
 */
#include "proftext.h"

#include "pprof.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More labels than a threads sample has (dump.c: at most 6 but tids). */
#define MPROF_TEXT_MAX_LABELS 16

struct text {
    mprof_scratch *sc;
    char *buf;
    size_t len, cap;
    int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->err; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(t->buf ? t->buf + t->len : NULL, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (w < 0) {
            t->err = -ENOMEM;
            return;
        }
        if (t->len + (size_t)w < t->cap) {
            t->len += (size_t)w;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)w)
            cap *= 2;
        char *nb = mprof_scratch_grow(t->sc, t->buf, t->cap, cap);
        if (!nb)
            t->err = -ENOMEM;
        t->buf = nb;
        t->cap = cap;
    }
}

/* The sort key of sample i: in-use bytes (heap) or delay, largest first. */
struct order {
    const mprof_sample *s;
    int key;
};
static int by_key(const void *a, const void *b, void *ctx)
{
    const struct order *o = ctx;
    int64_t x = o->s[*(const size_t *)a].value[o->key];
    int64_t y = o->s[*(const size_t *)b].value[o->key];
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The profile built from s, and the samples' indexes ordered by value
 * `key`, biggest first (in sc); NULL when sc is out of memory. */
static size_t *built_and_ordered(mprof_scratch *sc, const mprof_profile_desc *d,
                                 const mprof_sample *s, size_t n, struct mprof_symbolizer *sym,
                                 int key, mprof_pprof_profile *p)
{
    size_t *idx = mprof_scratch_calloc(sc, n + 1, sizeof *idx);
    if (!idx || mprof_profile_build(sc, d, s, n, sym, p) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    struct order o = {s, key};
    qsort_r(idx, n, sizeof *idx, by_key, &o);
    return idx;
}

/* " @ 0x... 0x...", the sample's return addresses, and the line's end. */
static void put_pcs(struct text *t, const mprof_sample *x)
{
    put(t, " @");
    for (uint32_t j = 0; j < x->npcs; j++)
        put(t, " %#llx", (unsigned long long)x->pcs[j]);
    put(t, "\n");
}

/* Each frame of sample ps, innermost first, inlined calls expanded, to
 * fn: its code address, function name ("?" if unknown), file ("" if
 * unknown) and line. A location without lines is one frame whose name is
 * NULL. */
typedef void frame_fn(struct text *t, uint64_t addr, const char *name, const char *file,
                      int64_t line);

static void each_frame(struct text *t, const mprof_pprof_profile *p,
                       const mprof_pprof_sample *ps, frame_fn *fn)
{
    for (size_t j = 0; j < ps->nlocation_id; j++) {
        const mprof_pprof_location *loc = mprof_pprof_location_by_id(p, ps->location_id[j]);
        if (!loc)
            continue;
        for (size_t k = 0; k < loc->nline; k++) {
            const mprof_pprof_function *f = mprof_pprof_function_by_id(p, loc->line[k].function_id);
            fn(t, loc->address, f ? mprof_pprof_string(p, f->name) : "?",
               f ? mprof_pprof_string(p, f->filename) : "", loc->line[k].line);
        }
        if (!loc->nline)
            fn(t, loc->address, NULL, "", 0);
    }
}

/* debug=1's "#\taddress\tfunction\tfile:line" lines. */
static void frame_line(struct text *t, uint64_t addr, const char *name, const char *file,
                       int64_t line)
{
    if (!name)
        return;
    put(t, "#\t%#llx\t%s", (unsigned long long)addr, name);
    if (*file)
        put(t, "\t%s:%lld", file, (long long)line);
    put(t, "\n");
}

static void put_frames(struct text *t, const mprof_pprof_profile *p, const mprof_pprof_sample *ps)
{
    each_frame(t, p, ps, frame_line);
}

static void put_header(struct text *t, enum mprof_text_kind kind,
                       const mprof_profile_desc *d, const mprof_sample *s, size_t n)
{
    if (kind != MPROF_TEXT_HEAP) {
        put(t, "--- contention:\ncycles/second=1000000000\n");
        if (kind == MPROF_TEXT_MUTEX)
            put(t, "sampling period=1\n");
        return;
    }
    int64_t tot[4] = {0};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            tot[k] += s[i].value[k];
    put(t, "heap profile: %lld: %lld [%lld: %lld] @ heap/%lld\n", (long long)tot[2],
        (long long)tot[3], (long long)tot[0], (long long)tot[1], 2 * (long long)d->period);
}

int mprof_profile_text(mprof_scratch *sc, enum mprof_text_kind kind,
                       const mprof_profile_desc *d, const mprof_sample *s, size_t n,
                       struct mprof_symbolizer *sym, char **out, size_t *len)
{
    struct text t = {.sc = sc};
    mprof_pprof_profile p;
    size_t *idx = built_and_ordered(sc, d, s, n, sym, kind == MPROF_TEXT_HEAP ? 3 : 1, &p);
    if (!idx)
        return -ENOMEM;
    put_header(&t, kind, d, s, n);
    for (size_t r = 0; r < n; r++) {
        const mprof_sample *x = &s[idx[r]];
        if (kind == MPROF_TEXT_HEAP)
            put(&t, "%lld: %lld [%lld: %lld]", (long long)x->value[2],
                (long long)x->value[3], (long long)x->value[0], (long long)x->value[1]);
        else
            put(&t, "%lld %lld", (long long)x->value[1], (long long)x->value[0]);
        put_pcs(&t, x);
        if (idx[r] < p.nsample)
            put_frames(&t, &p, &p.sample[idx[r]]);
    }
    if (t.err || !t.buf)
        return -ENOMEM;
    *out = t.buf;
    *len = t.len;
    return 0;
}

/* Go's %q of a label's key or value, for the plain strings labels are:
 * quotes, backslashes and control bytes escaped. */
static void put_quoted(struct text *t, const char *v)
{
    put(t, "\"");
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            put(t, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            put(t, "\\x%02x", c);
        else
            put(t, "%c", c);
    }
    put(t, "\"");
}

static int by_label_key(const void *a, const void *b)
{
    return strcmp(((const mprof_label *)a)->key, ((const mprof_label *)b)->key);
}

/* Go's labelMap.String: {"k":"v", ...}, sorted (by key: keys are unique). */
static void put_labels(struct text *t, const mprof_sample *x)
{
    mprof_label l[MPROF_TEXT_MAX_LABELS];
    uint32_t n = 0;
    for (uint32_t k = 0; k < x->nlabels && n < MPROF_TEXT_MAX_LABELS; k++)
        if (x->labels[k].str)
            l[n++] = x->labels[k];
    if (!n)
        return;
    qsort(l, n, sizeof *l, by_label_key);
    put(t, "# labels: {");
    for (uint32_t k = 0; k < n; k++) {
        put(t, k ? ", " : "");
        put_quoted(t, l[k].key);
        put(t, ":");
        put_quoted(t, l[k].str);
    }
    put(t, "}\n");
}

int mprof_profile_text_count(mprof_scratch *sc, const char *name,
                             const mprof_profile_desc *d, const mprof_sample *s, size_t n,
                             struct mprof_symbolizer *sym, char **out, size_t *len)
{
    struct text t = {.sc = sc};
    mprof_pprof_profile p;
    size_t *idx = built_and_ordered(sc, d, s, n, sym, 0, &p);
    if (!idx)
        return -ENOMEM;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += s[i].value[0];
    put(&t, "%s profile: total %lld\n", name, (long long)total);
    for (size_t r = 0; r < n; r++) {
        const mprof_sample *x = &s[idx[r]];
        put(&t, "%lld", (long long)x->value[0]);
        put_pcs(&t, x);
        put_labels(&t, x);
        if (idx[r] < p.nsample)
            put_frames(&t, &p, &p.sample[idx[r]]);
        put(&t, "\n");
    }
    if (t.err || !t.buf)
        return -ENOMEM;
    *out = t.buf;
    *len = t.len;
    return 0;
}

/* One thread's frame as a panic prints a goroutine's: the function, then
 * its place, indented. */
static void frame_traceback(struct text *t, uint64_t addr, const char *name, const char *file,
                            int64_t line)
{
    put(t, "%s(...)\n", name ? name : "?");
    if (*file)
        put(t, "\t%s:%lld\n", file, (long long)line);
    else if (addr) /* a wrapped call's frame has no code address */
        put(t, "\t%#llx\n", (unsigned long long)addr);
}

static void put_traceback(struct text *t, const mprof_pprof_profile *p,
                          const mprof_pprof_sample *ps)
{
    each_frame(t, p, ps, frame_traceback);
}

int mprof_profile_text_each(mprof_scratch *sc, const mprof_profile_desc *d,
                            const mprof_sample *s, size_t n, const char *const *heads,
                            struct mprof_symbolizer *sym, char **out, size_t *len)
{
    struct text t = {.sc = sc};
    mprof_pprof_profile p;
    if (mprof_profile_build(sc, d, s, n, sym, &p) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        put(&t, "%s\n", heads[i] ? heads[i] : "thread ?:");
        if (i < p.nsample)
            put_traceback(&t, &p, &p.sample[i]);
        put(&t, "\n");
    }
    if (t.err || !t.buf)
        return -ENOMEM;
    *out = t.buf;
    *len = t.len;
    return 0;
}

char *mprof_text_wait(char *buf, size_t size, const char *wait, const char *lock,
                      const char *lock_addr, int owner)
{
    buf[0] = 0;
    if (!wait[0])
        return buf;
    int w = snprintf(buf, size, " in %s%s%s%s%s%s", wait, lock[0] ? " on " : "", lock,
                     lock_addr[0] && strcmp(lock, lock_addr) != 0 ? " (" : "",
                     lock_addr[0] && strcmp(lock, lock_addr) != 0 ? lock_addr : "",
                     lock_addr[0] && strcmp(lock, lock_addr) != 0 ? ")" : "");
    if (owner && w >= 0 && (size_t)w < size)
        snprintf(buf + w, size - (size_t)w, ", held by tid %d", owner);
    return buf;
}
