/*
 * tools_dump.c: `mprof dump` and `mprof diff` (tools/dump.c,
 * tools/published.c, tools/report.c) on live processes: three complete
 * files per dump, its errors, who owns the dump signal (issue 10, item 8),
 * a process that recorded nothing, and odd output prefixes.
 */
#include "tutil.h"

#include "config.h"
#include "publish.h"

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


/* ---- diff and dump on a live process ---- */

static long out_long(const run *r, const char *key)
{
    long v = 0;
    ck_assert_msg(out_ints(r->out.s, key, &v, 1) == 1, "no '%s N' in:\n%s", key, r->out.s);
    return v;
}

/* `mprof dump PID`: the complete files of one new seq, named on stdout:
 * heap, block, mutex and threadcreate (MPROF_WRITE_EMPTY), threads (a
 * dump asked for) and peak. */
static void dump_now(long pid, long seq, char heap[PATH_MAX])
{
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p, "--timeout", "10");
    expect_code(&r, 0, "mprof dump");
    ck_assert_msg(count_lines(r.out.s) == 6, "dump printed:\n%s", r.out.s);
    char want[64];
    snprintf(want, sizeof want, ".%ld.%ld.heap.pb.gz\n", pid, seq);
    const char *h = strstr(r.out.s, want);
    ck_assert_msg(h, "no %s in:\n%s", want, r.out.s);
    for (const char *l = r.out.s; *l; l = strchr(l, '\n') + 1) {
        char path[PATH_MAX];
        sscanf(l, "%4095s", path);
        ck_assert_msg(path[0] == '/' && access(path, R_OK) == 0, "%s is not there", path);
        ck_assert_msg(!strstr(path, ".tmp"), "%s", path);
    }
    const char *start = h;
    while (start > r.out.s && start[-1] != '\n')
        start--;
    snprintf(heap, PATH_MAX, "%.*s", (int)(h - start) + (int)strlen(want) - 1, start);
    run_free(&r);
}

