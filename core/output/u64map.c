/*
 * u64map.c: an open-addressing map from 64-bit keys to array indices, in
 * scratch memory.  Shared by the profile decoder (id -> element) and the
 * builder (address -> location, function key -> function).
 */
#include "u64map.h"

size_t *mprof_u64map_slot(const struct u64map *m, uint64_t key, int *found)
{
    size_t mask = m->cap - 1;
    for (size_t i = mprof_mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->vals[i] == 0 || m->keys[i] == key) {
            *found = m->vals[i] != 0;
            return &m->vals[i];
        }
    }
}

int mprof_u64map_get(const struct u64map *m, uint64_t key, size_t *val)
{
    if (m->cap == 0)
        return 0;
    int found;
    size_t *slot = mprof_u64map_slot(m, key, &found);
    if (found)
        *val = *slot - 1;
    return found;
}

int mprof_u64map_resize(mprof_scratch *sc, struct u64map *m, size_t cap)
{
    struct u64map nm = {mprof_scratch_calloc(sc, cap, sizeof(uint64_t)),
                        mprof_scratch_calloc(sc, cap, sizeof(size_t)), cap, 0};
    if (!nm.keys || !nm.vals)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] == 0)
            continue;
        int found;
        size_t *slot = mprof_u64map_slot(&nm, m->keys[i], &found);
        *slot = m->vals[i];
        nm.keys[slot - nm.vals] = m->keys[i];
        nm.n++;
    }
    *m = nm; /* the old arrays stay in the scratch until it is released */
    return 0;
}

/* Insert key -> val unless present; 1 inserted, 0 present, -1 no memory. */
int mprof_u64map_put(mprof_scratch *sc, struct u64map *m, uint64_t key,
                      size_t val)
{
    if (2 * (m->n + 1) > m->cap &&
        mprof_u64map_resize(sc, m, m->cap ? 2 * m->cap : 64) < 0)
        return -1;
    int found;
    size_t *slot = mprof_u64map_slot(m, key, &found);
    if (found)
        return 0;
    *slot = val + 1;
    m->keys[slot - m->vals] = key;
    m->n++;
    return 1;
}
