/*
 * test_truth: the profile is right where heap profilers of this kind go
 * wrong (issue 13). Each program runs under the library at
 * MPROF_MEM_RATE=1, documented exact, and prints the truth of what it
 * keeps (test/programs/common.h); the exit profile, read back with go tool
 * pprof, must hold exactly that, at the right function.
 */
#include "harness.h"
#include "prof.h"

#include <check.h>
#include "run_suite.h"
#include <stdio.h>
#include <string.h>

#define MAX_TRUTHS 8
#define MAX_FILES 4

/* Run prog at MPROF_MEM_RATE=1 in a fresh directory; its one heap
 * profile into p, its truths into t (how many). */
static int run_exact(const char *name, const char *const *env_extra, prof *p, truth *t)
{
    const char *dir = h_fresh_dir(name);
    run r;
    run_spec s = {.argv = {h_prog(name)}, .env = {"MPROF_MEM_RATE=1"}, .cwd = dir};
    for (int i = 0; env_extra && env_extra[i]; i++)
        s.env[1 + i] = env_extra[i];
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "done"), "%s: status %d\n%s%s",
                  name, run_exit_code(&r), r.out.s, r.err.s);
    ck_assert_msg(strlen(r.err.s) == 0, "%s: stderr: %s", name, r.err.s);
    int nt = truths_parse(r.out.s, t, MAX_TRUTHS);
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "mprof", f, MAX_FILES);
    ck_assert_msg(n == 1, "%s: %d heap files", name, n);
    char err[4096];
    ck_assert_msg(prof_load(f[0].path, p, err, sizeof err) == 0, "%s", err);
    run_free(&r);
    return nt;
}

/* Every truth's site holds exactly what the program says. */
static void check_exact(const prof *p, const truth *t, int nt)
{
    ck_assert_int_gt(nt, 0);
    for (int i = 0; i < nt; i++) {
        prof_site s;
        prof_site_sum(p, t[i].site, PROF_EXACT, &s);
        ck_assert_msg(s.alloc_objects == t[i].alloc_n && s.alloc_space == t[i].alloc_b &&
                          s.inuse_objects == t[i].inuse_n && s.inuse_space == t[i].inuse_b,
                      "%s: alloc %lld objects %lld B, in use %lld objects %lld B; "
                      "truth %lld %lld, %lld %lld",
                      t[i].site, s.alloc_objects, s.alloc_space, s.inuse_objects,
                      s.inuse_space, t[i].alloc_n, t[i].alloc_b, t[i].inuse_n, t[i].inuse_b);
    }
}

/* A library the program links allocates in its constructor, which the
 * loader runs before a preloaded library's: recorded all the same. */
START_TEST(linked_library_constructor)
{
    prof p;
    truth t[MAX_TRUTHS];
    int nt = run_exact("ctor_main", NULL, &p, t);
    check_exact(&p, t, nt);
    prof_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("truth");
    h_add_test(s, "linked_library_constructor", linked_library_constructor, 60);
    return run_built_suite(s);
}
