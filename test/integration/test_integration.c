/*
 * test_integration: runs the programs of test/programs under
 * LD_PRELOAD=build/libmprof.so and checks the profiles they leave against
 * the truth they print (DESIGN.md section 3 is the contract under test).
 *
 * Every test works in a fresh directory, build/test/integration/work/<test>,
 * left in place afterwards for inspection.  Run one test with
 * CK_RUN_CASE=<name>.
 */
#include "harness.h"
#include "prof.h"
#include "spec.h"

#include <check.h>
#include "run_suite.h"
#include <ctype.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRUTHS 32
#define MAX_FILES 32
#define DEFAULT_RATE 524288
#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define RATE1 LIST("MPROF_MEM_RATE=1")

enum {
    CHK_LEAF = 1,  /* the site is the leaf frame of every sample it has */
    CHK_LINE = 2,  /* its frame carries the file and line of the call */
    CHK_LABEL = 4, /* the "bytes" label is the object size */
    CHK_CXX = 8,   /* match names by substring (C++ mangled or not) */
};

static char g_err[4096];
static char g_desc[32768];

/* ---- reading results ---- */

static const char *describe(const prof *p)
{
    prof_describe(p, g_desc, sizeof g_desc, 60);
    return g_desc;
}

static const char *listing(const char *dir)
{
    static strbuf b;
    sb_free(&b);
    dir_entries(dir, &b);
    return b.s;
}

static void load(const char *path, prof *p)
{
    ck_assert_msg(prof_load(path, p, g_err, sizeof g_err) == 0, "%s", g_err);
}

static long out_pid(const run *r, const char *key)
{
    long pid = 0;
    ck_assert_msg(out_ints(r->out.s, key, &pid, 1) == 1,
                  "no '%s <pid>' line in stdout:\n%s", key, r->out.s);
    return pid;
}

static int truths(const run *r, truth *t, int want)
{
    int n = truths_parse(r->out.s, t, MAX_TRUTHS);
    ck_assert_msg(n == want, "expected %d truth lines, got %d:\n%s", want, n,
                  r->out.s);
    return n;
}

static void expect_exit(const run *r, int code)
{
    ck_assert_msg(run_exit_code(r) == code,
                  "exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s",
                  run_exit_code(r), code, r->out.s, r->err.s);
}

/* The program finished its work: exit 0 and its "done" line. */
static void expect_done(const run *r)
{
    expect_exit(r, 0);
    ck_assert_msg(strstr(r->out.s, "done\n"), "no 'done' in stdout:\n%s",
                  r->out.s);
}

static void expect_no_tmp(const char *dir)
{
    const char *l = listing(dir);
    ck_assert_msg(!strstr(l, ".tmp"), "temporary file left in %s:\n%s", dir, l);
}

/* The single heap file of (pid, seq) in dir. */
static const char *heap_path(const char *dir, const char *prefix, long pid,
                             long seq)
{
    static heap_file f[MAX_FILES];
    int n = heap_files(dir, prefix, f, MAX_FILES);
    const heap_file *h = heap_file_find(f, n, pid, seq);
    ck_assert_msg(h, "no %s.%ld.%ld.heap.pb.gz in %s:\n%s", prefix, pid, seq,
                  dir, listing(dir));
    return h->path;
}

/* Runs argv with the extra environment env (either may be LIST(...)) in a
 * fresh directory `name`, and requires the program to have finished its
 * work.  Returns the directory. */
static const char *run_done(run *r, const char *name, const char *const *argv,
                            const char *const *env)
{
    run_spec s = spec_of(h_fresh_dir(name), argv, env);
    run_checked(r, &s);
    expect_done(r);
    return s.cwd;
}

/* A finished run, the profile of its exit dump and the truth it printed. */
typedef struct exit_dump {
    run r;
    prof p;
    truth t[MAX_TRUTHS];
    int nt;
} exit_dump;

/* run_done(), then the run's only dump (mprof.<pid>.1 in its directory)
 * and its `want` truth lines. */
static void run_exit_dump(exit_dump *d, const char *name, const char *const *argv,
                          const char *const *env, int want)
{
    const char *dir = run_done(&d->r, name, argv, env);
    load(heap_path(dir, "mprof", out_pid(&d->r, "pid"), 1), &d->p);
    d->nt = truths(&d->r, d->t, want);
}

static void exit_dump_free(exit_dump *d)
{
    prof_free(&d->p);
    run_free(&d->r);
}

/* ---- checking profiles ---- */

static void check_heap_types(const prof *p, long long period)
{
    static const char *want[4][2] = {{"alloc_objects", "count"},
                                     {"alloc_space", "bytes"},
                                     {"inuse_objects", "count"},
                                     {"inuse_space", "bytes"}};
    ck_assert_msg(p->ntypes == 4, "%d sample types, expected 4", p->ntypes);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(!strcmp(p->type[i], want[i][0]) &&
                          !strcmp(p->unit[i], want[i][1]),
                      "sample type %d is %s/%s, expected %s/%s", i, p->type[i],
                      p->unit[i], want[i][0], want[i][1]);
    ck_assert_msg(p->period_type && !strcmp(p->period_type, "space") &&
                      !strcmp(p->period_unit, "bytes"),
                  "period_type %s/%s, expected space/bytes",
                  p->period_type ? p->period_type : "(none)",
                  p->period_unit ? p->period_unit : "");
    ck_assert_msg(p->period == period, "period %lld, expected %lld", p->period,
                  period);
}

