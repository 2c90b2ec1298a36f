/*
 * test_tools: the mprof command (tools/) end to end.
 *
 * Profiles come from the test programs, whose truth is known (sites,
 * test/tools/grow, test/locks/contention), from a Go program written and
 * run at test time, and from profiles built here with
 * core/'s encoder when a test needs names or shapes no program makes.
 * `go tool pprof -top` is the reference for `mprof top`; xmllint (else
 * python3) checks that flame graphs are well-formed XML, node runs their
 * script.  A test that needs one of these programs fails when it is
 * missing (Check has no "skipped", and `make deps` installs them all).
 * Each test works in build/test/tools/work/<test>, left in place for
 * inspection.  One test: CK_RUN_CASE=<name>.
 *
 * This file is main; the tests are in tools_<subject>.c, one file per
 * command or concern, and what they share in tutil.c.
 */
#include "tutil.h"

#include <check.h>
#include "run_suite.h"
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    remove_work();
    /* Commands that write with a relative prefix (`mprof run` without
     * --out) write here, not into the source tree. */
    char work[PATH_MAX];
    snprintf(work, sizeof work, "%s/test/tools/work", build_dir());
    if (chdir(work) != 0)
        return 2;
    Suite *s = suite_create("tools");
    tools_add_top_tests(s);
    tools_add_dump_tests(s);
    tools_add_graph_tests(s);
    tools_add_input_tests(s);
    tools_add_run_tests(s);
    return run_built_suite(s);
}
