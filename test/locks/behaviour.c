/*
 * behaviour.c: every pthread/sem return path that mprof wraps, printed one
 * per line.  The test runs it with and without mprof and requires the same
 * output: the wrappers must not change what the program sees.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, int rc) { printf("%-44s %s\n", what, rc ? strerror(rc) : "ok"); }
static void show_errno(const char *what, int rc) { printf("%-44s rc=%d %s\n", what, rc, rc ? strerror(errno) : "ok"); }

static struct timespec in_ms(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
    return t;
}

static void mutex_of_type(int type, const char *name)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutex_t m;
    pthread_mutex_init(&m, &a);
    char buf[64];
    snprintf(buf, sizeof buf, "%s lock", name); show(buf, pthread_mutex_lock(&m));
    snprintf(buf, sizeof buf, "%s trylock held", name); int rc = pthread_mutex_trylock(&m); show(buf, rc);
    if (rc == 0) pthread_mutex_unlock(&m);
    if (type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK) {
        snprintf(buf, sizeof buf, "%s relock", name); rc = pthread_mutex_lock(&m); show(buf, rc);
        if (rc == 0) pthread_mutex_unlock(&m);
    }
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    snprintf(buf, sizeof buf, "%s timedlock held", name); rc = pthread_mutex_timedlock(&m, &t); show(buf, rc);
    if (rc == 0) pthread_mutex_unlock(&m);
    snprintf(buf, sizeof buf, "%s unlock", name); show(buf, pthread_mutex_unlock(&m));
    snprintf(buf, sizeof buf, "%s unlock unlocked", name); show(buf, type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK ? pthread_mutex_unlock(&m) : 0);
    struct timespec bad = {0, 2000000000L};
    snprintf(buf, sizeof buf, "%s timedlock bad abstime free", name); rc = pthread_mutex_timedlock(&m, &bad); show(buf, rc);
    if (rc == 0) pthread_mutex_unlock(&m);
    snprintf(buf, sizeof buf, "%s clocklock bad clock free", name); rc = pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &t); show(buf, rc);
    if (rc == 0) pthread_mutex_unlock(&m);
    t = in_ms(CLOCK_MONOTONIC, 20);
    snprintf(buf, sizeof buf, "%s clocklock monotonic", name); rc = pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t); show(buf, rc);
    if (rc == 0) pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
}

static pthread_mutex_t robust;
static void *die_holding(void *a) { (void)a; pthread_mutex_lock(&robust); return NULL; }

static void robust_mutex(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &a);
    pthread_t t;
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    show("robust lock after owner died", pthread_mutex_lock(&robust));
    show("robust unlock without consistent", pthread_mutex_unlock(&robust));
    show("robust lock not recoverable", pthread_mutex_lock(&robust));
    pthread_mutex_destroy(&robust);
    pthread_mutex_init(&robust, &a);
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    show("robust trylock after owner died", pthread_mutex_trylock(&robust));
    show("robust consistent", pthread_mutex_consistent(&robust));
    show("robust unlock", pthread_mutex_unlock(&robust));
}

static void pi_mutex(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    int rc = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_t m;
    pthread_mutex_init(&m, &a);
    show("pi setprotocol", rc);
    show("pi lock", pthread_mutex_lock(&m));
    show("pi trylock held", pthread_mutex_trylock(&m));
    show("pi unlock", pthread_mutex_unlock(&m));
}

static void rwlocks(void)
{
    pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    show("rw rdlock", pthread_rwlock_rdlock(&l));
    show("rw rdlock again", pthread_rwlock_rdlock(&l));
    show("rw trywrlock read-held", pthread_rwlock_trywrlock(&l));
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    show("rw timedwrlock read-held", pthread_rwlock_timedwrlock(&l, &t));
    t = in_ms(CLOCK_MONOTONIC, 20);
    show("rw clockwrlock read-held", pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &t));
    show("rw clockwrlock bad clock", pthread_rwlock_clockwrlock(&l, 12345, &t));
    show("rw unlock", pthread_rwlock_unlock(&l));
    show("rw unlock", pthread_rwlock_unlock(&l));
    show("rw wrlock", pthread_rwlock_wrlock(&l));
    show("rw wrlock self", pthread_rwlock_wrlock(&l));
    show("rw rdlock write-held self", pthread_rwlock_rdlock(&l));
    show("rw tryrdlock write-held", pthread_rwlock_tryrdlock(&l));
    t = in_ms(CLOCK_REALTIME, 20);
    show("rw timedrdlock write-held", pthread_rwlock_timedrdlock(&l, &t));
    show("rw unlock", pthread_rwlock_unlock(&l));
    struct timespec bad = {0, 2000000000L};
    show("rw timedrdlock bad abstime free", pthread_rwlock_timedrdlock(&l, &bad));
    pthread_rwlock_unlock(&l);
    show("rw timedwrlock bad abstime free", pthread_rwlock_timedwrlock(&l, &bad));
    pthread_rwlock_unlock(&l);
    show("rw clockrdlock bad clock free", pthread_rwlock_clockrdlock(&l, 12345, &t));
    pthread_rwlock_unlock(&l);
    pthread_rwlock_t s = PTHREAD_RWLOCK_INITIALIZER; /* static initialiser */
    show("rw static wrlock", pthread_rwlock_wrlock(&s));
    show("rw static unlock", pthread_rwlock_unlock(&s));
}

