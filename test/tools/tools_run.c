/*
 * tools_run.c: `mprof run` (tools/run.c, tools/outfiles.c): exit status
 * and arguments passed through, the environment it sets, the files it
 * lists (children's too), finding an installed library; usage errors of
 * every command (tools/main.c).
 */
#include "tutil.h"

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


/* ---- run ---- */

START_TEST(run_passes_status_and_arguments)
{
    run r;
    MPROF(&r, "run", "--", h_prog("exit_status"), "7");
    expect_code(&r, 7, "exit_status 7");
    ck_assert_msg(strstr(r.out.s, "exiting with 7"), "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "run", h_prog("exit_status"), "0"); /* no "--" needed */
    expect_code(&r, 0, "exit_status 0");
    run_free(&r);
    MPROF(&r, "run", "--", "sh", "-c", "kill -TERM $$");
    expect_code(&r, 128 + SIGTERM, "killed by SIGTERM");
    run_free(&r);
    /* SIGCHLD inherited ignored: the status must still come through. */
    run_argv(&r, NULL, NULL,
             ARGV("sh", "-c", "trap '' CHLD; exec \"$0\" run -- sh -c 'exit 3'", tool()));
    expect_code(&r, 3, "exit 3 with SIGCHLD ignored");
    run_free(&r);
    MPROF(&r, "run", "--", "printf", "[%s]", "a b", " c  d ", "", "--mem-rate");
    expect_code(&r, 0, "printf");
    ck_assert_msg(!strcmp(r.out.s, "[a b][ c  d ][][--mem-rate]"), "'%s'", r.out.s);
    run_free(&r);
    MPROF(&r, "run", "--", "/nonexistent-mprof-dir/prog");
    expect_code(&r, 127, "missing program");
    ck_assert_msg(strstr(r.err.s, "cannot run /nonexistent-mprof-dir/prog"), "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "run", "--", "/dev/null");
    expect_code(&r, 126, "not executable");
    run_free(&r);
    MPROF(&r, "run", "--mem-rate", "lots", "--", "true");
    expect_code(&r, 2, "bad --mem-rate");
    run_free(&r);
    MPROF(&r, "run", "--mem-rate", "1");
    expect_code(&r, 2, "no program");
    run_free(&r);
}
END_TEST

static const char *env_line(const char *out, const char *name)
{
    static char line[PATH_MAX * 2];
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, key, strlen(key))) {
            snprintf(line, sizeof line, "%.*s", (int)strcspn(l + strlen(key), "\n"), l + strlen(key));
            return line;
        }
    return NULL;
}

