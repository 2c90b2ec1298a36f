/*
 * real.c: finding the next allocator (see real.h).
 *
 * Every function is taken from the object that provides malloc, or derived
 * from that object's posix_memalign: taking memalign from glibc while malloc
 * comes from jemalloc would hand out pointers from one heap to be freed into
 * the other.  Debian's jemalloc has no pvalloc or reallocarray; the shim
 * builds those from memalign and realloc for every allocator alike.
 */
#include "real.h"

#include "tls.h"

#include <dlfcn.h>
#include <string.h>

struct mprof_real mprof_real;

static void *next_sym(const char *name, const void *malloc_fn)
{
    void *f = dlsym(RTLD_NEXT, name);
    Dl_info a, b;
    if (!f || !malloc_fn)
        return f;
    if (!dladdr(f, &a) || !dladdr(malloc_fn, &b) || a.dli_fbase != b.dli_fbase)
        return NULL;
    return f;
}

int mprof_real_resolve(void)
{
    if (__atomic_load_n(&mprof_real.free, __ATOMIC_ACQUIRE))
        return 0;
    if (mprof_tls.guard)
        return -1; /* inside dlsym: the caller uses the pool */
    mprof_guard_enter();
    struct mprof_real r;
    r.malloc = next_sym("malloc", NULL);
    r.free = next_sym("free", r.malloc);
    r.calloc = next_sym("calloc", r.malloc);
    r.realloc = next_sym("realloc", r.malloc);
    r.posix_memalign = next_sym("posix_memalign", r.malloc);
    r.memalign = next_sym("memalign", r.malloc);
    r.aligned_alloc = next_sym("aligned_alloc", r.malloc);
    r.valloc = next_sym("valloc", r.malloc);
    r.malloc_usable_size = next_sym("malloc_usable_size", r.malloc);
    mprof_guard_exit();
    if (!r.malloc || !r.free || !r.calloc || !r.realloc || !r.posix_memalign)
        return -1;
    /* free is the flag that the table is complete: publish it last. */
    void (*real_free)(void *) = r.free;
    r.free = NULL;
    mprof_real = r;
    __atomic_store_n(&mprof_real.free, real_free, __ATOMIC_RELEASE);
    return 0;
}
