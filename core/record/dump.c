/*
 * dump.c: turning the published records into profile files (see dump.h).
 *
 * The snapshot is copied under heap.c's cycle lock into an mmap'd array of
 * mprof_sample whose stacks point into the buckets themselves (buckets are
 * never freed); symbolization, encoding and writing then run with no mprof
 * lock held, since they call elfutils, zlib and the loader.
 *
 * dump_lock serializes dumps (the mprof thread's and the exit dump) and
 * guards seq, pid and `finished`.  It is not taken across fork: a child
 * resets it, starting its own numbering.
 */
#include "dump.h"

#include "block.h"
#include "bucket.h"
#include "census.h"
#include "cfi.h"
#include "clock.h"
#include "delta.h"
#include "dumplibs.h"
#include "gzip.h"
#include "heap.h"
#include "lock.h"
#include "log.h"
#include "objname.h"
#include "forkgate.h"
#include "outname.h"
#include "peak.h"
#include "profile.h"
#include "proftext.h"
#include "publish.h"
#include "scratch.h"
#include "segments.h"
#include "symbolize.h"
#include "threadcreate.h"
#include "threadstacks.h"
#include "u64map.h"
#include "waitcall.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static MPROF_FORK_STATE mprof_lock dump_lock = MPROF_LOCK_INIT; /* one dump at a time; seq, finished */
MPROF_LOCK_RANK(dump_lock, MPROF_RANK_DUMP);
static const mprof_config *config;
static MPROF_FORK_STATE unsigned seq;
static MPROF_FORK_STATE int finished;
static MPROF_FORK_STATE pid_t pid;

void mprof_dump_init(const mprof_config *cfg, const char *start_dir)
{
    config = cfg;
    pid = getpid();
    mprof_segments_init(start_dir);
}

void mprof_dump_output_after_fork(void)
{
    mprof_dumplibs_after_fork();
    mprof_symbolizer_after_fork();
}

void mprof_dump_reset_after_fork(void)
{
    mprof_lock_reset(&dump_lock);
    seq = 0;
    finished = 0;
    pid = getpid();
}

/* Samples of one profile, in memory that is unmapped after the write. */
struct sample_array {
    mprof_sample *s;
    size_t n, cap, map_len;
    uint64_t rate;
    int raw; /* heap: the sampled counts, unscaled (debug=1 text) */
};

static void array_prepare(size_t n, void *ctx)
{
    struct sample_array *a = ctx;
    size_t m = n ? n : 1;
    a->map_len = m * sizeof *a->s;
    void *p = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a->s = p == MAP_FAILED ? NULL : p;
    a->cap = a->s ? n : 0;
}

/* The next sample of the array, with b's stack, or NULL if it is full
 * (buckets created after the count are left for the next dump). */
static mprof_sample *next_sample(struct sample_array *a, const mprof_bucket *b)
{
    if (a->n == a->cap)
        return NULL;
    mprof_sample *s = &a->s[a->n++];
    s->pcs = b->stk;
    s->npcs = b->nstk;
    return s;
}

static void heap_visit(const mprof_bucket *b, const mprof_mem_cycle *active, void *ctx)
{
    struct sample_array *a = ctx;
    mprof_sample *s = next_sample(a, b);
    if (!s)
        return;
    if (a->raw) {
        s->value[0] = (int64_t)active->allocs;
        s->value[1] = (int64_t)active->alloc_bytes;
        s->value[2] = (int64_t)(active->allocs - active->frees);
        s->value[3] = (int64_t)(active->alloc_bytes - active->free_bytes);
    } else {
        mprof_heap_values(active, b->size, a->rate, s->value);
    }
    s->bytes = (int64_t)b->size;
}

/* What went wrong in one dump: reported as one line, whatever the number
 * of files, so a full disk does not flood the program's stderr. */
struct dump_errors {
    int first_errno;
    char kinds[32];
    char first_path[MPROF_OUT_MAX + 64];
};

/* One dump: its number, its errors, and the symbolizer its profiles share,
 * opened in sc by the first profile written (a dump with every profile off
 * reads no module); NULL if it could not be: each profile tries its own. */
struct dump_run {
    unsigned n;
    struct dump_errors err;
    mprof_scratch sc;
    mprof_symbolizer *sym;
    int sym_tried;
};

static mprof_symbolizer *shared_symbolizer(struct dump_run *run)
{
    if (!run->sym_tried) {
        run->sym_tried = 1;
        run->sym = mprof_symbolizer_open(&run->sc, config->symbols);
    }
    return run->sym;
}

static int write_profile(struct dump_run *run, const char *kind,
                         mprof_profile_desc *d, struct sample_array *a,
                         uint64_t lost);

/* The sample types and period of each profile, as Go's runtime/pprof. */
static mprof_profile_desc heap_desc(void)
{
    return (mprof_profile_desc){
        .nvalues = 4,
        .sample_type = {{"alloc_objects", "count"}, {"alloc_space", "bytes"},
                        {"inuse_objects", "count"}, {"inuse_space", "bytes"}},
        .period_type = {"space", "bytes"},
        .period = (int64_t)config->mem_rate,
    };
}

static mprof_profile_desc contention_desc(mprof_btype type)
{
    mprof_profile_desc d = {
        .nvalues = 2,
        .sample_type = {{"contentions", "count"}, {"delay", "nanoseconds"},
                        {"hold", "nanoseconds"}},
        .period_type = {"contentions", "count"},
        .period = 1,
    };
    /* MPROF_MUTEX_HOLD: a third value, how long the unlockers held the
     * lock (block.h); Go's readers use the first two as they are. */
    if (type == MPROF_MUTEX && config->mutex_hold) {
        d.nvalues = 3;
        d.default_sample_type = "delay"; /* as without it: pprof's default is the last */
    }
    return d;
}

/* Each writer returns 1 if its file was written, 0 if not. */
static int write_heap(struct dump_run *run)
{
    struct sample_array a = {.rate = config->mem_rate};
    mprof_heap_snapshot(array_prepare, heap_visit, &a);
    if (!a.s) {
        mprof_log("out of memory for the heap profile of dump %u; skipped", run->n);
        return 0;
    }
    mprof_profile_desc d = heap_desc();
    return write_profile(run, mprof_outname_kinds[MPROF_KIND_HEAP], &d, &a,
                         mprof_heap_dropped());
}

