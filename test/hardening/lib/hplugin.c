/*
 * hplugin.c: the library that dlopen_churn loads and unloads again and
 * again.  Its functions allocate and take a lock, so that sampled stacks
 * (heap, block and mutex) have their leaf frames inside it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SITE __attribute__((noinline, noclone, visibility("default")))

static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
static void *volatile sink;

/* n blocks of `size` bytes; every other one is freed here, the rest are
 * stored in keep[] for the caller (which frees them after dlclose). */
SITE int hplugin_alloc(void **keep, int n, size_t size)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        void *p = malloc(size);
        if (!p)
            return -1;
        memset(p, i, size);
        sink = p;
        if (i % 2)
            free(p);
        else
            keep[kept++] = p;
    }
    return kept;
}

/* Hold the lock for `ms` while another thread waits for it: the waiter's
 * block event and the holder's mutex event both happen inside the library. */
SITE void hplugin_hold(long ms)
{
    pthread_mutex_lock(&plugin_lock);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    pthread_mutex_unlock(&plugin_lock);
}

SITE void hplugin_wait(void)
{
    pthread_mutex_lock(&plugin_lock);
    pthread_mutex_unlock(&plugin_lock);
}
