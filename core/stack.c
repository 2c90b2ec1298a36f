/*
 * stack.c: stack capture (see stack.h).
 *
 * unw_backtrace walks with libunwind's cached fast tracer (about 8 ns a
 * frame once warm); the unw_step loop would be ~250 times slower and glibc's
 * backtrace() dlopens libgcc_s and allocates on first use.
 */
#include "stack.h"

#include "config.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>

static uintptr_t skip_lo, skip_hi;

void mprof_stack_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

struct find_ctx {
    uintptr_t addr, lo, hi;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct find_ctx *f = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        if (f->addr >= lo && f->addr < hi) {
            f->lo = lo;
            f->hi = hi;
            return 1;
        }
    }
    return 0;
}

void mprof_stack_skip_object_of(const void *addr)
{
    struct find_ctx f = {(uintptr_t)addr, 0, 0};
    dl_iterate_phdr(find_text, &f);
    skip_lo = f.lo;
    skip_hi = f.hi;
}

int mprof_stack_capture(uintptr_t *pcs, int max)
{
    enum { SLACK = 16 };
    void *buf[MPROF_STACK_MAX + SLACK];
    if (max > MPROF_STACK_MAX)
        max = MPROF_STACK_MAX;
    int n = unw_backtrace(buf, max + SLACK);
    int first = 0;
    while (first < n && (uintptr_t)buf[first] >= skip_lo &&
           (uintptr_t)buf[first] < skip_hi)
        first++;
    int kept = n - first < max ? n - first : max;
    while (kept > 0 && buf[first + kept - 1] == NULL)
        kept--;
    memcpy(pcs, buf + first, (size_t)kept * sizeof *pcs);
    return kept;
}

uint64_t mprof_stack_hash(const uintptr_t *pcs, int n, uint64_t extra)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ extra;
    for (int i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= (uint64_t)n;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}
