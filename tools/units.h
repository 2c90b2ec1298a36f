/*
 * units.h: sample values as people read them: bytes in B/KiB/MiB/GiB/TiB,
 * durations in ns/us/ms/s, everything else as a plain number.
 */
#ifndef MPROF_TOOL_UNITS_H
#define MPROF_TOOL_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text units_format writes, with its NUL. */
#define UNITS_BUF 32

/*
 * Format v of `unit` (a pprof unit string: "bytes", "nanoseconds",
 * "count", ...) into buf: at most 3 significant decimals and the largest
 * unit that keeps the number >= 1 ("1.5MiB", "12.3ms", "512B", "0").
 * `sign` adds "+" to positive values (for differences). raw prints the exact
 * integer. Returns buf.
 */
char *units_format(char *buf, size_t len, int64_t v, const char *unit,
                   bool sign, bool raw);

#endif
