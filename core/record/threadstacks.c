/*
 * threadstacks.c: reading every thread's stack from /proc and memory
 * (see threadstacks.h).
 */
#include "threadstacks.h"

#include "fdmove.h"
#include "stack.h"
#include "threadreg.h"
#include "waitcall.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The file's first size - 1 bytes, NUL-terminated; its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = mprof_fd_raise(open(path, O_RDONLY | O_CLOEXEC), path);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Call fn(tid, arg) for each thread of the process; stops when it
 * returns nonzero.  getdents64 on /proc/self/task: no opendir, which
 * allocates. */
static void each_tid(int (*fn)(int tid, void *arg), void *arg)
{
    int fd = mprof_fd_raise(open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                            "/proc/self/task");
    if (fd < 0)
        return;
    char buf[4096] __attribute__((aligned(8)));
    long n;
    int stop = 0;
    while (!stop && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long off = 0; off < n && !stop;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            int tid = (int)strtol(d->d_name, NULL, 10); /* "." and ".." are 0 */
            if (tid > 0)
                stop = fn(tid, arg);
        }
    close(fd);
}

static int count_one(int tid, void *arg)
{
    (void)tid;
    ++*(size_t *)arg;
    return 0;
}

size_t mprof_threadstacks_count(void)
{
    size_t n = 0;
    each_tid(count_one, &n);
    return n;
}

/* Where a thread blocked in the kernel is: "nr a1..a6 sp pc" (or "-1 sp
 * pc" when blocked outside a system call).  0, or -1 when it is running
 * or gone. */
static int blocked_at(int tid, uintptr_t *sp, uintptr_t *pc)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    /* the numbers: the call's (decimal), its six arguments, sp, pc (hex) */
    unsigned long long v[9];
    int got = 0;
    char *p = buf, *end;
    if (strncmp(buf, "running", 7) == 0)
        return -1;
    for (; got < 9; got++, p = end) {
        v[got] = got ? strtoull(p, &end, 16) : (unsigned long long)strtoll(p, &end, 10);
        if (end == p)
            break;
    }
    if (got == 9) {
        *sp = (uintptr_t)v[7];
        *pc = (uintptr_t)v[8];
    } else if (got == 3) {
        *sp = (uintptr_t)v[1];
        *pc = (uintptr_t)v[2];
    } else {
        return -1; /* "running" */
    }
    return *sp && *pc ? 0 : -1;
}

/* Copy [sp, sp + MPROF_THREADSTACK_COPY) page by page, up to the first
 * page that is not mapped: the stack's top, or its guard. */
static size_t copy_stack(uintptr_t sp, unsigned char *copy)
{
    enum { PAGE = 4096, NPAGES = MPROF_THREADSTACK_COPY / PAGE };
    struct iovec local = {copy, MPROF_THREADSTACK_COPY}, remote[NPAGES];
    uintptr_t at = sp;
    for (int i = 0; i < NPAGES; i++) {
        uintptr_t end = (at & ~(uintptr_t)(PAGE - 1)) + PAGE;
        remote[i] = (struct iovec){(void *)at, end - at}; // NOLINT(performance-no-int-to-ptr): the thread's stack
        at = end;
    }
    remote[NPAGES - 1].iov_len -= at - (sp + MPROF_THREADSTACK_COPY);
    ssize_t n = process_vm_readv(getpid(), &local, 1, remote, NPAGES, 0);
    return n > 0 ? (size_t)n : 0;
}

static int read_int(uintptr_t addr, int *out)
{
    struct iovec local = {out, sizeof *out};
    struct iovec remote = {(void *)addr, sizeof *out}; // NOLINT(performance-no-int-to-ptr): the program's lock
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof *out ? 0 : -1;
}

/* The holder of the lock a thread waits for: glibc keeps the owner's tid
 * in a mutex (__data.__owner) and a write-locked rwlock's writer
 * (__data.__cur_writer). */
static int owner_of(int call, uintptr_t obj)
{
    int tid = 0;
    switch (call) {
    case MPROF_WAIT_MUTEX_LOCK:
    case MPROF_WAIT_MUTEX_TIMEDLOCK:
    case MPROF_WAIT_MUTEX_CLOCKLOCK:
        read_int(obj + offsetof(pthread_mutex_t, __data.__owner), &tid);
        break;
    case MPROF_WAIT_RWLOCK_RDLOCK:
    case MPROF_WAIT_RWLOCK_WRLOCK:
    case MPROF_WAIT_RWLOCK_TIMEDRDLOCK:
    case MPROF_WAIT_RWLOCK_TIMEDWRLOCK:
    case MPROF_WAIT_RWLOCK_CLOCKRDLOCK:
    case MPROF_WAIT_RWLOCK_CLOCKWRLOCK:
        read_int(obj + offsetof(pthread_rwlock_t, __data.__cur_writer), &tid);
        break;
    default:
        break;
    }
    return tid > 0 ? tid : 0;
}

