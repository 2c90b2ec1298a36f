/*
 * cfi.h: unwinding another thread of this process from two registers,
 * with the DWARF call frame information the loader already mapped.
 *
 * Why: the threads profile must show a thread blocked in the kernel where
 * it is, without a signal (a handler would make its sleep, poll or read
 * return EINTR, and a thread that blocks signals would never answer).
 * The kernel gives the stack and instruction pointers of a thread blocked
 * in a system call (/proc/self/task/<tid>/syscall), and its stack is in
 * our own address space: the unwind tables (.eh_frame, found through
 * libgcc's _Unwind_Find_FDE, as its own unwinder finds them) say, at each
 * instruction, where the frame's canonical frame address (CFA) and its
 * return address are.  This is what eu-stack and gdb do for another
 * process, done on a copy of the stack read with process_vm_readv, so a
 * stack that changes or vanishes meanwhile cannot fault.
 *
 * x86-64 only, and only the rules GCC and hand-written glibc code emit
 * for ordinary frames: a CFA of rsp or rbp plus an offset, registers
 * saved at CFA offsets.  A frame whose CFA is an expression (stack
 * realignment), or that needs rbp before any frame saved it, ends the
 * stack there: what is returned is exact, never guessed.
 */
#ifndef MPROF_CFI_H
#define MPROF_CFI_H

#include <stddef.h>
#include <stdint.h>

/* A copy of a thread's stack: stack[0, len) holds the memory at
 * [base, base + len). */
typedef struct mprof_stack_copy {
    const unsigned char *stack;
    uintptr_t base;
    size_t len;
} mprof_stack_copy;

/* Return addresses of the thread stopped at pc with stack pointer sp,
 * leaf first: pcs[0] = pc + 1 (pc is the next instruction, not a return
 * address: the + 1 makes the output's "address - 1" land on it), then
 * each caller's return address, at most max.  Returns how many (at least
 * 1 when max > 0).  Calls libgcc's _Unwind_Find_FDE: not from a signal
 * handler, nor holding an mprof lock. */
int mprof_cfi_unwind(uintptr_t pc, uintptr_t sp, const mprof_stack_copy *copy,
                     uintptr_t *pcs, int max);

#endif
