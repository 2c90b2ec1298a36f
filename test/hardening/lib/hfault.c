/*
 * hfault.c: fault injection for mprof's own system calls.
 *
 * LD_PRELOAD="libhfault.so libmprof.so" puts these definitions in front of
 * libc's, so the calls libmprof.so makes through its PLT land here first.
 * Only mprof's profile files are targeted: a file is "ours" when the path
 * opened ends in ".tmp" (mprof writes <name>.tmp, then renames it).  The
 * program's own I/O passes through untouched, so its output can be compared
 * with a run without faults.
 *
 *   HFAULT_SPACE=<bytes>      a .tmp file takes this many bytes, then write
 *                             fails with ENOSPC (a disk that fills up midway)
 *   HFAULT_OPEN=<errno>       opening a .tmp file fails (EROFS, EACCES, ...)
 *   HFAULT_SYNC=<errno>       fdatasync of a .tmp file fails (EIO, ...)
 *   HFAULT_RENAME=<errno>     renaming a .tmp file fails (EXDEV, ...)
 *   HFAULT_ARENA_CHUNKS=<n>   after n mmaps with MAP_NORESERVE (the way
 *                             core/record/arena.c maps its chunks; glibc's own
 *                             mmaps are internal calls and never come here),
 *                             such mmaps fail with ENOMEM: mprof's arena
 *                             reaches its cap
 *
 * Errno values are names (ENOSPC) or numbers.  Nothing here allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096

static int (*real_open)(const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_fcntl)(int, int, ...);

static long space = -1; /* bytes per .tmp file; -1 = unlimited */
static int open_errno, sync_errno, rename_errno;
static long arena_chunks = -1;
static int ready;

static unsigned char is_tmp[MAX_FD];
static long written[MAX_FD];

static int parse_errno(const char *s)
{
    static const struct { const char *name; int value; } names[] = {
        {"ENOSPC", ENOSPC}, {"EIO", EIO},     {"EROFS", EROFS},
        {"EACCES", EACCES}, {"EXDEV", EXDEV}, {"EDQUOT", EDQUOT},
        {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM},
    };
    if (!s || !*s)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].value;
    return atoi(s);
}

static long parse_long(const char *s, long dflt)
{
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

/* dlsym may allocate: that reaches libmprof.so's malloc, which copes. */
static void setup(void)
{
    if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        return;
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    real_fcntl = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
    space = parse_long(getenv("HFAULT_SPACE"), -1);
    open_errno = parse_errno(getenv("HFAULT_OPEN"));
    sync_errno = parse_errno(getenv("HFAULT_SYNC"));
    rename_errno = parse_errno(getenv("HFAULT_RENAME"));
    arena_chunks = parse_long(getenv("HFAULT_ARENA_CHUNKS"), -1);
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

static int ends_with_tmp(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n >= 4 && strcmp(path + n - 4, ".tmp") == 0;
}

static int ours(int fd) { return fd >= 0 && fd < MAX_FD && is_tmp[fd]; }

int open(const char *path, int flags, ...)
{
    setup();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int tmp = ends_with_tmp(path);
    if (tmp && open_errno) {
        errno = open_errno;
        return -1;
    }
    int fd = real_open(path, flags, mode);
    if (fd >= 0 && fd < MAX_FD) {
        is_tmp[fd] = (unsigned char)tmp;
        written[fd] = 0;
    }
    return fd;
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

/* mprof moves its descriptors out of the program's way (F_DUPFD_CLOEXEC):
 * the copy of a .tmp file's descriptor is one of ours too. */
int fcntl(int fd, int cmd, ...)
{
    setup();
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    int r = real_fcntl(fd, cmd, arg);
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0 && r < MAX_FD && ours(fd)) {
        is_tmp[r] = 1;
        written[r] = written[fd];
    }
    return r;
}

int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

ssize_t write(int fd, const void *buf, size_t n)
{
    setup();
    if (ours(fd) && space >= 0) {
        long left = space - written[fd];
        if (left <= 0) {
            errno = ENOSPC;
            return -1;
        }
        if ((long)n > left)
            n = (size_t)left; /* a short write first, as a filling disk does */
        ssize_t w = real_write(fd, buf, n);
        if (w > 0)
            written[fd] += w;
        return w;
    }
    return real_write(fd, buf, n);
}

int close(int fd)
{
    setup();
    if (fd >= 0 && fd < MAX_FD)
        is_tmp[fd] = 0;
    return real_close(fd);
}

int fdatasync(int fd)
{
    setup();
    if (ours(fd) && sync_errno) {
        errno = sync_errno;
        return -1;
    }
    return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
    setup();
    if (ends_with_tmp(from) && rename_errno) {
        errno = rename_errno;
        return -1;
    }
    return real_rename(from, to);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    static long chunks;
    setup();
    if (arena_chunks >= 0 && (flags & MAP_NORESERVE) && fd < 0 &&
        __atomic_add_fetch(&chunks, 1, __ATOMIC_RELAXED) > arena_chunks) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return real_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));
