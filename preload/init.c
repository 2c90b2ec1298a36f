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
    mprof_guard_enter();
    mprof_real_resolve();
    mprof_config cfg;
    mprof_config_defaults(&cfg);
    mprof_config_load(&cfg, env_lookup, NULL);
    mprof_stack_skip_object_of((const void *)mprof_init);
    atexit(on_exit_dump);
    pthread_atfork(mprof_profiler_fork_prepare, mprof_profiler_fork_parent, fork_child);
    mprof_profiler_start(&cfg);
    mprof_signal_install(cfg.signal);
    mprof_guard_exit();
}
