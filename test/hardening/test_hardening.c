/*
 * test_hardening: mprof must never be the reason a host program fails.
 *
 * Runs the programs of test/hardening/progs under LD_PRELOAD=libmprof.so
 * through stress (many threads, dlopen/dlclose, signal storms, exit races,
 * fork storms, posix_spawn/vfork, C++ exceptions, a program's own use of
 * the dump signal) and faults (full, read-only and missing output
 * directories, failing fdatasync/rename, the profiler's arena full, frames
 * without unwind info, every descriptor closed or replaced, malloc in
 * a signal handler).  Each test checks that the program behaves as
 * without mprof (status, output, its own data checks), that every profile
 * it left reads back (mprof's reader for all, `go tool pprof -raw` for
 * most), and what mprof said on stderr.
 *
 * Work directories stay in
 * build/test/hardening/work/<test> for inspection.
 */
#include "hutil.h"
#include "spec.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 8192 /* a 1 ms signal storm writes over 1,000 */
#define MAX_TRUTHS 16
/* The files of one dump that files_of() counts: heap, block, mutex and
 * peak, each written (MPROF_WRITE_EMPTY=1, set for the whole suite); the
 * thread kinds are left out. */
#define KINDS 4

static hd_file g_files[MAX_FILES];
static char g_desc[32768];

/* ---- common checks ---- */

/* Short enough for Check's message limit (about 4 KiB in all). */
static const char *describe(const prof *p)
{
    prof_describe(p, g_desc, 2500, 16);
    return g_desc;
}

static void expect_status(const run *r, int code)
{
    ck_assert_msg(run_exit_code(r) == code,
                  "exit status %d, expected %d\nstdout:\n%.3000s\nstderr:\n%.3000s",
                  run_exit_code(r), code, r->out.s, r->err.s);
}

/* Exit 0, its own checks passed, and it got to the end. */
static void expect_done(const run *r)
{
    expect_status(r, 0);
    ck_assert_msg(strstr(r->out.s, "verify ok\n") && strstr(r->out.s, "done\n"),
                  "the program did not finish its work:\n%.3000s", r->out.s);
}

/* A normal run: mprof has nothing to say. */
static void expect_quiet(const run *r)
{
    strbuf l = {0};
    int n = hd_mprof_lines(r->err.s, &l);
    ck_assert_msg(n == 0 && r->err.len == 0, "unexpected stderr:\n%.3000s", r->err.s);
    sb_free(&l);
}

static void expect_same_output(const run *r, const run *bare)
{
    strbuf a = {0}, b = {0};
    hd_stable_out(r->out.s, &a);
    hd_stable_out(bare->out.s, &b);
    ck_assert_msg(strcmp(a.s, b.s) == 0,
                  "output differs from a run without mprof:\n--- mprof:\n%.3000s\n"
                  "--- bare:\n%.3000s",
                  a.s, b.s);
    sb_free(&a);
    sb_free(&b);
}

static long out_long(const run *r, const char *key)
{
    long v = 0;
    ck_assert_msg(out_ints(r->out.s, key, &v, 1) == 1, "no '%s <n>' in stdout:\n%s", key,
                  r->out.s);
    return v;
}

static int get_truths(const run *r, truth *t, int want)
{
    int n = truths_parse(r->out.s, t, MAX_TRUTHS);
    ck_assert_msg(n == want, "expected %d truth lines, got %d:\n%s", want, n, r->out.s);
    return n;
}

/* Sums over the samples whose leaf frame is `site` (a sample whose stack
 * merely passes through it, e.g. a signal handler's allocation that
 * interrupted it, is not the site's). */
static void leaf_sum(const prof *p, const char *site, prof_site *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *sm = &p->samples[i];
        const prof_frame *leaf = prof_sample_leaf(sm);
        if (!leaf || strcmp(leaf->func, site) != 0)
            continue;
        out->alloc_objects += sm->v[0];
        out->alloc_space += sm->v[1];
        out->inuse_objects += sm->v[2];
        out->inuse_space += sm->v[3];
        out->nsamples++;
    }
}

/* At rate 1 the profile is no estimate: the site's totals are exact, and
 * every sample that has the site in its stack has it as the leaf, except
 * for allocations of signal handlers that interrupted it. */
static void expect_site(const prof *p, const truth *t, const char *what)
{
    prof_site s;
    leaf_sum(p, t->site, &s);
    ck_assert_msg(s.alloc_objects == t->alloc_n && s.alloc_space == t->alloc_b &&
                      s.inuse_objects == t->inuse_n && s.inuse_space == t->inuse_b,
                  "%s: %s: alloc %lld / %lld B, inuse %lld / %lld B; expected alloc "
                  "%lld / %lld B, inuse %lld / %lld B; samples:\n%s",
                  what, t->site, s.alloc_objects, s.alloc_space, s.inuse_objects,
                  s.inuse_space, t->alloc_n, t->alloc_b, t->inuse_n, t->inuse_b, describe(p));
    for (size_t i = 0; i < p->nsamples; i++) {
        if (!prof_sample_find(&p->samples[i], t->site, PROF_EXACT))
            continue;
        const prof_frame *leaf = prof_sample_leaf(&p->samples[i]);
        if (prof_sample_find(&p->samples[i], "on_alarm", PROF_EXACT))
            continue;
        ck_assert_msg(leaf && strcmp(leaf->func, t->site) == 0,
                      "%s: %s is not the leaf frame (%s)", what, t->site,
                      leaf ? leaf->func : "none");
    }
}

static void expect_absent(const prof *p, const char *site, const char *what)
{
    prof_site s;
    prof_site_sum(p, site, PROF_EXACT, &s);
    ck_assert_msg(s.nsamples == 0, "%s: %s has %d samples, expected none", what, site,
                  s.nsamples);
}

