/*
 * cfi.h: unwinding another thread of this process from two registers and
 * a copy of its stack, with elfutils' libdwfl and the .eh_frame tables.
 *
 * Why: the threads profile must show a thread blocked in the kernel where
 * it is, without a signal (a handler would make its sleep, poll or read
 * return EINTR, and a thread that blocks signals would never answer).
 * The kernel gives the stack and instruction pointers of a thread blocked
 * in a system call (/proc/self/task/<tid>/syscall); its stack, copied with
 * process_vm_readv (so a stack that changes or vanishes meanwhile cannot
 * fault), is unwound by libdwfl as eu-stack unwinds another process: the
 * same Dwfl_Thread_Callbacks that dwfl_linux_proc_attach installs, except
 * that the registers are these two (rsp, DWARF register 7, and the pc)
 * and memory is the copy.  Origin: elfutils' eu-stack and libdwfl's
 * linux-pid-attach.c (dwfl_attach_state); the project's rule that a kept
 * Debian library beats our own code (this replaced a hand-written DWARF
 * CFI interpreter).  In core/output, beside symbolize.c, whose module
 * reporter it shares: libdw is a library only dumps load.
 *
 * Limits:
 *  - x86-64 registers (rsp and the pc; every other register unknown, so a
 *    frame whose CFA needs rbp before any frame saved it ends the stack).
 *  - memory is the copy only: a read outside [sp, sp + len) fails and
 *    the stack ends there; no other address is ever dereferenced.
 *  - the session reports no separate debug files: a pc .eh_frame does not
 *    cover is looked up only in the module's own .debug_frame (a -g
 *    binary's), never in libc6-dbg's compressed sections.  Where both
 *    fail, libdwfl tries its rbp-chain fallback (x86_64_unwind), as
 *    eu-stack does: a frame-pointer guess, and only then.
 *  - libdw is loaded on first use (dumplibs.h); without it a thread has
 *    its first frame only.
 */
#ifndef MPROF_CFI_H
#define MPROF_CFI_H

#include <stddef.h>
#include <stdint.h>

/* One libdwfl session of this process's modules, for many threads. */
typedef struct mprof_unwinder mprof_unwinder;

/* The session, or NULL when libdw cannot be loaded or /proc cannot be
 * read (then mprof_cfi_unwind gives the first frame only).  Opens the
 * modules' files as it needs them (descriptors raised, fdmove.h) until
 * mprof_unwinder_end.  elfutils allocates: call with the guard set, not
 * from a signal handler.  One session at a time (dumps are serialized). */
mprof_unwinder *mprof_unwinder_begin(void);
void mprof_unwinder_end(mprof_unwinder *u);

/* Return addresses of thread tid stopped at pc with stack pointer sp,
 * stack[0, len) being a copy of its memory at [sp, sp + len), leaf
 * first: pcs[0] = pc + 1 (pc is the next instruction, not a return
 * address: the + 1 makes the output's "address - 1" land on it), then
 * each caller's return address, at most max.  Returns how many (at least
 * 1 when max > 0).  u may be NULL.  The shape of threadstacks.h's
 * mprof_unwind_fn, which dump.c hands it as. */
int mprof_cfi_unwind(mprof_unwinder *u, int tid, uintptr_t pc, uintptr_t sp,
                     const unsigned char *stack, size_t len, uintptr_t *pcs, int max);

#endif
