/*
 * unlinked_main LIB: copies LIB to ./extracted.so, loads the copy, deletes
 * it, then has it keep 40 blocks of 2,222 bytes (unlinked_site). Prints
 * the truth.
 */
#include "common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0)
        prog_fail("open");
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            prog_fail("write");
    close(in);
    close(out);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        prog_fail("usage: unlinked_main LIB");
    char path[4096];
    if (!getcwd(path, sizeof path - 16))
        prog_fail("getcwd");
    snprintf(path + strlen(path), 16, "/extracted.so");
    copy(argv[1], path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        prog_fail(dlerror());
    if (unlink(path) != 0)
        prog_fail("unlink");
    void *(*site)(void) = (void *(*)(void))dlsym(h, "unlinked_site");
    if (!site)
        prog_fail("unlinked_site");
    void **keep = prog_slots(40);
    for (int i = 0; i < 40; i++)
        keep[i] = prog_check(site(), "malloc");
    prog_truth(1, "unlinked_site", 2222, 40, 40, "unlinked_lib.c", 0);
    printf("done\n");
    return 0;
}
