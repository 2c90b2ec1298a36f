/*
 * elfnames.h: function names for the code addresses of a dump, from the
 * ELF symbol tables of the modules loaded in this process, with libelf
 * alone; and each module's load bias and GNU build ID from its program
 * headers and notes in memory.
 *
 * Why not libdwfl, which the full symbolization uses: a dump that wants
 * only names must cost a short-lived process next to nothing. libdw is
 * some 0.5 ms to load and relocate, reports every module of the process,
 * and sorting a module's whole symbol table for a handful of lookups is
 * the better part of another millisecond. Here the addresses come sorted,
 * and one pass over each table that they fall in answers all of them.
 *
 * Which table: the file's own .symtab when it has one (and its build ID is
 * the one loaded: a file replaced since would name other code); else the
 * .symtab of its separate debug file, found by build ID under
 * /usr/lib/debug/.build-id/ (Debian's -dbg and -dbgsym packages); else the
 * file's .dynsym (exported functions only). Which symbol: the sized one
 * that contains the address (the innermost, then as libdwfl ranks them:
 * global over weak over local, typed over untyped); else a sizeless one
 * (an assembly label such as _start) at or before it in the same section,
 * when no other symbol lies between them.
 */
#ifndef MPROF_ELFNAMES_H
#define MPROF_ELFNAMES_H

#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#include "scratch.h"

typedef struct mprof_elfname_req {
    uint64_t addr;    /* in: a code address of this process */
    const char *name; /* out: the symbol's name (in sc), NULL if none */
    uint64_t offset;  /* out: addr - the symbol's start, when named */
} mprof_elfname_req;

/*
 * Name reqs[0, n) (sorted by addr, all in the module loaded from `path`
 * with load bias `bias`: file vaddr + bias = address; `build_id` in
 * lowercase hex, "" if unknown). `dynamic`: the module's dynamic section
 * in this process's memory, or NULL: when the file is gone (a plugin
 * host that unlinks what it loaded), the exported functions are named
 * from the dynamic symbol table the loader mapped. Returns how many got a
 * name; 0 also when libelf or the file cannot be read. Opens and closes
 * its descriptors (fdmove.h), allocates only in sc and libelf's own memory.
 */
size_t mprof_elfnames(mprof_scratch *sc, const char *path, uint64_t bias,
                      const char *build_id, const void *dynamic,
                      mprof_elfname_req *reqs, size_t n);

/*
 * The same for data addresses of the module (a lock's, a condition
 * variable's): the sized data object (STT_OBJECT, STT_COMMON) that
 * contains each, innermost, from the same table mprof_elfnames reads, with
 * the address's offset into it ("registry" + 64).  No kept index and no
 * loaded-image fallback: a dump names a handful of locks, once.  Returns
 * how many got a name.  Idea: gdb's `info symbol ADDR`, "registry + 64 in
 * section .bss".
 */
size_t mprof_elfnames_data(mprof_scratch *sc, const char *path, uint64_t bias,
                           const char *build_id, mprof_elfname_req *reqs, size_t n);

/*
 * From now on, keep an index of each symbol table read (sorted by address,
 * some 32 bytes per function, in mappings of its own), and answer from it:
 * for a process that dumps again, or forks children that dump, one binary
 * search per address instead of a pass over the table each time. A fork
 * child inherits the indexes, not the setting. Idea: what libdwfl's
 * dwfl_module_addrsym caches per module, kept across dumps.
 */
void mprof_elfnames_keep(void);

/* In a fork child: the builders' lock reset, the setting off. */
void mprof_elfnames_after_fork(void);

/* bits[0, n) as lowercase hex, NUL-terminated, in sc (a build ID as
 * pprof and debuginfod spell it); NULL when out of memory. */
char *mprof_hex(mprof_scratch *sc, const unsigned char *bits, size_t n);

/* Of several symbols at one address, the higher ranked names it, as
 * libdwfl chooses: sized over sizeless, then global, weak, local, then
 * typed over untyped. 0-15. */
int mprof_elf_symbol_rank(const GElf_Sym *s);

/*
 * The GNU build ID (NT_GNU_BUILD_ID) of an object that dl_iterate_phdr
 * reports, read from its PT_NOTE segments in memory (no file is opened),
 * as lowercase hex in sc; "" when it has none.
 */
struct dl_phdr_info;
const char *mprof_object_build_id(mprof_scratch *sc, const struct dl_phdr_info *info);

#endif
