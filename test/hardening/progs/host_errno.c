/*
 * host_errno: errno after every function a preloaded profiler may export.
 *
 *   host_errno
 *
 * Before each call errno is set to a sentinel (ERRNO_SENTINEL, a value no
 * function sets); after it, errno is read.  Calls are made the way that
 * exercises a profiler most: allocations of many sizes (at MPROF_MEM_RATE=1
 * each one is sampled), the allocation API again on a fresh thread (its
 * first sample), lock calls that really block on a lock another thread
 * holds and unlocks that wake a waiter (MPROF_BLOCK_RATE=1 and
 * MPROF_MUTEX_FRACTION=1 record them all), the dump signal's disposition,
 * fork and exec-like calls, set*id and namespace calls, descriptor calls,
 * memory mappings, the older signal interfaces.
 * Functions found only at run time (C++ operators, glibc's __libc_*
 * aliases) are called when dlsym finds them.
 *
 * Prints one line per function, in a fixed order:
 *   errno NAME ok                   errno was the sentinel after every call
 *   errno NAME changed: N (TEXT)    the first value seen that was not
 *   errno NAME n/a                  the call does not return when it succeeds
 * A bare run prints the same lines for what glibc itself does; the test
 * compares the two, and checks that every function libmprof.so exports has
 * a line.
 */
#include "hprog.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define ERRNO_SENTINEL 24301
#define MAX_RECS 256
#define REPEAT 3

extern char **environ;

struct rec {
    const char *name;
    int bad, first;
    bool na;
};

static struct rec g_rec[MAX_RECS];
static int g_nrec;

static struct rec *rec_of(const char *name)
{
    for (int i = 0; i < g_nrec; i++)
        if (strcmp(g_rec[i].name, name) == 0)
            return &g_rec[i];
    if (g_nrec == MAX_RECS)
        prog_fail("too many functions");
    g_rec[g_nrec].name = name;
    return &g_rec[g_nrec++];
}

static void note(const char *name, int e)
{
    struct rec *r = rec_of(name);
    if (e != ERRNO_SENTINEL && !r->bad) {
        r->bad = 1;
        r->first = e;
    }
}

static void not_applicable(const char *name)
{
    rec_of(name)->na = true;
}

/* errno = sentinel; the call; errno noted against NAME. */
#define E(name, stmt)                                                           \
    do {                                                                        \
        errno = ERRNO_SENTINEL;                                                 \
        stmt;                                                                   \
        note(name, errno);                                                      \
    } while (0)

static void *sym(const char *name)
{
    int saved = errno;
    void *f = dlsym(RTLD_DEFAULT, name);
    errno = saved;
    return f;
}

