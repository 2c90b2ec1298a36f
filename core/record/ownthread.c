/* ownthread.c: see ownthread.h. */
#include "ownthread.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>

#define STACK_SIZE ((size_t)1 << 20)
#define STACK_GUARD ((size_t)1 << 16)

static int map_stack(mprof_ownthread *t)
{
    void *m = mmap(NULL, STACK_GUARD + STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return errno;
    mprotect(m, STACK_GUARD, PROT_NONE);
    t->stack_map = m;
    return 0;
}

int mprof_ownthread_start(mprof_ownthread *t, void *(*fn)(void *))
{
    int rc = t->stack_map ? 0 : map_stack(t);
    if (rc)
        return rc;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, (char *)t->stack_map + STACK_GUARD, STACK_SIZE);
    rc = pthread_create(&t->thread, &attr, fn, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    t->running = rc == 0;
    return rc;
}

void mprof_ownthread_join(mprof_ownthread *t, int unmap)
{
    if (!t->running)
        return;
    int cancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    pthread_join(t->thread, NULL);
    pthread_setcancelstate(cancel, NULL);
    t->running = 0;
    if (unmap && t->stack_map) {
        munmap(t->stack_map, STACK_GUARD + STACK_SIZE);
        t->stack_map = NULL;
    }
}

void mprof_ownthread_after_fork(mprof_ownthread *t)
{
    if (t->running || t->stack_map)
        *t = (mprof_ownthread){0};
}