static void peak_visit(const mprof_bucket *b, uint64_t objects, uint64_t bytes, void *ctx)
{
    struct sample_array *a = ctx;
    mprof_sample *s = next_sample(a, b);
    if (!s)
        return;
    if (a->raw) { /* debug=1: a heap text, whose allocations are the live ones */
        s->value[0] = s->value[2] = (int64_t)objects;
        s->value[1] = s->value[3] = (int64_t)bytes;
        s->bytes = (int64_t)b->size;
        return;
    }
    int64_t v[4];
    mprof_heap_values(&(mprof_mem_cycle){.allocs = objects, .alloc_bytes = bytes},
                      b->size, a->rate, v);
    s->value[0] = v[2];
    s->value[1] = v[3];
    s->bytes = (int64_t)b->size;
}

/* note: the comment's room, which d points to. */
static mprof_profile_desc peak_desc(const mprof_peak_info *info, char *note, size_t size)
{
    snprintf(note, size, "mprof: peak heap, %llu bytes in use (estimated), copy %llu",
             (unsigned long long)info->inuse_est, (unsigned long long)info->copies);
    return (mprof_profile_desc){
        .nvalues = 2,
        .sample_type = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}},
        .period_type = {"space", "bytes"},
        .period = (int64_t)config->mem_rate,
        .time_nanos = info->time_ns,
        .ncomments = info->copies ? 1 : 0,
        .comments = {note},
    };
}

/* The heap at its saved high-water mark (peak.h), as TCMalloc writes its
 * peak heap profile: in-use objects and bytes only, time_nanos the time
 * of the peak, and a comment with its estimated total. */
static int write_peak(struct dump_run *run)
{
    struct sample_array a = {.rate = config->mem_rate};
    mprof_peak_info info;
    mprof_peak_snapshot(array_prepare, peak_visit, &a, &info);
    if (!a.s) {
        mprof_log("out of memory for the peak profile of dump %u; skipped", run->n);
        return 0;
    }
    /* A peak within one growth step of the heap now says nothing that the
     * heap profile's in-use does not (a process that grew, then exits):
     * no file, as for a profile with nothing in it, unless
     * MPROF_WRITE_EMPTY.  A short-lived process, a fork child, pays one
     * file, not two. */
    if (!config->write_empty &&
        (double)info.inuse_est <= (double)info.inuse_now * (1.0 + (double)config->peak_growth / 100.0))
        a.n = 0;
    char note[96];
    mprof_profile_desc d = peak_desc(&info, note, sizeof note);
    return write_profile(run, mprof_outname_kinds[MPROF_KIND_PEAK], &d, &a, 0);
}

/* Fill in what every profile has, write it, report a failure, unmap. */
static void note_error(struct dump_errors *err, const char *kind,
                       const char *path, int e)
{
    if (!err->first_errno) {
        err->first_errno = e;
        snprintf(err->first_path, sizeof err->first_path, "%s", path);
    }
    size_t used = strlen(err->kinds);
    snprintf(err->kinds + used, sizeof err->kinds - used, "%s%s", used ? ", " : "", kind);
}

static int write_profile(struct dump_run *run, const char *kind,
                         mprof_profile_desc *d, struct sample_array *a,
                         uint64_t lost)
{
    /* A profile with nothing in it is not worth a file (short-lived
     * processes would leave three each); MPROF_WRITE_EMPTY=1 asks for it. */
    if (a->n == 0 && !lost && !config->write_empty) {
        munmap(a->s, a->map_len);
        return 0;
    }
    /* As Go writes heap, block and mutex profiles: the time of the dump and
     * no duration (pprof adds durations up when it merges or diffs).  The
     * peak profile brings its own: the time of the peak. */
    if (!d->time_nanos)
        d->time_nanos = mprof_clock_ns(CLOCK_REALTIME);
    d->sync = (int)config->sync;
    char note[112];
    if (lost) {
        snprintf(note, sizeof note,
                 "mprof: %llu %s samples dropped (profiler memory cap reached)",
                 (unsigned long long)lost, kind);
        d->comments[d->ncomments++] = note;
    }
    char path[MPROF_OUT_MAX + 64];
    int rc = mprof_outname_format(path, sizeof path, config->out, (long)pid, run->n, kind);
    if (rc >= 0)
        rc = mprof_profile_write_file_sym(path, d, a->s, a->n, shared_symbolizer(run));
    if (lost)
        d->comments[--d->ncomments] = NULL; /* `note` dies with this frame */
    if (rc < 0) /* path is "" if it had no room (MPROF_OUT_MAX leaves it) */
        note_error(&run->err, kind, path[0] ? path : config->out, -rc);
    munmap(a->s, a->map_len);
    return rc >= 0;
}

static void block_visit(const mprof_bucket *b, const mprof_block_record *r, void *ctx)
{
    mprof_sample *s = next_sample(ctx, b);
    if (!s)
        return;
    s->value[0] = (int64_t)(r->count + 0.5);
    s->value[1] = (int64_t)(r->delay_ns + 0.5);
    s->value[2] = (int64_t)(r->hold_ns + 0.5); /* written when MPROF_MUTEX_HOLD */
    s->bytes = 0;
}

/* A stack's object-less bucket once objects at that stack no longer get
 * buckets of their own (block.h, MPROF_BLOCK_OBJECTS): its waits were on
 * locks not named one by one. */
static int other(const mprof_bucket *b)
{
    return __atomic_load_n(&b->rec.blk.objects, __ATOMIC_RELAXED) > MPROF_BLOCK_OBJECTS;
}

/*
 * Each block or mutex sample labelled with the object it waited on, so
 * that `pprof -tagfocus` separates two locks taken at one site:
 *   lock       its name where it is a module's data ("cache_lock",
 *              "registry+64"), else its address (objname.h)
 *   lock_addr  its address, always ("0x55d0c4a1e040")
 * A sample of no object (a join) has no label; that of the waits on
 * objects past its site's bound (block.h, MPROF_BLOCK_OBJECTS) is
 * lock=other, without lock_addr.  Names and labels live in
 * the dump's scratch; a sample left without them when memory runs out is
 * still written.
 */
