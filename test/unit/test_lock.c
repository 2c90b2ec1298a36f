/* Unit tests of core/lock.c and lock.h: the lock stays one int; locks
 * taken in rank order pass; and, in MPROF_LOCK_DEBUG builds (make
 * check-sanitize), each breach of the order (lock.h's table) aborts with
 * one line naming both locks, run in a child that must die of SIGABRT.
 * Without MPROF_LOCK_DEBUG those checks do not exist, and main says the
 * tests of them are skipped. */
#include "bucket.h"
#include "lock.h"

#include <check.h>
#include "run_suite.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static mprof_lock test_outer = MPROF_LOCK_INIT;
MPROF_LOCK_RANK(test_outer, MPROF_RANK_DUMP);
static struct {
    mprof_lock lock;
    char pad[60];
} test_stripes[4];
MPROF_LOCK_RANK_ARRAY(test_stripes, lock, MPROF_RANK_CYCLE);
static mprof_lock test_inner = MPROF_LOCK_INIT;
MPROF_LOCK_RANK(test_inner, MPROF_RANK_ARENA);

/* The release build's lock is what it was: one int, and nothing else,
 * whatever MPROF_LOCK_DEBUG adds (ranks live beside the locks). */
START_TEST(lock_is_one_int)
{
    ck_assert_uint_eq(sizeof(mprof_lock), sizeof(int));
}
END_TEST

/* Outer to inner, an array in index order, releases in any order, and the
 * same again: nothing aborts, and each lock is free after. */