/* Some sample's stack has a function whose name contains `name`. */
static bool has_function(const prof *p, const char *name)
{
    for (size_t i = 0; i < p->nsamples; i++)
        if (prof_sample_find(&p->samples[i], name, PROF_SUBSTR))
            return true;
    return false;
}

static void expect_no_tmp(const char *dir)
{
    strbuf l = {0};
    dir_entries(dir, &l);
    ck_assert_msg(!strstr(l.s, ".tmp"), "temporary file left in %s:\n%s", dir, l.s);
    sb_free(&l);
}

/* The heap, block and mutex files under prefix in dir, into g_files: what
 * these tests count.  The thread profiles (threadcreate, threads: issue
 * 14) that a threaded program's dumps also write are test/threads'. */
static int files_of(const char *dir, const char *prefix)
{
    int n = hd_files(dir, prefix, g_files, MAX_FILES);
    ck_assert_msg(n < MAX_FILES, "%s: %d files or more, more than the test can look at", dir, n);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(g_files[i].kind, "thread", 6) != 0)
            g_files[kept++] = g_files[i];
    return kept;
}

/* seq 1..n of each kind, all present, for one pid; returns n. */
static long expect_contiguous(const hd_file *f, int n, long pid)
{
    long last = 0;
    for (int i = 0; i < n; i++)
        if (f[i].pid == pid && f[i].seq > last)
            last = f[i].seq;
    static const char *kinds[] = {"heap", "block", "mutex"};
    for (long s = 1; s <= last; s++)
        for (int k = 0; k < 3; k++)
            ck_assert_msg(hd_find(f, n, pid, s, kinds[k]),
                          "pid %ld: no %s file for dump %ld of 1..%ld", pid, kinds[k], s,
                          last);
    return last;
}

static char *env_out(const char *dir, const char *prefix)
{
    static char bufs[4][1300];
    static int next;
    char *e = bufs[next++ % 4];
    snprintf(e, sizeof bufs[0], "MPROF_OUT=%s/%s", dir, prefix);
    return e;
}

#define ALL_PROFILES "MPROF_MEM_RATE=1", "MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1"

/* The run of a program that must do its work unharmed ("verify ok",
 * "done", exit 0) while mprof has nothing to say. */
static void run_quiet(run *r, const run_spec *s)
{
    run_checked(r, s);
    expect_done(r);
    expect_quiet(r);
}

/* The files a run left under prefix in dir (in g_files, their number
 * returned), every one read back by mprof's reader; the run's pid, from
 * its "pid N" line, in *pid. */
static int read_files(const run *r, const char *dir, const char *prefix, long *pid)
{
    *pid = out_long(r, "pid");
    int n = files_of(dir, prefix);
    hd_read_all(g_files, n);
    return n;
}

/* `go tool pprof` reads the `kind` file of dump seq of pid (among the n
 * of g_files) into p. */
static void go_read(int n, long pid, long seq, const char *kind, prof *p)
{
    const hd_file *f = hd_find(g_files, n, pid, seq, kind);
    ck_assert_msg(f, "pid %ld: no %s file of dump %ld", pid, kind, seq);
    hd_go_read(f->path, p);
}

/* ... where reading it back is all that is asked of it. */
static void go_reads(int n, long pid, long seq, const char *kind)
{
    prof p;
    go_read(n, pid, seq, kind, &p);
    prof_free(&p);
}

/* ======================================================================
 * Stress
 * ====================================================================== */

/* 32 threads, every block freed (after a realloc) by another thread. */
START_TEST(stress_32_threads_exact)
{
    const char *dir = hd_fresh("stress_32_threads_exact");
    run r, b;
    run_spec s = spec_of(dir, LIST(hd_path("stress_threads"), "--threads", "32", "--per", "3000"),
                         LIST(ALL_PROFILES));
    run_quiet(&r, &s);
    hd_run_bare(&b, &s);
    expect_same_output(&r, &b);
    long pid;
    int n = read_files(&r, dir, "mprof", &pid);
    ck_assert_msg(hd_count(g_files, n, pid, "") == KINDS, "expected one dump of every kind");
    truth t[MAX_TRUTHS];
    int nt = get_truths(&r, t, 3);
    prof p;
    go_read(n, pid, 1, "heap", &p);
    for (int i = 0; i < nt; i++)
        expect_site(&p, &t[i], "32 threads");
    prof_free(&p);
    go_read(n, pid, 1, "block", &p);
    ck_assert_msg(has_function(&p, "mailbox_take"),
                  "block profile: no condvar wait in mailbox_take:\n%s", describe(&p));
    prof_free(&p);
    go_reads(n, pid, 1, "mutex");
    run_free(&r);
    run_free(&b);
}
END_TEST

/* 64 threads at a sampling rate that takes the slow path often, with 1 ms
 * epochs so that ticks race with everything. */
START_TEST(stress_64_threads_fast_epochs)
{
    const char *dir = hd_fresh("stress_64_threads_fast_epochs");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("stress_threads"), "--threads", "64", "--per", "2000"),
                         LIST("MPROF_MEM_RATE=64", "MPROF_EPOCH_MS=1", "MPROF_BLOCK_RATE=1000",
                              "MPROF_MUTEX_FRACTION=2"));
    run_quiet(&r, &s);
    int n = files_of(dir, "mprof");
    ck_assert_int_eq(n, KINDS);
    hd_read_all(g_files, n);
    for (int i = 0; i < n; i++) {
        prof p;
        hd_go_read(g_files[i].path, &p);
        prof_free(&p);
    }
    run_free(&r);
}
END_TEST

/* A library loaded and unloaded 20 times; the dump taken while it is
 * loaded names its functions in all three profiles, and the exit dump
 * (library gone) still reads back, with exact totals by object size. */
