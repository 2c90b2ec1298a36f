/*
 * test_host: the program under mprof behaves as it does bare, for every
 * kind of harm in issue 10.
 *
 * Each test runs a program of test/hardening/progs (host_*) bare and under
 * LD_PRELOAD=libmprof.so, and compares what the program itself produces:
 * its exit status, stdout, stderr, and the files it writes.  Where a profile
 * is expected, it is read back with `go tool pprof` (prof.h) and checked
 * against what the program says it did.  Runs that hang are killed after a
 * generous deadline and fail their test; nothing here measures speed.
 *
 *   host_descriptors             fds 3..10 are the program's own
 *   host_errno                   no exported function changes errno
 *   host_exit_in_signal_handler  exit() from a handler that interrupted malloc
 *   host_small_stacks            8 KiB sigaltstack, 16..64 KiB threads that exit
 *   host_stack_budget            what a sampled event takes of the caller's stack
 *   host_fork_while_sampling     500 forks while two threads sample
 *   host_sigterm_in_malloc       SIGTERM while every thread is in malloc
 *   host_main_pthread_exit       the process ends with its last thread
 *   host_user_namespaces         unshare(CLONE_NEWUSER) and setns need one thread
 *   host_setpriv                 set*id with capabilities on one thread only
 *   host_short_lived_processes   nothing recorded, nothing left behind
 *   host_clean_stderr            a clean C and C++ run: stderr as bare
 *
 * Only what cannot run here bare is skipped, each with a "SKIP:" line that
 * says why: user namespaces the kernel refuses, what needs root, setpriv
 * where util-linux lacks it.
 * Work directories: build/test/hardening/work/host_*.
 */
#include "hutil.h"

#include "pprof.h"

#include <check.h>
#include "run_suite.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The library's stated budget: what a sampled event may take of its
 * caller's stack (core/record/onstack.h; DESIGN.md, "Stack budget"). */
#include "onstack.h"
#define MPROF_TEST_STACK_BUDGET MPROF_CALLER_STACK_BUDGET

#define HANG_MS 15000 /* a run still going after this is hung */
#define MAX_FILES 4096
#define MAX_TRUTHS 16
#define ALL_PROFILES "MPROF_MEM_RATE=1", "MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1"

static hd_file g_files[MAX_FILES];
static char g_desc[8192];

/* ---- running ---- */

/* Start, wait up to ms, and fail the test if it had to be killed. */
static void run_for(run *r, const run_spec *s, int ms, const char *what)
{
    run_start(r, s);
    run_finish(r, ms);
    ck_assert_msg(!r->timed_out,
                  "%s: hung: still running after %d s, killed\nstdout:\n%.1500s\n"
                  "stderr:\n%.1500s",
                  what, ms / 1000, r->out.s, r->err.s);
}

/* <dir>/<name>, created; the result lives until the 8th call after. */
static const char *subdir(const char *dir, const char *name)
{
    static char bufs[8][1300];
    static int next;
    char *d = bufs[next++ % 8];
    snprintf(d, sizeof bufs[0], "%s/%s", dir, name);
    mkdir(d, 0755);
    return d;
}

/* ---- comparing with a bare run ---- */

/* Lines of s, without those that start with one of the prefixes. */
static void drop_lines(const char *s, const char *const *prefixes, strbuf *b)
{
    for (const char *l = s; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l + 1) : strlen(l);
        bool drop = false;
        for (int i = 0; prefixes[i]; i++)
            drop |= strncmp(l, prefixes[i], strlen(prefixes[i])) == 0;
        if (!drop)
            sb_append(b, l, len);
        l += len;
    }
    if (!b->s)
        sb_append(b, "", 0);
}

/* The first line where a and b differ, for a message. */
static const char *first_difference(const char *a, const char *b)
{
    static char msg[1024];
    int line = 1;
    const char *la = a, *lb = b; /* starts of the current line */
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++, b++;
    }
    snprintf(msg, sizeof msg, "line %d: '%.*s' under mprof, '%.*s' bare", line,
             (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
    return msg;
}

enum { SAME_TRUTH = 1, MPROF_LINES_OK = 2 };

/* Exit status, stdout and stderr as bare.  stdout is compared without the
 * "pid N"/"parent N" lines, and without "truth" lines unless SAME_TRUTH
 * (their counts may be the run's own); MPROF_LINES_OK lets mprof add lines
 * of its own on stderr where it could not do something (the rest of
 * stderr must be as bare). */
static void expect_as_bare(const char *what, const run *r, const run *b, int flags)
{
    ck_assert_msg(run_exit_code(r) == run_exit_code(b),
                  "%s: exit status %d under mprof, %d bare\nstdout:\n%.1500s\nstderr:\n%.1500s",
                  what, run_exit_code(r), run_exit_code(b), r->out.s, r->err.s);
    const char *ids[] = {"pid ", "parent ", NULL};
    const char *ids_truth[] = {"pid ", "parent ", "truth ", NULL};
    strbuf x = {0}, y = {0};
    drop_lines(r->out.s, flags & SAME_TRUTH ? ids : ids_truth, &x);
    drop_lines(b->out.s, flags & SAME_TRUTH ? ids : ids_truth, &y);
    ck_assert_msg(strcmp(x.s, y.s) == 0, "%s: stdout differs from a bare run's, %s", what,
                  first_difference(x.s, y.s));
    sb_free(&x);
    sb_free(&y);
    const char *mprof_lines[] = {"mprof:", NULL}, *none[] = {NULL};
    drop_lines(r->err.s, flags & MPROF_LINES_OK ? mprof_lines : none, &x);
    ck_assert_msg(strcmp(x.s, b->err.s) == 0,
                  "%s: stderr differs from a bare run's, %s\n--- under mprof:\n%.2000s", what,
                  first_difference(x.s, b->err.s), r->err.s);
    sb_free(&x);
}

/* Two files byte for byte. */
static void expect_same_file(const char *what, const char *path, const char *bare_path)
{
    strbuf a = {0}, b = {0};
    const char *paths[2] = {path, bare_path};
    strbuf *bufs[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        int fd = open(paths[i], O_RDONLY);
        ck_assert_msg(fd >= 0, "%s: cannot open %s: %s", what, paths[i], strerror(errno));
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            sb_append(bufs[i], buf, (size_t)n);
        close(fd);
        if (!bufs[i]->s)
            sb_append(bufs[i], "", 0);
    }
    size_t at = 0;
    while (at < a.len && at < b.len && a.s[at] == b.s[at])
        at++;
    ck_assert_msg(a.len == b.len && at == a.len,
                  "%s: %s differs from the bare run's at byte %zu of %zu (bare: %zu bytes); "
                  "under mprof: '%.40s', bare: '%.40s'",
                  what, path, at, a.len, b.len, at < a.len ? a.s + at : "",
                  at < b.len ? b.s + at : "");
    sb_free(&a);
    sb_free(&b);
}

/* ---- profiles ---- */

static long out_long(const run *r, const char *key)
{
    long v = 0;
    ck_assert_msg(out_ints(r->out.s, key, &v, 1) == 1, "no '%s <n>' in stdout:\n%.2000s", key,
                  r->out.s);
    return v;
}

static const truth *truth_of(const run *r, const char *site, int phase)
{
    static truth t[MAX_TRUTHS];
    int n = truths_parse(r->out.s, t, MAX_TRUTHS);
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].site, site) == 0 && (phase == 0 || t[i].phase == phase))
            return &t[i];
    ck_abort_msg("no truth line for %s in stdout:\n%.2000s", site, r->out.s);
    return NULL;
}