/* In a wrapped call, the frames of libc's real call and of the wrapper
 * become the call's one synthetic frame, as in the block profile: from
 * the leaf up to the last frame in mprof's object. */
static void fold_wrapper(mprof_thread_stack *t)
{
    int last = -1;
    for (int i = 0; i < t->npcs; i++)
        if (mprof_stack_in_mprof(t->pcs[i] - 1))
            last = i;
        else if (last >= 0)
            break;
    if (last < 0)
        return;
    int keep = t->npcs - (last + 1);
    memmove(&t->pcs[1], &t->pcs[last + 1], (size_t)keep * sizeof t->pcs[0]);
    t->pcs[0] = mprof_waitcall_pc(t->call);
    t->npcs = keep + 1;
}

static void read_name_state(mprof_thread_stack *t)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", t->tid);
    if (read_small(path, buf, sizeof buf) > 0) {
        size_t len = strcspn(buf, "\n");
        if (len >= sizeof t->name)
            len = sizeof t->name - 1;
        memcpy(t->name, buf, len);
        t->name[len] = '\0';
    }
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", t->tid);
    const char *paren = read_small(path, buf, sizeof buf) > 0 ? strrchr(buf, ')') : NULL;
    t->state = (char)(paren && paren[1] == ' ' ? paren[2] : '?');
}

/* Unwind thread t if it is blocked and stays so while it is read. */
struct capture {
    mprof_thread_stack *out;
    size_t n, max;
    int depth, self;
    unsigned char *copy;
    mprof_unwind_fn *unwind;
    mprof_unwinder *u;
};

static void read_stack(mprof_thread_stack *t, const struct capture *c)
{
    uintptr_t sp, pc, sp2, pc2;
    t->how = MPROF_THREAD_RUNNING;
    t->npcs = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (blocked_at(t->tid, &sp, &pc) != 0)
            return;
        size_t len = copy_stack(sp, c->copy);
        t->npcs = c->unwind(c->u, t->tid, pc, sp, c->copy, len, t->pcs, c->depth);
        if (blocked_at(t->tid, &sp2, &pc2) == 0 && sp2 == sp && pc2 == pc) {
            t->how = MPROF_THREAD_UNWOUND;
            return;
        }
    }
    t->npcs = 0; /* it kept moving: running */
}

/* The tids of mprof's own threads, by role; 0: none (yet). */
static int own_tid[MPROF_NOWN];

void mprof_threadstacks_own(enum mprof_own_thread role)
{
    __atomic_store_n(&own_tid[role], (int)syscall(SYS_gettid), __ATOMIC_RELAXED);
}

static int is_own(int tid)
{
    for (int r = 0; r < MPROF_NOWN; r++)
        if (__atomic_load_n(&own_tid[r], __ATOMIC_RELAXED) == tid)
            return 1;
    return 0;
}

static int capture_one(int tid, void *arg)
{
    struct capture *c = arg;
    if (tid == c->self || is_own(tid))
        return 0;
    if (c->n == c->max)
        return 1;
    mprof_thread_stack *t = &c->out[c->n];
    memset(t, 0, offsetof(mprof_thread_stack, pcs));
    t->tid = tid;
    read_name_state(t);
    const void *obj;
    mprof_threadreg_wait(tid, &t->call, &obj);
    t->obj = (uintptr_t)obj;
    read_stack(t, c);
    if (t->state == '?') /* gone while read */
        return 0;
    if (t->call != MPROF_WAIT_NONE) {
        t->owner = owner_of(t->call, t->obj);
        if (t->how == MPROF_THREAD_UNWOUND)
            fold_wrapper(t);
    }
    c->n++;
    return 0;
}

size_t mprof_threadstacks_capture(mprof_thread_stack *out, size_t max, int depth,
                                  unsigned char *copy, mprof_unwind_fn *unwind,
                                  mprof_unwinder *u)
{
    if (depth > MPROF_STACK_MAX)
        depth = MPROF_STACK_MAX;
    struct capture c = {out, 0, max, depth, (int)syscall(SYS_gettid), copy, unwind, u};
    each_tid(capture_one, &c);
    return c.n;
}
