/*
 * host_smallstack: allocations on small stacks, and exit() from one.
 *
 *   host_smallstack --altstack BYTES [--n N] [--size S]
 *       A SIGUSR1 handler running on an alternate signal stack of BYTES
 *       (8 KiB is the classic SIGSTKSZ; Rust and Go run handlers on such
 *       stacks) allocates S bytes at alt_site and keeps them; the program
 *       raises SIGUSR1 N times (default 20), prints "handled N" and the
 *       truth of alt_site, and exits 0.
 *   host_smallstack --thread-stack BYTES [--n N] [--size S]
 *       A thread created with a stack of BYTES (thread pools ask for small
 *       stacks) allocates N blocks of S bytes (default 1000 of 100) at
 *       thread_site and keeps them, prints their truth and "worker exits",
 *       and calls exit(0) itself: the exit handlers run on its stack.
 */
#include "hprog.h"

#include <pthread.h>

static volatile sig_atomic_t g_handled;
static size_t g_size = 100;
static long g_n = 20;
static void **g_keep;

enum { ALT_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *alt_site(void)
{
    return prog_check(malloc(g_size), "malloc"); /* not a tail call */
}

static void on_usr1(int sig)
{
    (void)sig;
    void *p = alt_site();
    if (p)
        memset(p, 1, g_size < 64 ? g_size : 64);
    g_keep[g_handled] = p;
    g_handled++;
}

static int altstack(size_t bytes)
{
    stack_t ss;
    ss.ss_sp = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ss.ss_size = bytes;
    ss.ss_flags = 0;
    if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0) {
        dprintf(1, "sigaltstack: %s\n", strerror(errno));
        return 1;
    }
    hp_sigaction(SIGUSR1, on_usr1, SA_ONSTACK, false, NULL);
    for (long i = 0; i < g_n; i++)
        raise(SIGUSR1);
    dprintf(1, "handled %d\n", (int)g_handled);
    prog_truth(1, "alt_site", g_size, (size_t)g_n, (size_t)g_n, __FILE__, ALT_LINE);
    return 0;
}

enum { THREAD_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *thread_site(void)
{
    return prog_check(malloc(g_size), "malloc");
}

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_n; i++)
        g_keep[i] = thread_site();
    prog_truth(1, "thread_site", g_size, (size_t)g_n, (size_t)g_n, __FILE__, THREAD_LINE);
    dprintf(1, "worker exits\n");
    exit(0);
}

static int thread_stack(size_t bytes)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    int rc = pthread_attr_setstacksize(&a, bytes);
    if (rc != 0) {
        dprintf(1, "pthread_attr_setstacksize: %s\n", strerror(rc));
        return 2;
    }
    pthread_t t;
    rc = pthread_create(&t, &a, worker, NULL);
    if (rc != 0) {
        dprintf(1, "pthread_create: %s\n", strerror(rc));
        return 2;
    }
    pthread_join(t, NULL);
    return 1; /* not reached: the worker exits */
}

int main(int argc, char **argv)
{
    g_size = (size_t)hp_long(argc, argv, "--size", 100);
    const char *alt = hp_arg(argc, argv, "--altstack");
    g_n = hp_long(argc, argv, "--n", alt ? 20 : 1000);
    g_keep = prog_slots((size_t)g_n);
    if (alt)
        return altstack((size_t)strtoul(alt, NULL, 0));
    const char *ts = hp_arg(argc, argv, "--thread-stack");
    if (ts)
        return thread_stack((size_t)strtoul(ts, NULL, 0));
    return 2;
}