START_TEST(dlopen_dlclose_churn)
{
    const char *dir = hd_fresh("dlopen_dlclose_churn");
    char out[1300];
    snprintf(out, sizeof out, "%s/dl", dir);
    run r;
    run_spec s = spec_of(dir,
                         LIST(hd_path("dlopen_churn"), "--lib", hd_path("libhplugin.so"), "--out",
                              out, "--rounds", "20"),
                         LIST(ALL_PROFILES, env_out(dir, "dl")));
    run_quiet(&r, &s);
    ck_assert_msg(strstr(r.out.s, "dump1 seen"), "the mid-run dump never appeared:\n%s",
                  r.out.s);
    long pid;
    int n = read_files(&r, dir, "dl", &pid);
    ck_assert_msg(hd_count(g_files, n, pid, "") == 2 * KINDS, "expected 2 dumps of every kind");
    truth t[MAX_TRUTHS];
    get_truths(&r, t, 2);
    prof p;
    prof_site sz;
    go_read(n, pid, 1, "heap", &p);
    ck_assert_msg(has_function(&p, "hplugin_alloc"), "heap: no hplugin_alloc:\n%s",
                  describe(&p));
    hd_size_sum(&p, t[0].size, &sz);
    ck_assert_msg(sz.alloc_objects == t[0].alloc_n && sz.inuse_objects == t[0].inuse_n,
                  "dump 1: %lld allocated / %lld live blocks of %lld B, expected %lld / %lld",
                  sz.alloc_objects, sz.inuse_objects, t[0].size, t[0].alloc_n, t[0].inuse_n);
    prof_free(&p);
    go_read(n, pid, 1, "block", &p);
    ck_assert_msg(has_function(&p, "hplugin_wait"), "block: no hplugin_wait:\n%s",
                  describe(&p));
    prof_free(&p);
    go_read(n, pid, 1, "mutex", &p);
    ck_assert_msg(has_function(&p, "hplugin_hold"), "mutex: no hplugin_hold:\n%s",
                  describe(&p));
    prof_free(&p);
    go_read(n, pid, 2, "heap", &p);
    hd_size_sum(&p, t[1].size, &sz);
    ck_assert_msg(sz.alloc_objects == t[1].alloc_n && sz.inuse_objects == 0,
                  "exit dump: %lld allocated / %lld live, expected %lld / 0",
                  sz.alloc_objects, sz.inuse_objects, t[1].alloc_n);
    prof_free(&p);
    go_reads(n, pid, 2, "block");
    go_reads(n, pid, 2, "mutex");
    run_free(&r);
}
END_TEST

/* After a storm: the program is fine, dumps are numbered 1..n without a
 * gap, every file reads back, the exit dump (the last) is exact. */
static void check_storm(const run *r, const char *dir)
{
    expect_done(r);
    expect_quiet(r);
    long pid;
    int n = read_files(r, dir, "mprof", &pid);
    long last = expect_contiguous(g_files, n, pid);
    ck_assert_msg(last >= 3, "only %ld dumps in a storm", last);
    ck_assert_int_eq(hd_count(g_files, n, pid, ""), KINDS * last);
    for (int i = 0; i < n; i++) { /* go reads every heap file, and the last of each */
        if (strcmp(g_files[i].kind, "heap") != 0 && g_files[i].seq != last)
            continue;
        prof p;
        hd_go_read(g_files[i].path, &p);
        prof_free(&p);
    }
    truth t[MAX_TRUTHS];
    get_truths(r, t, 1);
    prof p;
    go_read(n, pid, last, "heap", &p);
    expect_site(&p, &t[0], "exit dump after the storm");
    prof_free(&p);
    expect_no_tmp(dir);
}

/* The program sends itself the dump signal every millisecond. */
/* A frame in a library with no debug info anywhere on this machine: the
 * dump must not go looking on the network. elfutils' standard lookup ends
 * in debuginfod, which dlopens libdebuginfod (and curl, gnutls, kerberos)
 * into the host and, with DEBUGINFOD_URLS set as Debian's login shells set
 * it, downloads debug info from inside the profiled program. LD_DEBUG=files
 * makes the loader name every library it loads. */
static void dump_without_debuginfod(const char *name, const char *urls)
{
    const char *dir = hd_fresh(name);
    char out[1300];
    snprintf(out, sizeof out, "%s/nd", dir);
    run r;
    run_spec s = spec_of(dir,
                         LIST(hd_path("dlopen_churn"), "--lib", hd_path("libhplugin_nodebug.so"),
                              "--out", out, "--rounds", "2"),
                         LIST(ALL_PROFILES, env_out(dir, "nd"), "LD_DEBUG=files", urls));
    run_checked(&r, &s);
    expect_done(&r);
    ck_assert_msg(strstr(r.err.s, "libhplugin_nodebug.so"), "%s: LD_DEBUG said nothing:\n%.2000s",
                  name, r.err.s);
    const char *bad[] = {"libdebuginfod", "libcurl"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(r.err.s, bad[i]);
        ck_assert_msg(!at, "%s: the dump loaded %s:\n%.300s", name, bad[i], at ? at : "");
    }
    long pid = out_long(&r, "pid");
    int n = files_of(dir, "nd");
    ck_assert_msg(hd_count(g_files, n, pid, "") == 2 * KINDS, "%s: expected 2 dumps of every kind", name);
    prof p;
    go_read(n, pid, 1, "heap", &p);
    ck_assert_msg(has_function(&p, "hplugin_alloc"), "%s: heap: no hplugin_alloc (dynsym):\n%s",
                  name, describe(&p));
    prof_free(&p);
    run_free(&r);
}

START_TEST(dump_stays_off_the_network)
{
    dump_without_debuginfod("dump_stays_off_the_network_urls", "DEBUGINFOD_URLS=http://127.0.0.1:9/");
    dump_without_debuginfod("dump_stays_off_the_network_no_urls", "DEBUGINFOD_URLS=");
}
END_TEST

