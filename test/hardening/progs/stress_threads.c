/*
 * stress_threads: many threads allocating and freeing, each block freed on
 * a thread other than the one that allocated it.
 *
 *   stress_threads [--threads N] [--per N] [--keep N]
 *
 * Thread t allocates `per` blocks at stress_pass (sizes cycle through 64
 * classes) and hands each to thread (t+1) % N through that thread's
 * mailbox (mutex + condition variable).  The receiver checks the block's
 * contents, grows it with realloc at stress_regrow (a free of the old
 * block plus an allocation, for the profiler) and frees it.  Each thread
 * also allocates `keep` blocks at stress_keep that stay live until exit.
 * An rwlock-guarded counter and barriers add lock traffic.
 *
 * Prints truth lines for the three sites (size 0: many sizes), then
 * "verify ok" and "done".
 */
#include "hprog.h"

#include <pthread.h>

#define KEEP_SIZE 48

struct mailbox {
    pthread_mutex_t m;
    pthread_cond_t c;
    void **items;
    size_t n, received;
} __attribute__((aligned(64)));

struct header {
    uint32_t size;
    uint32_t pad;
    uint64_t tag;
};

static int g_threads = 32;
static size_t g_per = 3000, g_keep = 50;
static struct mailbox *g_mb;
static void **g_kept;
static pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t g_start, g_end;
static uint64_t g_counter;
static int g_line_pass, g_line_regrow, g_line_keep;

static size_t size_of(size_t i) { return sizeof(struct header) + 8 * (i % 64); }

SITE static void *stress_pass(size_t size)
{
    void *p = prog_check(malloc(size), "malloc"); g_line_pass = __LINE__;
    return p;
}

SITE static void *stress_regrow(void *p, size_t size)
{
    void *q = prog_check(realloc(p, size), "realloc"); g_line_regrow = __LINE__;
    return q;
}

SITE static void *stress_keep(void)
{
    void *p = prog_check(malloc(KEEP_SIZE), "malloc"); g_line_keep = __LINE__;
    return p;
}

static void mailbox_put(struct mailbox *mb, void *p)
{
    pthread_mutex_lock(&mb->m);
    mb->items[mb->n++] = p;
    pthread_cond_signal(&mb->c);
    pthread_mutex_unlock(&mb->m);
}

static void consume(void *p)
{
    struct header h;
    memcpy(&h, p, sizeof h);
    hp_check((char *)p + sizeof h, h.size - sizeof h, h.tag);
    void *q = stress_regrow(p, h.size + 32);
    hp_check((char *)q + sizeof h, h.size - sizeof h, h.tag);
    free(q);
}

/* Take what is there; with `wait`, block until at least one item came. */
static size_t mailbox_take(struct mailbox *mb, bool wait)
{
    void *got[64];
    size_t k = 0;
    pthread_mutex_lock(&mb->m);
    while (wait && mb->n == 0)
        pthread_cond_wait(&mb->c, &mb->m);
    while (mb->n > 0 && k < 64)
        got[k++] = mb->items[--mb->n];
    mb->received += k;
    pthread_mutex_unlock(&mb->m);
    for (size_t i = 0; i < k; i++)
        consume(got[i]);
    return k;
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    struct mailbox *mine = &g_mb[t], *next = &g_mb[(t + 1) % g_threads];
    size_t taken = 0;
    pthread_barrier_wait(&g_start);
    for (size_t i = 0; i < g_per; i++) {
        size_t size = size_of(i);
        void *p = stress_pass(size);
        struct header h = {(uint32_t)size, 0, (uint64_t)t << 32 | i};
        memcpy(p, &h, sizeof h);
        hp_fill((char *)p + sizeof h, size - sizeof h, h.tag);
        mailbox_put(next, p);
        if (i % 8 == 7)
            taken += mailbox_take(mine, false);
        if (i % 16 == 0) {
            pthread_rwlock_wrlock(&g_rw);
            g_counter++;
            pthread_rwlock_unlock(&g_rw);
            pthread_rwlock_rdlock(&g_rw);
            volatile uint64_t v = g_counter;
            (void)v;
            pthread_rwlock_unlock(&g_rw);
        }
    }
    while (taken < g_per)
        taken += mailbox_take(mine, true);
    for (size_t k = 0; k < g_keep; k++) {
        void *p = stress_keep();
        hp_fill(p, KEEP_SIZE, (uint64_t)t * 1000003 + k);
        g_kept[(size_t)t * g_keep + k] = p;
    }
    pthread_barrier_wait(&g_end);
    return NULL;
}

int main(int argc, char **argv)
{
    g_threads = (int)hp_long(argc, argv, "--threads", g_threads);
    g_per = (size_t)hp_long(argc, argv, "--per", (long)g_per);
    g_keep = (size_t)hp_long(argc, argv, "--keep", (long)g_keep);
    dprintf(1, "pid %d\n", (int)getpid());
    g_mb = hp_map((size_t)g_threads * sizeof *g_mb);
    g_kept = prog_slots((size_t)g_threads * g_keep);
    for (int t = 0; t < g_threads; t++) {
        pthread_mutex_init(&g_mb[t].m, NULL);
        pthread_cond_init(&g_mb[t].c, NULL);
        g_mb[t].items = prog_slots(g_per);
    }
    pthread_barrier_init(&g_start, NULL, (unsigned)g_threads);
    pthread_barrier_init(&g_end, NULL, (unsigned)g_threads);
    pthread_t *tid = hp_map((size_t)g_threads * sizeof *tid);
    for (int t = 0; t < g_threads; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)(intptr_t)t) != 0)
            prog_fail("pthread_create");
    for (int t = 0; t < g_threads; t++)
        pthread_join(tid[t], NULL);

    size_t bytes = 0, n = (size_t)g_threads * g_per;
    for (size_t i = 0; i < g_per; i++)
        bytes += size_of(i);
    bytes *= (size_t)g_threads;
    for (int t = 0; t < g_threads; t++) {
        if (g_mb[t].received != g_per || g_mb[t].n != 0)
            hp_damaged("a mailbox lost or duplicated blocks");
        for (size_t k = 0; k < g_keep; k++)
            hp_check(g_kept[(size_t)t * g_keep + k], KEEP_SIZE, (uint64_t)t * 1000003 + k);
    }
    if (g_counter != (uint64_t)g_threads * ((g_per + 15) / 16))
        hp_damaged("rwlock counter");
    dprintf(1, "truth 1 stress_pass 0 %zu %zu 0 0 %s %d\n", n, bytes, __FILE__, g_line_pass);
    dprintf(1, "truth 1 stress_regrow 0 %zu %zu 0 0 %s %d\n", n, bytes + 32 * n, __FILE__,
            g_line_regrow);
    size_t kn = (size_t)g_threads * g_keep;
    dprintf(1, "truth 1 stress_keep %d %zu %zu %zu %zu %s %d\n", KEEP_SIZE, kn,
            kn * KEEP_SIZE, kn, kn * KEEP_SIZE, __FILE__, g_line_keep);
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
