/*
 * sites: allocation sites whose truth is known exactly.
 *
 *   sites [--stat] [--div N] [--signal SIG] [--wait-dump] [--sleep-ms N] [--chdir DIR]
 *
 * Each site_* function allocates n blocks of one size through one API and
 * keeps the first `keep` of them until exit; the rest are freed before exit.
 * It prints a "truth" line per site (see common.h) with the line of its
 * allocation call.
 *
 * --stat      the workload for the default sampling rate: enough bytes per
 *             site that the unsampled estimate is within a tight bound.
 * --div N     divide every count by N (quick runs).
 * --signal S  after phase 1, wait 200 ms (> 3 epochs at MPROF_EPOCH_MS=10),
 *             send signal number S to itself, then run phase 2
 *             (site_after_signal), whose truth is printed with phase 2.
 * --wait-dump after the signal, wait up to 5 s for the seq-1 heap file and
 *             print "dump1 seen <ms>" or "dump1 missing".
 * --sleep-ms  sleep this long before exit (for interval dumps).
 * --chdir     change directory first (relative MPROF_OUT stays where we started).
 */
#include "common.h"

#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#define KiB 1024UL
#define MiB (1024UL * 1024UL)

struct spec {
    size_t n, keep;
};

/* Counts per site for the exact (rate 1) and the statistical workloads. */
struct workload {
    struct spec small, medium, large, calloc, realloc, memalign, aligned,
        valloc, rarray, freed;
};

static const struct workload exact_load = {
    .small = {100000, 25000},  .medium = {20000, 10000},
    .large = {50, 30},         .calloc = {10000, 10000},
    .realloc = {5000, 2500},   .memalign = {2000, 1000},
    .aligned = {1000, 0},      .valloc = {500, 500},
    .rarray = {1000, 1000},    .freed = {10000, 0},
};

/*
 * Sized so that each checked estimate has >= 5 standard deviations within
 * 25%: E[samples] = n * (1 - exp(-size/524288)), e.g. 4M x 64 B gives ~490
 * samples.  Large blocks are kept but never touched, so they cost address
 * space, not memory.
 */
static const struct workload stat_load = {
    .small = {4000000, 0},  .medium = {200000, 0}, .large = {400, 200},
    .calloc = {2000, 0},    .realloc = {400000, 0},
};

#define SMALL_SIZE 64
#define MEDIUM_SIZE 4096
#define LARGE_SIZE MiB
#define CALLOC_N 10
#define CALLOC_M 24
#define STAT_CALLOC_N 16
#define STAT_CALLOC_M (16 * KiB)
#define REALLOC_OLD 1000
#define REALLOC_NEW 3000
#define MEMALIGN_ALIGN 64
#define MEMALIGN_SIZE 200
#define ALIGNED_ALIGN 4096
#define ALIGNED_SIZE 8192
#define VALLOC_SIZE 5000
#define RARRAY_N 50
#define RARRAY_M 8
#define FREED_SIZE 128
#define AFTER_SIZE 200
#define AFTER_N 1000

static int line_small, line_medium, line_large, line_calloc, line_rold,
    line_rnew, line_memalign, line_aligned, line_valloc, line_rarray,
    line_freed, line_after;

/* Free slots[keep..n): the blocks that must not be in use at exit. */
static void release(void **slots, size_t n, size_t keep)
{
    for (size_t i = keep; i < n; i++) {
        free(slots[i]);
        slots[i] = NULL;
    }
}

/* A site `name(s, sp, ...)` that makes sp.n blocks with `call`, keeps the
 * first sp.keep in s and frees each other one at once; the rest of its
 * parameters, if any, follow.  A failed call is reported as its text.  One
 * line per use (see PROG_FILL). */
