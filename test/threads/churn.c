/*
 * churn.c: 1,000 parked threads, and threads started and ended all the
 * while, for threads dumps taken meanwhile (issue 14, part 2, the stress
 * test).  It prints "ready" once the 1,000 are started, churns (each
 * round starts 8 threads that take a lock and end, and joins them) until
 * a file named "stop" appears in its directory, then lets the parked
 * threads go and joins them.  Its output depends on nothing but its
 * arguments, so that a run under mprof can be compared with a bare one.
 */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PARKED = 1000, PER_ROUND = 8 };

static int park_fd[2];
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *parks(void *arg)
{
    char c;
    while (read(park_fd[0], &c, 1) < 0)
        ;
    return arg;
}

static void *short_lived(void *arg)
{
    pthread_mutex_lock(&counter_lock);
    counter++;
    pthread_mutex_unlock(&counter_lock);
    return arg;
}

static int stopped(void)
{
    struct stat st;
    return stat("stop", &st) == 0;
}

int main(void)
{
    static pthread_t parked[PARKED];
    if (pipe(park_fd) != 0)
        return 2;
    pthread_attr_t small;
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, 64 << 10);
    for (int i = 0; i < PARKED; i++)
        if (pthread_create(&parked[i], &small, parks, NULL) != 0)
            return 2;
    printf("ready\n");
    fflush(stdout);
    long rounds = 0;
    do {
        pthread_t t[PER_ROUND];
        for (int i = 0; i < PER_ROUND; i++)
            if (pthread_create(&t[i], &small, short_lived, NULL) != 0)
                return 2;
        for (int i = 0; i < PER_ROUND; i++)
            pthread_join(t[i], NULL);
        rounds++;
    } while (!stopped());
    close(park_fd[1]);
    for (int i = 0; i < PARKED; i++)
        pthread_join(parked[i], NULL);
    printf("parked %d joined %d, every short-lived thread counted: %s\n", PARKED, PARKED,
           counter == rounds * PER_ROUND ? "yes" : "no");
    return 0;
}
