/*
 * test_threads.c: the threadcreate profile (issue 14, part 1) against a
 * program that knows how many threads it started where and how many of
 * them ended; the threads profile and `mprof stacks` (part 2) against
 * programs whose threads are parked in known functions or deadlocked;
 * profiles read back through `go tool pprof -raw`.
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

/* ---- the threads profile and mprof stacks ---- */

/* `mprof stacks PID`, its output in *out. */
static void mprof_stacks(run *out, pid_t pid)
{
    char p[32];
    snprintf(p, sizeof p, "%d", (int)pid);
    run_spec s = {.argv = {h_tool(), "stacks", p, "--timeout", "60"}, .no_preload = true};
    run_checked(out, &s);
}

/* The tid the program printed as "<key> <tid>" (first one). */
static long tid_of(const run *r, const char *key)
{
    long v[4];
    ck_assert_msg(out_ints(r->out.s, key, v, 4) >= 1, "no '%s' line in:\n%s", key, r->out.s);
    return v[0];
}

/* The one sample whose stack has a frame of `site` (inlined frames
 * count: a symbolized profile has them). */
static const prof_sample *at_site(const prof *p, const char *site)
{
    const prof_sample *found = NULL;
    for (size_t i = 0; i < p->nsamples; i++) {
        if (prof_sample_find(&p->samples[i], site, PROF_EXACT)) {
            ck_assert_msg(!found, "two samples at %s", site);
            found = &p->samples[i];
        }
    }
    char d[4096];
    prof_describe(p, d, sizeof d, 30);
    ck_assert_msg(found, "no sample at %s:\n%s", site, d);
    return found;
}

static void assert_label(const prof_sample *s, const char *key, const char *want)
{
    char got[512];
    ck_assert_msg(prof_sample_label(s, key, got, sizeof got), "no label %s (labels: %s)", key,
                  s->labels ? s->labels : "");
    ck_assert_msg(strcmp(got, want) == 0, "label %s is [%s], not [%s]", key, got, want);
}

/* A block of `mprof stacks` output: the text from the line that starts
 * with head up to the next blank line; fails if there is none. */
static void block_of(const char *out, const char *head, char *buf, size_t len)
{
    const char *at = strstr(out, head);
    ck_assert_msg(at, "no '%s' in mprof stacks' output:\n%s", head, out);
    const char *end = strstr(at, "\n\n");
    snprintf(buf, len, "%.*s", (int)(end ? end - at : (long)strlen(at)), at);
}

static void assert_in_block(const char *out, const char *head, const char *want)
{
    char b[4096];
    block_of(out, head, b, sizeof b);
    ck_assert_msg(strstr(b, want), "'%s' not in the block:\n%s", want, b);
}

/* Threads parked in known functions (mutex, condition variable, join,
 * sleep, read, read with every signal blocked): each at its function,
 * with the right count per stack, names, wait, lock and holder, in the
 * threads profile (read by go tool pprof) and in mprof stacks. */
