/*
 * pprof_write.c: writing profile files (core/output/atomic_file.c,
 * core/output/profile.c), and failing to: every failure leaves nothing behind,
 * a full disk is refused up front, a write replaces the old file
 * atomically, and a symlink planted at the temporary name is not followed.
 */
#include "test_pprof.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- writing files, and failing to ---- */

START_TEST(test_write_failures_leave_nothing)
{
    make_tmpdir();
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();

    ck_assert_int_eq(mprof_profile_write_file(tmp_path("no/such/dir/x.pb.gz"), &d, f.s, 5),
                     -ENOENT);

    int fd = open(tmp_path("file"), O_CREAT | O_WRONLY, 0644);
    close(fd);
    ck_assert_int_eq(mprof_profile_write_file(tmp_path("file/x.pb.gz"), &d, f.s, 5),
                     -ENOTDIR);

    /* rename onto a directory fails after the data is written: the
     * temporary must go */
    ck_assert_int_eq(mkdir(tmp_path("target"), 0755), 0);
    int rc = mprof_profile_write_file(tmp_path("target"), &d, f.s, 5);
    ck_assert_int_eq(rc, -EISDIR);
    ck_assert(!exists(tmp_path("target.tmp")));

    /* read-only directory (root ignores permissions) */
    ck_assert_int_eq(mkdir(tmp_path("ro"), 0555), 0);
    if (geteuid() != 0) {
        ck_assert_int_eq(mprof_profile_write_file(tmp_path("ro/x.pb.gz"), &d, f.s, 5),
                         -EACCES);
        ck_assert(!exists(tmp_path("ro/x.pb.gz.tmp")));
    }

    char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    ck_assert_int_eq(mprof_profile_write_file(longpath, &d, f.s, 5), -ENAMETOOLONG);

    /* errno is left as the caller had it */
    errno = 1234;
    mprof_profile_write_file(tmp_path("no/such/dir/y"), &d, f.s, 5);
    ck_assert_int_eq(errno, 1234);
    remove_tmpdir();
}
END_TEST

/* A full disk, arranged with RLIMIT_FSIZE in a child process. */
START_TEST(test_write_fails_when_disk_full)
{
    make_tmpdir();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {100, 100};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(10);
        /* the profile is refused up front: no SIGXFSZ, no file */
        struct fixture f;
        make_fixture(&f);
        mprof_profile_desc d = heap_desc();
        if (mprof_profile_write_file(tmp_path("big.pb.gz"), &d, f.s, 5) != -EFBIG)
            _exit(11);
        if (exists(tmp_path("big.pb.gz")) || exists(tmp_path("big.pb.gz.tmp")))
            _exit(12);
        /* and when the write itself fails partway, the temporary goes */
        signal(SIGXFSZ, SIG_IGN);
        char data[4096] = {0};
        if (mprof_write_file_atomic(tmp_path("raw"), data, sizeof data, 0) != -EFBIG)
            _exit(13);
        if (exists(tmp_path("raw")) || exists(tmp_path("raw.tmp")))
            _exit(14);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    remove_tmpdir();
}
END_TEST

START_TEST(test_write_replaces_atomically)
{
    make_tmpdir();
    const char *path = tmp_path("p.pb.gz");
    ck_assert_int_eq(mprof_write_file_atomic(path, "old contents", 12, 0), 0);
    ck_assert_int_eq(mprof_write_file_atomic(path, "new", 3, 0), 0);
    char buf[32] = {0};
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(read(fd, buf, sizeof buf), 3);
    close(fd);
    ck_assert_str_eq(buf, "new");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644); /* main() sets umask 022 */
    remove_tmpdir();
}
END_TEST

/* A symlink planted at the temporary name (another user guessing the pid
 * in a shared directory) must not redirect the write to its target. */
START_TEST(test_write_ignores_planted_tmp_link)
{
    make_tmpdir();
    char victim[PATH_MAX], tmp[PATH_MAX];
    snprintf(victim, sizeof victim, "%s", tmp_path("victim"));
    int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_eq(write(fd, "precious", 8), 8);
    close(fd);
    const char *path = tmp_path("p.pb.gz");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(symlink(victim, tmp), 0);
    ck_assert_int_eq(mprof_write_file_atomic(path, "profile", 7, 0), 0);
    char buf[32] = {0};
    fd = open(victim, O_RDONLY);
    ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
    close(fd);
    ck_assert_str_eq(buf, "precious");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISREG(st.st_mode) && st.st_size == 7, "the profile is not a 7-byte file");
    ck_assert_int_eq(lstat(tmp, &st), -1);
    unlink(victim);
    remove_tmpdir();
}
END_TEST

void pprof_add_write_tests(TCase *tc)
{
    tcase_add_test(tc, test_write_failures_leave_nothing);
    tcase_add_test(tc, test_write_fails_when_disk_full);
    tcase_add_test(tc, test_write_replaces_atomically);
    tcase_add_test(tc, test_write_ignores_planted_tmp_link);
}
