/*
 * threadsprog: known truth for /debug/pprof/goroutine, threadcreate and
 * peak (test/http).  In this order, before it prints "ready":
 *   - park_start() starts PARKED threads, each parked in parked_here()
 *     on a condition variable that is signalled only at the end;
 *   - spike() allocates SPIKE_N blocks of SPIKE_SIZE bytes at spike_site()
 *     and frees them all: the heap's high-water mark (at MPROF_MEM_RATE=1
 *     and MPROF_PEAK_GROWTH=0 the peak profile holds exactly those);
 *   - spawn_short() starts SHORT threads that return at once, and joins
 *     them: threadcreate 3 there, none in use.
 * Then, each time the file "spawn" appears in its directory, it removes
 * it, starts LATE threads from late_spawn() and joins them, and prints
 * "spawned <round>".  When the file "quit" appears, it lets the parked
 * threads go, joins them, prints "done" and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PARKED 5
#define SHORT 3
#define LATE 4
#define SPIKE_N 100
#define SPIKE_SIZE 100000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int parked, released;
void *volatile sink;

/* Not a tail call: parked_here stays on the stack of its wait. */
__attribute__((noinline)) void parked_here(void)
{
    pthread_mutex_lock(&mu);
    parked++;
    while (!released)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    __asm__ volatile("" : : : "memory");
}

static void *parker(void *arg)
{
    (void)arg;
    parked_here();
    return NULL;
}

static void *quick(void *arg)
{
    return arg;
}

__attribute__((noinline)) void park_start(pthread_t *th)
{
    for (int i = 0; i < PARKED; i++)
        pthread_create(&th[i], NULL, parker, NULL);
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void spawn_short(void)
{
    for (int i = 0; i < SHORT; i++) {
        pthread_t t;
        pthread_create(&t, NULL, quick, NULL);
        pthread_join(t, NULL);
    }
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void late_spawn(void)
{
    for (int i = 0; i < LATE; i++) {
        pthread_t t;
        pthread_create(&t, NULL, quick, NULL);
        pthread_join(t, NULL);
    }
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void *spike_site(size_t size)
{
    void *p = malloc(size);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

__attribute__((noinline)) void spike(void)
{
    void *blocks[SPIKE_N];
    for (int i = 0; i < SPIKE_N; i++)
        blocks[i] = spike_site(SPIKE_SIZE);
    for (int i = 0; i < SPIKE_N; i++)
        free(blocks[i]);
}

int main(void)
{
    pthread_t th[PARKED];
    park_start(th);
    for (;;) { /* every parker has taken the lock and is in (or entering) its wait */
        pthread_mutex_lock(&mu);
        int n = parked;
        pthread_mutex_unlock(&mu);
        if (n == PARKED)
            break;
        usleep(1000);
    }
    spike();
    spawn_short();
    printf("ready\n");
    fflush(stdout);
    for (int round = 1; access("quit", F_OK) != 0; usleep(10000)) {
        if (access("spawn", F_OK) != 0)
            continue;
        unlink("spawn");
        late_spawn();
        printf("spawned %d\n", round++);
        fflush(stdout);
    }
    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < PARKED; i++)
        pthread_join(th[i], NULL);
    printf("done\n");
    return 0;
}
