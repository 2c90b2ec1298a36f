/*
 * test_readfile.c: the one whole-file reader (core/output/readfile.c):
 * files of every size around its buffer's first guess, read whole and
 * NUL-terminated; the max bound to the byte; files that report no size
 * (/proc, a pipe) read to their end; each documented error.
 */
#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readfile.h"
#include "scratch.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/mprof_readfile_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* Byte i of every test file: never 0 (so a missing NUL shows). */
static char byte_at(size_t i) { return (char)('a' + i % 23); }

static const char *file_of_size(size_t n)
{
    const char *p = path_of("f");
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fputc(byte_at(i), f);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

START_TEST(test_sizes)
{
    static const size_t sizes[] = {0, 1, 2, 4095, 65535, 65536, 65537, 300001};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        mprof_scratch sc;
        mprof_scratch_init(&sc);
        char *data = NULL;
        size_t len = 1;
        ck_assert_int_eq(mprof_read_file(&sc, file_of_size(sizes[s]), 1 << 20, &data, &len), 0);
        ck_assert_uint_eq(len, sizes[s]);
        for (size_t i = 0; i < len; i++)
            ck_assert_int_eq(data[i], byte_at(i));
        ck_assert_int_eq(data[len], '\0');
        mprof_scratch_release(&sc);
    }
}
END_TEST

/* max bytes read; one more is -EFBIG; also where max is below the first
 * guess of a file that reports no size. */
START_TEST(test_max)
{
    for (size_t max = 0; max < 70; max += 7) {
        for (size_t n = max ? max - 1 : 0; n <= max + 1; n++) {
            mprof_scratch sc;
            mprof_scratch_init(&sc);
            char *data;
            size_t len;
            int rc = mprof_read_file(&sc, file_of_size(n), max, &data, &len);
            if (n <= max) {
                ck_assert_int_eq(rc, 0);
                ck_assert_uint_eq(len, n);
                ck_assert_int_eq(data[len], '\0');
            } else {
                ck_assert_int_eq(rc, -EFBIG);
                ck_assert_ptr_null(data);
            }
            mprof_scratch_release(&sc);
        }
    }
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    char *data;
    size_t len;
    ck_assert_int_eq(mprof_read_file(&sc, "/proc/self/status", 16, &data, &len), -EFBIG);
    mprof_scratch_release(&sc);
}
END_TEST

/* /proc files report size 0: read to their end anyway. */
START_TEST(test_proc)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    char *data;
    size_t len;
    ck_assert_int_eq(mprof_read_file(&sc, "/proc/self/status", 1 << 20, &data, &len), 0);
    ck_assert_uint_eq(strlen(data), len);
    ck_assert_ptr_nonnull(strstr(data, "\nSigBlk:"));
    ck_assert_int_eq(data[len - 1], '\n');
    mprof_scratch_release(&sc);
}
END_TEST

struct writer {
    const char *path;
    size_t n;
};

static void *write_fifo(void *arg)
{
    const struct writer *w = arg;
    FILE *f = fopen(w->path, "w");
    for (size_t i = 0; f && i < w->n; i++)
        if (fputc(byte_at(i), f) == EOF)
            break; /* the reader stopped at max */
    if (f)
        fclose(f);
    return NULL;
}

/* A pipe has no size: the buffer grows from its first guess. */
START_TEST(test_pipe_grows)
{
    const char *p = path_of("fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    signal(SIGPIPE, SIG_IGN);
    for (int bounded = 0; bounded < 2; bounded++) {
        struct writer w = {p, 200000};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, write_fifo, &w), 0);
        mprof_scratch sc;
        mprof_scratch_init(&sc);
        char *data;
        size_t len;
        int rc = mprof_read_file(&sc, p, bounded ? 100000 : 1 << 20, &data, &len);
        if (bounded) {
            ck_assert_int_eq(rc, -EFBIG);
        } else {
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(len, w.n);
            for (size_t i = 0; i < len; i++)
                ck_assert_int_eq(data[i], byte_at(i));
            ck_assert_int_eq(data[len], '\0');
        }
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        mprof_scratch_release(&sc);
    }
}
END_TEST

START_TEST(test_errors)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    char *data = (char *)"set";
    size_t len = 1;
    ck_assert_int_eq(mprof_read_file(&sc, path_of("none"), 100, &data, &len), -ENOENT);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(mprof_read_file(&sc, dir, 100, &data, &len), -EISDIR);
    if (geteuid() != 0) { /* root reads it anyway */
        const char *p = file_of_size(10);
        chmod(p, 0);
        ck_assert_int_eq(mprof_read_file(&sc, p, 100, &data, &len), -EACCES);
    }
    /* the scratch refuses to grow: -ENOMEM, not a partial file */
    mprof_scratch_set_limit(&sc, 1);
    ck_assert_int_eq(mprof_read_file(&sc, file_of_size(300000), 1 << 20, &data, &len),
                     -ENOMEM);
    ck_assert_ptr_null(data);
    mprof_scratch_release(&sc);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("readfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_max);
    tcase_add_test(tc, test_proc);
    tcase_add_test(tc, test_pipe_grows);
    tcase_add_test(tc, test_errors);
    return run_suite("readfile", tc, NULL);
}
