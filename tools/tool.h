/*
 * tool.h: what the pieces of the mprof command share: the subcommands,
 * exit statuses, error reporting, option parsing and checked allocation.
 *
 * Exit statuses: 0 success; 1 an operational failure (no such process, a
 * timeout, cannot write the output); 2 bad usage or a bad input file.
 * `mprof run` instead exits with the status of the program it ran.
 */
#ifndef MPROF_TOOL_H
#define MPROF_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum { EXIT_FAIL = 1, EXIT_BAD_INPUT = 2 };

/* The subcommands: argv[0] is the subcommand's name. */
int cmd_run(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_collapsed(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);
int cmd_stacks(int argc, char **argv);

/* `mprof dump` for another command `cmd` (its name starts the error
 * lines): ask process pid (or the program of
 * an `mprof run` pid) to dump, with the same checks and messages, and
 * wait for it; the path of the file of `kind` (outname.h) that the dump
 * wrote, malloc'd, in *path (NULL if it wrote none), and the program's
 * pid in *program.  0, or an exit status after one line saying why.
 * Prints nothing on stdout. */
int dump_for_file(const char *cmd, pid_t pid, double timeout, int kind, char **path,
                  pid_t *program);

/* "mprof <cmd>: <message>" on stderr, one line. */
void tool_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 0 once everything printed to stdout has been written; else EXIT_FAIL
 * after one line saying why (a full disk, a closed pipe). */
int tool_stdout_status(const char *cmd);

/* The usage text of one subcommand (or of all, for NULL) on stderr, and
 * exit status 2. */
int tool_usage(const char *cmd);
/* The same text on stdout, for --help. */
void tool_help(const char *cmd);

/* malloc and friends that end the program with a message when memory runs
 * out: a report tool has nothing better to do. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow *arr (of *cap elements of `size`) to hold at least `need`. */
void xgrow(void *arrp, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Options: "--name value", "--name=value", "-n value", and flags. Options
 * and operands may be mixed; "--" ends the options.
 */
typedef struct tool_opt {
    const char *name; /* "--cum", "-n" */
    bool has_arg;
} tool_opt;

typedef struct tool_args {
    int argc, i;
    char **argv;
    bool stop_at_operand; /* `run`: the first operand begins the program */
    bool ended;           /* "--" seen */
} tool_args;

enum { ARG_END, ARG_OPTION, ARG_OPERAND, ARG_ERROR };

/* The next option (*opt set, *val its argument) or operand (*val). On
 * ARG_ERROR a message has been printed. */
int tool_args_next(tool_args *a, const char *cmd, const tool_opt *opts,
                   const tool_opt **opt, const char **val);

/* Plain decimal integer in [min, max], or -1. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Seconds, possibly fractional ("2", "0.5"), >= 0 and not absurd, or -1. */
int parse_seconds(const char *s, double *out);

#endif
