/*
 * dlopen.c: dlopen, so that a plugin's allocation calls reach the shim.
 *
 * A library loaded with RTLD_DEEPBIND binds malloc and free to libc ahead
 * of the global scope, past the shim: blocks the program allocated and
 * the plugin freed would stay "in use" in the profile for ever, and the
 * plugin's own allocations would not be seen. Once another allocator came
 * ahead of the shim in LD_PRELOAD (real.c), every new object binds to it
 * the same way. After such a dlopen the new objects' allocation calls are
 * bound to the shim (rebind.h), which forwards them where they went.
 *
 * dlclose: see below.
 *
 * Every other dlopen is a tail call to the real one: the loader takes the
 * caller's return address for its own ($ORIGIN, the caller's RPATH and
 * namespace), and a tail call leaves it the program's. A DEEPBIND dlopen
 * returns here first, so the loader sees libmprof.so as its caller: a
 * plugin found through the calling object's RPATH is then not found
 * (README.md, Limits).
 */
#include "real.h"

#include "dump.h"
#include "profiler.h"
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#define MPROF_EXPORT __attribute__((visibility("default")))

typedef void *(*dlopen_fn)(const char *, int);
static dlopen_fn real_dlopen;

void mprof_dlopen_resolve(void)
{
    if (!__atomic_load_n(&real_dlopen, __ATOMIC_ACQUIRE))
        __atomic_store_n(&real_dlopen, (dlopen_fn)dlsym(RTLD_NEXT, "dlopen"), __ATOMIC_RELEASE);
}

static __attribute__((noinline)) void *dlopen_and_rebind(dlopen_fn real, const char *file, int mode)
{
    void *h = real(file, mode);
    int saved = errno;
    if (h && mprof_real_resolve() == 0) {
        mprof_guard_enter();
        mprof_rebind(mprof_alloc_entries, mprof_alloc_nentries, (const void *)mprof_real.malloc);
        mprof_guard_exit();
    }
    errno = saved;
    return h;
}

MPROF_EXPORT void *dlopen(const char *file, int mode)
{
    dlopen_fn real = __atomic_load_n(&real_dlopen, __ATOMIC_ACQUIRE);
    if (!real) {
        mprof_dlopen_resolve();
        real = __atomic_load_n(&real_dlopen, __ATOMIC_ACQUIRE);
        if (!real)
            return NULL; /* no dlopen below us: as if the file were missing */
    }
    if ((mode & RTLD_DEEPBIND) || mprof_real_behind())
        return dlopen_and_rebind(real, file, mode);
    return real(file, mode);
}

/* dlclose: an object it unloads keeps its name in the stacks recorded
 * through it (dump.h, mprof_dump_unload_begin/end), not that of whatever
 * is loaded at its addresses next. dlclose takes no caller address. */
typedef int (*dlclose_fn)(void *);
static dlclose_fn real_dlclose;

MPROF_EXPORT int dlclose(void *handle)
{
    dlclose_fn real = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);
    if (!real) {
        real = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
        if (!real)
            return -1;
        __atomic_store_n(&real_dlclose, real, __ATOMIC_RELEASE);
    }
    if (!__atomic_load_n(&mprof_ready, __ATOMIC_ACQUIRE) || mprof_guarded())
        return real(handle);
    mprof_unload u;
    int saved = errno; /* the program's, for the real dlclose to leave */
    mprof_guard_enter();
    mprof_dump_unload_begin(&u);
    mprof_guard_exit();
    errno = saved;
    int rc = real(handle);
    saved = errno;
    mprof_guard_enter();
    mprof_dump_unload_end(&u);
    mprof_guard_exit();
    errno = saved;
    return rc;
}
