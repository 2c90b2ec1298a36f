/*
 * test_locks.c: the block and mutex profiles against programs whose truth
 * they measure themselves (contention.c), and the pthread wrappers'
 * behaviour against the same program run without mprof (behaviour.c).
 */
#include "harness.h"
#include "prof.h"

#include <check.h>
#include "run_suite.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *locks_prog(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/test/locks/%s", IT_BUILD_DIR, name);
    return path;
}

/* <dir>/mprof.<pid>.<seq>.<kind>.pb.gz, loaded; fails the test if absent. */
static void load_profile(prof *p, const char *dir, const run *r, int seq, const char *kind)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/mprof.%d.%d.%s.pb.gz", dir, (int)r->pid, seq, kind);
    ck_assert_msg(prof_load(path, p, err, sizeof err) == 0, "%s: %s", path, err);
    ck_assert_int_eq(p->ntypes, 2);
    ck_assert_str_eq(p->type[0], "contentions");
    ck_assert_str_eq(p->unit[0], "count");
    ck_assert_str_eq(p->type[1], "delay");
    ck_assert_str_eq(p->unit[1], "nanoseconds");
    ck_assert_str_eq(p->period_type, "contentions");
}

/* Sum of delay over samples whose first frame of the program's (below
 * the wrapped call's synthetic leaf) is `fn`. */
static long long leaf_delay(const prof *p, const char *fn, long long *count)
{
    long long d = 0, c = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_frame *leaf = prof_sample_site(&p->samples[i]);
        if (leaf && strcmp(leaf->func, fn) == 0) {
            c += p->samples[i].v[0];
            d += p->samples[i].v[1];
        }
    }
    if (count)
        *count = c;
    return d;
}

/* "<what> <fn> <ns> <n>" printed by contention.c */
static long long truth_line(const char *out, const char *what, const char *fn, long long *n)
{
    char key[128];
    snprintf(key, sizeof key, "%s %s ", what, fn);
    const char *at = strstr(out, key);
    ck_assert_msg(at != NULL, "no '%s' line for %s in:\n%s", what, fn, out);
    long long ns = 0, cnt = 0;
    sscanf(at + strlen(key), "%lld %lld", &ns, &cnt);
    if (n)
        *n = cnt;
    return ns;
}

/* What `fn` timed itself waiting, in total. */
static long long truth_wait(const char *out, const char *fn, long long *n)
{
    return truth_line(out, "wait", fn, n);
}

/* What the holder `fn` saw its waiters blocked while it held the lock:
 * a lower bound of what its unlocks owe them (see contention.c). */
static long long truth_held(const char *out, const char *fn, long long *n)
{
    return truth_line(out, "held", fn, n);
}

static void run_contention(run *r, const char *dir, const char *phase, const char *rounds,
                           const char *block_rate, const char *fraction)
{
    char b[64], m[64];
    snprintf(b, sizeof b, "MPROF_BLOCK_RATE=%s", block_rate);
    snprintf(m, sizeof m, "MPROF_MUTEX_FRACTION=%s", fraction);
    run_spec s = {.argv = {locks_prog("contention"), phase, rounds},
                  .env = {b, m, "MPROF_MEM_RATE=0"},
                  .cwd = dir};
    run_checked(r, &s);
    ck_assert_msg(run_exit_code(r) == 0, "contention exited %d: %s", run_exit_code(r), r->err.s);
}

static void assert_within(const char *what, double got, double truth, double tol)
{
    ck_assert_msg(truth > 0, "%s: no truth", what);
    ck_assert_msg(fabs(got - truth) <= tol * truth,
                  "%s: profile %.0f ns vs truth %.0f ns (%.1f%%, allowed %.0f%%)",
                  what, got, truth, 100 * (got - truth) / truth, 100 * tol);
}

/* The mutex profile's charge to a holder, `got`, between what the holder
 * saw its waiters blocked (`low`, from `n_low` sightings) and what its
 * waiters timed themselves (`high`), each widened by `tol` for sampling
 * (0 when every event is recorded).  A waiter's clock also runs through
 * its wake-up, which is nobody's hold time and on a busy machine can be
 * longer than the hold: it only bounds the charge from above. */
static void assert_between(const char *what, double got, double low, long long n_low,
                           double high, double tol)
{
    ck_assert_msg(n_low > 0 && low > 0,
                  "%s: the holder never saw a waiter blocked on the lock "
                  "(is /proc/self/task/*/syscall readable?)", what);
    ck_assert_msg(got >= (1 - tol) * low,
                  "%s: profile %.0f ns, but the holder saw its waiters blocked for %.0f ns "
                  "(%lld times) before its unlocks (allowed %.0f%% less)",
                  what, got, low, n_low, 100 * tol);
    ck_assert_msg(got <= (1 + tol) * high,
                  "%s: profile %.0f ns, more than the %.0f ns its waiters waited in all "
                  "(allowed %.0f%% more)", what, got, high, 100 * tol);
}

