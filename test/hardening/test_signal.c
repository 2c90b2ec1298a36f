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
 * The termination signals (issue 16, last words): SIGTERM, SIGINT,
 * SIGHUP, SIGQUIT and SIGABRT at their default action write the final
 * dump, then kill the process exactly as bare (the parent's waitpid status
 * says the signal, and the core for QUIT and ABRT, as bare); a program
 * with its own handler is left alone and dumps at its exit.
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
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

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

/* The exit dump's heap and peak profiles alone are in dir, and read back. */
static void expect_exit_heap_and_peak(const char *dir)
{
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    ck_assert_msg(n == 2 && g_files[0].seq == 1 && !strcmp(g_files[0].kind, "heap") &&
                      !strcmp(g_files[1].kind, "peak"),
                  "expected the exit dump's heap and peak profiles, got %d files", n);
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
    expect_exit_heap_and_peak(dir);
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
    expect_exit_heap_and_peak(dir);
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
        "for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGABRT):\n"
        "    print(s, repr(signal.getsignal(s)))\n"
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


/* ---- last words (issue 16) ---- */

/* Generous: a busy machine must not turn a slow dump into a lost one.
 * The bound itself is the code's (agent.c, a timed futex wait). */
#define LAST_WORDS_WAIT "MPROF_LAST_WORDS=30000"

/* `peak wait [handler]` (test/programs/peak.c), sent `sig` once it is
 * ready; its end in *r. */
static void killed_run(run *r, const run_spec *s, int sig)
{
    run_start(r, s);
    bool ready = run_wait_stdout(r, "ready\n", 30000);
    if (!ready)
        run_kill(r, SIGKILL);
    ck_assert_msg(ready, "no 'ready':\n%s%s", r->out.s, r->err.s);
    run_kill(r, sig);
    run_finish(r, 30000);
    ck_assert_msg(!r->timed_out, "signal %d did not end it (killed)\n%s", sig, r->err.s);
}

/* The parent's view, from waitpid: killed by sig, and as bare in all. */
static void expect_killed_as_bare(const run *r, const run *b, int sig)
{
    ck_assert_msg(b->exited && WIFSIGNALED(b->status) && WTERMSIG(b->status) == sig,
                  "bare: status 0x%x, expected death by signal %d", b->status, sig);
    ck_assert_msg(r->exited && WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig,
                  "under mprof: status 0x%x, expected death by signal %d\n%.1500s",
                  r->status, sig, r->err.s);
    ck_assert_msg(r->status == b->status, "signal %d: status 0x%x, bare 0x%x", sig,
                  r->status, b->status);
    ck_assert_int_eq(run_exit_code(r), 128 + sig);
    ck_assert_msg(strcmp(r->out.s, b->out.s) == 0 && strcmp(r->err.s, b->err.s) == 0,
                  "output differs from bare:\n--- mprof:\n%s%s\n--- bare:\n%s%s", r->out.s,
                  r->err.s, b->out.s, b->err.s);
}

/* site_wait's 3 MiB, exactly (rate 1), in the heap and peak profiles of
 * dump 1, each whole (go tool pprof reads it) and alone (no .tmp). */
static void expect_last_words(const char *dir, long pid, int sig)
{
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    const hd_file *heap = hd_find(g_files, n, pid, 1, "heap");
    const hd_file *peak = hd_find(g_files, n, pid, 1, "peak");
    ck_assert_msg(heap && peak, "signal %d: no final dump (%d files)", sig, n);
    strbuf names = {0};
    dir_entries(dir, &names);
    ck_assert_msg(!strstr(names.s, ".tmp"), "signal %d: a file left half written:\n%s", sig,
                  names.s);
    sb_free(&names);
    const hd_file *f[2] = {heap, peak};
    for (int i = 0; i < 2; i++) {
        prof p;
        hd_go_read(f[i]->path, &p);
        prof_site site;
        prof_site_sum(&p, "site_wait", PROF_EXACT, &site);
        ck_assert_msg(site.inuse_objects == 1 && site.inuse_space == 3 << 20,
                      "signal %d, %s: site_wait holds %lld objects, %lld B; truth 1, 3 MiB",
                      sig, f[i]->kind, site.inuse_objects, site.inuse_space);
        prof_free(&p);
    }
}

/* TERM, INT and HUP (supervisors, a terminal), QUIT and ABRT (abort()
 * after std::bad_alloc): each at its default action, the final dump is
 * written and the process dies of the signal as bare. */
START_TEST(last_words_on_each_signal)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "last_words_%d", sigs[i]);
        const char *dir = hd_fresh(name);
        run r, b;
        run_spec s = {.argv = {h_prog("peak"), "wait"}, .env = {RATE_1, LAST_WORDS_WAIT},
                      .cwd = dir};
        killed_run(&r, &s, sigs[i]);
        run_spec bare = s;
        memset(bare.env, 0, sizeof bare.env);
        bare.no_preload = true;
        bare.cwd = hd_fresh("last_words_bare");
        killed_run(&b, &bare, sigs[i]);
        expect_killed_as_bare(&r, &b, sigs[i]);
        expect_last_words(dir, (long)r.pid, sigs[i]);
        run_free(&r);
        run_free(&b);
    }
}
END_TEST

