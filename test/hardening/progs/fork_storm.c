/*
 * fork_storm: threads forking while other threads allocate and lock.
 *
 *   fork_storm [--threads T] [--forks F]
 *
 * Two churn threads allocate, free and take a contended mutex all along.
 * Each of T forker threads forks F times.  A child allocates CHILD_N blocks
 * of CHILD_SIZE bytes at child_site and keeps them; children of even index
 * leave with exit(10 + k % 5), which runs the exit dump, children of odd
 * index with _exit(10 + k % 5), which does not.  The parent checks every
 * status and prints "child_exit <pid>" for the children that called exit().
 */
#include "hprog.h"

#include <pthread.h>
#include <sys/wait.h>

#define CHILD_N 100
#define CHILD_SIZE 333
#define PARENT_SIZE 4444

static int g_forks = 10;
static volatile int g_stop;
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pid_t *g_pids;
static int *g_codes;

SITE static void *parent_site(void)
{
    return prog_check(malloc(PARENT_SIZE), "malloc");
}

enum { CHILD_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *child_site(void)
{
    return prog_check(malloc(CHILD_SIZE), "malloc");
}

SITE static void churn_site(uint64_t *x)
{
    void *p = prog_check(malloc(8 + hp_rand(x) % 512), "malloc");
    pthread_mutex_lock(&g_m);
    prog_use(p);
    pthread_mutex_unlock(&g_m);
    free(p);
}

static void *churn(void *arg)
{
    uint64_t x = 0x1234567ULL + (uint64_t)(intptr_t)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED))
        churn_site(&x);
    return NULL;
}

static void child(int k)
{
    void **keep = prog_slots(CHILD_N);
    for (int i = 0; i < CHILD_N; i++)
        keep[i] = child_site();
    /* A lock the child owns: no thread of the parent can hold it. */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    if (k % 2 == 0)
        exit(10 + k % 5);
    _exit(10 + k % 5);
}

static void *forker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int f = 0; f < g_forks; f++) {
        int k = t * g_forks + f;
        pid_t pid = fork();
        if (pid < 0)
            prog_fail("fork");
        if (pid == 0)
            child(k);
        g_pids[k] = pid;
        int st;
        if (waitpid(pid, &st, 0) != pid)
            prog_fail("waitpid");
        g_codes[k] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = (int)hp_long(argc, argv, "--threads", 4);
    g_forks = (int)hp_long(argc, argv, "--forks", g_forks);
    int n = threads * g_forks;
    g_pids = hp_map((size_t)n * sizeof *g_pids);
    g_codes = hp_map((size_t)n * sizeof *g_codes);
    dprintf(1, "parent %d\n", (int)getpid());
    void *before = parent_site();
    pthread_t c[2], *f = hp_map((size_t)threads * sizeof *f);
    for (int i = 0; i < 2; i++)
        pthread_create(&c[i], NULL, churn, (void *)(intptr_t)i);
    for (int t = 0; t < threads; t++)
        pthread_create(&f[t], NULL, forker, (void *)(intptr_t)t);
    for (int t = 0; t < threads; t++)
        pthread_join(f[t], NULL);
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    int bad = 0;
    for (int k = 0; k < n; k++) {
        if (g_codes[k] != 10 + k % 5) {
            dprintf(2, "child %d (pid %d) ended with %d, expected %d\n", k, (int)g_pids[k],
                    g_codes[k], 10 + k % 5);
            bad++;
        }
        if (k % 2 == 0)
            dprintf(1, "child_exit %d\n", (int)g_pids[k]);
    }
    if (bad)
        hp_damaged("child exit statuses");
    free(before);
    dprintf(1, "truth 2 child_site %d %d %d %d %d %s %d\n", CHILD_SIZE, CHILD_N,
            CHILD_N * CHILD_SIZE, CHILD_N, CHILD_N * CHILD_SIZE, __FILE__, CHILD_LINE);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