/* contention.c run in a fresh directory `test`, and its first `kind`
 * profile loaded: what every profile test starts from. */
static void contention_profile(run *r, prof *p, const char *test, const char *phase,
                               const char *rounds, const char *block_rate, const char *fraction,
                               const char *kind)
{
    const char *dir = h_fresh_dir(test);
    run_contention(r, dir, phase, rounds, block_rate, fraction);
    load_profile(p, dir, r, 1, kind);
}

/* assert_between for the holder `holder` of a lock that `waiter` waits
 * for, from contention.c's own lines; the charge, for further checks. */
static long long assert_holder_charged(const run *r, const prof *p, const char *label,
                                       const char *holder, const char *waiter, double tol)
{
    long long n_low;
    long long low = truth_held(r->out.s, holder, &n_low);
    long long got = leaf_delay(p, holder, NULL);
    assert_between(label, (double)got, (double)low, n_low,
                   (double)truth_wait(r->out.s, waiter, NULL), tol);
    return got;
}

/* Rate 1: every wait recorded at its own function, within 15% of the
 * waiter's own clock, for mutex, cond, sem and rwlock waits. */
START_TEST(block_rate1_matches_truth)
{
    run r;
    prof p;
    contention_profile(&r, &p, "block_rate1", "all", "40", "1", "1", "block");
    const char *fns[] = {"mutex_waiter_lock", "cond_waiter_wait", "sem_waiter_wait", "rw_writer_lock"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        long long n_truth, n_prof;
        long long truth = truth_wait(r.out.s, fns[i], &n_truth);
        long long got = leaf_delay(&p, fns[i], &n_prof);
        assert_within(fns[i], (double)got, (double)truth, 0.15);
        /* A wait whose try succeeded (the holder was already gone, as on
         * a loaded machine) is no blocking event, so <= rather than ==. */
        ck_assert_msg(n_prof >= 1 && n_prof <= n_truth,
                      "%s: %lld contentions in the profile, %lld waits", fns[i], n_prof, n_truth);
    }
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* The mutex profile charges the holder's code, not the waiter's, and
 * charges it what its holds cost the waiters: at least what the holder saw
 * them blocked, at most what they waited.  Every event is recorded, so the
 * bounds are exact.  All charges to any unlocker of the lock add up to at
 * most what every thread, holder included, waited for it. */
START_TEST(mutex_profile_charges_holder)
{
    run r;
    prof p;
    contention_profile(&r, &p, "mutex_holder", "all", "40", "1", "1", "mutex");
    long long holder = assert_holder_charged(&r, &p, "mutex_holder_work", "mutex_holder_work",
                                             "mutex_waiter_lock", 0);
    long long waited = truth_wait(r.out.s, "mutex_waiter_lock", NULL);
    long long holder_waited = truth_wait(r.out.s, "mutex_holder_work", NULL);
    long long waiter = leaf_delay(&p, "mutex_waiter_lock", NULL);
    ck_assert_msg(holder + waiter <= waited + holder_waited,
                  "charges to the lock's unlockers, %lld ns (holder) + %lld ns (waiters), "
                  "exceed the %lld + %lld ns that waiters and holder waited for it",
                  holder, waiter, waited, holder_waited);
    assert_holder_charged(&r, &p, "rw_reader_hold", "rw_reader_hold", "rw_writer_lock", 0);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* Rate 1 ms, waits of ~0.3 ms: about one in four is recorded, scaled by
 * rate/d.  E[samples] ~ 250, so the estimate's relative sd is ~5%; 25% is
 * five of them, and an unscaled profile would be 70% low. */
START_TEST(block_sampling_is_unbiased)
{
    run r;
    prof p;
    contention_profile(&r, &p, "block_sampled", "short", "1000", "1000000", "0", "block");
    long long truth = truth_wait(r.out.s, "sem_waiter_wait", NULL);
    assert_within("sem_waiter_wait (sampled)", (double)leaf_delay(&p, "sem_waiter_wait", NULL),
                  (double)truth, 0.25);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* One contention event in 3 recorded and scaled by 3: totals unbiased.
 * ~300 events, ~100 recorded: relative sd ~8%; 35% allowed around the
 * bounds of mutex_profile_charges_holder, while a missing scale factor
 * would be 67% low. */
START_TEST(mutex_fraction_is_unbiased)
{
    run r;
    prof p;
    contention_profile(&r, &p, "mutex_sampled", "mutex", "200", "0", "3", "mutex");
    assert_holder_charged(&r, &p, "mutex_holder_work (1/3 sampled)", "mutex_holder_work",
                          "mutex_waiter_lock", 0.35);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* Rates 0: no block or mutex file at all, even with empty profiles
 * written.  No file is also what a run without mprof leaves, so the same
 * process must show mprof there and recording: every allocation sampled,
 * its heap profile written at exit with samples in it. */
START_TEST(block_and_mutex_off)
{
    const char *dir = h_fresh_dir("locks_off");
    run r;
    run_spec s = {.argv = {locks_prog("contention"), "mutex", "5"},
                  .env = {"MPROF_BLOCK_RATE=0", "MPROF_MUTEX_FRACTION=0", "MPROF_MEM_RATE=1",
                          "MPROF_WRITE_EMPTY=1"},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "contention exited %d: %s", run_exit_code(&r), r.err.s);
    strbuf names = {0};
    dir_entries(dir, &names);
    ck_assert_msg(!names.s || (!strstr(names.s, ".block.") && !strstr(names.s, ".mutex.")),
                  "files: %s", names.s);
    /* The positive control. */
    char heap[1200], err[512];
    snprintf(heap, sizeof heap, "%s/mprof.%d.1.heap.pb.gz", dir, (int)r.pid);
    prof p;
    ck_assert_msg(prof_load(heap, &p, err, sizeof err) == 0,
                  "no heap profile from the same run, so nothing shows that mprof was "
                  "loaded: %s (files: %s)", err, names.s ? names.s : "none");
    ck_assert_msg(p.nsamples > 0, "%s: no samples at MPROF_MEM_RATE=1", heap);
    prof_free(&p);
    sb_free(&names);
    run_free(&r);
}
END_TEST

/* The first line where two outputs differ, for a message Check can carry. */
static const char *first_difference(const char *a, const char *b, char *buf, size_t len)
{
    size_t i = 0, line_start = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            line_start = i + 1;
        i++;
    }
    const char *ea = strchr(a + line_start, '\n'), *eb = strchr(b + line_start, '\n');
    int la = ea ? (int)(ea - a - line_start) : (int)strlen(a + line_start);
    int lb = eb ? (int)(eb - b - line_start) : (int)strlen(b + line_start);
    snprintf(buf, len, "without: '%.*s' / with: '%.*s'", la > 200 ? 200 : la, a + line_start,
             lb > 200 ? 200 : lb, b + line_start);
    return buf;
}

static void run_behaviour(run *r, const char *dir, bool preload, const char *b, const char *m)
{
    /* MPROF_MUTEX_HOLD=1 with every event sampled: its timing of every
     * mutex call must not change one either */
    const char *h = strcmp(b, "MPROF_BLOCK_RATE=1") == 0 ? "MPROF_MUTEX_HOLD=1" : "Z=1";
    run_spec s = {.argv = {locks_prog("behaviour")}, .env = {b, m, h}, .cwd = dir,
                  .no_preload = !preload};
    run_checked(r, &s);
}

/* ---- which call, which lock (issue 14, part 3): whichlock.c ---- */

/* The one sample whose leaf is the wrapped call `call`, whose first
 * frame of the program's is `site` and whose label lock is `lock`; fails
 * the test unless there is exactly one. */
static const prof_sample *one_sample(const prof *p, const char *call, const char *site,
                                     const char *lock)
{
    const prof_sample *found = NULL;
    int n = 0;
    char got[256];
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        const prof_frame *leaf = prof_sample_leaf(s), *at = prof_sample_site(s);
        if (leaf && at && strcmp(leaf->func, call) == 0 && strcmp(at->func, site) == 0 &&
            prof_sample_label(s, "lock", got, sizeof got) && strcmp(got, lock) == 0) {
            found = s;
            n++;
        }
    }
    char d[4096];
    prof_describe(p, d, sizeof d, 20);
    ck_assert_msg(n == 1, "%d samples %s <- %s with lock:[%s], not 1:\n%s", n, call, site,
                  lock, d);
    ck_assert_msg(found->v[0] == 1, "%s <- %s [%s]: %lld contentions, not 1", call, site,
                  lock, found->v[0]);
    return found;
}

/* `go tool pprof -tags` on the file lists each lock by its label. */
static void assert_tags(const char *path, const char *const *want, int n)
{
    run r;
    run_spec s = {.argv = {"go", "tool", "pprof", "-tags", path}, .no_preload = true};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "pprof -tags %s: %s", path, r.err.s);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strstr(r.out.s, want[i]), "pprof -tags: no '%s' in:\n%s", want[i], r.out.s);
    run_free(&r);
}

