/* run_suite.h: the one way the Check test executables run their suite. */
#ifndef MPROF_TEST_RUN_SUITE_H
#define MPROF_TEST_RUN_SUITE_H

#include <check.h>
#include <stdarg.h>

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
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
