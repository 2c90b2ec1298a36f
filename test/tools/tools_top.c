/*
 * tools_top.c: `mprof top` (tools/report.c, tools/units.c): the unit
 * formatting of its columns, its figures against the exact truth of
 * test/programs/sites, against `go tool pprof -top` on the same files, its
 * options, and profiles written by Go's runtime/pprof.
 */
#include "tutil.h"

#include "units.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


/* ---- units ---- */

START_TEST(units_format_cases)
{
    static const struct {
        int64_t v;
        const char *unit;
        bool sign, raw;
        const char *want;
    } cases[] = {
        {0, "bytes", false, false, "0"},
        {512, "bytes", false, false, "512B"},
        {1024, "bytes", false, false, "1KiB"},
        {1536, "bytes", false, false, "1.5KiB"},
        {4096000, "bytes", false, false, "3.91MiB"},
        {3145728, "bytes", true, false, "+3MiB"},
        {-160000, "bytes", true, false, "-156KiB"},
        {(int64_t)5 << 30, "bytes", false, false, "5GiB"},
        {999, "nanoseconds", false, false, "999ns"},
        {1500, "nanoseconds", false, false, "1.5us"},
        {30278522, "nanoseconds", false, false, "30.3ms"},
        {12000000000, "nanoseconds", false, false, "12s"},
        {2, "milliseconds", false, false, "2ms"},
        {123456, "count", false, false, "123456"},
        {7, "widgets", true, false, "+7"},
        {4096000, "bytes", false, true, "4096000"},
        {INT64_MIN, "bytes", false, true, "-9223372036854775808"},
        {INT64_MAX, "bytes", false, false, "8EiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UNITS_BUF];
        units_format(buf, sizeof buf, cases[i].v, cases[i].unit, cases[i].sign, cases[i].raw);
        ck_assert_msg(!strcmp(buf, cases[i].want), "%lld %s: '%s', expected '%s'",
                      (long long)cases[i].v, cases[i].unit, buf, cases[i].want);
    }
}
END_TEST

/* ---- top ---- */

static long long truth_value(const truth *t, const char *index)
{
    return !strcmp(index, "alloc_objects") ? t->alloc_n
           : !strcmp(index, "alloc_space") ? t->alloc_b
           : !strcmp(index, "inuse_objects") ? t->inuse_n : t->inuse_b;
}

START_TEST(top_matches_truth)
{
    truth t[MAX_TRUTHS];
    int nt;
    const char *file = sites_heap(t, &nt);
    static const char *types[] = {"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"};
    static row rows[MAX_ROWS];
    for (int k = 0; k < 4; k++) {
        int n;
        mprof_top_rows(file, types[k], rows, &n);
        for (int i = 0; i < nt; i++) {
            const row *r = row_find(rows, n, t[i].site);
            long long want = truth_value(&t[i], types[k]);
            if (want == 0) {
                ck_assert_msg(!r || r->flat == 0, "%s %s: flat %lld, expected 0",
                              types[k], t[i].site, r->flat);
                continue;
            }
            ck_assert_msg(r, "%s: no row for %s", types[k], t[i].site);
            ck_assert_msg(r->flat == want && r->cum == want, "%s %s: flat %lld cum %lld, expected %lld",
                          types[k], t[i].site, r->flat, r->cum, want);
            char loc[512];
            snprintf(loc, sizeof loc, "%s:%ld", t[i].file, t[i].line);
            ck_assert_msg(same_place(r->loc, loc), "%s %s: at '%s', expected '%s'", types[k],
                          t[i].site, r->loc, loc);
        }
    }
}
END_TEST

START_TEST(top_agrees_with_pprof_heap)
{
    require_program("go", "golang-go");
    const char *file = sites_heap(NULL, NULL);
    agree_with_pprof(file, "alloc_objects", "B");
    agree_with_pprof(file, "alloc_space", "B");
    agree_with_pprof(file, "inuse_objects", "B");
    agree_with_pprof(file, "inuse_space", "B");
}
END_TEST

START_TEST(top_agrees_with_pprof_contention)
{
    require_program("go", "golang-go");
    agree_with_pprof(contention_file(".block.pb.gz"), "delay", "ns");
    agree_with_pprof(contention_file(".block.pb.gz"), "contentions", "ns");
    agree_with_pprof(contention_file(".mutex.pb.gz"), "delay", "ns");
}
END_TEST

/* Row names in output order. */
static int row_names(const char *out, char names[][128], int max)
{
    const char *l = strstr(out, "\n      flat");
    ck_assert_ptr_nonnull(l);
    int n = 0;
    for (l = strchr(l + 1, '\n'); l && *++l && n < max; l = strchr(l, '\n')) {
        char a[32], b[32], c[32], d[32], e[32];
        if (sscanf(l, "%31s %31s %31s %31s %31s %127s", a, b, c, d, e, names[n]) == 6)
            n++;
    }
    return n;
}

START_TEST(top_options)
{
    const char *file = sites_heap(NULL, NULL);
    run r;
    /* Default: inuse_space, humanised, biggest first, 20 rows at most. */
    MPROF(&r, "top", file);
    expect_code(&r, 0, "top");
    ck_assert_msg(strstr(r.out.s, "Type: inuse_space\n") && strstr(r.out.s, "MiB") &&
                      strstr(r.out.s, "KiB") && strstr(r.out.s, "File: sites\n"),
                  "%s", r.out.s);
    char names[64][128];
    int n = row_names(r.out.s, names, 64);
    ck_assert_msg(n == 20 && !strcmp(names[0], "site_medium") && !strcmp(names[1], "site_large"),
                  "%d rows, first %s:\n%s", n, names[0], r.out.s);
    run_free(&r);
    /* -n and --cum: callers of everything first. */
    MPROF(&r, "top", file, "-n", "3", "--cum", "--sample-index", "1");
    expect_code(&r, 0, "top --cum");
    n = row_names(r.out.s, names, 64);
    ck_assert_msg(n == 3 && strstr(r.out.s, "Type: alloc_space\n") &&
                      strstr(r.out.s, "Showing top 3 functions out of"), "%s", r.out.s);
    static row rows[MAX_ROWS];
    int nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_int_eq(nr, 3);
    run_free(&r);
    MPROF(&r, "top", file, "-n", "0", "--cum", "--raw");
    nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_int_gt(nr, 10);
    for (int i = 1; i < nr; i++)
        ck_assert_msg(rows[i - 1].cum >= rows[i].cum, "not sorted by cum:\n%s", r.out.s);
    run_free(&r);
    MPROF(&r, "top", file, "-n", "0", "--raw");
    nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    for (int i = 1; i < nr; i++)
        ck_assert_msg(rows[i - 1].flat >= rows[i].flat, "not sorted by flat:\n%s", r.out.s);
    run_free(&r);
    /* Bad options: status 2 and a message. */
    MPROF(&r, "top", file, "--sample-index", "nonesuch");
    expect_code(&r, 2, "bad sample index");
    ck_assert_msg(strstr(r.err.s, "no sample type 'nonesuch'") && strstr(r.err.s, "inuse_space"),
                  "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "top", file, "--sample-index", "4");
    expect_code(&r, 2, "sample index out of range");
    run_free(&r);
    MPROF(&r, "top", file, "-n", "many");
    expect_code(&r, 2, "bad -n");
    run_free(&r);
    MPROF(&r, "top", file, file);
    expect_code(&r, 2, "two files");
    run_free(&r);
}
END_TEST

static const char go_program[] =
    "package main\n"
    "\n"
    "import (\n\t\"os\"\n\t\"runtime\"\n\t\"runtime/pprof\"\n)\n"
    "\n"
    "var keep [][]byte\n"
    "\n"
    "//go:noinline\n"
    "func leakyAlloc() {\n"
    "\tfor i := 0; i < 2000; i++ {\n"
    "\t\tkeep = append(keep, make([]byte, 4096))\n"
    "\t}\n"
    "}\n"
    "\n"
    "func main() {\n"
    "\truntime.MemProfileRate = 1\n"
    "\tleakyAlloc()\n"
    "\truntime.GC()\n"
    "\tf, err := os.Create(os.Args[1])\n"
    "\tif err != nil {\n\t\tpanic(err)\n\t}\n"
    "\tif err := pprof.Lookup(\"heap\").WriteTo(f, 0); err != nil {\n\t\tpanic(err)\n\t}\n"
    "\tf.Close()\n"
    "}\n";

START_TEST(reads_go_profiles)
{
    require_program("go", "golang-go");
    const char *dir = fresh_dir("reads_go_profiles");
    FILE *f = fopen(join(dir, "heap.go"), "w");
    fputs(go_program, f);
    fclose(f);
    char cache[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "GOCACHE=%s/gocache", build_dir());
    const char *env[] = {getenv("HOME") ? NULL : cache, NULL};
    run r;
    run_argv(&r, dir, env, ARGV("go", "run", "heap.go", "go.heap.pb.gz"));
    expect_code(&r, 0, "go run heap.go");
    run_free(&r);
    const char *file = join(dir, "go.heap.pb.gz");
    static row rows[MAX_ROWS];
    int n;
    mprof_top_rows(file, "inuse_space", rows, &n);
    const row *leak = row_find(rows, n, "main.leakyAlloc");
    ck_assert_msg(leak && leak->flat >= 2000 * 4096 && strstr(leak->loc, "heap.go:"),
                  "main.leakyAlloc: %lld at %s", leak ? leak->flat : -1, leak ? leak->loc : "");
    agree_with_pprof(file, "inuse_space", "B");
    agree_with_pprof(file, "alloc_objects", "B");
    MPROF(&r, "collapsed", file);
    expect_code(&r, 0, "collapsed go");
    ck_assert_msg(strstr(r.out.s, "main.main;main.leakyAlloc "), "%.3000s", r.out.s);
    run_free(&r);
    MPROF(&r, "flame", file, "-o", join(dir, "go.svg"));
    expect_code(&r, 0, "flame go");
    run_free(&r);
}
END_TEST

void tools_add_top_tests(Suite *s)
{
    h_add_test(s, "units_format_cases", units_format_cases, 10);
    h_add_test(s, "top_matches_truth", top_matches_truth, 60);
    h_add_test(s, "top_agrees_with_pprof_heap", top_agrees_with_pprof_heap, 60);
    h_add_test(s, "top_agrees_with_pprof_contention", top_agrees_with_pprof_contention, 60);
    h_add_test(s, "top_options", top_options, 60);
    h_add_test(s, "reads_go_profiles", reads_go_profiles, 120);
}
