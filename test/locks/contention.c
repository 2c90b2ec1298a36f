/*
 * contention.c: waits whose truth the program measures itself.
 *
 * Each phase has waiter functions that time their own blocking calls and
 * holder functions that make them wait; the program prints
 *     wait <function> <total ns> <count>
 * for every waiting function.  The tests compare the block profile's delay
 * at the waiting function, and the mutex profile's delay at the holder
 * function, with these numbers.
 *
 *   contention [phase] [rounds]     phase: all, mutex, cond, sem, rwlock,
 *                                   short (many short sem waits)
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SITE __attribute__((noinline, noclone))
/* Keeps a call out of tail position, so its caller stays on the stack. */
#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

static long rounds = 60;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void spin_ns(long ns)
{
    long end = now_ns() + ns;
    while (now_ns() < end)
        ;
}

struct tally {
    long ns, n;
    pthread_mutex_t lock;
};

static void tally_add(struct tally *t, long ns)
{
    __atomic_add_fetch(&t->ns, ns, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->n, 1, __ATOMIC_RELAXED);
}

static void report(const char *fn, const struct tally *t)
{
    printf("wait %s %ld %ld\n", fn, t->ns, t->n);
}

/* ---- mutex: the holder keeps the lock 2 ms; waiters queue for it ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct tally mutex_t;
static volatile int mutex_done;

SITE void mutex_holder_work(void)
{
    pthread_mutex_lock(&mu);
    spin_ns(2000000);
    pthread_mutex_unlock(&mu);
    NO_TAIL_CALL();
}

SITE void mutex_waiter_lock(void)
{
    long a = now_ns();
    pthread_mutex_lock(&mu);
    tally_add(&mutex_t, now_ns() - a);
    pthread_mutex_unlock(&mu);
}

static void *mutex_holder(void *a)
{
    (void)a;
    for (long i = 0; i < rounds; i++) {
        mutex_holder_work();
        usleep(300);
    }
    mutex_done = 1;
    return NULL;
}

static void *mutex_waiter(void *a)
{
    (void)a;
    while (!mutex_done) {
        mutex_waiter_lock();
        usleep(500);
    }
    return NULL;
}

static void phase_mutex(void)
{
    pthread_t h, w[2];
    pthread_create(&h, NULL, mutex_holder, NULL);
    usleep(1000);
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, mutex_waiter, NULL);
    pthread_join(h, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    report("mutex_waiter_lock", &mutex_t);
}

/* ---- cond: the waiter sleeps until the signaller flips a flag ---- */
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long cond_flag;
static struct tally cond_t;

SITE void cond_waiter_wait(long want)
{
    pthread_mutex_lock(&cm);
    while (cond_flag < want) {
        long a = now_ns();
        pthread_cond_wait(&cv, &cm);
        tally_add(&cond_t, now_ns() - a);
    }
    pthread_mutex_unlock(&cm);
}

static void *cond_signaller(void *a)
{
    (void)a;
    for (long i = 1; i <= rounds; i++) {
        usleep(2000);
        pthread_mutex_lock(&cm);
        cond_flag = i;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&cm);
    }
    return NULL;
}

static void phase_cond(void)
{
    pthread_t s;
    pthread_create(&s, NULL, cond_signaller, NULL);
    for (long i = 1; i <= rounds; i++)
        cond_waiter_wait(i);
    pthread_join(s, NULL);
    report("cond_waiter_wait", &cond_t);
}

/* ---- sem: the waiter sleeps until the poster posts ---- */
static sem_t sem;
static struct tally sem_t_;
static long post_gap_us = 2000;

SITE void sem_waiter_wait(void)
{
    long a = now_ns();
    sem_wait(&sem);
    tally_add(&sem_t_, now_ns() - a);
}

static void *sem_poster(void *a)
{
    (void)a;
    for (long i = 0; i < rounds; i++) {
        usleep((useconds_t)post_gap_us);
        sem_post(&sem);
    }
    return NULL;
}

static void phase_sem(void)
{
    sem_init(&sem, 0, 0);
    pthread_t p;
    pthread_create(&p, NULL, sem_poster, NULL);
    for (long i = 0; i < rounds; i++)
        sem_waiter_wait();
    pthread_join(p, NULL);
    report("sem_waiter_wait", &sem_t_);
}

/* ---- rwlock: a reader holds it 2 ms while a writer waits ---- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static struct tally rw_t;
static sem_t rw_go, rw_done; /* one round at a time: reader holds, writer waits */

SITE void rw_reader_hold(void)
{
    pthread_rwlock_rdlock(&rw);
    sem_post(&rw_go);
    spin_ns(2000000);
    pthread_rwlock_unlock(&rw);
    NO_TAIL_CALL();
}

SITE void rw_writer_lock(void)
{
    long a = now_ns();
    pthread_rwlock_wrlock(&rw);
    tally_add(&rw_t, now_ns() - a);
    pthread_rwlock_unlock(&rw);
}

static void *rw_reader(void *a)
{
    (void)a;
    for (long i = 0; i < rounds; i++) {
        rw_reader_hold();
        while (sem_trywait(&rw_done) != 0) /* spin: keeps the profile clean */
            ;
    }
    return NULL;
}

static void phase_rwlock(void)
{
    sem_init(&rw_go, 0, 0);
    sem_init(&rw_done, 0, 0);
    pthread_t r;
    pthread_create(&r, NULL, rw_reader, NULL);
    for (long i = 0; i < rounds; i++) {
        while (sem_trywait(&rw_go) != 0)
            ;
        rw_writer_lock();
        sem_post(&rw_done);
    }
    pthread_join(r, NULL);
    report("rw_writer_lock", &rw_t);
}

int main(int argc, char **argv)
{
    const char *phase = argc > 1 ? argv[1] : "all";
    if (argc > 2)
        rounds = atol(argv[2]);
    int all = strcmp(phase, "all") == 0;
    if (all || !strcmp(phase, "mutex"))
        phase_mutex();
    if (all || !strcmp(phase, "cond"))
        phase_cond();
    if (all || !strcmp(phase, "sem"))
        phase_sem();
    if (all || !strcmp(phase, "rwlock"))
        phase_rwlock();
    if (!strcmp(phase, "short")) { /* many ~200 us waits, for sampling */
        post_gap_us = 200;
        phase_sem();
    }
    return 0;
}
