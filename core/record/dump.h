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

/*
 * The /debug/pprof server's way to profiles (httpd.c): snapshots it keeps
 * (the start of a `?seconds=N` window, the last scrape of a delta_*
 * path), and bodies it sends.  Both live in mappings of their own, never
 * in the host's heap, and are freed by the caller.  Call with the guard
 * set, on a thread with a stack of its own (symbolizing is deep); each
 * takes dump_lock for its own duration only, so sending a body to a slow
 * client never holds a dump up.
 */
enum mprof_dump_kind {
    MPROF_DUMP_HEAP, MPROF_DUMP_BLOCK, MPROF_DUMP_MUTEX,
    MPROF_DUMP_THREADCREATE, /* as the file: created and inuse_threads */
    MPROF_DUMP_THREADS,      /* every thread's stack, captured at the take */
    MPROF_DUMP_PEAK,         /* the saved peak heap (peak.h) */
    MPROF_DUMP_NKINDS
};

/* 1 if the profile of `kind` is recorded (its rate or fraction is not 0,
 * MPROF_THREADCREATE, MPROF_THREADS not 0, the peak not off). */
int mprof_dump_kind_on(enum mprof_dump_kind kind);

/* The records of `kind` as of now: the heap's current epoch is ended and
 * published first (heap.h, mprof_heap_snapshot), so every allocation made
 * before the call is in it; THREADS captures every thread's stack now,
 * grouped as the file groups them (the capture opens /proc descriptors,
 * raised above the program's).  raw: heap values as sampled counts (for
 * the debug=1 text), else unsampled as in the files.  NULL after the exit
 * dump or when out of memory. */
typedef struct mprof_dump_snap mprof_dump_snap;
mprof_dump_snap *mprof_dump_snap_take(enum mprof_dump_kind kind, int raw);
void mprof_dump_snap_free(mprof_dump_snap *sn); /* NULL: nothing */

/* What a body holds: the snapshot, or its difference from an earlier one
 * as Go's `?seconds=N` or as Grafana's godeltaprof computes it (delta.h). */
enum mprof_dump_diff { MPROF_DUMP_WHOLE, MPROF_DUMP_GO_DELTA, MPROF_DUMP_GODELTAPROF };

typedef struct mprof_dump_body {
    char *data;
    size_t len, map_len;
} mprof_dump_body;

/*
 * now (minus before, per diff; before NULL = an empty earlier snapshot)
 * symbolized and encoded as a gzipped pprof Profile, or with text = 1 as
 * Go's debug=1 text (proftext.h), with text = 2 for THREADS as Go's
 * goroutine?debug=2 listing (one block per thread), into *out.  THREADS
 * differences match groups by stack, name, state and wait, and carry no
 * tid labels (a difference of counts has no threads of its own).  default_type: the sample
 * type a viewer shows first ("alloc_space" for /allocs), or NULL.  A Go
 * delta carries duration_nanos = now - before.  0, or a negative errno
 * (-ESHUTDOWN after the exit dump, -ENOSYS without zlib, -ENOMEM).
 */
int mprof_dump_render(const mprof_dump_snap *now, const mprof_dump_snap *before,
                      enum mprof_dump_diff diff, int text, const char *default_type,
                      mprof_dump_body *out);
void mprof_dump_body_free(mprof_dump_body *b);

#endif
