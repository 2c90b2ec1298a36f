/*
 * test_fdmove: descriptors mprof opens are moved out of the program's
 * numbers (core/fdmove.c), and a number the program dup2'ed a file of its
 * own onto, between mprof's open and the move, is never used or closed:
 * files by path, and the memfds of the published state by name.
 */
#include "fdmove.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_a[64], path_b[64];

static void make_files(void)
{
    snprintf(path_a, sizeof path_a, "/tmp/mprof-fdmove-a.%d", (int)getpid());
    snprintf(path_b, sizeof path_b, "/tmp/mprof-fdmove-b.%d", (int)getpid());
    for (int i = 0; i < 2; i++) {
        int fd = open(i ? path_b : path_a, O_CREAT | O_TRUNC | O_WRONLY, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, i ? "program" : "mprof", i ? 7 : 5), i ? 7 : 5);
        close(fd);
    }
}

static void remove_files(void)
{
    unlink(path_a);
    unlink(path_b);
}

static off_t size_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

START_TEST(moved_high_and_low_closed)
{
    make_files();
    int low = open(path_a, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(low, 0);
    ck_assert_int_lt(low, 48);
    int hi = mprof_fd_raise(low, path_a);
    ck_assert_int_ge(hi, 48);
    ck_assert_int_eq(fcntl(low, F_GETFD), -1); /* the low number is free again */
    ck_assert_int_eq(size_of(hi), 5);
    close(hi);
    remove_files();
}
END_TEST

/* The program dup2'ed its own file onto mprof's number before the move. */
START_TEST(program_file_in_between_is_left_alone)
{
    make_files();
    int low = open(path_a, O_RDONLY | O_CLOEXEC);
    int prog = open(path_b, O_RDWR);
    ck_assert_int_ge(low, 0);
    ck_assert_int_eq(dup2(prog, low), low); /* the program's dup2: ours is gone */
    errno = 0;
    ck_assert_int_eq(mprof_fd_raise(low, path_a), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_int_eq(size_of(low), 7); /* still the program's file, still open */
    for (int fd = 48; fd < 64; fd++)
        ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* no copy left behind */
    close(low);
    close(prog);
    remove_files();
}
END_TEST

/* publish.c's memfds: ours is moved; a program's own empty sealable
 * memfd, dup2'ed onto our number in between, is neither used nor closed. */
START_TEST(memfd_ours_moved)
{
    int low = memfd_create("mprof:1:pid=1:test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ck_assert_int_ge(low, 0);
    int hi = mprof_fd_raise_memfd(low, "mprof:1:pid=1:test");
    ck_assert_int_ge(hi, 48);
    ck_assert_int_eq(fcntl(low, F_GETFD), -1);
    close(hi);
}
END_TEST

START_TEST(program_memfd_in_between_is_left_alone)
{
    int low = memfd_create("mprof:1:pid=1:test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int prog = memfd_create("wl_shm", MFD_CLOEXEC | MFD_ALLOW_SEALING); /* empty, sealable */
    ck_assert_int_ge(low, 0);
    ck_assert_int_eq(dup2(prog, low), low);
    errno = 0;
    ck_assert_int_eq(mprof_fd_raise_memfd(low, "mprof:1:pid=1:test"), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_int_eq(fcntl(low, F_GETFD), 0); /* the program's dup2 result, still open */
    ck_assert_int_eq(size_of(low), 0);
    for (int fd = 48; fd < 64; fd++)
        ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
    close(low);
    close(prog);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("fdmove");
    tcase_add_test(tc, moved_high_and_low_closed);
    tcase_add_test(tc, program_file_in_between_is_left_alone);
    tcase_add_test(tc, memfd_ours_moved);
    tcase_add_test(tc, program_memfd_in_between_is_left_alone);
    return run_suite("fdmove", tc, NULL);
}
