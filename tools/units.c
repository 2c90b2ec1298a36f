/*
 * units.c: humanised values (see units.h).
 *
 * Bytes step by 1024 and carry the IEC names (KiB, not pprof's "kB", whose
 * 1024 steps the name misstates); durations step by 1000 up to seconds.
 */
#include "units.h"

#include <stdio.h>
#include <string.h>

struct scale {
    const char *unit;   /* the profile's unit string */
    double base;        /* its size in the smallest step */
    double step;
    const char *names[7];
};

static const struct scale scales[] = {
    {"bytes", 1, 1024, {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}},
    {"nanoseconds", 1, 1000, {"ns", "us", "ms", "s", NULL, NULL}},
    {"microseconds", 1e3, 1000, {"ns", "us", "ms", "s", NULL, NULL}},
    {"milliseconds", 1e6, 1000, {"ns", "us", "ms", "s", NULL, NULL}},
    {"seconds", 1e9, 1000, {"ns", "us", "ms", "s", NULL, NULL}},
};

static const struct scale *scale_of(const char *unit)
{
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++)
        if (unit && strcmp(unit, scales[i].unit) == 0)
            return &scales[i];
    return NULL;
}

/* "1.50" -> "1.5", "2.00" -> "2". */
static void trim_zeros(char *num)
{
    char *dot = strchr(num, '.');
    if (!dot)
        return;
    char *end = num + strlen(num);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

/* |v| scaled to the largest name that keeps it >= 1, 3 significant digits
 * at most ("1.23", "12.3", "123"). */
static void scaled(char *buf, size_t len, double mag, const struct scale *s)
{
    mag *= s->base;
    int k = 0;
    while (k < 6 && s->names[k + 1] && mag >= s->step) {
        mag /= s->step;
        k++;
    }
    char num[32];
    int decimals = k == 0 ? 0 : mag < 10 ? 2 : mag < 100 ? 1 : 0;
    snprintf(num, sizeof num, "%.*f", decimals, mag);
    trim_zeros(num);
    snprintf(buf, len, "%s%s", num, s->names[k]);
}

char *units_format(char *buf, size_t len, int64_t v, const char *unit,
                   bool sign, bool raw)
{
    const char *prefix = v < 0 ? "-" : (sign && v > 0) ? "+" : "";
    /* |INT64_MIN| does not fit an int64_t; it does fit a uint64_t. */
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    const struct scale *s = scale_of(unit);
    char body[UNITS_BUF];
    if (raw || !s || mag == 0)
        snprintf(body, sizeof body, "%llu", (unsigned long long)mag);
    else
        scaled(body, sizeof body, (double)mag, s);
    snprintf(buf, len, "%s%s", prefix, body);
    return buf;
}
