/*
 * atomic_file.c: a file that appears whole or not at all: written with raw
 * syscalls to path.tmp (named by outname.h; created new, never opened
 * through a link), synced, renamed; on any failure the temporary is
 * removed.  No stdio, so it is safe at exit and inside the profiler.
 */
#include "atomic_file.h"

#include "fdmove.h"
#include "outname.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* ======================================================================
 * Files
 * ====================================================================== */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * The temporary must be a file we create, never one that is there: in a
 * shared directory (MPROF_OUT=/tmp/x) another user can guess the name from
 * the pid and leave a symlink to one of our files, which O_TRUNC would
 * clobber. O_EXCL | O_NOFOLLOW refuses anything present; a leftover (a
 * crashed process with the same pid, or such a link) is unlinked, which
 * removes the link and not its target, and the create is tried once more.
 */
static int open_new(const char *tmp)
{
    const int flags = O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC;
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(tmp, flags, 0644);
        if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
            fd = open(tmp, flags, 0644);
        if (fd < 0)
            return -errno;
        fd = mprof_fd_raise(fd, tmp);
        if (fd >= 0)
            return fd;
        /* The program dup2'ed onto the number meanwhile (fdmove.h): the
         * file we made is ours to remove, and to make again. */
        int e = errno;
        unlink(tmp);
        if (e != EAGAIN)
            return -e;
    }
    return -EAGAIN;
}

int mprof_write_file_atomic(const char *path, const void *data, size_t n, int sync)
{
    char tmp[PATH_MAX];
    int rc = path ? mprof_outname_tmp(tmp, sizeof tmp, path) : -EINVAL;
    if (rc < 0)
        return rc; /* no name, or one too long */
    int fd = open_new(tmp);
    if (fd < 0)
        return fd;
    rc = write_all(fd, data, n);
    /* Without it a crash of the machine soon after the rename can leave an
     * empty file under the final name; with it every dump waits for the
     * disk (MPROF_SYNC=1 asks). EINVAL: the file system cannot sync. */
    if (rc == 0 && sync && fdatasync(fd) < 0 && errno != EINVAL)
        rc = -errno;
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}
