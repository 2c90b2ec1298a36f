/*
 * onstack.h: running mprof's work on stacks that mprof owns.
 *
 * The program's stacks are not ours to spend: signal handlers run on 8 KiB
 * alternate stacks, threads on 16 KiB ones.  So a sampled event costs the
 * caller's stack only the shim's frames and a switch (MPROF_CALLER_STACK_BUDGET,
 * measured by test/hardening's stack-budget test), and everything else
 * (the unwinder, the bucket table, the address map) runs on a sample stack
 * taken from a pool; the exit dump runs on a large stack of its own.
 *
 * The switch (mprof_call_on_stack) describes itself to the unwinder with
 * ordinary frame-pointer CFI, so a stack captured on a sample stack walks
 * on into the caller's frames.  The idea is Linux's call_on_stack() for
 * IRQ stacks and Go's systemstack().
 *
 * The fork gate: libraries mprof calls on a sample stack (libgcc's
 * unwinder) may take locks of their own; a fork child must never inherit
 * one held.  Every sampled event runs inside the gate (forkgate.h), which
 * a sample entering while a fork is in progress does not wait for.
 *
 * Signals: for the length of a sample the thread's asynchronous signals
 * wait, so that no handler of the program's runs on a sample stack or
 * leaves mprof's code with siglongjmp.
 */
#ifndef MPROF_ONSTACK_H
#define MPROF_ONSTACK_H

#include <stddef.h>

/* Bytes of the caller's stack that a sampled event may use beyond what
 * the real call takes (the shim's frames and the switch): measured by
 * test/hardening's host_stack_budget, which paints a stack and compares
 * with a bare run; glibc's own first malloc reaches deeper than all of it. */
#define MPROF_CALLER_STACK_BUDGET 1024

/* Size of each sample stack and of the exit dump's stack. */
#define MPROF_SAMPLE_STACK_SIZE ((size_t)256 << 10)
#define MPROF_DUMP_STACK_SIZE ((size_t)16 << 20)

/* Call fn(arg) with the stack pointer at `top` (16-byte aligned by the
 * callee), and return when it returns.  x86-64; elsewhere it simply calls. */
void mprof_call_on_stack(void (*fn)(void *), void *arg, void *top);

/* Enter the fork gate and take a sample stack: its top, or NULL (gate
 * left again) when none can be mapped.  mprof_onstack_leave gives it back
 * and leaves the gate.  Neither changes errno. */
void *mprof_onstack_enter(void);
void mprof_onstack_leave(void *top);

/* Run fn(arg) on a sample stack, inside the fork gate.  Call with the
 * guard set and no mprof lock held.  0, or -1 when no stack can be mapped
 * (fn did not run: the caller drops the event).  Inline, so that the
 * caller's frame is the one the switch leaves on the stack: each mprof
 * frame there costs the unwinder a step. */
static inline int mprof_onstack_sample(void (*fn)(void *), void *arg)
{
    void *top = mprof_onstack_enter();
    if (!top)
        return -1;
    mprof_call_on_stack(fn, arg, top);
    mprof_onstack_leave(top);
    return 0;
}

/* Run fn(arg) on a fresh MPROF_DUMP_STACK_SIZE stack, unmapped afterwards;
 * when none can be mapped, run it on the caller's stack. */
void mprof_onstack_dump(void (*fn)(void *), void *arg);

/* Fork child: the pool's lock reset (the stacks other threads were using
 * are lost to it, nothing else).  The fork gate's own protocol is in
 * forkgate.h. */
void mprof_onstack_fork_child(void);

#endif
