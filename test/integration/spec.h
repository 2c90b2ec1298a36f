/*
 * spec.h: a run_spec (harness.h) from lists written where it is used, for
 * the suites that run many programs, so that a test says what it runs in
 * one statement instead of filling the spec's arrays field by field.
 */
#ifndef MPROF_TEST_SPEC_H
#define MPROF_TEST_SPEC_H

#include "harness.h"

#include <check.h>

/* A NULL-terminated list: argv or extra environment for spec_of(). */
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Copies a NULL-terminated list (NULL: none) into a run_spec field of max
 * entries, keeping the last one NULL as harness.c needs it. */
static inline void spec_copy(const char **to, int max, const char *const *from)
{
    for (int i = 0; from && from[i]; i++) {
        ck_assert_msg(i < max - 1, "more than %d arguments or variables", max - 1);
        to[i] = from[i];
    }
}

/* argv run in cwd with the extra environment env. */
static inline run_spec spec_of(const char *cwd, const char *const *argv,
                               const char *const *env)
{
    run_spec s = {.cwd = cwd};
    spec_copy(s.argv, RUN_MAX_ARGS, argv);
    spec_copy(s.env, RUN_MAX_ENV, env);
    return s;
}

#endif