START_TEST(dump_and_diff_live_process)
{
    const char *dir = fresh_dir("dump_and_diff_live_process");
    char out[PATH_MAX + 8];
    snprintf(out, sizeof out, "--out=%s/g", dir);
    run g;
    run_spec s = {.argv = {tool(), "run", "--mem-rate", "1", out, "--", bpath("test/tools/grow"), dir},
                  /* grow never blocks: its (empty) block and mutex
                   * profiles are asked for, four files a dump with the peak */
                  .env = {"MPROF_EPOCH_MS=10", "MPROF_WRITE_EMPTY=1"}, .no_preload = true};
    run_start(&g, &s);
    ck_assert_msg(run_wait_stdout(&g, "phase 1", 10000), "no phase 1:\n%s", g.out.s);
    long pid = out_long(&g, "phase 1");
    sleep_ms(250); /* > 2 epochs: phase 1 is published */
    char h1[PATH_MAX], h2[PATH_MAX];
    dump_now(pid, 1, h1);
    touch(join(dir, "go1"));
    ck_assert_msg(run_wait_stdout(&g, "phase 2", 10000), "no phase 2:\n%s", g.out.s);
    sleep_ms(250);
    dump_now(pid, 2, h2);
    /* `mprof dump` given the pid of `mprof run` dumps the program it runs. */
    char runpid[32], want[64];
    snprintf(runpid, sizeof runpid, "%d", (int)g.pid);
    snprintf(want, sizeof want, "/g.%ld.3.heap.pb.gz\n", pid);
    run d;
    MPROF(&d, "dump", runpid);
    expect_code(&d, 0, "mprof dump <pid of mprof run>");
    ck_assert_msg(strstr(d.out.s, want), "dump via mprof run printed:\n%s", d.out.s);
    run_free(&d);
    /* A dump signal sent to `mprof run` reaches the program. */
    kill(g.pid, SIGUSR2);
    char h3[64];
    snprintf(h3, sizeof h3, "g.%ld.4.heap.pb.gz", pid);
    ck_assert_msg(wait_file(join(dir, h3), 10000), "SIGUSR2 to mprof run: no %s", h3);
    touch(join(dir, "go2"));
    run_finish(&g, 20000);
    expect_code(&g, 0, "mprof run grow");
    char listed[128];
    snprintf(listed, sizeof listed, "g.%ld.5.peak.pb.gz\n", pid);
    /* dumps 1-4 were asked for: 6 files each; the exit dump has no threads */
    ck_assert_msg(strstr(g.err.s, "29 profile files written") && strstr(g.err.s, listed),
                  "%s", g.err.s);
    truth t[4];
    ck_assert_int_eq(truths_parse(g.out.s, t, 4), 2);
    run_free(&g);

    /* The site that grew, alone, by exactly what it leaked. */
    static row rows[MAX_ROWS];
    run r;
    MPROF(&r, "diff", h1, h2, "--raw", "-n", "0");
    expect_code(&r, 0, "diff");
    int n = mprof_rows(r.out.s, rows, MAX_ROWS);
    char loc[512];
    snprintf(loc, sizeof loc, "%s:%ld", t[1].file, t[1].line);
    ck_assert_msg(n > 0 && !strcmp(rows[0].name, "leak_site") && rows[0].flat == t[1].inuse_b &&
                      same_place(rows[0].loc, loc), "%s", r.out.s);
    ck_assert_msg(!row_find(rows, n, "steady_site"), "steady_site did not change:\n%s", r.out.s);
    for (int i = 1; i < n; i++)
        ck_assert_msg(rows[i].flat == 0, "only leak_site grew:\n%s", r.out.s);
    ck_assert_msg(strstr(r.out.s, "Change: +3000000\n"), "%s", r.out.s);
    run_free(&r);
    /* Humanised, other sample types, and the other way round. */
    MPROF(&r, "diff", h1, h2);
    ck_assert_msg(strstr(r.out.s, "+2.86MiB") && strstr(r.out.s, "leak_site"), "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "diff", h1, h2, "--raw", "--sample-index", "inuse_objects");
    n = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_msg(n > 0 && rows[0].flat == t[1].inuse_n, "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "diff", h2, h1, "--raw", "-n", "0");
    n = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_msg(n > 0 && !strcmp(rows[n - 1].name, "leak_site") &&
                      rows[n - 1].flat == -t[1].inuse_b, "%s", r.out.s);
    run_free(&r);
    /* Profiles of different kinds do not diff. */
    char block[PATH_MAX];
    snprintf(block, sizeof block, "%.*s.block.pb.gz", (int)(strlen(h1) - strlen(".heap.pb.gz")), h1);
    MPROF(&r, "diff", h1, block);
    expect_code(&r, 2, "diff heap block");
    ck_assert_msg(strstr(r.err.s, "no sample type 'inuse_space'"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

/* `mprof dump` of `g`, a grow (tools/grow.c) started by the caller, once it
 * is under way: refused, status 1, with `why` in the message. */
static void expect_dump_refused(run *g, const char *why, const char *what)
{
    ck_assert(run_wait_stdout(g, "phase 1", 10000));
    char p[32];
    snprintf(p, sizeof p, "%d", (int)g->pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 1, what);
    ck_assert_msg(strstr(r.err.s, why), "%s", r.err.s);
    run_free(&r);
}

START_TEST(dump_errors)
{
    const char *dir = fresh_dir("dump_errors");
    run r;
    /* A pid that was just reaped. */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char p[32];
    snprintf(p, sizeof p, "%d", (int)gone);
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "dump of a dead pid");
    ck_assert_msg(strstr(r.err.s, "no process") && count_lines(r.err.s) == 1, "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "dump", "12abc");
    expect_code(&r, 2, "dump of a bad pid");
    run_free(&r);
    MPROF(&r, "dump", "1", "--timeout", "-3");
    expect_code(&r, 2, "dump with a bad timeout");
    run_free(&r);

    /* A process without mprof is never signalled (USR2 would kill it). */
    run bare;
    run_spec s = {.argv = {bpath("test/tools/grow"), dir}, .no_preload = true};
    run_start(&bare, &s);
    expect_dump_refused(&bare, "not running mprof", "dump of a process without mprof");
    sleep_ms(50);
    ck_assert_msg(kill(bare.pid, 0) == 0 && waitpid(bare.pid, NULL, WNOHANG) == 0,
                  "the process died");

    /* MPROF_SIGNAL=none: no way to ask. */
    run none;
    char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/n", dir);
    run_spec sn = {.argv = {bpath("test/tools/grow"), dir}, .env = {"MPROF_SIGNAL=none", out}};
    run_start(&none, &sn);
    expect_dump_refused(&none, "MPROF_SIGNAL=none", "dump with MPROF_SIGNAL=none");

    /* Output that can never appear: the dump says it wrote nothing, and
     * this is known as soon as the dump is done, not after a timeout. */
    run lost;
    run_spec sl = {.argv = {bpath("test/tools/grow"), dir},
                   .env = {"MPROF_OUT=/nonexistent-mprof-dir/x", "MPROF_MEM_RATE=1"}};
    run_start(&lost, &sl);
    ck_assert(run_wait_stdout(&lost, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)lost.pid);
    MPROF(&r, "dump", p, "--timeout", "30");
    expect_code(&r, 1, "dump that writes nothing");
    ck_assert_msg(strstr(r.err.s, "wrote no profile file") &&
                      strstr(r.err.s, "/nonexistent-mprof-dir/x") && count_lines(r.err.s) == 1,
                  "%s", r.err.s);
    run_free(&r);

    /* A stopped process cannot dump: a timeout, on time. */
    run stopped;
    snprintf(out, sizeof out, "MPROF_OUT=%s/s", dir);
    run_spec ss = {.argv = {bpath("test/tools/grow"), dir}, .env = {out, "MPROF_MEM_RATE=1"}};
    run_start(&stopped, &ss);
    ck_assert(run_wait_stdout(&stopped, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)stopped.pid);
    kill(stopped.pid, SIGSTOP);
    MPROF(&r, "dump", p, "--timeout", "0.5");
    kill(stopped.pid, SIGCONT);
    expect_code(&r, 1, "dump that times out");
    ck_assert_msg(strstr(r.err.s, "timed out after 0.5 s") && strstr(r.err.s, out + 10),
                  "%s", r.err.s);
    run_free(&r);

    touch(join(dir, "go1"));
    touch(join(dir, "go2"));
    run *all[] = {&bare, &none, &lost, &stopped};
    for (int i = 0; i < 4; i++) {
        run_finish(all[i], 10000);
        expect_code(all[i], 0, "grow");
        run_free(all[i]);
    }
}
END_TEST

/* ---- mprof dump and who owns the signal (issue 10, item 8) ---- */

/* sigprog MODE under mprof at rate 1, writing to DIR/t, until "ready". */
static long start_sigprog(run *g, const char *mode, const char *dir, const char *extra_env)
{
    static char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/t", dir);
    run_spec s = {.argv = {bpath("test/tools/sigprog"), mode, dir},
                  .env = {"MPROF_MEM_RATE=1", out, extra_env}};
    run_start(g, &s);
    ck_assert_msg(run_wait_stdout(g, "ready", 10000), "sigprog %s: no ready:\n%s\n%s", mode,
                  g->out.s, g->err.s);
    return out_long(g, "ready");
}

/* Let it finish: exit 0 (a SIGUSR2 at its default action would kill it),
 * with "usr2 <usr2>" (its own count of SIGUSR2 received). */
static void finish_sigprog(run *g, const char *dir, long usr2)
{
    touch(join(dir, "go"));
    run_finish(g, 20000);
    expect_code(g, 0, "sigprog");
    char want[32];
    snprintf(want, sizeof want, "usr2 %ld\ndone\n", usr2);
    ck_assert_msg(strstr(g->out.s, want), "expected '%s' in:\n%s", want, g->out.s);
    run_free(g);
}

/* One refusal: status 1, nothing on stdout, one line holding `why`. */
static void expect_refusal(long pid, const char *why)
{
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "mprof dump refusing");
    ck_assert_msg(r.out.len == 0 && count_lines(r.err.s) == 1 && strstr(r.err.s, why) &&
                      strstr(r.err.s, "MPROF_SIGNAL=") && strstr(r.err.s, "MPROF_DUMP_INTERVAL="),
                  "expected one line saying '%s' and what to do instead; got:\n%s%s", why,
                  r.out.s, r.err.s);
    run_free(&r);
}

/* A server that wrote its title over its environment, started with
 * MPROF_SIGNAL=PROF: dumped through SIGPROF, its files listed; never sent
 * SIGUSR2 (the default that /proc/PID/environ would have suggested),
 * which would kill it. */
START_TEST(dump_title_program_through_its_signal)
{
    const char *dir = fresh_dir("dump_title_program_through_its_signal");
    run g;
    long pid = start_sigprog(&g, "title", dir, "MPROF_SIGNAL=PROF");
    char what[64];
    snprintf(what, sizeof what, "/proc/%ld/environ", pid);
    FILE *f = fopen(what, "r");
    char env[8192] = "";
    size_t n = f ? fread(env, 1, sizeof env - 1, f) : 0;
    if (f)
        fclose(f);
    ck_assert_msg(!memmem(env, n, "MPROF_", 6), "the title did not cover the environment");
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 0, "mprof dump of a titled process");
    char want[3 * PATH_MAX + 192];
    /* exactly what the dump wrote: it never blocks, so no block or mutex
     * file; asked for, it writes the threads profile; and the peak */
    snprintf(want, sizeof want,
             "%s/t.%ld.1.heap.pb.gz\n%s/t.%ld.1.threads.pb.gz\n%s/t.%ld.1.peak.pb.gz\n", dir,
             pid, dir, pid,
             dir, pid);
    ck_assert_msg(!strcmp(r.out.s, want), "expected:\n%sgot:\n%s%s", want, r.out.s, r.err.s);
    run_free(&r);
    ck_assert(access(join(dir, "t.0.0.heap.pb.gz"), F_OK) != 0);
    finish_sigprog(&g, dir, 0);
}
END_TEST

/* sigprog in `mode` takes SIGUSR2 itself: mprof dump refuses it, saying
 * `why`, and sends nothing.  The SIGUSR2 the test sends afterwards shows
 * that one would have been counted (finish_sigprog wants exactly one). */
static void expect_refused(const char *name, const char *mode, const char *why)
{
    const char *dir = fresh_dir(name);
    run g;
    long pid = start_sigprog(&g, mode, dir, NULL);
    expect_refusal(pid, why);
    kill((pid_t)pid, SIGUSR2);
    finish_sigprog(&g, dir, 1);
}

/* A program with its own SIGUSR2 handler: refused, its handler never
 * called by mprof dump. */
START_TEST(dump_refuses_program_handler)
{
    expect_refused("dump_refuses_program_handler", "handler", "handles signal 12");
}
END_TEST

/* A program that takes SIGUSR2 with sigwait (blocked in every thread):
 * mprof's handler is installed, but would never run. */
START_TEST(dump_refuses_sigwait_program)
{
    expect_refused("dump_refuses_sigwait_program", "sigwait", "blocks signal 12");
}
END_TEST

/* A process that publishes "nothing recorded", made here with core/'s
 * publisher and libmprof.so mapped for show; its child inherits the
 * mapping.  Both keep SIGUSR2 at its default action.  Writes "A B" (the
 * two pids) to fd, then waits to be killed. */
static void publish_unrecorded(const char *dir, int fd)
{
    mprof_config cfg;
    mprof_config_defaults(&cfg);
    snprintf(cfg.out, sizeof cfg.out, "%s/r", dir);
    mprof_publish_init(&cfg);
    mprof_publish_signal(SIGUSR2, 1);
    int lib = open(h_lib(), O_RDONLY | O_CLOEXEC);
    if (lib < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, lib, 0) == MAP_FAILED)
        _exit(3);
    close(lib);
    pid_t b = fork();
    if (b == 0)
        for (;;)
            pause();
    dprintf(fd, "%d %d\n", (int)getpid(), (int)b);
    for (;;)
        pause();
}

START_TEST(dump_nothing_recorded)
{
    const char *dir = fresh_dir("dump_nothing_recorded");
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t a = fork();
    if (a == 0) {
        close(pfd[0]);
        publish_unrecorded(dir, pfd[1]);
    }
    close(pfd[1]);
    char line[64] = "";
    ck_assert_msg(read(pfd[0], line, sizeof line - 1) > 0, "the publisher did not start");
    close(pfd[0]);
    int pids[2] = {0, 0};
    ck_assert_int_eq(sscanf(line, "%d %d", &pids[0], &pids[1]), 2);
    for (int i = 0; i < 2; i++) { /* its own state, then an inherited one */
        char p[32];
        snprintf(p, sizeof p, "%d", pids[i]);
        run r;
        MPROF(&r, "dump", p);
        expect_code(&r, 0, "mprof dump of a process that recorded nothing");
        ck_assert_msg(r.out.len == 0 && count_lines(r.err.s) == 1 &&
                          strstr(r.err.s, "recorded nothing yet"), "%s%s", r.out.s, r.err.s);
        run_free(&r);
    }
    sleep_ms(50);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(kill(pids[i], 0) == 0, "process %d was signalled", pids[i]);
    ck_assert_msg(waitpid(a, NULL, WNOHANG) == 0, "the publisher died");
    kill(pids[1], SIGKILL);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
}
END_TEST

/* A prefix longer than one mapping name, with a space, ':', '%' and a
 * newline in it: published in pieces and read back whole. */
START_TEST(dump_long_odd_prefix)
{
    const char *dir = fresh_dir("dump_long_odd_prefix");
    char sub[PATH_MAX], x[201];
    memset(x, 'x', 200);
    x[200] = '\0';
    snprintf(sub, sizeof sub, "%s/a b:c%%41d\nnew line/%s/%s", dir, x, x);
    for (char *s = sub + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(sub, 0755);
        *s = '/';
    }
    ck_assert_msg(mkdir(sub, 0755) == 0, "mkdir %s: %s", sub, strerror(errno));
    static char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/p%%x", sub);
    run g;
    run_spec s = {.argv = {bpath("test/tools/grow"), dir}, .env = {"MPROF_MEM_RATE=1", out}};
    run_start(&g, &s);
    ck_assert(run_wait_stdout(&g, "phase 1", 10000));
    long pid = out_long(&g, "phase 1");
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 0, "mprof dump with a long, odd prefix");
    /* grow never blocks, and has only grown (its peak is its heap now):
     * its heap and threads profiles only */
    strbuf want = {0};
    sb_printf(&want, "%s/p%%x.%ld.1.heap.pb.gz\n%s/p%%x.%ld.1.threads.pb.gz\n", sub, pid, sub,
              pid);
    ck_assert_msg(!strcmp(r.out.s, want.s), "expected:\n%sgot:\n%s%s", want.s, r.out.s,
                  r.err.s);
    sb_free(&want);
    run_free(&r);
    touch(join(dir, "go1"));
    touch(join(dir, "go2"));
    run_finish(&g, 20000);
    expect_code(&g, 0, "grow");
    run_free(&g);
}
END_TEST

void tools_add_dump_tests(Suite *s)
{
    h_add_test(s, "dump_and_diff_live_process", dump_and_diff_live_process, 60);
    h_add_test(s, "dump_errors", dump_errors, 60);
    h_add_test(s, "dump_title_program_through_its_signal",
               dump_title_program_through_its_signal, 60);
    h_add_test(s, "dump_refuses_program_handler", dump_refuses_program_handler, 60);
    h_add_test(s, "dump_refuses_sigwait_program", dump_refuses_sigwait_program, 60);
    h_add_test(s, "dump_nothing_recorded", dump_nothing_recorded, 60);
    h_add_test(s, "dump_long_odd_prefix", dump_long_odd_prefix, 60);
}
