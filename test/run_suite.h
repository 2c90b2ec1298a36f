/* run_suite.h: the one way every Check test executable runs its suite
 * (test/unit, and the suites in test/integration, hardening, locks,
 * symbols and tools), so that all report and exit alike. */
#ifndef MPROF_TEST_RUN_SUITE_H
#define MPROF_TEST_RUN_SUITE_H

#include <check.h>
#include <stdarg.h>

/* Runs a suite the caller has filled (e.g. one test case per test, with
 * h_add_test); returns the exit status for main. */
static inline int run_built_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Adds each test of a NULL-terminated list as a test case of its own,
 * named as the test, so that CK_RUN_CASE=<name> runs it alone, with a
 * timeout of `timeout` seconds.  A list per timeout keeps a suite's main
 * to the names of its tests: add_tests(s, 60, TESTS(a, b, c)). */
#define TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

static inline void add_tests(Suite *s, int timeout, const TTest *const *tests)
{
    for (; *tests; tests++) {
        TCase *tc = tcase_create((*tests)->name);
        tcase_set_timeout(tc, timeout);
        tcase_add_test(tc, *tests);
        suite_add_tcase(s, tc);
    }
}

/* Runs the test cases (a NULL-terminated list) as suite `name`; returns
 * the exit status for main. */
static inline int run_suite(const char *name, TCase *tc, ...)
{
    Suite *s = suite_create(name);
    va_list ap;
    va_start(ap, tc);
    for (; tc; tc = va_arg(ap, TCase *))
        suite_add_tcase(s, tc);
    va_end(ap);
    return run_built_suite(s);
}

#endif
