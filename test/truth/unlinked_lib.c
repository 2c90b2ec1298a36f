/*
 * unlinked_lib: a plugin its host copies out, loads and unlinks (as the
 * JVM and many plugin hosts do with a library they extract): 40 blocks of
 * 2,222 bytes kept from unlinked_site, an exported function.
 */
#include <stdlib.h>

__attribute__((noipa)) void *unlinked_site(void)
{
    void *p = malloc(2222);
    *(volatile char *)p = 1; /* used: not a tail call, not elided */
    return p;
}