static void label_objects(mprof_scratch *sc, mprof_sample *s, size_t n)
{
    uint64_t *obj = n ? mprof_scratch_calloc(sc, n, sizeof *obj) : NULL;
    const char **names = obj ? mprof_scratch_calloc(sc, n, sizeof *names) : NULL;
    mprof_label *labels = names ? mprof_scratch_calloc(sc, 2 * n, sizeof *labels) : NULL;
    if (!labels)
        return;
    for (size_t i = 0; i < n; i++) /* a block bucket's size is its object */
        obj[i] = mprof_bucket_of_stack(s[i].pcs)->size;
    mprof_objnames(sc, obj, names, n, config->symbols);
    for (size_t i = 0; i < n; i++) {
        char hex[19];
        mprof_objname_hex(hex, obj[i]);
        const char *addr = mprof_scratch_strndup(sc, hex, strlen(hex));
        if (!obj[i] && other(mprof_bucket_of_stack(s[i].pcs))) {
            labels[2 * i] = (mprof_label){.key = "lock", .str = "other"};
            s[i].labels = &labels[2 * i];
            s[i].nlabels = 1;
            continue;
        }
        if (!obj[i] || !names[i] || !addr)
            continue;
        labels[2 * i] = (mprof_label){.key = "lock", .str = names[i]};
        labels[2 * i + 1] = (mprof_label){.key = "lock_addr", .str = addr};
        s[i].labels = &labels[2 * i];
        s[i].nlabels = 2;
    }
}

/* Block and mutex profiles as Go's runtime/pprof writes them. */
static int write_contention(struct dump_run *run, mprof_btype type,
                            const char *kind)
{
    struct sample_array a = {0};
    mprof_block_snapshot(type, array_prepare, block_visit, &a);
    if (!a.s) {
        mprof_log("out of memory for the %s profile of dump %u; skipped", kind, run->n);
        return 0;
    }
    label_objects(&run->sc, a.s, a.n);
    mprof_profile_desc d = contention_desc(type);
    return write_profile(run, kind, &d, &a, mprof_block_dropped_of(type));
}

static void threadcreate_visit(const mprof_bucket *b, const mprof_thread_record *r, void *ctx)
{
    mprof_sample *s = next_sample(ctx, b);
    if (!s)
        return;
    s->value[0] = (int64_t)r->created;
    s->value[1] = r->live > 0 ? r->live : 0;
    s->bytes = 0;
}

static mprof_profile_desc threadcreate_desc(void)
{
    return (mprof_profile_desc){
        .nvalues = 2,
        .sample_type = {{"threadcreate", "count"}, {"inuse_threads", "count"}},
        .period_type = {"threadcreate", "count"},
        .period = 1,
    };
}

/* The threadcreate profile (threadcreate.h): Go's sample type
 * threadcreate/count, exact, and how many of those threads are still
 * running, inuse_threads/count, as the heap profile's inuse_objects. */
static int write_threadcreate(struct dump_run *run)
{
    struct sample_array a = {0};
    mprof_threadcreate_snapshot(array_prepare, threadcreate_visit, &a);
    if (!a.s) {
        mprof_log("out of memory for the threadcreate profile of dump %u; skipped", run->n);
        return 0;
    }
    mprof_profile_desc d = threadcreate_desc();
    return write_profile(run, mprof_outname_kinds[MPROF_KIND_THREADCREATE], &d, &a,
                         mprof_block_dropped_of(MPROF_THREADCREATE));
}

/* ---- the threads profile ---- */

/* The threads of one dump, and the groups they fall in. */
struct thread_set {
    mprof_thread_stack *t;
    size_t n, map_len;
    size_t *order; /* indices of t, sorted so that a group is a run */
};

static int cmp_int(long x, long y) { return x < y ? -1 : x > y; }

/* Same stack, same wait, same name, same state: one sample; by tid
 * within it. */
static int thread_cmp(const mprof_thread_stack *a, const mprof_thread_stack *b)
{
    int c = cmp_int(a->npcs, b->npcs);
    if (!c)
        c = memcmp(a->pcs, b->pcs, (size_t)a->npcs * sizeof a->pcs[0]);
    if (!c)
        c = cmp_int(a->call, b->call);
    if (!c)
        c = a->obj < b->obj ? -1 : a->obj > b->obj;
    if (!c)
        c = cmp_int(a->owner, b->owner);
    if (!c)
        c = cmp_int(a->how, b->how);
    if (!c)
        c = cmp_int(a->state, b->state);
    if (!c)
        c = strcmp(a->name, b->name);
    return c ? c : cmp_int(a->tid, b->tid);
}

static const mprof_thread_stack *sort_base;
static int order_cmp(const void *x, const void *y)
{
    return thread_cmp(&sort_base[*(const size_t *)x], &sort_base[*(const size_t *)y]);
}

/* thread_cmp but for the tid: one group. */
static int same_group(const mprof_thread_stack *a, const mprof_thread_stack *b)
{
    mprof_thread_stack x = *a;
    x.tid = b->tid;
    return thread_cmp(&x, b) == 0;
}

static const char *state_name(const mprof_thread_stack *t)
{
    if (t->how == MPROF_THREAD_RUNNING)
        return "running";
    switch (t->state) {
    case 'S': return "sleeping";
    case 'D': return "uninterruptible";
    case 'T': return "stopped";
    case 't': return "traced";
    case 'Z': return "zombie";
    case 'R': return "running";
    default: return "unknown";
    }
}

static const char *decimal(mprof_scratch *sc, long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%ld", v);
    return mprof_scratch_strndup(sc, buf, strlen(buf));
}

/*
 * One sample per group of threads with the same stack, name, state and
 * wait, its value the number of threads (Go's goroutine profile: count
 * per stack), labelled:
 *   thread     the threads' name         state  sleeping, running, ...
 *   tid        each thread's tid (one value per thread)
 *   wait       the wrapped call they are blocked in (also the leaf frame)
 *   lock, lock_addr   its object, as in the block profile
 *   owner      for a mutex (or write-locked rwlock), the holder's tid
 * tid only when `tids`: a delta's counts and Go's debug=1 text, keyed by
 * stack and labels, have no threads of their own.
 */