static struct timespec deadline(clockid_t clk, long ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- the allocation API ---- */

static const size_t sizes[] = {1, 7, 16, 24, 48, 100, 256, 1000, 4096, 5000, 65536, 300000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void alloc_api(void)
{
    for (size_t i = 0; i < NSIZES; i++) {
        size_t sz = sizes[i];
        void *p, *q;
        size_t u;
        int rc;
        E("malloc", p = malloc(sz));
        prog_check(p, "malloc");
        E("malloc_usable_size", u = malloc_usable_size(p));
        prog_use((void *)u);
        E("realloc", p = realloc(p, sz * 2 + 10));
        prog_check(p, "realloc");
        E("realloc", p = realloc(p, sz / 2 + 1));
        prog_check(p, "realloc");
        E("free", free(p));
        E("realloc", p = realloc(NULL, sz));
        E("reallocarray", p = reallocarray(p, 3, sz));
        prog_check(p, "reallocarray");
        E("free", free(p));
        E("calloc", p = calloc(3, sz));
        prog_check(p, "calloc");
        E("free", free(p));
        E("posix_memalign", rc = posix_memalign(&q, 64, sz));
        if (rc != 0)
            prog_fail("posix_memalign");
        E("free", free(q));
        E("aligned_alloc", p = aligned_alloc(64, (sz + 63) / 64 * 64));
        prog_check(p, "aligned_alloc");
        E("free", free(p));
        E("memalign", p = memalign(32, sz));
        prog_check(p, "memalign");
        E("free", free(p));
        E("valloc", p = valloc(sz));
        prog_check(p, "valloc");
        E("free", free(p));
        E("pvalloc", p = pvalloc(sz));
        prog_check(p, "pvalloc");
        E("free", free(p));
        E("free", free(NULL));
    }
}

static void *alloc_api_thread(void *arg)
{
    (void)arg;
    alloc_api();
    return NULL;
}

/* glibc's own names for its allocator, where this process has them. */
static void libc_aliases(void)
{
    void *(*lm)(size_t) = sym("__libc_malloc");
    void *(*lc)(size_t, size_t) = sym("__libc_calloc");
    void *(*lr)(void *, size_t) = sym("__libc_realloc");
    void (*lf)(void *) = sym("__libc_free");
    void *(*lma)(size_t, size_t) = sym("__libc_memalign");
    void *(*lv)(size_t) = sym("__libc_valloc");
    void *(*lpv)(size_t) = sym("__libc_pvalloc");
    if (!lm || !lf)
        return;
    for (size_t i = 0; i < NSIZES; i++) {
        void *p;
        E("__libc_malloc", p = lm(sizes[i]));
        if (lr)
            E("__libc_realloc", p = lr(p, sizes[i] * 2));
        E("__libc_free", lf(p));
        if (lc) {
            E("__libc_calloc", p = lc(2, sizes[i]));
            E("__libc_free", lf(p));
        }
        if (lma) {
            E("__libc_memalign", p = lma(64, sizes[i]));
            E("__libc_free", lf(p));
        }
        if (lv) {
            E("__libc_valloc", p = lv(sizes[i]));
            E("__libc_free", lf(p));
        }
        if (lpv) {
            E("__libc_pvalloc", p = lpv(sizes[i]));
            E("__libc_free", lf(p));
        }
    }
}

/* C++ operators new and delete, where the process has them (this program
 * is C: only a library that exports them provides them). */
typedef void *(*new_fn)(size_t);
typedef void *(*new_nt_fn)(size_t, const void *);
typedef void *(*new_al_fn)(size_t, size_t);
typedef void *(*new_al_nt_fn)(size_t, size_t, const void *);
typedef void (*del_fn)(void *);
typedef void (*del_sz_fn)(void *, size_t);
typedef void (*del_al_fn)(void *, size_t);
typedef void (*del_sz_al_fn)(void *, size_t, size_t);
typedef void (*del_nt_fn)(void *, const void *);
typedef void (*del_al_nt_fn)(void *, size_t, const void *);

static void cxx_operators(void)
{
    static const char nothrow = 0; /* std::nothrow_t is empty */
    const char *plain[] = {"_Znwm", "_Znam"};
    const char *plain_nt[] = {"_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t"};
    const char *al[] = {"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t"};
    const char *al_nt[] = {"_ZnwmSt11align_val_tRKSt9nothrow_t",
                           "_ZnamSt11align_val_tRKSt9nothrow_t"};
    const char *del[] = {"_ZdlPv", "_ZdaPv"};
    const char *del_sz[] = {"_ZdlPvm", "_ZdaPvm"};
    const char *del_nt[] = {"_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t"};
    const char *del_al[] = {"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t"};
    const char *del_sz_al[] = {"_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t"};
    const char *del_al_nt[] = {"_ZdlPvSt11align_val_tRKSt9nothrow_t",
                               "_ZdaPvSt11align_val_tRKSt9nothrow_t"};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < NSIZES; i++) {
            size_t sz = sizes[i];
            new_fn n1 = (new_fn)sym(plain[k]);
            new_nt_fn n2 = (new_nt_fn)sym(plain_nt[k]);
            new_al_fn n3 = (new_al_fn)sym(al[k]);
            new_al_nt_fn n4 = (new_al_nt_fn)sym(al_nt[k]);
            del_fn d1 = (del_fn)sym(del[k]);
            del_sz_fn d2 = (del_sz_fn)sym(del_sz[k]);
            del_nt_fn d3 = (del_nt_fn)sym(del_nt[k]);
            del_al_fn d4 = (del_al_fn)sym(del_al[k]);
            del_sz_al_fn d5 = (del_sz_al_fn)sym(del_sz_al[k]);
            del_al_nt_fn d6 = (del_al_nt_fn)sym(del_al_nt[k]);
            void *p;
            /* a block for each delete: from the matching new if there is one */
#define PLAIN_BLOCK() (n1 ? n1(sz) : prog_check(malloc(sz), "malloc"))
#define ALIGNED_BLOCK() (n3 ? n3(sz, 64) : prog_check(aligned_alloc(64, (sz + 63) / 64 * 64), "aligned_alloc"))
            if (n1) {
                E(plain[k], p = n1(sz));
                free(p);
            }
            if (n2) {
                E(plain_nt[k], p = n2(sz, &nothrow));
                free(p);
            }
            if (n3) {
                E(al[k], p = n3(sz, 64));
                free(p);
            }
            if (n4) {
                E(al_nt[k], p = n4(sz, 64, &nothrow));
                free(p);
            }
            if (d1) {
                p = PLAIN_BLOCK();
                E(del[k], d1(p));
            }
            if (d2) {
                p = PLAIN_BLOCK();
                E(del_sz[k], d2(p, sz));
            }
            if (d3) {
                p = PLAIN_BLOCK();
                E(del_nt[k], d3(p, &nothrow));
            }
            if (d4) {
                p = ALIGNED_BLOCK();
                E(del_al[k], d4(p, 64));
            }
            if (d5) {
                p = ALIGNED_BLOCK();
                E(del_sz_al[k], d5(p, sz, 64));
            }
            if (d6) {
                p = ALIGNED_BLOCK();
                E(del_al_nt[k], d6(p, 64, &nothrow));
            }
        }
    }
}

