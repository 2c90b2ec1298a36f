/*
 * real.c: the one table of the functions the shim wraps (see real.h), and
 * its lookups.
 *
 * The allocator: every function is taken from the object that provides
 * malloc, or derived from that object's posix_memalign: taking memalign
 * from glibc while malloc comes from jemalloc would hand out pointers from
 * one heap to be freed into the other.  Debian's jemalloc has no pvalloc
 * or reallocarray; the shim builds those from memalign and realloc for
 * every allocator alike.
 *
 * The other calls: glibc keeps the pre-2.3.2 condition variable ABI under
 * the old version, and a plain dlsym could hand us either, so those are
 * asked for by version first.  A call libc lacks (an older glibc has no
 * pthread_mutex_clocklock or sem_clockwait, but a program built against a
 * newer one binds to our export of it) gets a stand-in from `missing`,
 * typed as the slot is, so the compiler checks each against its call.
 */
#include "real.h"

#include "log.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>

struct mprof_real mprof_real;

enum group {
    ALLOC, /* mprof_real_resolve: lazily, from the first allocation */
    CALLS, /* mprof_real_resolve_calls: at start, or the first wrapper */
};

enum need {
    OPTIONAL, /* NULL is a state the allocator wrappers handle (derive) */
    REQUIRED, /* the allocator cannot be used without it */
    STAND_IN, /* a call: its stand-in from `missing` if not found */
};

static const struct lookup {
    const char *name;
    const char *version; /* asked for first with dlvsym, or NULL */
    unsigned short slot; /* offset of its pointer in struct mprof_real */
    unsigned char group, need;
} table[] = {
#define ENTRY(field, name, version, group, need) \
    {name, version, offsetof(struct mprof_real, field), group, need}
#define ALLOCATOR(field, need) ENTRY(field, #field, NULL, ALLOC, need)
#define CALL(field) ENTRY(field, #field, NULL, CALLS, STAND_IN)
#define COND(field) ENTRY(field, #field, "GLIBC_2.3.2", CALLS, STAND_IN)
    /* malloc first: the others must come from its object. */
    ALLOCATOR(malloc, REQUIRED),
    ALLOCATOR(calloc, REQUIRED),
    ALLOCATOR(realloc, REQUIRED),
    ALLOCATOR(posix_memalign, REQUIRED),
    ALLOCATOR(memalign, OPTIONAL),
    ALLOCATOR(aligned_alloc, OPTIONAL),
    ALLOCATOR(valloc, OPTIONAL),
    ALLOCATOR(malloc_usable_size, OPTIONAL),
    ALLOCATOR(free, REQUIRED), /* the flag (real.h): published last */

    CALL(pthread_mutex_trylock),
    CALL(pthread_mutex_timedlock),
    CALL(pthread_mutex_clocklock),
    CALL(pthread_mutex_unlock),
    CALL(pthread_rwlock_rdlock),
    CALL(pthread_rwlock_wrlock),
    CALL(pthread_rwlock_tryrdlock),
    CALL(pthread_rwlock_trywrlock),
    CALL(pthread_rwlock_timedrdlock),
    CALL(pthread_rwlock_timedwrlock),
    CALL(pthread_rwlock_clockrdlock),
    CALL(pthread_rwlock_clockwrlock),
    CALL(pthread_rwlock_unlock),
    COND(pthread_cond_wait),
    COND(pthread_cond_timedwait),
    CALL(pthread_cond_clockwait),
    CALL(sem_wait),
    CALL(sem_trywait),
    CALL(sem_timedwait),
    CALL(sem_clockwait),
    CALL(pthread_join),
    CALL(pthread_timedjoin_np),
    CALL(pthread_barrier_wait),
    CALL(sigaction),
    CALL(signal),
    CALL(bsd_signal),
    CALL(ssignal),
    CALL(sysv_signal),
    ENTRY(sysv_signal_internal, "__sysv_signal", NULL, CALLS, STAND_IN),
    CALL(sigset),
    CALL(sigignore),
    CALL(siginterrupt),
    CALL(pthread_create),
    CALL(unshare),
    CALL(setns),
    CALL(setuid),
    CALL(setgid),
    CALL(seteuid),
    CALL(setegid),
    CALL(setreuid),
    CALL(setregid),
    CALL(setresuid),
    CALL(setresgid),
    CALL(setgroups),
    CALL(initgroups),
    CALL(dlopen),
    CALL(dlclose),
    CALL(pthread_mutex_lock), /* the flag (real.h): resolve_calls stores it last */
#undef COND
#undef CALL
#undef ALLOCATOR
#undef ENTRY
};

