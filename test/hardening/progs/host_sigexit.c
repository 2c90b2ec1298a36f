/*
 * host_sigexit: exit() from a signal handler that interrupted malloc.
 *
 *   host_sigexit --loop mprof|libc [--ms MS]
 *
 * First KEEP_N blocks of KEEP_SIZE bytes are allocated at sigexit_site and
 * kept.  Then a timer fires SIGALRM after MS ms (default 100), whose
 * handler calls exit(3), while the main thread replaces blocks of 2..62 KB
 * (61 sizes) at random for ever: most calls reach the allocator's arena,
 * so the signal usually lands with the arena's lock held.  glibc's exit() needs no
 * heap, so the program exits 3; anything that allocates during exit waits
 * for ever on that lock.
 *
 *   --loop mprof   the loop calls malloc and free: under the profiler, the
 *                  interrupted frame may be the profiler's own code;
 *   --loop libc    the loop calls glibc's malloc and free directly (looked
 *                  up in libc.so.6 itself), so the interrupted frame is
 *                  always glibc's and never the profiler's: an exit dump
 *                  is always possible, and at MPROF_MEM_RATE=1 it must hold
 *                  exactly the KEEP_N blocks.
 * Prints the truth of sigexit_site first.
 */
#include "hprog.h"

#include <dlfcn.h>
#include <sys/time.h>

#define KEEP_N 100
#define KEEP_SIZE 4321

enum { KEEP_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *sigexit_site(void)
{
    return prog_check(malloc(KEEP_SIZE), "malloc");
}

static void on_alarm(int sig)
{
    (void)sig;
    exit(3);
}

int main(int argc, char **argv)
{
    const char *loop = hp_arg(argc, argv, "--loop");
    long ms = hp_long(argc, argv, "--ms", 100);
    if (!loop)
        return 2;
    void *(*mal)(size_t) = malloc;
    void (*fre)(void *) = free;
    if (strcmp(loop, "libc") == 0) {
        void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        mal = libc ? (void *(*)(size_t))dlsym(libc, "malloc") : NULL;
        fre = libc ? (void (*)(void *))dlsym(libc, "free") : NULL;
        if (!mal || !fre)
            prog_fail("glibc's malloc and free");
    }
    void **keep = prog_slots(KEEP_N);
    for (int i = 0; i < KEEP_N; i++)
        keep[i] = sigexit_site();
    prog_truth(1, "sigexit_site", KEEP_SIZE, KEEP_N, KEEP_N, __FILE__, KEEP_LINE);

    static void *slot[4096];
    signal(SIGALRM, on_alarm);
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
    uint64_t x = 88172645463325252ULL;
    for (;;) {
        hp_rand(&x);
        unsigned i = x % 4096;
        fre(slot[i]);
        slot[i] = mal(2000 + (x >> 20) % 61 * 1000); /* 61 sizes: a small profile */
    }
}