/* The files of a run; every one must read back whole, none left as .tmp. */
static int files_of(const char *dir, const char *prefix)
{
    int n = hd_files(dir, prefix, g_files, MAX_FILES);
    ck_assert_msg(n < MAX_FILES, "%s: too many profile files", dir);
    hd_read_all(g_files, n);
    strbuf l = {0};
    dir_entries(dir, &l);
    ck_assert_msg(!strstr(l.s, ".tmp"), "temporary file left in %s:\n%.2000s", dir, l.s);
    sb_free(&l);
    return n;
}

/* The last heap file of pid (its exit dump), or fail.  n, g_files: from
 * files_of(). */
static const char *exit_heap(const char *what, int n, long pid)
{
    ck_assert_msg(n > 0, "%s: no profile files at all; expected the exit dump", what);
    const hd_file *last = NULL;
    for (int i = 0; i < n; i++)
        if (g_files[i].pid == pid && strcmp(g_files[i].kind, "heap") == 0)
            last = &g_files[i];
    ck_assert_msg(last, "%s: no heap profile from pid %ld (%d profile files in all)", what, pid,
                  n);
    return last->path;
}

/* At MPROF_MEM_RATE=1 the profile is exact: the site's four values are
 * what the program counted. */
static void expect_exact(const char *what, const char *path, const truth *t)
{
    prof p;
    hd_go_read(path, &p);
    prof_site s;
    prof_site_sum(&p, t->site, PROF_EXACT, &s);
    if (s.alloc_objects != t->alloc_n || s.alloc_space != t->alloc_b ||
        s.inuse_objects != t->inuse_n || s.inuse_space != t->inuse_b)
        prof_describe(&p, g_desc, 2000, 12);
    ck_assert_msg(s.alloc_objects == t->alloc_n && s.alloc_space == t->alloc_b &&
                      s.inuse_objects == t->inuse_n && s.inuse_space == t->inuse_b,
                  "%s: %s: alloc %lld / %lld B, inuse %lld / %lld B; the program did alloc "
                  "%lld / %lld B, inuse %lld / %lld B\n%s",
                  what, t->site, s.alloc_objects, s.alloc_space, s.inuse_objects, s.inuse_space,
                  t->alloc_n, t->alloc_b, t->inuse_n, t->inuse_b, g_desc);
    prof_free(&p);
}

/* Samples in a profile file with any value other than 0 (mprof's reader). */
static long samples_in(const char *path)
{
    mprof_pprof_profile p;
    char err[512];
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    long n = 0;
    for (size_t i = 0; i < p.nsample; i++)
        for (size_t k = 0; k < p.sample[i].nvalue; k++)
            if (p.sample[i].value[k] != 0) {
                n++;
                break;
            }
    mprof_pprof_free(&p);
    return n;
}

/* ======================================================================
 * Descriptors
 * ====================================================================== */

static void write_input(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    unsigned x = 12345;
    for (int i = 0; i < 1500; i++) {
        x = x * 1103515245u + 12345u;
        fprintf(f, "line %d %.*s\n", i, (int)(x >> 26),
                "the quick brown fox jumps over the lazy dog");
    }
    fclose(f);
}

/* The program closes 3..1023 and opens its own files there, or dup2s them
 * onto 3..10, while four threads allocate (and lock) at every sample: what
 * it reads and what it writes, and the numbers open() gives it, are as
 * bare. */
