/*
 * sigalrm_malloc: malloc and free inside a signal handler that fires
 * every few microseconds while the program allocates and locks.
 *
 *   sigalrm_malloc [--ms D] [--us U]
 *
 * malloc is not async-signal-safe, so the program keeps glibc out of
 * trouble the way such programs get away with it: the handler allocates
 * and frees one block of a size class nothing else uses (HANDLER_SIZE),
 * whose tcache bin is filled first, so the handler never needs glibc's
 * arena lock.  What is left to go wrong is mprof: the handler's malloc may
 * interrupt mprof in the middle of a sample, an unwind or a dump request,
 * on the same thread.  Prints the truth of main_site (exact at rate 1) and
 * of handler_site (an upper bound: an allocation that interrupts mprof
 * itself is not sampled), "verify ok", "done".
 */
#include "hprog.h"

#include <pthread.h>
#include <sys/time.h>

#define MAIN_SIZE 136
#define HANDLER_SIZE 1000

static volatile sig_atomic_t g_in_handler;
static volatile uint64_t g_handled;
static int g_main_line, g_handler_line;

SITE static void *handler_site(void)
{
    void *p = malloc(HANDLER_SIZE); g_handler_line = __LINE__;
    return p;
}

static void on_alarm(int sig)
{
    (void)sig;
    int e = errno;
    void *p = handler_site();
    if (!p)
        hp_damaged("malloc in the handler");
    hp_fill(p, HANDLER_SIZE, g_handled);
    hp_check(p, HANDLER_SIZE, g_handled);
    free(p);
    g_handled++;
    errno = e;
}

SITE static void *main_site(void)
{
    void *p = prog_check(malloc(MAIN_SIZE), "malloc"); g_main_line = __LINE__;
    return p;
}

int main(int argc, char **argv)
{
    long ms = hp_long(argc, argv, "--ms", 1000), us = hp_long(argc, argv, "--us", 50);
    dprintf(1, "pid %d\n", (int)getpid());
    void *warm[7]; /* glibc's tcache keeps 7 blocks per size class */
    for (int i = 0; i < 7; i++)
        warm[i] = prog_check(malloc(HANDLER_SIZE), "malloc");
    for (int i = 0; i < 7; i++)
        free(warm[i]);
    hp_sigaction(SIGALRM, on_alarm, SA_RESTART, false, NULL);
    struct itimerval it = {{0, us}, {0, us}};
    setitimer(ITIMER_REAL, &it, NULL);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    uint64_t n = 0, x = 42;
    long start = prog_now_ms();
    while (prog_now_ms() - start < ms) {
        for (int i = 0; i < 100; i++, n++) {
            void *p = main_site();
            uint64_t tag = hp_rand(&x);
            hp_fill(p, MAIN_SIZE, tag);
            pthread_mutex_lock(&m);
            hp_check(p, MAIN_SIZE, tag);
            pthread_mutex_unlock(&m);
            free(p);
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    if (g_handled == 0)
        hp_damaged("the handler never ran");
    dprintf(1, "handled %llu\n", (unsigned long long)g_handled);
    dprintf(1, "truth 1 main_site %d %llu %llu 0 0 %s %d\n", MAIN_SIZE,
            (unsigned long long)n, (unsigned long long)n * MAIN_SIZE, __FILE__, g_main_line);
    dprintf(1, "truth 2 handler_site %d %llu %llu 0 0 %s %d\n", HANDLER_SIZE,
            (unsigned long long)g_handled, (unsigned long long)g_handled * HANDLER_SIZE,
            __FILE__, g_handler_line);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
