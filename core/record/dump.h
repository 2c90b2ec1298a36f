/*
 * dump.h: one dump = one set of profile files with the same seq:
 * ${MPROF_OUT}.<pid>.<seq>.heap.pb.gz (block and mutex join later).
 * Dumps are serialized; the caller must have its reentrancy guard set.
 */
#ifndef MPROF_DUMP_H
#define MPROF_DUMP_H

#include "config.h"

#include <stddef.h>

/* Settings, and the directory the program started in (segments.h; NULL
 * if unknown). */
void mprof_dump_init(const mprof_config *cfg, const char *start_dir);

/* Why a dump is written: the threads profile (threadstacks.h) is taken
 * only when a dump was asked for (MPROF_THREADS=1), or also at interval
 * dumps (MPROF_THREADS=2); never at exit, where the threads are being
 * torn down and the exit is what the program was doing. */
enum { MPROF_DUMP_INTERVAL, MPROF_DUMP_ASKED, MPROF_DUMP_FINAL };

/* Write every enabled profile.  Returns the seq used, or 0 if the dump was
 * skipped because the exit dump already happened. */
unsigned mprof_dump(int why);

/*
 * For a process that forks children which will dump (a server with a
 * process per connection): load the libraries a dump needs, and index the
 * symbol tables of the modules its stacks so far fall in (elfnames.h,
 * mprof_elfnames_keep), so that every child forked after has both, and
 * its exit dump costs binary searches. Run by the mprof thread; a fork
 * waits for the indexing (the fork gate, onstack.h). Does nothing unless
 * MPROF_SYMBOLS=names, or after the exit dump.
 */
void mprof_dump_ready_children(void);

/* Fork child, whether or not the profiler runs: the output side's locks
 * (libraries loaded on first use, what symbolizers keep) reset. */
void mprof_dump_output_after_fork(void);

/*
 * dlclose, around the real one: the code segments before it (copied into
 * a mapping of u's), then those that are gone after it, kept for the
 * stacks that pass through them (segments.h, mprof_segments_retire) and
 * renamed in every recorded stack (bucket.h, mprof_bucket_rename). Call
 * with the guard set and no mprof lock held; end with the same u.  The
 * end waits for a dump in progress, and holds the loader's lock (through
 * dl_iterate_phdr) while it renames.
 */
typedef struct mprof_unload {
    void *map;
    size_t len, n;
} mprof_unload;
void mprof_dump_unload_begin(mprof_unload *u);
void mprof_dump_unload_end(mprof_unload *u);

/* Fork child: own pid in file names, seq from 1 again. */
void mprof_dump_reset_after_fork(void);

#endif
