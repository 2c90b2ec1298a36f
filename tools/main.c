/*
 * main.c: the mprof command: dispatch to a subcommand, and the usage text.
 *
 * Every subcommand lives in its own file (run.c, dump.c, report.c for top,
 * diff and collapsed, flame.c); this file only knows their names.
 */
#include "tool.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *usage;
} commands[] = {
    {"run", cmd_run,
     "mprof run [--mem-rate N] [--block-rate NS] [--mutex-fraction N]\n"
     "          [--out PREFIX] [--interval S] [--] PROGRAM [ARGS...]\n"
     "    Run PROGRAM with libmprof.so preloaded and the settings passed as\n"
     "    MPROF_* variables; exit with its status (128+N if killed by signal\n"
     "    N); then list on stderr the profile files the run wrote.\n"},
    {"dump", cmd_dump,
     "mprof dump PID [--timeout S]\n"
     "    Ask a running process (started under mprof) to dump its profiles\n"
     "    now, wait until the files are complete (default 10 s) and print\n"
     "    their names. PID may be the program's or its `mprof run`'s.\n"},
    {"stacks", cmd_stacks,
     "mprof stacks PID [--timeout S]\n"
     "    Every thread's stack now, for a process that hangs: the process\n"
     "    dumps (as mprof dump), and its threads profile is printed grouped\n"
     "    by identical stacks, with names, file:line, the lock each blocked\n"
     "    thread waits for and the thread that holds it; a cycle of such\n"
     "    waits is reported as a deadlock (exit status 3).\n"},
    {"top", cmd_top,
     "mprof top FILE [--sample-index NAME|N] [--cum] [-n N] [--raw]\n"
     "    The functions with the largest values, like `pprof -top`: flat\n"
     "    (in the function itself), cum (in it and what it calls), and the\n"
     "    file:line that contributes most. Default sample index: the\n"
     "    profile's default, else its last (inuse_space for heap profiles).\n"
     "    -n N shows N rows (default 20, 0 = all); --raw prints exact numbers.\n"},
    {"diff", cmd_diff,
     "mprof diff OLD NEW [--sample-index NAME|N] [--cum] [-n N] [--raw]\n"
     "    Growth by function from OLD to NEW (two heap dumps of one process),\n"
     "    biggest growth first; OLD is subtracted as `pprof -diff_base` does.\n"},
    {"collapsed", cmd_collapsed,
     "mprof collapsed FILE [--sample-index NAME|N]\n"
     "    Folded stacks, one line per unique stack: \"root;...;leaf value\"\n"
     "    (for flamegraph.pl, speedscope, inferno).\n"},
    {"symbolize", cmd_symbolize,
     "mprof symbolize FILE -o OUT\n"
     "    Write FILE with file:line, inlined frames and demangled names\n"
     "    added from the binaries and debug files on this machine (those\n"
     "    whose build ID is the one profiled), for go tool pprof, Pyroscope\n"
     "    or Parca. top, diff, collapsed and flame do this by themselves.\n"},
    {"flame", cmd_flame,
     "mprof flame FILE -o OUT.svg [--sample-index NAME|N] [--title TEXT]\n"
     "    A self-contained interactive SVG flame graph: hover shows a\n"
     "    frame's name and value, click zooms, Esc or \"Reset zoom\" resets.\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

int tool_usage(const char *cmd)
{
    fflush(stdout);
    if (!cmd)
        fputs("usage:\n", stderr);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!cmd || strcmp(cmd, commands[i].name) == 0)
            fprintf(stderr, "%s%s", cmd ? "usage: " : "", commands[i].usage);
    if (!cmd)
        fputs("Exit status: 0 ok, 1 failure, 2 bad usage or bad input file "
              "(run: the program's).\n", stderr);
    return EXIT_BAD_INPUT;
}

void tool_help(const char *cmd)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!cmd || strcmp(cmd, commands[i].name) == 0)
            fputs(commands[i].usage, stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage(NULL);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        tool_help(argc > 2 ? argv[2] : NULL);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "mprof: unknown command '%s'\n", cmd);
    return tool_usage(NULL);
}
