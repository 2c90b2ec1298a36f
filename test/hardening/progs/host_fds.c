/*
 * host_fds: a program that owns its descriptors 3..10 while threads sample.
 *
 *   host_fds --in PATH --mode reopen|dup2 [--threads T]
 *
 * First it reports what its first open() returns and which descriptors it
 * holds, as a program that counts on the lowest free number would see them.
 * Then T threads (default 4) allocate at fds_thread_site and take a shared
 * mutex, all along, while the main thread:
 *   reopen: closes 3..1023, as daemons and test runners do, and opens PATH
 *           (read-only) and out.4 .. out.10 in the current directory, which
 *           must land on 3, 4, ..., 10;
 *   dup2:   opens the same files wherever they land and dup2s them onto
 *           3..10, over whatever was there;
 * then reads PATH through fd 3 in small pieces, and writes every piece,
 * tagged, to each of out.4 .. out.10 through fds 4..10, allocating at
 * fds_main_site between pieces.  A library that keeps descriptors of its own
 * in 3..10, or reads or writes ones it did not just open, takes bytes out
 * of the input or puts bytes into the outputs: the test compares the
 * output files with a bare run's, byte for byte.
 *
 * Prints the descriptors and what it read (bytes, FNV-1a hash), the
 * descriptors held after the threads ended, what the next open() returns,
 * and truth lines (the threads' count differs from run to run).
 */
#include "hprog.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>

#define NOUT 7 /* out.4 .. out.10 */
#define THREAD_SIZE 80
#define MAIN_SIZE 120
#define PIECE 61

static volatile int g_stop;
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_shared;
static uint64_t *g_count; /* per thread, 64 bytes apart */
static int g_thread_line, g_main_line;

SITE static void fds_thread_site(uint64_t *x)
{
    void *p = prog_check(malloc(THREAD_SIZE), "malloc"); g_thread_line = __LINE__;
    hp_fill(p, THREAD_SIZE, *x);
    hp_check(p, THREAD_SIZE, *x);
    free(p);
}

SITE static void fds_main_site(void)
{
    void *p = prog_check(malloc(MAIN_SIZE), "malloc"); g_main_line = __LINE__;
    free(p);
}

static void *thread_main(void *arg)
{
    int t = (int)(intptr_t)arg;
    uint64_t x = 0xF00DULL + (uint64_t)t;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        hp_rand(&x);
        fds_thread_site(&x);
        if (x % 8 == 0) {
            pthread_mutex_lock(&g_m);
            g_shared++;
            pthread_mutex_unlock(&g_m);
        }
        __atomic_fetch_add(&g_count[t * 8], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* "fds <label>: 0 1 2 ..." from /proc/self/fd, without the listing's own. */
static void list_fds(const char *label)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        prog_fail("opendir /proc/self/fd");
    int fds[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: no allocation */
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    char line[4096];
    int len = snprintf(line, sizeof line, "fds %s:", label);
    for (int i = 0; i < n && len < (int)sizeof line - 16; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %d", fds[i]);
    dprintf(1, "%s\n", line);
}

static int open_out(int k)
{
    char name[32];
    snprintf(name, sizeof name, "out.%d", k);
    return open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

static void reopen(const char *in)
{
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    char line[256];
    int len = snprintf(line, sizeof line, "opened");
    len += snprintf(line + len, sizeof line - (size_t)len, " %d", open(in, O_RDONLY));
    for (int k = 4; k < 4 + NOUT; k++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %d", open_out(k));
    dprintf(1, "%s\n", line);
}

static void place(const char *in)
{
    int high[1 + NOUT];
    for (int i = 0; i <= NOUT; i++) {
        int fd = i == 0 ? open(in, O_RDONLY) : open_out(3 + i);
        if (fd < 0)
            prog_fail("open");
        high[i] = fcntl(fd, F_DUPFD, 100);
        if (high[i] < 0)
            prog_fail("F_DUPFD");
        close(fd);
    }
    for (int i = 0; i <= NOUT; i++) {
        if (dup2(high[i], 3 + i) != 3 + i)
            prog_fail("dup2");
        close(high[i]);
    }
    dprintf(1, "placed 3..%d\n", 3 + NOUT);
}

int main(int argc, char **argv)
{
    const char *in = hp_arg(argc, argv, "--in");
    const char *mode = hp_arg(argc, argv, "--mode");
    int threads = (int)hp_long(argc, argv, "--threads", 4);
    if (!in || !mode)
        return 2;
    int first = open("/dev/null", O_RDONLY);
    dprintf(1, "first open %d\n", first);
    close(first);
    list_fds("at start");

    pthread_t *tid = hp_start_busy_threads(threads, thread_main, &g_count, 100);

    if (strcmp(mode, "reopen") == 0)
        reopen(in);
    else
        place(in);
    uint64_t hash = 0xcbf29ce484222325ULL;
    long total = 0, pieces = 0;
    char buf[PIECE], rec[PIECE + 32];
    for (;;) {
        ssize_t n = read(3, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            hash = (hash ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
        total += n;
        pieces++;
        for (int fd = 4; fd < 4 + NOUT; fd++) {
            int len = snprintf(rec, sizeof rec, "%d:%ld:", fd, pieces);
            memcpy(rec + len, buf, (size_t)n);
            if (write(fd, rec, (size_t)len + (size_t)n) != len + n)
                prog_fail("write");
            fds_main_site();
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    uint64_t tn = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        tn += g_count[t * 8];
    }
    dprintf(1, "read %ld bytes in %ld pieces, fnv %016llx\n", total, pieces,
            (unsigned long long)hash);
    list_fds("after the threads");
    int next = open("/dev/null", O_RDONLY);
    dprintf(1, "next open %d\n", next);
    close(next);
    for (int fd = 3; fd < 4 + NOUT; fd++)
        close(fd);
    prog_truth(1, "fds_main_site", MAIN_SIZE, (size_t)pieces * NOUT, 0, __FILE__, g_main_line);
    prog_truth(1, "fds_thread_site", THREAD_SIZE, (size_t)tn, 0, __FILE__, g_thread_line);
    return 0;
}
