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