/* A program that keeps SIGTERM blocked but while it waits in ppoll (an
 * event loop's way): bare, the signal kills it in ppoll; so under mprof,
 * after the final dump, not handed back pending to a blocking mask. */
START_TEST(last_words_blocked_but_in_ppoll)
{
    const char *dir = hd_fresh("last_words_ppoll");
    run r, b;
    run_spec s = {.argv = {h_prog("peak"), "ppoll"}, .env = {RATE_1, LAST_WORDS_WAIT},
                  .cwd = dir};
    killed_run(&r, &s, SIGTERM);
    run_spec bare = s;
    memset(bare.env, 0, sizeof bare.env);
    bare.no_preload = true;
    bare.cwd = hd_fresh("last_words_ppoll_bare");
    killed_run(&b, &bare, SIGTERM);
    expect_killed_as_bare(&r, &b, SIGTERM);
    expect_last_words(dir, (long)r.pid, SIGTERM);
    run_free(&r);
    run_free(&b);
}
END_TEST

/* MPROF_LAST_WORDS=0: the signal kills at once, as before, and no dump. */
START_TEST(last_words_off)
{
    const char *dir = hd_fresh("last_words_off");
    run r;
    run_spec s = {.argv = {h_prog("peak"), "wait"}, .env = {RATE_1, "MPROF_LAST_WORDS=0"},
                  .cwd = dir};
    killed_run(&r, &s, SIGTERM);
    ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM, "status 0x%x",
                  r.status);
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    ck_assert_msg(n == 0, "MPROF_LAST_WORDS=0, yet %d files", n);
    run_free(&r);
}
END_TEST

/* A program with its own SIGTERM handler: as bare (its handler runs, it
 * says so and exits 3), and its exit dump is written. */
START_TEST(last_words_own_handler_as_bare)
{
    const char *dir = hd_fresh("last_words_own_handler");
    run r, b;
    run_spec s = {.argv = {h_prog("peak"), "wait", "handler"}, .env = {RATE_1, LAST_WORDS_WAIT},
                  .cwd = dir};
    killed_run(&r, &s, SIGTERM);
    run_spec bare = s;
    memset(bare.env, 0, sizeof bare.env);
    bare.no_preload = true;
    bare.cwd = hd_fresh("last_words_own_handler_bare");
    killed_run(&b, &bare, SIGTERM);
    ck_assert_msg(WIFEXITED(b.status) && WEXITSTATUS(b.status) == 3, "bare: 0x%x", b.status);
    ck_assert_msg(r.status == b.status, "status 0x%x, bare 0x%x\n%s", r.status, b.status,
                  r.err.s);
    ck_assert_msg(!strcmp(r.out.s, b.out.s) && !strcmp(r.err.s, b.err.s),
                  "output differs:\n%s%s\n--- bare:\n%s%s", r.out.s, r.err.s, b.out.s, b.err.s);
    ck_assert_msg(strstr(r.out.s, "bye 15\n"), "%s", r.out.s);
    expect_exit_heap_and_peak(dir);
    run_free(&r);
    run_free(&b);
}
END_TEST

/* A vfork child, killed by SIGTERM before its exec, shares its parent's
 * memory and has no mprof thread: it dies of the signal at once, and
 * leaves the parent's profiling alone (the parent's exit dump, written
 * later, holds what it allocated after). */
