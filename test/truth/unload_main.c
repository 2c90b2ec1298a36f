/*
 * unload_main LIB_A LIB_B: keeps 30 blocks from LIB_A's a_site, unloads
 * LIB_A (dlclose), then keeps 20 blocks from LIB_B's b_site; prints where
 * each was loaded, and the truth of both sites.
 */
#include "common.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static void keep_from(const char *lib, int n, int close_after)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        prog_fail(dlerror());
    void *(*alloc)(void) = (void *(*)(void))dlsym(h, "unload_alloc");
    if (!alloc)
        prog_fail("unload_alloc");
    void **keep = prog_slots((size_t)n);
    for (int i = 0; i < n; i++)
        keep[i] = prog_check(alloc(), "malloc");
    printf("loaded %s at %p\n", lib, (void *)alloc);
    if (close_after && dlclose(h) != 0)
        prog_fail("dlclose");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        prog_fail("usage: unload_main LIB_A LIB_B");
    keep_from(argv[1], 30, 1);
    keep_from(argv[2], 20, 0);
    prog_truth(1, "a_site", 3333, 30, 30, "unload_lib.c", 0);
    prog_truth(1, "b_site", 1111, 20, 20, "unload_lib.c", 0);
    printf("done\n");
    return 0;
}
