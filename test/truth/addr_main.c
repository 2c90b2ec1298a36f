/*
 * addr_main: built without PIE, takes malloc's address, as python3 does:
 * the linker then gives the program a "canonical PLT entry" named malloc,
 * an undefined symbol with a value, which dlsym(RTLD_DEFAULT) returns
 * first. It is no allocator ahead of the shim. Keeps 25 blocks of 5,555
 * bytes (addr_site), allocated through the pointer.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

void *(*volatile alloc_fn)(size_t);

SITE static void *addr_site(void) { return prog_check(alloc_fn(5555), "malloc"); }

int main(void)
{
    alloc_fn = malloc; /* an absolute address in non-PIC code */
    void **keep = prog_slots(25);
    for (int i = 0; i < 25; i++)
        keep[i] = addr_site();
    prog_truth(1, "addr_site", 5555, 25, 25, __FILE__, 0);
    printf("done\n");
    return 0;
}
