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
#include <math.h>
#include "run_suite.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRUTHS 8
#define MAX_FILES 4

/* Run prog (with one argument, or NULL) at MPROF_MEM_RATE=1 in a fresh
 * directory, with LD_PRELOAD set to `preload` (NULL: libmprof.so alone);
 * its one heap profile into p, its truths into t (returns how many). Its
 * stderr must be empty: nothing to say when all goes well. */
static int run_exact(const char *name, const char *arg, const char *arg2, const char *preload,
                     prof *p, truth *t)
{
    const char *dir = h_fresh_dir(name);
    char pre[2048] = "";
    if (preload)
        snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
    run r;
    run_spec s = {.argv = {h_prog(name), arg, arg2}, .env = {"MPROF_MEM_RATE=1", preload ? pre : NULL},
                  .cwd = dir};
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

/* prog (with up to two arguments, and LD_PRELOAD as run_exact takes it)
 * run at MPROF_MEM_RATE=1: every site exactly as the program says. */
static void expect_exact(const char *name, const char *arg, const char *arg2, const char *preload)
{
    prof p;
    truth t[MAX_TRUTHS];
    int nt = run_exact(name, arg, arg2, preload, &p, t);
    check_exact(&p, t, nt);
    prof_free(&p);
}

/* A library the program links allocates in its constructor, which the
 * loader runs before a preloaded library's: recorded all the same. */
START_TEST(linked_library_constructor)
{
    expect_exact("ctor_main", NULL, NULL, NULL);
}
END_TEST

/* A plugin loaded with RTLD_DEEPBIND binds malloc and free to libc, past
 * the shim: the host's blocks it frees are freed, its own are seen. */
START_TEST(deepbind_plugin)
{
    char plugin[1024];
    snprintf(plugin, sizeof plugin, "%s", h_prog("libtruth_deepbind.so"));
    expect_exact("deepbind_main", plugin, NULL, NULL);
}
END_TEST

/* Another allocator ahead of libmprof.so in LD_PRELOAD: the program's
 * calls are its, and still every one is seen, and nothing is said; what
 * the allocator lacks (jemalloc's pvalloc), called from a library's
 * constructor before mprof starts, is the allocator's memory too. */
START_TEST(allocator_preloaded_first)
{
    static const char *const allocators[] = {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                                             "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"};
    /* jemalloc has no pvalloc nor reallocarray: the shim's serve them */
    static const char *const lacks_both[] = {"ctor", NULL};
    for (size_t i = 0; i < sizeof allocators / sizeof allocators[0]; i++) {
        ck_assert_msg(access(allocators[i], R_OK) == 0,
                      "%s missing: make deps installs libjemalloc2 and google-perftools",
                      allocators[i]);
        char pre[2048];
        snprintf(pre, sizeof pre, "%s %s", allocators[i], h_lib());
        expect_exact("order_main", lacks_both[i], NULL, pre);
    }
}
END_TEST

/* A Go program ends with exit_group, past atexit: no exit profile can be
 * written, and its runtime takes every signal. One line says so and what
 * works instead, unless MPROF_DUMP_INTERVAL is set already. */
START_TEST(go_program_told)
{
    const char *dir = h_fresh_dir("go_note");
    for (int interval = 0; interval < 2; interval++) {
        run r;
        run_spec s = {.argv = {h_prog("go_note")},
                      .env = {interval ? "MPROF_DUMP_INTERVAL=60" : "MPROF_MEM_RATE=1"},
                      .cwd = dir};
        run_checked(&r, &s);
        ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "done"), "status %d",
                      run_exit_code(&r));
        strbuf l = {0};
        int n = lines_starting(r.err.s, "mprof:", &l);
        if (interval)
            ck_assert_msg(n == 0, "MPROF_DUMP_INTERVAL set, yet:\n%s", r.err.s);
        else
            ck_assert_msg(n == 1 && strstr(l.s, "Go program") &&
                              strstr(l.s, "MPROF_DUMP_INTERVAL="),
                          "expected one line naming the Go program and the interval:\n%s",
                          r.err.s);
        sb_free(&l);
        run_free(&r);
    }
}
END_TEST

/* No /proc (a minimal container, a sandbox): modules, build IDs and names
 * all come from the loader's list and the files, and the profile is as
 * exact and as named. The run is in a user and mount namespace with an
 * empty /proc; where the machine allows no such namespace, the test says
 * it is skipped. */