static void conds(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    show("cond timedwait timeout", pthread_cond_timedwait(&c, &m, &t));
    t = in_ms(CLOCK_MONOTONIC, 20);
    show("cond clockwait timeout", pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &t));
    show("cond clockwait bad clock", pthread_cond_clockwait(&c, &m, 12345, &t));
    struct timespec bad = {0, -1};
    show("cond timedwait bad abstime", pthread_cond_timedwait(&c, &m, &bad));
    show("still own the mutex (trylock)", pthread_mutex_trylock(&m) == EBUSY ? 0 : EINVAL);
    pthread_mutex_unlock(&m);
}

static void sems(void)
{
    sem_t s;
    sem_init(&s, 0, 1);
    errno = 1234;
    show_errno("sem wait positive", sem_wait(&s));
    printf("%-44s %d\n", "errno kept after success", errno);
    show_errno("sem trywait zero", sem_trywait(&s));
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    errno = 0;
    show_errno("sem timedwait timeout", sem_timedwait(&s, &t));
    t = in_ms(CLOCK_MONOTONIC, 20);
    show_errno("sem clockwait timeout", sem_clockwait(&s, CLOCK_MONOTONIC, &t));
    show_errno("sem clockwait bad clock", sem_clockwait(&s, 12345, &t));
    sem_post(&s);
    show_errno("sem clockwait bad clock positive", sem_clockwait(&s, 12345, &t));
    sem_trywait(&s);
    struct timespec bad = {0, 2000000000L};
    show_errno("sem timedwait bad abstime", sem_timedwait(&s, &bad));
    sem_post(&s);
    errno = 77;
    show_errno("sem timedwait positive", sem_timedwait(&s, &bad));
    printf("%-44s %d\n", "errno kept after success", errno);
}

static void *sleeper(void *a) { usleep(50000); return a; }
static void *self_join(void *a) { (void)a; return (void *)(long)pthread_join(pthread_self(), NULL); }

static void joins(void)
{
    pthread_t t;
    pthread_create(&t, NULL, sleeper, (void *)42);
    struct timespec d = in_ms(CLOCK_REALTIME, 5);
    void *ret = NULL;
    show("timedjoin timeout", pthread_timedjoin_np(t, &ret, &d));
    show("join", pthread_join(t, &ret));
    printf("%-44s %ld\n", "join value", (long)ret);
    pthread_create(&t, NULL, self_join, NULL);
    pthread_join(t, &ret);
    show("join self", (int)(long)ret);
}

static pthread_barrier_t bar;
static void *at_barrier(void *a) { (void)a; return (void *)(long)pthread_barrier_wait(&bar); }

static void barriers(void)
{
    pthread_barrier_init(&bar, NULL, 3);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, at_barrier, NULL);
    int serial = 0, zero = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        serial += (long)r == PTHREAD_BARRIER_SERIAL_THREAD;
        zero += (long)r == 0;
    }
    printf("%-44s serial=%d zero=%d\n", "barrier results", serial, zero);
}

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
static void unlock_cm(void *a) { (void)a; pthread_mutex_unlock(&cm); }
static void *cond_forever(void *a)
{
    (void)a;
    pthread_mutex_lock(&cm);
    pthread_cleanup_push(unlock_cm, NULL);
    for (;;) pthread_cond_wait(&cc, &cm);
    pthread_cleanup_pop(1);
    return NULL;
}
static sem_t cs;
static void *sem_pending_cancel(void *a)
{
    (void)a;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    usleep(20000); /* cancel arrives while disabled */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    sem_wait(&cs); /* positive, but must still act on the pending cancel */
    return (void *)1;
}

static void cancellation(void)
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, cond_forever, NULL);
    usleep(20000);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("%-44s %s\n", "cancel in cond_wait", r == PTHREAD_CANCELED ? "canceled" : "not canceled");
    show("mutex free after cancel cleanup", pthread_mutex_trylock(&cm));
    pthread_mutex_unlock(&cm);
    sem_init(&cs, 0, 1);
    pthread_create(&t, NULL, sem_pending_cancel, NULL);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("%-44s %s\n", "pending cancel at sem_wait", r == PTHREAD_CANCELED ? "canceled" : "not canceled");
}

/* Lock-order inversion made safe by trylock back-off: must complete. */
static pthread_mutex_t A = PTHREAD_MUTEX_INITIALIZER, B = PTHREAD_MUTEX_INITIALIZER;
static long done_ab;
static void *ab(void *a)
{
    int flip = (int)(long)a;
    pthread_mutex_t *first = flip ? &B : &A, *second = flip ? &A : &B;
    for (int i = 0; i < 20000; i++) {
        for (;;) {
            pthread_mutex_lock(first);
            if (pthread_mutex_trylock(second) == 0) break;
            pthread_mutex_unlock(first);
            sched_yield();
        }
        __atomic_add_fetch(&done_ab, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(second);
        pthread_mutex_unlock(first);
    }
    return NULL;
}

static void inversion(void)
{
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, ab, (void *)i);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("%-44s %ld\n", "inversion with back-off completed", done_ab);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    mutex_of_type(PTHREAD_MUTEX_NORMAL, "normal");
    mutex_of_type(PTHREAD_MUTEX_RECURSIVE, "recursive");
    mutex_of_type(PTHREAD_MUTEX_ERRORCHECK, "errorcheck");
    mutex_of_type(PTHREAD_MUTEX_ADAPTIVE_NP, "adaptive");
    robust_mutex();
    pi_mutex();
    rwlocks();
    conds();
    sems();
    joins();
    barriers();
    cancellation();
    inversion();
    return 0;
}
