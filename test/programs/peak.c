/*
 * peak: a heap that spikes and shrinks, grows in steps, or waits to be
 * killed (issue 16).  Its own bookkeeping is mmap'd (common.h); it prints
 * only at the end, so that stdio's buffer comes after the peak.
 *
 *   peak            site_b keeps 5 MiB, site_a takes 200 MiB and frees it,
 *                   site_b takes 15 MiB more: the peak holds A's 200 MiB and
 *                   B's 5, the heap at exit B's 20.  Prints
 *                   "peak_a <objects> <bytes>", "peak_b ...", "final_b ...".
 *   grow STEP N     N times: STEP bytes more at site_grow, then wait until
 *                   the dump it should cause (mprof.<pid>.<k>.heap.pb.gz,
 *                   k = 1..N) is there, at most 30 s, so that the count of
 *                   dumps does not depend on the machine's speed.
 *   wait [handler]  site_wait keeps 3 MiB, site_spike takes 8 MiB and frees
 *                   it (a peak apart from the heap at the end, so that a
 *                   dump writes one), says "ready", and waits for a
 *                   signal; with "handler" its own SIGTERM handler makes it
 *                   say "bye" and exit(3).
 *   ppoll           the same 3 MiB and spike, says "ready", and waits with
 *                   SIGTERM blocked but while in ppoll(2) (as event loops
 *                   do); bare, a SIGTERM kills it there; if it ever comes
 *                   back from ppoll it says "survived" and exits 4.
 *   vfork           the same 3 MiB and spike; a vfork child says "child <pid>"
 *                   and waits for a signal before any exec; once it is
 *                   gone, site_after takes 1 MiB and the program exits 0.
 */
#include "common.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define MIB ((size_t)1 << 20)

SITE void *site_a(size_t n) { return prog_check(malloc(n), "malloc"); }
SITE void *site_b(size_t n) { return prog_check(malloc(n), "malloc"); }
SITE void *site_grow(size_t n) { return prog_check(malloc(n), "malloc"); }
SITE void *site_wait(size_t n) { return prog_check(malloc(n), "malloc"); }
SITE void *site_after(size_t n) { return prog_check(malloc(n), "malloc"); }
SITE void *site_spike(size_t n) { return prog_check(malloc(n), "malloc"); }

/* site_wait's 3 MiB, kept, then 8 MiB at site_spike, freed. */
static void *keep_after_spike(void)
{
    void *p = site_wait(3 * MIB);
    free(site_spike(8 * MIB));
    return p;
}

static int spike(void)
{
    void **a = prog_slots(200), **b = prog_slots(20);
    for (int i = 0; i < 5; i++)
        b[i] = site_b(MIB);
    for (int i = 0; i < 200; i++)
        a[i] = site_a(MIB);
    for (int i = 0; i < 200; i++)
        free(a[i]);
    for (int i = 5; i < 20; i++)
        b[i] = site_b(MIB);
    printf("peak_a 200 %zu\npeak_b 5 %zu\nfinal_b 20 %zu\ndone\n", 200 * MIB, 5 * MIB,
           20 * MIB);
    return 0;
}

/* Polls with access(), which allocates nothing. */
static int wait_for_dump(int k)
{
    char path[128];
    snprintf(path, sizeof path, "mprof.%d.%d.heap.pb.gz", (int)getpid(), k);
    for (int i = 0; i < 30000 && access(path, F_OK) != 0; i++)
        usleep(1000);
    return access(path, F_OK) == 0;
}

static int grow(size_t step, int n)
{
    void **s = prog_slots((size_t)n);
    for (int k = 1; k <= n; k++) {
        s[k - 1] = site_grow(step);
        if (!wait_for_dump(k)) {
            printf("no dump %d\n", k);
            return 1;
        }
    }
    printf("done\n");
    return 0;
}

static volatile sig_atomic_t terminated;
static void on_term(int sig) { terminated = sig; }

static int wait_signal(int handler)
{
    if (handler) {
        struct sigaction sa = {.sa_handler = on_term};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
    void *p = keep_after_spike();
    printf("ready\n");
    fflush(stdout);
    while (!terminated)
        pause();
    printf("bye %d\n", (int)terminated);
    free(p);
    exit(3);
}

static int ppoll_blocked(void)
{
    sigset_t term, none;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &term, NULL);
    void *p = keep_after_spike();
    printf("ready\n");
    fflush(stdout);
    ppoll(NULL, 0, NULL, &none);
    printf("survived\n");
    free(p);
    return 4;
}

/* The child only makes system calls: it shares the parent's memory. */
static int vfork_killed(void)
{
    void *p = keep_after_spike();
    pid_t child = vfork();
    if (child == 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "child %d\n", (int)getpid());
        write(1, line, (size_t)n);
        pause();
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    void *q = site_after(MIB);
    printf("child %s %d\ndone\n", WIFSIGNALED(status) ? "killed" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    prog_use(p);
    prog_use(q);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "vfork") == 0)
        return vfork_killed();
    if (argc > 1 && strcmp(argv[1], "ppoll") == 0)
        return ppoll_blocked();
    if (argc > 3 && strcmp(argv[1], "grow") == 0)
        return grow((size_t)atol(argv[2]), atoi(argv[3]));
    if (argc > 1 && strcmp(argv[1], "wait") == 0)
        return wait_signal(argc > 2 && strcmp(argv[2], "handler") == 0);
    return spike();
}
