/* fdmove.c: see fdmove.h. */
#include "fdmove.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A process starts with a table of 64 descriptors (BITS_PER_LONG, the
 * kernel's NR_OPEN_DEFAULT). Growing it in a process with threads waits
 * for an RCU grace period (expand_fdtable: synchronize_rcu), 10-25 ms that
 * a short-lived program would pay at its exit dump: so mprof stays in the
 * top quarter of that first table, well above the numbers programs count
 * on, and below where the table must grow.
 */
#define FIRST_TABLE 64
#define BASE 48

static int high_base(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < FIRST_TABLE)
        return -1;
    return BASE;
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
