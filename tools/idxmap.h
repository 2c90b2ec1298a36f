/*
 * idxmap.h: an open-addressing hash index over an array the caller owns.
 *
 * The map stores element indices only; the caller says how an element
 * hashes and whether it equals a key. Used for the function table of the
 * reports and the child lookup of the stack trie.
 */
#ifndef MPROF_TOOL_IDXMAP_H
#define MPROF_TOOL_IDXMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idxmap_ops {
    uint64_t (*hash)(size_t idx, void *ctx);            /* of a stored element */
    bool (*eq)(size_t idx, const void *key, void *ctx); /* element == key */
} idxmap_ops;

typedef struct idxmap {
    size_t *slot; /* element index + 1; 0 = empty */
    size_t cap, n;
    idxmap_ops ops;
    void *ctx;
} idxmap;

void idxmap_init(idxmap *m, idxmap_ops ops, void *ctx);
void idxmap_free(idxmap *m);

/* The index of the element equal to key (whose hash is h), or SIZE_MAX. */
size_t idxmap_get(const idxmap *m, uint64_t h, const void *key);
/* Record element idx (hash h), known to be absent. */
void idxmap_put(idxmap *m, uint64_t h, size_t idx);

/* FNV-1a over a string, continuing from h (start with IDXMAP_SEED). */
#define IDXMAP_SEED 0xcbf29ce484222325ULL
uint64_t idxmap_hash_str(uint64_t h, const char *s);
uint64_t idxmap_hash_u64(uint64_t h, uint64_t v);

#endif
