/*
 * onstack.c: the stack switch, the pool of sample stacks, the fork gate
 * (see onstack.h).
 *
 * Pool: a free list of sample stacks guarded by pool_lock (a leaf).  A
 * thread takes one for the length of one sampled event and gives it back,
 * so there are never more stacks than threads sampling at once.  Stacks
 * are mmap'd with a PROT_NONE guard page below, never unmapped.
 *
 * Gate: one word, the number of threads inside a sampled event (low 16
 * bits) and the number of forks in progress (above; glibc runs the prepare
 * handlers of concurrent forks concurrently).  fork's prepare handler adds
 * a fork and waits for the samplers to fall to 0; a thread entering while
 * a fork is in progress waits for none to be (futex on the word).
 */
#include "onstack.h"

#include "lock.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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
#define ONE_FORK 0x10000u
#define SAMPLERS 0xffffu

struct pooled {
    struct pooled *next; /* lives at the stack's top, above the frames */
};

static MPROF_FORK_STATE mprof_lock pool_lock = MPROF_LOCK_INIT;
static MPROF_FORK_STATE struct pooled *pool;
static MPROF_FORK_STATE atomic_uint gate;

static long futex(atomic_uint *w, int op, unsigned val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

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
    return top ? (struct pooled *)(top - 64) : NULL;
}

static void give_stack(struct pooled *s)
{
    mprof_lock_acquire(&pool_lock);
    s->next = pool;
    pool = s;
    mprof_lock_release(&pool_lock);
}

static void gate_enter(void)
{
    for (;;) {
        unsigned v = atomic_load(&gate);
        if (v >= ONE_FORK) {
            futex(&gate, FUTEX_WAIT_PRIVATE, v);
            continue;
        }
        if (atomic_compare_exchange_weak(&gate, &v, v + 1))
            return;
    }
}

static void gate_leave(void)
{
    unsigned v = atomic_fetch_sub(&gate, 1) - 1;
    if (v >= ONE_FORK && (v & SAMPLERS) == 0)
        futex(&gate, FUTEX_WAKE_PRIVATE, INT_MAX);
}

void *mprof_onstack_enter(void)
{
    int saved = errno;
    gate_enter();
    struct pooled *s = take_stack();
    if (!s)
        gate_leave();
    errno = saved;
    return s; /* the stack's top 64 bytes hold the pool link; frames go below */
}

void mprof_onstack_leave(void *top)
{
    int saved = errno;
    give_stack(top);
    gate_leave();
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

void mprof_onstack_fork_prepare(void)
{
    unsigned v = atomic_fetch_add(&gate, ONE_FORK) + ONE_FORK;
    while (v & SAMPLERS) {
        futex(&gate, FUTEX_WAIT_PRIVATE, v);
        v = atomic_load(&gate);
    }
}

void mprof_onstack_fork_parent(void)
{
    if (atomic_fetch_sub(&gate, ONE_FORK) - ONE_FORK < ONE_FORK)
        futex(&gate, FUTEX_WAKE_PRIVATE, INT_MAX);
}

void mprof_onstack_fork_child(void)
{
    atomic_store(&gate, 0);
    mprof_lock_reset(&pool_lock);
}
