/* fdmove.c: see fdmove.h. */
#include "fdmove.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOP_CAP 4096
#define ROOM 64 /* below the limit: the program may still open a few */

static int high_base(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur <= 2 * ROOM)
        return -1;
    rlim_t top = rl.rlim_cur < TOP_CAP ? rl.rlim_cur : TOP_CAP;
    return (int)(top - ROOM);
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int mprof_fd_raise(int fd)
{
    int base = high_base();
    if (fd < 0 || base < 0 || fd >= base)
        return fd;
    int saved = errno;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (hi < 0) {
        errno = saved;
        return fd;
    }
    if (same_file(fd, hi))
        close(fd);
    errno = saved;
    return hi;
}