static void malloc_extras(void)
{
    int rc;
    E("malloc_trim", rc = malloc_trim(0));
    E("mallopt", rc = mallopt(M_TRIM_THRESHOLD, 128 * 1024));
    prog_use((void *)(intptr_t)rc);
    struct mallinfo2 mi;
    E("mallinfo2", mi = mallinfo2());
    prog_use((void *)mi.arena);
}

/* ---- locks that block ---- */

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static sem_t g_sem;
static pthread_barrier_t g_bar;
static volatile int g_flag, g_step;

enum hold { HOLD_MUTEX, HOLD_WRITE, HOLD_READ, WAIT_MUTEX, WAIT_READ, SIGNAL_COND, POST_SEM,
            BARRIER, SLEEP };

/* Tells start() the helper has the lock, or is about to wait for it. */
static void ready(void)
{
    __atomic_store_n(&g_step, 1, __ATOMIC_RELEASE);
}

/* The helper holds (or waits for) a lock, says so, and lets go 5 ms later. */
static void *helper(void *arg)
{
    enum hold h = (enum hold)(intptr_t)arg;
    switch (h) {
    case HOLD_MUTEX:
        pthread_mutex_lock(&g_m);
        ready();
        prog_sleep_ms(5);
        pthread_mutex_unlock(&g_m);
        break;
    case HOLD_WRITE:
    case HOLD_READ:
        if (h == HOLD_WRITE)
            pthread_rwlock_wrlock(&g_rw);
        else
            pthread_rwlock_rdlock(&g_rw);
        ready();
        prog_sleep_ms(5);
        pthread_rwlock_unlock(&g_rw);
        break;
    case WAIT_MUTEX:
        ready();
        pthread_mutex_lock(&g_m);
        pthread_mutex_unlock(&g_m);
        break;
    case WAIT_READ:
        ready();
        pthread_rwlock_rdlock(&g_rw);
        pthread_rwlock_unlock(&g_rw);
        break;
    case SIGNAL_COND:
        prog_sleep_ms(5);
        pthread_mutex_lock(&g_m);
        g_flag = 1;
        pthread_cond_signal(&g_c);
        pthread_mutex_unlock(&g_m);
        break;
    case POST_SEM:
        prog_sleep_ms(5);
        sem_post(&g_sem);
        break;
    case BARRIER:
        prog_sleep_ms(5);
        pthread_barrier_wait(&g_bar);
        break;
    case SLEEP:
        prog_sleep_ms(5);
        break;
    }
    return NULL;
}

