/* lock.c: the slow paths of mprof_lock, and the order checks of
 * MPROF_LOCK_DEBUG builds (see lock.h). */
#include "lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void mprof_lock_wait(mprof_lock *l)
{
    int c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    }
}

void mprof_lock_wake(mprof_lock *l)
{
    syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#ifdef MPROF_LOCK_DEBUG
#include <stdint.h>
#include <stdlib.h>

/* The classes of every object linked in, bounded by the linker (weak: a
 * program with no ranked lock has no section). */
extern struct mprof_lock_class classes_start[] __asm__("__start_mprof_lock_classes")
    __attribute__((weak, visibility("hidden")));
extern struct mprof_lock_class classes_stop[] __asm__("__stop_mprof_lock_classes")
    __attribute__((weak, visibility("hidden")));

/* More than a tick holds (cycle_lock and every stripe) under a dump. */
#define HELD_MAX 80

/*
 * The locks this thread holds, in the order taken; ranks increase along
 * it (each was checked against the top when taken, and a release only
 * removes), so the top is the highest.  A slot is NULL while being
 * filled: a signal handler that runs then and takes a lock of its own
 * sees the stack whole below it.
 */
static __thread const mprof_lock *held[HELD_MAX] __attribute__((tls_model("initial-exec")));
static __thread unsigned nheld __attribute__((tls_model("initial-exec")));

static const struct mprof_lock_class *class_of(const mprof_lock *l, unsigned long *index)
{
    /* Counted from the addresses: to the compiler the two bounds are
     * unrelated objects, not to be compared (0 if neither exists). */
    size_t n = ((uintptr_t)classes_stop - (uintptr_t)classes_start) / sizeof *classes_start;
    for (size_t k = 0; k < n; k++) {
        const struct mprof_lock_class *c = &classes_start[k];
        uintptr_t off = (uintptr_t)l - (uintptr_t)c->first;
        if (off < c->stride * c->count && off % c->stride == 0) {
            *index = off / c->stride;
            return c;
        }
    }
    return NULL;
}

long mprof_lock_rank_of(const mprof_lock *l)
{
    unsigned long i;
    const struct mprof_lock_class *c = class_of(l, &i);
    return c ? c->rank + (long)i : -1;
}

/* ---- the one line, without stdio ---- */

struct line {
    char s[512];
    size_t n;
};

static void put(struct line *b, const char *s)
{
    while (*s && b->n < sizeof b->s - 1)
        b->s[b->n++] = *s++;
}

static void put_num(struct line *b, unsigned long v, unsigned base)
{
    char d[24];
    int k = 0;
    do
        d[k++] = "0123456789abcdef"[v % base];
    while ((v /= base) && k < (int)sizeof d);
    while (k > 0 && b->n < sizeof b->s - 1)
        b->s[b->n++] = d[--k];
}

/* "core/record/bucket.c stripes[3] (rank 503)", or the address of a lock
 * that has no rank. */
static void put_lock(struct line *b, const mprof_lock *l)
{
    unsigned long i;
    const struct mprof_lock_class *c = l ? class_of(l, &i) : NULL;
    if (!l) {
        put(b, "no lock");
    } else if (!c) {
        put(b, "the lock at 0x");
        put_num(b, (unsigned long)(uintptr_t)l, 16);
        put(b, " (no rank)");
    } else {
        put(b, c->file);
        put(b, " ");
        put(b, c->name);
        if (c->count > 1) {
            put(b, "[");
            put_num(b, i, 10);
            put(b, "]");
        }
        put(b, " (rank ");
        put_num(b, (unsigned long)(c->rank + (long)i), 10);
        put(b, ")");
    }
}

static const mprof_lock *top(void)
{
    for (unsigned k = nheld; k > 0; k--)
        if (held[k - 1])
            return held[k - 1];
    return NULL;
}

/* "mprof: lock order: <what><a><how><b>" (no b if how is NULL), then
 * abort: a debug build stops at the first breach, where it happened. */
__attribute__((noreturn)) static void fail(const char *what, const mprof_lock *a,
                                           const char *how, const mprof_lock *b)
{
    struct line line = {.n = 0};
    put(&line, "mprof: lock order: ");
    put(&line, what);
    put_lock(&line, a);
    if (how) {
        put(&line, how);
        put_lock(&line, b);
    }
    line.s[line.n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line.s, line.n);
    (void)w;
    abort();
}

void mprof_lock_debug_taking(const mprof_lock *l)
{
    const mprof_lock *h = top();
    long rank = mprof_lock_rank_of(l);
    if (rank < 0)
        fail("taking ", l, " while holding ", h);
    if (h && rank <= mprof_lock_rank_of(h))
        fail("taking ", l, " while holding ", h);
    if (nheld == HELD_MAX)
        fail("too many locks held, taking ", l, " above ", h);
}

void mprof_lock_debug_took(const mprof_lock *l)
{
    unsigned n = nheld;
    held[n] = NULL;
    atomic_signal_fence(memory_order_seq_cst);
    nheld = n + 1;
    atomic_signal_fence(memory_order_seq_cst);
    held[n] = l;
}

/* Drop l from the stack; 0 if it was not there. */
static int drop(const mprof_lock *l)
{
    unsigned n = nheld, k = n;
    while (k > 0 && held[k - 1] != l)
        k--;
    if (k == 0)
        return 0;
    for (; k < n; k++)
        held[k - 1] = held[k];
    atomic_signal_fence(memory_order_seq_cst);
    nheld = n - 1;
    return 1;
}

void mprof_lock_debug_releasing(const mprof_lock *l)
{
    if (!drop(l))
        fail("releasing ", l, ", not held; holding ", top());
}

void mprof_lock_debug_forget(const mprof_lock *l) { (void)drop(l); }

void mprof_lock_assert_held(const mprof_lock *l)
{
    for (unsigned k = nheld; k > 0; k--)
        if (held[k - 1] == l)
            return;
    fail("", l, " must be held here; holding ", top());
}

void mprof_lock_assert_none_held(void)
{
    const mprof_lock *h = top();
    if (h)
        fail("no mprof lock may be held here; holding ", h, NULL, NULL);
}
#endif