START_TEST(without_proc)
{
    const char *dir = h_fresh_dir("without_proc");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "mount -t tmpfs none /proc && test ! -e /proc/self && "
             "exec env LD_PRELOAD=%s MPROF_MEM_RATE=1 %s",
             h_lib(), h_prog("order_main"));
    run r;
    run_spec s = {.argv = {"unshare", "--user", "--map-root-user", "--mount", "sh", "-c", cmd},
                  .no_preload = true,
                  .cwd = dir};
    run_checked(&r, &s);
    if (run_exit_code(&r) != 0 && strstr(r.err.s, "unshare")) {
        fprintf(stderr, "without_proc: skipped: no user namespace here (%s)\n", r.err.s);
        run_free(&r);
        return;
    }
    ck_assert_msg(run_exit_code(&r) == 0, "status %d\n%s", run_exit_code(&r), r.err.s);
    truth t[MAX_TRUTHS];
    int nt = truths_parse(r.out.s, t, MAX_TRUTHS);
    heap_file f[MAX_FILES];
    ck_assert_msg(heap_files(dir, "mprof", f, MAX_FILES) == 1, "no heap profile:\n%s", r.err.s);
    prof p;
    char err[4096];
    ck_assert_msg(prof_load(f[0].path, &p, err, sizeof err) == 0, "%s", err);
    check_exact(&p, t, nt);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* A library unlinked after dlopen: the file is gone, the image is not;
 * its exported functions are named from the dynamic symbol table the
 * loader mapped, and its mapping keeps its path and build ID. */
START_TEST(unlinked_library)
{
    char lib[1024];
    snprintf(lib, sizeof lib, "%s", h_prog("libtruth_unlinked.so"));
    expect_exact("unlinked_main", lib, NULL, NULL);
}
END_TEST

/* A library unloaded (dlclose) with blocks still live, and another loaded
 * at its addresses: each site keeps its own name and bytes. */
START_TEST(unloaded_library)
{
    char libs[2][1024];
    snprintf(libs[0], sizeof libs[0], "%s", h_prog("libtruth_unload_a.so"));
    snprintf(libs[1], sizeof libs[1], "%s", h_prog("libtruth_unload_b.so"));
    expect_exact("unload_main", libs[0], libs[1], NULL);
}
END_TEST

/* A program that takes malloc's address has a canonical PLT entry named
 * malloc, which dlsym finds first: it is no allocator ahead of the shim,
 * and nothing is said. */
START_TEST(malloc_address_taken)
{
    expect_exact("addr_main", NULL, NULL, NULL);
}
END_TEST


/* ---- the peak heap profile and growth dumps (issue 16) ---- */

#define MIB (1LL << 20)

/* The site's inuse_space (or another sample index) as `mprof top --raw`
 * reads it: our reader, beside go tool pprof's. */
static long long top_value(const char *path, const char *index, const char *site)
{
    run r;
    run_spec s = {.argv = {h_tool(), "top", "--raw", "-n", "0", "--sample-index", index, path},
                  .no_preload = true};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "mprof top %s: %s", path, r.err.s);
    long long v = -1;
    for (const char *l = r.out.s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char name[64];
        long long flat;
        if (sscanf(l, " %lld %*s %*s %*s %*s %63s", &flat, name) == 2 && !strcmp(name, site))
            v = flat;
    }
    run_free(&r);
    return v;
}

/* `peak` (spike: A 200 MiB then freed, B 5 then 20 MiB) with these
 * settings, in a fresh dir: its exit dump's heap and peak profiles. */
