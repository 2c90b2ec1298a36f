/*
 * test_fdmove: descriptors mprof opens are moved out of the program's
 * numbers (core/fdmove.c), and a number the program dup2'ed a file of its
 * own onto, between mprof's open and the move, is never used or closed.
 */
#include "fdmove.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(void)
{
    TCase *tc = tcase_create("fdmove");
    tcase_add_test(tc, moved_high_and_low_closed);
    tcase_add_test(tc, program_file_in_between_is_left_alone);
    return run_suite("fdmove", tc, NULL);
}
