/*
 * symbolize.h: code addresses -> mappings, build IDs, functions, file:line.
 *
 * A symbolizer lives for one dump or one read: open, look addresses up,
 * close. Its tables live in the caller's scratch; elfutils mallocs its own.
 * Two ways to open one:
 *
 *  - mprof_symbolizer_open: this process, its code segments as the dynamic
 *    linker lists them (segments.h; what a dump does). At
 *    MPROF_SYMBOLS_NAMES, the default, only the ELF symbol tables are read
 *    (elfnames.h: never compressed, one pass per table); DWARF, whose
 *    sections Debian compresses and which costs tens of ms and MBs per
 *    library to read, is left to whoever reads the profile.
 *  - mprof_symbolizer_open_files: the mappings of a profile written
 *    earlier, read from the files on this machine (what `mprof symbolize`
 *    and the reports do). A file whose build ID differs from the
 *    profile's is not used: its frames would be someone else's.
 *
 * Separate debug files are looked up by build ID under /usr/lib/debug
 * only, never via debuginfod (see symbolize.c). Names are demangled with
 * libstdc++'s __cxa_demangle, as addr2line -C and pprof show them.
 * Idea: pprof's own symbolizer (internal/symbolizer, binutils/addr2line),
 * and elfutils' eu-addr2line -f -i -C for inlined frames.
 */
#ifndef MPROF_SYMBOLIZE_H
#define MPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h" /* enum mprof_symbols_level */
#include "scratch.h"

typedef struct mprof_sym_mapping {
    uint64_t start, limit, offset; /* the executable segment */
    const char *path;     /* absolute path, or "[vdso]" */
    const char *build_id; /* GNU build ID in lowercase hex; "" if none */
    int is_main;          /* the main executable */
    int has_names;        /* some lookup in it found a function */
    int has_lines;        /* some lookup in it found file:line */
    int has_inline;       /* lookups in it read DWARF scopes */
    int unusable;         /* (files) missing here, or another build */
    int bias_known;       /* (this process) bias: file vaddr + bias = address */
    uint64_t bias;
    uint64_t dynamic;     /* (this process) its dynamic section in memory, or 0 */
} mprof_sym_mapping;

/* One source frame at an address; strings live until the scratch is
 * released. name is NULL when no symbol covers the address. */
typedef struct mprof_sym_frame {
    const char *name;        /* demangled, as addr2line -C prints it */
    const char *system_name; /* the linkage (mangled) name */
    const char *file;        /* file defining the function; NULL if unknown */
    int64_t line;            /* line of the address or call; 0 if unknown */
    int64_t start_line;      /* declaration line of the function; 0 if unknown */
} mprof_sym_frame;

typedef struct mprof_symbolizer mprof_symbolizer;

/* This process. NULL only when the scratch is out of memory; without /proc
 * or elfutils the result still works, it just knows nothing. */
mprof_symbolizer *mprof_symbolizer_open(mprof_scratch *sc, int level);

/* The n mappings of a profile (start, limit, offset, path and build_id
 * read; the rest ignored), as files on this machine, at `level`. NULL only
 * when out of memory. Mapping i of the symbolizer is maps[i]. */
mprof_symbolizer *mprof_symbolizer_open_files(mprof_scratch *sc,
                                              const mprof_sym_mapping *maps,
                                              size_t n, int level);
void mprof_symbolizer_close(mprof_symbolizer *sym);

/* Mappings: for this process, the main executable (if found) first, then
 * by address; for files, in the order given. */
size_t mprof_symbolizer_nmappings(const mprof_symbolizer *sym);
mprof_sym_mapping *mprof_symbolizer_mapping(mprof_symbolizer *sym, size_t i);
/* Index of the mapping containing addr, or -1. */
long mprof_symbolizer_find_mapping(const mprof_symbolizer *sym, uint64_t addr);

/*
 * Look up, all at once, the n addresses that mprof_symbolize will be asked
 * for (any order, repeats allowed). At MPROF_SYMBOLS_NAMES in this process
 * that is where the work is done: one pass over each symbol table the
 * addresses fall in. Elsewhere it does nothing. 0, or -1 when out of
 * memory (the addresses then have no names).
 */
int mprof_symbolizer_prepare(mprof_symbolizer *sym, const uint64_t *addrs, size_t n);

/*
 * Frames at the code address addr (a return address minus 1), innermost
 * inlined function first, the real function last. Returns how many of at
 * most max were filled; 0 when nothing is known (always at NONE).
 */
int mprof_symbolize(mprof_symbolizer *sym, uint64_t addr,
                    mprof_sym_frame *out, int max);

/*
 * This process will symbolize again, itself or in the children it forks
 * from now on: keep what its symbolizers read (the segments' list,
 * segments.h; an index of each symbol table, elfnames.h) for the next
 * ones, which then read only what changed. Lock-free; any thread.
 */
void mprof_symbolizer_keep(void);

/* In a fork child: what is kept stays (the child's modules are its
 * parent's), the setting does not, and the keepers' locks are reset. */
void mprof_symbolizer_after_fork(void);

/*
 * A libdwfl session of this process's modules as /proc/self/maps lists
 * them (ELF files opened on demand, their descriptors raised, fdmove.h),
 * for file:line (debuginfo 1: separate debug files by build ID) or for
 * unwinding alone (0: none: .eh_frame, and where it fails the module's
 * own .debug_frame; never a separate debug file; cfi.h).
 * NULL when libdw cannot be loaded (said once) or /proc cannot be read.
 * The caller ends it with dwfl_end; elfutils allocates: guard set.
 */
typedef struct Dwfl Dwfl;
Dwfl *mprof_dwfl_report_self(int debuginfo);

/* name demangled into sc, or name itself when it is not a mangled name or
 * the demangler is missing. */
const char *mprof_demangle(mprof_scratch *sc, const char *name);

#endif
