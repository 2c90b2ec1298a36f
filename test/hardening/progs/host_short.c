/*
 * host_short: many short-lived fork children, as shells and pre-forking
 * servers make them.
 *
 *   host_short [--children N]
 *
 * Forks N children (default 100) one after another.  Each allocates a
 * little (a 64-byte string, formatted and freed) and leaves, even ones with
 * exit(0) (their exit handlers run), odd ones with _exit(0).  The parent
 * checks every status and prints "forked N".  At default settings such a
 * child is most likely to have recorded nothing, and then it must leave
 * nothing behind.
 */
#include "hprog.h"

#include <sys/wait.h>

int main(int argc, char **argv)
{
    int n = (int)hp_long(argc, argv, "--children", 100);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            prog_fail("fork");
        if (pid == 0) {
            char *s = prog_check(malloc(64), "malloc");
            snprintf(s, 64, "child %d", i);
            free(s);
            if (i % 2 == 0)
                exit(0);
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            dprintf(2, "child %d: status 0x%x\n", i, st);
            return 1;
        }
    }
    dprintf(1, "forked %d\n", n);
    return 0;
}
