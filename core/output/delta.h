/*
 * delta.h: the difference of two snapshots of one cumulative profile, as
 * the two kinds of "delta profile" that continuous profilers scrape.
 *
 *   MPROF_DELTA_GO: Go's net/http/pprof `?seconds=N` (serveDeltaProfile):
 *     the profile N seconds ago scaled by -1 merged with the profile now
 *     (github.com/google/pprof profile.Merge), so EVERY value is a
 *     difference, in-use ones included (they may be negative: memory
 *     freed in the window), and a sample whose values all come to 0 is
 *     dropped (Merge drops zero samples).
 *   MPROF_DELTA_GODELTAPROF: Grafana's godeltaprof (/debug/pprof/delta_*,
 *     pyroscope-go godeltaprof/internal/pprof delta_heap.go, delta_mutex.go):
 *     the values in `cumulative` (bit k: value k) are differences since the
 *     previous scrape, the others (heap in-use) are as they are now; a
 *     sample with a negative difference is dropped, as is one whose values
 *     are all 0.
 *
 * Samples are matched by identity of their stack (mprof_sample.pcs points
 * into a bucket, and a bucket, never freed, is one stack and one size), so
 * both snapshots must come from this process's live bucket table.
 */
#ifndef MPROF_DELTA_H
#define MPROF_DELTA_H

#include "profile.h"
#include "scratch.h"

#include <stddef.h>

enum mprof_delta_mode { MPROF_DELTA_GO, MPROF_DELTA_GODELTAPROF };

/* now - before into *out (nout samples, in sc; stacks shared with the
 * inputs).  nvalues: values per sample.  0, or -ENOMEM. */
int mprof_delta(mprof_scratch *sc, enum mprof_delta_mode mode, int nvalues,
                unsigned cumulative, const mprof_sample *now, size_t n,
                const mprof_sample *before, size_t m, mprof_sample **out, size_t *nout);

#endif
