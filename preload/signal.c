/*
 * signal.c: the signals mprof holds, and what the program sees of them:
 * the dump signal, and, for its last words (profiler.h), the termination
 * signals SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGABRT.  Each is held by
 * the one mechanism below; "the signal" is any of them.
 *
 * mprof takes a signal only where the program left it at its default
 * action, because SIG_DFL is the one disposition whose meaning mprof can
 * take over without taking it from anyone.  From then on the program sees
 * what it would see without mprof (issue 10, item 9):
 *
 *  - While mprof's handler is installed, every query (the `old` of
 *    sigaction, signal and the rest) returns the program's own disposition:
 *    SIG_DFL as found at start, or the SIG_DFL it set since, as the kernel
 *    would show it.  Python's signal.getsignal() returns SIG_DFL, and
 *    handlers that chain to the previous one (ruby, LLVM) find SIG_DFL to
 *    chain to, as bare.  Setting SIG_DFL changes only that view: mprof
 *    keeps the signal (git resets every signal before exec).
 *  - The first handler or SIG_IGN the program sets is really set: mprof's
 *    handler is gone, `mprof dump` is told (publish.h), and the signal is
 *    the program's for the rest of this image, SIG_DFL included.  Taking it
 *    back on a later SIG_DFL would break the programs that restore the
 *    default and raise the signal again to die of it, as bare (LLVM's
 *    handler; ruby's default for an unhandled SignalException).
 *
 * None of this prints anything: the program chose, nothing went wrong.
 * Exit and interval dumps go on either way.
 *
 * Keeping a handler of one's own while the program sees its own
 * dispositions is what Valgrind does for every signal (coregrind's
 * m_signals.c keeps the client's sigactions apart from the real ones);
 * mprof does it for the signals it holds, and only while it holds them.
 *
 * glibc's signal, bsd_signal, ssignal, sysv_signal, sigset, sigignore and
 * siginterrupt call sigaction inside libc, not through the PLT, so each is
 * interposed and rebuilt here on the virtual sigaction for the held
 * signals only; every other signal goes straight to libc.
 */
#include "real.h"

#include "profiler.h"
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#ifndef SA_UNSUPPORTED
#define SA_UNSUPPORTED 0x00000400
#endif
#ifndef SA_EXPOSE_TAGBITS
#define SA_EXPOSE_TAGBITS 0x00000800
#endif
/* The flags a 5.11+ kernel stores (UAPI_SA_FLAGS, kernel/signal.c), but
 * for the architecture's own (SA_RESTORER), which libc adds. */
#define KERNEL_FLAGS (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | \
                      SA_NODEFER | SA_RESETHAND | SA_EXPOSE_TAGBITS)

/* A signal mprof may hold: the dump signal, or one of the termination
 * signals whose default action it runs its last words before (held[0] is
 * the dump signal; an entry with sig 0 is not held). */
struct held {
    void (*handler)(int);
    struct sigaction program_view;   /* what the program set, while `ours` */
    int sig;
    atomic_int ours;                 /* mprof's handler is installed */
    int interrupting;                /* siginterrupt(sig, 1) */
};

/* The last words' signals: those whose default action ends the process
 * and that a program or its supervisor sends to end it (TERM, INT, HUP),
 * and those that end it with a core (QUIT, ABRT: abort() after
 * std::bad_alloc or a failed assertion, when the profile is wanted most;
 * the dump runs on mprof's thread and needs no lock of the program's, so
 * a heap the program corrupted or an allocator lock it holds is no
 * obstacle).  Faults (SEGV, BUS, ILL, FPE) are not taken: a dump would
 * run while the faulting thread cannot go on, and the fault may be
 * mprof's own. */
static const int last_words_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT};
#define NHELD (1 + sizeof last_words_signals / sizeof last_words_signals[0])

static struct held held[NHELD];
static struct sigaction installed;   /* the kernel's view of a handler of ours */
static int libc_adds;                /* flags libc adds to every sigaction */
static int kernel_keeps = ~0;        /* flags the kernel stores */
static mprof_lock state_lock = MPROF_LOCK_INIT; /* the disposition state above */
MPROF_LOCK_RANK(state_lock, MPROF_RANK_SIGNAL_STATE);

static struct held *held_of(int sig)
{
    for (size_t i = 0; sig > 0 && i < NHELD; i++)
        if (held[i].sig == sig)
            return &held[i];
    return NULL;
}

/* ---- libc's functions (real.h: found at start, or by the first call
 * made before it, a library's constructor's) ---- */

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    mprof_real_calls();
    return mprof_real.sigaction(sig, act, old);
}

/* ---- the handlers and their installation ---- */

static void on_dump_signal(int sig)
{
    (void)sig;
    mprof_profiler_request_dump(); /* saves and restores errno */
}

