/*
 * dlopen_churn: a library loaded and unloaded while threads sample.
 *
 *   dlopen_churn --lib PATH --out PREFIX [--rounds R] [--n N]
 *
 * Each round dlopens the library, allocates N blocks of PLUGIN_SIZE bytes
 * in it (hplugin_alloc frees every other one and hands the rest back),
 * makes one thread wait ~10 ms for a lock another thread holds inside it
 * (hplugin_hold / hplugin_wait), and dlcloses it.  A churn thread
 * allocates and frees all along, so samples are taken while the loader
 * maps and unmaps the library.  In the last round, before dlclose, the
 * program asks for a dump (PREFIX is MPROF_OUT) and waits for it: that
 * dump must name the library's functions.  The blocks kept are freed after
 * the last dlclose.
 */
#include "hprog.h"

#include <dlfcn.h>
#include <pthread.h>

#define PLUGIN_SIZE 776

typedef int (*alloc_fn)(void **, int, size_t);
typedef void (*hold_fn)(long);
typedef void (*wait_fn)(void);

static pthread_barrier_t g_bar;
static hold_fn g_hold;
static wait_fn g_wait;
static volatile int g_stop;

static void *holder(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_bar);
    g_hold(10);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_bar);
    prog_sleep_ms(2); /* let the holder take the lock first */
    g_wait();
    return NULL;
}

SITE static void churn_site(uint64_t *x)
{
    void *p = prog_check(malloc(16 + hp_rand(x) % 200), "malloc");
    free(p);
}

static void *churn(void *arg)
{
    (void)arg;
    uint64_t x = 88172645463325252ULL;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED))
        churn_site(&x);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *lib = hp_arg(argc, argv, "--lib");
    const char *out = hp_arg(argc, argv, "--out");
    int rounds = (int)hp_long(argc, argv, "--rounds", 20);
    int n = (int)hp_long(argc, argv, "--n", 200);
    if (!lib || !out) {
        dprintf(2, "usage: dlopen_churn --lib PATH --out PREFIX\n");
        return 2;
    }
    dprintf(1, "pid %d\n", (int)getpid());
    void **kept = prog_slots((size_t)rounds * (size_t)n);
    size_t nkept = 0;
    pthread_t ct;
    pthread_create(&ct, NULL, churn, NULL);
    pthread_barrier_init(&g_bar, NULL, 2);
    for (int r = 0; r < rounds; r++) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            dprintf(2, "dlopen: %s\n", dlerror());
            return 3;
        }
        alloc_fn a = (alloc_fn)dlsym(h, "hplugin_alloc");
        g_hold = (hold_fn)dlsym(h, "hplugin_hold");
        g_wait = (wait_fn)dlsym(h, "hplugin_wait");
        if (!a || !g_hold || !g_wait)
            prog_fail("dlsym");
        pthread_t t1, t2;
        pthread_create(&t1, NULL, holder, NULL);
        pthread_create(&t2, NULL, waiter, NULL);
        int k = a(kept + nkept, n, PLUGIN_SIZE);
        if (k != (n + 1) / 2)
            hp_damaged("hplugin_alloc");
        nkept += (size_t)k;
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        if (r == rounds - 1) {
            /* mutex is the last file of a dump: all three saw the library */
            int ms = hp_dump_and_wait(out, 1, "mutex", 10000);
            dprintf(1, "dump1 %s\n", ms >= 0 ? "seen" : "missing");
        }
        if (dlclose(h) != 0)
            prog_fail("dlclose");
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_join(ct, NULL);
    for (size_t i = 0; i < nkept; i++) {
        const unsigned char *c = kept[i];
        if (c[0] != c[PLUGIN_SIZE - 1])
            hp_damaged("a kept block changed");
        free(kept[i]);
    }
    size_t total = (size_t)rounds * (size_t)n;
    /* At dump 1 the kept blocks of every round were live. */
    dprintf(1, "truth 1 hplugin_alloc %d %zu %zu %zu %zu hplugin.c 0\n", PLUGIN_SIZE,
            total, total * PLUGIN_SIZE, nkept, nkept * PLUGIN_SIZE);
    dprintf(1, "truth 2 hplugin_alloc %d %zu %zu 0 0 hplugin.c 0\n", PLUGIN_SIZE, total,
            total * PLUGIN_SIZE);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
