/*
 * scratch.c: a bump allocator over mmap'd chunks (see scratch.h).
 *
 * Invariant: every byte handed out lies in exactly one chunk on s->chunks,
 * and every chunk is unmapped exactly once, by mprof_scratch_release().
 * Small allocations share 1 MiB chunks; a large one gets a chunk of its own,
 * which lets mprof_scratch_grow() resize it with mremap instead of copying
 * (the encoded profile and inflated files grow that way).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap */
#endif
#include "scratch.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE ((size_t)1 << 20)
#define ALIGN 16
/* Blocks above this get their own mapping, so at most 1/4 of a chunk is
 * wasted when a small chunk is abandoned. */
#define LARGE (CHUNK_SIZE / 4)

struct mprof_scratch_chunk {
    struct mprof_scratch_chunk *next;
    size_t size;  /* of the whole mapping */
    int large;    /* holds one block, starting at data */
    char pad[ALIGN - (sizeof(void *) + sizeof(size_t) + sizeof(int)) % ALIGN];
    char data[];
};

static size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

void mprof_scratch_init(mprof_scratch *s) { memset(s, 0, sizeof *s); }

void mprof_scratch_set_limit(mprof_scratch *s, size_t limit) { s->limit = limit; }

static int over_limit(const mprof_scratch *s, size_t more)
{
    return s->limit && (more > s->limit || s->mapped > s->limit - more);
}

static struct mprof_scratch_chunk *map_chunk(mprof_scratch *s, size_t payload,
                                             int large)
{
    size_t hdr = offsetof(struct mprof_scratch_chunk, data);
    if (payload > SIZE_MAX - hdr - 4096)
        return NULL;
    size_t size = align_up(hdr + payload, 4096);
    if (over_limit(s, size))
        return NULL;
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct mprof_scratch_chunk *c = m;
    c->size = size;
    c->large = large;
    c->next = s->chunks;
    s->chunks = c;
    s->mapped += size;
    return c;
}

void *mprof_scratch_alloc(mprof_scratch *s, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > LARGE) {
        struct mprof_scratch_chunk *c = map_chunk(s, size, 1);
        return c ? c->data : NULL;
    }
    size = align_up(size, ALIGN);
    if ((size_t)(s->end - s->cur) < size) {
        struct mprof_scratch_chunk *c =
            map_chunk(s, CHUNK_SIZE - offsetof(struct mprof_scratch_chunk, data), 0);
        if (!c)
            return NULL;
        s->cur = c->data;
        s->end = (char *)c + c->size;
    }
    void *p = s->cur;
    s->cur += size;
    s->last = p;
    return p;
}

void *mprof_scratch_calloc(mprof_scratch *s, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return mprof_scratch_alloc(s, n * size);
}

/* The link that points at the large chunk holding p, or NULL. */
static struct mprof_scratch_chunk **find_large(mprof_scratch *s, void *p)
{
    for (struct mprof_scratch_chunk **pp = &s->chunks; *pp; pp = &(*pp)->next)
        if ((*pp)->large && (void *)(*pp)->data == p)
            return pp;
    return NULL;
}

static void *grow_large(mprof_scratch *s, struct mprof_scratch_chunk **pp,
                        size_t new_size)
{
    struct mprof_scratch_chunk *c = *pp;
    size_t hdr = offsetof(struct mprof_scratch_chunk, data);
    if (new_size > SIZE_MAX - hdr - 4096)
        return NULL;
    size_t size = align_up(hdr + new_size, 4096);
    if (size <= c->size)
        return c->data;
    if (over_limit(s, size - c->size))
        return NULL;
    void *m = mremap(c, c->size, size, MREMAP_MAYMOVE);
    if (m == MAP_FAILED)
        return NULL;
    c = m;
    s->mapped += size - c->size;
    c->size = size;
    *pp = c;
    return c->data;
}

void *mprof_scratch_grow(mprof_scratch *s, void *p, size_t old_size,
                         size_t new_size)
{
    if (!p)
        return mprof_scratch_alloc(s, new_size);
    if (new_size <= old_size)
        return p;
    if (old_size > LARGE) {
        struct mprof_scratch_chunk **pp = find_large(s, p);
        if (pp)
            return grow_large(s, pp, new_size);
    }
    if (p == s->last && new_size <= LARGE &&
        (size_t)(s->end - (char *)p) >= align_up(new_size, ALIGN)) {
        s->cur = (char *)p + align_up(new_size, ALIGN);
        return p;
    }
    void *q = mprof_scratch_alloc(s, new_size);
    if (q)
        memcpy(q, p, old_size);
    return q;
}

char *mprof_scratch_strndup(mprof_scratch *s, const char *str, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = mprof_scratch_alloc(s, len + 1);
    if (p && len)
        memcpy(p, str, len);
    return p;
}

void mprof_scratch_release(mprof_scratch *s)
{
    struct mprof_scratch_chunk *c = s->chunks;
    while (c) {
        struct mprof_scratch_chunk *next = c->next;
        munmap(c, c->size);
        c = next;
    }
    size_t limit = s->limit;
    mprof_scratch_init(s);
    s->limit = limit;
}