/* Last words, then the signal's own default action, as Go's runtime dies
 * of a signal (dieFromSignal): SIG_DFL, the signal raised again and
 * unblocked here, so that the process dies of it in this handler, with
 * the exit status, and for QUIT and ABRT the core, of a bare run.  Not
 * left pending for the handler's return: a program that keeps the signal
 * blocked but while it waits in ppoll, pselect or sigsuspend gets its
 * blocking mask back on that return, and would live on with the signal
 * pending where bare it died.  If it is still alive (a tracer swallowed
 * the signal), it ends as the signal would have ended it.  (A thread that
 * sets a handler of its own for this signal meanwhile loses it: the
 * process was dying already.) */
static void on_termination_signal(int sig)
{
    int ours = mprof_profiler_last_words(); /* bounded: MPROF_LAST_WORDS ms */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    mprof_real.sigaction(sig, &dfl, NULL); /* this process's table only */
    struct held *h = held_of(sig);
    if (h && ours) /* a vfork child's memory is its parent's */
        atomic_store(&h->ours, 0);
    raise(sig);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    _exit(128 + sig); /* never returns: errno is nobody's now */
}

/* A fork child's copy of the lock may be held by a thread that stayed in
 * the parent. */
static void reset_after_fork(void) { mprof_lock_reset(&state_lock); }

/* Take h->sig if it is at its default action: 1 if taken. */
static int take(struct held *h)
{
    struct sigaction found;
    if (h->sig == 0 || real_sigaction(h->sig, NULL, &found) != 0 ||
        found.sa_handler != SIG_DFL)
        return 0; /* none, or the program's already */
    struct sigaction sa, now;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h->handler;
    sa.sa_flags = SA_RESTART | SA_UNSUPPORTED; /* the probe: see as_kernel_shows */
    sigemptyset(&sa.sa_mask);
    if (real_sigaction(h->sig, &sa, NULL) != 0 || real_sigaction(h->sig, NULL, &now) != 0)
        return 0;
    if (!installed.sa_handler) { /* the same for every signal: probed once */
        installed = now;
        libc_adds = now.sa_flags & ~(SA_RESTART | SA_UNSUPPORTED);
        if (!(now.sa_flags & SA_UNSUPPORTED))
            kernel_keeps = KERNEL_FLAGS | libc_adds;
    }
    h->program_view = found;
    atomic_store(&h->ours, 1);
    return 1;
}

void mprof_signal_install(int sig, int last_words)
{
    held[0] = (struct held){.handler = on_dump_signal, .sig = sig};
    for (size_t i = 1; last_words && i < NHELD; i++)
        if (last_words_signals[i - 1] != sig) /* the dump signal is the dump's */
            held[i] = (struct held){.handler = on_termination_signal,
                                    .sig = last_words_signals[i - 1]};
    int any = 0;
    for (size_t i = 0; i < NHELD; i++)
        any |= take(&held[i]);
    if (any)
        pthread_atfork(NULL, NULL, reset_after_fork);
    mprof_profiler_signal_owned(sig, atomic_load(&held[0].ours));
}

/* ---- the virtual disposition ---- */

/* SIG_DFL set by the program as the kernel would report it: its mask
 * without the two signals that cannot be blocked; its flags with those
 * libc adds (SA_RESTORER on x86) and, on kernels that clear the flags they
 * do not know (5.11 and later: SA_INTERRUPT from sysv_signal, say), without
 * those; and libc's restorer.  What libc adds and whether the kernel
 * clears come from mprof's own handler, installed with SA_UNSUPPORTED, the
 * bit the kernel provides for that probe (sigaction(2)). */
static struct sigaction as_kernel_shows(const struct sigaction *act)
{
    struct sigaction k = installed;
    k.sa_handler = SIG_DFL;
    k.sa_mask = act->sa_mask;
    sigdelset(&k.sa_mask, SIGKILL);
    sigdelset(&k.sa_mask, SIGSTOP);
    k.sa_flags = (act->sa_flags | libc_adds) & kernel_keeps;
    return k;
}

/* sigaction for a held signal, holding state_lock.  0 or -1 with errno
 * set by libc. */
static int virtual_locked(struct held *h, const struct sigaction *act, struct sigaction *old)
{
    mprof_lock_assert_held(&state_lock);
    if (!atomic_load(&h->ours))
        return real_sigaction(h->sig, act, old);
    struct sigaction before = h->program_view;
    if (act && act->sa_handler == SIG_DFL) {
        h->program_view = as_kernel_shows(act);
    } else if (act) {
        if (real_sigaction(h->sig, act, NULL) != 0)
            return -1;
        atomic_store(&h->ours, 0); /* the program's, for good */
        if (h == &held[0])
            mprof_profiler_signal_owned(h->sig, 0);
    }
    if (old)
        *old = before;
    return 0;
}

/* Serialized against other threads, and against a handler on this thread
 * that calls sigaction too: signals stay blocked while the lock is held
 * (the handler would wait for a lock its own thread holds).  The caller's
 * structures are read before and written after, so that a bad pointer
 * faults with signals unblocked, as it would in libc. */
