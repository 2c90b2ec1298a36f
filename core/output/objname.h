/*
 * objname.h: names for the data addresses of this process that a dump
 * labels its samples with: the lock a block or mutex sample waited on, the
 * condition variable a thread sleeps in.
 *
 * A user asks "which lock?".  An address answers it only within one run;
 * a global's name answers it across runs and machines.  So an address
 * inside a loaded module's data is named by the data object containing
 * it, as gdb's `info symbol` does: "cache_lock", or "registry+64" for a
 * lock inside a global struct or array (elfnames.h,
 * mprof_elfnames_data).  A heap or stack address has no such name.
 *
 * Called by a dump, outside any mprof lock (it walks the loader's list
 * inside the fork gate, and opens the modules' files with libelf).
 */
#ifndef MPROF_OBJNAME_H
#define MPROF_OBJNAME_H

#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

/* The label value of each addrs[i] into names[i], in sc: "sym" or
 * "sym+off" (offset in decimal bytes) when it lies in a data object of a
 * loaded module and `level` (enum mprof_symbols_level) is not NONE, else
 * "0x<hex address>"; NULL only when out of memory.  The addresses may
 * repeat and come in any order. */
void mprof_objnames(mprof_scratch *sc, const uint64_t *addrs, const char **names,
                    size_t n, int level);

/* "0x<hex>" of addr into buf (at least 19 bytes); returns buf. */
char *mprof_objname_hex(char *buf, uint64_t addr);

#endif