START_TEST(run_sets_environment_and_lists_files)
{
    const char *dir = fresh_dir("run_sets_environment_and_lists_files");
    mkdir(join(dir, "sub"), 0755);
    const char *other = "/lib/x86_64-linux-gnu/libm.so.6";
    if (access(other, R_OK) != 0)
        other = NULL;
    char pre[PATH_MAX + 16];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", other ? other : "");
    /* env never blocks: its empty block and mutex profiles (and a peak) are
     * asked for, so that one file of each kind is there to be listed. */
    const char *env[] = {"MPROF_WRITE_EMPTY=1", other ? pre : NULL, NULL};
    run r;
    run_argv(&r, dir, env, ARGV(tool(), "run", "--mem-rate", "1", "--block-rate", "5",
                                "--mutex-fraction", "3", "--interval", "7", "--out", "sub/p",
                                "--", "env"));
    expect_code(&r, 0, "mprof run env");
    char lib[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(bpath("libmprof.so"), lib));
    const char *ld = env_line(r.out.s, "LD_PRELOAD");
    char want[PATH_MAX * 2];
    snprintf(want, sizeof want, "%s%s%s", lib, other ? ":" : "", other ? other : "");
    ck_assert_msg(ld && !strcmp(ld, want), "LD_PRELOAD=%s, expected %s", ld, want);
    ck_assert_str_eq(env_line(r.out.s, "MPROF_MEM_RATE"), "1");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_BLOCK_RATE"), "5");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_MUTEX_FRACTION"), "3");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_DUMP_INTERVAL"), "7");
    char out[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(dir, out));
    strcat(out, "/sub/p");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_OUT"), out);
    /* Files listed as the prefix was given, and there. */
    int listed = 0;
    for (const char *l = r.err.s; (l = strstr(l, "  sub/p.")); l++) {
        char name[PATH_MAX];
        sscanf(l, " %4095s", name);
        ck_assert_msg(access(join(dir, name), R_OK) == 0, "listed %s is not there", name);
        listed++;
    }
    /* heap, block, mutex, threadcreate, peak */
    ck_assert_msg(listed == 5 && strstr(r.err.s, "5 profile files written"), "%s", r.err.s);
    run_free(&r);
    /* A second run lists only its own files. */
    run_argv(&r, dir, env, ARGV(tool(), "run", "--out", "sub/p", "--mem-rate", "0",
                                "--block-rate", "0", "--", "true"));
    expect_code(&r, 0, "second run");
    ck_assert_msg(strstr(r.err.s, "2 profile files written") && strstr(r.err.s, ".mutex.pb.gz") &&
                      strstr(r.err.s, ".threadcreate.pb.gz") && !strstr(r.err.s, ".heap.pb.gz"),
                  "%s", r.err.s);
    run_free(&r);
    /* Nothing written at all. */
    run_argv(&r, dir, NULL, ARGV(tool(), "run", "--out", "sub/q", "--mem-rate", "0",
                                 "--block-rate", "0", "--mutex-fraction", "0", "--", "true"));
    ck_assert_msg(strstr(r.err.s, "no profile files written"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

START_TEST(run_lists_children_files)
{
    const char *dir = fresh_dir("run_lists_children_files");
    run r;
    run_argv(&r, dir, NULL, ARGV(tool(), "run", "--mem-rate", "1", "--out", "fk", "--",
                                 h_prog("forks"), "--forks", "2"));
    expect_code(&r, 0, "forks");
    /* parent, two fork children, the exec'd child: four pids */
    long pids[8];
    int npids = 0;
    for (const char *l = r.err.s; (l = strstr(l, "  fk.")); l++) {
        long pid = strtol(l + 5, NULL, 10);
        bool seen = false;
        for (int i = 0; i < npids; i++)
            seen |= pids[i] == pid;
        if (!seen && npids < 8)
            pids[npids++] = pid;
    }
    ck_assert_msg(npids == 4, "%d pids in:\n%s", npids, r.err.s);
    run_free(&r);
}
END_TEST

/* A server stopped with SIGTERM through `mprof run` (systemd, Kubernetes
 * stop the process they started): the signal is forwarded, the program
 * dies of it at its default action (128 + 15, as bare), and its last
 * profile, written on the way (issue 16, last words), is listed. */
START_TEST(run_forwards_sigterm_keeps_last_profile)
{
    const char *dir = fresh_dir("run_forwards_sigterm_keeps_last_profile");
    run r;
    run_spec s = {.argv = {tool(), "run", "--mem-rate", "1", "--out", "lw", "--",
                           h_prog("peak"), "wait"},
                  .env = {"MPROF_LAST_WORDS=30000"}, /* a busy machine's dump is slow */
                  .cwd = dir,
                  .no_preload = true};
    run_start(&r, &s);
    bool ready = run_wait_stdout(&r, "ready\n", 30000);
    if (!ready)
        run_kill(&r, SIGKILL);
    ck_assert_msg(ready, "no 'ready':\n%s%s", r.out.s, r.err.s);
    run_kill(&r, SIGTERM);
    run_finish(&r, 30000);
    expect_code(&r, 128 + SIGTERM, "mprof run of a program stopped by SIGTERM");
    const char *l = strstr(r.err.s, "  lw.");
    char name[PATH_MAX] = "";
    if (l)
        sscanf(l, " %4095s", name);
    ck_assert_msg(strstr(name, ".1.heap.pb.gz") && access(join(dir, name), R_OK) == 0 &&
                      strstr(r.err.s, ".1.peak.pb.gz"),
                  "the last profile is not listed, or not there:\n%s", r.err.s);
    run_free(&r);
}
END_TEST

static void copy_file(const char *from, const char *to, mode_t mode)
{
    size_t len;
    char *data = slurp(from, &len);
    write_bytes(to, data, len);
    chmod(to, mode);
    free(data);
}

START_TEST(run_finds_installed_library)
{
    const char *dir = fresh_dir("run_finds_installed_library");
    const char *sub[] = {"usr", "usr/bin", "usr/lib", "lonely", "lonely/bin"};
    for (int i = 0; i < 5; i++)
        mkdir(join(dir, sub[i]), 0755);
    copy_file(tool(), join(dir, "usr/bin/mprof"), 0755);
    copy_file(bpath("libmprof.so"), join(dir, "usr/lib/libmprof.so"), 0644);
    copy_file(tool(), join(dir, "lonely/bin/mprof"), 0755);
    run r;
    run_argv(&r, dir, NULL, ARGV(join(dir, "usr/bin/mprof"), "run", "--", "env"));
    expect_code(&r, 0, "installed mprof run");
    char lib[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(join(dir, "usr/lib/libmprof.so"), lib));
    const char *ld = env_line(r.out.s, "LD_PRELOAD");
    ck_assert_msg(ld && !strcmp(ld, lib), "LD_PRELOAD=%s, expected %s", ld, lib);
    run_free(&r);
    run_argv(&r, dir, NULL, ARGV(join(dir, "lonely/bin/mprof"), "run", "--", "true"));
    expect_code(&r, 1, "mprof without its library");
    ck_assert_msg(strstr(r.err.s, "cannot find libmprof.so"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

START_TEST(usage_errors)
{
    run r;
    run_argv(&r, NULL, NULL, ARGV(tool()));
    expect_code(&r, 2, "no command");
    ck_assert(strstr(r.err.s, "usage:"));
    run_free(&r);
    MPROF(&r, "bogus");
    expect_code(&r, 2, "unknown command");
    ck_assert(strstr(r.err.s, "unknown command 'bogus'"));
    run_free(&r);
    MPROF(&r, "top");
    expect_code(&r, 2, "top without a file");
    run_free(&r);
    MPROF(&r, "top", "x", "--bogus");
    expect_code(&r, 2, "unknown option");
    ck_assert(strstr(r.err.s, "unknown option '--bogus'"));
    run_free(&r);
    MPROF(&r, "help");
    expect_code(&r, 0, "help");
    ck_assert(strstr(r.out.s, "mprof flame FILE -o OUT.svg"));
    run_free(&r);
    MPROF(&r, "diff", "--help");
    expect_code(&r, 0, "diff --help");
    ck_assert(strstr(r.out.s, "mprof diff OLD NEW"));
    run_free(&r);
}
END_TEST

void tools_add_run_tests(Suite *s)
{
    h_add_test(s, "run_passes_status_and_arguments", run_passes_status_and_arguments, 60);
    h_add_test(s, "run_sets_environment_and_lists_files", run_sets_environment_and_lists_files, 60);
    h_add_test(s, "run_lists_children_files", run_lists_children_files, 60);
    h_add_test(s, "run_forwards_sigterm_keeps_last_profile",
               run_forwards_sigterm_keeps_last_profile, 60);
    h_add_test(s, "run_finds_installed_library", run_finds_installed_library, 60);
    h_add_test(s, "usage_errors", usage_errors, 30);
}