START_TEST(signal_storm_from_a_thread)
{
    const char *dir = hd_fresh("signal_storm_from_a_thread");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("storm"), "--ms", "1500", "--self-storm"),
                         LIST(ALL_PROFILES));
    run_checked(&r, &s);
    ck_assert_msg(out_long(&r, "signals sent") > 200, "the storm was too weak:\n%s", r.out.s);
    check_storm(&r, dir);
    run_free(&r);
}
END_TEST

/* Another process sends the dump signal every millisecond. */
START_TEST(signal_storm_from_another_process)
{
    const char *dir = hd_fresh("signal_storm_from_another_process");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("storm"), "--ms", "2000"), LIST(ALL_PROFILES));
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "ready\n", 20000);
    if (!ready)
        run_kill(&r, SIGKILL);
    ck_assert_msg(ready, "no 'ready':\n%s", r.out.s);
    int sent = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        if (!r.exited && kill(r.pid, SIGUSR2) == 0)
            sent++;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
             1500);
    run_finish(&r, 40000);
    ck_assert_msg(!r.timed_out, "storm did not finish:\n%s\n%s", r.out.s, r.err.s);
    ck_assert_msg(sent > 200, "only %d signals sent", sent);
    check_storm(&r, dir);
    run_free(&r);
}
END_TEST

struct exit_case {
    const char *how;
    bool storm;
    bool dumps; /* exit handlers run: the exit dump must be there */
};

/* The process ends while threads are in malloc, in lock calls and in a
 * condvar wait: no hang, the status it chose, the exit dump whole. */
START_TEST(exit_racing_threads)
{
    static const struct exit_case cases[] = {
        {"exit", false, true},        {"exit", true, true},         {"return", false, true},
        {"return", true, true},       {"thread", false, true},      {"thread", true, true},
        {"quick_exit", false, false}, {"quick_exit", true, false},  {"_exit", false, false},
        {"_exit", true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct exit_case *c = &cases[i];
        char name[64];
        snprintf(name, sizeof name, "exit_racing_%s%s", c->how, c->storm ? "_storm" : "");
        const char *dir = hd_fresh(name);
        run r;
        /* without --storm, the list ends at the NULL */
        run_spec s = spec_of(dir,
                             LIST(hd_path("exit_race"), "--how", c->how, "--after-ms", "150",
                                  c->storm ? "--storm" : NULL),
                             LIST("MPROF_MEM_RATE=256", "MPROF_BLOCK_RATE=1",
                                  "MPROF_MUTEX_FRACTION=1", "MPROF_EPOCH_MS=5"));
        run_checked(&r, &s);
        ck_assert_msg(run_exit_code(&r) == 7, "%s: status %d, expected 7\nstderr:\n%s", name,
                      run_exit_code(&r), r.err.s);
        expect_quiet(&r);
        long pid;
        int n = read_files(&r, dir, "mprof", &pid);
        if (!c->dumps) { /* _exit may cut a signal dump short: a .tmp may stay */
            run_free(&r);
            continue;
        }
        long last = expect_contiguous(g_files, n, pid);
        ck_assert_msg(last >= 1, "%s: no exit dump", name);
        prof p;
        go_read(n, pid, last, "heap", &p);
        ck_assert_msg(has_function(&p, "race_alloc"), "%s: exit dump lacks race_alloc", name);
        prof_free(&p);
        go_reads(n, pid, last, "mutex");
        expect_no_tmp(dir);
        run_free(&r);
    }
}
END_TEST

/* Threads fork while others allocate and lock; children that exit()
 * write a fresh profile of their own, children that _exit() none. */
START_TEST(fork_storm_from_threads)
{
    const char *dir = hd_fresh("fork_storm_from_threads");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("fork_storm"), "--threads", "4", "--forks", "10"),
                         LIST(ALL_PROFILES));
    run_quiet(&r, &s);
    long parent = out_long(&r, "parent");
    long kids[64];
    int nk = out_ints(r.out.s, "child_exit", kids, 64);
    ck_assert_int_eq(nk, 20);
    truth t[MAX_TRUTHS];
    get_truths(&r, t, 1);
    int n = files_of(dir, "mprof");
    ck_assert_msg(n == KINDS * (nk + 1), "%d files, expected %d (parent + %d children)", n,
                  KINDS * (nk + 1), nk);
    hd_read_all(g_files, n);
    for (int i = 0; i < nk; i++) {
        ck_assert_msg(hd_count(g_files, n, kids[i], "") == KINDS, "child %ld: no exit dump",
                      kids[i]);
        if (i % 5)
            continue; /* go reads a quarter of them; ours read all */
        prof p;
        go_read(n, kids[i], 1, "heap", &p);
        expect_site(&p, &t[0], "fork child");
        expect_absent(&p, "parent_site", "fork child");
        expect_absent(&p, "churn_site", "fork child");
        prof_free(&p);
    }
    prof p;
    go_read(n, parent, 1, "heap", &p);
    expect_absent(&p, "child_site", "parent");
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* posix_spawn and vfork run no fork handlers: the children still start
 * under mprof and write their own exact profiles. */
START_TEST(posix_spawn_and_vfork)
{
    const char *dir = hd_fresh("posix_spawn_and_vfork");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("spawn"), "--n", "4"), LIST(ALL_PROFILES));
    run_quiet(&r, &s);
    long kids[64];
    int nk = out_ints(r.out.s, "spawned", kids, 64);
    ck_assert_int_eq(nk, 16);
    truth t[MAX_TRUTHS];
    get_truths(&r, t, 1);
    int n = files_of(dir, "mprof");
    /* the parent, 16 children of itself, and /bin/true */
    ck_assert_msg(n == KINDS * 18, "%d files, expected %d", n, KINDS * 18);
    hd_read_all(g_files, n);
    for (int i = 0; i < nk; i++) {
        prof p;
        ck_assert_msg(hd_find(g_files, n, kids[i], 1, "heap"),
                      "spawned child %ld wrote no profile", kids[i]);
        go_read(n, kids[i], 1, "heap", &p);
        expect_site(&p, &t[0], "spawned child");
        expect_absent(&p, "churn_site", "spawned child");
        prof_free(&p);
    }
    run_free(&r);
}
END_TEST