static prof_match match_of(unsigned flags)
{
    return flags & CHK_CXX ? PROF_SUBSTR : PROF_EXACT;
}

static void check_leaf(const prof *p, const truth *t, prof_match m)
{
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        if (!prof_sample_find(s, t->site, m))
            continue;
        const prof_frame *leaf = prof_sample_leaf(s);
        ck_assert_msg(leaf && prof_func_matches(leaf->func, t->site, m),
                      "%s: leaf frame is %s, not the allocating function; "
                      "samples:\n%s",
                      t->site, leaf ? leaf->func : "(none)", describe(p));
    }
}

static void check_line(const prof *p, const truth *t, prof_match m)
{
    char want[256];
    snprintf(want, sizeof want, "%s", t->file);
    const char *want_base = basename(want);
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_frame *f = prof_sample_find(&p->samples[i], t->site, m);
        if (!f)
            continue;
        const char *slash = strrchr(f->file, '/');
        const char *base = slash ? slash + 1 : f->file;
        ck_assert_msg(!strcmp(base, want_base) && f->line == t->line,
                      "%s: frame at '%s:%ld', expected %s:%ld", t->site,
                      f->file, f->line, want_base, t->line);
    }
}

static void check_labels(const prof *p, const truth *t, prof_match m)
{
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        if (!prof_sample_find(s, t->site, m))
            continue;
        ck_assert_msg(s->has_bytes && s->bytes == t->size,
                      "%s: sample label bytes=%lld (present %d), expected %lld",
                      t->site, s->bytes, s->has_bytes, t->size);
    }
}

/* At rate 1 a profile is no estimate: every value must be exact. */
static void check_site_exact(const prof *p, const truth *t, unsigned flags,
                             const char *what)
{
    prof_match m = match_of(flags);
    prof_site s;
    prof_site_sum(p, t->site, m, &s);
    ck_assert_msg(s.nsamples > 0, "%s: no sample has %s; samples:\n%s", what,
                  t->site, describe(p));
    ck_assert_msg(s.alloc_objects == t->alloc_n && s.alloc_space == t->alloc_b &&
                      s.inuse_objects == t->inuse_n &&
                      s.inuse_space == t->inuse_b,
                  "%s: %s: alloc %lld objects / %lld B, inuse %lld / %lld B; "
                  "expected alloc %lld / %lld B, inuse %lld / %lld B",
                  what, t->site, s.alloc_objects, s.alloc_space,
                  s.inuse_objects, s.inuse_space, t->alloc_n, t->alloc_b,
                  t->inuse_n, t->inuse_b);
    if (flags & CHK_LEAF)
        check_leaf(p, t, m);
    if (flags & CHK_LINE)
        check_line(p, t, m);
    if ((flags & CHK_LABEL) && t->size)
        check_labels(p, t, m);
}

static void check_sites_exact(const prof *p, const truth *t, int n, int phase,
                              unsigned flags, const char *what)
{
    for (int i = 0; i < n; i++)
        if (phase == 0 || t[i].phase == phase)
            check_site_exact(p, &t[i], flags, what);
}

static void check_absent(const prof *p, const char *site, const char *what)
{
    prof_site s;
    prof_site_sum(p, site, PROF_EXACT, &s);
    ck_assert_msg(s.nsamples == 0, "%s: %d samples have %s; samples:\n%s",
                  what, s.nsamples, site, describe(p));
}

/*
 * Each of n objects of a site is sampled independently with probability
 * pr = 1 - exp(-size/rate); the unsampled estimate of a count is k/pr with
 * k ~ Binomial(n, pr), whose relative standard deviation is
 * sqrt((1 - pr) / (n pr)).  Five of them is the bound.
 */
static void check_estimate(const char *site, const char *what, long long est_n,
                           long long est_b, long long n, long long b, double pr)
{
    if (n == 0) {
        ck_assert_msg(est_n == 0 && est_b == 0,
                      "%s %s: estimate %lld objects / %lld B, expected 0: "
                      "every sampled block was freed",
                      site, what, est_n, est_b);
        return;
    }
    double e = (double)n * pr;
    double bound = 5 * sqrt((1 - pr) / e);
    ck_assert_msg(bound <= 0.25, "%s %s: workload too small (bound %.2f)", site,
                  what, bound); /* a test bug, not a library bug */
    double rel_n = (double)est_n / (double)n - 1;
    double rel_b = (double)est_b / (double)b - 1;
    ck_assert_msg(fabs(rel_n) <= bound && fabs(rel_b) <= bound,
                  "%s %s: estimate %lld objects / %lld B vs true %lld / %lld: "
                  "off by %.1f%% / %.1f%%, bound %.1f%% (5 sd, %.0f expected "
                  "samples)",
                  site, what, est_n, est_b, n, b, 100 * rel_n, 100 * rel_b,
                  100 * bound, e);
}

