/*
 * test_core_stress: core/ driven from many threads at once, for the
 * sanitizer builds (`make check-sanitize` runs it beside test/unit under
 * ASan+UBSan and under TSan).  The unit tests check each piece; this puts
 * them together the way the shim does, concurrently: heap samples and
 * frees (frees on other threads), epoch ticks, block and mutex records,
 * lock waiter records, and full dumps (symbolize, encode, gzip, write)
 * taken while all that runs.  And the arena cap: a profiler out of memory
 * drops and counts, and the counts add up.
 */
#include "addrmap.h"
#include "arena.h"
#include "block.h"
#include "bucket.h"
#include "config.h"
#include "dump.h"
#include "heap.h"
#include "lockwait.h"
#include "peak.h"
#include "pprof.h"

#include <check.h>
#include "run_suite.h"
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THREADS 8
#define PER 4000
#define STACKS 16

static atomic_int g_stop;
static pthread_barrier_t g_bar;
/* Fake block addresses: thread t owns [base + t * PER * 64, ...). */
static char *g_base;

static void stack_of(int k, uintptr_t *stk)
{
    stk[0] = 0x401000 + (uintptr_t)k * 16;
    stk[1] = 0x402000;
    stk[2] = 0x403000 + (uintptr_t)(k % 3);
}

static const void *block_addr(int t, int i)
{
    return g_base + ((size_t)t * PER + (size_t)i) * 64;
}

/* Allocate PER blocks, then (after everyone did) free the blocks of the
 * next thread: every free is of a block sampled on another thread. */
static void *heap_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    uintptr_t stk[3];
    for (int i = 0; i < PER; i++) {
        stack_of((t + i) % STACKS, stk);
        mprof_heap_alloc(block_addr(t, i), 32 + (uint64_t)(i % 4) * 16, stk, 3);
    }
    pthread_barrier_wait(&g_bar);
    int victim = (t + 1) % THREADS;
    for (int i = 0; i < PER; i += 2)
        mprof_heap_free(block_addr(victim, i));
    return NULL;
}

/* Block and mutex events, and waiter records on a few shared fake locks. */
static void *lock_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    static char locks[4];
    uintptr_t stk[3];
    for (int i = 0; i < PER; i++) {
        stack_of(i % STACKS, stk);
        mprof_block_add(MPROF_BLOCK, 0, stk, 3, 1.0, 100.0, 0);
        mprof_block_add(MPROF_MUTEX, 0, stk, 3, 1.0, 10.0, 0);
        const void *l = &locks[(t + i) % 4];
        int64_t now = (int64_t)i * 1000 + t;
        if (mprof_lockwait_begin(l, now) == 0) {
            mprof_lockwait_charge(l, now + 10);
            mprof_lockwait_end(l, now);
        }
    }
    return NULL;
}

/* Epoch ticks while the workers run. */
static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_stop))
        mprof_heap_tick();
    return NULL;
}

/* mprof_addrmap_count() reads the shard counts without their locks (it is
 * documented as a relaxed estimate), so their writers must store them
 * atomically too. */
static void *counter(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_stop)) {
        volatile uint64_t n = mprof_addrmap_count();
        (void)n;
    }
    return NULL;
}

static char g_dir[256];

static void *dumper(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_stop))
        mprof_dump(MPROF_DUMP_INTERVAL);
    return NULL;
}

/* The heap profile of `path`: sums of alloc_objects and inuse_objects. */
static void read_heap(const char *path, int64_t *alloc, int64_t *inuse)
{
    mprof_pprof_profile p;
    char err[512];
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    *alloc = *inuse = 0;
    for (size_t i = 0; i < p.nsample; i++) {
        *alloc += p.sample[i].value[0];
        *inuse += p.sample[i].value[2];
    }
    mprof_pprof_free(&p);
}