/* Exceptions unwind through sampled frames while a contended mutex is
 * released from landing pads: same output as bare, exact Payload count. */
START_TEST(cxx_exceptions_through_sampled_frames)
{
    const char *dir = hd_fresh("cxx_exceptions_through_sampled_frames");
    run r, b;
    run_spec s = spec_of(dir, LIST(hd_path("cxx_exc"), "--threads", "4", "--iters", "300"),
                         LIST(ALL_PROFILES));
    run_quiet(&r, &s);
    hd_run_bare(&b, &s);
    expect_same_output(&r, &b);
    long want = out_long(&r, "payloads");
    long pid;
    int n = read_files(&r, dir, "mprof", &pid);
    prof p;
    go_read(n, pid, 1, "heap", &p);
    prof_site sz = {0};
    for (size_t i = 0; i < p.nsamples; i++) { /* Payloads: 72 B, under exc_frame */
        const prof_sample *sm = &p.samples[i];
        if (!sm->has_bytes || sm->bytes != 72 || !prof_sample_find(sm, "exc_frame", PROF_SUBSTR))
            continue;
        sz.alloc_objects += sm->v[0];
        sz.inuse_objects += sm->v[2];
    }
    ck_assert_msg(sz.alloc_objects == want && sz.inuse_objects == 0,
                  "Payloads: %lld allocated, %lld live; expected %ld, 0:\n%s",
                  sz.alloc_objects, sz.inuse_objects, want, describe(&p));
    ck_assert_msg(has_function(&p, "exc_throw"), "no exception allocation under exc_throw");
    prof_free(&p);
    go_reads(n, pid, 1, "mutex");
    run_free(&r);
    run_free(&b);
}
END_TEST

/* The program installs its own SIGUSR2 handler after mprof started: its
 * handler must see every signal and no dump may happen on them. */
START_TEST(own_handler_installed_wins)
{
    const char *dir = hd_fresh("own_handler_installed_wins");
    run r;
    run_spec s = {.argv = {hd_path("own_handler"), "--install"}, .cwd = dir};
    run_checked(&r, &s);
    expect_done(&r);
    ck_assert_msg(strstr(r.out.s, "handled 3\n"), "the program's handler missed signals:\n%s",
                  r.out.s);
    int n = files_of(dir, "mprof");
    ck_assert_msg(n == KINDS && g_files[0].seq == 1,
                  "expected the exit dump only (the signals are the program's), got %d files",
                  n);
    hd_read_all(g_files, n);
    run_free(&r);
}
END_TEST

/* ... and mprof says nothing about it (issue 10, item 9): the program
 * chose, nothing went wrong, and its stderr is its own, byte for byte. */
START_TEST(own_handler_installed_quiet)
{
    const char *dir = hd_fresh("own_handler_installed_quiet");
    run r, b;
    run_spec s = {.argv = {hd_path("own_handler"), "--install"}, .cwd = dir};
    run_checked(&r, &s);
    expect_done(&r);
    hd_run_bare(&b, &s);
    ck_assert_msg(r.err.len == b.err.len && memcmp(r.err.s, b.err.s, b.err.len) == 0,
                  "a program that installs its own SIGUSR2 handler: stderr differs from "
                  "bare;\nunder mprof:\n%.3000s\nbare:\n%.3000s",
                  r.err.s, b.err.s);
    run_free(&r);
    run_free(&b);
}
END_TEST

/* A fork child resets every signal to SIG_DFL before exec (git's
 * run_command() does): not a takeover, nothing to say.  Both images are
 * under mprof; the exec'd one takes the signal again. */
START_TEST(own_handler_reset_before_exec_quiet)
{
    const char *dir = hd_fresh("own_handler_reset_before_exec_quiet");
    run r;
    run_spec s = {.argv = {hd_path("own_handler"), "--fork-reset"}, .cwd = dir};
    run_checked(&r, &s);
    expect_done(&r);
    ck_assert_msg(strstr(r.out.s, "child ok\n"), "%s", r.out.s);
    ck_assert_msg(r.err.len == 0,
                  "resetting signals to SIG_DFL before exec made mprof print:\n%.3000s",
                  r.err.s);
    int n = files_of(dir, "mprof");
    ck_assert_msg(n == 2 * KINDS, "expected the exit dumps of parent and child, got %d files", n);
    hd_read_all(g_files, n);
    run_free(&r);
}
END_TEST

/* SIGUSR2 ignored when the program starts (inherited through exec):
 * mprof leaves it ignored, and says nothing. */
START_TEST(own_handler_inherited_ignore)
{
    const char *dir = hd_fresh("own_handler_inherited_ignore");
    run r;
    /* Started bare: it ignores USR2, then execs itself under mprof, as a
     * parent that ignores the signal (nohup, a supervisor) would. */
    run_spec s = {.argv = {hd_path("own_handler"), "--ignored", h_lib()},
                  .cwd = dir,
                  .no_preload = true};
    run_checked(&r, &s);
    expect_done(&r);
    ck_assert_msg(strstr(r.out.s, "ignored ok\n"), "%s", r.out.s);
    ck_assert_msg(r.err.len == 0, "an inherited SIG_IGN made mprof print:\n%.3000s", r.err.s);
    int n = files_of(dir, "mprof");
    ck_assert_msg(n == KINDS && g_files[0].seq == 1, "expected the exit dump only, got %d files",
                  n);
    hd_read_all(g_files, n);
    run_free(&r);
}
END_TEST

