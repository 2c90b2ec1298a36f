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

#include "log.h"
#include "tls.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
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

static int behind;

int mprof_real_behind(void) { return __atomic_load_n(&behind, __ATOMIC_ACQUIRE); }

/* name, as dlsym(RTLD_DEFAULT) finds it, if it lives in the same object
 * as malloc_fn (else NULL: the shim derives it, or does without). */
static void *first_sym(const char *name, const void *malloc_fn)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    Dl_info a, b;
    if (!f || !dladdr(f, &a) || !dladdr(malloc_fn, &b) || a.dli_fbase != b.dli_fbase)
        return NULL;
    return f;
}

/* Whether f, what dlsym found first, is a definition. An executable that
 * takes a function's address without defining it (python3 takes malloc's)
 * carries a "canonical PLT entry" under that name, an undefined symbol
 * with the PLT slot as its value, which dlsym returns and which only jumps
 * to the real definition: the shim, in the usual order. */
static int defines(void *f)
{
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    return dladdr1(f, &di, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_shndx != SHN_UNDEF;
}

void mprof_real_check_order(void)
{
    void *first = dlsym(RTLD_DEFAULT, "malloc");
    if (!first || first == mprof_alloc_entries[0].entry || !defines(first))
        return; /* the usual order: the shim comes first */
    Dl_info who;
    const char *lib = dladdr(first, &who) && who.dli_fname ? who.dli_fname : "another library";
    const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
    struct mprof_real r;
    r.malloc = (void *(*)(size_t))first;
    r.free = first_sym("free", first);
    r.calloc = first_sym("calloc", first);
    r.realloc = first_sym("realloc", first);
    r.posix_memalign = first_sym("posix_memalign", first);
    r.memalign = first_sym("memalign", first);
    r.aligned_alloc = first_sym("aligned_alloc", first);
    r.valloc = first_sym("valloc", first);
    r.malloc_usable_size = first_sym("malloc_usable_size", first);
    if (!r.free || !r.calloc || !r.realloc || !r.posix_memalign) {
        mprof_log("%s serves malloc ahead of libmprof.so and mprof cannot forward to it: "
                  "nothing will be profiled; put libmprof.so first: "
                  "LD_PRELOAD=\"libmprof.so %s\"", base, base);
        return;
    }
    /* At start, before the program's threads: no call is in flight
     * through the table (nothing was bound to the shim). Blocks the
     * allocator served before now are freed through the shim into it. */
    mprof_real = r;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&behind, 1, __ATOMIC_RELEASE);
    mprof_rebind(mprof_alloc_entries, mprof_alloc_nentries, first);
}