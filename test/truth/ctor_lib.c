/*
 * ctor_lib: a library whose constructor builds a table that lives for the
 * whole run (100 blocks of 5,000 bytes), as plugin registries, C++ static
 * objects and codec tables do. The program that links it is initialised
 * after it, and so is a preloaded libmprof.so.
 */
#include <stdlib.h>

void *ctor_table[100];

__attribute__((noipa)) void ctor_fill(void)
{
    for (int i = 0; i < 100; i++)
        ctor_table[i] = malloc(5000);
}

__attribute__((constructor)) static void ctor_init(void) { ctor_fill(); }

int ctor_count(void)
{
    int n = 0;
    for (int i = 0; i < 100; i++)
        n += ctor_table[i] != NULL;
    return n;
}
