/*
 * outname.h: the names of the profile files, the one place that knows them.
 *
 *     PREFIX.PID.SEQ.KIND.pb.gz          a profile, whole (DESIGN.md section 3)
 *     PREFIX.PID.SEQ.KIND.pb.gz.tmp      the same while it is written
 *
 * PREFIX is MPROF_OUT (it may hold dots, digits and slashes), PID the
 * process's pid in decimal, SEQ its dump number from 1, KIND lowercase
 * letters ("heap", "block", "mutex", "threadcreate", "threads", "peak":
 * the heap at its high-water mark, peak.h; more kinds as their issues
 * land).
 * Users' scripts match these names: the format never changes.
 *
 * The library formats them at dump time (core/record/dump.c), `mprof`
 * builds and lists them (tools/dump.c, tools/outfiles.c), the tests find
 * them (test/integration/harness.c, test/hardening/hutil.c): all through
 * here.  The idea is jemalloc's src/prof_sys.c, which owns every file name
 * its profiler writes.
 *
 * Nothing here allocates, locks or makes a system call; it touches no
 * errno.  Safe inside a dump, at exit, from any thread.
 */
#ifndef MPROF_OUTNAME_H
#define MPROF_OUTNAME_H

#include <stddef.h>

/* The kinds the library writes, in the order a dump writes them; the
 * order is also that of the bits of publish.h's MPROF_PUBLISH_* mask. */
enum {
    MPROF_KIND_HEAP,
    MPROF_KIND_BLOCK,
    MPROF_KIND_MUTEX,
    MPROF_KIND_THREADCREATE,
    MPROF_KIND_THREADS,
    MPROF_KIND_PEAK,
    MPROF_NKINDS
};
extern const char *const mprof_outname_kinds[MPROF_NKINDS];

/* Longest KIND + 1, the room in mprof_outname.kind. */
#define MPROF_OUTNAME_KIND_MAX 16

/* One file name taken apart. */
typedef struct mprof_outname {
    size_t prefix_len; /* the name's first prefix_len bytes are PREFIX */
    long pid;
    unsigned long seq;
    char kind[MPROF_OUTNAME_KIND_MAX]; /* NUL-terminated */
    int tmp;                           /* ends in ".tmp": still being written */
} mprof_outname;

/*
 * PREFIX.PID.SEQ.KIND.pb.gz into buf[0, size).  Returns its length, or
 * -EINVAL (an empty prefix, a negative pid, a kind that is not 1 to 15
 * lowercase letters: none would parse back) or -ENAMETOOLONG (it does not fit); buf then
 * holds "" if size > 0.
 */
int mprof_outname_format(char *buf, size_t size, const char *prefix, long pid,
                         unsigned long seq, const char *kind);

/* path + ".tmp" into buf[0, size): the name a file is written under
 * before it is renamed to path (atomic_file.h).  Length, or -EINVAL (empty
 * path) or -ENAMETOOLONG; buf then holds "" if size > 0. */
int mprof_outname_tmp(char *buf, size_t size, const char *path);

/*
 * Take a name apart, from its end: [".tmp"], ".pb.gz", KIND, SEQ, PID, and
 * what is left, at least one byte, is PREFIX; so a prefix with dots and
 * digits of its own ("run.2") parses as itself.  PID and SEQ are decimal
 * digits only (no sign, no space) that fit their types.  0, or -1 if name
 * is not such a name (out is then unspecified).
 */
int mprof_outname_parse(const char *name, mprof_outname *out);

/* mprof_outname_parse, and the name's PREFIX is exactly prefix: the files
 * of one MPROF_OUT in a directory listing (name without the directory,
 * prefix its last component).  0 or -1. */
int mprof_outname_match(const char *name, const char *prefix, mprof_outname *out);

/* The order files are listed in: by pid, then seq, then kind in the order
 * of mprof_outname_kinds (other kinds after, by name), the whole file
 * before its .tmp.  <0, 0, >0 as strcmp. */
int mprof_outname_cmp(const mprof_outname *a, const mprof_outname *b);

#endif