START_TEST(host_descriptors)
{
    const char *dir = hd_fresh("host_descriptors");
    char in[1300];
    snprintf(in, sizeof in, "%s/in.txt", dir);
    write_input(in);
    static const char *modes[] = {"reopen", "dup2"};
    for (int m = 0; m < 2; m++) {
        char bare_dir[1300];
        snprintf(bare_dir, sizeof bare_dir, "%s", subdir(dir, modes[m]));
        run b;
        run_spec bs = {.argv = {hd_path("host_fds"), "--in", in, "--mode", modes[m]},
                       .cwd = bare_dir};
        hd_run_bare(&b, &bs);
        ck_assert_msg(run_exit_code(&b) == 0, "bare run failed:\n%s%s", b.out.s, b.err.s);
        for (int rate1 = 1; rate1 >= 0; rate1--) {
            char name[64], what[128];
            snprintf(name, sizeof name, "%s_%s", modes[m], rate1 ? "rate1" : "default");
            snprintf(what, sizeof what, "--mode %s, %s", modes[m],
                     rate1 ? "every event sampled" : "default settings");
            const char *wd = subdir(dir, name);
            run r;
            run_spec s = {.argv = {hd_path("host_fds"), "--in", in, "--mode", modes[m]},
                          .env = {"MPROF_EPOCH_MS=100"},
                          .cwd = wd};
            if (rate1) {
                s.env[1] = "MPROF_MEM_RATE=1";
                s.env[2] = "MPROF_BLOCK_RATE=1";
                s.env[3] = "MPROF_MUTEX_FRACTION=1";
            }
            run_for(&r, &s, HANG_MS, what);
            expect_as_bare(what, &r, &b, 0);
            for (int k = 4; k <= 10; k++) {
                char p[1400], bp[1400];
                snprintf(p, sizeof p, "%s/out.%d", wd, k);
                snprintf(bp, sizeof bp, "%s/out.%d", bare_dir, k);
                expect_same_file(what, p, bp);
            }
            int n = files_of(wd, "mprof");
            if (rate1) {
                const char *h = exit_heap(what, n, g_files[0].pid);
                expect_exact(what, h, truth_of(&r, "fds_main_site", 1));
                expect_exact(what, h, truth_of(&r, "fds_thread_site", 1));
            }
            run_free(&r);
        }
        run_free(&b);
    }
}
END_TEST

/* ======================================================================
 * errno
 * ====================================================================== */

/* "errno NAME RESULT" lines of a run, as NAME\tRESULT\n. */
static void errno_lines(const char *out, strbuf *b)
{
    for (const char *l = out; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        if (strncmp(l, "errno ", 6) == 0) {
            const char *name = l + 6, *sp = memchr(name, ' ', len - 6);
            if (sp) {
                sb_append(b, name, (size_t)(sp - name));
                sb_append(b, "\t", 1);
                sb_append(b, sp + 1, len - (size_t)(sp + 1 - l));
                sb_append(b, "\n", 1);
            }
        }
        l += len + (end ? 1 : 0);
    }
    if (!b->s)
        sb_append(b, "", 0);
}

/* RESULT for NAME in errno_lines() output, or NULL. */
static const char *errno_result(const char *lines, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    for (const char *l = lines; *l;) {
        const char *end = strchr(l, '\n');
        if (strncmp(l, name, n) == 0 && l[n] == '\t') {
            snprintf(buf, cap, "%.*s", (int)(end - l - (long)n - 1), l + n + 1);
            return buf;
        }
        l = end + 1;
    }
    return NULL;
}

/* Every function libmprof.so exports (nm -D --defined-only: T, W, i),
 * except the project's own mprof_* API. */
static int exported_functions(char names[][256], int max)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", h_lib());
    FILE *f = popen(cmd, "r");
    ck_assert_msg(f, "cannot run nm");
    int n = 0;
    char line[512], type, name[256];
    while (fgets(line, sizeof line, f) && n < max) {
        if (sscanf(line, "%*s %c %255s", &type, name) != 2)
            continue;
        if (!strchr("TWi", type) || strncmp(name, "mprof_", 6) == 0)
            continue;
        char *at = strchr(name, '@');
        if (at)
            *at = '\0';
        memcpy(names[n++], name, sizeof name);
    }
    ck_assert_msg(pclose(f) == 0 && n > 0, "nm -D --defined-only %s failed", h_lib());
    return n;
}

/* errno set to a sentinel before each successful call is unchanged after
 * it, for every exported function, every event sampled; where glibc itself
 * changes it, the bare run says so and the two must agree. */
START_TEST(host_errno)
{
    const char *dir = hd_fresh("host_errno");
    run r, b;
    run_spec s = {.argv = {hd_path("host_errno")}, .env = {ALL_PROFILES}, .cwd = dir};
    run_for(&r, &s, 60000, "host_errno");
    hd_run_bare(&b, &s);
    ck_assert_msg(run_exit_code(&b) == 0, "bare run failed:\n%s", b.err.s);
    ck_assert_msg(run_exit_code(&r) == 0, "exit status %d under mprof, 0 bare\nstderr:\n%.2000s",
                  run_exit_code(&r), r.err.s);
    strbuf ml = {0}, bl = {0}, bad = {0};
    errno_lines(r.out.s, &ml);
    errno_lines(b.out.s, &bl);
    int checked = 0;
    for (const char *l = ml.s; *l;) {
        const char *end = strchr(l, '\n');
        char name[128], got[256], want[256];
        const char *tab = strchr(l, '\t');
        snprintf(name, sizeof name, "%.*s", (int)(tab - l), l);
        snprintf(got, sizeof got, "%.*s", (int)(end - tab - 1), tab + 1);
        const char *w = errno_result(bl.s, name, want, sizeof want);
        if (!w)
            w = "ok"; /* found only under mprof: it is mprof's */
        if (strcmp(got, w) != 0)
            sb_printf(&bad, "  %s: %s under mprof, %s bare\n", name, got, w);
        checked++;
        l = end + 1;
    }
    static char names[512][256];
    int n = exported_functions(names, 512);
    char buf[256];
    for (int i = 0; i < n; i++)
        if (!errno_result(ml.s, names[i], buf, sizeof buf))
            sb_printf(&bad, "  %s: exported by libmprof.so, not checked by host_errno "
                      "(add a case to test/hardening/progs/host_errno.c)\n", names[i]);
    ck_assert_msg(checked > 50, "host_errno checked only %d functions:\n%.2000s", checked,
                  r.out.s);
    ck_assert_msg(bad.len == 0,
                  "errno after a successful call differs from a bare run (sentinel %d "
                  "before each call):\n%.3000s",
                  24301, bad.s);
    sb_free(&ml);
    sb_free(&bl);
    sb_free(&bad);
    run_free(&r);
    run_free(&b);
}
END_TEST