START_TEST(threads_profile_parked)
{
    const char *dir = h_fresh_dir("parked");
    run r, st;
    run_spec s = {.argv = {threads_prog("parked")}, .env = {"MPROF_MEM_RATE=0"}, .cwd = dir};
    run_start(&r, &s);
    ck_assert_msg(run_wait_stdout(&r, "tid masked ", 30000), "not ready: %s", r.err.s);
    mprof_stacks(&st, r.pid);
    char holder[32];
    snprintf(holder, sizeof holder, "%ld", tid_of(&r, "tid holder"));
    run_kill(&r, SIGKILL);
    run_finish(&r, 10000);
    ck_assert_msg(run_exit_code(&st) == 0, "mprof stacks: %d %s", run_exit_code(&st), st.err.s);
    const char *o = st.out.s;
    char want[128];
    snprintf(want, sizeof want, "in pthread_mutex_lock on cache_lock (0x");
    assert_in_block(o, "2 threads \"waiter\" [sleeping]", want);
    snprintf(want, sizeof want, "held by tid %s \"holder\"", holder);
    assert_in_block(o, "2 threads \"waiter\"", want);
    assert_in_block(o, "2 threads \"waiter\"", "    wait_lock  ");
    assert_in_block(o, "3 threads \"reader\" [sleeping]", "    wait_read  ");
    assert_in_block(o, "1 thread \"holder\"", "    hold_lock  ");
    assert_in_block(o, "1 thread \"condwaiter\" [sleeping] in pthread_cond_wait on ready_cond",
                    "    wait_cond  ");
    assert_in_block(o, "1 thread \"joiner\" [sleeping] in pthread_join", "    wait_join  ");
    assert_in_block(o, "1 thread \"sleeper\"", "    wait_sleep  ");
    assert_in_block(o, "1 thread \"masked\" [sleeping]", "    wait_masked  ");
    ck_assert_msg(strstr(o, "no deadlock"), "%s", o);

    char path[1200];
    prof p;
    profile_path(path, sizeof path, dir, &r, 1, "threads");
    load(&p, path);
    ck_assert_str_eq(p.type[0], "threads");
    ck_assert_int_eq(prof_total(&p, "threads"), 11); /* 10 + main; not mprof's */
    const prof_sample *w = at_site(&p, "wait_lock");
    ck_assert_int_eq(w->v[0], 2);
    ck_assert_str_eq(prof_sample_leaf(w)->func, "pthread_mutex_lock");
    assert_label(w, "thread", "waiter");
    assert_label(w, "wait", "pthread_mutex_lock");
    assert_label(w, "lock", "cache_lock");
    assert_label(w, "owner", holder);
    char tids[64];
    ck_assert_int_eq(at_site(&p, "wait_read")->v[0], 3);
    assert_label(at_site(&p, "wait_read"), "thread", "reader");
    assert_label(at_site(&p, "wait_cond"), "lock", "ready_cond");
    ck_assert_str_eq(prof_sample_leaf(at_site(&p, "wait_cond"))->func, "pthread_cond_wait");
    ck_assert_str_eq(prof_sample_leaf(at_site(&p, "wait_join"))->func, "pthread_join");
    const prof_sample *m = at_site(&p, "wait_masked");
    ck_assert_int_eq(m->v[0], 1);
    snprintf(tids, sizeof tids, "%ld", tid_of(&r, "tid masked"));
    assert_label(m, "tid", tids);
    assert_label(m, "state", "sleeping");
    ck_assert_int_eq(at_site(&p, "wait_sleep")->v[0], 1);
    ck_assert_int_eq(at_site(&p, "hold_lock")->v[0], 1);
    prof_free(&p);
    run_free(&st);
    run_free(&r);
}
END_TEST

/* Two threads that took two mutexes in opposite orders: mprof stacks
 * names the cycle, with both holders, and exits 3. */
START_TEST(deadlock_cycle_reported)
{
    const char *dir = h_fresh_dir("deadlock");
    run r, st;
    run_spec s = {.argv = {threads_prog("deadlock")}, .env = {"MPROF_MEM_RATE=0"}, .cwd = dir};
    run_start(&r, &s);
    ck_assert_msg(run_wait_stdout(&r, "right ", 30000) && run_wait_stdout(&r, "\n", 1000),
                  "not ready: %s", r.err.s);
    long left = tid_of(&r, "left"), right = tid_of(&r, "right");
    mprof_stacks(&st, r.pid);
    run_kill(&r, SIGKILL);
    run_finish(&r, 10000);
    ck_assert_msg(run_exit_code(&st) == 3, "mprof stacks exited %d: %s%s", run_exit_code(&st),
                  st.out.s, st.err.s);
    char l1[256], l2[256];
    snprintf(l1, sizeof l1,
             "  tid %ld \"left\" waits in pthread_mutex_lock for lock_b, held by tid %ld \"right\"\n",
             left, right);
    snprintf(l2, sizeof l2,
             "  tid %ld \"right\" waits in pthread_mutex_lock for lock_a, held by tid %ld \"left\"\n",
             right, left);
    const char *cyc = strstr(st.out.s, "deadlock: 2 threads wait for each other:\n");
    ck_assert_msg(cyc && strstr(cyc, l1) && strstr(cyc, l2), "no cycle\n%s%s in:\n%s", l1, l2,
                  st.out.s);
    assert_in_block(st.out.s, "1 thread \"left\"", "    take_in_order  ");
    run_free(&st);
    run_free(&r);
}
END_TEST

/* 1,000 parked threads and threads starting and ending all the while;
 * threads dumps one after the other meanwhile: each is written, none
 * hangs, each counts the 1,000, and the program's output is the same as
 * without mprof. */
