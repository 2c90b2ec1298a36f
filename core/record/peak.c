/*
 * peak.c: the saved high-water mark of the heap, and the growth mark (see
 * peak.h).
 *
 * Why the cost is bounded: a copy is made only when the estimate exceeds
 * the last copy's by the factor f = 1 + g/100, so after k copies the
 * estimate has grown by f^k over the first one.  The first is made at the
 * first sampled allocation, whose estimate is at least its size (at least
 * 1 byte; about MPROF_MEM_RATE at the default rate, where a small block
 * stands for a rate's worth), so a heap that peaks at P bytes is copied at
 * most 1 + log(P / first) / log(f) times: 153 times for 1 TiB at the
 * default rate and g = 10, 292 at MPROF_MEM_RATE=1.  Each copy walks the
 * heap buckets once, O(buckets), holding the stripes, and writes 24 bytes
 * per live bucket into a mapping of its own.  g = 0 asks for a copy at
 * every new high (exact at rate 1, unbounded in the number of copies: the
 * user's choice).  Frees never copy.
 *
 * Two mappings take turns: `saved` holds the peak a dump reads, `spare`
 * receives the next copy, and they swap under peak_lock, so a dump never
 * sees half a copy.
 */
#include "peak.h"

#include "clock.h"
#include "config.h"
#include "heap.h"
#include "lock.h"

#include <sys/mman.h>
#include <time.h>

struct peak_entry {
    const mprof_bucket *b;
    uint64_t objects, bytes;
};

struct peak_buf {
    struct peak_entry *e;
    size_t n, cap;
};

static mprof_lock peak_lock = MPROF_LOCK_INIT; /* saved, spare, info */
MPROF_LOCK_RANK(peak_lock, MPROF_RANK_PEAK);
static struct peak_buf saved, spare;
static mprof_peak_info info;

static uint64_t growth = MPROF_PEAK_OFF, interval;
static int64_t inuse;          /* estimated in-use bytes; atomic */
static int64_t next_copy;      /* copy when inuse exceeds it; atomic */
static int64_t inuse_mark;     /* the last growth dump's inuse; atomic */

void mprof_peak_init(uint64_t growth_pct, uint64_t inuse_interval)
{
    growth = growth_pct;
    interval = inuse_interval;
}

/* Live objects and bytes of b now: every event it has counted, published
 * or not (heap.c's cycles); with b's stripe held. */
static void live_of(const mprof_bucket *b, uint64_t *objects, uint64_t *bytes)
{
    const mprof_mem_record *r = &b->rec.mem;
    uint64_t a = r->active.allocs - r->active.frees;
    uint64_t s = r->active.alloc_bytes - r->active.free_bytes;
    for (int k = 0; k < 3; k++) {
        a += r->future[k].allocs - r->future[k].frees;
        s += r->future[k].alloc_bytes - r->future[k].free_bytes;
    }
    *objects = a;
    *bytes = s;
}

static size_t count_heap_buckets(void)
{
    size_t n = 0;
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b))
        n++;
    return n;
}

/* Room in `spare` for `need` entries: 0, or -1 without memory. */
static int reserve(size_t need)
{
    if (spare.cap >= need)
        return 0;
    size_t cap = need + need / 4 + 64;
    void *m = mmap(NULL, cap * sizeof *spare.e, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    if (spare.e)
        munmap(spare.e, spare.cap * sizeof *spare.e);
    spare = (struct peak_buf){.e = m, .cap = cap};
    return 0;
}

/* The live buckets into spare, holding every stripe: a consistent cut.
 * 0, or -1 if spare was too small (buckets made since it was sized). */
static int copy_live(uint64_t *est)
{
    uint64_t sum = 0;
    int rc = 0;
    spare.n = 0;
    mprof_bucket_lock_stripes();
    for (mprof_bucket *b = mprof_bucket_list(MPROF_HEAP); b; b = mprof_bucket_next_of_type(b)) {
        uint64_t objects, bytes;
        live_of(b, &objects, &bytes);
        if (objects == 0)
            continue;
        if (spare.n == spare.cap) {
            rc = -1;
            break;
        }
        spare.e[spare.n++] = (struct peak_entry){b, objects, bytes};
        sum += objects * mprof_heap_weight(b->size); /* as counted into inuse */
    }
    mprof_bucket_unlock_stripes();
    *est = sum;
    return rc;
}

static void save_peak(void)
{
    mprof_lock_acquire(&peak_lock);
    uint64_t est = 0;
    /* Recheck: another thread may have saved a higher peak meanwhile. */
    if (__atomic_load_n(&inuse, __ATOMIC_RELAXED) >
        __atomic_load_n(&next_copy, __ATOMIC_RELAXED)) {
        int rc;
        do
            rc = reserve(count_heap_buckets() + 1) == 0 ? copy_live(&est) : -2;
        while (rc == -1);
        if (rc == 0) {
            struct peak_buf t = saved;
            saved = spare;
            spare = t;
            info.time_ns = mprof_clock_ns(CLOCK_REALTIME);
            info.inuse_est = est;
            info.copies++;
        }
        /* Without memory for a copy, the next step is measured from now
         * all the same: a failing mmap is not retried at every sample. */
        int64_t base = rc == 0 ? (int64_t)est : __atomic_load_n(&inuse, __ATOMIC_RELAXED);
        __atomic_store_n(&next_copy, base + (int64_t)((double)base * (double)growth / 100.0),
                         __ATOMIC_RELAXED);
    }
    mprof_lock_release(&peak_lock);
}

/* Growth dumps: the first thread past the mark moves it and asks. */
static int passed_mark(int64_t now)
{
    int64_t mark = __atomic_load_n(&inuse_mark, __ATOMIC_RELAXED);
    while (now >= mark + (int64_t)interval)
        if (__atomic_compare_exchange_n(&inuse_mark, &mark, now, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return 1;
    return 0;
}

int mprof_peak_alloc(uint64_t est)
{
    int64_t now = __atomic_add_fetch(&inuse, (int64_t)est, __ATOMIC_RELAXED);
    if (growth != MPROF_PEAK_OFF && now > __atomic_load_n(&next_copy, __ATOMIC_RELAXED))
        save_peak();
    return interval && passed_mark(now);
}

void mprof_peak_free(uint64_t est)
{
    __atomic_sub_fetch(&inuse, (int64_t)est, __ATOMIC_RELAXED);
}

void mprof_peak_snapshot(void (*prepare)(size_t n, void *ctx),
                         mprof_peak_visitor visit, void *ctx, mprof_peak_info *out)
{
    mprof_lock_acquire(&peak_lock);
    *out = info;
    int64_t now = __atomic_load_n(&inuse, __ATOMIC_RELAXED);
    out->inuse_now = now > 0 ? (uint64_t)now : 0;
    prepare(saved.n, ctx);
    for (size_t i = 0; i < saved.n; i++)
        visit(saved.e[i].b, saved.e[i].objects, saved.e[i].bytes, ctx);
    mprof_lock_release(&peak_lock);
}

/* The parent's copies stay mapped in the child, unread: its buckets are
 * abandoned too (bucket.h). Only what is not zero is written. */
void mprof_peak_reset(void)
{
    mprof_lock_reset(&peak_lock);
    if (saved.e || spare.e || info.copies) {
        saved = spare = (struct peak_buf){0};
        info = (mprof_peak_info){0};
    }
    if (inuse || next_copy || inuse_mark)
        inuse = next_copy = inuse_mark = 0;
}
