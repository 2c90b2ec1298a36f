/*
 * own_handler: a program with its own use of mprof's dump signal (USR2).
 *
 *   own_handler --install      installs a SIGUSR2 handler in main (after
 *                              mprof's constructor has run), then sends
 *                              itself SIGUSR2 three times
 *   own_handler --ignored LIB  (started without mprof) ignores SIGUSR2 and
 *                              re-executes itself with LD_PRELOAD=LIB, the
 *                              way a parent (nohup, a supervisor) passes
 *                              SIG_IGN down through exec; the child sends
 *                              itself SIGUSR2, which must stay ignored
 *
 *   own_handler --fork-reset   forks; the child resets every signal to
 *                              SIG_DFL and execs `own_handler --plain`, as
 *                              git's run_command() does: a reset before
 *                              exec is no takeover and must not be reported
 *
 * Either way the program's own choice must win: its handler sees every
 * signal, an ignored signal kills nothing and dumps nothing.  Prints
 * "handled N" or "ignored ok", then "done".
 */
#include "hprog.h"

#include <sys/wait.h>

SITE static void *own_site(void)
{
    return prog_check(malloc(1234), "malloc");
}

int main(int argc, char **argv)
{
    dprintf(1, "pid %d\n", (int)getpid());
    void *p = own_site();
    if (hp_flag(argc, argv, "--install")) {
        hp_sigaction(SIGUSR2, hp_count, 0, false, NULL);
        for (int i = 0; i < 3; i++) {
            kill(getpid(), SIGUSR2);
            for (int w = 0; w < 1000 && hp_caught <= i; w++)
                prog_sleep_ms(1);
        }
        prog_sleep_ms(300); /* a dump, had one been started, would show now */
        dprintf(1, "handled %d\n", (int)hp_caught);
    } else if (hp_flag(argc, argv, "--ignored")) {
        signal(SIGUSR2, SIG_IGN);
        const char *lib = hp_arg(argc, argv, "--ignored");
        if (lib && *lib)
            setenv("LD_PRELOAD", lib, 1);
        char *args[] = {argv[0], "--child-ignored", NULL};
        execv(argv[0], args);
        prog_fail("execv");
    } else if (hp_flag(argc, argv, "--fork-reset")) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int sig = 1; sig < NSIG; sig++)
                if (signal(sig, SIG_DFL) == SIG_IGN)
                    signal(sig, SIG_IGN);
            char *args[] = {argv[0], "--plain", NULL};
            execv(argv[0], args);
            _exit(127);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
            hp_damaged("the child");
        dprintf(1, "child ok\n");
    } else if (hp_flag(argc, argv, "--child-ignored")) {
        struct sigaction old;
        sigaction(SIGUSR2, NULL, &old);
        if (old.sa_handler != SIG_IGN)
            hp_damaged("SIGUSR2 is no longer ignored");
        kill(getpid(), SIGUSR2); /* would kill us if no longer ignored */
        prog_sleep_ms(300);
        dprintf(1, "ignored ok\n");
    }
    free(p);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