static pthread_t start(enum hold h)
{
    pthread_t t;
    __atomic_store_n(&g_step, 0, __ATOMIC_RELEASE);
    int rc;
    E("pthread_create", rc = pthread_create(&t, NULL, helper, (void *)(intptr_t)h));
    if (rc != 0)
        prog_fail("pthread_create");
    if (h <= WAIT_READ) {
        while (!__atomic_load_n(&g_step, __ATOMIC_ACQUIRE))
            sched_yield();
        if (h >= WAIT_MUTEX)
            prog_sleep_ms(5); /* it is asleep on the lock by now */
    }
    return t;
}

static void finish(pthread_t t)
{
    int rc;
    E("pthread_join", rc = pthread_join(t, NULL));
    if (rc != 0)
        prog_fail("pthread_join");
}

/* The statements run while a helper thread does `h` (holds the lock they
 * wait for, waits for the one they release, posts, ...), then the helper
 * is joined: each call below really blocks or really wakes someone. */
#define HELPED(h, ...)                                                          \
    do {                                                                        \
        pthread_t helped_ = start(h);                                           \
        __VA_ARGS__;                                                            \
        finish(helped_);                                                        \
    } while (0)

/* A deadline that is never reached: the timed calls succeed. */
#define LATER(clk) (ts = deadline(clk, 10000))

/* A timed lock call `name` that waits for the helper doing `h`, with its
 * deadline `ts` on `clk`; `unlock` lets go of what it got. */
#define TIMED(h, clk, name, call, unlock)                                       \
    HELPED(h, LATER(clk); E(name, rc = (call)); unlock)

