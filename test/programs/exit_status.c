/*
 * exit_status: prints a known line, allocates a little, and exits with a
 * known status (3 unless given), so tests can check that the profiler never
 * changes a program's output or exit status.
 *
 *   exit_status [status]
 */
#include "common.h"

#define N 1000
#define SIZE 100

static int line_es;

PROG_MALLOC_SITE(exit_status_site, SIZE, line_es)

int main(int argc, char **argv)
{
    int status = argc > 1 ? atoi(argv[1]) : 3;
    exit_status_site(prog_slots(N), N);
    printf("exit_status: hello, exiting with %d\n", status);
    prog_truth(1, "exit_status_site", SIZE, N, N, __FILE__, line_es);
    return status;
}
