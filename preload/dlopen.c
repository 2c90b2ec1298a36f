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

#include "profiler.h"
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

typedef void *(*dlopen_fn)(const char *, int);

static __attribute__((noinline)) void *dlopen_and_rebind(dlopen_fn real, const char *file, int mode)
{
    void *h = real(file, mode);
    int saved = errno;
    if (h && mprof_real_resolve() == 0)
        mprof_profiler_rebind(mprof_alloc_entries, mprof_alloc_nentries,
                              (const void *)mprof_real.malloc);
    errno = saved;
    return h;
}

MPROF_EXPORT void *dlopen(const char *file, int mode)
{
    mprof_real_calls(); /* a stand-in's NULL if libc had none: as if the file were missing */
    if ((mode & RTLD_DEEPBIND) || mprof_real_behind())
        return dlopen_and_rebind(mprof_real.dlopen, file, mode);
    return mprof_real.dlopen(file, mode);
}

/* dlclose: an object it unloads keeps its name in the stacks recorded
 * through it (profiler.h, mprof_profiler_dlclose), not that of whatever
 * is loaded at its addresses next. dlclose takes no caller address. */
MPROF_EXPORT int dlclose(void *handle)
{
    mprof_real_calls();
    if (!mprof_shim_started() || mprof_guarded())
        return mprof_real.dlclose(handle);
    return mprof_profiler_dlclose(mprof_real.dlclose, handle);
}
