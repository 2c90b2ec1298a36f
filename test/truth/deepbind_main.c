/*
 * deepbind_main PLUGIN: allocates 200 blocks of 3,000 bytes (host_site),
 * loads PLUGIN with RTLD_DEEPBIND and has it free them all and keep 50
 * blocks of its own (plugin_site). Prints the truth of both.
 */
#include "common.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

SITE static void *host_site(void) { return prog_check(malloc(3000), "malloc"); }

int main(int argc, char **argv)
{
    if (argc < 2)
        prog_fail("usage: deepbind_main PLUGIN");
    void **blocks = prog_slots(200);
    for (int i = 0; i < 200; i++)
        blocks[i] = host_site();
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h)
        prog_fail(dlerror());
    void (*run)(void **, int) = (void (*)(void **, int))dlsym(h, "plugin_run");
    if (!run)
        prog_fail("plugin_run");
    run(blocks, 200);
    prog_truth(1, "host_site", 3000, 200, 0, __FILE__, 0);
    prog_truth(1, "plugin_site", 1234, 50, 50, "deepbind_plugin.c", 0);
    printf("done\n");
    return 0;
}
