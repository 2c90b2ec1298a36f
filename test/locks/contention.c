/*
 * contention.c: waits whose truth the program measures itself.
 *
 * Each phase has waiter functions that time their own blocking calls and
 * holder functions that make them wait; the program prints
 *     wait <function> <total ns> <count>
 * for every waiting function.  The tests compare the block profile's delay
 * at the waiting function with these numbers.
 *
 * The mutex profile charges a holder for the time its waiters spent
 * waiting, up to its unlock.  A waiter's own clock runs on through its
 * wake-up, which on a busy machine can be longer than the hold and is
 * nobody's hold time, so it only bounds the charge from above.  The
 * holders measure the other side themselves: while holding the lock, a
 * holder watches each waiter thread's current system call
 * (/proc/self/task/<tid>/syscall) and notes when it sees it blocked in
 * futex(2) on the lock.  A waiter blocked there is inside the real lock
 * call, so it registered its wait with mprof before that moment; the
 * unlock that follows owes it at least (unlock - seen).  The program prints
 *     held <function> <ns> <count>
 * for every holding function: the sum of those lower bounds, and how many
 * (hold, waiter) pairs made it up.
 *
 *   contention [phase] [rounds]     phase: all, mutex, cond, sem, rwlock,
 *                                   short (many short sem waits)
 */
#include "common.h" /* SITE, prog_futex_wait_on */

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Keeps a call out of tail position, so its caller stays on the stack. */
#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

static long rounds = 60;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
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

static void report_held(const char *fn, const struct tally *t)
{
    printf("held %s %ld %ld\n", fn, t->ns, t->n);
}

/* A holder keeps the lock until it sees one of the `n` threads `tids`
 * blocked on it, then `ns` more, watching them all; it gives up waiting
 * for a waiter after 20 ms (on a busy machine a waiter may not get a CPU
 * in time).  Returns its clock just before the unlock, and in seen[i] the
 * time it first saw thread i blocked (0: never).  Waiting for a waiter
 * keeps every round contended, so the lower bound stays strong however
 * busy the machine is. */
static long hold_watching(long ns, const void *lock, size_t size, const pid_t *tids, int n,
                          long *seen)
{
    long end = now_ns() + 20000000;
    int any = 0;
    for (int i = 0; i < n; i++)
        seen[i] = 0;
    while (now_ns() < end)
        for (int i = 0; i < n; i++)
            if (!seen[i] && prog_futex_wait_on(__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE), lock, size)) {
                seen[i] = now_ns(); /* read after the look: not before the wait began */
                if (!any++)
                    end = seen[i] + ns;
            }
    return now_ns();
}

/* What the unlock at `u` owes the waiters seen at seen[0..n), at least. */
static void tally_seen(struct tally *t, long u, const long *seen, int n)
{
    for (int i = 0; i < n; i++)
        if (seen[i])
            tally_add(t, u - seen[i]);
}

/* ---- mutex: held 2 ms once a waiter blocks; waiters queue for it ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct tally mutex_t, mutex_held, mutex_holder_t;
static volatile int mutex_done;
static pid_t mutex_waiter_tid[2];

SITE void mutex_holder_work(void)
{
    long seen[2];
    long a = now_ns();
    pthread_mutex_lock(&mu); /* a waiter may hold it: the holder waits too */
    tally_add(&mutex_holder_t, now_ns() - a);
    long u = hold_watching(2000000, &mu, sizeof mu, mutex_waiter_tid, 2, seen);
    pthread_mutex_unlock(&mu);
    tally_seen(&mutex_held, u, seen, 2);
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
    __atomic_store_n(&mutex_waiter_tid[(long)a], (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
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
    for (long i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, mutex_waiter, (void *)i);
    pthread_join(h, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    report("mutex_waiter_lock", &mutex_t);
    report("mutex_holder_work", &mutex_holder_t);
    report_held("mutex_holder_work", &mutex_held);
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

/* ---- rwlock: a reader holds it 2 ms once the writer blocks ---- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static struct tally rw_t, rw_held;
static sem_t rw_go, rw_done; /* one round at a time: reader holds, writer waits */
static pid_t rw_writer_tid;

SITE void rw_reader_hold(void)
{
    long seen;
    pthread_rwlock_rdlock(&rw);
    sem_post(&rw_go);
    long u = hold_watching(2000000, &rw, sizeof rw, &rw_writer_tid, 1, &seen);
    pthread_rwlock_unlock(&rw);
    tally_seen(&rw_held, u, &seen, 1);
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
    rw_writer_tid = (pid_t)syscall(SYS_gettid);
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
    report_held("rw_reader_hold", &rw_held);
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
