/*
 * threadreg.c: the tid -> TLS table (see threadreg.h).  Linear probing
 * from tid's hash; a removed entry becomes a tombstone (-1) that an
 * insert may reuse, so a lookup's probe ends only at a never-used slot.
 * Tombstones accumulate (tids keep changing, and each new tid's probe
 * starts elsewhere) until no slot is never-used, when a lookup of a
 * thread that is not registered (mprof's own, one started before
 * profiling, one whose insert failed) would walk the whole table, at each
 * thread of each dump.  So an entry lies within PROBE slots of its home:
 * an insert that finds no free slot there fails (the thread is shown
 * without its wait), and a lookup stops after PROBE slots.  Entries never
 * move, so this needs no lock, and the table stays lock-free.  A window
 * of PROBE slots all held by live threads needs tens of thousands of
 * threads at once (free slots, tombstones included, are reused).
 * Each entry also holds the pid that made it: a fork child inherits its
 * parent's entries and treats them as tombstones, so that a fork costs
 * the table nothing but the forking thread's own entry.
 */
#include "threadreg.h"

#include "waitcall.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define SLOTS (1u << 16) /* threads at once; pid_max is at most 2^22 */
#define PROBE 64u        /* slots an entry may lie past its home, at most */
#define EMPTY 0
#define GONE (-1)
#define CLAIMED (-2) /* being filled in by an insert */

struct slot {
    int tid; /* EMPTY, GONE, CLAIMED, or a registered thread */
    int pid; /* of the process that registered it */
    struct mprof_tls *tls;
};

static struct slot *table; /* mapped on first use; never unmapped */
static int my_pid;         /* 0 until the first registration */
static struct mprof_tls *main_tls; /* registered with the table's first thread */

static int pid_now(void)
{
    int p = __atomic_load_n(&my_pid, __ATOMIC_RELAXED);
    if (!p) {
        p = (int)getpid();
        __atomic_store_n(&my_pid, p, __ATOMIC_RELAXED);
    }
    return p;
}

/* A slot an insert may take: never used, removed, or a parent's. */
static int free_slot(const struct slot *s, int cur, int pid)
{
    return cur == EMPTY || cur == GONE ||
           (cur != CLAIMED && __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) != pid);
}

static struct slot *slots(void)
{
    struct slot *t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
    if (t)
        return t;
    void *m = mmap(NULL, SLOTS * sizeof *t, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct slot *expected = NULL;
    if (!__atomic_compare_exchange_n(&table, &expected, m, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        munmap(m, SLOTS * sizeof *t);
        return expected;
    }
    if (main_tls) { /* its tid is the pid */
        main_tls->tid = pid_now();
        mprof_threadreg_add(main_tls->tid, main_tls);
    }
    return m;
}

void mprof_threadreg_main(struct mprof_tls *tls)
{
    main_tls = tls;
}

static unsigned home(int tid) { return ((unsigned)tid * 0x9E3779B1u) % SLOTS; }

int mprof_threadreg_add(int tid, struct mprof_tls *tls)
{
    struct slot *t = slots();
    if (!t || tid <= 0)
        return -1;
    int pid = pid_now();
    for (unsigned i = 0, k = home(tid); i < PROBE; i++, k = (k + 1) % SLOTS) {
        int cur = __atomic_load_n(&t[k].tid, __ATOMIC_ACQUIRE);
        if (!free_slot(&t[k], cur, pid))
            continue;
        /* claimed, then filled, then named: a reader that sees the tid
         * sees its TLS pointer */
        if (!__atomic_compare_exchange_n(&t[k].tid, &cur, CLAIMED, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        __atomic_store_n(&t[k].tls, tls, __ATOMIC_RELAXED);
        __atomic_store_n(&t[k].pid, pid, __ATOMIC_RELAXED);
        __atomic_store_n(&t[k].tid, tid, __ATOMIC_RELEASE);
        return 0;
    }
    return -1;
}

static unsigned long probes; /* slots find() examined; atomic */

unsigned long mprof_threadreg_probes(void) { return __atomic_load_n(&probes, __ATOMIC_RELAXED); }

static struct slot *find(int tid)
{
    struct slot *t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
    if (!t || tid <= 0)
        return NULL;
    int pid = pid_now();
    for (unsigned i = 0, k = home(tid); i < PROBE; i++, k = (k + 1) % SLOTS) {
        __atomic_add_fetch(&probes, 1, __ATOMIC_RELAXED);
        int cur = __atomic_load_n(&t[k].tid, __ATOMIC_ACQUIRE);
        if (cur == tid && __atomic_load_n(&t[k].pid, __ATOMIC_ACQUIRE) == pid)
            return &t[k];
        if (cur == EMPTY)
            return NULL;
    }
    return NULL;
}

void mprof_threadreg_remove(int tid)
{
    struct slot *s = find(tid);
    if (s)
        __atomic_store_n(&s->tid, GONE, __ATOMIC_RELEASE);
}

int mprof_threadreg_wait(int tid, int *call, const void **obj)
{
    *call = MPROF_WAIT_NONE;
    *obj = NULL;
    struct slot *s = find(tid);
    struct mprof_tls *tls = s ? __atomic_load_n(&s->tls, __ATOMIC_ACQUIRE) : NULL;
    if (!tls)
        return -1;
    /* Through the kernel, not a load: nothing stops the thread from ending
     * between find() and here, and its TLS lies in its stack, which may be
     * gone (a program's own stack, freed after the join; one glibc
     * unmaps).  A fault here, on mprof's thread, would kill the program;
     * a failed read is only a thread shown without its wait. */
    int c = 0;
    const void *o = NULL;
    struct iovec local[2] = {{&c, sizeof c}, {&o, sizeof o}};
    struct iovec remote[2] = {{(void *)&tls->wait_call, sizeof c},
                              {(void *)&tls->wait_obj, sizeof o}};
    if (process_vm_readv(getpid(), local, 2, remote, 2, 0) != (ssize_t)(sizeof c + sizeof o))
        return 0;
    *obj = o;
    *call = c > 0 && c <= MPROF_NWAITCALLS ? c - 1 : MPROF_WAIT_NONE;
    if (*call == MPROF_WAIT_NONE)
        *obj = NULL;
    return 0;
}

void mprof_threadreg_after_fork(struct mprof_tls *tls)
{
    main_tls = tls; /* the child's main thread is the one that forked */
    if (!table)
        return; /* nothing registered: the child has no system call to pay */
    my_pid = (int)getpid();
    tls->tid = my_pid; /* the child's one thread is its main thread */
    mprof_threadreg_add(tls->tid, tls);
}