static void locks(void)
{
    struct timespec ts;
    int rc;
    pthread_t t;
    for (int r = 0; r < REPEAT; r++) {
        /* mutexes: acquired after a wait, and released with a waiter */
        HELPED(HOLD_MUTEX, E("pthread_mutex_lock", rc = pthread_mutex_lock(&g_m));
               E("pthread_mutex_unlock", rc = pthread_mutex_unlock(&g_m)));
        TIMED(HOLD_MUTEX, CLOCK_REALTIME, "pthread_mutex_timedlock",
              pthread_mutex_timedlock(&g_m, &ts), pthread_mutex_unlock(&g_m));
        TIMED(HOLD_MUTEX, CLOCK_MONOTONIC, "pthread_mutex_clocklock",
              pthread_mutex_clocklock(&g_m, CLOCK_MONOTONIC, &ts), pthread_mutex_unlock(&g_m));
        E("pthread_mutex_trylock", rc = pthread_mutex_trylock(&g_m));
        if (rc != 0)
            prog_fail("pthread_mutex_trylock");
        HELPED(WAIT_MUTEX, E("pthread_mutex_unlock", rc = pthread_mutex_unlock(&g_m)));

        /* rwlocks */
        HELPED(HOLD_WRITE, E("pthread_rwlock_rdlock", rc = pthread_rwlock_rdlock(&g_rw));
               E("pthread_rwlock_unlock", rc = pthread_rwlock_unlock(&g_rw)));
        HELPED(HOLD_READ, E("pthread_rwlock_wrlock", rc = pthread_rwlock_wrlock(&g_rw));
               pthread_rwlock_unlock(&g_rw));
        TIMED(HOLD_WRITE, CLOCK_REALTIME, "pthread_rwlock_timedrdlock",
              pthread_rwlock_timedrdlock(&g_rw, &ts), pthread_rwlock_unlock(&g_rw));
        TIMED(HOLD_READ, CLOCK_REALTIME, "pthread_rwlock_timedwrlock",
              pthread_rwlock_timedwrlock(&g_rw, &ts), pthread_rwlock_unlock(&g_rw));
        TIMED(HOLD_WRITE, CLOCK_MONOTONIC, "pthread_rwlock_clockrdlock",
              pthread_rwlock_clockrdlock(&g_rw, CLOCK_MONOTONIC, &ts),
              pthread_rwlock_unlock(&g_rw));
        TIMED(HOLD_READ, CLOCK_MONOTONIC, "pthread_rwlock_clockwrlock",
              pthread_rwlock_clockwrlock(&g_rw, CLOCK_MONOTONIC, &ts),
              pthread_rwlock_unlock(&g_rw));
        E("pthread_rwlock_tryrdlock", rc = pthread_rwlock_tryrdlock(&g_rw));
        E("pthread_rwlock_unlock", rc = pthread_rwlock_unlock(&g_rw));
        E("pthread_rwlock_trywrlock", rc = pthread_rwlock_trywrlock(&g_rw));
        HELPED(WAIT_READ, E("pthread_rwlock_unlock", rc = pthread_rwlock_unlock(&g_rw)));

        /* condition variables: woken by a signal before the deadline */
        static const char *cw[] = {"pthread_cond_wait", "pthread_cond_timedwait",
                                   "pthread_cond_clockwait"};
        for (int k = 0; k < 3; k++) {
            g_flag = 0;
            pthread_mutex_lock(&g_m);
            t = start(SIGNAL_COND);
            LATER(k == 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC);
            while (!g_flag) {
                if (k == 0)
                    E(cw[k], rc = pthread_cond_wait(&g_c, &g_m));
                else if (k == 1)
                    E(cw[k], rc = pthread_cond_timedwait(&g_c, &g_m, &ts));
                else
                    E(cw[k], rc = pthread_cond_clockwait(&g_c, &g_m, CLOCK_MONOTONIC, &ts));
            }
            pthread_mutex_unlock(&g_m);
            finish(t);
        }
        E("pthread_cond_signal", rc = pthread_cond_signal(&g_c));
        E("pthread_cond_broadcast", rc = pthread_cond_broadcast(&g_c));

        /* semaphores: posted while we wait; and one already posted */
        HELPED(POST_SEM, E("sem_wait", rc = sem_wait(&g_sem)));
        HELPED(POST_SEM, LATER(CLOCK_REALTIME);
               E("sem_timedwait", rc = sem_timedwait(&g_sem, &ts)));
        HELPED(POST_SEM, LATER(CLOCK_MONOTONIC);
               E("sem_clockwait", rc = sem_clockwait(&g_sem, CLOCK_MONOTONIC, &ts)));
        E("sem_post", rc = sem_post(&g_sem));
        E("sem_trywait", rc = sem_trywait(&g_sem));
        E("sem_post", rc = sem_post(&g_sem));
        E("sem_wait", rc = sem_wait(&g_sem));

        /* barrier, join and timed join of a thread that is still running */
        HELPED(BARRIER, E("pthread_barrier_wait", rc = pthread_barrier_wait(&g_bar)));
        t = start(SLEEP);
        LATER(CLOCK_REALTIME);
        E("pthread_timedjoin_np", rc = pthread_timedjoin_np(t, NULL, &ts));
        if (rc != 0)
            prog_fail("pthread_timedjoin_np");
        t = start(SLEEP);
        E("pthread_detach", rc = pthread_detach(t));
    }
    prog_sleep_ms(10); /* the detached ones are gone */
}

