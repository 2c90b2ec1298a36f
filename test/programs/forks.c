/*
 * forks: fork while other threads allocate, and fork + exec.
 *
 *   forks [--forks N] [--no-exec]
 *
 * The parent allocates at parent_site_before, starts two threads that
 * allocate and free at fork_churn, then forks N children one after another.
 * Each child allocates at child_site only and exits through exit(), so its
 * own exit dump runs; its profile must hold nothing of the parent's.  Then
 * the parent forks a child that execs this program with --exec-child, which
 * allocates at exec_site (profiled again because LD_PRELOAD is inherited).
 * Finally the parent stops its threads and allocates at parent_site_after.
 *
 * Output: "parent|child|exec <pid>" lines and truth lines whose phase is
 * 1 (parent), 2 (fork child) or 3 (exec'd program).
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#define BEFORE_N 1000
#define BEFORE_SIZE 48
#define AFTER_N 500
#define AFTER_SIZE 56
#define CHILD_N 2000
#define CHILD_SIZE 80
#define EXEC_N 3000
#define EXEC_SIZE 112

static atomic_bool g_stop;
static int line_before, line_after, line_child, line_exec;

PROG_MALLOC_SITE(parent_site_before, BEFORE_SIZE, line_before)

PROG_MALLOC_SITE(parent_site_after, AFTER_SIZE, line_after)

PROG_MALLOC_SITE(child_site, CHILD_SIZE, line_child)

PROG_MALLOC_SITE(exec_site, EXEC_SIZE, line_exec)

PROG_CHURN_SITE(fork_churn, 256, !atomic_load_explicit(&g_stop, memory_order_relaxed))

static void child_main(void)
{
    child_site(prog_slots(CHILD_N), CHILD_N);
    dprintf(1, "child %d\n", (int)getpid());
    prog_truth(2, "child_site", CHILD_SIZE, CHILD_N, CHILD_N, __FILE__,
               line_child);
    exit(0); /* exit, not _exit: the child's exit dump must run */
}

static int exec_child_main(void)
{
    exec_site(prog_slots(EXEC_N), EXEC_N);
    dprintf(1, "exec %d\n", (int)getpid());
    prog_truth(3, "exec_site", EXEC_SIZE, EXEC_N, EXEC_N, __FILE__, line_exec);
    return 0;
}

/* Returns false if the child did not exit with status 0. */
static bool wait_ok(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool fork_children(int n)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            prog_fail("fork");
        if (pid == 0)
            child_main();
        ok &= wait_ok(pid);
    }
    return ok;
}

static bool fork_exec(void)
{
    pid_t pid = fork();
    if (pid < 0)
        prog_fail("fork");
    if (pid == 0) {
        execl("/proc/self/exe", "forks", "--exec-child", (char *)NULL);
        _exit(127);
    }
    return wait_ok(pid);
}

int main(int argc, char **argv)
{
    int nforks = 3;
    bool do_exec = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--exec-child") == 0)
            return exec_child_main();
        if (strcmp(argv[i], "--forks") == 0 && i + 1 < argc)
            nforks = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-exec") == 0)
            do_exec = false;
    }
    dprintf(1, "parent %d\n", (int)getpid());
    parent_site_before(prog_slots(BEFORE_N), BEFORE_N);

    pthread_t th[2];
    prog_threads(th, 2, fork_churn_thread, 7);
    prog_sleep_ms(50); /* let the churn threads get going before forking */
    bool ok = fork_children(nforks);
    if (do_exec)
        ok &= fork_exec();
    atomic_store(&g_stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);

    parent_site_after(prog_slots(AFTER_N), AFTER_N);
    prog_truth(1, "parent_site_before", BEFORE_SIZE, BEFORE_N, BEFORE_N,
               __FILE__, line_before);
    prog_truth(1, "parent_site_after", AFTER_SIZE, AFTER_N, AFTER_N, __FILE__,
               line_after);
    dprintf(1, ok ? "done\n" : "children failed\n");
    return ok ? 0 : 1;
}
