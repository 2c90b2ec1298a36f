/* tls.c: the per-thread state and its reentrancy guard (see tls.h). */
#include "tls.h"

__thread struct mprof_tls mprof_tls __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) void mprof_guard_enter(void) { mprof_tls.guard++; }
__attribute__((noinline)) void mprof_guard_exit(void) { mprof_tls.guard--; }