static void check_site_stat(const prof *p, const truth *t, long long rate)
{
    prof_site s;
    prof_site_sum(p, t->site, PROF_EXACT, &s);
    double pr = 1 - exp(-(double)t->size / (double)rate);
    check_estimate(t->site, "alloc", s.alloc_objects, s.alloc_space,
                   t->alloc_n, t->alloc_b, pr);
    check_estimate(t->site, "inuse", s.inuse_objects, s.inuse_space,
                   t->inuse_n, t->inuse_b, pr);
    check_labels(p, t, PROF_EXACT);
}

/* ---- sites ---- */

START_TEST(sites_exact_rate1)
{
    /* No MPROF_OUT: the default prefix "mprof" in the current directory. */
    run r;
    const char *dir = run_done(&r, "sites_exact_rate1", LIST(h_prog("sites")), RATE1);
    long pid = out_pid(&r, "pid");
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "mprof", f, MAX_FILES);
    ck_assert_msg(n == 1 && f[0].pid == pid && f[0].seq == 1,
                  "expected exactly mprof.%ld.1.heap.pb.gz in %s:\n%s", pid,
                  dir, listing(dir));
    prof p;
    load(f[0].path, &p);
    check_heap_types(&p, 1);
    truth t[MAX_TRUTHS];
    int nt = truths(&r, t, 11);
    check_sites_exact(&p, t, nt, 0, CHK_LEAF | CHK_LINE | CHK_LABEL, "exit dump");
    expect_no_tmp(dir);
    prof_free(&p);
    run_free(&r);
}
END_TEST

START_TEST(sites_default_rate_stats)
{
    exit_dump d;
    run_exit_dump(&d, "sites_default_rate_stats", LIST(h_prog("sites"), "--stat"), NULL, 6);
    check_heap_types(&d.p, DEFAULT_RATE);
    for (int i = 0; i < d.nt; i++)
        check_site_stat(&d.p, &d.t[i], DEFAULT_RATE);
    exit_dump_free(&d);
}
END_TEST

/* MPROF_STACK_DEPTH=2: stacks are cut at two frames, totals stay exact. */
START_TEST(stack_depth_limit)
{
    exit_dump d;
    run_exit_dump(&d, "stack_depth_limit", LIST(h_prog("sites"), "--div", "10"),
                  LIST("MPROF_MEM_RATE=1", "MPROF_STACK_DEPTH=2"), 11);
    /* two frames kept, then the mark that there were more (every stack of
     * sites is deeper), where the root would be */
    for (size_t i = 0; i < d.p.nsamples; i++) {
        const prof_sample *smp = &d.p.samples[i];
        ck_assert_msg(smp->nlocs == 3,
                      "sample %zu has %d locations with MPROF_STACK_DEPTH=2:\n%s",
                      i, smp->nlocs, describe(&d.p));
        const prof_loc *root = smp->locs[smp->nlocs - 1];
        ck_assert_msg(root->nframes == 1 && !strcmp(root->frames[0].func, "[truncated]"),
                      "sample %zu does not end in [truncated]:\n%s", i, describe(&d.p));
    }
    check_sites_exact(&d.p, d.t, d.nt, 0, CHK_LEAF | CHK_LABEL, "depth 2");
    exit_dump_free(&d);
}
END_TEST

START_TEST(mem_rate_zero_no_samples)
{
    run r;
    const char *dir = run_done(&r, "mem_rate_zero_no_samples",
                               LIST(h_prog("sites"), "--div", "10"), LIST("MPROF_MEM_RATE=0"));
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "mprof", f, MAX_FILES);
    ck_assert_msg(n <= 1, "more than one file at MPROF_MEM_RATE=0:\n%s",
                  listing(dir));
    if (n == 1) { /* a file is allowed, a sample is not */
        prof p;
        load(f[0].path, &p);
        static const char *types[] = {"alloc_objects", "alloc_space",
                                      "inuse_objects", "inuse_space"};
        for (int i = 0; i < 4; i++)
            ck_assert_msg(prof_total(&p, types[i]) == 0,
                          "MPROF_MEM_RATE=0 but %s total is %lld:\n%s",
                          types[i], prof_total(&p, types[i]), describe(&p));
        prof_free(&p);
    }
    run_free(&r);
}
END_TEST

/* The default MPROF_OUT is relative: it means the directory the program
 * started in, even after the program changes directory. */
START_TEST(relative_out_is_anchored_at_start)
{
    const char *dir = h_fresh_dir("relative_out_anchored");
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/elsewhere", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    run r;
    run_spec s = {.argv = {h_prog("sites"), "--div", "10", "--chdir", "elsewhere"},
                  .cwd = dir};
    run_checked(&r, &s);
    expect_done(&r);
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "mprof", f, MAX_FILES) == 1, "start dir:\n%s", listing(dir));
    ck_assert_msg(heap_files(sub, "mprof", f, MAX_FILES) == 0, "chdir'd dir:\n%s", listing(sub));
    run_free(&r);
}
END_TEST