/* One site, three locks (a global, a lock at offset 64 of a global
 * struct, a heap lock) are three samples named by their locks; a mutex
 * wait and a condition wait in one function are two samples under their
 * calls; the mutex profile's unlocks are named and labelled the same. */
START_TEST(leaf_frames_and_lock_labels)
{
    const char *dir = h_fresh_dir("whichlock");
    run r;
    run_spec s = {.argv = {locks_prog("whichlock")},
                  .env = {"MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1", "MPROF_MEM_RATE=0"},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "whichlock exited %d: %s", run_exit_code(&r), r.err.s);
    char heap[64] = "", cond[64] = "";
    const char *h = strstr(r.out.s, "heap_lock "), *c = strstr(r.out.s, "cond_lock ");
    ck_assert(h && c);
    sscanf(h, "heap_lock %63s", heap);
    sscanf(c, "cond_lock %63s", cond);

    prof b, m;
    load_profile(&b, dir, &r, 1, "block");
    one_sample(&b, "pthread_mutex_lock", "take", "cache_lock");
    one_sample(&b, "pthread_mutex_lock", "take", "registry+64");
    const prof_sample *hs = one_sample(&b, "pthread_mutex_lock", "take", heap);
    one_sample(&b, "pthread_mutex_lock", "both", cond);
    one_sample(&b, "pthread_cond_wait", "both", "ready_cond");
    char addr[64];
    ck_assert(prof_sample_label(hs, "lock_addr", addr, sizeof addr));
    ck_assert_str_eq(addr, heap);

    load_profile(&m, dir, &r, 1, "mutex");
    one_sample(&m, "pthread_mutex_unlock", "release_when_blocked", "cache_lock");
    one_sample(&m, "pthread_mutex_unlock", "release_when_blocked", "registry+64");
    one_sample(&m, "pthread_mutex_unlock", "release_when_blocked", heap);

    char path[1200];
    snprintf(path, sizeof path, "%s/mprof.%d.1.block.pb.gz", dir, (int)r.pid);
    const char *tags[] = {"lock: Total", "cache_lock", "registry+64", "ready_cond", heap,
                          "lock_addr: Total"};
    assert_tags(path, tags, 6);
    prof_free(&b);
    prof_free(&m);
    run_free(&r);
}
END_TEST

