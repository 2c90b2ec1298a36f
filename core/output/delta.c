/*
 * delta.c: snapshot differences (see delta.h).  One hash of the earlier
 * snapshot by stack identity, then one pass over the later.
 */
#include "delta.h"

#include "u64map.h"

#include <errno.h>

static uint64_t key_of(const mprof_sample *s) { return (uint64_t)(uintptr_t)s->pcs; }

static int all_zero(const mprof_sample *s, int nvalues)
{
    for (int k = 0; k < nvalues; k++)
        if (s->value[k])
            return 0;
    return 1;
}

/* o = a - b in the values the mode subtracts; 0 if o is to be dropped. */
static int subtract(enum mprof_delta_mode mode, int nvalues, unsigned cumulative,
                    const mprof_sample *a, const mprof_sample *b, mprof_sample *o)
{
    *o = *a;
    for (int k = 0; b && k < nvalues; k++) {
        if (mode == MPROF_DELTA_GODELTAPROF && !(cumulative >> k & 1))
            continue;
        o->value[k] = a->value[k] - b->value[k];
        if (mode == MPROF_DELTA_GODELTAPROF && o->value[k] < 0)
            return 0; /* the record went back: godeltaprof skips it */
    }
    return !all_zero(o, nvalues);
}

int mprof_delta(mprof_scratch *sc, enum mprof_delta_mode mode, int nvalues,
                unsigned cumulative, const mprof_sample *now, size_t n,
                const mprof_sample *before, size_t m, mprof_sample **out, size_t *nout)
{
    struct u64map map = {0};
    size_t cap = 16;
    while (cap < 2 * m)
        cap *= 2;
    mprof_sample *res = mprof_scratch_calloc(sc, n + m + 1, sizeof *res);
    char *matched = mprof_scratch_calloc(sc, m + 1, 1);
    if (!res || !matched || mprof_u64map_resize(sc, &map, cap) < 0)
        return -ENOMEM;
    for (size_t j = 0; j < m; j++)
        if (mprof_u64map_put(sc, &map, key_of(&before[j]), j) < 0)
            return -ENOMEM;
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        const mprof_sample *b = NULL;
        if (mprof_u64map_get(&map, key_of(&now[i]), &j)) {
            b = &before[j];
            matched[j] = 1;
        }
        r += (size_t)subtract(mode, nvalues, cumulative, &now[i], b, &res[r]);
    }
    /* Go's merge keeps what only the earlier snapshot had, negated (a
     * bucket never leaves the table, so this is for completeness). */
    for (size_t j = 0; mode == MPROF_DELTA_GO && j < m; j++) {
        if (matched[j])
            continue;
        mprof_sample z = before[j];
        for (int k = 0; k < nvalues; k++)
            z.value[k] = 0;
        r += (size_t)subtract(mode, nvalues, cumulative, &z, &before[j], &res[r]);
    }
    *out = res;
    *nout = r;
    return 0;
}
