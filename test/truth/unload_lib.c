/*
 * unload_lib: built twice, as libtruth_unload_a.so (SITE=a_site, 30 blocks
 * of 3,333 bytes) and libtruth_unload_b.so (SITE=b_site, 20 of 1,111): the
 * host keeps what the first allocated, unloads it, and loads the second,
 * which the loader maps where the first was.
 */
#include <stdlib.h>

__attribute__((noipa)) void *SITE(void)
{
    void *p = malloc(SIZE);
    *(volatile char *)p = 1; /* used: not a tail call, not elided */
    return p;
}

void *unload_alloc(void) { return SITE(); }
