/*
 * segments.h: the executable segments of this process, from the dynamic
 * linker's own list of loaded objects (dl_iterate_phdr(3)), not from
 * /proc/self/maps.
 *
 * Why: a dump needs, for each module its samples pass through, the
 * address range of its code, its file, its load bias and its GNU build ID.
 * The loader has all of them in memory; /proc/self/maps makes the kernel
 * print every mapping of the process as text (some 0.3 ms for a
 * PostgreSQL backend's, at every exit), and says nothing of bias or build
 * ID. What /proc/self/maps has and this has not: executable mappings the
 * loader did not make (code mmapped by hand, JIT), which have no symbols
 * either; their addresses get no mapping, as with Go's profiles.
 */
#ifndef MPROF_SEGMENTS_H
#define MPROF_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

typedef struct mprof_segment {
    uint64_t start, limit; /* page-aligned, as the kernel maps it */
    uint64_t offset;       /* file offset of start */
    uint64_t bias;         /* load bias: file vaddr + bias = address */
    const char *path;      /* absolute, or "[vdso]" */
    const char *build_id;  /* lowercase hex; "" if none */
    int is_main;           /* a segment of the program itself */
    uint64_t dynamic;      /* its object's dynamic section in memory; 0 if none */
} mprof_segment;

/* At start, before the program may change directory: the directory a
 * relative program name (AT_EXECFN) is taken from (NULL: unknown). */
void mprof_segments_init(const char *dir);

/*
 * Every executable PT_LOAD of every loaded object, in sc: the program's
 * first, then the rest sorted by address (disjoint). Returns how many;
 * *out is NULL (and 0 returned) when out of memory. Takes the loader's
 * lock for the walk (dl_iterate_phdr), inside the fork gate (onstack.h),
 * so it waits out a fork in progress: call outside any mprof lock that a
 * dlopen or a fork could wait for, and never from a sample.
 */
size_t mprof_segments(mprof_scratch *sc, mprof_segment **out);

/*
 * An object was unloaded (dlclose) while recorded stacks still pass
 * through its code: keep its segment s, renamed into an address range no
 * code can have (above MPROF_RETIRED_BASE, which is not a canonical
 * address), so that those stacks still name its functions, and not those
 * of whatever the loader maps at its old addresses next. Returns the
 * renamed segment's load bias: an address a of s becomes
 * a - s->bias + (that bias); 0 when no more can be kept (then the stacks
 * keep their addresses, and name what they name). Every later
 * mprof_segments lists the kept ones after the loaded ones. Serialized by
 * its own lock; strings copied.
 */
#define MPROF_RETIRED_BASE 0xfffe000000000000ull
uint64_t mprof_segments_retire(const mprof_segment *s);

/*
 * From now on, keep the list each walk finds, and answer from it while the
 * loader's counts of loads and unloads (dlpi_adds, dlpi_subs) say nothing
 * changed: for a process that dumps again, or forks children that dump. A
 * fork child inherits the list, not the setting.
 */
void mprof_segments_keep(void);

/* In a fork child: the list's lock reset, the setting off. */
void mprof_segments_after_fork(void);

#endif