/* A program with its own handler for the dump signal: its handler runs as
 * without mprof, mprof says nothing (the program chose; nothing went
 * wrong), and the exit dump is still written. */
START_TEST(program_owns_dump_signal)
{
    const char *dir = h_fresh_dir("program_owns_dump_signal");
    run r;
    /* own_handler may record nothing at the default rate */
    run_spec s = {.argv = {h_prog("own_handler")}, .env = {"MPROF_WRITE_EMPTY=1"}, .cwd = dir};
    run_checked(&r, &s);
    ck_assert_int_eq(run_exit_code(&r), 0);
    ck_assert_msg(strstr(r.out.s, "handled 2"), "its handler did not run: %s", r.out.s);
    ck_assert_msg(r.err.len == 0, "expected nothing on stderr, got:\n%s", r.err.s);
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "mprof", f, MAX_FILES) == 1, "%s", listing(dir));
    run_free(&r);
}
END_TEST

/* ---- C++ and threads ---- */

START_TEST(cxx_new_delete_exact)
{
    exit_dump d;
    run_exit_dump(&d, "cxx_new_delete_exact", LIST(h_prog("cxx_new")), RATE1, 4);
    ck_assert_msg(strstr(d.r.out.s, "throws 100 caught 100"), "%s", d.r.out.s);
    /* new[] and new call operator new from the site: its line is known.
     * The containers allocate from inlined library code: totals only. */
    check_site_exact(&d.p, &d.t[0], CHK_CXX | CHK_LINE | CHK_LABEL, "new[]");
    check_site_exact(&d.p, &d.t[1], CHK_CXX | CHK_LINE | CHK_LABEL, "new");
    check_site_exact(&d.p, &d.t[2], CHK_CXX, "std::vector growth");
    check_site_exact(&d.p, &d.t[3], CHK_CXX, "std::string growth");
    prof_site th;
    prof_site_sum(&d.p, "cxx_site_throw", PROF_SUBSTR, &th);
    ck_assert_msg(th.alloc_objects >= 100 && th.inuse_objects == 0 &&
                      th.inuse_space == 0,
                  "exceptions: alloc %lld objects, inuse %lld / %lld B; "
                  "expected >= 100 allocated, none in use",
                  th.alloc_objects, th.inuse_objects, th.inuse_space);
    exit_dump_free(&d);
}
END_TEST

START_TEST(threads_exact_rate1)
{
    exit_dump d;
    run_exit_dump(&d, "threads_exact_rate1", LIST(h_prog("threads")), RATE1, 4);
    check_sites_exact(&d.p, d.t, d.nt, 0, CHK_LEAF | CHK_LINE | CHK_LABEL, "threads");
    exit_dump_free(&d);
}
END_TEST

/* exit() while two threads keep allocating: no hang, exit dump complete. */
START_TEST(threads_exit_racing)
{
    exit_dump d;
    run_exit_dump(&d, "threads_exit_racing",
                  LIST(h_prog("threads"), "--race", "--per", "5000"), RATE1, 4);
    check_sites_exact(&d.p, d.t, d.nt, 0, CHK_LEAF | CHK_LABEL, "racing exit");
    prof_site churn;
    prof_site_sum(&d.p, "thread_churn", PROF_EXACT, &churn);
    ck_assert_msg(churn.alloc_objects > 0, "thread_churn not in the profile");
    exit_dump_free(&d);
}
END_TEST

START_TEST(never_returns_pthread_exit)
{
    exit_dump d;
    run_exit_dump(&d, "never_returns_pthread_exit",
                  LIST(h_prog("never_returns"), "--pthread-exit"), RATE1, 1);
    check_site_exact(&d.p, &d.t[0], CHK_LEAF | CHK_LINE | CHK_LABEL, "exit dump");
    exit_dump_free(&d);
}
END_TEST

/* ---- processes ---- */

static void check_fork_child(const char *dir, long pid, const truth *t, int nt)
{
    prof p;
    load(heap_path(dir, "fk", pid, 1), &p);
    check_sites_exact(&p, t, nt, 2, CHK_LEAF | CHK_LINE | CHK_LABEL,
                      "fork child");
    /* A fresh profile: nothing the parent did before fork. */
    check_absent(&p, "parent_site_before", "fork child");
    check_absent(&p, "fork_churn", "fork child");
    check_absent(&p, "parent_site_after", "fork child");
    prof_free(&p);
}

