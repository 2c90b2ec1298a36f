/*
 * test_signal: the dump signal as the program sees it (issue 10, item 9).
 *
 * mprof takes SIGUSR2 where the program leaves it at SIG_DFL, and the
 * program must not be able to tell: every way libc has to ask for a
 * disposition answers as without mprof, a handler that chains to the
 * previous one finds SIG_DFL and does what it does without mprof (LLVM's
 * and ruby's restore it and die of the signal), and a program that takes
 * the signal gets no line on its stderr for it.  Each test runs a program
 * bare and under mprof at MPROF_MEM_RATE=1 (so something is recorded) and
 * requires the same stdout, the same stderr byte for byte, and the same
 * exit status.
 *
 * `mprof dump`'s side of the same story is in test/tools/tools_dump.c.
 * Work directories: build/test/hardening/work/<test>.
 */
#include "hutil.h"

#include <check.h>
#include "run_suite.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 64

static hd_file g_files[MAX_FILES];

/* Under mprof and bare: the same stdout, stderr and exit status, which is
 * `status`.  The mprof run is left in *r. */
static void expect_as_bare(run *r, const run_spec *s, int status)
{
    run b;
    run_checked(r, s);
    hd_run_bare(&b, s);
    ck_assert_msg(run_exit_code(&b) == status, "bare: exit status %d, expected %d\n%.2000s",
                  run_exit_code(&b), status, b.err.s);
    ck_assert_msg(run_exit_code(r) == status,
                  "under mprof: exit status %d, bare %d\nstdout:\n%.1500s\nstderr:\n%.1500s",
                  run_exit_code(r), status, r->out.s, r->err.s);
    ck_assert_msg(strcmp(r->out.s, b.out.s) == 0,
                  "stdout differs from bare:\n--- mprof:\n%.1500s\n--- bare:\n%.1500s",
                  r->out.s, b.out.s);
    ck_assert_msg(r->err.len == b.err.len && memcmp(r->err.s, b.err.s, b.err.len) == 0,
                  "stderr differs from bare:\n--- mprof:\n%.1500s\n--- bare:\n%.1500s",
                  r->err.s, b.err.s);
    run_free(&b);
}

/* The exit dump alone is in dir, and its heap profile reads back: the
 * block and mutex profiles are empty, and not written. */
static void expect_exit_heap_only(const char *dir)
{
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    ck_assert_msg(n == 1 && g_files[0].seq == 1 && !strcmp(g_files[0].kind, "heap"),
                  "expected the exit dump's heap profile, got %d files", n);
    hd_read_all(g_files, n);
}

#define RATE_1 "MPROF_MEM_RATE=1"
#define DIED_OF_USR2 (128 + SIGUSR2)

/* sigaction, signal, bsd_signal, sysv_signal, sigset, siginterrupt and
 * sigignore: the handler, flags and mask each reports, as bare; and a
 * SIGUSR2 raised at SIG_DFL kills, as bare. */
START_TEST(query_as_bare)
{
    run r;
    run_spec s = {.argv = {hd_path("sigview"), "--query"},
                  .env = {RATE_1},
                  .cwd = hd_fresh("query_as_bare")};
    expect_as_bare(&r, &s, DIED_OF_USR2);
    ck_assert_msg(strstr(r.out.s, "at start: SIG_DFL flags 0 "), "%s", r.out.s);
    run_free(&r);
}
END_TEST

/* A handler that chains to the `old` it got: it finds SIG_DFL, restores it
 * and dies of the raised signal.  Given mprof's handler instead, it would
 * call it, a dump would start, and it would live on. */
START_TEST(chained_handler_as_bare)
{
    const char *dir = hd_fresh("chained_handler_as_bare");
    run r;
    run_spec s = {.argv = {hd_path("sigview"), "--chain"}, .env = {RATE_1}, .cwd = dir};
    expect_as_bare(&r, &s, DIED_OF_USR2);
    ck_assert_msg(strstr(r.out.s, "previous handler: SIG_DFL\n"), "%s", r.out.s);
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    ck_assert_msg(n == 0, "the program's signal started a dump: %d files", n);
    run_free(&r);
}
END_TEST

/* A C program that installs its own SIGUSR2 handler and writes to its
 * stderr: byte-identical, and the exit dump is still written. */
START_TEST(clean_c_stderr_as_bare)
{
    const char *dir = hd_fresh("clean_c_stderr_as_bare");
    run r;
    run_spec s = {.argv = {hd_path("sigview"), "--clean"}, .env = {RATE_1}, .cwd = dir};
    expect_as_bare(&r, &s, 0);
    ck_assert_msg(strstr(r.err.s, "sigview: caught 1\n"), "%s", r.err.s);
    expect_exit_heap_only(dir);
    run_free(&r);
}
END_TEST

/* The same for C++ registering handlers as LLVM does (old ones saved and
 * put back), reporting on std::cerr. */
START_TEST(clean_cxx_stderr_as_bare)
{
    const char *dir = hd_fresh("clean_cxx_stderr_as_bare");
    run r;
    run_spec s = {.argv = {hd_path("sigcxx")}, .env = {RATE_1}, .cwd = dir};
    expect_as_bare(&r, &s, 0);
    ck_assert_msg(strstr(r.out.s, "previous 12 SIG_DFL\n") && strstr(r.out.s, "usr2 1\n"),
                  "%s", r.out.s);
    expect_exit_heap_only(dir);
    run_free(&r);
}
END_TEST

/* ... which, having put SIG_DFL back, dies of a raised SIGUSR2: mprof does
 * not take back a signal the program has had. */
START_TEST(cxx_restored_default_kills)
{
    run r;
    run_spec s = {.argv = {hd_path("sigcxx"), "--raise-at-default"},
                  .env = {RATE_1},
                  .cwd = hd_fresh("cxx_restored_default_kills")};
    expect_as_bare(&r, &s, DIED_OF_USR2);
    run_free(&r);
}
END_TEST

/* Python's signal.getsignal returns SIG_DFL, and saving and restoring the
 * old handler works (CPython's test_threadsignals does it; given None it
 * raises TypeError). */
START_TEST(python_getsignal_as_bare)
{
    static const char script[] =
        "import signal\n"
        "print(repr(signal.getsignal(signal.SIGUSR2)))\n"
        "old = signal.signal(signal.SIGUSR2, lambda s, f: None)\n"
        "print(repr(old))\n"
        "signal.signal(signal.SIGUSR2, old)\n"
        "print(repr(signal.getsignal(signal.SIGUSR2)))\n"
        "keep = [bytearray(1000) for _ in range(1000)]\n";
    ck_assert_msg(system("command -v python3 >/dev/null 2>&1") == 0,
                  "python3 is missing: `make deps` installs it");
    run r;
    run_spec s = {.argv = {"/usr/bin/env", "python3", "-c", script},
                  .env = {RATE_1},
                  .cwd = hd_fresh("python_getsignal_as_bare")};
    expect_as_bare(&r, &s, 0);
    ck_assert_msg(strncmp(r.out.s, "<Handlers.SIG_DFL: 0>\n", 22) == 0, "%s", r.out.s);
    run_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("signal");
    add_tests(s, 60, TESTS(query_as_bare, chained_handler_as_bare, clean_c_stderr_as_bare,
                           clean_cxx_stderr_as_bare, cxx_restored_default_kills,
                           python_getsignal_as_bare));
    return run_built_suite(s);
}
