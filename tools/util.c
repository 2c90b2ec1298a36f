/*
 * util.c: error lines, checked allocation and option parsing for the
 * subcommands (see tool.h).
 */
#include "tool.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tool_error(const char *cmd, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, whatever the message carries (a file name with a newline
     * must not split it). */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fflush(stdout);
    fprintf(stderr, "mprof %s: %s\n", cmd, msg);
}

static void out_of_memory(size_t n)
{
    fprintf(stderr, "mprof: out of memory (%zu bytes)\n", n);
    exit(EXIT_FAIL);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

void xgrow(void *arrp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size)
            out_of_memory(SIZE_MAX);
        ncap *= 2;
    }
    void **arr = arrp;
    *arr = xrealloc(*arr, ncap * size);
    memset((char *)*arr + *cap * size, 0, (ncap - *cap) * size);
    *cap = ncap;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory(0);
    return s;
}

/* ---- options ---- */

static const tool_opt *find_opt(const tool_opt *opts, const char *arg,
                                size_t len)
{
    for (const tool_opt *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
            return o;
    return NULL;
}

static int option(tool_args *a, const char *cmd, const tool_opt *opts,
                  const tool_opt **opt, const char **val)
{
    const char *arg = a->argv[a->i++];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const tool_opt *o = find_opt(opts, arg, len);
    if (!o && (!strcmp(arg, "--help") || !strcmp(arg, "-h"))) {
        /* Here, not by a scan of argv in main: "-o -h" names a file. */
        tool_help(cmd);
        exit(0);
    }
    if (!o) {
        tool_error(cmd, "unknown option '%.*s' (see mprof %s --help)", (int)len,
                   arg, cmd);
        return ARG_ERROR;
    }
    *opt = o;
    *val = NULL;
    if (!o->has_arg) {
        if (eq) {
            tool_error(cmd, "option %s takes no value", o->name);
            return ARG_ERROR;
        }
        return ARG_OPTION;
    }
    if (eq) {
        *val = eq + 1;
    } else if (a->i < a->argc) {
        *val = a->argv[a->i++];
    } else {
        tool_error(cmd, "option %s needs a value", o->name);
        return ARG_ERROR;
    }
    return ARG_OPTION;
}

int tool_args_next(tool_args *a, const char *cmd, const tool_opt *opts,
                   const tool_opt **opt, const char **val)
{
    if (a->i >= a->argc)
        return ARG_END;
    const char *arg = a->argv[a->i];
    if (!a->ended && strcmp(arg, "--") == 0) {
        a->ended = true;
        a->i++;
        return tool_args_next(a, cmd, opts, opt, val);
    }
    if (a->ended || arg[0] != '-' || arg[1] == '\0') {
        if (a->stop_at_operand)
            a->ended = true;
        *val = a->argv[a->i++];
        return ARG_OPERAND;
    }
    return option(a, cmd, opts, opt, val);
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_seconds(const char *s, double *out)
{
    if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0 || v > 365.0 * 86400)
        return -1;
    *out = v;
    return 0;
}

int tool_stdout_status(const char *cmd)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    tool_error(cmd, "cannot write the output: %s", strerror(errno ? errno : EIO));
    return EXIT_FAIL;
}