/* The samples whose leaf is `call` and whose first frame of the
 * program's is `site`: how many, the sum of their counts, and how many
 * are labelled lock=other. */
static int site_samples(const prof *p, const char *call, const char *site, long long *count,
                        int *others)
{
    int n = 0;
    *count = 0;
    *others = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        const prof_frame *leaf = prof_sample_leaf(s), *at = prof_sample_site(s);
        if (!leaf || !at || strcmp(leaf->func, call) != 0 || strcmp(at->func, site) != 0)
            continue;
        char got[256];
        n++;
        *count += s->v[0];
        if (prof_sample_label(s, "lock", got, sizeof got) && strcmp(got, "other") == 0)
            (*others)++;
    }
    return n;
}

static void assert_bounded_site(const prof *p, const char *call, const char *site, int nlocks)
{
    long long count;
    int others, n = site_samples(p, call, site, &count, &others);
    char d[4096];
    prof_describe(p, d, sizeof d, 20);
    /* 8 objects of their own (MPROF_BLOCK_OBJECTS) and the site's rest */
    ck_assert_msg(n >= 2 && n <= 9, "%s <- %s: %d samples for %d locks, not 2..9:\n%s", call,
                  site, n, nlocks, d);
    ck_assert_msg(count == nlocks, "%s <- %s: %lld contentions, not %d:\n%s", call, site,
                  count, nlocks, d);
    ck_assert_msg(others == 1, "%s <- %s: %d samples labelled lock=other, not 1:\n%s", call,
                  site, others, d);
}

/* A site that waits on many locks (manylocks.c: 64 heap mutexes, 64 heap
 * condition variables) gets a bounded number of samples, the first few
 * locks by name and the rest as lock=other, whose counts still sum to
 * every wait made. */
