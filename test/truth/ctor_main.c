/*
 * ctor_main: links ctor_lib, whose constructor keeps 100 blocks of 5,000
 * bytes (ctor_fill) before any constructor of a preloaded library runs;
 * main keeps 10 blocks of 7,000 bytes (main_site). Prints the truth of
 * both (test/programs/common.h).
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

int ctor_count(void);

SITE static void *main_site(void)
{
    return prog_check(malloc(7000), "malloc"); /* not a tail call */
}

int main(void)
{
    void **keep = prog_slots(10);
    for (int i = 0; i < 10; i++)
        keep[i] = main_site();
    if (ctor_count() != 100)
        prog_fail("ctor_fill");
    prog_truth(1, "ctor_fill", 5000, 100, 100, "ctor_lib.c", 0);
    prog_truth(1, "main_site", 7000, 10, 10, __FILE__, 0);
    printf("done\n");
    return 0;
}
