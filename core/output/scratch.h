/*
 * scratch.h: a bump allocator over mmap'd chunks for the output side.
 *
 * A dump (or a decode) allocates everything it needs from one scratch and
 * gives it all back at once with mprof_scratch_release(), so it never calls
 * the application's malloc and never frees piecemeal. Memory comes back
 * zeroed (fresh anonymous pages are never reused), aligned to 16 bytes.
 * A scratch is used by one thread at a time.
 */
#ifndef MPROF_SCRATCH_H
#define MPROF_SCRATCH_H

#include <stddef.h>

struct mprof_scratch_chunk;

typedef struct mprof_scratch {
    struct mprof_scratch_chunk *chunks; /* every mapping, newest first */
    char *cur, *end;  /* free part of the newest small chunk */
    char *last;       /* most recent small allocation (grows in place) */
    size_t mapped;    /* bytes mapped now */
    size_t limit;     /* refuse to map beyond this; 0 = no limit */
} mprof_scratch;

/* An all-zero mprof_scratch is also a valid empty scratch. */
void mprof_scratch_init(mprof_scratch *s);

/* Refuse allocations once `limit` bytes are mapped (0 = unlimited). */
void mprof_scratch_set_limit(mprof_scratch *s, size_t limit);

/* Zeroed memory, or NULL when mmap fails or the limit is reached. */
void *mprof_scratch_alloc(mprof_scratch *s, size_t size);

/* n * size bytes with overflow checking. */
void *mprof_scratch_calloc(mprof_scratch *s, size_t n, size_t size);

/*
 * Grow the block `p` of `old_size` bytes (from this scratch, or NULL) to
 * `new_size`, in place when possible (the latest allocation, or a large
 * block via mremap). The contents up to old_size are kept. NULL on failure,
 * and then `p` is still valid.
 */
void *mprof_scratch_grow(mprof_scratch *s, void *p, size_t old_size,
                         size_t new_size);

/* A NUL-terminated copy of the len bytes at str. */
char *mprof_scratch_strndup(mprof_scratch *s, const char *str, size_t len);

/* Unmap everything; the scratch is empty and reusable afterwards. */
void mprof_scratch_release(mprof_scratch *s);

#endif