#define TABLE_SIZE (sizeof table / sizeof table[0])
/* A slot without its lookup would stay NULL: one entry per slot. */
_Static_assert(TABLE_SIZE == sizeof(struct mprof_real) / sizeof(void *),
               "every slot of struct mprof_real has its entry in table[]");

/* Where entry e's pointer lives in mprof_real.  The slots are function
 * pointers, stored as the void * dlsym returns (POSIX). */
static void **slot_of(const struct lookup *e)
{
    return (void **)((char *)&mprof_real + e->slot);
}

/* ---- stand-ins for calls libc does not have ----
 * Each fails as its call fails when it cannot act: an error number for
 * the pthread calls, -1 (or SIG_ERR) with errno for the others. */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
static int no_mutex(pthread_mutex_t *m) { return ENOSYS; }
static int no_mutex_timed(pthread_mutex_t *m, mprof_abstime t) { return ENOSYS; }
static int no_mutex_clock(pthread_mutex_t *m, clockid_t c, mprof_abstime t) { return ENOSYS; }
static int no_rwlock(pthread_rwlock_t *l) { return ENOSYS; }
static int no_rwlock_timed(pthread_rwlock_t *l, mprof_abstime t) { return ENOSYS; }
static int no_rwlock_clock(pthread_rwlock_t *l, clockid_t c, mprof_abstime t) { return ENOSYS; }
static int no_cond(pthread_cond_t *c, pthread_mutex_t *m) { return ENOSYS; }
static int no_cond_timed(pthread_cond_t *c, pthread_mutex_t *m, mprof_abstime t)
{
    return ENOSYS;
}
static int no_cond_clock(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k, mprof_abstime t)
{
    return ENOSYS;
}
static int no_join(pthread_t th, void **ret) { return ENOSYS; }
static int no_join_timed(pthread_t th, void **ret, mprof_abstime t) { return ENOSYS; }
static int no_barrier(pthread_barrier_t *b) { return ENOSYS; }
static int no_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    return ENOSYS;
}

static int fail(void)
{
    errno = ENOSYS;
    return -1;
}
static int no_sem(sem_t *s) { return fail(); }
static int no_sem_timed(sem_t *s, mprof_abstime t) { return fail(); }
static int no_sem_clock(sem_t *s, clockid_t c, mprof_abstime t) { return fail(); }
static int no_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return fail();
}
static __sighandler_t no_signal(int sig, __sighandler_t h)
{
    errno = ENOSYS;
    return SIG_ERR;
}
static int no_int(int a) { return fail(); }
static int no_int2(int a, int b) { return fail(); }
/* uid_t and gid_t are the same type in glibc: one stand-in each shape. */
static int no_id(uid_t a) { return fail(); }
static int no_id2(uid_t a, uid_t b) { return fail(); }
static int no_id3(uid_t a, uid_t b, uid_t c) { return fail(); }
static int no_setgroups(size_t n, const gid_t *list) { return fail(); }
static int no_initgroups(const char *user, gid_t g) { return fail(); }
static void *no_dlopen(const char *file, int mode) { return NULL; } /* as if missing */
static int no_dlclose(void *handle) { return -1; }
#pragma GCC diagnostic pop

