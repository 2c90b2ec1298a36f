/*
 * agent.h: the mprof thread.  It ends an epoch every MPROF_EPOCH_MS, writes
 * a dump when asked (signal) and every MPROF_DUMP_INTERVAL seconds.  It
 * blocks every signal and runs with its reentrancy guard set for life, so
 * everything it does (elfutils, zlib, stdio) is invisible to the profiler.
 */
#ifndef MPROF_AGENT_H
#define MPROF_AGENT_H

#include "config.h"

/* 0, or an errno from pthread_create (the caller reports it). */
int mprof_agent_start(const mprof_config *cfg);

/* Async-signal-safe: an atomic store and a futex wake, errno preserved. */
void mprof_agent_request_dump(void);

/* The exit dump has been written: dump no more. */
void mprof_agent_stop_dumping(void);

#endif