START_TEST(forks_and_exec)
{
    const char *dir = h_fresh_dir("forks_and_exec");
    char out[1200];
    snprintf(out, sizeof out, "MPROF_OUT=%s/fk", dir);
    run r;
    run_spec s = {.argv = {h_prog("forks"), "--forks", "3"},
                  .env = {"MPROF_MEM_RATE=1", out},
                  .cwd = dir};
    run_checked(&r, &s);
    expect_done(&r);
    long parent = out_pid(&r, "parent"), exec_pid = out_pid(&r, "exec");
    long child[3];
    ck_assert_int_eq(out_ints(r.out.s, "child", child, 3), 3);
    truth t[MAX_TRUTHS];
    int nt = truths(&r, t, 6);
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "fk", f, MAX_FILES) == 5,
                  "expected 5 heap files (parent, 3 children, exec):\n%s",
                  listing(dir));

    prof p;
    load(heap_path(dir, "fk", parent, 1), &p);
    check_sites_exact(&p, t, nt, 1, CHK_LEAF | CHK_LINE | CHK_LABEL, "parent");
    check_absent(&p, "child_site", "parent");
    check_absent(&p, "exec_site", "parent");
    prof_free(&p);

    for (int i = 0; i < 3; i++)
        check_fork_child(dir, child[i], t, nt);

    load(heap_path(dir, "fk", exec_pid, 1), &p);
    check_sites_exact(&p, t, nt, 3, CHK_LEAF | CHK_LINE | CHK_LABEL, "exec'd");
    check_absent(&p, "parent_site_before", "exec'd");
    prof_free(&p);
    expect_no_tmp(dir);
    run_free(&r);
}
END_TEST

/* A server with a process per request whose own allocations took no
 * sample is readied all the same, its thread started at its next
 * allocation, from what its children's exit dumps named (census.h): its
 * own program's table indexed (prefork.c sees the mapping of its
 * strings); the children forked after name their functions through it.
 * Before, readying waited for the parent's own first sample, and each
 * child read its modules' symbol tables whole. Fails without the
 * children's module notes, and without the start at the allocation.
 *
 * run_prefork: prefork (test/programs/prefork.c) in the fresh directory
 * `name`, its profiles fk.*, at `rate`, with `arg` (or none); the
 * directory, once the run ended well and said it was readied. */
static const char *run_prefork(run *r, const char *name, const char *rate, const char *arg)
{
    const char *dir = h_fresh_dir(name);
    static char out[1200];
    snprintf(out, sizeof out, "MPROF_OUT=%s/fk", dir);
    run_spec s = {.argv = {h_prog("prefork"), arg}, .env = {rate, out}, .cwd = dir};
    run_checked(r, &s);
    expect_done(r);
    ck_assert_msg(strstr(r->out.s, "\nreadied\n"),
                  "the parent was not readied after 12 child dumps:\n%s", r->out.s);
    return dir;
}

START_TEST(prefork_parent_readied)
{
    run r;
    const char *dir = run_prefork(&r, "prefork_parent_readied", "MPROF_MEM_RATE=1", NULL);
    long child[15];
    ck_assert_int_eq(out_ints(r.out.s, "child", child, 15), 15);
    truth t[MAX_TRUTHS];
    int nt = truths(&r, t, 1);
    for (int i = 12; i < 15; i++)
        check_fork_child(dir, child[i], t, nt);
    expect_no_tmp(dir);
    run_free(&r);
}
END_TEST

/* The same at 1 MiB a sample: the allocation that starts the readying
 * is counted as any other, not sampled for it (the parent's one byte had
 * odds of 1 in a million; a sample forced on it was taken every time). */
START_TEST(prefork_readying_samples_nothing)
{
    run r;
    const char *dir = run_prefork(&r, "prefork_readying_samples_nothing",
                                  "MPROF_MEM_RATE=1048576", "--big");
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "fk", f, MAX_FILES);
    ck_assert_msg(n == 15, "expected the 15 children's heap files:\n%s", listing(dir));
    ck_assert_msg(!heap_file_find(f, n, (long)r.pid, 1),
                  "the parent wrote a profile: its readying allocation was sampled\n%s",
                  listing(dir));
    run_free(&r);
}
END_TEST

/* ---- dumps while running ---- */

