/*
 * symbolize.h: in-process symbolization of code addresses with libdwfl.
 *
 * A symbolizer is a snapshot of this process's executable mappings (from
 * /proc/self/maps, the main binary first) and an elfutils session over the
 * same modules. It lives for one dump: open, look addresses up, close. It
 * keeps its own tables in the caller's scratch; elfutils mallocs its own.
 * Separate debug files are looked up locally only, never via debuginfod.
 */
#ifndef MPROF_SYMBOLIZE_H
#define MPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

typedef struct mprof_sym_mapping {
    uint64_t start, limit, offset; /* the executable segment */
    const char *path;     /* absolute path, or "[vdso]" */
    const char *build_id; /* GNU build ID in lowercase hex; "" if none */
    int is_main;          /* the main executable */
    int has_lines;        /* some lookup in it found file:line */
    int has_inline;       /* some lookup in it used DWARF scopes */
} mprof_sym_mapping;

/* One source frame at an address; strings live until the symbolizer is
 * closed. name is NULL when no symbol covers the address. */
typedef struct mprof_sym_frame {
    const char *name;    /* mangled (linkage) name, as pprof expects */
    const char *file;    /* NULL when unknown */
    int64_t line;        /* 0 when unknown */
    int64_t start_line;  /* declaration line of the function; 0 if unknown */
} mprof_sym_frame;

typedef struct mprof_symbolizer mprof_symbolizer;

/* NULL only when the scratch is out of memory. Without /proc or elfutils
 * the result still works, it just knows nothing. */
mprof_symbolizer *mprof_symbolizer_open(mprof_scratch *sc);
void mprof_symbolizer_close(mprof_symbolizer *sym);

/* Mappings in output order: the main executable (if found) first. */
size_t mprof_symbolizer_nmappings(const mprof_symbolizer *sym);
mprof_sym_mapping *mprof_symbolizer_mapping(mprof_symbolizer *sym, size_t i);
/* Index of the mapping containing addr, or -1. */
long mprof_symbolizer_find_mapping(const mprof_symbolizer *sym, uint64_t addr);

/*
 * Frames at the code address addr (a return address minus 1), innermost
 * inlined function first, the real function last. Returns how many of at
 * most max were filled; 0 when nothing is known.
 */
int mprof_symbolize(mprof_symbolizer *sym, uint64_t addr,
                    mprof_sym_frame *out, int max);

#endif