START_TEST(everything_at_once)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/mprof-core-stress.%d", (int)getpid());
    ck_assert_int_eq(mkdir(g_dir, 0755), 0);
    static mprof_config cfg; /* dump.c keeps the pointer */
    mprof_config_defaults(&cfg);
    cfg.mem_rate = 1;
    cfg.block_rate = 1;
    cfg.mutex_fraction = 1;
    cfg.write_empty = 1; /* early dumps may be empty: every one is counted below */
    snprintf(cfg.out, sizeof cfg.out, "%s/core", g_dir);
    mprof_heap_set_rate(1);
    mprof_peak_init(0, 0); /* a copy at every new high, racing the workers and dumps */
    mprof_dump_init(&cfg, NULL);
    g_base = malloc((size_t)THREADS * PER * 64);
    ck_assert_ptr_nonnull(g_base);
    pthread_barrier_init(&g_bar, NULL, THREADS);
    pthread_t h[THREADS], l[THREADS], tk, dp;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&dp, NULL, dumper, NULL);
    for (int t = 0; t < THREADS; t++) {
        pthread_create(&h[t], NULL, heap_worker, (void *)(intptr_t)t);
        pthread_create(&l[t], NULL, lock_worker, (void *)(intptr_t)t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(h[t], NULL);
        pthread_join(l[t], NULL);
    }
    atomic_store(&g_stop, 1);
    pthread_join(tk, NULL);
    pthread_join(dp, NULL);
    unsigned seq = mprof_dump(MPROF_DUMP_FINAL);
    ck_assert_uint_gt(seq, 0);
    ck_assert_uint_eq(mprof_heap_dropped(), 0);
    ck_assert_uint_eq(mprof_addrmap_count(), (uint64_t)THREADS * PER / 2);

    char path[512];
    snprintf(path, sizeof path, "%s/core.%d.%u.heap.pb.gz", g_dir, (int)getpid(), seq);
    int64_t alloc, inuse;
    read_heap(path, &alloc, &inuse);
    ck_assert_int_eq(alloc, (int64_t)THREADS * PER);
    ck_assert_int_eq(inuse, (int64_t)THREADS * PER / 2);
    /* Every dump of the run reads back. */
    DIR *d = opendir(g_dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[768];
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        mprof_pprof_profile prof;
        char err[512];
        ck_assert_msg(strstr(e->d_name, ".tmp") == NULL, "left over: %s", e->d_name);
        ck_assert_msg(mprof_pprof_read_file(&prof, p, err, sizeof err) == 0, "%s", err);
        mprof_pprof_free(&prof);
        unlink(p);
        files++;
    }
    closedir(d);
    rmdir(g_dir);
    ck_assert_int_eq(files, 5 * (int)seq); /* heap, block, mutex, threadcreate, peak */
    free(g_base);
}
END_TEST

START_TEST(addrmap_count_while_inserting)
{
    mprof_heap_set_rate(1);
    g_base = malloc((size_t)THREADS * PER * 64);
    ck_assert_ptr_nonnull(g_base);
    pthread_barrier_init(&g_bar, NULL, THREADS);
    pthread_t h[THREADS], c;
    pthread_create(&c, NULL, counter, NULL);
    for (int t = 0; t < THREADS; t++)
        pthread_create(&h[t], NULL, heap_worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(h[t], NULL);
    atomic_store(&g_stop, 1);
    pthread_join(c, NULL);
    ck_assert_uint_eq(mprof_addrmap_count(), (uint64_t)THREADS * PER / 2);
    free(g_base);
}
END_TEST

/* A profiler out of memory drops samples and counts every one of them. */
START_TEST(arena_cap_drops_are_counted)
{
    mprof_heap_set_rate(1);
    mprof_arena_set_limit((size_t)8 << 20); /* two 4 MiB chunks */
    enum { N = 400000 };
    char *base = malloc(N);
    ck_assert_ptr_nonnull(base);
    uintptr_t stk[3];
    for (int i = 0; i < N; i++) {
        stack_of(i % STACKS, stk);
        mprof_heap_alloc(base + i, 16, stk, 3);
    }
    uint64_t dropped = mprof_heap_dropped(), live = mprof_addrmap_count();
    ck_assert_msg(dropped > 0, "8 MiB held %d samples: the cap did not bite", N);
    ck_assert_uint_eq(live + dropped, N);
    /* Frees of dropped blocks are not found; frees of kept ones are. */
    for (int i = 0; i < N; i++)
        mprof_heap_free(base + i);
    ck_assert_uint_eq(mprof_addrmap_count(), 0);
    /* Block records too: no new bucket fits any more. */
    uintptr_t other[3] = {0x7000, 0x7001, 0x7002};
    for (int i = 0; i < 1000000 && mprof_block_dropped_of(MPROF_BLOCK) == 0; i++) {
        other[0] = 0x900000 + (uintptr_t)i;
        mprof_block_add(MPROF_BLOCK, 0, other, 3, 1, 1, 0);
    }
    ck_assert_uint_gt(mprof_block_dropped_of(MPROF_BLOCK), 0);
    free(base);
}
END_TEST

int main(void)
{
    TCase *a = tcase_create("everything_at_once");
    tcase_set_timeout(a, 300);
    tcase_add_test(a, everything_at_once);
    /* Under TSan: the lock-free count read against inserts and removes. */
    TCase *c = tcase_create("addrmap_count_while_inserting");
    tcase_set_timeout(c, 300);
    tcase_add_test(c, addrmap_count_while_inserting);
    TCase *b = tcase_create("arena_cap_drops_are_counted");
    tcase_set_timeout(b, 300);
    tcase_add_test(b, arena_cap_drops_are_counted);
    return run_suite("core_stress", a, c, b, NULL);
}
