/*
 * pprof_go.c: `go tool pprof`, the reference reader, both ways: it reads
 * our file (names, inline frames, demangling); we read its re-encoding of
 * our file, and a heap profile written by Go's runtime/pprof itself.
 */
#include "test_pprof.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- go tool pprof, the reference reader ---- */

/* Run argv with stdout+stderr to outpath; exit status, or -1. */
static int run(char *const argv[], const char *outpath)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(outpath, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* go tool pprof is the reference reader: without it these tests would
 * check nothing and pass.  Check has no "skipped" and `make deps` installs
 * golang-go, so a missing go fails the test and says why. */
static void require_go(void)
{
    char *argv[] = {"go", "version", NULL};
    ck_assert_msg(run(argv, "/dev/null") == 0,
                  "`go version` fails: `go tool pprof`, the reference reader, is needed "
                  "(make deps installs golang-go)");
}

static const char *write_fixture_file(void)
{
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();
    const char *path = tmp_path("heap.pb.gz");
    ck_assert_int_eq(mprof_profile_write_file(path, &d, f.s, 5), 0);
    return path;
}

START_TEST(test_go_pprof_reads_ours)
{
    require_go();
    make_tmpdir();
    const char *path = write_fixture_file();
    const char *out = tmp_path("raw.txt");
    char *raw[] = {"go", "tool", "pprof", "-raw", (char *)path, NULL};
    int rc = run(raw, out);
    char *text = slurp(out);
    ck_assert_msg(rc == 0, "go tool pprof -raw exited %d:\n%s", rc, text);
    ck_assert_msg(strstr(text, "mprof_test_alpha"), "no function name in:\n%s", text);
    ck_assert_msg(strstr(text, "mprof_test_inlined"), "no inline frame in:\n%s", text);
    ck_assert_msg(strstr(text, "alloc_space/bytes"), "%s", text);
    free(text);

    /* -top demangles the C++ name we left mangled */
    char *top[] = {"go", "tool", "pprof", "-top", "-sample_index=alloc_space",
                   (char *)path, NULL};
    rc = run(top, out);
    text = slurp(out);
    ck_assert_msg(rc == 0, "go tool pprof -top exited %d:\n%s", rc, text);
    ck_assert_msg(strstr(text, "mprof::test::mangled"), "not demangled:\n%s", text);
    free(text);
    remove_tmpdir();
}
END_TEST

/* pprof's own encoder writes short repeated fields unpacked: read its
 * re-encoding of our file and find the same profile. */
START_TEST(test_we_read_go_pprof_reencoded)
{
    require_go();
    make_tmpdir();
    const char *path = write_fixture_file();
    const char *re = tmp_path("re.pb.gz");
    char *argv[] = {"go", "tool", "pprof", "-proto", "-output", (char *)re,
                    (char *)path, NULL};
    int rc = run(argv, tmp_path("log.txt"));
    char *log = slurp(tmp_path("log.txt"));
    ck_assert_msg(rc == 0, "go tool pprof -proto exited %d:\n%s", rc, log);
    free(log);

    mprof_pprof_profile a, b;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&a, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(mprof_pprof_read_file(&b, re, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(a.nsample_type, b.nsample_type);
    ck_assert_int_eq(a.period, b.period);
    for (size_t k = 0; k < a.nsample_type; k++) {
        int64_t ta = 0, tb = 0;
        for (size_t i = 0; i < a.nsample; i++) /* pprof drops empty stacks */
            ta += a.sample[i].nlocation_id ? a.sample[i].value[k] : 0;
        for (size_t i = 0; i < b.nsample; i++)
            tb += b.sample[i].value[k];
        ck_assert_int_eq(ta, tb);
    }
    int found = 0;
    for (size_t i = 0; i < b.nfunction; i++)
        found |= strcmp(mprof_pprof_string(&b, b.function[i].name), "mprof_test_alpha") == 0;
    ck_assert(found);
    ck_assert_str_eq(mprof_pprof_string(&b, b.mapping[0].build_id),
                     mprof_pprof_string(&a, a.mapping[0].build_id));
    mprof_pprof_free(&a);
    mprof_pprof_free(&b);
    remove_tmpdir();
}
END_TEST

/* A heap profile written by Go's runtime/pprof itself. */
START_TEST(test_we_read_go_runtime_profile)
{
    require_go();
    make_tmpdir();
    const char *src = tmp_path("main.go");
    FILE *f = fopen(src, "w");
    fputs("package main\n"
          "import (\"os\"; \"runtime\"; \"runtime/pprof\")\n"
          "var keep [][]byte\n"
          "func main() {\n"
          "  runtime.MemProfileRate = 1\n"
          "  for i := 0; i < 1000; i++ { keep = append(keep, make([]byte, 1000)) }\n"
          "  runtime.GC()\n"
          "  out, _ := os.Create(os.Args[1])\n"
          "  pprof.Lookup(\"heap\").WriteTo(out, 0)\n"
          "  out.Close()\n"
          "  f2, _ := os.Create(os.Args[2])\n"
          "  pprof.Lookup(\"goroutine\").WriteTo(f2, 0)\n"
          "  f2.Close()\n"
          "}\n", f);
    fclose(f);
    const char *heap = tmp_path("go.heap.pb.gz"), *gor = tmp_path("go.goroutine.pb.gz");
    /* go run needs a build cache, under $HOME unless told otherwise. */
    if (!getenv("HOME") && !getenv("GOCACHE"))
        setenv("GOCACHE", tmp_path("gocache"), 1);
    char *argv[] = {"go", "run", (char *)src, (char *)heap, (char *)gor, NULL};
    int rc = run(argv, tmp_path("log.txt"));
    if (rc != 0) { /* the program uses the standard library only: no network */
        char *log = slurp(tmp_path("log.txt"));
        ck_abort_msg("go run of a runtime/pprof program failed (%d):\n%s", rc, log);
    }
    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&p, heap, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nsample_type, 4);
    ck_assert_str_eq(mprof_pprof_string(&p, p.sample_type[0].type), "alloc_objects");
    ck_assert_str_eq(mprof_pprof_string(&p, p.sample_type[3].type), "inuse_space");
    ck_assert_str_eq(mprof_pprof_string(&p, p.period_type.type), "space");
    ck_assert_int_eq(p.period, 1);
    ck_assert_uint_gt(p.nsample, 0);
    int found = 0;
    for (size_t i = 0; i < p.nsample; i++)
        for (size_t j = 0; j < p.sample[i].nlocation_id; j++) {
            const mprof_pprof_location *l =
                mprof_pprof_location_by_id(&p, p.sample[i].location_id[j]);
            for (size_t k = 0; k < l->nline; k++)
                found |= strcmp(fn_name(&p, l, k), "main.main") == 0;
        }
    ck_assert(found);
    mprof_pprof_free(&p);
    ck_assert_msg(mprof_pprof_read_file(&p, gor, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(p.nsample, 0);
    mprof_pprof_free(&p);
    remove_tmpdir();
}
END_TEST

void pprof_add_go_tests(TCase *tc)
{
    tcase_add_test(tc, test_go_pprof_reads_ours);
    tcase_add_test(tc, test_we_read_go_pprof_reencoded);
    tcase_add_test(tc, test_we_read_go_runtime_profile);
}
