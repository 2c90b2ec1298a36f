/*
 * order_lib: a library whose constructor, run before a preloaded
 * libmprof.so starts, keeps two blocks from calls that jemalloc lacks
 * (pvalloc, reallocarray): with jemalloc ahead of libmprof.so in
 * LD_PRELOAD those reach the shim first, and the blocks they return must
 * be jemalloc's, for the program's free (bound to jemalloc) to take.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void *order_kept[2];

__attribute__((noipa)) void order_ctor_fill(void)
{
    order_kept[0] = pvalloc(100);          /* one page */
    order_kept[1] = reallocarray(NULL, 10, 300);
    for (int i = 0; i < 2; i++)
        if (order_kept[i])
            memset(order_kept[i], 1, 100);
}

__attribute__((constructor)) static void order_ctor(void) { order_ctor_fill(); }
