/*
 * fdmove.h: descriptors mprof opens for a moment (a profile being written,
 * /proc/self/maps, the ELF and debug files a dump reads) moved out of the
 * numbers the program uses.
 *
 * Why: open() hands out the lowest free number.  A program that closed
 * 0..2 and restores them with dup2 (CPython's subprocess tests do) would,
 * in the middle of a dump on mprof's thread, dup2 over mprof's file and
 * then have its restored stdout closed by mprof's close().  A descriptor
 * moved high (F_DUPFD_CLOEXEC, fcntl(2)) is out of the way of a program
 * that works with low numbers; the low one is closed only if it still
 * names the same file (the program may have dup2'ed over it meanwhile),
 * and a copy of a file the program put there is never used.
 */
#ifndef MPROF_FDMOVE_H
#define MPROF_FDMOVE_H

/*
 * fd, just returned by open(path, ...), moved to the lowest free number
 * from 48 on (the top of the kernel's first table of 64: growing it costs
 * a threaded process an RCU grace period); fd itself if it cannot be
 * moved, if fd < 0, or if RLIMIT_NOFILE is below 64.  Between the open and
 * the move another thread of the program may dup2 a file of its own onto
 * fd's number: the copy is then checked against `path` (same device and
 * inode), and if it is not that file, -1 is returned with errno EAGAIN,
 * having closed nothing of the program's (the dup2 closed ours). With
 * path NULL (a descriptor from a library), no check.  The low number is
 * closed only if it still names the file.  errno is kept otherwise.
 * If the file at path is replaced between the open and the check (an
 * upgrade renames a new library over it), the check fails as for a
 * program's dup2 and the low number stays open, close-on-exec: from here
 * mprof cannot tell its file from one the program put there, and leaving
 * one of its own open is the lesser harm than closing one of the
 * program's.
 */
int mprof_fd_raise(int fd, const char *path);

/* The same, with the check that a descriptor is the file that was opened
 * made by ours(fd, arg) (NULL: none): for a file without a path (memfd). */
int mprof_fd_raise_if(int fd, int (*ours)(int fd, const void *arg), const void *arg);

/* The same for fd, just returned by memfd_create(name, MFD_ALLOW_SEALING):
 * ours is an empty, unsealed memfd under that name (the first 40 bytes of
 * it, as /proc/self/fd shows them; not checked without /proc).  A
 * program's own empty sealable memfd (Wayland's shm pools start so) is
 * not ours.  Async-signal-safe. */
int mprof_fd_raise_memfd(int fd, const char *name);

#endif