/* ======================================================================
 * exit() from a signal handler that interrupted malloc
 * ====================================================================== */

/* The handler calls exit(3) while the interrupted code is inside glibc's
 * malloc (holding its arena lock).  With glibc's own malloc in the loop
 * the interrupted frame is never mprof's, so the exit dump can always be
 * written, and it must be, exact; with the interposed malloc the frame
 * may be mprof's own, and then it may say in one line why there is no
 * dump.  Either way: no hang, status 3, output as bare. */
START_TEST(host_exit_in_signal_handler)
{
    const char *dir = hd_fresh("host_exit_in_signal_handler");
    run b;
    run_spec bs = {.argv = {hd_path("host_sigexit"), "--loop", "libc"}, .cwd = dir};
    hd_run_bare(&b, &bs);
    ck_assert_msg(run_exit_code(&b) == 3, "bare run: status %d, expected 3", run_exit_code(&b));
    for (int i = 0; i < 5; i++) {
        char name[64], what[128];
        snprintf(name, sizeof name, "libc_%d", i);
        snprintf(what, sizeof what, "glibc's malloc interrupted, every allocation sampled, run %d",
                 i + 1);
        const char *wd = subdir(dir, name);
        run r;
        run_spec s = {.argv = {hd_path("host_sigexit"), "--loop", "libc"},
                      .env = {"MPROF_MEM_RATE=1"},
                      .cwd = wd};
        run_for(&r, &s, HANG_MS, what);
        expect_as_bare(what, &r, &b, SAME_TRUTH);
        int n = files_of(wd, "mprof");
        ck_assert_msg(n > 0, "%s: no exit dump", what);
        expect_exact(what, exit_heap(what, n, g_files[0].pid),
                     truth_of(&r, "sigexit_site", 1));
        run_free(&r);
    }
    run_free(&b);
    run_spec bs2 = {.argv = {hd_path("host_sigexit"), "--loop", "mprof"}, .cwd = dir};
    hd_run_bare(&b, &bs2);
    for (int i = 0; i < 6; i++) {
        char name[64], what[128];
        bool rate1 = i % 2;
        snprintf(name, sizeof name, "mprof_%d", i);
        snprintf(what, sizeof what, "malloc interrupted, %s, run %d",
                 rate1 ? "every allocation sampled" : "default settings", i / 2 + 1);
        const char *wd = subdir(dir, name);
        run r;
        run_spec s = {.argv = {hd_path("host_sigexit"), "--loop", "mprof"},
                      .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                      .cwd = wd};
        run_for(&r, &s, HANG_MS, what);
        expect_as_bare(what, &r, &b, SAME_TRUTH | MPROF_LINES_OK);
        files_of(wd, "mprof");
        run_free(&r);
    }
    run_free(&b);
}
END_TEST

/* ======================================================================
 * Small stacks
 * ====================================================================== */

static void small_stack_case(const char *dir, const char *name, const char **args, bool rate1,
                             const char *site)
{
    char what[256];
    int len = 0;
    for (int i = 0; args[i]; i++)
        len += snprintf(what + len, sizeof what - (size_t)len, "%s ", args[i]);
    snprintf(what + len - 1, sizeof what - (size_t)len + 1, ", %s",
             rate1 ? "every allocation sampled" : "default settings");
    const char *wd = subdir(dir, name);
    run r, b;
    run_spec s = {.argv = {hd_path("host_smallstack")},
                  .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                  .cwd = wd};
    for (int i = 0; args[i] && i < 8; i++)
        s.argv[1 + i] = args[i];
    hd_run_bare(&b, &s);
    ck_assert_msg(run_exit_code(&b) == 0, "%s: the bare run fails (status %d):\n%s", what,
                  run_exit_code(&b), b.out.s);
    run_for(&r, &s, HANG_MS, what);
    expect_as_bare(what, &r, &b, SAME_TRUTH);
    int n = files_of(wd, "mprof");
    if (rate1) {
        ck_assert_msg(n > 0, "%s: no exit dump", what);
        expect_exact(what, exit_heap(what, n, g_files[0].pid), truth_of(&r, site, 1));
    } else if (site) {
        ck_assert_msg(n > 0, "%s: no exit dump", what);
        prof p;
        hd_go_read(exit_heap(what, n, g_files[0].pid), &p);
        prof_site ps;
        prof_site_sum(&p, site, PROF_EXACT, &ps);
        ck_assert_msg(ps.nsamples > 0, "%s: no sample of %s", what, site);
        prof_free(&p);
    }
    run_free(&r);
    run_free(&b);
}

/* A handler on an 8 KiB alternate stack that allocates, and threads with
 * 16, 32 and 64 KiB stacks that allocate and call exit(): as bare, and the
 * exit dump written and exact. */
