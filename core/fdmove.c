/* fdmove.c: see fdmove.h. */
#include "fdmove.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

int mprof_fd_raise_if(int fd, int (*ours)(int fd, const void *arg), const void *arg)
{
    if (fd < 0)
        return fd;
    int saved = errno, base = high_base();
    int hi = base < 0 || fd >= base ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (hi < 0) { /* not moved: fd itself, if it is ours */
        if (ours && !ours(fd, arg)) {
            errno = EAGAIN;
            return -1;
        }
        errno = saved;
        return fd;
    }
    if (ours && !ours(hi, arg)) {
        /* The program put a file of its own at that number before the
         * move (dup2): hi is a copy of its file, and ours went with the
         * dup2. Close the copy, and nothing of the program's. */
        close(hi);
        errno = EAGAIN;
        return -1;
    }
    if (same_file(fd, hi))
        close(fd); /* still ours: else the program's since, and left open */
    errno = saved;
    return hi;
}

/* The file at path is the one fd names. */
static int is_path(int fd, const void *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int mprof_fd_raise(int fd, const char *path)
{
    return mprof_fd_raise_if(fd, path ? is_path : NULL, path);
}

/* Whether fd's name, as /proc/self/fd shows it ("/memfd:<name> (deleted)"),
 * begins as `nm` does: its first 40 bytes (publish.h's names hold the pid
 * there).  Yes where /proc cannot say (not mounted).  No stdio: this runs
 * in signal handlers. */
static int memfd_named(int fd, const char *nm)
{
    char path[32] = "/proc/self/fd/", digits[12], link[48];
    size_t n = 0, at = sizeof "/proc/self/fd/" - 1;
    for (unsigned v = (unsigned)fd; n == 0 || v; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    while (n)
        path[at++] = digits[--n];
    path[at] = '\0';
    ssize_t len = readlink(path, link, sizeof link);
    if (len < 0)
        return 1;
    static const char prefix[] = "/memfd:";
    size_t p = sizeof prefix - 1, room = (size_t)len > p ? (size_t)len - p : 0;
    size_t want = strlen(nm) < room ? strlen(nm) : room;
    return (size_t)len >= p && memcmp(link, prefix, p) == 0 && memcmp(link + p, nm, want) == 0;
}

/* The memfd just made: empty, sealable (F_GET_SEALS 0; any other file
 * says EINVAL, a sealed one F_SEAL_SEAL), and named as it was. */
static int fresh_memfd(int fd, const void *nm)
{
    struct stat st;
    return fcntl(fd, F_GET_SEALS) == 0 && fstat(fd, &st) == 0 && st.st_size == 0 &&
           memfd_named(fd, nm);
}

int mprof_fd_raise_memfd(int fd, const char *name)
{
    return mprof_fd_raise_if(fd, fresh_memfd, name);
}