START_TEST(threads_dumps_under_churn)
{
    const char *dir = h_fresh_dir("churn");
    char stop[1200];
    snprintf(stop, sizeof stop, "%s/stop", dir);
    run bare, r;
    run_spec sb = {.argv = {threads_prog("churn")}, .cwd = dir, .no_preload = true};
    run_start(&bare, &sb);
    ck_assert(run_wait_stdout(&bare, "ready\n", 60000));
    FILE *f = fopen(stop, "w");
    ck_assert(f && fclose(f) == 0);
    run_finish(&bare, 120000);
    ck_assert_int_eq(run_exit_code(&bare), 0);
    unlink(stop);

    run_spec s = {.argv = {threads_prog("churn")}, .env = {"MPROF_MEM_RATE=0"}, .cwd = dir};
    run_start(&r, &s);
    ck_assert_msg(run_wait_stdout(&r, "ready\n", 60000), "not ready: %s", r.err.s);
    enum { DUMPS = 5 };
    for (int d = 1; d <= DUMPS; d++) {
        char path[1200];
        profile_path(path, sizeof path, dir, &r, d, "threads");
        run_kill(&r, SIGUSR2);
        ck_assert_msg(wait_file(path, 120000), "dump %d: no %s", d, path);
        prof p;
        load(&p, path);
        long long n = prof_total(&p, "threads");
        ck_assert_msg(n >= 1001 && n <= 1001 + 8, "dump %d: %lld threads", d, n);
        ck_assert_int_eq(at_site(&p, "parks")->v[0], 1000);
        prof_free(&p);
    }
    f = fopen(stop, "w");
    ck_assert(f && fclose(f) == 0);
    run_finish(&r, 120000);
    ck_assert_msg(run_exit_code(&r) == 0, "churn exited %d: %s", run_exit_code(&r), r.err.s);
    ck_assert_str_eq(r.out.s, bare.out.s);
    ck_assert_msg(r.err.len == 0, "stderr: %s", r.err.s);
    run_free(&bare);
    run_free(&r);
}
END_TEST

/* Threads on stacks the program unmaps as soon as it joins them
 * (ownstacks.c), threads dumps one after the other meanwhile: a dump that
 * reads the wait of a thread that has just ended must not fault (its TLS
 * went with its stack), and the program ends as it would without mprof. */
START_TEST(threads_dumps_with_unmapped_stacks)
{
    const char *dir = h_fresh_dir("ownstacks");
    char stop[1200];
    snprintf(stop, sizeof stop, "%s/stop", dir);
    run r;
    run_spec s = {.argv = {threads_prog("ownstacks")}, .env = {"MPROF_MEM_RATE=0"},
                  .cwd = dir};
    run_start(&r, &s);
    ck_assert_msg(run_wait_stdout(&r, "ready\n", 60000), "not ready: %s", r.err.s);
    enum { DUMPS = 30 };
    for (int d = 1; d <= DUMPS; d++) {
        char path[1200];
        profile_path(path, sizeof path, dir, &r, d, "threads");
        run_kill(&r, SIGUSR2);
        ck_assert_msg(wait_file(path, 120000), "dump %d: no %s", d, path);
    }
    FILE *f = fopen(stop, "w");
    ck_assert(f && fclose(f) == 0);
    run_finish(&r, 120000);
    ck_assert_msg(run_exit_code(&r) == 0, "ownstacks exited %d: %s", run_exit_code(&r),
                  r.err.s);
    ck_assert_str_eq(r.out.s, "ready\nevery increment counted: yes\n");
    run_free(&r);
}
END_TEST

/* VmSize growth (kB) across regmap.c's one thread, with MPROF_THREADS=v. */
static long regmap_growth(const char *dir, const char *threads)
{
    run r;
    run_spec s = {.argv = {threads_prog("regmap")}, .env = {"MPROF_MEM_RATE=0", threads},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "regmap exited %d: %s", run_exit_code(&r), r.err.s);
    long kb = 0;
    const char *at = strstr(r.out.s, "grew ");
    ck_assert_msg(at && sscanf(at, "grew %ld", &kb) == 1, "regmap said: %s", r.out.s);
    run_free(&r);
    return kb;
}

/* The thread registry, which only the threads profile reads, costs a
 * thread start nothing with the profile off: its 1 MiB table is mapped
 * at the first thread with MPROF_THREADS=1 and not at all with 0. */
START_TEST(thread_registry_only_with_threads_profile)
{
    const char *dir = h_fresh_dir("regmap");
    long off = regmap_growth(dir, "MPROF_THREADS=0");
    long on = regmap_growth(dir, "MPROF_THREADS=1");
    ck_assert_msg(on - off == 1024, "a thread start grew VmSize by %ld kB with MPROF_THREADS=1, "
                  "%ld kB with 0: not the registry's 1024 kB apart", on, off);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, threadcreate_counts_exact);
    tcase_add_test(tc, threads_profile_parked);
    tcase_add_test(tc, deadlock_cycle_reported);
    tcase_add_test(tc, threads_dumps_under_churn);
    tcase_add_test(tc, threads_dumps_with_unmapped_stacks);
    tcase_add_test(tc, thread_registry_only_with_threads_profile);
    return run_suite("threads", tc, NULL);
}
