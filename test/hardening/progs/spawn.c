/*
 * spawn: posix_spawn and vfork + exec while threads allocate.
 *
 *   spawn [--n N]      parent: 2N children of itself, then /bin/true
 *   spawn --child      child: allocates at spawned_site, exits 0
 *
 * posix_spawn and vfork run no fork handlers, so mprof's pthread_atfork
 * protocol is bypassed: the children must still start cleanly under
 * mprof (LD_PRELOAD is inherited) and write profiles of their own.  Half
 * the children are started from the main thread, half from a second
 * thread, while two more threads allocate.  The parent prints
 * "spawned <pid>" per child of itself.
 */
#include "hprog.h"

#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

#define SPAWNED_N 50
#define SPAWNED_SIZE 555

extern char **environ;

static const char *g_self;
static int g_n = 4;
static volatile int g_stop;

enum { SPAWNED_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *spawned_site(void)
{
    return prog_check(malloc(SPAWNED_SIZE), "malloc");
}

SITE static void churn_site(uint64_t *x)
{
    free(prog_check(malloc(8 + hp_rand(x) % 1024), "malloc"));
}

static void *churn(void *arg)
{
    uint64_t x = 0xABCDEF12345ULL + (uint64_t)(intptr_t)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED))
        churn_site(&x);
    return NULL;
}

static void reap(pid_t pid, const char *how)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        dprintf(2, "%s child %d: status 0x%x\n", how, (int)pid, st);
        hp_damaged("child status");
    }
}

/* Its own frame: nothing of the caller's is live across vfork. */
__attribute__((noinline)) static pid_t vfork_exec(char **argv)
{
    pid_t pid = vfork();
    if (pid == 0) {
        execve(g_self, argv, environ);
        _exit(127);
    }
    return pid;
}

static void spawn_some(const char *tag)
{
    char *argv[] = {(char *)g_self, "--child", NULL};
    for (int i = 0; i < g_n; i++) {
        pid_t pid;
        int rc = posix_spawn(&pid, g_self, NULL, NULL, argv, environ);
        if (rc != 0) {
            errno = rc;
            prog_fail("posix_spawn");
        }
        reap(pid, "posix_spawn");
        dprintf(1, "spawned %d posix_spawn %s\n", (int)pid, tag);
        pid = vfork_exec(argv);
        if (pid < 0)
            prog_fail("vfork");
        reap(pid, "vfork");
        dprintf(1, "spawned %d vfork %s\n", (int)pid, tag);
    }
}

static void *spawner(void *arg)
{
    (void)arg;
    spawn_some("thread");
    return NULL;
}

int main(int argc, char **argv)
{
    if (hp_flag(argc, argv, "--child")) {
        void **keep = prog_slots(SPAWNED_N);
        for (int i = 0; i < SPAWNED_N; i++)
            keep[i] = spawned_site();
        return 0;
    }
    g_self = argv[0];
    g_n = (int)hp_long(argc, argv, "--n", g_n);
    dprintf(1, "parent %d\n", (int)getpid());
    pthread_t c[2], s;
    for (int i = 0; i < 2; i++)
        pthread_create(&c[i], NULL, churn, (void *)(intptr_t)i);
    pthread_create(&s, NULL, spawner, NULL);
    spawn_some("main");
    pthread_join(s, NULL);
    char *targv[] = {"true", NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "true", NULL, NULL, targv, environ) != 0)
        prog_fail("posix_spawnp true");
    reap(pid, "posix_spawnp");
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    dprintf(1, "truth 2 spawned_site %d %d %d %d %d %s %d\n", SPAWNED_SIZE, SPAWNED_N,
            SPAWNED_N * SPAWNED_SIZE, SPAWNED_N, SPAWNED_N * SPAWNED_SIZE, __FILE__,
            SPAWNED_LINE);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
