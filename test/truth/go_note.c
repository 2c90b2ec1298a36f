/*
 * go_note: a C program that carries the note the Go toolchain puts in
 * every Go binary (".note.go.buildid", owner "Go", type 4), which is how
 * mprof tells a Go program (cgo) from others. It allocates and exits.
 */
#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct note {
    uint32_t namesz, descsz, type;
    char name[4];
    char desc[8];
};

__attribute__((section(".note.go.buildid"), aligned(4), used))
static const struct note go_buildid = {4, 8, 4, "Go", "mprof-go"};

int main(void)
{
    prog_use(prog_check(malloc(1000), "malloc"));
    printf("done\n");
    return 0;
}
