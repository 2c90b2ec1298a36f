/*
 * reader.h: a decoded profile file as the reports see it: one chosen sample
 * type, and each sample's stack as frames (function name, file, line),
 * leaf first, inlined frames expanded.
 *
 * Opening validates what the reports rely on beyond what the decoder checks
 * (there is at least one sample type), and prints the one-line error that
 * ends the command with status 2.
 */
#ifndef MPROF_TOOL_READER_H
#define MPROF_TOOL_READER_H

#include "pprof.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct frame {
    const char *name; /* never NULL; for a pc without a symbol, its mapping's
                         base name in brackets ("[libc.so.6]") or "<unknown>",
                         as pprof names it at function granularity */
    const char *file; /* "" when unknown; the mapping's file if no symbol */
    int64_t line;     /* 0 when unknown */
    bool inlined;     /* inlined into the next frame (its caller) */
    int mapping;      /* for a pc without a symbol: index in p.mapping; else -1 */
} frame;

typedef struct loc_frames {
    frame *f;
    size_t n;
} loc_frames;

typedef struct reader {
    const char *path;
    mprof_pprof_profile p;
    size_t index;     /* the chosen sample type */
    const char *type; /* its name and unit */
    const char *unit;
    loc_frames *locs; /* per entry of p.location */
    frame *loc_mem;   /* the frames that locs point into */
    char **map_names; /* "[base name]" per entry of p.mapping */
    frame *stack;     /* reader_stack's buffer */
    size_t stack_cap;
} reader;

/* Read and check path. 0, or -1 after printing "mprof <cmd>: <path>: ...". */
int reader_open(reader *r, const char *cmd, const char *path);

/* Choose the sample type by name or 0-based number; NULL = the profile's
 * default_sample_type, else its last type (as pprof does). 0, or -1 after
 * printing an error that lists the types the file has. */
int reader_select(reader *r, const char *cmd, const char *spec);

/* Choose the sample type named exactly `name` (never a number). */
int reader_select_name(reader *r, const char *cmd, const char *name);

/* The value of sample i for the chosen type. */
static inline int64_t reader_value(const reader *r, size_t i)
{
    return r->p.sample[i].value[r->index];
}

/* Sample i's frames, leaf first; valid until the next call. */
size_t reader_stack(reader *r, size_t i, const frame **out);

/* The main binary's name (the first mapping's file, base name), or NULL. */
const char *reader_binary(const reader *r);

void reader_close(reader *r);

#endif
