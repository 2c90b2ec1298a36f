/*
 * regmap.c: what starting a thread maps, for the check that the thread
 * registry (threadreg.c, 1 MiB at the first registration) is mapped only
 * with the threads profile on.  The thread runs on a stack mapped before
 * the measure (so glibc maps no stack for it) and is joined; prints the
 * growth of VmSize across its start and end, in kB: "grew <kB>".  Run
 * with MPROF_THREADS=0 and =1, the difference is the registry.
 */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

enum { STACK = 256 << 10 };

static long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0)
            sscanf(line + 7, "%ld", &kb);
    if (f)
        fclose(f);
    return kb;
}

static void *nothing(void *arg) { return arg; }

int main(void)
{
    void *stk = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    pthread_attr_t a;
    pthread_t t;
    if (stk == MAP_FAILED || pthread_attr_init(&a) != 0 ||
        pthread_attr_setstack(&a, stk, STACK) != 0)
        return 2;
    long before = vm_size_kb();
    if (pthread_create(&t, &a, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    long after = vm_size_kb();
    printf("grew %ld\n", after - before);
    return 0;
}