START_TEST(last_words_vfork_child_leaves_parent)
{
    const char *dir = hd_fresh("last_words_vfork_child");
    run r;
    run_spec s = {.argv = {h_prog("peak"), "vfork"}, .env = {RATE_1, LAST_WORDS_WAIT},
                  .cwd = dir};
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "child ", 30000);
    long child = 0;
    const char *l = strstr(r.out.s, "child ");
    if (ready && l)
        child = strtol(l + 6, NULL, 10);
    if (child <= 0)
        run_kill(&r, SIGKILL);
    ck_assert_msg(child > 0, "no child pid:\n%s%s", r.out.s, r.err.s);
    kill((pid_t)child, SIGTERM);
    run_finish(&r, 30000);
    ck_assert_msg(!r.timed_out && run_exit_code(&r) == 0 &&
                      strstr(r.out.s, "child killed 15\n"),
                  "status %d\n%s%s", run_exit_code(&r), r.out.s, r.err.s);
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    const hd_file *heap = hd_find(g_files, n, (long)r.pid, 1, "heap");
    ck_assert_msg(heap && n == 2, "%d files, expected the parent's exit dump", n);
    prof p;
    hd_go_read(heap->path, &p);
    prof_site after;
    prof_site_sum(&p, "site_after", PROF_EXACT, &after);
    ck_assert_msg(after.inuse_space == 1 << 20,
                  "site_after holds %lld B: the parent's profile ended at its child's signal",
                  after.inuse_space);
    prof_free(&p);
    run_free(&r);
}
END_TEST

/* The tid of the process's thread named `name`, or 0. */
static long thread_named(long pid, const char *name)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", pid);
    strbuf tids = {0};
    dir_entries(dir, &tids);
    long found = 0;
    for (const char *l = tids.s; *l && !found; l = strchr(l, '\n') + 1) {
        long tid = strtol(l, NULL, 10);
        char path[96], comm[32] = "";
        snprintf(path, sizeof path, "%s/%ld/comm", dir, tid);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f) && !strncmp(comm, name, strlen(name)) &&
            comm[strlen(name)] == '\n')
            found = tid;
        if (f)
            fclose(f);
    }
    sb_free(&tids);
    return found;
}

/* The bound: mprof's thread held stopped (ptrace stops that one thread),
 * so the final dump never comes; SIGTERM still ends the process, once
 * MPROF_LAST_WORDS (300 ms) has passed, and as bare.  Without the bound
 * the program would wait for ever. */
START_TEST(last_words_bounded)
{
    const char *dir = hd_fresh("last_words_bounded");
    run r;
    run_spec s = {.argv = {h_prog("peak"), "wait"}, .env = {RATE_1, "MPROF_LAST_WORDS=300"},
                  .cwd = dir};
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "ready\n", 30000);
    long tid = 0; /* named by the thread itself, once it first runs */
    for (int i = 0; ready && !tid && i < 30000; i++, sleep_ms(1))
        tid = thread_named((long)r.pid, "mprof");
    bool stopped = tid && ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL) == 0 &&
                   ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) == 0;
    int st = 0;
    stopped = stopped && waitpid((pid_t)tid, &st, __WALL) == (pid_t)tid && WIFSTOPPED(st);
    if (!stopped)
        run_kill(&r, SIGKILL);
    ck_assert_msg(stopped, "could not stop the mprof thread (tid %ld): %s", tid, strerror(errno));
    kill(r.pid, SIGTERM);
    /* The traced thread's end is reported to us, its tracer, first. */
    while (waitpid((pid_t)tid, &st, __WALL) == (pid_t)tid && !WIFEXITED(st) && !WIFSIGNALED(st))
        ptrace(PTRACE_LISTEN, (pid_t)tid, NULL, NULL);
    run_finish(&r, 30000);
    ck_assert_msg(!r.timed_out && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM,
                  "status 0x%x%s\n%s", r.status, r.timed_out ? " (hung: killed)" : "", r.err.s);
    run_free(&r);
}
END_TEST

/* Stop the traced thread `tid` (seized) at its next openat whose path ends
 * with `suffix`: 1, or 0 if it ended first. Signals it gets on the way are
 * passed on. x86-64: the call's number and path argument from its
 * registers. */
