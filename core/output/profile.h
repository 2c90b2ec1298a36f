/*
 * profile.h: the hand-off from the profiler to the output side.
 *
 * A dump copies the published records out of the bucket table into an array
 * of mprof_sample (stacks as raw return addresses of this process, values
 * already scaled to unbiased estimates) and hands it to
 * mprof_profile_write_file(), which symbolizes the addresses in-process,
 * encodes a pprof Profile message, gzips it and writes it atomically.
 *
 * Nothing here keeps state between dumps; the caller owns the arrays.
 */
#ifndef MPROF_PROFILE_H
#define MPROF_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pprof.h"
#include "scratch.h"

#define MPROF_MAX_VALUES 4
#define MPROF_MAX_COMMENTS 8

/* MPROF_PC_TRUNCATED (config.h), the mark of a cut stack, is written as a
 * frame of this name, so that a flame graph gathers the cut stacks under
 * one root instead of showing each as a tower of its own. */
#define MPROF_TRUNCATED_NAME "[truncated]"

/* A pprof label: key = str, or key = num [unit] when str is NULL.  A key
 * may repeat in one sample (pprof keeps a list of values per key). */
typedef struct mprof_label {
    const char *key;
    const char *str;
    int64_t num;
    const char *unit; /* numeric labels only; NULL = none */
} mprof_label;

typedef struct mprof_sample {
    const uintptr_t *pcs;            /* return addresses, leaf first; entries
                                        above MPROF_PC_TRUNCATED - MPROF_NWAITCALLS
                                        name a wrapped call (waitcall.h) */
    uint32_t npcs;
    int64_t value[MPROF_MAX_VALUES]; /* one per sample type, in order */
    int64_t bytes;                   /* heap: object size, written as the numeric
                                        label "bytes" as Go does; 0 = no label */
    const mprof_label *labels;       /* more labels, written in this order */
    uint32_t nlabels;
} mprof_sample;

typedef struct mprof_value_type {
    const char *type; /* e.g. "inuse_space" */
    const char *unit; /* e.g. "bytes" */
} mprof_value_type;

typedef struct mprof_profile_desc {
    int nvalues;
    mprof_value_type sample_type[MPROF_MAX_VALUES];
    mprof_value_type period_type;
    int64_t period;
    int64_t time_nanos;     /* wall clock of the dump */
    int64_t duration_nanos; /* since the profiler started */
    const char *default_sample_type; /* NULL = none */
    int ncomments;
    const char *comments[MPROF_MAX_COMMENTS]; /* e.g. drop counters */
    int sync;                        /* fdatasync the file before the rename */
} mprof_profile_desc;

/*
 * Symbolize, encode, gzip and write to `path` through `path`.tmp + rename, so
 * the file appears whole or not at all. Uses only mmap-backed scratch memory
 * and raw syscalls for the file; may be called on any thread whose reentrancy
 * guard is set (allocations made by elfutils/zlib pass through unprofiled).
 * Returns 0, or a negative errno on failure (the temporary file is removed).
 */
int mprof_profile_write_file(const char *path, const mprof_profile_desc *d,
                             const mprof_sample *s, size_t n);

/* The same with a symbolizer the caller opened (symbolize.h) and keeps open
 * across the profiles of one dump: the process's modules, symbol tables and
 * debug info are read once per dump instead of once per profile. */
struct mprof_symbolizer;
int mprof_profile_write_file_sym(const char *path, const mprof_profile_desc *d,
                                 const mprof_sample *s, size_t n,
                                 struct mprof_symbolizer *sym);

/* The same profile, gzipped into sc (*gz, *gzlen) instead of a file: what
 * the /debug/pprof server sends (httpd.h).  0, -EINVAL, -ENOMEM, or what
 * mprof_gzip returns. */
int mprof_profile_gzip(mprof_scratch *sc, const mprof_profile_desc *d,
                       const mprof_sample *s, size_t n, struct mprof_symbolizer *sym,
                       void **gz, size_t *gzlen);

/*
 * Symbolize the samples' stacks in-process and build the Profile in sc:
 * locations deduplicated by address (return address - 1), functions by
 * (name, file), strings interned; the main binary's mapping is id 1.
 * sym: an open symbolizer whose strings outlive `out`, or NULL to open one
 * in sc for this profile alone.
 * Returns 0, -EINVAL for a bad desc, or -ENOMEM.
 */
struct mprof_symbolizer;
int mprof_profile_build(mprof_scratch *sc, const mprof_profile_desc *d,
                        const mprof_sample *s, size_t n,
                        struct mprof_symbolizer *sym, mprof_pprof_profile *out);

/*
 * A profile read back, with its frames completed from the files on this
 * machine (what `mprof symbolize` writes and the reports read).
 *
 * mprof_profile_symbolizer opens, in sc, a symbolizer over in's mappings
 * that lack file:line or inlined frames (symbolize.h: a file that is
 * missing or of another build is skipped). mprof_profile_resymbolize then
 * builds `out` in out->mem (release it with mprof_pprof_free): every
 * location of such a mapping gets its frames, innermost inlined function
 * first, demangled names with the linkage name as system_name, one
 * Function per function; every other location, sample, id and string
 * stays as it was. in and sym may be freed afterwards. 0 or -ENOMEM.
 * Idea: pprof's symbolizer.Symbolize (local mode).
 */
struct mprof_symbolizer *mprof_profile_symbolizer(mprof_scratch *sc,
                                                  const mprof_pprof_profile *in);
int mprof_profile_resymbolize(const mprof_pprof_profile *in,
                              struct mprof_symbolizer *sym,
                              mprof_pprof_profile *out);

#endif
