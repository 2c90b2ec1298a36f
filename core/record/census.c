/*
 * census.c: the page a process's fork children report to (see census.h).
 */
#include "census.h"

#include "lock.h" /* MPROF_FORK_STATE */

#include <sys/mman.h>

struct census {
    unsigned child_dumps;                     /* atomic */
    uint64_t modules[MPROF_CENSUS_MODULES];   /* atomic; 0: free */
};

static MPROF_FORK_STATE struct census *own;    /* for our children */
static MPROF_FORK_STATE struct census *parent; /* our parent's */

void mprof_census_map(void)
{
    if (__atomic_load_n(&own, __ATOMIC_ACQUIRE))
        return;
    struct census *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return;
    struct census *none = NULL;
    if (!__atomic_compare_exchange_n(&own, &none, c, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        munmap(c, sizeof *c); /* another thread's fork mapped one */
}

/* Written only when not already so: a child touches no page it need not. */
void mprof_census_after_fork(void)
{
    if (own || parent) {
        parent = own;
        own = NULL;
    }
}

int mprof_census_has_parent(void) { return parent != NULL; }

void mprof_census_child_dumped(void)
{
    if (parent)
        __atomic_add_fetch(&parent->child_dumps, 1, __ATOMIC_RELAXED);
}

/* Linear probing from a hash of the start: a full page costs one pass of
 * MPROF_CENSUS_MODULES loads, at a child's exit. */
void mprof_census_note_module(uint64_t start)
{
    if (!parent || !start)
        return;
    size_t h = (size_t)((start >> 12) * 0x9e3779b97f4a7c15ull >> 57);
    for (size_t i = 0; i < MPROF_CENSUS_MODULES; i++) {
        uint64_t *slot = &parent->modules[(h + i) % MPROF_CENSUS_MODULES];
        uint64_t seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (seen == 0 && __atomic_compare_exchange_n(slot, &seen, start, 0, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED))
            return;
        if (seen == start)
            return; /* noted already, perhaps by the CAS that just lost */
    }
}

unsigned mprof_census_child_dumps(void)
{
    struct census *c = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
    return c ? __atomic_load_n(&c->child_dumps, __ATOMIC_RELAXED) : 0;
}

size_t mprof_census_modules(uint64_t *out, size_t max)
{
    struct census *c = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
    size_t n = 0;
    for (size_t i = 0; c && i < MPROF_CENSUS_MODULES && n < max; i++) {
        uint64_t s = __atomic_load_n(&c->modules[i], __ATOMIC_RELAXED);
        if (s)
            out[n++] = s;
    }
    return n;
}
