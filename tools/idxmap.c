/*
 * idxmap.c: see idxmap.h. Linear probing, load factor at most 1/2, so a
 * lookup ends at an empty slot quickly.
 */
#include "idxmap.h"

#include "tool.h"

#include <stdlib.h>

void idxmap_init(idxmap *m, idxmap_ops ops, void *ctx)
{
    *m = (idxmap){.ops = ops, .ctx = ctx};
}

void idxmap_free(idxmap *m)
{
    free(m->slot);
    m->slot = NULL;
    m->cap = m->n = 0;
}

/* FNV's low bits are weak; probing uses only those. */
static size_t home(uint64_t h, size_t cap)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static void insert_slot(size_t *slot, size_t cap, uint64_t h, size_t idx)
{
    size_t i = home(h, cap);
    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = idx + 1;
}

static void rehash(idxmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    size_t *ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i])
            insert_slot(ns, ncap, m->ops.hash(m->slot[i] - 1, m->ctx),
                        m->slot[i] - 1);
    free(m->slot);
    m->slot = ns;
    m->cap = ncap;
}

size_t idxmap_get(const idxmap *m, uint64_t h, const void *key)
{
    if (!m->cap)
        return SIZE_MAX;
    for (size_t i = home(h, m->cap); m->slot[i]; i = (i + 1) & (m->cap - 1))
        if (m->ops.eq(m->slot[i] - 1, key, m->ctx))
            return m->slot[i] - 1;
    return SIZE_MAX;
}

void idxmap_put(idxmap *m, uint64_t h, size_t idx)
{
    if (2 * (m->n + 1) > m->cap)
        rehash(m);
    insert_slot(m->slot, m->cap, h, idx);
    m->n++;
}

uint64_t idxmap_hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ^ 0xff; /* separates ("ab","c") from ("a","bc") */
}

uint64_t idxmap_hash_u64(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 0x100000001b3ULL;
    return h;
}
