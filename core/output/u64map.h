/*
 * u64map.h: 64-bit key -> array index, open addressing, in scratch memory.
 */
#ifndef MPROF_U64MAP_H
#define MPROF_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

/* splitmix64 finalizer: a good 64-bit hash of a 64-bit key. */
static inline uint64_t mprof_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* u64 -> index (stored +1, so 0 marks an empty slot and any key works). */
struct u64map {
    uint64_t *keys;
    size_t *vals;
    size_t cap, n;
};

size_t *mprof_u64map_slot(const struct u64map *m, uint64_t key, int *found);
int mprof_u64map_get(const struct u64map *m, uint64_t key, size_t *val);
int mprof_u64map_resize(mprof_scratch *sc, struct u64map *m, size_t cap);
int mprof_u64map_put(mprof_scratch *sc, struct u64map *m, uint64_t key, size_t val);

#endif
