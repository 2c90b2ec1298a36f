/*
 * ownstacks.c: threads on stacks the program maps itself, unmapped as
 * soon as each thread is joined, started and ended all the while, for
 * threads dumps taken meanwhile.  A thread's TLS lies in its stack, so a
 * dump that found a thread registered and reads its wait after the thread
 * ended reads memory that is gone (threadreg.c must read it through the
 * kernel, not with a load).  Each round starts PER_ROUND threads that
 * contend for one lock (so that dumps find them waiting), joins them and
 * unmaps their stacks; it prints "ready" after the first round and stops
 * when a file named "stop" appears in its directory.
 */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PER_ROUND = 8, STACK = 256 << 10 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *contends(void *arg)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static int stopped(void)
{
    struct stat st;
    return stat("stop", &st) == 0;
}

int main(void)
{
    long rounds = 0;
    do {
        pthread_t t[PER_ROUND];
        void *stk[PER_ROUND];
        for (int i = 0; i < PER_ROUND; i++) {
            stk[i] = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            pthread_attr_t a;
            if (stk[i] == MAP_FAILED || pthread_attr_init(&a) != 0 ||
                pthread_attr_setstack(&a, stk[i], STACK) != 0 ||
                pthread_create(&t[i], &a, contends, NULL) != 0)
                return 2;
            pthread_attr_destroy(&a);
        }
        for (int i = 0; i < PER_ROUND; i++) {
            pthread_join(t[i], NULL);
            munmap(stk[i], STACK); /* gone the moment its thread is */
        }
        if (rounds++ == 0) {
            printf("ready\n");
            fflush(stdout);
        }
    } while (!stopped());
    printf("every increment counted: %s\n",
           counter == rounds * PER_ROUND * 200 ? "yes" : "no");
    return 0;
}