START_TEST(host_small_stacks)
{
    const char *dir = hd_fresh("host_small_stacks");
    const char *alt1[] = {"--altstack", "8192", "--n", "20", "--size", "48", NULL};
    small_stack_case(dir, "alt_rate1", alt1, true, "alt_site");
    const char *alt2[] = {"--altstack", "8192", "--n", "50", "--size", "262144", NULL};
    small_stack_case(dir, "alt_default", alt2, false, "alt_site");
    static const char *sizes[] = {"16384", "32768", "65536"};
    for (int i = 0; i < 3; i++) {
        char name[64];
        const char *th[] = {"--thread-stack", sizes[i], NULL};
        snprintf(name, sizeof name, "thread_%s_rate1", sizes[i]);
        small_stack_case(dir, name, th, true, "thread_site");
        snprintf(name, sizeof name, "thread_%s_default", sizes[i]);
        small_stack_case(dir, name, th, false, NULL);
    }
}
END_TEST

/* ======================================================================
 * The stack budget
 * ====================================================================== */

/* "stack OP N" of a run, as OP\tN\n ("over" for too deep to tell). */
static long stack_of(const run *r, const char *op)
{
    char key[64];
    snprintf(key, sizeof key, "stack %s ", op);
    const char *l = strstr(r->out.s, key);
    ck_assert_msg(l, "no '%s' line:\n%s", key, r->out.s);
    l += strlen(key);
    if (strncmp(l, "over ", 5) == 0)
        return 1L << 30;
    return strtol(l, NULL, 10);
}

/* A sampled malloc (its thread's first and later ones), free, calloc,
 * realloc, a contended lock and an unlock with a waiter take at most
 * MPROF_TEST_STACK_BUDGET bytes of the caller's stack beyond what glibc
 * itself takes, measured by the program on a painted stack. */
START_TEST(host_stack_budget)
{
    const char *dir = hd_fresh("host_stack_budget");
    run b;
    run_spec bs = {.argv = {hd_path("host_stackbudget")}, .cwd = dir};
    hd_run_bare(&b, &bs);
    ck_assert_msg(run_exit_code(&b) == 0, "bare run failed:\n%s%s", b.out.s, b.err.s);
    static const char *ops[] = {"malloc_first", "malloc", "free", "calloc", "realloc", "lock",
                                "unlock"};
    for (int rate1 = 1; rate1 >= 0; rate1--) {
        run r;
        run_spec s = {.argv = {hd_path("host_stackbudget")}, .env = {ALL_PROFILES}, .cwd = dir};
        if (!rate1)
            s.env[0] = s.env[1] = s.env[2] = NULL;
        run_for(&r, &s, HANG_MS, "host_stackbudget");
        ck_assert_msg(run_exit_code(&r) == 0, "status %d under mprof\nstderr:\n%.2000s",
                      run_exit_code(&r), r.err.s);
        strbuf bad = {0};
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            long m = stack_of(&r, ops[i]), z = stack_of(&b, ops[i]);
            if (m - z > MPROF_TEST_STACK_BUDGET)
                sb_printf(&bad, "  %s: %ld bytes under mprof, %ld bare: %ld more\n", ops[i], m, z,
                          m - z);
        }
        ck_assert_msg(bad.len == 0,
                      "%s: sampled events take more than the stated %d bytes of the caller's "
                      "stack:\n%s",
                      rate1 ? "every event sampled" : "default settings",
                      MPROF_TEST_STACK_BUDGET, bad.s);
        sb_free(&bad);
        run_free(&r);
    }
    run_free(&b);
}
END_TEST

/* ======================================================================
 * fork while other threads sample
 * ====================================================================== */

/* 500 children forked one at a time while two threads are in the
 * profiler's stack capture much of the time; each child samples its very
 * first malloc.  No lock of mprof or of any library it calls may be held
 * in a child: none hangs (the program kills one after 5 s and stops). */
START_TEST(host_fork_while_sampling)
{
    const char *dir = hd_fresh("host_fork_while_sampling");
    run r, b;
    run_spec s = {.argv = {hd_path("host_forks"), "--forks", "500", "--threads", "2"},
                  .env = {"MPROF_MEM_RATE=1"},
                  .cwd = dir};
    hd_run_bare(&b, &s);
    ck_assert_msg(strstr(b.out.s, "forks 500 ok 500 hung 0 failed 0\n"), "bare run:\n%s%s",
                  b.out.s, b.err.s);
    run_for(&r, &s, 90000, "500 forks");
    ck_assert_msg(strstr(r.out.s, "forks 500 ok 500 hung 0 failed 0\n"),
                  "a fork child under mprof did not finish (bare: all 500 did):\n%.500s%.1000s",
                  r.out.s, r.err.s);
    expect_as_bare("500 forks", &r, &b, 0);
    int n = files_of(dir, "mprof");
    ck_assert_msg(n > 0, "no exit dump of the parent");
    expect_exact("500 forks, parent", exit_heap("500 forks", n, g_files[0].pid),
                 truth_of(&r, "fork_thread_site", 1));
    run_free(&r);
    run_free(&b);
}
END_TEST

/* ======================================================================
 * SIGTERM while every thread is in malloc
 * ====================================================================== */

/* Start host_sigterm (bare if wd is NULL), SIGTERM it 100 ms after it is
 * ready, and wait for its end. */
static void sigterm_run(const char *wd, const char *handler, bool rate1, run *r)
{
    run_spec s = {.argv = {hd_path("host_sigterm"), "--handler", handler},
                  .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                  .cwd = wd,
                  .no_preload = wd == NULL};
    run_start(r, &s);
    bool ready = run_wait_stdout(r, "ready\n", HANG_MS);
    if (!ready)
        run_kill(r, SIGKILL);
    ck_assert_msg(ready, "--handler %s: no 'ready' within %d s:\n%s%s", handler, HANG_MS / 1000,
                  r->out.s, r->err.s);
    sleep_ms(100);
    run_kill(r, SIGTERM);
    run_finish(r, HANG_MS);
    ck_assert_msg(!r->timed_out,
                  "--handler %s, %s%s: hung: SIGTERM did not end it within %d s (killed)\n"
                  "stderr:\n%.1500s",
                  handler, wd ? "" : "bare, ",
                  rate1 ? "every allocation sampled" : "default settings", HANG_MS / 1000,
                  r->err.s);
}