/* ======================================================================
 * Faults
 * ====================================================================== */

static const char *fault_lib(void)
{
    static char pre[2600];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s %s", hd_path("libhfault.so"), h_lib());
    return pre;
}

/* workload with a mid-run and an exit dump, both unwritable: same output
 * and status as bare, one mprof: line per dump naming `why`, and nothing
 * of a profile left in `outdir`. */
static void check_unwritable(const char *name, const char *outdir, const char *prefix,
                             const char **env, const char *why)
{
    const char *dir = hd_fresh(name);
    char pfx[1300];
    snprintf(pfx, sizeof pfx, "%s/%s", outdir, prefix);
    run r, b;
    run_spec s = {.argv = {hd_path("workload"), "--blocks", "4000", "--dump-self", pfx},
                  .cwd = dir};
    int k = 0;
    static char outenv[1400];
    snprintf(outenv, sizeof outenv, "MPROF_OUT=%s", pfx);
    s.env[k++] = outenv;
    s.env[k++] = "MPROF_MEM_RATE=1";
    for (int i = 0; env && env[i]; i++)
        s.env[k++] = env[i];
    run_checked(&r, &s);
    run_spec bs = {.argv = {hd_path("workload"), "--blocks", "4000"}, .cwd = dir};
    hd_run_bare(&b, &bs); /* no --dump-self: bare, USR2 would kill it */
    expect_status(&b, 3);
    expect_status(&r, 3);
    expect_same_output(&r, &b);
    strbuf l = {0};
    int n = hd_mprof_lines(r.err.s, &l);
    ck_assert_msg(n == 2 && l.len == r.err.len,
                  "%s: expected two mprof: lines (mid-run and exit dump), got:\n%s", name,
                  r.err.s);
    for (char *line = l.s, *end; (end = strchr(line, '\n')); line = end + 1) {
        *end = '\0';
        ck_assert_msg(strstr(line, "cannot write") && strstr(line, why),
                      "%s: line does not say '%s': %.300s", name, why, line);
    }
    sb_free(&l);
    strbuf names = {0};
    dir_entries(outdir, &names); /* nothing at all for a missing directory */
    sb_append(&names, "", 0);
    ck_assert_msg(!strstr(names.s, ".pb.gz"), "%s: profile files left in %s:\n%s", name,
                  outdir, names.s);
    sb_free(&names);
    run_free(&r);
    run_free(&b);
}

