/*
 * harness.h: running test programs under the profiler, in a fresh directory,
 * with a chosen environment, and reading back what they said.
 *
 * A program runs with the test process's environment minus every MPROF_*
 * variable and LD_PRELOAD, plus the spec's variables; its stdout and stderr
 * come back through pipes (so nothing but profiles lands in its directory).
 */
#ifndef MPROF_TEST_HARNESS_H
#define MPROF_TEST_HARNESS_H

#include "outname.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_MAX_ARGS 16
#define RUN_MAX_ENV 16

typedef struct strbuf {
    char *s; /* NUL-terminated */
    size_t len, cap;
} strbuf;

typedef struct run_spec {
    const char *argv[RUN_MAX_ARGS]; /* argv[0]: path of the program */
    const char *env[RUN_MAX_ENV];   /* "NAME=value", added to the environment */
    const char *cwd;
    bool no_preload;  /* do not set LD_PRELOAD (bare run, or env sets it) */
    long fsize_limit; /* > 0: RLIMIT_FSIZE in bytes, SIGXFSZ ignored */
} run_spec;

typedef struct run {
    pid_t pid;
    int out_fd, err_fd;
    strbuf out, err;
    bool exited, timed_out;
    int status; /* waitpid status, valid when exited */
} run;

/* Paths of the build: the library, the mprof command, a test program, the
 * work directory. */
const char *h_lib(void);
const char *h_tool(void);
const char *h_prog(const char *name);
const char *h_work(void);

/* A fresh, empty directory for one test: <work>/<name>. */
const char *h_fresh_dir(const char *name);
/* mkdir -p: path and its missing parents (mode 0755); errors are the
 * caller's to see (it stats what it needs). */
void h_mkdir_p(const char *path);

/* "NAME=value" added to every run whose spec does not set NAME itself
 * (a suite-wide default, e.g. MPROF_WRITE_EMPTY=1); NULL clears it. */
void run_default_env(const char *entry);

void run_start(run *r, const run_spec *s);
/* Read output until stdout contains `needle` (true) or the timeout. */
bool run_wait_stdout(run *r, const char *needle, int timeout_ms);
/* Wait for exit and the end of output; SIGKILL after the timeout. */
void run_finish(run *r, int timeout_ms);
void run_kill(run *r, int sig);
void run_free(run *r);

/* Start, finish within 40 s, fail the test if it timed out. */
void run_checked(run *r, const run_spec *s);
/* Exit status, or 128+signal if killed, -1 if still running. */
int run_exit_code(const run *r);

/* What the programs print (see test/programs/common.h). */
typedef struct truth {
    int phase;
    char site[64];
    long long size, alloc_n, alloc_b, inuse_n, inuse_b;
    char file[256];
    long line;
} truth;

int truths_parse(const char *out, truth *t, int max);
const truth *truth_find(const truth *t, int n, const char *site);
/* The integers after each "<key> " at the start of a line, in order. */
int out_ints(const char *out, const char *key, long *v, int max);

/* A profile file <prefix>.<pid>.<seq>.<kind>.pb.gz found in a directory
 * (a whole one: a .tmp is never listed). */
typedef struct profile_file {
    long pid, seq;
    char kind[MPROF_OUTNAME_KIND_MAX];
    char path[1024];
    mprof_outname name; /* the name taken apart (outname.h), for the order */
} profile_file;

/* The profile files of prefix in dir of one kind ("" = every kind), in
 * outname.h's order: by pid, seq, then kind as a dump writes them (heap,
 * block, mutex).  Returns the number found (at most max). */
int profile_files(const char *dir, const char *prefix, const char *kind,
                  profile_file *f, int max);

/* The heap files: profile_files of kind "heap", sorted by (pid, seq). */
typedef profile_file heap_file;
int heap_files(const char *dir, const char *prefix, heap_file *f, int max);
/* The path of <dir>/<prefix>.<pid>.<seq>.heap.pb.gz if it exists. */
const heap_file *heap_file_find(const heap_file *f, int n, long pid, long seq);
/* Every entry of a directory (not . and ..), newline-separated. */
int dir_entries(const char *dir, strbuf *names);
/* Poll for a file to exist. */
bool wait_file(const char *path, int timeout_ms);

/* Lines of s that start with prefix; copies them into out. */
int lines_starting(const char *s, const char *prefix, strbuf *out);

void sb_append(strbuf *b, const char *s, size_t n);
void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_free(strbuf *b);

void sleep_ms(long ms);

/* One test per test case, so that each has its own timeout (seconds) and
 * CK_RUN_CASE=<name> runs it alone.  The suite runs with run_built_suite
 * (test/run_suite.h). */
void h_add_test(Suite *s, const char *name, const TTest *t, int timeout);

#endif
