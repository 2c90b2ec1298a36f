/* log.c: one-line diagnostics on stderr (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static mprof_log_sink sink;

void mprof_log_set_sink(mprof_log_sink s) { sink = s; }

void mprof_log(const char *fmt, ...)
{
    int saved = errno;
    char line[512] = "mprof: ";
    size_t pre = strlen(line);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + pre, sizeof line - pre - 1, fmt, ap);
    va_end(ap);
    size_t len = pre + (n < 0 ? 0 : (size_t)n);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    line[len] = 0;
    if (sink) {
        sink(line);
    } else {
        ssize_t w;
        do
            w = write(STDERR_FILENO, line, len);
        while (w < 0 && errno == EINTR);
    }
    errno = saved;
}
