/*
 * tutil.h: what the tests of the mprof command share (test/tools/tutil.c).
 * test_tools.c is the executable's main; tools_<subject>.c hold the tests
 * and add them to the suite with tools_add_<subject>_tests.
 */
#ifndef MPROF_TEST_TUTIL_H
#define MPROF_TEST_TUTIL_H

#include "harness.h"
#include "pprof.h"

#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef TOOLS_TEST_SRC
#error "TOOLS_TEST_SRC (absolute path of test/tools) must be defined"
#endif

#define MAX_ROWS 512
#define MAX_TRUTHS 32

/* ---- paths and running ---- */

const char *build_dir(void);
const char *bpath(const char *rel);
const char *tool(void);
/* A fresh, empty build/test/tools/work/<name>. */
const char *fresh_dir(const char *name);
const char *join(const char *dir, const char *name);
/* Run argv (NULL-terminated) without the profiler, in cwd (may be NULL),
 * with extra environment entries env (NULL-terminated, may be NULL). */
void run_argv(run *r, const char *cwd, const char *const *env, const char *const *argv);

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define MPROF(r, ...) run_argv((r), NULL, NULL, ARGV(tool(), __VA_ARGS__))

void expect_code(const run *r, int code, const char *what);
int count_lines(const char *s);
bool have_program(const char *name);
/* Fails the test when a reference program is missing. */
void require_program(const char *name, const char *package);

/* ---- fixtures: profiles made once per test run ---- */

const char *fixture_dir(void);
/* The only file of `kind` in dir. */
const char *only_file(const char *dir, const char *suffix);
/* sites with every allocation sampled: exact truth. */
const char *sites_heap(truth *t, int *nt);
/* contention's mutex phase, every wait recorded. */
const char *contention_file(const char *kind);

/* ---- reading mprof's and pprof's tables ---- */

typedef struct row {
    char name[512];
    char loc[512]; /* file:line */
    long long flat, cum;
} row;

/* Rows of `mprof top --raw` / `mprof diff --raw` output. */
int mprof_rows(const char *out, row *rows, int max);
const row *row_find(const row *rows, int n, const char *name);
/* "4096000B", "30278522ns", "1000" -> the number. */
long long pprof_value(const char *tok);
/* Rows of `pprof -top`, names without " (inline)", same names summed. */
int pprof_rows(const char *out, row *rows, int max);
/* mprof's rows summed by name (two static functions may share one). */
int by_name(const row *in, int n, row *out);
void mprof_top_rows(const char *file, const char *index, row *rows, int *n);
/* "file:line" as a report shows it against a program's __FILE__. */
bool same_place(const char *got, const char *want);
/* `mprof top` and `go tool pprof -top` agree on one file and sample type. */
void agree_with_pprof(const char *orig, const char *index, const char *unit);

/* ---- profiles built here ---- */

#define SYN_MAX 20000

/* One function per location, location id = function id = index + 1. */
typedef struct synth {
    mprof_pprof_profile p;
    mprof_pprof_line lines[SYN_MAX];
    uint64_t ids[SYN_MAX];
    int64_t values[SYN_MAX][2];
    size_t nids;
} synth;

int64_t syn_str(synth *s, const char *str);
synth *syn_new(const char *unit);
uint64_t syn_fn(synth *s, const char *name);
/* A sample of `v` objects/bytes with the stack `names` (leaf first). */
void syn_sample(synth *s, int64_t v, const char *const *names, size_t n);
/* Encoded (gzip when gz) into path. */
void syn_write(synth *s, const char *path, bool gz);
void write_bytes(const char *path, const void *data, size_t len);
void write_gz(const char *path, const void *data, size_t len);
/* An empty file at path. */
void touch(const char *path);
/* The whole file, malloc'd. */
char *slurp(const char *path, size_t *len);
/* The decompressed bytes of a gzip file. */
char *gunzip_file(const char *path, size_t *len);

/* ---- the work directory ---- */

void remove_work(void);

/* ---- the tests, one file per subject ---- */

void tools_add_top_tests(Suite *s);
void tools_add_dump_tests(Suite *s);
void tools_add_graph_tests(Suite *s);
void tools_add_input_tests(Suite *s);
void tools_add_run_tests(Suite *s);

#endif