/* The program without a handler dies by SIGTERM, one whose handler calls
 * _exit(6) or exit(5) exits with that status, as bare; no hang. */
START_TEST(host_sigterm_in_malloc)
{
    const char *dir = hd_fresh("host_sigterm_in_malloc");
    static const char *handlers[] = {"none", "_exit", "exit"};
    static const int rounds[] = {2, 2, 4};
    for (int h = 0; h < 3; h++) {
        run b;
        sigterm_run(NULL, handlers[h], false, &b);
        for (int i = 0; i < 2 * rounds[h]; i++) {
            bool rate1 = i % 2;
            char name[64], what[128];
            snprintf(name, sizeof name, "%s_%d", handlers[h], i);
            snprintf(what, sizeof what, "SIGTERM, --handler %s, %s, run %d", handlers[h],
                     rate1 ? "every allocation sampled" : "default settings", i / 2 + 1);
            const char *wd = subdir(dir, name);
            run r;
            sigterm_run(wd, handlers[h], rate1, &r);
            /* exit() runs exit handlers: if mprof cannot dump there, it may say so */
            expect_as_bare(what, &r, &b, h == 2 ? MPROF_LINES_OK : 0);
            files_of(wd, "mprof");
            run_free(&r);
        }
        run_free(&b);
    }
}
END_TEST

/* ======================================================================
 * The main thread's pthread_exit
 * ====================================================================== */

/* main calls pthread_exit, the worker ends: the process exits 0 with its
 * exit dump, as bare it exits 0; and a SIGTERM ends such a process. */
/* Threads that end without pthread_exit (thrd_exit, cancelling main), a
 * cancel pending at setuid (mprof steps aside there, and must add no
 * cancellation point), a deep signal handler firing while samples are
 * taken, and fork while another thread holds libio's list lock in an
 * allocating write callback: as bare, and no hang. */
START_TEST(host_thread_endings_and_signals)
{
    static const struct {
        const char *mode;
        bool rate1; /* also with every allocation sampled */
    } cases[] = {{"--thrd-exit", true},    {"--cancel-main", true}, {"--cancel-setuid", true},
                 {"--deep-handler", true}, {"--fflush-fork", false}};
    const char *dir = hd_fresh("host_thread_endings_and_signals");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run b;
        run_spec bs = {.argv = {hd_path("host_endings"), cases[i].mode}, .cwd = dir};
        hd_run_bare(&b, &bs);
        ck_assert_msg(run_exit_code(&b) == 0, "%s bare: status %d\n%s", cases[i].mode,
                      run_exit_code(&b), b.err.s);
        for (int rate1 = 0; rate1 <= (int)cases[i].rate1; rate1++) {
            char what[128];
            snprintf(what, sizeof what, "host_endings %s, %s", cases[i].mode,
                     rate1 ? "every allocation sampled" : "default settings");
            run r;
            run_spec s = {.argv = {hd_path("host_endings"), cases[i].mode},
                          .env = {rate1 ? "MPROF_MEM_RATE=1" : NULL},
                          .cwd = subdir(dir, rate1 ? "rate1" : "default")};
            run_for(&r, &s, HANG_MS, what);
            expect_as_bare(what, &r, &b, SAME_TRUTH);
            run_free(&r);
        }
        run_free(&b);
    }
}
END_TEST

START_TEST(host_main_pthread_exit)
{
    const char *dir = hd_fresh("host_main_pthread_exit");
    run b;
    run_spec bs = {.argv = {hd_path("host_mainexit")}, .cwd = dir};
    hd_run_bare(&b, &bs);
    ck_assert_msg(run_exit_code(&b) == 0, "bare run: status %d", run_exit_code(&b));
    for (int rate1 = 1; rate1 >= 0; rate1--) {
        const char *what = rate1 ? "main thread's pthread_exit, every allocation sampled"
                                 : "main thread's pthread_exit, default settings";
        const char *wd = subdir(dir, rate1 ? "rate1" : "default");
        run r;
        run_spec s = {.argv = {hd_path("host_mainexit")},
                      .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                      .cwd = wd};
        run_for(&r, &s, HANG_MS, what);
        expect_as_bare(what, &r, &b, SAME_TRUTH);
        int n = files_of(wd, "mprof");
        if (rate1) {
            ck_assert_msg(n > 0, "%s: no exit dump", what);
            expect_exact(what, exit_heap(what, n, g_files[0].pid),
                         truth_of(&r, "mainexit_site", 1));
        }
        run_free(&r);
    }
    run_free(&b);
    /* SIGTERM while the worker sleeps, after main has left */
    for (int mprof = 0; mprof < 2; mprof++) {
        const char *wd = subdir(dir, mprof ? "sigterm" : "sigterm_bare");
        run r;
        run_spec s = {.argv = {hd_path("host_mainexit"), "--worker-ms", "60000"},
                      .cwd = wd,
                      .no_preload = !mprof};
        run_start(&r, &s);
        bool ready = run_wait_stdout(&r, "ready\n", HANG_MS);
        if (!ready)
            run_kill(&r, SIGKILL);
        ck_assert_msg(ready, "no 'ready':\n%s%s", r.out.s, r.err.s);
        sleep_ms(100);
        run_kill(&r, SIGTERM);
        run_finish(&r, HANG_MS);
        ck_assert_msg(!r.timed_out && run_exit_code(&r) == 128 + SIGTERM,
                      "%s: SIGTERM to a process whose main thread has left: %s (expected death "
                      "by SIGTERM)\nstderr:\n%.1500s",
                      mprof ? "under mprof" : "bare",
                      r.timed_out ? "still alive after 15 s, killed with SIGKILL" : "other status",
                      r.err.s);
        run_free(&r);
    }
}
END_TEST