static int stop_at_open(pid_t tid, const char *suffix)
{
    int st;
    for (;;) {
        if (waitpid(tid, &st, __WALL) != tid || WIFEXITED(st) || WIFSIGNALED(st))
            return 0;
        int sig = 0;
        if (WSTOPSIG(st) == (SIGTRAP | 0x80)) { /* a system call stop */
            struct user_regs_struct regs;
            char path[256] = "";
            if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == 0 && regs.orig_rax == SYS_openat) {
                for (size_t i = 0; i + sizeof(long) < sizeof path; i += sizeof(long)) {
                    errno = 0;
                    long w = ptrace(PTRACE_PEEKDATA, tid, (void *)(regs.rsi + i), NULL);
                    if (errno)
                        break;
                    memcpy(path + i, &w, sizeof w);
                    if (memchr(&w, 0, sizeof w))
                        break;
                }
                path[sizeof path - 1] = '\0';
                size_t pl = strlen(path), sl = strlen(suffix);
                if (pl >= sl && strcmp(path + pl - sl, suffix) == 0)
                    return 1;
            }
        } else if (st >> 16 == 0 && WSTOPSIG(st) != SIGTRAP) {
            sig = WSTOPSIG(st); /* a signal for it: delivered */
        }
        ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig);
    }
}

/* SIGTERM while the exit dump is being written, on a thread of the
 * program's other than the exiting one: the dump is finished first. The
 * test holds the exiting thread still (ptrace) as it opens the heap
 * profile's temporary file, sends SIGTERM, gives the process 300 ms to die
 * (were the handler not to wait for the dump, it would, and leave the file
 * half written), then lets the dump go on. The process then ends by its
 * exit or by the signal, whichever comes first, as a bare one told to
 * terminate as it exits: both are its own. */
START_TEST(last_words_during_exit_dump)
{
    const char *dir = hd_fresh("last_words_during_exit_dump");
    run r;
    run_spec s = {.argv = {hd_path("term_in_exit")},
                  .env = {RATE_1, "MPROF_LAST_WORDS=60000"},
                  .cwd = dir};
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "ready\n", 30000);
    pid_t tid = r.pid; /* the main thread, which will exit */
    int st = 0;
    bool traced = ready &&
                  ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) == 0 &&
                  ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == 0 &&
                  waitpid(tid, &st, __WALL) == tid && WIFSTOPPED(st) &&
                  ptrace(PTRACE_SYSCALL, tid, NULL, NULL) == 0;
    if (traced)
        kill(r.pid, SIGUSR1); /* go on to exit */
    traced = traced && stop_at_open(tid, ".heap.pb.gz.tmp");
    if (!traced)
        run_kill(&r, SIGKILL);
    ck_assert_msg(traced, "could not hold the exit dump: %s\n%s", strerror(errno), r.err.s);
    kill(r.pid, SIGTERM);
    sleep_ms(300);
    ptrace(PTRACE_DETACH, tid, NULL, NULL);
    run_finish(&r, 30000);
    ck_assert_msg(!r.timed_out && ((WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM) ||
                                   (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)),
                  "status 0x%x%s\n%s", r.status, r.timed_out ? " (hung: killed)" : "", r.err.s);
    int n = hd_files(dir, "mprof", g_files, MAX_FILES);
    strbuf names = {0};
    dir_entries(dir, &names);
    ck_assert_msg(!strstr(names.s, ".tmp") && hd_find(g_files, n, (long)r.pid, 1, "heap") &&
                      hd_find(g_files, n, (long)r.pid, 1, "peak"),
                  "the exit dump was cut short:\n%s", names.s);
    sb_free(&names);
    hd_read_all(g_files, n);
    run_free(&r);
}
END_TEST

int main(void)
{
    /* QUIT and ABRT dump core where the limit allows: not into the tests'
     * directories.  And the terminal's signals at their default, whatever
     * the runner inherited (a shell's background job ignores SIGINT). */
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    Suite *s = suite_create("signal");
    add_tests(s, 60, TESTS(query_as_bare, chained_handler_as_bare, clean_c_stderr_as_bare,
                           clean_cxx_stderr_as_bare, cxx_restored_default_kills,
                           python_getsignal_as_bare, last_words_on_each_signal,
                           last_words_off, last_words_blocked_but_in_ppoll,
                           last_words_own_handler_as_bare,
                           last_words_vfork_child_leaves_parent, last_words_bounded,
                           last_words_during_exit_dump));
    return run_built_suite(s);
}
