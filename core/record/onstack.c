/*
 * onstack.c: the stack switch and the pool of sample stacks (see onstack.h).
 *
 * Pool: a free list of sample stacks guarded by pool_lock (a leaf).  A
 * thread takes one for the length of one sampled event and gives it back,
 * so there are never more stacks than threads sampling at once.  Stacks
 * are mmap'd with a PROT_NONE guard page below, never unmapped.
 *
 * A sampled event enters the fork gate (forkgate.h) around its work.  A
 * sample that starts while a fork is in progress goes on outside it; such
 * a sample, if the fork catches it inside libgcc's unwinder, can leave the
 * child with a lock of libgcc's held only if the program registers unwind
 * tables itself (__register_frame_info, as JIT compilers do).
 */
#include "onstack.h"

#include "forkgate.h"
#include "lock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
/* rbp keeps the caller's stack pointer across the call, and the CFI says
 * so: the unwinder finds the caller's frame through it as through any
 * frame-pointer frame. */
__asm__(".text\n"
        ".globl mprof_call_on_stack\n"
        ".hidden mprof_call_on_stack\n"
        ".type mprof_call_on_stack, @function\n"
        "mprof_call_on_stack:\n"
        ".cfi_startproc\n"
        "    pushq %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "    andq $-16, %rdx\n"
        "    movq %rdx, %rsp\n"
        "    movq %rdi, %rax\n"
        "    movq %rsi, %rdi\n"
        "    callq *%rax\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        ".cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        ".cfi_endproc\n"
        ".size mprof_call_on_stack, .-mprof_call_on_stack\n");
#else
/* No switch written for this architecture: the work runs on the caller's
 * stack, which is correct but does not keep the stack budget. */
void mprof_call_on_stack(void (*fn)(void *), void *arg, void *top)
{
    (void)top;
    fn(arg);
}
#endif

#define GUARD_PAGE 4096

struct pooled {
    struct pooled *next; /* lives at the stack's top, above the frames */
    int gated;           /* this use entered the gate */
    sigset_t mask;       /* the thread's signal mask, put back on leaving */
};

/* Where a stack's header goes: its top, rounded so that frames below it
 * stay 64-byte aligned. */
#define HEADER_ROOM ((sizeof(struct pooled) + 63) & ~(size_t)63)

static MPROF_FORK_STATE mprof_lock pool_lock = MPROF_LOCK_INIT; /* guards pool; a leaf */
MPROF_LOCK_RANK(pool_lock, MPROF_RANK_ONSTACK_POOL);
static MPROF_FORK_STATE struct pooled *pool;

/* A mapping of `size` usable bytes with a guard page below; its top, or
 * NULL. */
static char *map_stack(size_t size)
{
    char *p = mmap(NULL, size + GUARD_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    mprotect(p, GUARD_PAGE, PROT_NONE); /* best effort: a stack without it still works */
    return p + GUARD_PAGE + size;
}

static struct pooled *take_stack(void)
{
    mprof_lock_acquire(&pool_lock);
    struct pooled *s = pool;
    if (s)
        pool = s->next;
    mprof_lock_release(&pool_lock);
    if (s)
        return s;
    char *top = map_stack(MPROF_SAMPLE_STACK_SIZE);
    return top ? (struct pooled *)(top - HEADER_ROOM) : NULL;
}

static void give_stack(struct pooled *s)
{
    mprof_lock_acquire(&pool_lock);
    s->next = pool;
    pool = s;
    mprof_lock_release(&pool_lock);
}

/*
 * For the length of a sample, the thread's asynchronous signals wait: a
 * program's handler would otherwise run on the sample stack (256 KiB,
 * where the thread's own may be 8 MiB), and one that leaves with
 * siglongjmp or a C++ throw would leave mprof's locks held and the fork
 * gate entered for good.  Faults stay deliverable (they are mprof's own
 * bugs, and blocked they would kill the process all the same).  glibc's
 * own signals (cancellation, set*id) are never blocked by pthread_sigmask.
 */
static void block_async_signals(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_BLOCK, &all, old);
}

void *mprof_onstack_enter(void)
{
    mprof_lock_assert_none_held();
    int saved = errno;
    sigset_t old;
    block_async_signals(&old);
    int gated = mprof_forkgate_enter();
    struct pooled *s = take_stack();
    if (s) {
        s->gated = gated;
        s->mask = old;
    } else {
        if (gated)
            mprof_forkgate_leave();
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    errno = saved;
    return s; /* the stack's top holds its header; frames go below */
}

void mprof_onstack_leave(void *top)
{
    int saved = errno;
    struct pooled *s = top;
    int gated = s->gated;
    sigset_t old = s->mask;
    give_stack(s);
    if (gated)
        mprof_forkgate_leave();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
}

void mprof_onstack_dump(void (*fn)(void *), void *arg)
{
    int saved = errno;
    char *top = map_stack(MPROF_DUMP_STACK_SIZE);
    if (!top) {
        fn(arg);
        errno = saved;
        return;
    }
    mprof_call_on_stack(fn, arg, top);
    munmap(top - MPROF_DUMP_STACK_SIZE - GUARD_PAGE, MPROF_DUMP_STACK_SIZE + GUARD_PAGE);
    errno = saved;
}

void mprof_onstack_fork_child(void) { mprof_lock_reset(&pool_lock); }