static void thread_labels(mprof_scratch *sc, const struct thread_set *ts, size_t first,
                          size_t count, const char *lock_name, int tids, mprof_sample *s)
{
    const mprof_thread_stack *t = &ts->t[ts->order[first]];
    mprof_label *l = mprof_scratch_calloc(sc, 6 + count, sizeof *l);
    if (!l)
        return;
    uint32_t n = 0;
    l[n++] = (mprof_label){.key = "thread", .str = t->name};
    l[n++] = (mprof_label){.key = "state", .str = state_name(t)};
    if (t->call != MPROF_WAIT_NONE) {
        l[n++] = (mprof_label){.key = "wait", .str = mprof_waitcall_name(t->call)};
        if (t->obj && lock_name) {
            char hex[19];
            mprof_objname_hex(hex, t->obj);
            l[n++] = (mprof_label){.key = "lock", .str = lock_name};
            l[n++] = (mprof_label){.key = "lock_addr", .str = mprof_scratch_strndup(sc, hex, strlen(hex))};
        }
        if (t->owner)
            l[n++] = (mprof_label){.key = "owner", .str = decimal(sc, t->owner)};
    }
    for (size_t k = 0; tids && k < count; k++)
        l[n++] = (mprof_label){.key = "tid", .str = decimal(sc, ts->t[ts->order[first + k]].tid)};
    for (uint32_t k = 0; k < n; k++)
        if (!l[k].str)
            return; /* out of memory: the sample goes without labels */
    s->labels = l;
    s->nlabels = n;
}

/* A thread running user code has no stack: one frame, [running]. */
static void running_frame(mprof_thread_stack *t)
{
    if (!t->npcs)
        t->pcs[t->npcs++] = mprof_waitcall_pc(MPROF_WAIT_RUNNING);
}

static void thread_sample(struct dump_run *run, struct thread_set *ts, size_t first,
                          size_t count, const char *lock_name, mprof_sample *s)
{
    mprof_thread_stack *t = &ts->t[ts->order[first]];
    running_frame(t);
    s->pcs = t->pcs;
    s->npcs = (uint32_t)t->npcs;
    s->value[0] = (int64_t)count;
    thread_labels(&run->sc, ts, first, count, lock_name, 1, s);
}

static int capture_threads(struct thread_set *ts)
{
    size_t max = mprof_threadstacks_count() + 256; /* and those started meanwhile */
    ts->map_len = max * (sizeof *ts->t + sizeof *ts->order) + MPROF_THREADSTACK_COPY;
    void *m = mmap(NULL, ts->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    ts->t = m;
    ts->order = (size_t *)(ts->t + max);
    unsigned char *copy = (unsigned char *)(ts->order + max);
    mprof_unwinder *u = mprof_unwinder_begin(); /* one libdwfl session for all */
    ts->n = mprof_threadstacks_capture(ts->t, max, config->stack_depth, copy,
                                       mprof_cfi_unwind, u);
    mprof_unwinder_end(u);
    for (size_t i = 0; i < ts->n; i++)
        ts->order[i] = i;
    sort_base = ts->t; /* dumps are serialized by dump_lock */
    qsort(ts->order, ts->n, sizeof *ts->order, order_cmp);
    return 0;
}

static mprof_profile_desc threads_desc(void)
{
    return (mprof_profile_desc){
        .nvalues = 1,
        .sample_type = {{"threads", "count"}},
        .period_type = {"threads", "count"},
        .period = 1,
    };
}

/* The threads profile: every thread's stack now (threadstacks.h). */
static int write_threads(struct dump_run *run)
{
    struct thread_set ts = {0};
    if (capture_threads(&ts) < 0) {
        mprof_log("out of memory for the threads profile of dump %u; skipped", run->n);
        return 0;
    }
    struct sample_array a = {.n = 0};
    array_prepare(ts.n, &a);
    uint64_t *objs = a.s ? mprof_scratch_calloc(&run->sc, ts.n + 1, sizeof *objs) : NULL;
    const char **names = objs ? mprof_scratch_calloc(&run->sc, ts.n + 1, sizeof *names) : NULL;
    if (!names) {
        if (a.s)
            munmap(a.s, a.map_len);
        munmap(ts.t, ts.map_len);
        mprof_log("out of memory for the threads profile of dump %u; skipped", run->n);
        return 0;
    }
    size_t ngroups = 0;
    for (size_t i = 0, j; i < ts.n; i = j) {
        for (j = i + 1; j < ts.n && same_group(&ts.t[ts.order[i]], &ts.t[ts.order[j]]);)
            j++;
        objs[ngroups++] = ts.t[ts.order[i]].obj;
    }
    mprof_objnames(&run->sc, objs, names, ngroups, config->symbols);
    for (size_t i = 0, j, g = 0; i < ts.n; i = j, g++) {
        for (j = i + 1; j < ts.n && same_group(&ts.t[ts.order[i]], &ts.t[ts.order[j]]);)
            j++;
        thread_sample(run, &ts, i, j - i, names[g], &a.s[a.n++]);
    }
    mprof_profile_desc d = threads_desc();
    int rc = write_profile(run, mprof_outname_kinds[MPROF_KIND_THREADS], &d, &a, 0);
    munmap(ts.t, ts.map_len);
    return rc;
}

/* MPROF_THREADS: 0 never, 1 at dumps asked for, 2 at interval dumps too;
 * never at exit. */
static int threads_wanted(int why)
{
    return why != MPROF_DUMP_FINAL &&
           (config->threads == 2 || (config->threads == 1 && why == MPROF_DUMP_ASKED));
}

/* A fork child's final dump (at exit, or its last words): counted in,
 * with the modules it named functions in, for its parent's readying
 * (census.h). */
static void tell_parent(mprof_symbolizer *sym)
{
    if (!mprof_census_has_parent())
        return;
    mprof_census_child_dumped();
    for (size_t i = 0, n = sym ? mprof_symbolizer_nmappings(sym) : 0; i < n; i++) {
        const mprof_sym_mapping *m = mprof_symbolizer_mapping(sym, i);
        if (m->has_names)
            mprof_census_note_module(m->start);
    }
}

unsigned mprof_dump(int why)
{
    int final = why == MPROF_DUMP_FINAL;
    mprof_lock_acquire(&dump_lock);
    unsigned n = 0;
    if (!finished) {
        n = ++seq;
        finished = final;
        char reason[256];
        if (!mprof_libz()) { /* every profile is gzipped */
            mprof_log("dump %u: cannot write profiles (%s)", n,
                      mprof_dumplibs_error(reason, sizeof reason));
            if (!final)
                mprof_publish_dump(n, 0);
            mprof_lock_release(&dump_lock);
            return n;
        }
        if (!final) /* the exit dump, at least, will symbolize again */
            mprof_symbolizer_keep();
        struct dump_run run = {.n = n};
        mprof_scratch_init(&run.sc);
        unsigned written = 0; /* what `mprof dump` will list */
        if (config->mem_rate && write_heap(&run))
            written |= MPROF_PUBLISH_HEAP;
        if (config->block_rate && write_contention(&run, MPROF_BLOCK,
                                                  mprof_outname_kinds[MPROF_KIND_BLOCK]))
            written |= MPROF_PUBLISH_BLOCK;
        if (config->mutex_fraction && write_contention(&run, MPROF_MUTEX,
                                                      mprof_outname_kinds[MPROF_KIND_MUTEX]))
            written |= MPROF_PUBLISH_MUTEX;
        if (config->threadcreate && write_threadcreate(&run))
            written |= MPROF_PUBLISH_THREADCREATE;
        if (threads_wanted(why) && write_threads(&run))
            written |= MPROF_PUBLISH_THREADS;
        if (config->mem_rate && config->peak_growth != MPROF_PEAK_OFF && write_peak(&run))
            written |= MPROF_PUBLISH_PEAK;
        if (final)
            tell_parent(run.sym);
        mprof_symbolizer_close(run.sym);
        mprof_scratch_release(&run.sc);
        struct dump_errors *err = &run.err;
        if (err->first_errno)
            mprof_log("dump %u: cannot write the %s profile%s (%s: %s)", n, err->kinds,
                      strchr(err->kinds, ',') ? "s" : "", err->first_path,
                      strerror(err->first_errno));
        /* Not the exit dump's: the process is gone before anyone could
         * act on it, and a publication costs a memfd and a dozen system
         * calls (35 us), a good part of what a short child pays. */
        if (!final)
            mprof_publish_dump(n, written);
    }
    mprof_lock_release(&dump_lock);
    return n;
}

/* The code addresses of every stack recorded so far, then the starts of
 * the code segments the fork children named functions in (census.h), in
 * a mapping of *len bytes; NULL if there are none (or no memory for
 * them). Buckets are never freed, and their lists are read without a
 * lock (bucket.h). */
static uint64_t *readying_pcs(size_t *n, size_t *len)
{
    size_t count = MPROF_CENSUS_MODULES;
    for (int t = 0; t < MPROF_NTYPES; t++)
        for (mprof_bucket *b = mprof_bucket_list(t); b; b = mprof_bucket_next_of_type(b))
            count += (size_t)b->nstk;
    *n = 0;
    *len = count * sizeof(uint64_t);
    uint64_t *pcs = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pcs == MAP_FAILED)
        return NULL;
    for (int t = 0; t < MPROF_NTYPES; t++)
        for (mprof_bucket *b = mprof_bucket_list(t); b; b = mprof_bucket_next_of_type(b))
            for (uint32_t i = 0; i < b->nstk && *n < count - MPROF_CENSUS_MODULES; i++)
                pcs[(*n)++] = b->stk[i];
    *n += mprof_census_modules(pcs + *n, MPROF_CENSUS_MODULES);
    if (*n == 0) {
        munmap(pcs, *len);
        return NULL;
    }
    return pcs;
}