static const struct mprof_real missing = {
    .pthread_mutex_lock = no_mutex,
    .pthread_mutex_trylock = no_mutex,
    .pthread_mutex_timedlock = no_mutex_timed,
    .pthread_mutex_clocklock = no_mutex_clock,
    .pthread_mutex_unlock = no_mutex,
    .pthread_rwlock_rdlock = no_rwlock,
    .pthread_rwlock_wrlock = no_rwlock,
    .pthread_rwlock_tryrdlock = no_rwlock,
    .pthread_rwlock_trywrlock = no_rwlock,
    .pthread_rwlock_timedrdlock = no_rwlock_timed,
    .pthread_rwlock_timedwrlock = no_rwlock_timed,
    .pthread_rwlock_clockrdlock = no_rwlock_clock,
    .pthread_rwlock_clockwrlock = no_rwlock_clock,
    .pthread_rwlock_unlock = no_rwlock,
    .pthread_cond_wait = no_cond,
    .pthread_cond_timedwait = no_cond_timed,
    .pthread_cond_clockwait = no_cond_clock,
    .sem_wait = no_sem,
    .sem_trywait = no_sem,
    .sem_timedwait = no_sem_timed,
    .sem_clockwait = no_sem_clock,
    .pthread_join = no_join,
    .pthread_timedjoin_np = no_join_timed,
    .pthread_barrier_wait = no_barrier,
    .sigaction = no_sigaction,
    .signal = no_signal,
    .bsd_signal = no_signal,
    .ssignal = no_signal,
    .sysv_signal = no_signal,
    .sysv_signal_internal = no_signal,
    .sigset = no_signal,
    .sigignore = no_int,
    .siginterrupt = no_int2,
    .pthread_create = no_create,
    .unshare = no_int,
    .setns = no_int2,
    .setuid = no_id,
    .setgid = no_id,
    .seteuid = no_id,
    .setegid = no_id,
    .setreuid = no_id2,
    .setregid = no_id2,
    .setresuid = no_id3,
    .setresgid = no_id3,
    .setgroups = no_setgroups,
    .initgroups = no_initgroups,
    .dlopen = no_dlopen,
    .dlclose = no_dlclose,
};

/* ---- the lookups ---- */

/* e's function in the objects after the shim (RTLD_NEXT), or as the
 * global scope finds it first (RTLD_DEFAULT: mprof_real_check_order). */
static void *find_in(void *where, const struct lookup *e)
{
    void *f = e->version ? dlvsym(where, e->name, e->version) : NULL;
    return f ? f : dlsym(where, e->name);
}

static void *find(const struct lookup *e) { return find_in(RTLD_NEXT, e); }

/* Is f defined in the object that defines malloc_fn? */
static int same_object(const void *f, const void *malloc_fn)
{
    Dl_info a, b;
    return dladdr(f, &a) && dladdr(malloc_fn, &b) && a.dli_fbase == b.dli_fbase;
}

/* Said once per process, whichever thread finds it first. */
static int said_allocator;

/* ---- another allocator ahead of the shim ----
 * LD_PRELOAD="libjemalloc.so.2 libmprof.so": the program's malloc binds to
 * jemalloc, and only what jemalloc lacks (pvalloc, reallocarray) reaches
 * the shim, possibly before mprof starts (a library's constructor).  The
 * allocator's slots must then come from jemalloc from the first lookup
 * on, or the shim's pvalloc would hand out glibc's memory for jemalloc's
 * free to crash on; so whichever lookup comes first decides the order. */

static int behind;
static void *ahead_malloc; /* that object's malloc, once behind is set */

int mprof_real_behind(void) { return __atomic_load_n(&behind, __ATOMIC_ACQUIRE); }

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

/* The malloc the global scope finds first, if it is another object's
 * definition; NULL in the usual order (the shim's comes first). */
static void *malloc_ahead(void)
{
    void *first = dlsym(RTLD_DEFAULT, "malloc");
    return first && first != mprof_alloc_entries[0].entry && defines(first) ? first : NULL;
}

/* The allocator's functions into found[], from `where` (RTLD_NEXT, or
 * RTLD_DEFAULT with `m` the malloc found ahead), each from malloc's object
 * or none (derived, or done without).  Returns the name of a required one
 * that is lacking, or NULL. */
static const char *find_allocator(void *where, void *m, void **found)
{
    const char *lacking = NULL;
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        const struct lookup *e = &table[i];
        if (e->group != ALLOC)
            continue;
        void *f = i == 0 && m ? m : find_in(where, e);
        if (f && i > 0 && found[0] && !same_object(f, found[0]))
            f = NULL; /* another object's: its pointers would cross heaps */
        found[i] = f;
        if (!f && e->need == REQUIRED && !lacking)
            lacking = e->name;
    }
    return lacking;
}

