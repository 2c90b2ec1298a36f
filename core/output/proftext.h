/*
 * proftext.h: the `?debug=1` form of a profile, the text that Go's
 * runtime/pprof writes for WriteTo(w, 1) (heap: writeHeapInternal; block
 * and mutex: printCountCycleProfile's text branch), which pprof's legacy
 * parsers still read:
 *
 *   heap profile: 3: 3072 [10: 10240] @ heap/1048576
 *   1: 1024 [4: 4096] @ 0x4011d6 0x401234
 *   #	0x4011d5	leak	/src/leak.c:12
 *
 *   --- contention:
 *   cycles/second=1000000000
 *   sampling period=1
 *   25000 3 @ 0x4011d6 0x401234
 *   #	0x4011d5	worker	/src/worker.c:40
 *
 * Heap values are the raw sampled counts, as Go prints them, with
 * "heap/<2*rate>" telling a reader how to unsample them; block and mutex
 * values are mprof's records, already unbiased (hence a sampling period
 * of 1) with delays in nanoseconds (hence 1e9 cycles a second).  Records
 * are sorted by in-use bytes (heap) or delay, largest first, as Go sorts
 * them.  Frame lines name the function and, where known, file:line; Go's
 * "+0xOFF" after the name is left out (pprof ignores these lines).
 */
#ifndef MPROF_PROFTEXT_H
#define MPROF_PROFTEXT_H

#include "profile.h"
#include "scratch.h"

enum mprof_text_kind { MPROF_TEXT_HEAP, MPROF_TEXT_BLOCK, MPROF_TEXT_MUTEX };

/* The text of samples s[0, n) (heap: raw [alloc_objects, alloc_space,
 * inuse_objects, inuse_space]; block and mutex: [contentions, delay])
 * into sc.  d supplies the period (heap: the rate); sym as
 * mprof_profile_build.  0 with *out, *len, or -ENOMEM. */
int mprof_profile_text(mprof_scratch *sc, enum mprof_text_kind kind,
                       const mprof_profile_desc *d, const mprof_sample *s, size_t n,
                       struct mprof_symbolizer *sym, char **out, size_t *len);

/*
 * Go's count profiles (runtime/pprof printCountProfile, debug=1), for
 * threadcreate and the threads profile served as goroutine: value[0] of
 * each sample is its count, and samples are printed most first:
 *
 *   goroutine profile: total 5
 *   4 @ 0x7f1c2a0d6e96 0x55d0c4a1e1a2
 *   # labels: {"state":"sleeping", "thread":"parker"}
 *   #	0x55d0c4a1e1a1	park	/src/park.c:20
 *
 * `name` heads it ("threadcreate", "goroutine"); a sample's string labels,
 * if any, are its "# labels:" line (Go's labelMap.String).  0 with *out,
 * *len in sc, or -ENOMEM.
 */
int mprof_profile_text_count(mprof_scratch *sc, const char *name,
                             const mprof_profile_desc *d, const mprof_sample *s, size_t n,
                             struct mprof_symbolizer *sym, char **out, size_t *len);

/*
 * Go's goroutine?debug=2 (runtime.Stack of every goroutine, as an
 * unrecovered panic prints them), for threads: one block per sample,
 * heads[i] its first line (the caller's: "thread 4246 \"parker\"
 * [sleeping]:"), then per frame the function and, indented, its
 * file:line (or the address where no line is known), then a blank line.
 */
int mprof_profile_text_each(mprof_scratch *sc, const mprof_profile_desc *d,
                            const mprof_sample *s, size_t n, const char *const *heads,
                            struct mprof_symbolizer *sym, char **out, size_t *len);

/*
 * What a thread waits for, as `mprof stacks` heads a group of threads and
 * goroutine?debug=2 heads one: " in pthread_mutex_lock on cache_lock
 * (0x55cb7a7ce160), held by tid 4245": the wrapped call, its object's
 * name and, when the name is not the address, the address, and the
 * holder's tid.  "" (and owner 0) for what is not known; wait "": a thread
 * in no wrapped call, and buf is "".  Truncated to size; returns buf.
 */
char *mprof_text_wait(char *buf, size_t size, const char *wait, const char *lock,
                      const char *lock_addr, int owner);

#endif
