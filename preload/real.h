/*
 * real.h: the allocator underneath us, found with dlsym(RTLD_NEXT), so
 * LD_PRELOAD="libmprof.so libjemalloc.so.2" profiles a program on jemalloc.
 *
 * Until the lookup is done (dlsym itself allocates) memory comes from
 * mprof's own heap (core/record/ownheap.h), which free, realloc and
 * malloc_usable_size recognise by address.
 */
#ifndef MPROF_REAL_H
#define MPROF_REAL_H

#include <stddef.h>
#include <stdint.h>

#include "rebind.h"

#pragma GCC visibility push(hidden) /* direct, not GOT, access from the shim */

struct mprof_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*memalign)(size_t, size_t);         /* NULL: derive */
    void *(*aligned_alloc)(size_t, size_t);    /* NULL: derive */
    void *(*valloc)(size_t);                   /* NULL: derive */
    size_t (*malloc_usable_size)(void *);
};

extern struct mprof_real mprof_real;

/* Resolve the table if not yet done; 0 if usable. */
int mprof_real_resolve(void);

/* alloc.c: the shim's allocation entry points, by name (rebind.h). */
extern const mprof_rebind_fn mprof_alloc_entries[];
extern const size_t mprof_alloc_nentries;

/*
 * At start: if another object serves malloc ahead of the shim (it came
 * first in LD_PRELOAD), forward every call to it, and bind the loaded
 * objects' allocation calls to the shim (rebind.h); if that cannot be,
 * one mprof: line says so and which order works. Call with the guard set.
 */
void mprof_real_check_order(void);

/* Whether another allocator came ahead of the shim (then every dlopen
 * binds its objects to the shim too). */
int mprof_real_behind(void);

/* dlopen.c: look the real dlopen up now, at start. */
void mprof_dlopen_resolve(void);

/* init.c: start the profiler now if it has not started and libc is
 * initialised (from an allocation's slow path: the libraries a program
 * links allocate in their constructors, before ours runs). */
void mprof_start_early(void);

/* signal.c: take the dump signal if the program left it alone; 0 = none. */
void mprof_signal_install(int sig);

/* pthread.c: look the real lock calls up now, at start, and not in each
 * fork child of a program that first locks there (libgcc's exit code
 * does, in every child). */
void mprof_pthread_resolve(void);

/* threads.c: count the main thread (at start, on the main thread); a fork
 * child has one thread of the program's. */
void mprof_threads_init(void);
void mprof_threads_after_fork(void);

#pragma GCC visibility pop

#endif
