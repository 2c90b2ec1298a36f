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

static void put_frames(struct text *t, const mprof_pprof_profile *p, const mprof_pprof_sample *ps)
{
    for (size_t j = 0; j < ps->nlocation_id; j++) {
        const mprof_pprof_location *loc = mprof_pprof_location_by_id(p, ps->location_id[j]);
        for (size_t k = 0; loc && k < loc->nline; k++) {
            const mprof_pprof_function *fn =
                mprof_pprof_function_by_id(p, loc->line[k].function_id);
            const char *file = fn ? mprof_pprof_string(p, fn->filename) : "";
            put(t, "#\t%#llx\t%s", (unsigned long long)loc->address,
                fn ? mprof_pprof_string(p, fn->name) : "?");
            if (*file)
                put(t, "\t%s:%lld", file, (long long)loc->line[k].line);
            put(t, "\n");
        }
    }
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
    size_t *idx = mprof_scratch_calloc(sc, n + 1, sizeof *idx);
    if (!idx || mprof_profile_build(sc, d, s, n, sym, &p) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    struct order o = {s, kind == MPROF_TEXT_HEAP ? 3 : 1};
    qsort_r(idx, n, sizeof *idx, by_key, &o);
    put_header(&t, kind, d, s, n);
    for (size_t r = 0; r < n; r++) {
        const mprof_sample *x = &s[idx[r]];
        if (kind == MPROF_TEXT_HEAP)
            put(&t, "%lld: %lld [%lld: %lld] @", (long long)x->value[2],
                (long long)x->value[3], (long long)x->value[0], (long long)x->value[1]);
        else
            put(&t, "%lld %lld @", (long long)x->value[1], (long long)x->value[0]);
        for (uint32_t j = 0; j < x->npcs; j++)
            put(&t, " %#llx", (unsigned long long)x->pcs[j]);
        put(&t, "\n");
        if (idx[r] < p.nsample)
            put_frames(&t, &p, &p.sample[idx[r]]);
    }
    if (t.err || !t.buf)
        return -ENOMEM;
    *out = t.buf;
    *len = t.len;
    return 0;
}
