/*
 * workload: a deterministic program for the fault tests.
 *
 *   workload [--blocks N] [--depths D] [--dump-self PREFIX]
 *
 * Allocates N blocks of 16..64 bytes at work_site, called through
 * recursion of 1..D frames (so up to D * 4 distinct stacks and sizes),
 * keeping all of them live, and checks them under a mutex.  With
 * --dump-self it asks for a dump half way (PREFIX is MPROF_OUT) and waits
 * up to 2 s for it (a dump that cannot be written never appears).  Prints
 * a checksum that does not depend on mprof and exits 3 (a status of its
 * own, so that a run that did not finish cannot pass for one that did).
 */
#include "hprog.h"

#include <pthread.h>

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;

SITE static void *work_site(size_t size)
{
    return prog_check(malloc(size), "malloc");
}

SITE static void *descend(int depth, size_t size)
{
    if (depth <= 1)
        return work_site(size);
    void *p = descend(depth - 1, size);
    prog_use(p); /* not a tail call: each level stays on the stack */
    return p;
}

int main(int argc, char **argv)
{
    long n = hp_long(argc, argv, "--blocks", 20000), depths = hp_long(argc, argv, "--depths", 16);
    const char *self = hp_arg(argc, argv, "--dump-self");
    void **keep = prog_slots((size_t)n);
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        size_t size = 16 + 16 * (size_t)(i % 4);
        keep[i] = descend(1 + (int)(i % depths), size);
        hp_fill(keep[i], size, (uint64_t)i);
        if (self && i == n / 2)
            hp_dump_and_wait(self, 1, "mutex", 2000);
    }
    for (long i = 0; i < n; i++) {
        size_t size = 16 + 16 * (size_t)(i % 4);
        pthread_mutex_lock(&g_m);
        hp_check(keep[i], size, (uint64_t)i);
        sum += ((unsigned char *)keep[i])[size - 1];
        pthread_mutex_unlock(&g_m);
    }
    dprintf(1, "blocks %ld checksum %llu\nverify ok\ndone\n", n, (unsigned long long)sum);
    return 3;
}
