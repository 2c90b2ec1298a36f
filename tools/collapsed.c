/*
 * collapsed.c: `mprof collapsed`: folded stacks ("main;parse;malloc 4096"),
 * the input format of flamegraph.pl, inferno and speedscope. One line per
 * unique stack of function names, root first, with the sum of the chosen
 * sample type; stacks whose sum is 0 are left out.
 */
#include "reader.h"
#include "stacks.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

static const tool_opt opts[] = {{"--sample-index", true}, {NULL, false}};

int cmd_collapsed(int argc, char **argv)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const char *file = NULL, *index = NULL, *val;
    const tool_opt *opt;
    int k;
    while ((k = tool_args_next(&a, "collapsed", opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return tool_usage("collapsed");
        if (k == ARG_OPERAND && file) {
            tool_error("collapsed", "unexpected argument '%s'", val);
            return tool_usage("collapsed");
        }
        *(k == ARG_OPERAND ? &file : &index) = val;
    }
    if (!file) {
        tool_error("collapsed", "expected a profile file");
        return tool_usage("collapsed");
    }
    reader r;
    if (reader_open(&r, "collapsed", file) < 0)
        return EXIT_BAD_INPUT;
    if (index && reader_select(&r, "collapsed", index) < 0) {
        reader_close(&r);
        return EXIT_BAD_INPUT;
    }
    stacks t;
    stacks_build(&t, &r);
    stacks_print_folded(&t, stdout);
    if (t.skipped)
        tool_error("collapsed", "%s: %zu samples with negative %s left out",
                   file, t.skipped, r.type);
    stacks_free(&t);
    reader_close(&r);
    return tool_stdout_status("collapsed");
}