/* ======================================================================
 * Namespaces and credentials
 * ====================================================================== */

/* One call of host_userns bare and under mprof: same output and status;
 * at rate 1 every profile of the run exact. */
static void userns_case(const char *dir, const char *op, bool child, bool rate1)
{
    char name[64], what[160];
    snprintf(name, sizeof name, "%s%s_%s", op + 2, child ? "_child" : "",
             rate1 ? "rate1" : "default");
    snprintf(what, sizeof what, "host_userns %s%s, %s", op, child ? " --child" : "",
             rate1 ? "every allocation sampled, after allocating" : "default settings");
    const char *wd = subdir(dir, name);
    run r, b;
    run_spec s = {.argv = {hd_path("host_userns"), op, "--alloc", rate1 ? "200" : "0",
                           child ? "--child" : NULL},
                  .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                  .cwd = wd};
    hd_run_bare(&b, &s);
    run_for(&r, &s, HANG_MS, what);
    expect_as_bare(what, &r, &b, SAME_TRUTH);
    int n = files_of(wd, "mprof");
    if (!rate1) {
        run_free(&r);
        run_free(&b);
        return;
    }
    long pid = out_long(&r, "pid");
    const char *h = exit_heap(what, n, pid);
    expect_exact(what, h, truth_of(&r, "userns_after", 1));
    if (!child) {
        expect_exact(what, h, truth_of(&r, "userns_before", 1));
    } else {
        long parent = out_long(&r, "parent");
        expect_exact(what, exit_heap(what, n, parent), truth_of(&r, "userns_before", 2));
    }
    run_free(&r);
    run_free(&b);
}

/* Whether a bare run of `op` works here; if not, a line that says why. */
static bool userns_available(const char *dir, const char *op, const char *why)
{
    run b;
    run_spec s = {.argv = {hd_path("host_userns"), op}, .cwd = dir};
    hd_run_bare(&b, &s);
    bool ok = run_exit_code(&b) == 0;
    const char *said = strstr(b.out.s, "failed: ");
    if (!ok)
        fprintf(stderr, "SKIP: host_user_namespaces: host_userns %s: %s (%.*s)\n", op, why,
                said ? (int)strcspn(said, "\n") : 40, said ? said : b.out.s);
    run_free(&b);
    return ok;
}

/* unshare(CLONE_NEWUSER) and setns() in the process and in a fork child,
 * at default settings and after allocating at rate 1 (case 01); and
 * util-linux's `unshare -U`. */
START_TEST(host_user_namespaces)
{
    const char *dir = hd_fresh("host_user_namespaces");
    static const char *ops[] = {"--unshare", "--setns"};
    static const char *why[] = {"user namespaces are unavailable here bare",
                                "setns into a mount namespace needs CAP_SYS_ADMIN"};
    int done = 0;
    for (int o = 0; o < 2; o++) {
        if (!userns_available(dir, ops[o], why[o]))
            continue;
        for (int child = 0; child < 2; child++)
            for (int rate1 = 0; rate1 < 2; rate1++)
                userns_case(dir, ops[o], child, rate1);
        done++;
    }
    if (access("/usr/bin/unshare", X_OK) == 0 && userns_available(dir, "--unshare", why[0])) {
        for (int rate1 = 0; rate1 < 2; rate1++) {
            run r, b;
            run_spec s = {.argv = {"/usr/bin/unshare", "-U", "true"},
                          .env = {rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                          .cwd = subdir(dir, rate1 ? "util_rate1" : "util_default")};
            hd_run_bare(&b, &s);
            run_for(&r, &s, HANG_MS, "unshare -U true");
            expect_as_bare("util-linux 'unshare -U true'", &r, &b, 0);
            run_free(&r);
            run_free(&b);
        }
    }
    if (!done)
        fprintf(stderr, "SKIP: host_user_namespaces: nothing to test here\n");
}
END_TEST

/* A directory of files, and the directory. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char path[1300];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (e->d_name[0] != '.')
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* setpriv drops to nobody with capabilities kept on its main thread only;
 * glibc's set*id then runs on every thread of the process. */
START_TEST(host_setpriv)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP: host_setpriv: needs root\n");
        return;
    }
    if (access("/usr/bin/setpriv", X_OK) != 0) {
        fprintf(stderr, "SKIP: host_setpriv: no /usr/bin/setpriv\n");
        return;
    }
    for (int rate1 = 0; rate1 < 2; rate1++) {
        /* `true` runs as nobody and may write its dump: a directory it can
         * reach whatever the permissions on the way to the build tree */
        const char *out = rate1 ? "/tmp/mprof-host-setpriv-rate1" : "/tmp/mprof-host-setpriv";
        remove_dir(out);
        ck_assert_msg(mkdir(out, 0755) == 0 && chmod(out, 01777) == 0, "mkdir %s: %s", out,
                      strerror(errno));
        char outenv[128];
        snprintf(outenv, sizeof outenv, "MPROF_OUT=%s/mprof", out);
        run r, b;
        run_spec s = {.argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                               "--clear-groups", "true"},
                      .env = {outenv, rate1 ? "MPROF_MEM_RATE=1" : "MPROF_EPOCH_MS=100"},
                      .cwd = out};
        hd_run_bare(&b, &s);
        ck_assert_msg(run_exit_code(&b) == 0, "bare setpriv fails (%d):\n%s", run_exit_code(&b),
                      b.err.s);
        const char *what = rate1 ? "setpriv --reuid=nobody, every allocation sampled"
                                 : "setpriv --reuid=nobody, default settings";
        run_for(&r, &s, HANG_MS, what);
        expect_as_bare(what, &r, &b, 0);
        files_of(out, "mprof");
        remove_dir(out);
        run_free(&r);
        run_free(&b);
    }
}
END_TEST

