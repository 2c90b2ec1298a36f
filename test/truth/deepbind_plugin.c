/*
 * deepbind_plugin: a plugin its host loads with RTLD_DEEPBIND, which binds
 * its malloc and free to libc ahead of the global scope (and so past a
 * preloaded profiler). It frees blocks the host allocated, and keeps 50
 * blocks of 1,234 bytes of its own (plugin_site).
 */
#include <stdlib.h>

static void *kept[50];

__attribute__((noipa)) void *plugin_site(void)
{
    void *p = malloc(1234);
    *(volatile char *)p = 1; /* used: not a tail call, not elided */
    return p;
}

void plugin_run(void **blocks, int n)
{
    for (int i = 0; i < n; i++)
        free(blocks[i]);
    for (int i = 0; i < 50; i++)
        kept[i] = plugin_site();
}