/* A real full file system: a 64 KiB tmpfs, filled to its last few KiB. */
START_TEST(fault_disk_full_tmpfs)
{
    const char *mnt = hd_fresh("fault_disk_full_tmpfs_mnt");
    if (!hd_mount_tmpfs(mnt, "size=64k", false))
        return;
    char filler[1300];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char buf[1024] = {0};
    while (fd >= 0 && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
        ;
    if (fd >= 0) { /* give back 2 KiB: a profile starts, then runs out */
        off_t size = lseek(fd, 0, SEEK_END);
        ck_assert_int_eq(ftruncate(fd, size > 2048 ? size - 2048 : 0), 0);
        close(fd);
    }
    check_unwritable("fault_disk_full_tmpfs", mnt, "x", NULL, strerror(ENOSPC));
    hd_umount(mnt);
}
END_TEST

/* The same without a mount: writes of profile files fail with ENOSPC
 * after 40 bytes (a short write first, as a filling disk does; an empty
 * profile gzips to some 90). */
START_TEST(fault_disk_full_injected)
{
    const char *dir = hd_fresh("fault_disk_full_injected_out");
    const char *env[] = {fault_lib(), "HFAULT_SPACE=40", NULL};
    check_unwritable("fault_disk_full_injected", dir, "x", env, strerror(ENOSPC));
    expect_no_tmp(dir);
}
END_TEST

START_TEST(fault_readonly_dir)
{
    const char *mnt = hd_fresh("fault_readonly_dir_mnt");
    if (hd_mount_tmpfs(mnt, "size=64k", true)) {
        check_unwritable("fault_readonly_dir", mnt, "x", NULL, strerror(EROFS));
        hd_umount(mnt);
    }
    /* and, mount or not, an open that fails with EACCES */
    const char *dir = hd_fresh("fault_readonly_dir_injected");
    const char *env[] = {fault_lib(), "HFAULT_OPEN=EACCES", NULL};
    check_unwritable("fault_readonly_dir_injected", dir, "x", env, strerror(EACCES));
}
END_TEST

START_TEST(fault_missing_dir)
{
    const char *dir = hd_fresh("fault_missing_dir");
    char missing[1300];
    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    check_unwritable("fault_missing_dir", missing, "x", NULL, strerror(ENOENT));
}
END_TEST

/* fdatasync (asked for with MPROF_SYNC=1) and rename failing: nothing
 * under the final name, no .tmp. */
START_TEST(fault_sync_and_rename)
{
    const char *d1 = hd_fresh("fault_sync_out");
    const char *e1[] = {fault_lib(), "HFAULT_SYNC=EIO", "MPROF_SYNC=1", NULL};
    check_unwritable("fault_sync", d1, "x", e1, strerror(EIO));
    expect_no_tmp(d1);
    const char *d2 = hd_fresh("fault_rename_out");
    const char *e2[] = {fault_lib(), "HFAULT_RENAME=EXDEV", NULL};
    check_unwritable("fault_rename", d2, "x", e2, strerror(EXDEV));
    expect_no_tmp(d2);
}
END_TEST

/* The arena's chunks stop coming after the first (or from the start):
 * the program runs as bare, the profile is written and says how many
 * samples were dropped, and those plus the ones kept are all of them. */
static void run_arena_full(const char *name, const char *chunks, run *r, long *kept,
                           long *dropped, long *blocks)
{
    const char *dir = hd_fresh(name);
    run b;
    run_spec s = spec_of(dir, LIST(hd_path("workload"), "--blocks", "300000", "--depths", "32"),
                         LIST(fault_lib(), chunks, "MPROF_MEM_RATE=1"));
    run_checked(r, &s);
    hd_run_bare(&b, &s);
    expect_status(r, 3);
    expect_same_output(r, &b);
    *blocks = out_long(r, "blocks");
    int n = files_of(dir, "mprof");
    ck_assert_msg(n == KINDS, "%s: %d files, expected one dump", name, n);
    hd_read_all(g_files, n);
    strbuf c = {0};
    hd_comments(hd_find(g_files, n, g_files[0].pid, 1, "heap")->path, &c);
    const char *m = strstr(c.s, "mprof: ");
    ck_assert_msg(m && sscanf(m, "mprof: %ld heap samples dropped", dropped) == 1,
                  "%s: no drop count in the profile's comments:\n%s", name, c.s);
    sb_free(&c);
    prof p;
    go_read(n, g_files[0].pid, 1, "heap", &p);
    prof_site s1;
    leaf_sum(&p, "work_site", &s1);
    *kept = s1.alloc_objects;
    prof_free(&p);
    run_free(&b);
}

START_TEST(fault_arena_full)
{
    run r;
    long kept, dropped, blocks;
    run_arena_full("fault_arena_full", "HFAULT_ARENA_CHUNKS=1", &r, &kept, &dropped, &blocks);
    /* a few allocations of libc (stdio) may be among the dropped */
    ck_assert_msg(kept > 0 && dropped > 0 && kept + dropped >= blocks &&
                      kept + dropped <= blocks + 50,
                  "kept %ld + dropped %ld should account for the %ld blocks", kept, dropped,
                  blocks);
    run_free(&r);
    run_arena_full("fault_arena_none", "HFAULT_ARENA_CHUNKS=0", &r, &kept, &dropped, &blocks);
    ck_assert_msg(kept == 0 && dropped >= blocks && dropped <= blocks + 50,
                  "no arena at all: kept %ld, dropped %ld of %ld", kept, dropped, blocks);
    run_free(&r);
}
END_TEST

/* ... and says so on stderr (DESIGN.md: "When mprof cannot do something
 * (... its arena full), it says so once on stderr"). */
START_TEST(fault_arena_full_said)
{
    run r;
    long kept, dropped, blocks;
    run_arena_full("fault_arena_full_said", "HFAULT_ARENA_CHUNKS=1", &r, &kept, &dropped,
                   &blocks);
    strbuf l = {0};
    int n = hd_mprof_lines(r.err.s, &l);
    ck_assert_msg(n == 1 && strstr(l.s, "dropped"),
                  "the arena filled up and %ld samples were dropped, but stderr has %d "
                  "mprof: lines:\n%s",
                  dropped, n, r.err.s);
    sb_free(&l);
    run_free(&r);
}
END_TEST

/* Frames an unwinder cannot (fully) unwind: coroutine stacks, JIT code
 * with and without a frame pointer, a frame without CFI on a garbage
 * stack.  The program completes, and every allocation is counted under its
 * size.  (Wrong CFI is out of reach: see unwind_torture.c.) */
START_TEST(unwind_hostile_frames)
{
    const char *dir = hd_fresh("unwind_hostile_frames");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("unwind_torture"), "--all"), LIST("MPROF_MEM_RATE=1"));
    run_quiet(&r, &s);
    long pid;
    int n = read_files(&r, dir, "mprof", &pid);
    prof p;
    go_read(n, pid, 1, "heap", &p);
    static const char *modes[] = {"ucontext", "jit_fp", "jit_nofp", "garbage"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "mode %s", modes[i]);
        long v[1];
        ck_assert_msg(out_ints(r.out.s, key, v, 1) == 1, "no '%s' line", key);
        long long size = v[0], count = 0;
        const char *l = strstr(r.out.s, key);
        sscanf(l + strlen(key), " %lld %lld", &size, &count);
        prof_site sz;
        hd_size_sum(&p, size, &sz);
        ck_assert_msg(sz.alloc_objects == count && sz.inuse_objects == count,
                      "%s: %lld allocated / %lld live blocks of %lld B, expected %lld",
                      modes[i], sz.alloc_objects, sz.inuse_objects, size, count);
    }
    truth t = {.size = 1111, .alloc_n = 200, .alloc_b = 200 * 1111, .inuse_n = 200,
               .inuse_b = 200 * 1111};
    snprintf(t.site, sizeof t.site, "coro_site");
    expect_site(&p, &t, "makecontext stacks");
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* Every descriptor closed, or /dev/null dup2'ed over all of them: the
 * dump asked for afterwards and the exit dump are both written, exact. */
static void fd_chaos(const char *name, const char *mode)
{
    const char *dir = hd_fresh(name);
    char out[1300];
    snprintf(out, sizeof out, "%s/fd", dir);
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("fd_chaos"), mode, "--out", out),
                         LIST("MPROF_MEM_RATE=1", env_out(dir, "fd")));
    run_checked(&r, &s);
    expect_status(&r, 0);
    long pid;
    int n = read_files(&r, dir, "fd", &pid);
    ck_assert_msg(hd_count(g_files, n, pid, "") == 2 * KINDS, "%s: expected 2 dumps, got %d files",
                  name, n);
    truth t = {.size = 777, .alloc_n = 200, .alloc_b = 200 * 777, .inuse_n = 200,
               .inuse_b = 200 * 777};
    snprintf(t.site, sizeof t.site, "fd_site");
    for (long seq = 1; seq <= 2; seq++) {
        prof p;
        go_read(n, pid, seq, "heap", &p);
        expect_site(&p, &t, name);
        prof_free(&p);
    }
    run_free(&r);
}

START_TEST(fd_close_all)
{
    fd_chaos("fd_close_all", "--close");
}
END_TEST

