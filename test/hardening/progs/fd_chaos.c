/*
 * fd_chaos: a program that takes every file descriptor away.
 *
 *   fd_chaos --close --out PREFIX    closes fds 0..1023
 *   fd_chaos --dup2 --out PREFIX     dup2s /dev/null over fds 0..1023, or up
 *                                    to 64 below RLIMIT_NOFILE if that is
 *                                    lower (1024 for most users)
 *   fd_chaos --exhaust               opens /dev/null until EMFILE
 *
 * --close and --dup2: FD_N blocks of FD_SIZE bytes are allocated at fd_site
 * before, and FD_N more after, all kept.  Then the program asks for a dump
 * (PREFIX is MPROF_OUT) and waits for its mutex file, and exits: 0 if the
 * dump appeared, 3 if not.  Its stdout is gone, so it cannot say more: the
 * test knows the totals (2 * FD_N blocks of FD_SIZE, all live).
 *
 * --exhaust: with no descriptor left, a dump cannot be written; mprof must
 * say so and the program must not notice.  Its stderr goes to a pipe the
 * program reads itself, so it knows when mprof has spoken; then it frees
 * the descriptors, copies what mprof said to its real stderr, prints
 * "exhausted <n fds>" and exits 0, and the exit dump is written.
 */
#include "hprog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>

#define FD_N 100
#define FD_SIZE 777
#define HEADROOM 64

SITE static void *fd_site(void)
{
    return prog_check(malloc(FD_SIZE), "malloc");
}

static int fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 1024 + HEADROOM)
        return 1024;
    return (int)rl.rlim_cur - HEADROOM;
}

/* What mprof writes to fd 2 while every descriptor is taken; "" if it says
 * nothing within 10 s. */
static void read_mprof_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    long start = prog_now_ms();
    while (n + 1 < cap && !memchr(buf, '\n', n) && prog_now_ms() - start < 10000) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
    }
}

static int exhaust(void)
{
    int pipefd[2];
    int real_err = dup(2);
    if (real_err < 0 || pipe(pipefd) < 0 || dup2(pipefd[1], 2) < 0)
        return 4;
    close(pipefd[1]);
    void **keep = prog_slots(FD_N);
    for (int i = 0; i < FD_N; i++)
        keep[i] = fd_site();
    int first = -1, last = -1, n = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            break;
        if (first < 0)
            first = fd;
        last = fd;
        n++;
    }
    int err = errno;
    kill(getpid(), SIGUSR2);
    char said[2048];
    read_mprof_line(pipefd[0], said, sizeof said);
    for (int fd = first; first >= 0 && fd <= last; fd++)
        if (fd != pipefd[0] && fd != real_err)
            close(fd);
    dup2(real_err, 2);
    dprintf(2, "%s", said);
    dprintf(1, "exhausted %d fds (%s)\n", n, strerror(err));
    return 0;
}

int main(int argc, char **argv)
{
    dprintf(1, "pid %d\n", (int)getpid());
    if (hp_flag(argc, argv, "--exhaust"))
        return exhaust();
    const char *out = hp_arg(argc, argv, "--out");
    if (!out)
        return 2;
    void **keep = prog_slots(2 * FD_N);
    for (int i = 0; i < FD_N; i++)
        keep[i] = fd_site();
    if (hp_flag(argc, argv, "--dup2")) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0)
            return 4;
        int top = fd_limit();
        for (int fd = 0; fd < top; fd++)
            if (fd != null)
                dup2(null, fd);
        close(null);
    } else {
        for (int fd = 0; fd < 1024; fd++)
            close(fd);
    }
    for (int i = FD_N; i < 2 * FD_N; i++)
        keep[i] = fd_site();
    /* Some lock traffic with no descriptor left. */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    int ms = hp_dump_and_wait(out, 1, "mutex", 10000);
    return ms >= 0 ? 0 : 3;
}
