/*
 * hutil.h: what the hardening tests need beyond the integration harness
 * (test/integration/harness.h, prof.h): their own programs and work
 * directories, every profile file of a run, mprof's own reader for bulk
 * validation, and tmpfs mounts for real full or read-only file systems.
 */
#ifndef MPROF_TEST_HUTIL_H
#define MPROF_TEST_HUTIL_H

#include "harness.h"
#include "prof.h"

#include <stdbool.h>
#include <stddef.h>

/* <build>/test/hardening/<name>: a program or library of this suite. */
const char *hd_path(const char *name);
/* A fresh, empty directory <build>/test/hardening/work/<name>. */
const char *hd_fresh(const char *name);

/* One profile file: <prefix>.<pid>.<seq>.<kind>.pb.gz (harness.h). */
typedef profile_file hd_file;

/* Profile files of prefix in dir, every kind: profile_files(dir, prefix,
 * "", f, max). */
int hd_files(const char *dir, const char *prefix, hd_file *f, int max);
/* Those of one pid and kind ("" = any kind). */
int hd_count(const hd_file *f, int n, long pid, const char *kind);
const hd_file *hd_find(const hd_file *f, int n, long pid, long seq, const char *kind);

/* Decode with mprof's reader (core/output/pprof.c); 0 or -1 with err set. */
int hd_read(const char *path, char *err, size_t errlen);
/* Every file through hd_read; fails the test with the first error. */
void hd_read_all(const hd_file *f, int n);
/* `go tool pprof -raw` must read it (exit 0): fails the test otherwise. */
void hd_go_read(const char *path, prof *p);
/* The comments of a profile, newline-separated, in out. */
void hd_comments(const char *path, strbuf *out);

/* Sums over the samples whose numeric label "bytes" is `size`. */
void hd_size_sum(const prof *p, long long size, prof_site *out);

/* stdout without "pid N"/"parent N" lines: what a bare run also prints. */
void hd_stable_out(const char *out, strbuf *b);
/* Lines of s starting with "mprof:"; their number. */
int hd_mprof_lines(const char *s, strbuf *lines);

/* Mount a tmpfs with `opts` (read-only if asked) on dir; false (and a SKIP note) if not root or
 * mount(2) is refused. */
bool hd_mount_tmpfs(const char *dir, const char *opts, bool readonly);
void hd_umount(const char *dir);

/* A bare run (no LD_PRELOAD) of the same spec. */
void hd_run_bare(run *r, const run_spec *s);

#endif
