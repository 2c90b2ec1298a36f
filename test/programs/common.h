/*
 * common.h: helpers shared by the programs that the integration tests run
 * under the profiler.
 *
 * The programs print the truth of what they allocated as lines
 *   truth <phase> <site> <size> <alloc_objects> <alloc_bytes>
 *         <inuse_objects> <inuse_bytes> <file> <line>
 * so that the tests compare the profile with what really happened.  Their own
 * bookkeeping (slot arrays) comes from mmap, never from malloc, so that it
 * cannot show up in the profile they are checked against.
 */
#ifndef MPROF_TEST_PROGRAMS_COMMON_H
#define MPROF_TEST_PROGRAMS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/*
 * An allocation site must be the leaf frame of the sampled stack, under its
 * own name: no inlining into the caller, no ".constprop" clone whose
 * symbol would carry another name, and no folding of two identical sites
 * into one body (GCC's -fipa-icf at -O2), which leaves one address with
 * two names.  A site must also not end in a tail call to malloc (its frame
 * would be gone): use the result, as prog_check() does.
 */
#if defined(__clang__)
#define SITE __attribute__((noinline))
#else
#define SITE __attribute__((noipa))
#endif

/* Stores through a volatile pointer keep the compiler from eliding a
 * malloc/free pair whose block is otherwise unused. */
static void *volatile prog_sink;

static inline void prog_use(void *p)
{
    prog_sink = p;
}

/* Zeroed pointer slots from mmap: invisible to the heap profile. */
static inline void **prog_slots(size_t n)
{
    if (n == 0)
        n = 1;
    void *p = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(99);
    }
    return (void **)p;
}

static inline void prog_fail(const char *what)
{
    dprintf(2, "%s failed (errno %d)\n", what, errno);
    exit(98);
}

static inline void *prog_check(void *p, const char *what)
{
    if (!p)
        prog_fail(what);
    prog_use(p);
    return p;
}

/*
 * The body of a site: n blocks from `call` (an expression) into s[0..n),
 * and `line` set to the line of the call.  Inside a macro both are the
 * line the outermost macro is used on, so a site written with it must be
 * written on one line.
 */
#define PROG_FILL(s, n, call, line, what)                                     \
    for (size_t i_ = 0; i_ < (n); i_++) {                                     \
        (s)[i_] = (call); (line) = __LINE__;                                  \
        prog_check((s)[i_], what);                                            \
    }

/* A site `name(s, n)` that allocates n blocks of `size` with malloc into s,
 * its line in `line`: the shape of most sites.  Use it on one line. */
#define PROG_MALLOC_SITE(name, size, line)                                    \
    SITE static void name(void **s, size_t n)                                 \
    {                                                                         \
        PROG_FILL(s, n, malloc(size), line, "malloc");                        \
    }

/* A site `name(seed)` that allocates and frees blocks of 16 to 16+spread-1
 * bytes for as long as `go` holds, and `name##_thread`, its thread start
 * (the seed in the argument): the background load that other threads'
 * sites, forks and exit must not be disturbed by. */
#define PROG_CHURN_SITE(name, spread, go)                                     \
    SITE static void name(unsigned seed)                                      \
    {                                                                         \
        while (go) {                                                          \
            seed = seed * 1103515245u + 12345u;                               \
            void *p = malloc(16 + (seed >> 16) % (spread));                   \
            prog_use(p);                                                      \
            free(p);                                                          \
        }                                                                     \
    }                                                                         \
    static void *name##_thread(void *arg)                                     \
    {                                                                         \
        name((unsigned)(intptr_t)arg);                                        \
        return NULL;                                                          \
    }

/* One write(2) per line: no stdio buffer to duplicate across fork. */
static inline void prog_truth(int phase, const char *site, size_t size,
                              size_t n, size_t keep, const char *file, int line)
{
    dprintf(1, "truth %d %s %zu %zu %zu %zu %zu %s %d\n", phase, site, size, n,
            n * size, keep, keep * size, file, line);
}

static inline long prog_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void prog_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Start n threads fn((void *)(first + t)) into th[0..n). */
static inline void prog_threads(pthread_t *th, int n, void *(*fn)(void *), int first)
{
    for (int t = 0; t < n; t++)
        if (pthread_create(&th[t], NULL, fn, (void *)(intptr_t)(first + t)))
            prog_fail("pthread_create");
}

/* Poll for a file: used by programs that ask for a dump of themselves. */
static inline int prog_wait_file(const char *path, long timeout_ms)
{
    long start = prog_now_ms();
    while (prog_now_ms() - start < timeout_ms) {
        if (access(path, F_OK) == 0)
            return (int)(prog_now_ms() - start);
        prog_sleep_ms(10);
    }
    return -1;
}

/* Thread tid of this process as /proc/self/task/<tid>/syscall shows it:
 * 1 if it is blocked in a system call, its number in *nr and its first
 * argument in *arg1; 0 if it runs, is gone, or cannot be read.  Plain
 * system calls: no lock, no allocation, nothing a profile would see.
 * (How a test knows a thread is parked in the very call it waits in.) */
static inline int prog_syscall_of(pid_t tid, long *nr, unsigned long *arg1)
{
    char path[64], buf[128];
    if (tid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return sscanf(buf, "%ld %lx", nr, arg1) == 2; /* "running" has neither */
}

/* Is thread tid blocked in futex(2) on a word of [obj, obj + size)? */
static inline int prog_futex_wait_on(pid_t tid, const void *obj, size_t size)
{
    long nr;
    unsigned long addr;
    return prog_syscall_of(tid, &nr, &addr) && nr == SYS_futex &&
           addr >= (uintptr_t)obj && addr < (uintptr_t)obj + size;
}

#endif
