/*
 * readfile.h: a whole file into memory, the one way mprof does it: the
 * profile reader (pprof.c) and `mprof dump`'s reads of /proc (tools/dump.c)
 * both come here.
 *
 * The memory is the caller's scratch (scratch.h), so no malloc: what works
 * for a tool works inside a host program too.  The file is read to its
 * end whatever size it reports, since /proc files report 0.  The idea is
 * Go's os.ReadFile: the size from stat as a first guess, then read until
 * EOF.
 */
#ifndef MPROF_READFILE_H
#define MPROF_READFILE_H

#include <stddef.h>

#include "scratch.h"

/*
 * Read the file at path into sc: *data (NUL-terminated after its *len
 * bytes, so text can be parsed in place; binary data may hold NULs of its
 * own) and *len.  Refuses a file of more than max bytes.
 *
 * Returns 0, or a negative errno, *data NULL: from open(2) or read(2)
 * (-ENOENT, -EACCES, -EISDIR, ...; EINTR is retried), -EFBIG (more than
 * max bytes), -ENOMEM (sc could not grow).  What sc gave stays in sc until
 * it is released.  The descriptor is open only during the call
 * (O_CLOEXEC).  Locking: none of its own; sc is one thread's at a time.
 */
int mprof_read_file(mprof_scratch *sc, const char *path, size_t max, char **data,
                    size_t *len);

#endif
