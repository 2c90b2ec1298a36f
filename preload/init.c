/*
 * init.c: bringing the profiler up inside the host process.
 *
 * Start-up reads the settings, starts the profiler, and registers the
 * exit dump, the fork handlers and the dump signal.  It runs at the first
 * allocation made once libc is initialised, or from our constructor if
 * none came before.  The loader initialises the libraries a program links
 * before a preloaded one, and their constructors allocate (plugin
 * registries, C++ static objects, codec tables): started only from our
 * constructor, mprof would miss what they keep, and MPROF_MEM_RATE=1 would
 * not be exact.  Allocations before libc is initialised (the loader's
 * own) are served but not sampled: the settings cannot be read yet.  The
 * real allocator is looked up lazily by whichever entry point comes first,
 * every other wrapped call here at start (see real.h).
 */
#include "real.h"

#include "profiler.h"
#include "shim.h"

#include <pthread.h>
#include <unistd.h> /* environ */
#include <stdlib.h>
#include <string.h>

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static void on_exit_dump(void) { mprof_profiler_exit(); }

static void fork_child(void)
{
    mprof_profiler_fork_child();
    mprof_threads_after_fork();
}

static void start(void)
{
    /* Before the guard: the lookup takes the guard itself, and refuses to
     * run under it (that would be a lookup made from inside dlsym). */
    int have_real = mprof_real_resolve() == 0;
    mprof_guard_enter();
    mprof_real_resolve_calls();
    mprof_real_check_order();
    mprof_threads_init();
    mprof_config cfg;
    mprof_profiler_read_settings(&cfg, env_lookup, NULL);
    mprof_profiler_skip_object_of((const void *)start);
    atexit(on_exit_dump);
    pthread_atfork(mprof_profiler_fork_prepare, mprof_profiler_fork_parent, fork_child);
    mprof_profiler_start(&cfg);
    mprof_signal_install(cfg.signal, cfg.last_words_ms != 0);
    mprof_guard_exit();
    /* The main thread draws its countdown now: a program that forks before
     * it allocates would otherwise have every child do the first draw (and
     * bind log() lazily) on its own.  A countdown is armed only where the
     * real allocator is known: the fast path calls it unchecked. */
    if (have_real)
        mprof_profiler_arm_thread();
}

/* Once per process, whoever comes first; 1 while starting, 2 after. */
static int started;

/* libc's own constructor sets environ (before it, getenv reads nothing,
 * and the settings would silently be the defaults); a program may empty
 * it later, but not before the libraries' constructors have run. */
static int libc_ready(void) { return __atomic_load_n(&environ, __ATOMIC_RELAXED) != NULL; }

void mprof_start_early(void)
{
    if (!libc_ready() || mprof_guarded() || __atomic_load_n(&started, __ATOMIC_ACQUIRE))
        return;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&started, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return; /* another thread is starting: this event goes unrecorded */
    start();
    __atomic_store_n(&started, 2, __ATOMIC_RELEASE);
}

__attribute__((constructor(101))) static void mprof_init(void)
{
    int expected = 0;
    if (__atomic_compare_exchange_n(&started, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        start();
        __atomic_store_n(&started, 2, __ATOMIC_RELEASE);
    }
}