/* ======================================================================
 * Short-lived processes
 * ====================================================================== */

/* Every process that left profile files recorded something: files of
 * one pid with no sample in any of them are a failure. */
static void expect_no_empty_dumps(const char *what, const char *dir)
{
    int n = files_of(dir, "mprof");
    int pids = 0, empty = 0;
    long example = 0;
    for (int i = 0; i < n;) {
        long pid = g_files[i].pid, samples = 0;
        int j = i;
        for (; j < n && g_files[j].pid == pid; j++)
            samples += samples_in(g_files[j].path);
        pids++;
        if (samples == 0 && empty++ == 0)
            example = pid;
        i = j;
    }
    ck_assert_msg(empty == 0,
                  "%s: %d of the %d processes that left profile files (%d files) recorded "
                  "nothing at all, e.g. pid %ld; a process with nothing to report must leave "
                  "nothing behind",
                  what, empty, pids, n, example);
}

/* 100 fork children (half exit(), half _exit()) and a shell loop with 50
 * command substitutions, at default settings: output as bare, and no
 * files from processes that recorded nothing. */
START_TEST(host_short_lived_processes)
{
    const char *dir = hd_fresh("host_short_lived_processes");
    {
        const char *wd = subdir(dir, "c");
        run r, b;
        run_spec s = {.argv = {hd_path("host_short"), "--children", "100"}, .cwd = wd};
        hd_run_bare(&b, &s);
        run_for(&r, &s, 120000, "100 fork children");
        expect_as_bare("100 fork children", &r, &b, 0);
        expect_no_empty_dumps("100 fork children", wd);
        run_free(&r);
        run_free(&b);
    }
    {
        const char *wd = subdir(dir, "sh");
        run r, b;
        run_spec s = {.argv = {"/bin/bash", "-c",
                               "n=0; for i in $(seq 1 50); do x=$(echo $i); n=$((n + x)); "
                               "done; echo $n"},
                      .cwd = wd};
        hd_run_bare(&b, &s);
        ck_assert_str_eq(b.out.s, "1275\n");
        run_for(&r, &s, 120000, "bash, 50 command substitutions");
        expect_as_bare("bash, 50 command substitutions", &r, &b, 0);
        expect_no_empty_dumps("bash, 50 command substitutions", wd);
        run_free(&r);
        run_free(&b);
    }
}
END_TEST

/* ======================================================================
 * A clean run says nothing
 * ====================================================================== */

/* An ordinary C and C++ program, at default settings and with every
 * profile at rate 1: stderr byte for byte as bare, and the same output and
 * status; the C program's site exact at rate 1. */
START_TEST(host_clean_stderr)
{
    const char *dir = hd_fresh("host_clean_stderr");
    static const char *progs[] = {"host_clean", "host_clean_cxx"};
    for (int p = 0; p < 2; p++) {
        run b;
        run_spec bs = {.argv = {hd_path(progs[p])}, .cwd = dir};
        hd_run_bare(&b, &bs);
        ck_assert_msg(run_exit_code(&b) == 0 && b.err.len > 0, "bare %s: status %d", progs[p],
                      run_exit_code(&b));
        for (int rate1 = 0; rate1 < 2; rate1++) {
            char name[64], what[128];
            snprintf(name, sizeof name, "%s_%s", progs[p], rate1 ? "rate1" : "default");
            snprintf(what, sizeof what, "%s, %s", progs[p],
                     rate1 ? "every event sampled" : "default settings");
            const char *wd = subdir(dir, name);
            run r;
            run_spec s = {.argv = {hd_path(progs[p])}, .cwd = wd};
            if (rate1) {
                s.env[0] = "MPROF_MEM_RATE=1";
                s.env[1] = "MPROF_BLOCK_RATE=1";
                s.env[2] = "MPROF_MUTEX_FRACTION=1";
            }
            run_for(&r, &s, HANG_MS, what);
            expect_as_bare(what, &r, &b, SAME_TRUTH);
            int n = files_of(wd, "mprof");
            if (rate1) {
                ck_assert_msg(n > 0, "%s: no exit dump", what);
                if (p == 0)
                    expect_exact(what, exit_heap(what, n, g_files[0].pid),
                                 truth_of(&r, "clean_site", 1));
                else {
                    prof pr;
                    hd_go_read(exit_heap(what, n, g_files[0].pid), &pr);
                    prof_free(&pr);
                }
            }
            run_free(&r);
        }
        run_free(&b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host");
    add_tests(s, 120, TESTS(host_descriptors, host_errno, host_clean_stderr));
    add_tests(s, 150, TESTS(host_exit_in_signal_handler, host_small_stacks,
                            host_fork_while_sampling, host_user_namespaces));
    add_tests(s, 60, TESTS(host_stack_budget, host_setpriv));
    add_tests(s, 200, TESTS(host_sigterm_in_malloc));
    add_tests(s, 240, TESTS(host_thread_endings_and_signals));
    add_tests(s, 90, TESTS(host_main_pthread_exit));
    add_tests(s, 300, TESTS(host_short_lived_processes));
    return run_built_suite(s);
}