void mprof_dump_ready_children(void)
{
    if (config->symbols != MPROF_SYMBOLS_NAMES)
        return; /* full: libdwfl's own tables; none: nothing to read */
    mprof_lock_acquire(&dump_lock);
    /* Loaded here, the libraries are loaded in every child forked after. */
    if (!finished && mprof_libz() && mprof_libelf()) {
        mprof_symbolizer_keep();
        size_t n, len;
        uint64_t *pcs = readying_pcs(&n, &len);
        mprof_scratch sc;
        mprof_scratch_init(&sc);
        /* zlib's calls bound now (a program linked with zlib itself
         * loaded it with lazy binding, which each child would redo) */
        void *gz;
        mprof_gzip(&sc, "mprof", 5, &gz, &(size_t){0});
        mprof_symbolizer *sym = pcs ? mprof_symbolizer_open(&sc, MPROF_SYMBOLS_NAMES) : NULL;
        if (sym) {
            /* A fork waits until the indexes are built: its child then
             * has them whole, and libelf's memory as it was. */
            mprof_forkgate_hold();
            mprof_symbolizer_prepare(sym, pcs, n);
            mprof_forkgate_release();
        }
        mprof_symbolizer_close(sym);
        mprof_scratch_release(&sc);
        if (pcs)
            munmap(pcs, len);
    }
    mprof_lock_release(&dump_lock);
}

static int any_bucket(void)
{
    for (int t = 0; t < MPROF_NTYPES; t++)
        if (mprof_bucket_list((mprof_btype)t))
            return 1;
    return 0;
}

/* The segments as they are now, strings included, in one mapping. */
void mprof_dump_unload_begin(mprof_unload *u)
{
    *u = (mprof_unload){0};
    if (!any_bucket())
        return; /* nothing recorded: no stack to keep named */
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_segment *seg;
    size_t n = mprof_segments(&sc, &seg), len = n * sizeof *seg;
    for (size_t i = 0; i < n; i++)
        len += strlen(seg[i].path) + strlen(seg[i].build_id) + 2;
    void *m = n ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                : MAP_FAILED;
    if (m != MAP_FAILED) {
        mprof_segment *copy = m;
        char *str = (char *)(copy + n);
        for (size_t i = 0; i < n; i++) {
            size_t lp = strlen(seg[i].path) + 1, lb = strlen(seg[i].build_id) + 1;
            copy[i] = seg[i];
            copy[i].path = memcpy(str, seg[i].path, lp);
            copy[i].build_id = memcpy(str + lp, seg[i].build_id, lb);
            str += lp + lb;
        }
        *u = (mprof_unload){.map = m, .len = len, .n = n};
    }
    mprof_scratch_release(&sc);
}

static int still_loaded(const mprof_segment *s, const mprof_segment *now, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (now[i].start == s->start && now[i].bias == s->bias && strcmp(now[i].path, s->path) == 0)
            return 1;
    return 0;
}

/* dl_iterate_phdr's callback, once: the renaming, with the loader's list
 * locked. */
