/*
 * host_endings: ways a program ends threads, handles signals and forks that
 * a profiler's own threads, stacks and locks could get in the way of.
 *
 *   host_endings --thrd-exit      main allocates, then leaves with C11's
 *                                 thrd_exit (glibc's internal exit, not
 *                                 pthread_exit); a worker ends later
 *   host_endings --cancel-main    main cancels itself
 *   host_endings --cancel-setuid  a worker with a cancel pending calls
 *                                 setuid (not a cancellation point) and
 *                                 goes on; then main leaves by pthread_exit
 *   host_endings --deep-handler   a SIGALRM handler with a 512 KiB frame
 *                                 fires every 500 us while the main thread
 *                                 allocates 64 KiB blocks
 *   host_endings --fflush-fork    a thread flushes a fopencookie stream
 *                                 whose write callback allocates (glibc
 *                                 holds its list lock meanwhile) while the
 *                                 main thread forks 300 children
 *
 * Each prints what it did and exits 0 (the thread modes: the process ends
 * when its last thread does).
 */
#include "hprog.h"

#include <sys/time.h>
#include <sys/wait.h>
#include <threads.h>

SITE static void *ending_site(size_t n)
{
    return prog_check(malloc(n), "malloc");
}

static void allocate(int n)
{
    for (int i = 0; i < n; i++)
        free(ending_site(1000 + (size_t)i % 64));
}

static int worker(void *arg)
{
    (void)arg;
    prog_sleep_ms(50);
    allocate(200);
    dprintf(1, "worker done\n");
    return 0;
}

static int thrd_exit_main(void)
{
    allocate(1000);
    thrd_t t;
    if (thrd_create(&t, worker, NULL) != thrd_success)
        prog_fail("thrd_create");
    dprintf(1, "main leaves\n");
    thrd_exit(0);
}

static void *pthread_worker(void *arg)
{
    return (void *)(intptr_t)worker(arg);
}

static int cancel_main(void)
{
    allocate(1000);
    pthread_t t;
    if (pthread_create(&t, NULL, pthread_worker, NULL) != 0)
        prog_fail("pthread_create");
    dprintf(1, "main cancels itself\n");
    pthread_cancel(pthread_self());
    pthread_testcancel();
    return 3; /* not reached */
}

static volatile int g_reached;

static void *cancelled_worker(void *arg)
{
    (void)arg;
    allocate(1000);
    pthread_cancel(pthread_self()); /* pending: deferred */
    if (setuid(getuid()) != 0)
        dprintf(1, "setuid: %s\n", strerror(errno));
    g_reached = 1;
    pthread_testcancel();
    return NULL;
}

static int cancel_setuid(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, cancelled_worker, NULL) != 0)
        prog_fail("pthread_create");
    void *ret;
    pthread_join(t, &ret);
    dprintf(1, "cancelled %d, went on after setuid %d\n", ret == PTHREAD_CANCELED,
            (int)g_reached);
    pthread_exit(NULL);
}

static volatile sig_atomic_t g_alarms;

static void on_alarm(int sig)
{
    (void)sig;
    volatile char big[512 * 1024]; /* fits the thread's stack, not a small one */
    big[0] = 1;
    big[sizeof big - 1] = 1;
    g_alarms++;
}

static int deep_handler(void)
{
    signal(SIGALRM, on_alarm);
    struct itimerval it = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < 200000; i++)
        free(ending_site(64 * 1024));
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    dprintf(1, "allocated 200000, alarms %s\n", g_alarms > 0 ? "some" : "none");
    return 0;
}

static volatile int g_stop;

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    (void)c;
    (void)buf;
    allocate(20); /* a logger that allocates, under libio's list lock */
    return (ssize_t)n;
}

static void *flusher(void *arg)
{
    (void)arg;
    cookie_io_functions_t io = {.write = cookie_write};
    FILE *f = fopencookie(NULL, "w", io);
    while (!g_stop) {
        fputs("x", f);
        fflush(NULL);
        prog_sleep_ms(0);
    }
    fclose(f);
    return NULL;
}

static int fflush_fork(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, flusher, NULL) != 0)
        prog_fail("pthread_create");
    int ok = 0;
    for (int i = 0; i < 300; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(7);
        int st;
        if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7)
            ok++;
    }
    g_stop = 1;
    pthread_join(t, NULL);
    dprintf(1, "forked %d ok\n", ok);
    return 0;
}

int main(int argc, char **argv)
{
    if (hp_flag(argc, argv, "--thrd-exit"))
        return thrd_exit_main();
    if (hp_flag(argc, argv, "--cancel-main"))
        return cancel_main();
    if (hp_flag(argc, argv, "--cancel-setuid"))
        return cancel_setuid();
    if (hp_flag(argc, argv, "--deep-handler"))
        return deep_handler();
    if (hp_flag(argc, argv, "--fflush-fork"))
        return fflush_fork();
    dprintf(2, "usage: host_endings --thrd-exit|--cancel-main|--cancel-setuid|"
               "--deep-handler|--fflush-fork\n");
    return 2;
}
