/*
 * dumplibs.c: loading libdw, zlib and the demangler on first use (see dumplibs.h).
 *
 * Invariant: a table pointer is NULL until every field of its table is
 * filled, and then never changes (release store, acquire load).  A failure
 * is tried again at the next call (it may have been passing: no descriptor
 * left to open the file with); its reason is kept for the caller to say.
 * load_lock serializes the loading and guards the reason.
 */
#include "dumplibs.h"

#include "lock.h"

#include <dlfcn.h>
#include <stdio.h>

/* Serializes the loading (tables are published by release store) and
 * guards why[]. */
static MPROF_FORK_STATE mprof_lock load_lock = MPROF_LOCK_INIT;
MPROF_LOCK_RANK(load_lock, MPROF_RANK_DUMPLIBS);

static struct mprof_libdw dw_table;
static struct mprof_libz z_table;
static struct mprof_libelf elf_table;

/* dlsym into the library and what it depends on (libdw -> libelf). */
static char why[256]; /* the last failure; under load_lock */

static int resolve(void *h, const char *lib, const char *name, void **slot)
{
    mprof_lock_assert_held(&load_lock);
    *slot = dlsym(h, name);
    if (*slot)
        return 0;
    snprintf(why, sizeof why, "%s has no %s", lib, name);
    return -1;
}

#define RESOLVE(f) \
    if (resolve(h, lib, #f, (void **)&table->f) != 0) \
        return -1;

static int fill_dw(void *h, const char *lib, void *arg)
{
    struct mprof_libdw *table = arg;
    MPROF_LIBDW_FUNCS(RESOLVE)
    return 0;
}

static int fill_z(void *h, const char *lib, void *arg)
{
    struct mprof_libz *table = arg;
    MPROF_LIBZ_FUNCS(RESOLVE)
    return 0;
}

struct lazylib {
    const char *soname;
    int (*fill)(void *h, const char *lib, void *table);
    void *table;
    const void *loaded; /* the table once full; atomic */
};

static int fill_elf(void *h, const char *lib, void *arg)
{
    struct mprof_libelf *table = arg;
    MPROF_LIBELF_FUNCS(RESOLVE)
    table->elf_version(EV_CURRENT); /* libelf refuses to work before this */
    return 0;
}

static mprof_demangle_fn demangle_fn;

static int fill_demangle(void *h, const char *lib, void *arg)
{
    return resolve(h, lib, "__cxa_demangle", arg);
}

static struct lazylib libdw = {"libdw.so.1", fill_dw, &dw_table, NULL};
static struct lazylib libz = {"libz.so.1", fill_z, &z_table, NULL};
static struct lazylib libelf = {"libelf.so.1", fill_elf, &elf_table, NULL};
static struct lazylib libcxx = {"libstdc++.so.6", fill_demangle, &demangle_fn, NULL};

static const void *load(struct lazylib *l)
{
    const void *t = __atomic_load_n(&l->loaded, __ATOMIC_ACQUIRE);
    if (t)
        return t;
    mprof_lock_acquire(&load_lock);
    if (!l->loaded) {
        void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            snprintf(why, sizeof why, "%s", dlerror());
        else if (l->fill(h, l->soname, l->table) == 0)
            __atomic_store_n(&l->loaded, l->table, __ATOMIC_RELEASE);
    }
    mprof_lock_release(&load_lock);
    return __atomic_load_n(&l->loaded, __ATOMIC_ACQUIRE);
}

const struct mprof_libdw *mprof_libdw(void) { return load(&libdw); }
const struct mprof_libz *mprof_libz(void) { return load(&libz); }
const struct mprof_libelf *mprof_libelf(void) { return load(&libelf); }

mprof_demangle_fn mprof_demangler(void)
{
    const mprof_demangle_fn *f = load(&libcxx);
    return f ? *f : NULL;
}

void mprof_dumplibs_after_fork(void) { mprof_lock_reset(&load_lock); }

const char *mprof_dumplibs_error(char *buf, size_t len)
{
    mprof_lock_acquire(&load_lock);
    snprintf(buf, len, "%s", why);
    mprof_lock_release(&load_lock);
    return buf;
}