START_TEST(signal_dump_midrun)
{
    char sig[16];
    snprintf(sig, sizeof sig, "%d", SIGUSR2);
    run r;
    const char *dir =
        run_done(&r, "signal_dump_midrun",
                 LIST(h_prog("sites"), "--div", "10", "--signal", sig, "--wait-dump"),
                 LIST("MPROF_MEM_RATE=1", "MPROF_EPOCH_MS=10"));
    ck_assert_msg(strstr(r.out.s, "dump1 seen"),
                  "seq-1 file did not appear within 5 s of SIGUSR2:\n%s",
                  r.out.s);
    long pid = out_pid(&r, "pid");
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "mprof", f, MAX_FILES) == 2,
                  "expected the signal dump and the exit dump:\n%s",
                  listing(dir));
    truth t[MAX_TRUTHS];
    int nt = truths(&r, t, 12);
    prof p;
    load(heap_path(dir, "mprof", pid, 1), &p);
    check_heap_types(&p, 1);
    check_sites_exact(&p, t, nt, 1, CHK_LEAF | CHK_LABEL, "signal dump");
    check_absent(&p, "site_after_signal", "signal dump");
    prof_free(&p);
    load(heap_path(dir, "mprof", pid, 2), &p);
    check_sites_exact(&p, t, nt, 0, CHK_LEAF | CHK_LABEL, "exit dump");
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* Ask a running process for dumps from outside, with a chosen signal. */
static void signal_forever(const char *name, const char *setting, int sig)
{
    const char *dir = h_fresh_dir(name);
    run r;
    run_spec s = {.argv = {h_prog("never_returns"), "--forever"},
                  .env = {"MPROF_MEM_RATE=1", "MPROF_EPOCH_MS=10", setting},
                  .cwd = dir};
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "ready\n", 20000);
    if (!ready)
        run_kill(&r, SIGKILL);
    ck_assert_msg(ready, "%s: no 'ready' from never_returns:\n%s", setting,
                  r.out.s);
    long pid = out_pid(&r, "pid");
    char path[1200];
    for (int seq = 1; seq <= 2; seq++) {
        sleep_ms(200); /* > 3 epochs of 10 ms */
        run_kill(&r, sig);
        snprintf(path, sizeof path, "%s/mprof.%ld.%d.heap.pb.gz", dir, pid, seq);
        bool seen = wait_file(path, 5000);
        if (!seen)
            run_kill(&r, SIGKILL);
        ck_assert_msg(seen, "%s: %s did not appear within 5 s of signal %d",
                      setting, path, sig);
    }
    run_kill(&r, SIGKILL);
    run_finish(&r, 10000);
    truth t[MAX_TRUTHS];
    truths(&r, t, 1);
    for (int seq = 1; seq <= 2; seq++) {
        prof p;
        load(heap_path(dir, "mprof", pid, seq), &p);
        check_site_exact(&p, &t[0], CHK_LEAF | CHK_LINE | CHK_LABEL, setting);
        prof_free(&p);
    }
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "mprof", f, MAX_FILES) == 2,
                  "expected exactly two dumps:\n%s", listing(dir));
    run_free(&r);
}

START_TEST(signal_dump_external)
{
    signal_forever("signal_dump_external_name", "MPROF_SIGNAL=USR1", SIGUSR1);
    signal_forever("signal_dump_external_number", "MPROF_SIGNAL=10", SIGUSR1);
}
END_TEST

START_TEST(interval_dumps)
{
    run r;
    const char *dir = run_done(&r, "interval_dumps",
                               LIST(h_prog("sites"), "--div", "10", "--sleep-ms", "2500"),
                               LIST("MPROF_MEM_RATE=1", "MPROF_DUMP_INTERVAL=1"));
    long pid = out_pid(&r, "pid");
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "mprof", f, MAX_FILES);
    ck_assert_msg(n >= 3 && n <= 4,
                  "expected 2-3 interval dumps + the exit dump in 2.5 s, got "
                  "%d files:\n%s",
                  n, listing(dir));
    for (int i = 0; i < n; i++) {
        ck_assert_msg(f[i].pid == pid && f[i].seq == i + 1,
                      "files are not seq 1..%d of pid %ld:\n%s", n, pid,
                      listing(dir));
        prof p;
        load(f[i].path, &p);
        check_heap_types(&p, 1);
        prof_free(&p);
    }
    truth t[MAX_TRUTHS];
    int nt = truths(&r, t, 11);
    prof p;
    load(f[n - 1].path, &p);
    check_sites_exact(&p, t, nt, 0, CHK_LEAF | CHK_LABEL, "exit dump");
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* ---- another allocator underneath ---- */

START_TEST(jemalloc_chaining)
{
    if (access(JEMALLOC, R_OK) != 0) {
        fprintf(stderr, "jemalloc_chaining: %s missing, skipped\n", JEMALLOC);
        return;
    }
    char preload[2400];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s %s", h_lib(), JEMALLOC);
    exit_dump d;
    run_exit_dump(&d, "jemalloc_chaining", LIST(h_prog("sites"), "--div", "2"),
                  LIST("MPROF_MEM_RATE=1", preload), 11);
    ck_assert_msg(strstr(d.r.out.s, "allocator jemalloc"),
                  "the program did not run on jemalloc:\n%s", d.r.out.s);
    check_sites_exact(&d.p, d.t, d.nt, 0, CHK_LEAF | CHK_LINE | CHK_LABEL, "jemalloc");
    exit_dump_free(&d);
}
END_TEST

/* ---- bad settings and unwritable output ---- */

/* exit_status without the profiler: the output every run must match. */
static void baseline(run *b)
{
    const char *dir = h_fresh_dir("baseline");
    run_spec s = {.argv = {h_prog("exit_status")}, .cwd = dir, .no_preload = true};
    run_checked(b, &s);
    expect_exit(b, 3);
}

static void expect_like_baseline(const run *r, const run *b)
{
    ck_assert_msg(run_exit_code(r) == 3 && !strcmp(r->out.s, b->out.s),
                  "program changed: status %d (want 3), stdout:\n%s\nwanted:\n"
                  "%s\nstderr:\n%s",
                  run_exit_code(r), r->out.s, b->out.s, r->err.s);
}