static int rename_unloaded(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info, (void)size;
    const mprof_unload *u = arg;
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_segment *now;
    size_t n = mprof_segments(&sc, &now);
    const mprof_segment *before = u->map;
    for (size_t i = 0; now && i < u->n; i++) {
        if (before[i].start >= MPROF_RETIRED_BASE || still_loaded(&before[i], now, n))
            continue;
        uint64_t bias = mprof_segments_retire(&before[i]);
        if (bias)
            mprof_bucket_rename(before[i].start, before[i].limit,
                                before[i].start - before[i].bias + bias);
    }
    mprof_scratch_release(&sc);
    return 1;
}

/* Under dump_lock, so that no dump reads a stack half renamed; inside a
 * walk of the loader's list (its lock is recursive: mprof_segments walks
 * it again), so that no dlopen maps new code at the old addresses while
 * recorded stacks still hold them, for a new sample to match. */
void mprof_dump_unload_end(mprof_unload *u)
{
    if (!u->map)
        return;
    mprof_lock_acquire(&dump_lock);
    dl_iterate_phdr(rename_unloaded, u);
    mprof_lock_release(&dump_lock);
    munmap(u->map, u->len);
    u->map = NULL;
}

/* ---- the /debug/pprof server's way in (dump.h) ---- */

struct mprof_dump_snap {
    enum mprof_dump_kind kind;
    struct sample_array a;
    int64_t time_nanos;
    uint64_t lost;
    mprof_peak_info peak;  /* PEAK: when and how much */
    struct thread_set ts;  /* THREADS: the threads, which a.s's stacks point into */
    size_t *first;         /* THREADS: sample i's group starts at ts.order[first[i]] */
    size_t first_len;
};

static const mprof_btype snap_btype[] = {[MPROF_DUMP_BLOCK] = MPROF_BLOCK,
                                         [MPROF_DUMP_MUTEX] = MPROF_MUTEX};

int mprof_dump_kind_on(enum mprof_dump_kind kind)
{
    switch (kind) {
    case MPROF_DUMP_HEAP: return config->mem_rate != 0;
    case MPROF_DUMP_BLOCK: return config->block_rate != 0;
    case MPROF_DUMP_MUTEX: return config->mutex_fraction != 0;
    case MPROF_DUMP_THREADCREATE: return config->threadcreate != 0;
    case MPROF_DUMP_THREADS: return config->threads != 0;
    case MPROF_DUMP_PEAK: return config->mem_rate != 0 && config->peak_growth != MPROF_PEAK_OFF;
    case MPROF_DUMP_NKINDS: break;
    }
    return 0;
}

/* With dump_lock held (capture_threads sorts through a static): every
 * thread now, one sample per group as write_threads makes them, labels
 * left for the render. */
static void take_threads(mprof_dump_snap *sn)
{
    struct thread_set *ts = &sn->ts;
    if (capture_threads(ts) < 0)
        return;
    sn->first_len = (ts->n + 1) * sizeof *sn->first;
    void *m = mmap(NULL, sn->first_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    array_prepare(ts->n, &sn->a);
    if (m == MAP_FAILED || !sn->a.s) {
        if (m != MAP_FAILED)
            munmap(m, sn->first_len);
        if (sn->a.s)
            munmap(sn->a.s, sn->a.map_len);
        munmap(ts->t, ts->map_len);
        sn->a.s = NULL;
        return;
    }
    sn->first = m;
    for (size_t i = 0; i < ts->n; i++) /* equal stacks stay equal: groups as sorted */
        running_frame(&ts->t[i]);
    for (size_t i = 0, j; i < ts->n; i = j) {
        for (j = i + 1; j < ts->n && same_group(&ts->t[ts->order[i]], &ts->t[ts->order[j]]);)
            j++;
        const mprof_thread_stack *t = &ts->t[ts->order[i]];
        sn->first[sn->a.n] = i;
        sn->a.s[sn->a.n++] = (mprof_sample){.pcs = t->pcs, .npcs = (uint32_t)t->npcs,
                                            .value = {(int64_t)(j - i)}};
    }
}

/* With dump_lock held: the records of `kind` as of now (a heap snapshot
 * ends the epoch and publishes everything, heap.h). */
static void take_locked(mprof_dump_snap *sn)
{
    sn->time_nanos = mprof_clock_ns(CLOCK_REALTIME);
    sn->a.rate = config->mem_rate;
    switch (sn->kind) {
    case MPROF_DUMP_HEAP:
        mprof_heap_snapshot(array_prepare, heap_visit, &sn->a);
        sn->lost = mprof_heap_dropped();
        break;
    case MPROF_DUMP_BLOCK:
    case MPROF_DUMP_MUTEX:
        mprof_block_snapshot(snap_btype[sn->kind], array_prepare, block_visit, &sn->a);
        sn->lost = mprof_block_dropped_of(snap_btype[sn->kind]);
        break;
    case MPROF_DUMP_THREADCREATE:
        mprof_threadcreate_snapshot(array_prepare, threadcreate_visit, &sn->a);
        sn->lost = mprof_block_dropped_of(MPROF_THREADCREATE);
        break;
    case MPROF_DUMP_THREADS:
        take_threads(sn);
        break;
    case MPROF_DUMP_PEAK:
        mprof_peak_snapshot(array_prepare, peak_visit, &sn->a, &sn->peak);
        break;
    case MPROF_DUMP_NKINDS:
        break;
    }
}

mprof_dump_snap *mprof_dump_snap_take(enum mprof_dump_kind kind, int raw)
{
    mprof_dump_snap *sn = mmap(NULL, sizeof *sn, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sn == MAP_FAILED)
        return NULL;
    *sn = (mprof_dump_snap){.kind = kind, .a = {.raw = raw}};
    mprof_lock_acquire(&dump_lock);
    if (!finished)
        take_locked(sn);
    mprof_lock_release(&dump_lock);
    if (!sn->a.s) { /* after the exit dump, or out of memory */
        munmap(sn, sizeof *sn);
        return NULL;
    }
    return sn;
}

void mprof_dump_snap_free(mprof_dump_snap *sn)
{
    if (!sn)
        return;
    munmap(sn->a.s, sn->a.map_len);
    if (sn->first) {
        munmap(sn->first, sn->first_len);
        munmap(sn->ts.t, sn->ts.map_len);
    }
    munmap(sn, sizeof *sn);
}

/* The body, copied out of the scratch into a mapping of its own that
 * outlives the scratch (the server sends it without dump_lock). */
static int body_copy(const void *p, size_t len, mprof_dump_body *out)
{
    size_t map_len = len ? len : 1;
    void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -ENOMEM;
    memcpy(m, p, len);
    *out = (mprof_dump_body){.data = m, .len = len, .map_len = map_len};
    return 0;
}

void mprof_dump_body_free(mprof_dump_body *b)
{
    if (b->data)
        munmap(b->data, b->map_len);
    *b = (mprof_dump_body){0};
}

/* The representative thread of sample g of a THREADS snapshot. */
static const mprof_thread_stack *group_rep(const mprof_dump_snap *sn, size_t g)
{
    return &sn->ts.t[sn->ts.order[sn->first[g]]];
}

/* THREADS: the lock names of the groups (or, each, of the threads). */
static const char **lock_names(mprof_scratch *sc, const mprof_dump_snap *sn, int each)
{
    size_t n = each ? sn->ts.n : sn->a.n;
    uint64_t *objs = mprof_scratch_calloc(sc, n + 1, sizeof *objs);
    const char **names = objs ? mprof_scratch_calloc(sc, n + 1, sizeof *names) : NULL;
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++)
        objs[i] = each ? sn->ts.t[sn->ts.order[i]].obj : group_rep(sn, i)->obj;
    mprof_objnames(sc, objs, names, n, config->symbols);
    return names;
}

