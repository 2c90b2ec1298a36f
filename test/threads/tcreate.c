/*
 * tcreate.c: threads created at two sites, some of them ended, for the
 * threadcreate profile's exact counts (issue 14, part 1).
 *
 *   spawn_five   5 threads: one returns, one calls pthread_exit, one is
 *                cancelled (all joined), two stay parked
 *   spawn_four   4 threads: one returns (joined), three stay parked
 *
 * Then it prints "ready" and waits until the dump the test asks for
 * (mprof.<pid>.1.threadcreate.pb.gz) is there; it lets the parked threads
 * go, joins them and exits: the exit dump has every thread ended.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int park_fd[2]; /* parked threads read; closing [1] lets them go */

static void *parks(void *arg)
{
    char c;
    (void)arg;
    while (read(park_fd[0], &c, 1) < 0)
        ;
    return NULL;
}

static void *returns(void *arg) { return arg; }

static void *exits(void *arg) { pthread_exit(arg); }

static void *cancelled(void *arg)
{
    for (;;)
        pause(); /* a cancellation point */
    return arg;
}

/* pthread_create is called in these two functions: they are the sites.
 * Each returns the threads it left parked in *parked. */
SITE void spawn_five(pthread_t *parked)
{
    void *(*fns[5])(void *) = {returns, exits, cancelled, parks, parks};
    pthread_t t[5];
    for (int i = 0; i < 5; i++)
        if (pthread_create(&t[i], NULL, fns[i], NULL) != 0)
            exit(2);
    pthread_cancel(t[2]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    parked[0] = t[3];
    parked[1] = t[4];
    prog_use(parked);
}

SITE void spawn_four(pthread_t *parked)
{
    void *(*fns[4])(void *) = {returns, parks, parks, parks};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, fns[i], NULL) != 0)
            exit(2);
    pthread_join(t[0], NULL);
    for (int i = 0; i < 3; i++)
        parked[i] = t[i + 1];
    prog_use(parked);
}

int main(void)
{
    if (pipe(park_fd) != 0)
        return 2;
    pthread_t parked[5];
    spawn_five(parked);
    spawn_four(parked + 2);
    printf("ready\n");
    fflush(stdout);
    char name[64];
    snprintf(name, sizeof name, "mprof.%d.1.threadcreate.pb.gz", (int)getpid());
    struct stat st;
    while (stat(name, &st) != 0)
        usleep(2000);
    close(park_fd[1]);
    for (int i = 0; i < 5; i++)
        pthread_join(parked[i], NULL);
    printf("done\n");
    return 0;
}