static void lock_lifecycle(void)
{
    int rc;
    pthread_mutex_t m;
    pthread_cond_t c;
    pthread_rwlock_t rw;
    pthread_barrier_t b;
    pthread_spinlock_t sp;
    sem_t s;
    E("pthread_mutex_init", rc = pthread_mutex_init(&m, NULL));
    E("pthread_mutex_destroy", rc = pthread_mutex_destroy(&m));
    E("pthread_cond_init", rc = pthread_cond_init(&c, NULL));
    E("pthread_cond_destroy", rc = pthread_cond_destroy(&c));
    E("pthread_rwlock_init", rc = pthread_rwlock_init(&rw, NULL));
    E("pthread_rwlock_destroy", rc = pthread_rwlock_destroy(&rw));
    E("pthread_barrier_init", rc = pthread_barrier_init(&b, NULL, 1));
    E("pthread_barrier_destroy", rc = pthread_barrier_destroy(&b));
    E("pthread_spin_init", rc = pthread_spin_init(&sp, 0));
    E("pthread_spin_lock", rc = pthread_spin_lock(&sp));
    E("pthread_spin_unlock", rc = pthread_spin_unlock(&sp));
    E("pthread_spin_destroy", rc = pthread_spin_destroy(&sp));
    E("sem_init", rc = sem_init(&s, 0, 0));
    E("sem_destroy", rc = sem_destroy(&s));
    pthread_key_t key;
    E("pthread_key_create", rc = pthread_key_create(&key, NULL));
    E("pthread_setspecific", rc = pthread_setspecific(key, &key));
    void *v;
    E("pthread_getspecific", v = pthread_getspecific(key));
    prog_use(v);
    E("pthread_key_delete", rc = pthread_key_delete(key));
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    E("pthread_once", rc = pthread_once(&once, malloc_extras));
    E("pthread_atfork", rc = pthread_atfork(NULL, NULL, NULL));
    prog_use((void *)(intptr_t)rc);
}

/* ---- signals ---- */

static volatile sig_atomic_t g_caught;
static void on_signal(int sig)
{
    (void)sig;
    g_caught++;
}

static void signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int rc;
    /* the dump signal (queried, taken, given back) and another one */
    E("sigaction", rc = sigaction(SIGUSR2, NULL, &old));
    E("sigaction", rc = sigaction(SIGUSR2, &sa, &old));
    E("sigaction", rc = sigaction(SIGUSR2, &old, NULL));
    E("sigaction", rc = sigaction(SIGUSR1, &sa, &old));
    __sighandler_t h;
    E("signal", h = signal(SIGUSR2, on_signal));
    E("signal", h = signal(SIGUSR2, SIG_DFL));
    E("signal", h = signal(SIGUSR1, on_signal));
    prog_use((void *)h);
    /* the older interfaces, where this libc still has them */
    __sighandler_t (*old_style[])(int, __sighandler_t) = {
        (__sighandler_t(*)(int, __sighandler_t))sym("sigset"),
        (__sighandler_t(*)(int, __sighandler_t))sym("bsd_signal"),
        (__sighandler_t(*)(int, __sighandler_t))sym("sysv_signal"),
        (__sighandler_t(*)(int, __sighandler_t))sym("__sysv_signal")};
    static const char *old_names[] = {"sigset", "bsd_signal", "sysv_signal", "__sysv_signal"};
    for (int i = 0; i < 4; i++)
        if (old_style[i]) {
            E(old_names[i], h = old_style[i](SIGUSR1, on_signal));
            E(old_names[i], h = old_style[i](SIGUSR2, SIG_DFL));
        }
    int (*interrupt)(int, int) = (int (*)(int, int))sym("siginterrupt");
    if (interrupt)
        E("siginterrupt", rc = interrupt(SIGUSR1, 0));
    __sighandler_t (*ssig)(int, __sighandler_t) =
        (__sighandler_t(*)(int, __sighandler_t))sym("ssignal");
    if (ssig) {
        E("ssignal", h = ssig(SIGUSR1, on_signal));
        E("ssignal", h = ssig(SIGUSR2, SIG_DFL));
    }
    int (*ignore)(int) = (int (*)(int))sym("sigignore");
    if (ignore)
        E("sigignore", rc = ignore(SIGUSR1));
    int (*under)(int, const struct sigaction *, struct sigaction *) =
        (int (*)(int, const struct sigaction *, struct sigaction *))sym("__sigaction");
    if (under) {
        E("__sigaction", rc = under(SIGUSR2, NULL, &old));
        E("__sigaction", rc = under(SIGUSR1, &sa, NULL));
    }
    signal(SIGUSR1, on_signal);
    sigset_t none, prev;
    sigemptyset(&none);
    E("sigprocmask", rc = sigprocmask(SIG_BLOCK, &none, &prev));
    E("pthread_sigmask", rc = pthread_sigmask(SIG_BLOCK, &none, &prev));
    stack_t ss;
    E("sigaltstack", rc = sigaltstack(NULL, &ss));
    E("raise", rc = raise(SIGUSR1));
    E("kill", rc = kill(getpid(), SIGUSR1));
    E("pthread_kill", rc = pthread_kill(pthread_self(), SIGUSR1));
    E("tgkill", rc = tgkill(getpid(), gettid(), SIGUSR1));
    union sigval val = {0};
    E("sigqueue", rc = sigqueue(getpid(), SIGUSR1, val));
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    sigprocmask(SIG_BLOCK, &one, &prev);
    int sig;
    raise(SIGUSR1);
    E("sigwait", rc = sigwait(&one, &sig));
    raise(SIGUSR1);
    siginfo_t si;
    E("sigwaitinfo", rc = sigwaitinfo(&one, &si));
    raise(SIGUSR1);
    struct timespec zero = {1, 0};
    E("sigtimedwait", rc = sigtimedwait(&one, &si, &zero));
    sigprocmask(SIG_SETMASK, &prev, NULL);
    prog_use((void *)(intptr_t)rc);
}