/* THREADS: the snapshot's samples copied into sc and labelled as
 * write_threads labels them, with each thread's tid when `tids`. */
static int threads_labelled(mprof_scratch *sc, const mprof_dump_snap *sn, int tids,
                            mprof_sample **out)
{
    mprof_sample *c = mprof_scratch_calloc(sc, sn->a.n + 1, sizeof *c);
    const char **names = c ? lock_names(sc, sn, 0) : NULL;
    if (!names)
        return -ENOMEM;
    for (size_t g = 0; g < sn->a.n; g++) {
        c[g] = sn->a.s[g];
        thread_labels(sc, &sn->ts, sn->first[g], (size_t)c[g].value[0], names[g], tids, &c[g]);
    }
    *out = c;
    return 0;
}

/* What makes a group (thread_cmp but the tid), hashed. */
static uint64_t group_hash(const mprof_thread_stack *t)
{
    uint64_t h = mprof_mix64((uint64_t)t->npcs);
    for (int i = 0; i < t->npcs; i++)
        h = mprof_mix64(h ^ t->pcs[i]);
    h = mprof_mix64(h ^ ((uint64_t)(unsigned)t->call << 32 | (unsigned)t->owner));
    h = mprof_mix64(h ^ t->obj ^ ((uint64_t)(unsigned char)t->state << 8) ^ (uint64_t)t->how);
    for (const char *c = t->name; *c; c++)
        h = mprof_mix64(h ^ (unsigned char)*c);
    return h;
}

/* Go's delta merges samples of equal stacks and labels: each of before's
 * groups that is one of now's (same stack, name, state, wait) takes now's
 * stack pointer in b, which is what mprof_delta matches by. */
static int threads_match(mprof_scratch *sc, const mprof_dump_snap *now,
                         const mprof_dump_snap *before, mprof_sample *b)
{
    struct u64map map = {0};
    size_t cap = 16;
    while (cap < 2 * now->a.n)
        cap *= 2;
    if (mprof_u64map_resize(sc, &map, cap) < 0)
        return -ENOMEM;
    for (size_t g = 0; g < now->a.n; g++)
        if (mprof_u64map_put(sc, &map, group_hash(group_rep(now, g)), g) < 0)
            return -ENOMEM;
    for (size_t j = 0, g; j < before->a.n; j++) /* a hash collision: two samples, same sum */
        if (mprof_u64map_get(&map, group_hash(group_rep(before, j)), &g) &&
            same_group(group_rep(now, g), group_rep(before, j)))
            b[j].pcs = now->a.s[g].pcs;
    return 0;
}

/* THREADS samples, labelled, or their difference (no tids: a count's
 * change has no threads of its own). */
static int threads_samples(mprof_scratch *sc, const mprof_dump_snap *now,
                           const mprof_dump_snap *before, enum mprof_dump_diff diff,
                           int text, const mprof_sample **s, size_t *n)
{
    mprof_sample *c = NULL, *bc = NULL, *d;
    int rc = threads_labelled(sc, now, diff == MPROF_DUMP_WHOLE && !text, &c);
    if (rc == 0 && before)
        rc = threads_labelled(sc, before, 0, &bc);
    if (rc == 0 && before)
        rc = threads_match(sc, now, before, bc);
    *s = c;
    *n = now->a.n;
    if (rc || diff == MPROF_DUMP_WHOLE)
        return rc;
    rc = mprof_delta(sc, MPROF_DELTA_GO, 1, ~0u, c, now->a.n, bc, before ? before->a.n : 0, &d, n);
    *s = d;
    return rc;
}

/* now's samples, or their difference from before's, into *s, *n (sc). */
static int render_samples(mprof_scratch *sc, const mprof_dump_snap *now,
                          const mprof_dump_snap *before, enum mprof_dump_diff diff,
                          int nvalues, int text, const mprof_sample **s, size_t *n)
{
    if (now->kind == MPROF_DUMP_THREADS)
        return threads_samples(sc, now, before, diff, text, s, n);
    *s = now->a.s;
    *n = now->a.n;
    if (diff == MPROF_DUMP_WHOLE)
        return 0;
    /* godeltaprof's heap: allocations as differences, in-use as it is */
    unsigned cumulative = now->kind == MPROF_DUMP_HEAP && diff == MPROF_DUMP_GODELTAPROF ? 3u : ~0u;
    mprof_sample *d;
    int rc = mprof_delta(sc, diff == MPROF_DUMP_GO_DELTA ? MPROF_DELTA_GO : MPROF_DELTA_GODELTAPROF,
                         nvalues, cumulative, now->a.s, now->a.n,
                         before ? before->a.s : NULL, before ? before->a.n : 0, &d, n);
    *s = d;
    return rc;
}

/* Block and mutex samples, copied into sc and labelled with their
 * objects, as the files have them. */
static int labelled_copy(mprof_scratch *sc, const mprof_sample **s, size_t n)
{
    mprof_sample *c = mprof_scratch_calloc(sc, n ? n : 1, sizeof *c);
    if (!c)
        return -ENOMEM;
    memcpy(c, *s, n * sizeof *c);
    label_objects(sc, c, n);
    *s = c;
    return 0;
}

