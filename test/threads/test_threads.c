/*
 * test_threads.c: the threadcreate profile (issue 14, part 1) against a
 * program that knows how many threads it started where and how many of
 * them ended; read back through `go tool pprof -raw`.
 */
#include "harness.h"
#include "prof.h"

#include <check.h>
#include "run_suite.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *threads_prog(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/test/threads/%s", IT_BUILD_DIR, name);
    return path;
}

static void profile_path(char *buf, size_t len, const char *dir, const run *r, int seq,
                         const char *kind)
{
    snprintf(buf, len, "%s/mprof.%d.%d.%s.pb.gz", dir, (int)r->pid, seq, kind);
}

static void load(prof *p, const char *path)
{
    char err[512];
    ck_assert_msg(prof_load(path, p, err, sizeof err) == 0, "%s: %s", path, err);
}

/* ---- threadcreate ---- */

/* Sum of the samples whose leaf (the caller of pthread_create) is `site`. */
static void site_counts(const prof *p, const char *site, long long *created, long long *live)
{
    *created = *live = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_frame *leaf = prof_sample_leaf(&p->samples[i]);
        if (leaf && strcmp(leaf->func, site) == 0) {
            *created += p->samples[i].v[0];
            *live += p->samples[i].v[1];
        }
    }
}

static void assert_site(const prof *p, const char *site, long long created, long long live,
                        const char *when)
{
    long long c, l;
    site_counts(p, site, &c, &l);
    char d[4096];
    prof_describe(p, d, sizeof d, 20);
    ck_assert_msg(c == created && l == live,
                  "%s: %s created %lld live %lld, not %lld and %lld:\n%s", when, site, c, l,
                  created, live, d);
}

/* 5 threads at one site and 4 at another, 3 and 1 of them ended (by
 * return, pthread_exit and cancellation): exact counts at a signal dump,
 * every thread ended at the exit dump. */
START_TEST(threadcreate_counts_exact)
{
    const char *dir = h_fresh_dir("tcreate");
    run r;
    run_spec s = {.argv = {threads_prog("tcreate")}, .env = {"MPROF_MEM_RATE=0"}, .cwd = dir};
    run_start(&r, &s);
    ck_assert_msg(run_wait_stdout(&r, "ready\n", 30000), "no ready: %s", r.err.s);
    run_kill(&r, SIGUSR2);
    run_finish(&r, 60000);
    ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "done"), "tcreate: %d %s",
                  run_exit_code(&r), r.err.s);
    char path[1200];
    prof p;
    profile_path(path, sizeof path, dir, &r, 1, "threadcreate");
    load(&p, path);
    ck_assert_int_eq(p.ntypes, 2);
    ck_assert_str_eq(p.type[0], "threadcreate");
    ck_assert_str_eq(p.type[1], "inuse_threads");
    ck_assert_str_eq(p.unit[1], "count");
    assert_site(&p, "spawn_five", 5, 2, "signal dump");
    assert_site(&p, "spawn_four", 4, 3, "signal dump");
    ck_assert_int_eq(prof_total(&p, "threadcreate"), 9); /* no thread of mprof's */
    prof_free(&p);
    profile_path(path, sizeof path, dir, &r, 2, "threadcreate");
    load(&p, path);
    assert_site(&p, "spawn_five", 5, 0, "exit dump");
    assert_site(&p, "spawn_four", 4, 0, "exit dump");
    prof_free(&p);
    run_free(&r);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, threadcreate_counts_exact);
    return run_suite("threads", tc, NULL);
}
