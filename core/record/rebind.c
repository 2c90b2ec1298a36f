/*
 * rebind.c: GOT slots of loaded objects pointed at the shim (see rebind.h).
 *
 * The dynamic section of each object the loader lists gives its symbol
 * and string tables and its RELA relocations (the PLT's and the rest); a
 * JUMP_SLOT, GLOB_DAT or 64-bit absolute relocation against one of the
 * allocation functions names a slot that holds the address calls go to.
 * A slot is rewritten when it holds an address in the allocator the shim
 * forwards to, or one inside its own object (a lazy PLT entry not yet
 * resolved): never one that holds something else (an object's own malloc,
 * bound on purpose). A slot in the RELRO segment is made writable for the store
 * and read-only again, exactly the pages the loader protected.
 */
#include "rebind.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#define R_ABS64 R_X86_64_64
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#define R_ABS64 R_AARCH64_ABS64
#endif

#if defined(R_JUMP_SLOT) && defined(__LP64__)
#define REL_TYPE(i) ELF64_R_TYPE(i)
#define REL_SYM(i) ELF64_R_SYM(i)

struct walk {
    const mprof_rebind_fn *fns;
    size_t n;
    uintptr_t allocator; /* one in the object the shim's entries forward to */
    uintptr_t lo, hi;    /* the allocator's loaded segments, overall */
};

/* What the dynamic section says, with addresses made absolute. */
struct dyn {
    const ElfW(Sym) *symtab;
    const char *strtab;
    const ElfW(Rela) *rela[2];
    size_t nrela[2];
};

/* glibc stores these entries relocated; an object whose dynamic section
 * is read-only keeps file addresses, below its load address. */
static uintptr_t absolute(const struct dl_phdr_info *info, ElfW(Addr) p)
{
    return p < info->dlpi_addr ? info->dlpi_addr + p : p;
}

static int read_dynamic(const struct dl_phdr_info *info, struct dyn *d)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr); // NOLINT(performance-no-int-to-ptr)
    memset(d, 0, sizeof *d);
    if (!dyn)
        return -1;
    ElfW(Sxword) pltrel = DT_RELA;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = absolute(info, dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB: d->symtab = (const ElfW(Sym) *)p; break; // NOLINT(performance-no-int-to-ptr)
        case DT_STRTAB: d->strtab = (const char *)p; break;      // NOLINT(performance-no-int-to-ptr)
        case DT_JMPREL: d->rela[0] = (const ElfW(Rela) *)p; break; // NOLINT(performance-no-int-to-ptr)
        case DT_PLTRELSZ: d->nrela[0] = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        case DT_PLTREL: pltrel = (ElfW(Sxword))dyn->d_un.d_val; break;
        case DT_RELA: d->rela[1] = (const ElfW(Rela) *)p; break; // NOLINT(performance-no-int-to-ptr)
        case DT_RELASZ: d->nrela[1] = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        default: break;
        }
    }
    if (pltrel != DT_RELA)
        d->nrela[0] = 0;
    return d->symtab && d->strtab ? 0 : -1;
}

/* Whether addr lies in one of the object's loaded segments. */
static int in_object(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr - lo < ph->p_memsz)
            return 1;
    }
    return 0;
}

/* Store value in *slot, through the RELRO protection if it covers it
 * (the pages the loader made read-only: whole pages of the segment). */
static void store(const struct dl_phdr_info *info, void **slot, void *value)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)slot, at = a & ~(page - 1);
    int relro = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
        if (ph->p_type == PT_GNU_RELRO && at >= lo && at < hi)
            relro = 1;
    }
    /* A RELRO page is read-only only once the loader has relocated its
     * object: one another thread is loading right now is still writable,
     * and made read-only here the loader would fault on it. So the store
     * is first tried through the kernel, which refuses (EFAULT) a page
     * that is not writable; only such a page is opened and closed again.
     * Where that call is not allowed (EPERM: a seccomp profile), the
     * page is taken as protected, as the loader leaves a loaded one. */
    if (relro) {
        struct iovec local = {&value, sizeof value}, remote = {slot, sizeof value};
        if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof value)
            return;
        if (errno != EFAULT && errno != EPERM && errno != ENOSYS)
            return; /* left as it was: this object's calls bypass mprof */
    }
    void *p = (void *)at; // NOLINT(performance-no-int-to-ptr)
    if (relro && mprotect(p, page, PROT_READ | PROT_WRITE) != 0)
        return; /* left as it was: this object's calls bypass mprof */
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro)
        mprotect(p, page, PROT_READ);
}

static int fn_index(const struct walk *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->fns[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void bind_object(const struct dl_phdr_info *info, const struct walk *w)
{
    struct dyn d;
    if (read_dynamic(info, &d) != 0)
        return;
    for (int k = 0; k < 2; k++)
        for (size_t r = 0; d.rela[k] && r < d.nrela[k]; r++) {
            const ElfW(Rela) *rel = &d.rela[k][r];
            unsigned long type = REL_TYPE(rel->r_info), sym = REL_SYM(rel->r_info);
            if (!sym || (type != R_JUMP_SLOT && type != R_GLOB_DAT &&
                         (type != R_ABS64 || rel->r_addend != 0)))
                continue;
            int f = fn_index(w, d.strtab + d.symtab[sym].st_name);
            if (f < 0)
                continue;
            void **slot = (void **)(info->dlpi_addr + rel->r_offset); // NOLINT(performance-no-int-to-ptr)
            void *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            uintptr_t c = (uintptr_t)cur;
            /* an address in the object itself is a lazy PLT entry only if
             * the object does not define the function (a plugin with an
             * allocator of its own binds to it on purpose) */
            int lazy = d.symtab[sym].st_shndx == SHN_UNDEF && in_object(info, c);
            if (cur != w->fns[f].entry && (lazy || (c >= w->lo && c < w->hi)))
                store(info, slot, w->fns[f].entry);
        }
}

/* The allocator's extent (no dladdr: it takes the loader's dl_load_lock,
 * which a dlopen holds while it waits for the list's lock we hold here). */
static int extent(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    (void)size;
    if (!in_object(info, w->allocator))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type != PT_LOAD)
            continue;
        w->lo = w->lo && w->lo < lo ? w->lo : lo;
        w->hi = w->hi > hi ? w->hi : hi;
    }
    return 1;
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    (void)size;
    if (in_object(info, w->allocator) || !info->dlpi_name ||
        strncmp(info->dlpi_name, "linux-vdso", 10) == 0)
        return 0; /* the allocator's own calls stay its own */
    bind_object(info, w);
    return 0;
}

void mprof_rebind(const mprof_rebind_fn *fns, size_t n, const void *allocator)
{
    struct walk w = {.fns = fns, .n = n, .allocator = (uintptr_t)allocator};
    if (!w.allocator)
        return;
    dl_iterate_phdr(extent, &w);
    if (w.hi)
        dl_iterate_phdr(visit, &w);
}

#else /* no RELA relocations we know: nothing is rebound */

void mprof_rebind(const mprof_rebind_fn *fns, size_t n, const void *allocator)
{
    (void)fns;
    (void)n;
    (void)allocator;
}
#endif
