/*
 * own_handler: a program that uses the dump signal itself.  It installs a
 * handler for SIGUSR2 (or, with "early", finds one set before it started:
 * see the test), raises the signal, and reports that its own handler ran.
 * mprof must leave the handler alone and print nothing.
 */
#include "common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t handled;

static void on_usr2(int sig)
{
    (void)sig;
    handled++;
}

SITE void *own_site(size_t n)
{
    void *p = malloc(n);
    prog_use(p);
    return p;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_usr2};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    raise(SIGUSR2);
    void *p = own_site(4096);
    printf("handled %d\n", (int)handled);
    free(p);
    return 0;
}
