/*
 * never_returns: programs whose main never returns.
 *
 *   never_returns --pthread-exit
 *       main calls pthread_exit(); a worker allocates at nr_site and calls
 *       exit(0): the exit dump must still run, from the worker.
 *   never_returns --forever
 *       allocates at nr_site, prints "ready", then sleeps until killed: the
 *       only profile is the one a dump signal from outside asks for.
 */
#include "common.h"

#include <pthread.h>
#include <string.h>

#define NR_N 1000
#define NR_SIZE 72

static int line_nr;

PROG_MALLOC_SITE(nr_site, NR_SIZE, line_nr)

static void allocate_and_report(void)
{
    nr_site(prog_slots(NR_N), NR_N);
    prog_truth(1, "nr_site", NR_SIZE, NR_N, NR_N, __FILE__, line_nr);
}

static void *worker(void *arg)
{
    (void)arg;
    prog_sleep_ms(50); /* let main reach pthread_exit first */
    allocate_and_report();
    dprintf(1, "done\n");
    exit(0);
}

__attribute__((noreturn)) static void forever(void)
{
    allocate_and_report();
    dprintf(1, "ready\n");
    for (;;)
        prog_sleep_ms(1000);
}

int main(int argc, char **argv)
{
    dprintf(1, "pid %d\n", (int)getpid());
    if (argc == 2 && strcmp(argv[1], "--forever") == 0)
        forever();
    if (argc != 2 || strcmp(argv[1], "--pthread-exit") != 0) {
        dprintf(2, "usage: never_returns --pthread-exit | --forever\n");
        return 2;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, worker, NULL))
        prog_fail("pthread_create");
    pthread_exit(NULL);
}
