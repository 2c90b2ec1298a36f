/*
 * term_in_exit: the process is told to terminate while its exit dump is
 * being written (test_signal.c, last_words_during_exit_dump).
 *
 *   term_in_exit
 *
 * The main thread blocks SIGTERM, allocates at a site and frees most of
 * it (so that the exit dump writes a heap and a peak profile), starts a
 * thread that only waits with SIGUSR1 blocked (SIGTERM, when it comes, is
 * delivered there), prints "ready" and waits for SIGUSR1. Then it calls exit(0), whose dump
 * the test holds still (ptrace) while it sends SIGTERM. Bare, the process
 * dies of SIGTERM; under mprof too, but only once the exit dump is whole.
 */
#include "hprog.h"

#include <pthread.h>

#define N 4000
#define SIZE 256

static int line;

PROG_MALLOC_SITE(kept_site, SIZE, line)

static void *waiter(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    void **slots = prog_slots(N);
    kept_site(slots, N);
    for (int i = 0; i < N - N / 10; i++)
        free(slots[i]); /* the peak is ten times what is left */
    /* The waiter takes SIGTERM and never SIGUSR1; main the other way. */
    pthread_t t;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &usr1, NULL);
    if (pthread_create(&t, NULL, waiter, NULL) != 0)
        prog_fail("pthread_create");
    sigset_t both = term;
    sigaddset(&both, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &both, NULL); /* SIGUSR1 only in sigsuspend */
    hp_sigaction(SIGUSR1, hp_count, 0, false, NULL);
    dprintf(1, "ready\n");
    while (!hp_caught)
        sigsuspend(&term);
    exit(0);
}
