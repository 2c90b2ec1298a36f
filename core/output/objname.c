/*
 * objname.c: data addresses -> "symbol+offset" (see objname.h).  Each
 * address is placed in the module whose loaded segments contain it (the
 * loader's list); each module's symbol table is then read once for all of
 * the addresses that fall in it.
 */
#include "objname.h"

#include "config.h"
#include "elfnames.h"
#include "forkgate.h"
#include "segments.h"

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct req {
    uint64_t addr;
    uint64_t bias; /* of the module containing it */
    size_t index;  /* into the caller's arrays */
    int found;
};

struct walk {
    struct req *r;
    size_t n;
};

/* Mark each request that lies in one of this object's PT_LOAD segments. */
static int object(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, len = ph->p_memsz;
        for (size_t k = 0; k < w->n; k++)
            if (!w->r[k].found && w->r[k].addr - lo < len) {
                w->r[k].found = 1;
                w->r[k].bias = info->dlpi_addr;
            }
    }
    return 0;
}

static int by_bias_addr(const void *a, const void *b)
{
    const struct req *x = a, *y = b;
    if (x->found != y->found)
        return x->found - y->found;
    if (x->bias != y->bias)
        return x->bias < y->bias ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

char *mprof_objname_hex(char *buf, uint64_t addr)
{
    snprintf(buf, 19, "0x%llx", (unsigned long long)addr);
    return buf;
}

static const char *hex_name(mprof_scratch *sc, uint64_t addr)
{
    char buf[19];
    mprof_objname_hex(buf, addr);
    return mprof_scratch_strndup(sc, buf, strlen(buf));
}

/* The loaded module of load bias `bias`, as the segments list names it. */
static const mprof_segment *module_of(const mprof_segment *seg, size_t nseg, uint64_t bias)
{
    for (size_t i = 0; i < nseg; i++)
        if (seg[i].bias == bias && seg[i].start < MPROF_RETIRED_BASE)
            return &seg[i];
    return NULL;
}

/* Name the requests r[0, n), all of one module, into names[]. */
static void name_module(mprof_scratch *sc, const mprof_segment *m, struct req *r,
                        size_t n, const char **names)
{
    mprof_elfname_req *q = mprof_scratch_calloc(sc, n, sizeof *q);
    if (!q)
        return;
    for (size_t i = 0; i < n; i++)
        q[i].addr = r[i].addr;
    if (!mprof_elfnames_data(sc, m->path, m->bias, m->build_id, q, n))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!q[i].name)
            continue;
        char buf[32] = "";
        if (q[i].offset)
            snprintf(buf, sizeof buf, "+%llu", (unsigned long long)q[i].offset);
        size_t ln = strlen(q[i].name), lb = strlen(buf);
        char *s = mprof_scratch_alloc(sc, ln + lb + 1);
        if (!s)
            continue;
        memcpy(s, q[i].name, ln);
        memcpy(s + ln, buf, lb + 1);
        names[r[i].index] = s;
    }
}

void mprof_objnames(mprof_scratch *sc, const uint64_t *addrs, const char **names,
                    size_t n, int level)
{
    for (size_t i = 0; i < n; i++)
        names[i] = NULL;
    struct req *r = n ? mprof_scratch_calloc(sc, n, sizeof *r) : NULL;
    if (r && level != MPROF_SYMBOLS_NONE) {
        for (size_t i = 0; i < n; i++)
            r[i] = (struct req){.addr = addrs[i], .index = i};
        struct walk w = {r, n};
        mprof_forkgate_hold(); /* the walk holds the loader's lock, as fork needs it */
        dl_iterate_phdr(object, &w);
        mprof_forkgate_release();
        qsort(r, n, sizeof *r, by_bias_addr);
        mprof_segment *seg;
        size_t nseg = mprof_segments(sc, &seg);
        for (size_t i = 0, j; i < n; i = j) {
            for (j = i + 1; j < n && r[j].bias == r[i].bias && r[j].found == r[i].found;)
                j++;
            const mprof_segment *m = r[i].found ? module_of(seg, nseg, r[i].bias) : NULL;
            if (m)
                name_module(sc, m, r + i, j - i, names);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!names[i])
            names[i] = hex_name(sc, addrs[i]);
}
