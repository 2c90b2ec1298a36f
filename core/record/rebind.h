/*
 * rebind.h: binding the allocation calls of loaded objects to the shim's
 * entry points, by rewriting their GOT slots, where the dynamic linker
 * bound them elsewhere.
 *
 * Two cases in which the program's allocations would bypass mprof:
 *  - another allocator comes first in LD_PRELOAD ("libjemalloc.so.2
 *    libmprof.so"): the program's malloc is jemalloc's, and mprof sees
 *    nothing (a silently empty profile);
 *  - a plugin loaded with RTLD_DEEPBIND binds malloc and free to libc
 *    ahead of the global scope: blocks the program allocated and the
 *    plugin freed would stay "in use" for ever.
 * In both, each object's relocations for the allocation functions
 * (JUMP_SLOT and GLOB_DAT) are pointed at the shim's entries, whose calls
 * go on to the allocator the object was bound to: the same allocator
 * serves the same blocks as before, and mprof sees every call.
 *
 * Idea: heaptrack's runtime attach (heaptrack_inject.cpp), which rewrites
 * the same slots, and plthook. Only x86-64 and AArch64 (RELA relocations);
 * elsewhere nothing is rebound.
 */
#ifndef MPROF_REBIND_H
#define MPROF_REBIND_H

#include <stddef.h>

/* One allocation function: its name and the shim's entry point. */
typedef struct mprof_rebind_fn {
    const char *name;
    void *entry;
} mprof_rebind_fn;

/*
 * Point at the shim's entries every slot, in every loaded object but the
 * allocator itself (the shim's own calls included, as in the usual order), that is bound to one of fns[0, n) in the
 * allocator (the object holding the address `allocator`, the one the
 * shim's entries forward to) or not bound yet (lazy). Slots bound to the
 * shim already, or to anything else, are left alone. For the start of a
 * process in which another allocator comes ahead of the shim in
 * LD_PRELOAD, and after a dlopen that may have bound new objects past the
 * shim (RTLD_DEEPBIND). Walks the loader's list (its lock held): call
 * with the guard set, outside any mprof lock. Does nothing on other
 * architectures than x86-64 and AArch64.
 */
void mprof_rebind(const mprof_rebind_fn *fns, size_t n, const void *allocator);

#endif
