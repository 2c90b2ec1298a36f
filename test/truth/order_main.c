/*
 * order_main: keeps 30 blocks of 4,444 bytes (kept_site) and goes through
 * every other allocation entry point once, freeing what it got; run with
 * another allocator ahead of libmprof.so in LD_PRELOAD.
 */
#include "common.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

SITE static void *kept_site(void) { return prog_check(malloc(4444), "malloc"); }

int main(void)
{
    void **keep = prog_slots(30);
    for (int i = 0; i < 30; i++)
        keep[i] = kept_site();
    void *k[6];
    void *p = NULL;
    if (posix_memalign(&p, 256, 5000) != 0)
        prog_fail("posix_memalign");
    k[0] = p;
    k[1] = prog_check(memalign(4096, 10000), "memalign");
    k[2] = prog_check(aligned_alloc(64, 640), "aligned_alloc");
    k[3] = prog_check(valloc(3000), "valloc");
    k[4] = prog_check(calloc(10, 100), "calloc");
    k[5] = prog_check(realloc(realloc(NULL, 77), 7777), "realloc");
    if ((unsigned long)k[0] % 256 || (unsigned long)k[1] % 4096 || (unsigned long)k[2] % 64 ||
        malloc_usable_size(k[5]) < 7777)
        prog_fail("entry points");
    for (int i = 0; i < 6; i++)
        free(k[i]);
    prog_truth(1, "kept_site", 4444, 30, 30, __FILE__, 0);
    printf("done\n");
    return 0;
}
