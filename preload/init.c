/*
 * init.c: bringing the profiler up inside the host process.
 *
 * The constructor runs once libc is ready: it reads the settings, starts
 * the profiler, and registers the exit dump, the fork handlers and the dump
 * signal.  Allocations that come earlier (the loader's own, other libraries'
 * constructors) are served but not sampled; the real allocator is looked up
 * lazily by whichever entry point comes first (see real.c).
 */
#include "real.h"

#include "config.h"
#include "log.h"
#include "profiler.h"
#include "stack.h"
#include "tls.h"

#include <pthread.h>
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

__attribute__((constructor(101))) static void mprof_init(void)
{
    /* Before the guard: the lookup takes the guard itself, and refuses to
     * run under it (that would be a lookup made from inside dlsym). */
    int have_real = mprof_real_resolve() == 0;
    mprof_guard_enter();
    mprof_pthread_resolve();
    mprof_threads_init();
    mprof_config cfg;
    mprof_config_defaults(&cfg);
    mprof_config_load(&cfg, env_lookup, NULL);
    mprof_stack_skip_object_of((const void *)mprof_init);
    atexit(on_exit_dump);
    pthread_atfork(mprof_profiler_fork_prepare, mprof_profiler_fork_parent, fork_child);
    mprof_profiler_start(&cfg);
    mprof_signal_install(cfg.signal);
    mprof_guard_exit();
    /* The main thread draws its countdown now: a program that forks before
     * it allocates would otherwise have every child do the first draw (and
     * bind log() lazily) on its own.  A countdown is armed only where the
     * real allocator is known: the fast path calls it unchecked. */
    if (have_real)
        mprof_profiler_arm_thread();
}
