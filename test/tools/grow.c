/*
 * grow: a process whose heap grows at one site between two moments that a
 * test chooses, for `mprof dump` and `mprof diff`.
 *
 *   grow DIR
 *
 * Allocates STEADY_N blocks at steady_site and keeps them, prints
 * "phase 1 <pid>", then waits for DIR/go1 to exist; leaks LEAK_N blocks at
 * leak_site, prints "phase 2", waits for DIR/go2, and exits 0.  Truth lines
 * (test/programs/common.h) give both sites' totals.  Waits give up after
 * 30 s (exit 3), so a failed test never leaves it behind for long.
 */
#include "common.h"

#include <stdio.h>

#define STEADY_N 1000
#define STEADY_SIZE 256
#define LEAK_N 3000
#define LEAK_SIZE 1000

static int line_steady, line_leak;

PROG_MALLOC_SITE(steady_site, STEADY_SIZE, line_steady)

PROG_MALLOC_SITE(leak_site, LEAK_SIZE, line_leak)

static void wait_go(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (prog_wait_file(path, 30000) < 0) {
        dprintf(2, "grow: %s did not appear within 30 s\n", path);
        exit(3);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        dprintf(2, "usage: grow DIR\n");
        return 2;
    }
    steady_site(prog_slots(STEADY_N), STEADY_N);
    prog_truth(1, "steady_site", STEADY_SIZE, STEADY_N, STEADY_N, __FILE__, line_steady);
    dprintf(1, "phase 1 %d\n", (int)getpid());
    wait_go(argv[1], "go1");
    leak_site(prog_slots(LEAK_N), LEAK_N);
    prog_truth(2, "leak_site", LEAK_SIZE, LEAK_N, LEAK_N, __FILE__, line_leak);
    dprintf(1, "phase 2\n");
    wait_go(argv[1], "go2");
    dprintf(1, "done\n");
    return 0;
}