START_TEST(fd_dup2_over_all)
{
    fd_chaos("fd_dup2_over_all", "--dup2");
}
END_TEST

/* Every descriptor taken (opened until EMFILE): the dump asked for then
 * cannot be written.  mprof says so in one line naming the reason, the
 * program goes on unharmed, and once it has given the descriptors back
 * the exit dump is written whole and exact. */
START_TEST(fd_exhausted)
{
    const char *dir = hd_fresh("fd_exhausted");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("fd_chaos"), "--exhaust"), LIST("MPROF_MEM_RATE=1",
                                                                           env_out(dir, "fd")));
    run_checked(&r, &s);
    expect_status(&r, 0);
    ck_assert_msg(strstr(r.out.s, "exhausted") && strstr(r.out.s, strerror(EMFILE)),
                  "the program did not run out of descriptors:\n%s", r.out.s);
    strbuf l = {0};
    int n = hd_mprof_lines(r.err.s, &l);
    ck_assert_msg(n == 1 && strstr(l.s, "dump 1") && strstr(l.s, strerror(EMFILE)),
                  "expected one mprof: line about dump 1 and EMFILE, got:\n%s", r.err.s);
    sb_free(&l);
    long pid;
    int nf = read_files(&r, dir, "fd", &pid);
    ck_assert_msg(hd_count(g_files, nf, pid, "") == KINDS, "expected the exit dump only, got %d files",
                  nf);
    truth t = {.size = 777, .alloc_n = 100, .alloc_b = 100 * 777, .inuse_n = 100,
               .inuse_b = 100 * 777};
    snprintf(t.site, sizeof t.site, "fd_site");
    prof p;
    go_read(nf, pid, 2, "heap", &p);
    expect_site(&p, &t, "fd_exhausted");
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* malloc/free in a SIGALRM handler firing every 50 us while the main
 * thread allocates at rate 1 and locks. */
START_TEST(malloc_in_signal_handler)
{
    const char *dir = hd_fresh("malloc_in_signal_handler");
    run r;
    run_spec s = spec_of(dir, LIST(hd_path("sigalrm_malloc"), "--ms", "1000", "--us", "50"),
                         LIST(ALL_PROFILES));
    run_quiet(&r, &s);
    truth t[MAX_TRUTHS];
    get_truths(&r, t, 2);
    long pid;
    int n = read_files(&r, dir, "mprof", &pid);
    prof p;
    go_read(n, pid, 1, "heap", &p);
    expect_site(&p, &t[0], "main thread");
    prof_site h;
    leaf_sum(&p, "handler_site", &h);
    ck_assert_msg(h.alloc_objects > 0 && h.alloc_objects <= t[1].alloc_n &&
                      h.inuse_objects == 0,
                  "handler: %lld allocated / %lld live, expected 1..%lld / 0",
                  h.alloc_objects, h.inuse_objects, t[1].alloc_n);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* ---- the suite ---- */

/* Mounts of a failed test (its umount never ran): unchecked teardowns
 * run in the runner process whatever the test did. */
static void umount_leftovers(void)
{
    hd_umount(hd_path("work/fault_disk_full_tmpfs_mnt"));
    hd_umount(hd_path("work/fault_readonly_dir_mnt"));
}

static void add(Suite *s, const char *name, const TTest *t, int timeout)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    tcase_add_unchecked_fixture(tc, NULL, umount_leftovers);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}

int main(void)
{
    /* These tests count one file per profile per dump, and wait for a
     * dump's mutex file, empty or not; that empty profiles are left out
     * by default is tested in test_integration and test_host. */
    run_default_env("MPROF_WRITE_EMPTY=1");
    Suite *s = suite_create("hardening");
    add(s, "stress_32_threads_exact", stress_32_threads_exact, 90);
    add(s, "stress_64_threads_fast_epochs", stress_64_threads_fast_epochs, 90);
    add(s, "dlopen_dlclose_churn", dlopen_dlclose_churn, 90);
    add(s, "dump_stays_off_the_network", dump_stays_off_the_network, 90);
    add(s, "signal_storm_from_a_thread", signal_storm_from_a_thread, 120);
    add(s, "signal_storm_from_another_process", signal_storm_from_another_process, 120);
    add(s, "exit_racing_threads", exit_racing_threads, 120);
    add(s, "fork_storm_from_threads", fork_storm_from_threads, 120);
    add(s, "posix_spawn_and_vfork", posix_spawn_and_vfork, 90);
    add(s, "cxx_exceptions_through_sampled_frames", cxx_exceptions_through_sampled_frames, 90);
    add(s, "own_handler_installed_wins", own_handler_installed_wins, 60);
    add(s, "own_handler_installed_quiet", own_handler_installed_quiet, 60);
    add(s, "own_handler_inherited_ignore", own_handler_inherited_ignore, 60);
    add(s, "own_handler_reset_before_exec_quiet", own_handler_reset_before_exec_quiet, 60);
    add(s, "fault_disk_full_tmpfs", fault_disk_full_tmpfs, 60);
    add(s, "fault_disk_full_injected", fault_disk_full_injected, 60);
    add(s, "fault_readonly_dir", fault_readonly_dir, 60);
    add(s, "fault_missing_dir", fault_missing_dir, 60);
    add(s, "fault_sync_and_rename", fault_sync_and_rename, 60);
    add(s, "fault_arena_full", fault_arena_full, 90);
    add(s, "fault_arena_full_said", fault_arena_full_said, 90);
    add(s, "unwind_hostile_frames", unwind_hostile_frames, 60);
    add(s, "fd_close_all", fd_close_all, 60);
    add(s, "fd_dup2_over_all", fd_dup2_over_all, 60);
    add(s, "fd_exhausted", fd_exhausted, 60);
    add(s, "malloc_in_signal_handler", malloc_in_signal_handler, 90);
    return run_built_suite(s);
}