/* The allocator's object when another comes ahead of the shim, or NULL
 * (one line says why not, if it cannot be forwarded to). */
static void *allocator_ahead(void **found)
{
    void *m = malloc_ahead();
    if (!m || !find_allocator(RTLD_DEFAULT, m, found))
        return m;
    Dl_info who;
    const char *lib = dladdr(m, &who) && who.dli_fname ? who.dli_fname : "another library";
    const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
    if (!__atomic_exchange_n(&said_allocator, 1, __ATOMIC_RELAXED))
        mprof_log("%s serves malloc ahead of libmprof.so and mprof cannot forward to it: "
                  "nothing will be profiled; put libmprof.so first: "
                  "LD_PRELOAD=\"libmprof.so %s\"", base, base);
    memset(found, 0, TABLE_SIZE * sizeof *found);
    return NULL;
}

int mprof_real_resolve(void)
{
    if (__atomic_load_n(&mprof_real.free, __ATOMIC_ACQUIRE))
        return 0;
    if (mprof_guarded())
        return -1; /* inside dlsym: the caller uses the pool */
    mprof_guard_enter();
    /* All found first; then published, free last and only with the rest. */
    void *found[TABLE_SIZE] = {0};
    void *ahead = allocator_ahead(found);
    const char *lacking = ahead ? NULL : find_allocator(RTLD_NEXT, NULL, found);
    if (lacking) {
        /* Under the guard: what the message allocates comes from the own
         * heap, not back here. */
        if (!__atomic_exchange_n(&said_allocator, 1, __ATOMIC_RELAXED))
            mprof_log("the next allocator has no %s of its own: mprof's own heap "
                      "serves the program, unprofiled",
                      lacking);
        mprof_guard_exit();
        return -1;
    }
    void *free_fn = NULL;
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (table[i].group != ALLOC)
            continue;
        if (table[i].slot == offsetof(struct mprof_real, free))
            free_fn = found[i];
        else
            __atomic_store_n(slot_of(&table[i]), found[i], __ATOMIC_RELAXED);
    }
    if (ahead) {
        ahead_malloc = ahead;
        __atomic_store_n(&behind, 1, __ATOMIC_RELEASE);
    }
    mprof_guard_exit();
    __atomic_store_n((void **)&mprof_real.free, free_fn, __ATOMIC_RELEASE);
    return 0;
}

/* e's stand-in, from `missing`. */
static void *stand_in(const struct lookup *e)
{
    void *f;
    memcpy(&f, (const char *)&missing + e->slot, sizeof f);
    return f;
}

static void resolve_call(const struct lookup *e, int order)
{
    void *f = find(e), *none = NULL;
    if (f)
        __atomic_store_n(slot_of(e), f, order);
    else if (__atomic_compare_exchange_n(slot_of(e), &none, stand_in(e), 0, order,
                                         __ATOMIC_RELAXED))
        mprof_log("libc has no %s: calls to it fail with ENOSYS", e->name);
}

/* Another thread may resolve at the same time (two first calls): both
 * store the same pointers, and only the one whose store of a stand-in
 * comes first says so.  The flag is stored last, with release: whoever
 * sees it set sees every slot. */
void mprof_real_resolve_calls(void)
{
    const size_t flag = offsetof(struct mprof_real, pthread_mutex_lock);
    mprof_guard_enter(); /* dlsym may allocate: that is mprof's, not the program's */
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (table[i].group == CALLS && table[i].slot != flag)
            resolve_call(&table[i], __ATOMIC_RELAXED);
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (table[i].slot == flag)
            resolve_call(&table[i], __ATOMIC_RELEASE);
    mprof_guard_exit();
}

void mprof_real_check_order(void)
{
    /* Blocks the allocator served before now are freed through the shim
     * into it. */
    if (mprof_real_resolve() == 0 && mprof_real_behind())
        mprof_profiler_rebind(mprof_alloc_entries, mprof_alloc_nentries, ahead_malloc);
}