/* stderr is `n` (> 0) mprof: lines and nothing else. */
static void expect_only_mprof_lines(const run *r, int n, const char *what)
{
    strbuf lines = {0};
    int got = lines_starting(r->err.s, "mprof:", &lines);
    ck_assert_msg(got == n && !strcmp(lines.s, r->err.s),
                  "%s: expected exactly %d mprof: line(s) on stderr, got %d:\n%s", what, n,
                  got, r->err.s);
    sb_free(&lines);
}

/* value occurs in line with no letter, digit or '_' on either side. */
static bool has_word(const char *line, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = strstr(line, value); p; p = strstr(p + 1, value)) {
        bool l = p == line || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool r = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (l && r)
            return true;
    }
    return false;
}

struct bad_setting {
    const char *var, *value;
    const char *used[3]; /* any of these names the value used */
};

static const struct bad_setting bad_settings[] = {
    {"MPROF_MEM_RATE", "abc", {"524288"}},
    {"MPROF_MEM_RATE", "12abc", {"524288"}},
    {"MPROF_MEM_RATE", "-1", {"524288"}},
    {"MPROF_EPOCH_MS", "-5", {"100"}},
    {"MPROF_SIGNAL", "FOO", {"12", "USR2", "SIGUSR2"}},
    {"MPROF_DUMP_INTERVAL", "soon", {"0"}},
    {"MPROF_STACK_DEPTH", "deep", {"64"}},
    {"MPROF_WRITE_EMPTY", "yes", {"0"}},
};

/* The mprof: line that names this variable; exactly one. */
static void check_bad_line(const char *err, const struct bad_setting *b)
{
    strbuf lines = {0};
    lines_starting(err, "mprof:", &lines);
    int found = 0;
    for (char *l = lines.s; l && *l;) {
        char *end = strchr(l, '\n');
        *end = '\0';
        if (strstr(l, b->var)) {
            found++;
            ck_assert_msg(strstr(l, b->value), "%s: line does not show '%s': %s",
                          b->var, b->value, l);
            bool used = false;
            for (int i = 0; i < 3 && b->used[i]; i++)
                used |= has_word(l, b->used[i]);
            ck_assert_msg(used, "%s: line does not show the value used (%s): %s",
                          b->var, b->used[0], l);
        }
        l = end + 1;
    }
    ck_assert_msg(found == 1, "%s=%s: %d mprof: lines name it, expected 1:\n%s",
                  b->var, b->value, found, err);
    sb_free(&lines);
}

/* exit_status records nothing at the default rate, so the check that a
 * profile is still written asks for empty profiles too (unless the bad
 * setting is that one). */
static void run_bad(const char *dir, const char **env, int nenv, run *r)
{
    run_spec s = {.argv = {h_prog("exit_status")}, .cwd = dir};
    int i;
    for (i = 0; i < nenv; i++)
        s.env[i] = env[i];
    /* When the bad setting is that one, the heap profile is off so that
     * nothing but an empty block or mutex profile could be written. */
    if (nenv != 1 || strncmp(env[0], "MPROF_WRITE_EMPTY=", 18))
        s.env[i] = "MPROF_WRITE_EMPTY=1";
    else
        s.env[i] = "MPROF_MEM_RATE=0";
    run_checked(r, &s);
}

START_TEST(bad_settings_one_line_each)
{
    run b;
    baseline(&b);
    size_t n = sizeof bad_settings / sizeof bad_settings[0];
    for (size_t i = 0; i < n; i++) {
        const struct bad_setting *bs = &bad_settings[i];
        char env[256], name[64];
        snprintf(env, sizeof env, "%s=%s", bs->var, bs->value);
        snprintf(name, sizeof name, "bad_settings_%zu", i);
        const char *dir = h_fresh_dir(name);
        const char *envs[] = {env};
        run r;
        run_bad(dir, envs, 1, &r);
        expect_like_baseline(&r, &b);
        expect_only_mprof_lines(&r, 1, env);
        check_bad_line(r.err.s, bs);
        /* The default was used: the profile is still written. */
        if (!strcmp(bs->var, "MPROF_WRITE_EMPTY")) {
            ck_assert_msg(!strstr(listing(dir), ".pb.gz"),
                          "empty profiles written with MPROF_WRITE_EMPTY=%s:\n%s",
                          bs->value, listing(dir));
            run_free(&r);
            continue;
        }
        prof p;
        load(heap_path(dir, "mprof", (long)r.pid, 1), &p);
        if (!strcmp(bs->var, "MPROF_MEM_RATE"))
            check_heap_types(&p, DEFAULT_RATE);
        prof_free(&p);
        run_free(&r);
    }
    run_free(&b);
}
END_TEST

START_TEST(bad_settings_all_at_once)
{
    run b;
    baseline(&b);
    const char *dir = h_fresh_dir("bad_settings_all");
    const char *envs[] = {"MPROF_MEM_RATE=abc", "MPROF_EPOCH_MS=-5",
                          "MPROF_SIGNAL=FOO", "MPROF_DUMP_INTERVAL=soon",
                          "MPROF_STACK_DEPTH=deep"};
    run r;
    run_bad(dir, envs, 5, &r);
    expect_like_baseline(&r, &b);
    expect_only_mprof_lines(&r, 5, "all at once");
    check_bad_line(r.err.s, &bad_settings[0]);
    for (int i = 3; i < 7; i++)
        check_bad_line(r.err.s, &bad_settings[i]);
    run_free(&r);
    run_free(&b);
}
END_TEST

