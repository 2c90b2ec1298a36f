/*
 * log.h: mprof's only way to talk to the user: one line on stderr, prefixed
 * "mprof: ", written with a single write(2) so it is never interleaved and
 * never goes through the host's stdio buffers.
 */
#ifndef MPROF_LOG_H
#define MPROF_LOG_H

void mprof_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tests redirect the lines here instead of fd 2. */
typedef void (*mprof_log_sink)(const char *line);
void mprof_log_set_sink(mprof_log_sink sink);

#endif
