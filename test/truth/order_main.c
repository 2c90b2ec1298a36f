/*
 * order_main: keeps 30 blocks of 4,444 bytes (kept_site) and goes through
 * every other allocation entry point once, freeing what it got; frees
 * the two blocks order_lib's constructor made (order_ctor_fill), and with
 * the argument "ctor" says they were made and freed. Run with
 * another allocator ahead of libmprof.so in LD_PRELOAD.
 */
#include "common.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *order_kept[2];

SITE static void *kept_site(void) { return prog_check(malloc(4444), "malloc"); }

int main(int argc, char **argv)
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
    if (!order_kept[0] || !order_kept[1])
        prog_fail("order_ctor_fill");
    for (int i = 0; i < 2; i++)
        free(order_kept[i]); /* a crash, were they glibc's freed into jemalloc */
    /* pvalloc's page and reallocarray's 3,000 bytes, made and freed
     * (prog_truth's line, for two sizes), when the allocator ahead lacks
     * both (argument "ctor"): an allocator that has them serves them
     * before mprof starts, unseen (README, Limits). */
    if (argc > 1 && strcmp(argv[1], "ctor") == 0)
        dprintf(1, "truth 1 order_ctor_fill 0 2 %ld 0 0 order_lib.c 0\n",
            sysconf(_SC_PAGESIZE) + 3000);
    prog_truth(1, "kept_site", 4444, 30, 30, __FILE__, 0);
    printf("done\n");
    return 0;
}