static void run_spike(const char *name, const char *rate, const char *growth, prof *heap,
                      prof *peak, char peak_path[1024])
{
    const char *dir = h_fresh_dir(name);
    run r;
    run_spec s = {.argv = {h_prog("peak")}, .env = {rate, growth}, .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "done") && !r.err.len,
                  "%s: status %d\n%s%s", name, run_exit_code(&r), r.out.s, r.err.s);
    run_free(&r);
    profile_file f[2];
    ck_assert_int_eq(profile_files(dir, "mprof", "heap", f, 2), 1);
    char err[4096];
    ck_assert_msg(prof_load(f[0].path, heap, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(profile_files(dir, "mprof", "peak", f, 2), 1);
    ck_assert_msg(prof_load(f[0].path, peak, err, sizeof err) == 0, "%s", err);
    snprintf(peak_path, 1024, "%s", f[0].path);
}

static prof_site site_of(const prof *p, const char *site)
{
    prof_site s;
    prof_site_sum(p, site, PROF_EXACT, &s);
    return s;
}

/* At rate 1 with a copy at every new high: the peak holds A's 200 MiB and
 * B's 5 as they were then, the heap at exit B's 20 and none of A, exactly;
 * go tool pprof and mprof's reader agree. */
START_TEST(peak_exact)
{
    prof heap, peak;
    char path[1024];
    run_spike("peak_exact", "MPROF_MEM_RATE=1", "MPROF_PEAK_GROWTH=0", &heap, &peak, path);
    prof_site a = site_of(&peak, "site_a"), b = site_of(&peak, "site_b");
    ck_assert_msg(a.inuse_objects == 200 && a.inuse_space == 200 * MIB &&
                      b.inuse_objects == 5 && b.inuse_space == 5 * MIB,
                  "peak: A %lld objects %lld B, B %lld %lld; truth 200, 200 MiB, 5, 5 MiB",
                  a.inuse_objects, a.inuse_space, b.inuse_objects, b.inuse_space);
    ck_assert_int_eq(prof_index(&peak, "alloc_space"), -1); /* the peak is in-use only */
    ck_assert_int_eq(top_value(path, "inuse_space", "site_a"), 200 * MIB);
    ck_assert_int_eq(top_value(path, "inuse_objects", "site_b"), 5);
    a = site_of(&heap, "site_a"), b = site_of(&heap, "site_b");
    ck_assert_msg(a.inuse_space == 0 && a.alloc_space == 200 * MIB &&
                      b.inuse_objects == 20 && b.inuse_space == 20 * MIB,
                  "heap: A in use %lld B (alloc %lld), B %lld objects %lld B; truth 0 "
                  "(200 MiB), 20, 20 MiB",
                  a.inuse_space, a.alloc_space, b.inuse_objects, b.inuse_space);
    prof_free(&heap);
    prof_free(&peak);
}
END_TEST

/* At the default rate, each 1 MiB block is sampled with p = 1 - e^-2 and
 * counts 1/p blocks: n blocks read k/p with sd sqrt(n p (1-p))/p. */
static double mib_sd(int n)
{
    double p = 1 - exp(-2.0);
    return sqrt(n * p * (1 - p)) / p;
}

/* The default rate: every new high copied (growth 0), the peak's A is
 * 200 MiB within 5 sd; at the default growth (10%) the copy kept may be
 * one made up to 1/1.1 below the highest.  The heap: B's 20 MiB. */
START_TEST(peak_sampled)
{
    static const char *const growth[] = {"MPROF_PEAK_GROWTH=0", "MPROF_PEAK_GROWTH=10"};
    for (int g = 0; g < 2; g++) {
        prof heap, peak;
        char path[1024];
        run_spike(g ? "peak_sampled_10" : "peak_sampled_0", "MPROF_EPOCH_MS=100", growth[g],
                  &heap, &peak, path);
        double a = (double)site_of(&peak, "site_a").inuse_space / MIB;
        double b = (double)site_of(&heap, "site_b").inuse_space / MIB;
        double lo = (g ? 205 / 1.1 - 5 : 200) - 5 * mib_sd(205), hi = 200 + 5 * mib_sd(200);
        ck_assert_msg(a >= lo && a <= hi, "%s: peak A %.1f MiB, expected [%.1f, %.1f]",
                      growth[g], a, lo, hi);
        ck_assert_msg(fabs(b - 20) <= 5 * mib_sd(20), "heap B %.1f MiB, truth 20", b);
        ck_assert_int_eq(site_of(&heap, "site_a").inuse_space, 0);
        prof_free(&heap);
        prof_free(&peak);
    }
}
END_TEST

/* MPROF_INUSE_INTERVAL=4 MiB, the program growing 4 MiB at a time and
 * waiting for each dump: five dumps, the k-th holding exactly k * 4 MiB,
 * each larger than the last, then the exit dump. */
START_TEST(growth_dumps)
{
    const char *dir = h_fresh_dir("growth_dumps");
    char step[32];
    snprintf(step, sizeof step, "%lld", 4 * MIB);
    run r;
    run_spec s = {.argv = {h_prog("peak"), "grow", step, "5"},
                  .env = {"MPROF_MEM_RATE=1", "MPROF_INUSE_INTERVAL=4194304"},
                  .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "done"), "status %d\n%s%s",
                  run_exit_code(&r), r.out.s, r.err.s);
    run_free(&r);
    heap_file f[8];
    int n = heap_files(dir, "mprof", f, 8);
    ck_assert_msg(n == 6, "%d heap files, expected 5 growth dumps and the exit dump", n);
    long long last = 0;
    for (int i = 0; i < n; i++) {
        prof p;
        char err[4096];
        ck_assert_msg(prof_load(f[i].path, &p, err, sizeof err) == 0, "%s", err);
        long long grow = site_of(&p, "site_grow").inuse_space, total = prof_total(&p, "inuse_space");
        ck_assert_int_eq(f[i].seq, i + 1);
        ck_assert_msg(grow == (i < 5 ? i + 1 : 5) * 4 * MIB, "dump %d: site_grow %lld B", i + 1,
                      grow);
        ck_assert_msg(i == 5 || total > last, "dump %d: %lld B in use, not above %lld", i + 1,
                      total, last);
        last = total;
        prof_free(&p);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("truth");
    h_add_test(s, "peak_exact", peak_exact, 60);
    h_add_test(s, "peak_sampled", peak_sampled, 60);
    h_add_test(s, "growth_dumps", growth_dumps, 60);
    h_add_test(s, "linked_library_constructor", linked_library_constructor, 60);
    h_add_test(s, "deepbind_plugin", deepbind_plugin, 60);
    h_add_test(s, "allocator_preloaded_first", allocator_preloaded_first, 60);
    h_add_test(s, "go_program_told", go_program_told, 60);
    h_add_test(s, "without_proc", without_proc, 60);
    h_add_test(s, "unlinked_library", unlinked_library, 60);
    h_add_test(s, "unloaded_library", unloaded_library, 60);
    h_add_test(s, "malloc_address_taken", malloc_address_taken, 60);
    return run_built_suite(s);
}