START_TEST(ordered_acquisition_passes)
{
    for (int round = 0; round < 2; round++) {
        mprof_lock_acquire(&test_outer);
        for (int i = 0; i < 4; i++)
            mprof_lock_acquire(&test_stripes[i].lock);
        mprof_lock_acquire(&test_inner);
        mprof_lock_assert_held(&test_outer);
        mprof_lock_assert_held(&test_stripes[2].lock);
        mprof_lock_assert_held(&test_inner);
        mprof_lock_release(&test_stripes[1].lock); /* not the last taken */
        mprof_lock_release(&test_outer);
        mprof_lock_release(&test_inner);
        for (int i = 3; i >= 0; i--)
            if (i != 1)
                mprof_lock_release(&test_stripes[i].lock);
        mprof_lock_assert_none_held();
    }
    ck_assert_int_eq(atomic_load(&test_outer.state), 0);
    ck_assert_int_eq(atomic_load(&test_inner.state), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(atomic_load(&test_stripes[i].lock.state), 0);
}
END_TEST

#ifdef MPROF_LOCK_DEBUG
/* Runs fn in a child whose stderr is collected in out; its wait status. */
static int in_child(void (*fn)(void), char *out, size_t len)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0}; /* an abort expected: no core file */
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        close(p[1]);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n < len - 1 && (r = read(p[0], out + n, len - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    close(p[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* fn must abort with one line that names both `a` and `b`. */
static void expect_abort(void (*fn)(void), const char *a, const char *b)
{
    char out[1024];
    int status = in_child(fn, out, sizeof out);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "no abort (status %#x); stderr: %s", status, out);
    ck_assert_msg(strncmp(out, "mprof: lock order: ", 19) == 0, "%s", out);
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
    ck_assert_msg(strstr(out, a), "no %s in: %s", a, out);
    ck_assert_msg(strstr(out, b), "no %s in: %s", b, out);
}

static void inner_then_outer(void)
{
    mprof_lock_acquire(&test_inner);
    mprof_lock_acquire(&test_outer);
}

static void array_backwards(void)
{
    mprof_lock_acquire(&test_stripes[2].lock);
    mprof_lock_acquire(&test_stripes[1].lock);
}

/* Without the check this one hangs: a lock is not recursive. */
static void same_lock_twice(void)
{
    mprof_lock_acquire(&test_outer);
    mprof_lock_acquire(&test_outer);
}

static void release_not_held(void)
{
    mprof_lock_acquire(&test_outer);
    mprof_lock_release(&test_inner);
}

static void assert_held_fails(void)
{
    mprof_lock_acquire(&test_outer);
    mprof_lock_assert_held(&test_inner);
}

static void assert_none_fails(void)
{
    mprof_lock_acquire(&test_stripes[3].lock);
    mprof_lock_assert_none_held();
}

static void unranked(void)
{
    static mprof_lock no_rank = MPROF_LOCK_INIT;
    mprof_lock_acquire(&test_outer);
    mprof_lock_acquire(&no_rank);
}

/* "name (rank N)", as the line names a lock of rank N. */
static const char *ranked(char *buf, size_t len, const char *name, long rank)
{
    snprintf(buf, len, "%s (rank %ld)", name, rank);
    return buf;
}

START_TEST(out_of_order_aborts)
{
    char a[64], b[64];
    expect_abort(inner_then_outer, ranked(a, sizeof a, "test_inner", MPROF_RANK_ARENA),
                 ranked(b, sizeof b, "test_outer", MPROF_RANK_DUMP));
    expect_abort(array_backwards, ranked(a, sizeof a, "test_stripes[1]", MPROF_RANK_CYCLE + 1),
                 ranked(b, sizeof b, "test_stripes[2]", MPROF_RANK_CYCLE + 2));
    expect_abort(same_lock_twice, "taking test/unit/test_lock.c test_outer",
                 "while holding test/unit/test_lock.c test_outer");
    expect_abort(unranked, "(no rank)", "test_outer");
}
END_TEST

START_TEST(caller_holds_checks_abort)
{
    expect_abort(release_not_held, "releasing test/unit/test_lock.c test_inner",
                 "holding test/unit/test_lock.c test_outer");
    char a[64];
    snprintf(a, sizeof a, "test_inner (rank %d) must be held", MPROF_RANK_ARENA);
    expect_abort(assert_held_fails, a,
                 "holding test/unit/test_lock.c test_outer");
    expect_abort(assert_none_fails, "no mprof lock may be held", "test_stripes[3]");
}
END_TEST

/* A fork child resets the locks it inherited (profiler.c); a reset lock
 * is no longer held by anyone, this thread included, so a lock of a lower
 * rank may be taken after it. */
static void reset_then_lower(void)
{
    mprof_lock_acquire(&test_inner);
    mprof_lock_reset(&test_inner);
    mprof_lock_acquire(&test_outer);
    mprof_lock_release(&test_outer);
    mprof_lock_assert_none_held();
}

START_TEST(reset_forgets_the_lock)
{
    char out[1024];
    int status = in_child(reset_then_lower, out, sizeof out);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x; stderr: %s",
                  status, out);
}
END_TEST

/* The ranks come from the table in lock.h: an array's element i ranks
 * rank + i (core's own bucket stripes included), and a lock no
 * MPROF_LOCK_RANK names has none. */
START_TEST(ranks_from_the_table)
{
    mprof_lock local = MPROF_LOCK_INIT;
    ck_assert_int_eq(mprof_lock_rank_of(&test_outer), MPROF_RANK_DUMP);
    ck_assert_int_eq(mprof_lock_rank_of(&test_stripes[3].lock), MPROF_RANK_CYCLE + 3);
    ck_assert_int_eq(mprof_lock_rank_of(&local), -1);
    ck_assert_int_eq(mprof_lock_rank_of(mprof_bucket_stripe_at(0)), MPROF_RANK_BUCKET_STRIPE);
    ck_assert_int_eq(mprof_lock_rank_of(mprof_bucket_stripe_at(MPROF_STRIPES - 1)),
                     MPROF_RANK_BUCKET_STRIPE + MPROF_STRIPES - 1);
    ck_assert_int_lt(MPROF_RANK_BUCKET_STRIPE + MPROF_STRIPES - 1, MPROF_RANK_ELF_INDEX);
}
END_TEST
#endif

int main(void)
{
    TCase *tc = tcase_create("lock");
    tcase_add_test(tc, lock_is_one_int);
    tcase_add_test(tc, ordered_acquisition_passes);
#ifdef MPROF_LOCK_DEBUG
    tcase_add_test(tc, out_of_order_aborts);
    tcase_add_test(tc, caller_holds_checks_abort);
    tcase_add_test(tc, reset_forgets_the_lock);
    tcase_add_test(tc, ranks_from_the_table);
#else
    printf("test_lock: SKIPPED the lock order checks: built without "
           "MPROF_LOCK_DEBUG (make check-sanitize builds them in)\n");
    fflush(stdout); /* before Check's forks, and before its own lines */
#endif
    return run_suite("lock", tc, NULL);
}
