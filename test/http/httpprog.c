/*
 * httpprog: a program to scrape (test/http).  It keeps 100 blocks of 777
 * bytes from before_window(), then leaks one block every ~5 ms from
 * leak_site(), leak i being 2000 + i bytes (so each has a bucket of its
 * own and a profile names which leaks it holds), while two threads
 * contend for a mutex (block and mutex profiles).  Its truth is in the
 * file argv[1] (mapped shared): n, then for each leak the realtime
 * before and after its malloc.  It prints "ready" once the leaking has
 * begun, and "done" when the test sets `quit` in that file, then exits 0: the whole of
 * its output, whatever the profiler does.  With argv[2] "fork" it also
 * forks a child that allocates until `quit`.  With "reuse", once the
 * test sets `reuse` it closes descriptors 50-63 (where the server keeps
 * its connections, above its listener and wake-up) and puts a socket of
 * its own on each, as a daemon reusing numbers would; at the end it says
 * what that socket's peer received, if anything ("peer got N bytes").
 */
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEAKS 60000

struct truth {
    volatile int64_t quit; /* set by the test: finish */
    volatile int64_t n;
    volatile int64_t child; /* argv[2] "fork": the child's pid */
    int64_t before[MAX_LEAKS], after[MAX_LEAKS];
    volatile int64_t reuse; /* argv[2] "reuse": 1 from the test, 2 once done */
};

static struct truth *t;
static volatile int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
void *volatile sink;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) void before_window(void)
{
    for (int i = 0; i < 100; i++)
        sink = malloc(777);
}

/* Not a tail call: leak_site stays on the stack of its allocation. */
__attribute__((noinline)) void *leak_site(size_t size)
{
    void *p = malloc(size);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

static void *leaker(void *arg)
{
    (void)arg;
    for (int64_t i = 0; i < MAX_LEAKS && !stop; i++) {
        t->before[i] = now_ns();
        sink = leak_site(2000 + (size_t)i);
        t->after[i] = now_ns();
        __atomic_store_n(&t->n, i + 1, __ATOMIC_RELEASE);
        usleep(5000);
    }
    return NULL;
}

__attribute__((noinline)) void hold_lock(void)
{
    pthread_mutex_lock(&lock);
    usleep(2000);
    pthread_mutex_unlock(&lock);
    __asm__ volatile("" : : : "memory"); /* not a tail call: the unlocker is hold_lock */
}

static void *contender(void *arg)
{
    (void)arg;
    while (!stop)
        hold_lock();
    return NULL;
}

/* The program's own connection on 50-63; its other end, to read. */
static int reuse_numbers(void)
{
    while (t->reuse != 1 && !t->quit)
        usleep(1000);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -1;
    for (int k = 50; k < 64; k++) {
        close(k);
        dup2(sv[0], k);
    }
    t->reuse = 2;
    return sv[1];
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, sizeof *t) < 0)
        return 2;
    t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (t == MAP_FAILED)
        return 2;
    before_window();
    pthread_t th[3];
    pthread_create(&th[0], NULL, leaker, NULL);
    pthread_create(&th[1], NULL, contender, NULL);
    pthread_create(&th[2], NULL, contender, NULL);
    while (__atomic_load_n(&t->n, __ATOMIC_ACQUIRE) < 1)
        usleep(1000);
    printf("ready\n");
    fflush(stdout);
    pid_t child = -1;
    if (argc > 2 && strcmp(argv[2], "fork") == 0) {
        child = fork();
        if (child == 0) { /* allocates (its first event starts its server, if any) */
            while (!t->quit) {
                sink = leak_site(100);
                usleep(10000);
            }
            _exit(0);
        }
        t->child = child;
    }
    int peer = -1;
    if (argc > 2 && strcmp(argv[2], "reuse") == 0)
        peer = reuse_numbers();
    while (!t->quit)
        usleep(10000);
    if (peer >= 0) {
        char buf[256];
        ssize_t got = recv(peer, buf, sizeof buf, MSG_DONTWAIT);
        if (got > 0)
            printf("peer got %zd bytes\n", got);
    }
    if (child > 0)
        waitpid(child, NULL, 0);
    stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    printf("done\n");
    return 0;
}