/* ---- processes, credentials, namespaces, descriptors ---- */

static void child_and_wait(const char *name, pid_t pid, int e)
{
    note(name, e);
    int st;
    pid_t w;
    E("waitpid", w = waitpid(pid, &st, 0));
    if (pid < 0 || w != pid)
        prog_fail(name);
    /* the child reports its own errno through its status */
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        note(name, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

/* In a fork child: errno right after fork, and after a first malloc. */
_Noreturn static void fork_child(int e)
{
    if (e != ERRNO_SENTINEL)
        _exit(e & 0xff ? e & 0xff : 255);
    errno = ERRNO_SENTINEL;
    void *p = malloc(100);
    free(p);
    e = errno;
    _exit(e == ERRNO_SENTINEL ? 0 : (e & 0xff ? e & 0xff : 255));
}

/* Alone in its frame: vfork's child shares it. */
__attribute__((noinline)) static void vfork_once(void)
{
    errno = ERRNO_SENTINEL;
    pid_t pid = vfork();
    if (pid == 0)
        _exit(0);
    int e = errno;
    child_and_wait("vfork", pid, e);
}

static void processes(void)
{
    pid_t pid;
    int e, rc;
    for (int r = 0; r < REPEAT; r++) {
        errno = ERRNO_SENTINEL;
        pid = fork();
        e = errno;
        if (pid == 0)
            fork_child(e);
        child_and_wait("fork", pid, e);
        pid_t (*fork_)(void) = (pid_t(*)(void))sym("_Fork");
        if (fork_) {
            errno = ERRNO_SENTINEL;
            pid = fork_();
            e = errno;
            if (pid == 0)
                _exit(e == ERRNO_SENTINEL ? 0 : (e & 0xff ? e & 0xff : 255));
            child_and_wait("_Fork", pid, e);
        }
        vfork_once();
        char *argv[] = {"true", NULL};
        E("posix_spawn", rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ));
        child_and_wait("posix_spawn", rc == 0 ? pid : -1, ERRNO_SENTINEL);
        E("posix_spawnp", rc = posix_spawnp(&pid, "true", NULL, NULL, argv, environ));
        child_and_wait("posix_spawnp", rc == 0 ? pid : -1, ERRNO_SENTINEL);
        E("system", rc = system("exit 0"));
        pid = fork();
        if (pid == 0)
            _exit(0);
        E("wait", e = wait(NULL));
        prog_use((void *)(intptr_t)rc);
    }
    static const char *never_return[] = {
        "exit", "_exit", "_Exit", "quick_exit", "abort", "pthread_exit", "execve", "execv",
        "execvp", "execvpe", "execl", "execlp", "execle", "fexecve", "longjmp", "siglongjmp",
        "_longjmp", "__libc_start_main"};
    for (size_t i = 0; i < sizeof never_return / sizeof never_return[0]; i++)
        not_applicable(never_return[i]);
}

static void credentials(void)
{
    int rc;
    E("setuid", rc = setuid(getuid()));
    E("setgid", rc = setgid(getgid()));
    E("seteuid", rc = seteuid(geteuid()));
    E("setegid", rc = setegid(getegid()));
    E("setreuid", rc = setreuid((uid_t)-1, (uid_t)-1));
    E("setregid", rc = setregid((gid_t)-1, (gid_t)-1));
    E("setresuid", rc = setresuid((uid_t)-1, (uid_t)-1, (uid_t)-1));
    E("setresgid", rc = setresgid((gid_t)-1, (gid_t)-1, (gid_t)-1));
    gid_t groups[256];
    int n = getgroups(256, groups);
    E("setgroups", rc = setgroups(n > 0 ? (size_t)n : 0, groups));
    struct passwd *pw = getpwuid(getuid());
    if (pw)
        E("initgroups", rc = initgroups(pw->pw_name, getgid()));
    E("unshare", rc = unshare(0));
    int fd = open("/proc/self/ns/uts", O_RDONLY);
    if (fd >= 0) {
        E("setns", rc = setns(fd, CLONE_NEWUTS));
        close(fd);
    }
    prog_use((void *)(intptr_t)rc);
}

static void descriptors(void)
{
    int fd, rc;
    E("open", fd = open("/dev/null", O_RDONLY));
    int d;
    E("dup", d = dup(fd));
    E("dup2", rc = dup2(fd, d));
    E("dup3", rc = dup3(fd, d, O_CLOEXEC));
    E("close", rc = close(d));
    d = dup(fd);
    E("close_range", rc = close_range((unsigned)d, (unsigned)d, 0));
    E("fcntl", d = fcntl(fd, F_DUPFD, 900));
    E("closefrom", closefrom(900));
    E("close", rc = close(fd));
    void *h;
    E("dlopen", h = dlopen("libm.so.6", RTLD_NOW));
    if (h)
        E("dlclose", rc = dlclose(h));
    prog_use((void *)(intptr_t)rc);
}

static void mappings(void)
{
    void *p, *q;
    int rc;
    E("mmap", p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED)
        prog_fail("mmap");
    E("mremap", q = mremap(p, 1 << 16, 1 << 17, MREMAP_MAYMOVE));
    if (q == MAP_FAILED)
        prog_fail("mremap");
    E("munmap", rc = munmap(q, 1 << 17));
    E("sbrk", p = sbrk(0));
    char name[32];
    E("prctl", rc = prctl(PR_GET_NAME, name));
    struct mallinfo (*mi)(void) = (struct mallinfo(*)(void))sym("mallinfo");
    if (mi) {
        struct mallinfo m;
        E("mallinfo", m = mi());
        prog_use((void *)(intptr_t)m.arena);
    }
    prog_use(p);
    prog_use((void *)(intptr_t)rc);
}

static void sleeps(void)
{
    struct timespec ts = {0, 1000};
    int rc;
    E("nanosleep", rc = nanosleep(&ts, NULL));
    E("clock_nanosleep", rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
    E("usleep", rc = usleep(1));
    E("sched_yield", rc = sched_yield());
    E("sleep", rc = (int)sleep(0));
    prog_use((void *)(intptr_t)rc);
}

int main(void)
{
    sem_init(&g_sem, 0, 0);
    pthread_barrier_init(&g_bar, NULL, 2);
    alloc_api();
    pthread_t t;
    for (int r = 0; r < REPEAT; r++) { /* each thread's first samples */
        pthread_create(&t, NULL, alloc_api_thread, NULL);
        finish(t);
    }
    libc_aliases();
    cxx_operators();
    malloc_extras();
    locks();
    lock_lifecycle();
    signals();
    processes();
    credentials();
    descriptors();
    mappings();
    sleeps();
    alloc_api(); /* after all that, once more */
    for (int i = 0; i < g_nrec; i++) {
        const struct rec *r = &g_rec[i];
        if (r->na)
            dprintf(1, "errno %s n/a\n", r->name);
        else if (!r->bad)
            dprintf(1, "errno %s ok\n", r->name);
        else
            dprintf(1, "errno %s changed: %d (%s)\n", r->name, r->first,
                    r->first > 0 ? strerror(r->first) : "child ended by a signal");
    }
    return 0;
}
