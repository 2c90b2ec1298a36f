/*
 * host_mainexit: the main thread leaves with pthread_exit() while a worker
 * carries on; the process must end, with status 0, when the worker ends.
 *
 *   host_mainexit [--worker-ms MS]
 *
 * The worker allocates KEEP_N blocks of KEEP_SIZE bytes at mainexit_site
 * and keeps them, prints their truth and "ready", sleeps MS ms (default
 * 100), prints "worker done" and returns: the last thread to end calls
 * exit(0), and the exit handlers run.  With a long MS the test sends SIGTERM
 * after "ready", which must end the process as it ends it bare.
 */
#include "hprog.h"

#include <pthread.h>

#define KEEP_N 100
#define KEEP_SIZE 4096

static long g_ms = 100;

enum { KEEP_LINE = __LINE__ + 3 }; /* the malloc line below */
SITE static void *mainexit_site(void)
{
    return prog_check(malloc(KEEP_SIZE), "malloc");
}

static void *worker(void *arg)
{
    void **keep = prog_slots(KEEP_N);
    for (int i = 0; i < KEEP_N; i++)
        keep[i] = mainexit_site();
    prog_truth(1, "mainexit_site", KEEP_SIZE, KEEP_N, KEEP_N, __FILE__, KEEP_LINE);
    dprintf(1, "ready\n");
    prog_sleep_ms(g_ms);
    dprintf(1, "worker done\n");
    return arg;
}

int main(int argc, char **argv)
{
    g_ms = hp_long(argc, argv, "--worker-ms", g_ms);
    dprintf(1, "main: pthread_exit\n"); /* first: the worker's lines follow */
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        prog_fail("pthread_create");
    pthread_exit(NULL);
}
