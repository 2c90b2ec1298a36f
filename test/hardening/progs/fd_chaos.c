/*
 * fd_chaos: a program that takes every file descriptor away.
 *
 *   fd_chaos --close --out PREFIX    closes fds 0..1023
 *   fd_chaos --dup2 --out PREFIX     dup2s /dev/null over fds 0..1023
 *
 * FD_N blocks of FD_SIZE bytes are allocated at fd_site before, and FD_N
 * more after, all kept.  Then the program asks for a dump (PREFIX is
 * MPROF_OUT) and waits for its mutex file, and exits: 0 if the dump
 * appeared, 3 if not.  Its stdout is gone, so it cannot say more: the
 * test knows the totals (2 * FD_N blocks of FD_SIZE, all live).
 */
#include "hprog.h"

#include <fcntl.h>
#include <pthread.h>

#define FD_N 100
#define FD_SIZE 777

SITE static void *fd_site(void)
{
    return prog_check(malloc(FD_SIZE), "malloc");
}

int main(int argc, char **argv)
{
    const char *out = hp_arg(argc, argv, "--out");
    if (!out)
        return 2;
    dprintf(1, "pid %d\n", (int)getpid());
    void **keep = prog_slots(2 * FD_N);
    for (int i = 0; i < FD_N; i++)
        keep[i] = fd_site();
    if (hp_flag(argc, argv, "--dup2")) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0)
            return 4;
        for (int fd = 0; fd < 1024; fd++)
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
