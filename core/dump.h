/*
 * dump.h: one dump = one set of profile files with the same seq:
 * ${MPROF_OUT}.<pid>.<seq>.heap.pb.gz (block and mutex join later).
 * Dumps are serialized; the caller must have its reentrancy guard set.
 */
#ifndef MPROF_DUMP_H
#define MPROF_DUMP_H

#include "config.h"

void mprof_dump_init(const mprof_config *cfg);

/* Write every enabled profile.  Returns the seq used, or 0 if the dump was
 * skipped because the exit dump already happened. */
unsigned mprof_dump(int final);

/* Fork child: own pid in file names, seq from 1 again. */
void mprof_dump_reset_after_fork(void);

#endif
