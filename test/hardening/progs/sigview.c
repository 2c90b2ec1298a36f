/*
 * sigview: what a program sees of SIGUSR2, mprof's dump signal, and what
 * it does with it.  Every mode allocates first, so that under mprof at
 * MPROF_MEM_RATE=1 something is recorded; the test compares everything it
 * prints and its exit status with a run without mprof.
 *
 *   sigview --query   asks for the disposition in every way libc offers
 *                     (sigaction, signal, bsd_signal, sysv_signal, sigset,
 *                     siginterrupt, sigignore) while setting it back and
 *                     forth, printing handler, flags and mask each time;
 *                     ends by raising SIGUSR2 at SIG_DFL: it dies of it,
 *                     as without mprof
 *   sigview --chain   installs its own handler and keeps the `old` it got;
 *                     the handler calls `old` if it is a function, and for
 *                     SIG_DFL restores it and raises the signal again to
 *                     die of it, as LLVM's and ruby's handlers do
 *   sigview --clean   installs a SIGUSR2 handler, uses it, writes to its
 *                     own stderr, exits 0: a clean run whose stderr must
 *                     be byte-identical under mprof
 */
#include "hprog.h"

/* Obsolete, and still called by old code: that is why they are here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
extern __sighandler_t bsd_signal(int sig, __sighandler_t handler); /* not in <signal.h> for gnu11 */

static struct sigaction g_old;

SITE static void *view_site(void)
{
    return prog_check(malloc(4000), "malloc");
}

static const char *handler_name(__sighandler_t h)
{
    if (h == SIG_DFL)
        return "SIG_DFL";
    if (h == SIG_IGN)
        return "SIG_IGN";
    if (h == SIG_ERR)
        return "SIG_ERR";
    if (h == SIG_HOLD)
        return "SIG_HOLD";
    return h == hp_count ? "counter" : "another function";
}

/* The disposition as sigaction reports it, on one line. */
static void show(const char *when)
{
    struct sigaction sa;
    if (sigaction(SIGUSR2, NULL, &sa) != 0)
        prog_fail("sigaction");
    dprintf(1, "%s: %s flags %#x mask usr1 %d usr2 %d kill %d\n", when,
            handler_name(sa.sa_handler), (unsigned)sa.sa_flags,
            sigismember(&sa.sa_mask, SIGUSR1), sigismember(&sa.sa_mask, SIGUSR2),
            sigismember(&sa.sa_mask, SIGKILL));
}

static void said(const char *call, __sighandler_t prev)
{
    dprintf(1, "%s returned %s\n", call, handler_name(prev));
}

static void query(void)
{
    show("at start");
    hp_sigaction(SIGUSR2, SIG_DFL, SA_NODEFER, true, NULL);
    show("after sigaction(SIG_DFL, SA_NODEFER, full mask)");
    said("signal(SIG_DFL)", signal(SIGUSR2, SIG_DFL));
    show("after signal(SIG_DFL)");
    said("sysv_signal(SIG_DFL)", sysv_signal(SIGUSR2, SIG_DFL));
    show("after sysv_signal(SIG_DFL)");
    said("bsd_signal(SIG_DFL)", bsd_signal(SIGUSR2, SIG_DFL));
    siginterrupt(SIGUSR2, 1);
    show("after siginterrupt(1)");
    said("sigset(SIG_HOLD)", sigset(SIGUSR2, SIG_HOLD));
    said("sigset(SIG_DFL)", sigset(SIGUSR2, SIG_DFL));
    show("after sigset(SIG_DFL)");
    said("signal(counter)", signal(SIGUSR2, hp_count));
    show("after signal(counter)");
    raise(SIGUSR2);
    dprintf(1, "caught %d\n", (int)hp_caught);
    sigignore(SIGUSR2);
    show("after sigignore");
    raise(SIGUSR2);
    said("signal(SIG_DFL)", signal(SIGUSR2, SIG_DFL));
    show("at the end");
    raise(SIGUSR2); /* the default action: the end */
    dprintf(1, "survived SIGUSR2 at SIG_DFL\n");
}

static void chaining(int sig)
{
    dprintf(1, "own handler ran\n");
    if (g_old.sa_handler != SIG_DFL && g_old.sa_handler != SIG_IGN) {
        g_old.sa_handler(sig);
        dprintf(1, "chained to the previous handler\n");
        return;
    }
    sigaction(sig, &g_old, NULL);
    raise(sig); /* delivered once this handler returns */
}

static void chain(void)
{
    hp_sigaction(SIGUSR2, chaining, 0, false, &g_old);
    dprintf(1, "previous handler: %s\n", handler_name(g_old.sa_handler));
    raise(SIGUSR2);
    prog_sleep_ms(300); /* a dump, had one been started, would show now */
    dprintf(1, "survived SIGUSR2\n");
}

static void clean(void)
{
    hp_sigaction(SIGUSR2, hp_count, 0, false, NULL);
    dprintf(2, "sigview: working\n");
    raise(SIGUSR2);
    dprintf(2, "sigview: caught %d\n", (int)hp_caught);
}

int main(int argc, char **argv)
{
    void *p = view_site();
    if (hp_flag(argc, argv, "--query"))
        query();
    else if (hp_flag(argc, argv, "--chain"))
        chain();
    else if (hp_flag(argc, argv, "--clean"))
        clean();
    free(p);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
