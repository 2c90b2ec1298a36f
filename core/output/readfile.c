/*
 * readfile.c: a whole file into scratch memory (see readfile.h).  The
 * buffer starts at the size fstat reports plus one, so a regular file
 * takes one allocation and sees EOF without growing; a file that reports
 * no size (/proc) starts at 64 KiB and doubles, up to max.
 */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads fd to its end into sc; 0 or -errno. */
static int read_all(mprof_scratch *sc, int fd, size_t max, char **data, size_t *len)
{
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    /* its size and one byte more, so that the read that sees EOF has room */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max;
    if (cap > max)
        cap = max;
    char *buf = mprof_scratch_alloc(sc, cap + 1); /* + the NUL */
    for (;;) {
        if (!buf)
            return -ENOMEM;
        if (n == cap && cap < max) {
            size_t ncap = cap > max / 2 ? max : cap * 2;
            buf = mprof_scratch_grow(sc, buf, cap + 1, ncap + 1);
            cap = ncap;
            continue;
        }
        char probe; /* full at max: one byte more says the file is larger */
        ssize_t r = n < cap ? read(fd, buf + n, cap - n) : read(fd, &probe, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        if (n == cap)
            return -EFBIG;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int mprof_read_file(mprof_scratch *sc, const char *path, size_t max, char **data,
                    size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = read_all(sc, fd, max, data, len);
    close(fd);
    return rc;
}