/* One dump that cannot be written: one mprof: line, nothing left behind. */
static void check_unwritable(const char *name, const char *out_prefix,
                             const char *dir, long fsize_limit,
                             const char *expect_listing)
{
    run b;
    baseline(&b);
    char env[1200];
    snprintf(env, sizeof env, "MPROF_OUT=%s", out_prefix);
    run r;
    run_spec s = {.argv = {h_prog("exit_status")},
                  .env = {env, "MPROF_MEM_RATE=1"}, /* something to write */
                  .cwd = dir,
                  .fsize_limit = fsize_limit};
    run_checked(&r, &s);
    expect_like_baseline(&r, &b);
    expect_only_mprof_lines(&r, 1, name);
    const char *l = listing(dir);
    if (expect_listing)
        ck_assert_msg(!strcmp(l, expect_listing),
                      "%s: %s holds:\n%s\nexpected:\n%s", name, dir, l,
                      expect_listing);
    else /* only what was written whole may remain: no heap file, no tmp */
        ck_assert_msg(!strstr(l, ".heap.pb.gz") && !strstr(l, ".tmp"),
                      "%s: partial files left in %s:\n%s", name, dir, l);
    run_free(&r);
    run_free(&b);
}

START_TEST(unwritable_missing_dir)
{
    const char *dir = h_fresh_dir("unwritable_missing_dir");
    check_unwritable("missing dir", "/nonexistent-mprof-test/dir/x", dir, 0, "");
    ck_assert(access("/nonexistent-mprof-test", F_OK) != 0);
}
END_TEST

START_TEST(unwritable_not_a_dir)
{
    const char *dir = h_fresh_dir("unwritable_not_a_dir");
    char file[1200], prefix[1300];
    snprintf(file, sizeof file, "%s/afile", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(prefix, sizeof prefix, "%s/x", file);
    check_unwritable("path through a file", prefix, dir, 0, "afile\n");
}
END_TEST

/* Root writes into a mode-0555 directory anyway: only meaningful as a user. */
START_TEST(unwritable_readonly_dir)
{
    if (geteuid() == 0) {
        fprintf(stderr, "unwritable_readonly_dir: running as root, skipped\n");
        return;
    }
    const char *dir = h_fresh_dir("unwritable_readonly_dir");
    char ro[1200], prefix[1300];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    ck_assert_int_eq(mkdir(ro, 0555), 0);
    snprintf(prefix, sizeof prefix, "%s/x", ro);
    check_unwritable("read-only dir", prefix, ro, 0, "");
}
END_TEST

/* A full disk, simulated with RLIMIT_FSIZE: the temporary file is started,
 * its writes fail (EFBIG), and it must not be left behind. */
START_TEST(unwritable_disk_full)
{
    const char *dir = h_fresh_dir("unwritable_disk_full");
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "%s/x", dir);
    check_unwritable("disk full", prefix, dir, 64, NULL);
}
END_TEST

/* Two dumps (signal + exit), both failing: one line each. */
START_TEST(unwritable_line_per_dump)
{
    char sig[16];
    snprintf(sig, sizeof sig, "%d", SIGUSR2);
    run r;
    const char *dir = run_done(&r, "unwritable_line_per_dump",
                               LIST(h_prog("sites"), "--div", "100", "--signal", sig),
                               LIST("MPROF_EPOCH_MS=10", "MPROF_MEM_RATE=1", /* data to write */
                                    "MPROF_OUT=/nonexistent-mprof-test/dir/x"));
    strbuf lines = {0};
    int n = lines_starting(r.err.s, "mprof:", &lines);
    ck_assert_msg(n == 2, "expected 2 mprof: lines (signal dump, exit dump), "
                          "got %d:\n%s", n, r.err.s);
    sb_free(&lines);
    ck_assert_msg(!strcmp(listing(dir), ""), "files left:\n%s", listing(dir));
    run_free(&r);
}
END_TEST

/* ---- the suite ---- */

int main(void)
{
    Suite *s = suite_create("integration");
    add_tests(s, 90, TESTS(sites_exact_rate1, sites_default_rate_stats, threads_exact_rate1,
                           threads_exit_racing, forks_and_exec, prefork_parent_readied,
                           prefork_readying_samples_nothing,
                           signal_dump_external,
                           jemalloc_chaining, bad_settings_one_line_each));
    add_tests(s, 60, TESTS(relative_out_is_anchored_at_start, program_owns_dump_signal,
                           stack_depth_limit, mem_rate_zero_no_samples, cxx_new_delete_exact,
                           never_returns_pthread_exit, signal_dump_midrun, interval_dumps,
                           bad_settings_all_at_once, unwritable_missing_dir, unwritable_not_a_dir,
                           unwritable_readonly_dir, unwritable_disk_full,
                           unwritable_line_per_dump));
    return run_built_suite(s);
}