/* goroutine?debug=2's head of one thread, as Go's "goroutine 18 [chan
 * receive]:", its wait said as `mprof stacks` says it (proftext.h):
 * thread 4246 "parker" [sleeping] in pthread_cond_wait on cv (0x...): */
static const char *thread_head(mprof_scratch *sc, const mprof_thread_stack *t, const char *lock)
{
    char hex[19] = "", wait[192], h[256];
    if (t->obj)
        mprof_objname_hex(hex, t->obj);
    mprof_text_wait(wait, sizeof wait,
                    t->call != MPROF_WAIT_NONE ? mprof_waitcall_name(t->call) : "",
                    t->obj && lock ? lock : "", hex, t->owner);
    snprintf(h, sizeof h, "thread %d \"%s\" [%s]%s:", t->tid, t->name, state_name(t), wait);
    return mprof_scratch_strndup(sc, h, strlen(h));
}

/* goroutine?debug=2: every thread on its own, in the groups' order. */
static int threads_each(mprof_scratch *sc, const mprof_dump_snap *sn, const mprof_profile_desc *d,
                        mprof_symbolizer *sym, void **p, size_t *len)
{
    size_t n = sn->ts.n;
    mprof_sample *s = mprof_scratch_calloc(sc, n + 1, sizeof *s);
    const char **heads = s ? mprof_scratch_calloc(sc, n + 1, sizeof *heads) : NULL;
    const char **names = heads ? lock_names(sc, sn, 1) : NULL;
    if (!names)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const mprof_thread_stack *t = &sn->ts.t[sn->ts.order[i]];
        s[i] = (mprof_sample){.pcs = t->pcs, .npcs = (uint32_t)t->npcs, .value = {1}};
        heads[i] = thread_head(sc, t, names[i]);
    }
    return mprof_profile_text_each(sc, d, s, n, heads, sym, (char **)p, len);
}

/* The sample types, period and comment of now's kind, as its file has
 * them (note: the comment's room). */
static mprof_profile_desc snap_desc(const mprof_dump_snap *now, int text, char *note, size_t size)
{
    switch (now->kind) {
    case MPROF_DUMP_HEAP: return heap_desc();
    case MPROF_DUMP_THREADCREATE: return threadcreate_desc();
    case MPROF_DUMP_THREADS: return threads_desc();
    case MPROF_DUMP_PEAK: /* its text is a heap profile's: raw in-use as allocations too */
        return text ? heap_desc() : peak_desc(&now->peak, note, size);
    default: return contention_desc(snap_btype[now->kind]);
    }
}

/* Go's text of the samples (debug=N). */
static int render_text(mprof_scratch *sc, const mprof_dump_snap *now, int text,
                       const mprof_profile_desc *d, const mprof_sample *s, size_t n,
                       mprof_symbolizer *sym, void **p, size_t *len)
{
    static const enum mprof_text_kind text_kind[] = {
        [MPROF_DUMP_HEAP] = MPROF_TEXT_HEAP, [MPROF_DUMP_BLOCK] = MPROF_TEXT_BLOCK,
        [MPROF_DUMP_MUTEX] = MPROF_TEXT_MUTEX, [MPROF_DUMP_PEAK] = MPROF_TEXT_HEAP};
    if (now->kind == MPROF_DUMP_THREADS && text >= 2)
        return threads_each(sc, now, d, sym, p, len);
    if (now->kind == MPROF_DUMP_THREADS || now->kind == MPROF_DUMP_THREADCREATE)
        return mprof_profile_text_count(sc, now->kind == MPROF_DUMP_THREADS ? "goroutine"
                                        : "threadcreate", d, s, n, sym, (char **)p, len);
    return mprof_profile_text(sc, text_kind[now->kind], d, s, n, sym, (char **)p, len);
}

/* With dump_lock held: encode into sc. */
static int render_locked(mprof_scratch *sc, const mprof_dump_snap *now,
                         const mprof_dump_snap *before, enum mprof_dump_diff diff,
                         int text, const char *default_type, void **p, size_t *len)
{
    if (!mprof_libz())
        return -ENOSYS;
    char peak_note[96];
    mprof_profile_desc d = snap_desc(now, text, peak_note, sizeof peak_note);
    if (!d.time_nanos) /* the peak's is the peak's own, if there is one */
        d.time_nanos = now->time_nanos;
    d.default_sample_type = default_type;
    if (diff == MPROF_DUMP_GO_DELTA && before)
        d.duration_nanos = now->time_nanos - before->time_nanos;
    char note[112];
    if (now->lost && d.ncomments < MPROF_MAX_COMMENTS) {
        snprintf(note, sizeof note, "mprof: %llu samples dropped (profiler memory cap reached)",
                 (unsigned long long)now->lost);
        d.comments[d.ncomments++] = note;
    }
    const mprof_sample *s;
    size_t n;
    int rc = render_samples(sc, now, before, diff, d.nvalues, text, &s, &n);
    if (rc == 0 && (now->kind == MPROF_DUMP_BLOCK || now->kind == MPROF_DUMP_MUTEX))
        rc = labelled_copy(sc, &s, n);
    mprof_symbolizer *sym = rc == 0 ? mprof_symbolizer_open(sc, config->symbols) : NULL;
    if (rc == 0 && text)
        rc = render_text(sc, now, text, &d, s, n, sym, p, len);
    else if (rc == 0)
        rc = mprof_profile_gzip(sc, &d, s, n, sym, p, len);
    mprof_symbolizer_close(sym);
    return rc;
}

int mprof_dump_render(const mprof_dump_snap *now, const mprof_dump_snap *before,
                      enum mprof_dump_diff diff, int text, const char *default_type,
                      mprof_dump_body *out)
{
    *out = (mprof_dump_body){0};
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *p = NULL;
    size_t len = 0;
    mprof_lock_acquire(&dump_lock);
    mprof_symbolizer_keep(); /* a server symbolizes again and again */
    int rc = finished ? -ESHUTDOWN : render_locked(&sc, now, before, diff, text, default_type, &p, &len);
    mprof_lock_release(&dump_lock);
    if (rc == 0)
        rc = body_copy(p, len, out);
    mprof_scratch_release(&sc);
    return rc;
}