#define KEEPING_SITE(name, call, line, ...)                                   \
    SITE static void name(void **s, struct spec sp, ##__VA_ARGS__)           \
    {                                                                         \
        for (size_t i = 0; i < sp.n; i++) {                                   \
            void *p = (call); (line) = __LINE__;                              \
            if (i < sp.keep)                                                  \
                s[i] = p;                                                     \
            else                                                              \
                free(prog_check(p, #call));                                   \
        }                                                                     \
    }

/* A site `name(s, sp)` that makes sp.n blocks with `call` into s, all live
 * at once, then frees those past sp.keep.  One line per use. */
#define RELEASING_SITE(name, call, line)                                      \
    SITE static void name(void **s, struct spec sp)                           \
    {                                                                         \
        PROG_FILL(s, sp.n, call, line, #call);                                \
        release(s, sp.n, sp.keep);                                            \
    }

/*
 * Allocate everything first, then free: in-use at exit is exact, and the
 * allocation call is never a tail call.  In the statistical workload nothing
 * is kept except large blocks, so each block is freed at once to bound the
 * memory in use.
 */
KEEPING_SITE(site_small, malloc(SMALL_SIZE), line_small)

KEEPING_SITE(site_medium, malloc(MEDIUM_SIZE), line_medium)

RELEASING_SITE(site_large, malloc(LARGE_SIZE), line_large)

KEEPING_SITE(site_calloc, calloc(n, m), line_calloc, size_t n, size_t m)

PROG_MALLOC_SITE(site_realloc_old, REALLOC_OLD, line_rold)

/* realloc of a block = free of the old one + allocation here. */
SITE static void site_realloc_new(void **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s[i] = realloc(s[i], REALLOC_NEW); line_rnew = __LINE__;
        prog_check(s[i], "realloc");
    }
}

SITE static void site_memalign(void **s, struct spec sp)
{
    for (size_t i = 0; i < sp.n; i++) {
        int rc = posix_memalign(&s[i], MEMALIGN_ALIGN, MEMALIGN_SIZE); line_memalign = __LINE__;
        if (rc != 0)
            prog_fail("posix_memalign");
    }
    release(s, sp.n, sp.keep);
}

RELEASING_SITE(site_aligned, aligned_alloc(ALIGNED_ALIGN, ALIGNED_SIZE), line_aligned)

RELEASING_SITE(site_valloc, valloc(VALLOC_SIZE), line_valloc)

/* reallocarray(NULL, n, m) is an allocation of n*m bytes at this site. */
RELEASING_SITE(site_reallocarray, reallocarray(NULL, RARRAY_N, RARRAY_M), line_rarray)

RELEASING_SITE(site_freed, malloc(FREED_SIZE), line_freed)

PROG_MALLOC_SITE(site_after_signal, AFTER_SIZE, line_after)

static struct spec scaled(struct spec sp, size_t div)
{
    return (struct spec){sp.n / div, sp.keep / div};
}

static void truth(const char *site, size_t size, struct spec sp, int line)
{
    if (sp.n)
        prog_truth(1, site, size, sp.n, sp.keep, __FILE__, line);
}

static void run_small_medium_large(const struct workload *w)
{
    site_small(prog_slots(w->small.keep), w->small);
    site_medium(prog_slots(w->medium.keep), w->medium);
    if (w->large.n)
        site_large(prog_slots(w->large.n), w->large);
    truth("site_small", SMALL_SIZE, w->small, line_small);
    truth("site_medium", MEDIUM_SIZE, w->medium, line_medium);
    truth("site_large", LARGE_SIZE, w->large, line_large);
}

static void run_calloc(const struct workload *w, bool stat)
{
    size_t n = stat ? STAT_CALLOC_N : CALLOC_N;
    size_t m = stat ? STAT_CALLOC_M : CALLOC_M;
    if (!w->calloc.n)
        return;
    site_calloc(prog_slots(w->calloc.keep), w->calloc, n, m);
    truth("site_calloc", n * m, w->calloc, line_calloc);
}

/* Exact workload: all old blocks live at once, then all reallocated. */
static void run_realloc_exact(struct spec sp)
{
    void **s = prog_slots(sp.n);
    site_realloc_old(s, sp.n);
    site_realloc_new(s, sp.n);
    release(s, sp.n, sp.keep);
}

/* Statistical workload: one block at a time, to bound the memory used. */
static void run_realloc_stat(struct spec sp)
{
    void **s = prog_slots(1);
    for (size_t i = 0; i < sp.n; i++) {
        site_realloc_old(s, 1);
        site_realloc_new(s, 1);
        free(s[0]);
    }
}

static void run_realloc(const struct workload *w, bool stat)
{
    if (!w->realloc.n)
        return;
    if (stat)
        run_realloc_stat(w->realloc);
    else
        run_realloc_exact(w->realloc);
    truth("site_realloc_old", REALLOC_OLD, (struct spec){w->realloc.n, 0},
          line_rold);
    truth("site_realloc_new", REALLOC_NEW, w->realloc, line_rnew);
}

static void run_other_apis(const struct workload *w)
{
    if (w->memalign.n) {
        site_memalign(prog_slots(w->memalign.n), w->memalign);
        truth("site_memalign", MEMALIGN_SIZE, w->memalign, line_memalign);
    }
    if (w->aligned.n) {
        site_aligned(prog_slots(w->aligned.n), w->aligned);
        truth("site_aligned", ALIGNED_SIZE, w->aligned, line_aligned);
    }
    if (w->valloc.n) {
        site_valloc(prog_slots(w->valloc.n), w->valloc);
        truth("site_valloc", VALLOC_SIZE, w->valloc, line_valloc);
    }
    if (w->rarray.n) {
        site_reallocarray(prog_slots(w->rarray.n), w->rarray);
        truth("site_reallocarray", RARRAY_N * RARRAY_M, w->rarray, line_rarray);
    }
    if (w->freed.n) {
        site_freed(prog_slots(w->freed.n), w->freed);
        truth("site_freed", FREED_SIZE, w->freed, line_freed);
    }
}

static struct workload scale_load(const struct workload *w, size_t div)
{
    struct workload s = {
        scaled(w->small, div),    scaled(w->medium, div),
        scaled(w->large, div),    scaled(w->calloc, div),
        scaled(w->realloc, div),  scaled(w->memalign, div),
        scaled(w->aligned, div),  scaled(w->valloc, div),
        scaled(w->rarray, div),   scaled(w->freed, div),
    };
    return s;
}

/* Ask for a dump of ourselves, and optionally watch the file appear. */
static void signal_self(int sig, bool wait_dump)
{
    char path[4096];
    const char *out = getenv("MPROF_OUT");
    snprintf(path, sizeof path, "%s.%d.1.heap.pb.gz", out ? out : "mprof",
             (int)getpid());
    prog_sleep_ms(200);
    kill(getpid(), sig);
    if (!wait_dump) {
        prog_sleep_ms(500);
        return;
    }
    int ms = prog_wait_file(path, 5000);
    if (ms >= 0)
        dprintf(1, "dump1 seen %d\n", ms);
    else
        dprintf(1, "dump1 missing\n");
}

/* Whether we run on jemalloc (the chaining test checks this). */
static const char *allocator_name(void)
{
    return dlsym(RTLD_DEFAULT, "mallctl") ? "jemalloc" : "other";
}

struct opts {
    bool stat, wait_dump;
    size_t div;
    int sig;
    long sleep_ms;
};

static struct opts parse_opts(int argc, char **argv)
{
    struct opts o = {.div = 1};
    for (int i = 1; i < argc; i++) {
        bool more = i + 1 < argc;
        if (strcmp(argv[i], "--stat") == 0)
            o.stat = true;
        else if (strcmp(argv[i], "--wait-dump") == 0)
            o.wait_dump = true;
        else if (strcmp(argv[i], "--div") == 0 && more)
            o.div = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--signal") == 0 && more)
            o.sig = atoi(argv[++i]);
        else if (strcmp(argv[i], "--sleep-ms") == 0 && more)
            o.sleep_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--chdir") == 0 && more) {
            if (chdir(argv[++i]) != 0) {
                dprintf(2, "sites: chdir %s failed\n", argv[i]);
                exit(2);
            }
        } else {
            dprintf(2, "usage: sites [--stat] [--div N] [--signal SIG] "
                       "[--wait-dump] [--sleep-ms N] [--chdir DIR]\n");
            exit(2);
        }
    }
    if (o.div == 0)
        o.div = 1;
    return o;
}

int main(int argc, char **argv)
{
    struct opts o = parse_opts(argc, argv);
    struct workload w = scale_load(o.stat ? &stat_load : &exact_load, o.div);
    dprintf(1, "pid %d\nallocator %s\n", (int)getpid(), allocator_name());
    run_small_medium_large(&w);
    run_calloc(&w, o.stat);
    run_realloc(&w, o.stat);
    run_other_apis(&w);
    if (o.sig) {
        signal_self(o.sig, o.wait_dump);
        site_after_signal(prog_slots(AFTER_N), AFTER_N);
        prog_truth(2, "site_after_signal", AFTER_SIZE, AFTER_N, AFTER_N,
                   __FILE__, line_after);
    }
    if (o.sleep_ms)
        prog_sleep_ms(o.sleep_ms);
    dprintf(1, "done\n");
    return 0;
}
