/*
 * inline_chain.c: an allocation at the bottom of a three-level chain of
 * inlined functions, inside one real function. The profile must show the
 * chain as addr2line -i shows it: level3, level2, level1, chain_outer, each
 * at its own line. Prints its load bias and text range for the test.
 */
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void *volatile sink[256];

static inline __attribute__((always_inline)) void *level3(size_t n)
{
    void *p = malloc(n);
    sink[n & 255] = p; /* no tail call: the frame stays */
    return p;
}

static inline __attribute__((always_inline)) void *level2(size_t n)
{
    void *p = level3(n + 1);
    sink[(n + 7) & 255] = p;
    return p;
}

static inline __attribute__((always_inline)) void *level1(size_t n)
{
    void *p = level2(n + 2);
    sink[(n + 13) & 255] = p;
    return p;
}

__attribute__((noipa)) void *chain_outer(size_t n)
{
    void *p = level1(n);
    sink[(n + 21) & 255] = p;
    return p;
}

static int first_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    *(uintptr_t *)arg = info->dlpi_addr;
    return 1; /* the first is the program */
}

extern char __executable_start[], etext[];

int main(void)
{
    for (size_t i = 0; i < 200; i++)
        chain_outer(64 + i);
    uintptr_t bias = 0;
    dl_iterate_phdr(first_object, &bias);
    printf("bias %#lx text %#lx %#lx\n", (unsigned long)bias,
           (unsigned long)__executable_start, (unsigned long)etext);
    return 0;
}
