/*
 * stack.c: stack capture (see stack.h).
 *
 * _Unwind_Backtrace calls back once per frame, the capture's own first;
 * frames in mprof's object are skipped until the first one outside it.
 */
#include "stack.h"

#include <link.h>
#include <string.h>
#include <unwind.h>

static uintptr_t skip_lo, skip_hi;

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

int mprof_stack_in_mprof(uintptr_t pc) { return pc >= skip_lo && pc < skip_hi; }

_Unwind_Reason_Code mprof_stack_on_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct mprof_trace *t = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
    if (ip == 0)
        return _URC_END_OF_STACK;
    if (t->leading && ip >= skip_lo && ip < skip_hi)
        return _URC_NO_REASON;
    t->leading = 0;
    if (t->n == t->max) { /* one frame more than we keep: say so */
        t->truncated = 1;
        return _URC_END_OF_STACK;
    }
    t->pcs[t->n++] = ip;
    return _URC_NO_REASON;
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