static int virtual_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int saved = errno;
    struct sigaction in, out; /* act and old may be the same object */
    if (act)
        in = *act;
    sigset_t all, mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &mask);
    mprof_lock_acquire(&state_lock);
    int rc = virtual_locked(held_of(sig), act ? &in : NULL, old ? &out : NULL);
    int err = errno;
    mprof_lock_release(&state_lock);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    if (rc == 0 && old)
        *old = out;
    errno = rc ? err : saved;
    return rc;
}

static int is_held(int sig) { return held_of(sig) != NULL; }

/* ---- the exported calls ---- */

MPROF_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (is_held(sig))
        return virtual_sigaction(sig, act, old);
    return real_sigaction(sig, act, old);
}

/* libc exports sigaction under this name too, and old code calls it. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
MPROF_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return sigaction(sig, act, old);
}

/* One disposition set with a fixed mask and flags, as the libc function
 * being rebuilt sets it; the previous handler, or SIG_ERR. */
static __sighandler_t set_handler(int sig, __sighandler_t h, int flags, int self_mask)
{
    if (h == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (self_mask)
        sigaddset(&sa.sa_mask, sig);
    return virtual_sigaction(sig, &sa, &old) != 0 ? SIG_ERR : old.sa_handler;
}

/* glibc's signal (BSD semantics), also exported as bsd_signal and ssignal. */
static __sighandler_t bsd_signal_of(int sig, __sighandler_t h)
{
    return set_handler(sig, h, held_of(sig)->interrupting ? 0 : SA_RESTART, 1);
}

typedef __sighandler_t (*signal_fn)(int, __sighandler_t);

/* One of libc's signal() calls: the dump signal kept by ours (`ours`,
 * with the call's semantics), any other passed to libc's own (`real`). */
static __sighandler_t signal_entry(int sig, __sighandler_t h, signal_fn ours, signal_fn real)
{
    return is_held(sig) ? ours(sig, h) : real(sig, h);
}

/* The table is filled first: its slot is read after. */
#define SIGNAL_ENTRY(name, ours, slot)                                                   \
    MPROF_EXPORT __sighandler_t name(int sig, __sighandler_t h)                          \
    {                                                                                    \
        mprof_real_calls();                                                              \
        return signal_entry(sig, h, ours, mprof_real.slot);                              \
    }

SIGNAL_ENTRY(signal, bsd_signal_of, signal)
SIGNAL_ENTRY(bsd_signal, bsd_signal_of, bsd_signal)
SIGNAL_ENTRY(ssignal, bsd_signal_of, ssignal)

/* System V semantics: one-shot, not masked during the handler. */
static __sighandler_t sysv_signal_of(int sig, __sighandler_t h)
{
    return set_handler(sig, h, SA_RESETHAND | SA_NODEFER | SA_INTERRUPT, 0);
}

SIGNAL_ENTRY(sysv_signal, sysv_signal_of, sysv_signal)
SIGNAL_ENTRY(__sysv_signal, sysv_signal_of, sysv_signal_internal)

MPROF_EXPORT int sigignore(int sig)
{
    mprof_real_calls();
    if (!is_held(sig))
        return mprof_real.sigignore(sig);
    return set_handler(sig, SIG_IGN, 0, 0) == SIG_ERR ? -1 : 0;
}

/* The previous disposition, or SIG_HOLD if the signal was blocked: as
 * glibc's sigset. */
static __sighandler_t sigset_of(int sig, __sighandler_t disp)
{
    sigset_t one, was;
    sigemptyset(&one);
    sigaddset(&one, sig);
    struct sigaction old;
    if (disp == SIG_HOLD) {
        if (sigprocmask(SIG_BLOCK, &one, &was) < 0)
            return SIG_ERR;
        if (sigismember(&was, sig))
            return SIG_HOLD;
        return virtual_sigaction(sig, NULL, &old) != 0 ? SIG_ERR : old.sa_handler;
    }
    __sighandler_t prev = set_handler(sig, disp, 0, 0);
    if (prev == SIG_ERR || sigprocmask(SIG_UNBLOCK, &one, &was) < 0)
        return SIG_ERR;
    return sigismember(&was, sig) ? SIG_HOLD : prev;
}

MPROF_EXPORT __sighandler_t sigset(int sig, __sighandler_t disp)
{
    mprof_real_calls();
    return is_held(sig) ? sigset_of(sig, disp) : mprof_real.sigset(sig, disp);
}

MPROF_EXPORT int siginterrupt(int sig, int interrupt)
{
    mprof_real_calls();
    if (!is_held(sig))
        return mprof_real.siginterrupt(sig, interrupt);
    struct sigaction sa;
    if (virtual_sigaction(sig, NULL, &sa) != 0)
        return -1;
    struct held *h = held_of(sig);
    h->interrupting = interrupt != 0;
    if (h->interrupting)
        sa.sa_flags &= ~SA_RESTART;
    else
        sa.sa_flags |= SA_RESTART;
    return virtual_sigaction(sig, &sa, NULL);
}
