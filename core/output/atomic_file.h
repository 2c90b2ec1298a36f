/*
 * atomic_file.h: a file that appears whole or not at all: written under
 * <path>.tmp with raw system calls, then renamed (rename(2)).
 */
#ifndef MPROF_ATOMIC_FILE_H
#define MPROF_ATOMIC_FILE_H

#include <stddef.h>

/* Write data to path.tmp with raw syscalls, fdatasync if sync, rename to
 * path. 0, or -errno with the temporary removed. */
int mprof_write_file_atomic(const char *path, const void *data, size_t n, int sync);


#endif
