/*
 * outfiles.h: the profile files a process writes,
 * "<prefix>.<pid>.<seq>.<kind>.pb.gz" (and ".tmp" while one is written),
 * found by listing the prefix's directory.  The names are outname.h's.
 */
#ifndef MPROF_TOOL_OUTFILES_H
#define MPROF_TOOL_OUTFILES_H

#include "outname.h"

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef struct outfile {
    char *name;      /* the directory entry */
    mprof_outname n; /* its pid, seq, kind (one the library writes), .tmp */
    struct timespec mtime;
    ino_t ino;
} outfile;

typedef struct outfiles {
    outfile *f;
    size_t n, cap;
} outfiles;

/* Split an absolute or relative prefix into its directory ("." if none)
 * and the base that file names start with. Both malloc'd. */
void outfiles_split(const char *prefix, char **dir, char **base);

/* The files of `base` in `dir`, sorted by (pid, seq, kind). 0, or -1 with
 * errno set (e.g. the directory does not exist yet). */
int outfiles_list(const char *dir, const char *base, outfiles *out);
void outfiles_free(outfiles *l);

/* The entry of l with this name, or NULL. */
const outfile *outfiles_find(const outfiles *l, const char *name);

#endif
