/* Unit tests of the census page (core/record/census.c): what fork
 * children report to their parent, across real forks, without the shim.
 * Check forks each test, so each starts with no page mapped. */
#include "census.h"

#include <check.h>
#include "run_suite.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fork a child that runs fn (as the fork handlers would leave it) and
 * exits 0; wait for it. */
static void in_child(void (*fn)(int), int arg)
{
    mprof_census_map();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mprof_census_after_fork();
        fn(arg);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void dump_and_note(int first)
{
    if (!mprof_census_has_parent())
        _exit(3);
    mprof_census_note_module(0x400000 + (uint64_t)first * 0x1000);
    mprof_census_note_module(0x7f0000000000);
    mprof_census_note_module(0); /* nothing */
    mprof_census_child_dumped();
}

static int has(const uint64_t *m, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (m[i] == v)
            return 1;
    return 0;
}

START_TEST(children_count_and_name_modules_once)
{
    ck_assert_uint_eq(mprof_census_child_dumps(), 0);
    ck_assert(!mprof_census_has_parent());
    for (int i = 0; i < 3; i++)
        in_child(dump_and_note, i);
    ck_assert_uint_eq(mprof_census_child_dumps(), 3);
    uint64_t m[MPROF_CENSUS_MODULES];
    size_t n = mprof_census_modules(m, MPROF_CENSUS_MODULES);
    ck_assert_uint_eq(n, 4); /* three of their own, the shared one once */
    for (int i = 0; i < 3; i++)
        ck_assert(has(m, n, 0x400000 + (uint64_t)i * 0x1000));
    ck_assert(has(m, n, 0x7f0000000000));
}
END_TEST

static void note_many(int count)
{
    for (int i = 0; i < count; i++)
        mprof_census_note_module(0x10000000 + (uint64_t)i * 0x200000);
}

START_TEST(full_page_is_bounded)
{
    in_child(note_many, 3 * MPROF_CENSUS_MODULES);
    uint64_t m[MPROF_CENSUS_MODULES + 8];
    ck_assert_uint_eq(mprof_census_modules(m, MPROF_CENSUS_MODULES + 8), MPROF_CENSUS_MODULES);
    ck_assert_uint_eq(mprof_census_modules(m, 5), 5);
}
END_TEST

/* A grandchild reports to its own parent, the child, not to the first
 * process: each process's page counts its own children. */
static void fork_grandchild(int unused)
{
    (void)unused;
    in_child(dump_and_note, 7);
    if (mprof_census_child_dumps() != 1)
        _exit(4);
}

START_TEST(grandchildren_report_to_their_parent)
{
    in_child(fork_grandchild, 0);
    ck_assert_uint_eq(mprof_census_child_dumps(), 0);
    uint64_t m[4];
    ck_assert_uint_eq(mprof_census_modules(m, 4), 0);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("census");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, children_count_and_name_modules_once);
    tcase_add_test(tc, full_page_is_bounded);
    tcase_add_test(tc, grandchildren_report_to_their_parent);
    return run_suite("census", tc, NULL);
}