START_TEST(many_locks_at_one_site_are_bounded)
{
    const char *dir = h_fresh_dir("manylocks");
    run r;
    run_spec s = {.argv = {locks_prog("manylocks")},
                  .env = {"MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1", "MPROF_MEM_RATE=0"},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "manylocks exited %d: %s", run_exit_code(&r), r.err.s);
    int nlocks = 0;
    const char *at = strstr(r.out.s, "locks ");
    ck_assert(at && sscanf(at, "locks %d", &nlocks) == 1 && nlocks > 9);
    prof b, m;
    load_profile(&b, dir, &r, 1, "block");
    assert_bounded_site(&b, "pthread_mutex_lock", "take", nlocks);
    assert_bounded_site(&b, "pthread_cond_timedwait", "cond_site", nlocks);
    load_profile(&m, dir, &r, 1, "mutex");
    assert_bounded_site(&m, "pthread_mutex_unlock", "release_when_blocked", nlocks);
    prof_free(&b);
    prof_free(&m);
    run_free(&r);
}
END_TEST

/* MPROF_MUTEX_HOLD=1: the mutex profile's third value, how long each
 * unlocker held the lock, lies between the holder's own two measures of
 * it (whichlock.c: inner and outer), for each of the three locks; off,
 * the profile has its two values only. */
START_TEST(mutex_hold_times)
{
    const char *dir = h_fresh_dir("whichlock_hold");
    run r;
    run_spec s = {.argv = {locks_prog("whichlock")},
                  .env = {"MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1", "MPROF_MEM_RATE=0",
                          "MPROF_MUTEX_HOLD=1"},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "whichlock exited %d: %s", run_exit_code(&r), r.err.s);
    char heap[64] = "";
    sscanf(strstr(r.out.s, "heap_lock "), "heap_lock %63s", heap);
    const char *locks[3] = {"cache_lock", "registry+64", heap};
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/mprof.%d.1.mutex.pb.gz", dir, (int)r.pid);
    prof m;
    ck_assert_msg(prof_load(path, &m, err, sizeof err) == 0, "%s: %s", path, err);
    ck_assert_int_eq(m.ntypes, 3);
    ck_assert_str_eq(m.type[2], "hold");
    ck_assert_str_eq(m.unit[2], "nanoseconds");
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "held %d ", i);
        const char *at = strstr(r.out.s, key);
        long long inner = 0, outer = 0;
        ck_assert_msg(at && sscanf(at + strlen(key), "%lld %lld", &inner, &outer) == 2,
                      "no '%s' line:\n%s", key, r.out.s);
        const prof_sample *x =
            one_sample(&m, "pthread_mutex_unlock", "release_when_blocked", locks[i]);
        ck_assert_msg(x->v[2] >= inner && x->v[2] <= outer,
                      "%s: hold %lld ns, but the holder measured %lld to %lld", locks[i],
                      x->v[2], inner, outer);
    }
    prof_free(&m);
    run_free(&r);
}
END_TEST

/* Every mutex type, return code, errno and cancellation path: the same
 * output with and without mprof, sampling every event or at defaults. */
START_TEST(wrappers_behave_as_without)
{
    const char *dir = h_fresh_dir("behaviour");
    run bare, all, dflt;
    run_behaviour(&bare, dir, false, "X=1", "Y=1");
    run_behaviour(&all, dir, true, "MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1");
    run_behaviour(&dflt, dir, true, "X=1", "Y=1");
    ck_assert_int_eq(run_exit_code(&bare), 0);
    ck_assert_msg(strstr(bare.out.s, "inversion with back-off completed") &&
                      strstr(bare.out.s, " 40000\n"),
                  "bare run incomplete (%zu bytes of output)", bare.out.len);
    ck_assert_int_eq(run_exit_code(&all), 0);
    ck_assert_int_eq(run_exit_code(&dflt), 0);
    char diff[512];
    ck_assert_msg(strcmp(bare.out.s, all.out.s) == 0, "rate 1: %s",
                  first_difference(bare.out.s, all.out.s, diff, sizeof diff));
    ck_assert_msg(strcmp(bare.out.s, dflt.out.s) == 0, "defaults: %s",
                  first_difference(bare.out.s, dflt.out.s, diff, sizeof diff));
    ck_assert_msg(all.err.len == 0, "stderr: %.300s", all.err.s);
    run_free(&bare);
    run_free(&all);
    run_free(&dflt);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("locks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, block_rate1_matches_truth);
    tcase_add_test(tc, mutex_profile_charges_holder);
    tcase_add_test(tc, block_sampling_is_unbiased);
    tcase_add_test(tc, mutex_fraction_is_unbiased);
    tcase_add_test(tc, block_and_mutex_off);
    tcase_add_test(tc, leaf_frames_and_lock_labels);
    tcase_add_test(tc, mutex_hold_times);
    tcase_add_test(tc, many_locks_at_one_site_are_bounded);
    tcase_add_test(tc, wrappers_behave_as_without);
    return run_suite("locks", tc, NULL);
}
