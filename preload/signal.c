/*
 * signal.c: the dump signal.
 *
 * mprof takes the signal only where the program left it at its default
 * action, and gives it up, saying so once, the moment the program installs
 * a disposition of its own: the program's handler always wins, and the user
 * learns why kill -USR2 stopped producing dumps.  sigaction and signal are
 * interposed only to notice that; the call itself goes through unchanged.
 */
#include "agent.h"
#include "log.h"
#include "profiler.h"
#include "tls.h"

#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#define MPROF_EXPORT __attribute__((visibility("default")))

static int dump_signal;   /* 0 = none */
static int ours;          /* our handler is installed */

static void on_dump_signal(int sig)
{
    (void)sig;
    mprof_agent_request_dump(); /* saves and restores errno */
}

static const char *other_dumps(void)
{
    return mprof_profiler_config()->dump_interval ? "exit and interval" : "exit";
}

void mprof_signal_install(int sig)
{
    dump_signal = sig;
    struct sigaction old;
    if (sig == 0 || sigaction(sig, NULL, &old) != 0)
        return;
    if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) {
        mprof_log("signal %d (%s) already has a disposition in this program; leaving it "
                  "alone: no dumps on signal (%s dumps still happen)",
                  sig, strsignal(sig), other_dumps());
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_dump_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == 0)
        __atomic_store_n(&ours, 1, __ATOMIC_RELEASE);
}

/* The program is about to set `sig`'s disposition.  Resetting it to
 * SIG_DFL is not taking it over: git's run_command(), and many other
 * programs, reset every signal in a fork child right before exec, and the
 * exec'd image (under mprof again) takes the signal anew; a line per child
 * would change what those programs print.  Our handler is gone all the
 * same, so `ours` is cleared either way. */
static void program_takes(int sig, int to_default)
{
    if (sig != dump_signal || mprof_tls.guard ||
        !__atomic_exchange_n(&ours, 0, __ATOMIC_ACQ_REL) || to_default)
        return;
    mprof_log("the program installs its own disposition for signal %d (%s); it wins: "
              "no dumps on signal from now on (%s dumps still happen)",
              sig, strsignal(sig), other_dumps());
}

MPROF_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static int (*real)(int, const struct sigaction *, struct sigaction *);
    if (!real)
        real = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (act)
        program_takes(sig, !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL);
    return real(sig, act, old);
}

/* glibc's signal() calls sigaction internally, not through the PLT. */
MPROF_EXPORT __sighandler_t signal(int sig, __sighandler_t handler)
{
    static __sighandler_t (*real)(int, __sighandler_t);
    if (!real)
        real = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "signal");
    program_takes(sig, handler == SIG_DFL);
    return real(sig, handler);
}
