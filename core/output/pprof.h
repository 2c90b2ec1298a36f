/*
 * pprof.h: the pprof Profile message (github.com/google/pprof
 * proto/profile.proto) in memory, its encoder and decoder. Building one
 * from samples is profile.h's; gzip.h and atomic_file.h write it.
 *
 * The structs below mirror the proto messages field for field. One table in
 * pprof.c describes them (field numbers, kinds, struct offsets), and both
 * the encoder and the decoder are driven by that table, so they cannot
 * disagree. String fields of the proto that are "index into string table"
 * are int64 indices here, as on the wire.
 *
 * Walking a decoded profile:
 *
 *   for (size_t i = 0; i < p.nsample; i++) {
 *       const mprof_pprof_sample *s = &p.sample[i];
 *       // s->value[k] is of type p.sample_type[k]; s->nvalue == nsample_type
 *       for (size_t j = 0; j < s->nlocation_id; j++) {          // leaf first
 *           const mprof_pprof_location *loc =
 *               mprof_pprof_location_by_id(&p, s->location_id[j]);
 *           for (size_t k = 0; k < loc->nline; k++) {   // inlined first
 *               const mprof_pprof_function *fn =
 *                   mprof_pprof_function_by_id(&p, loc->line[k].function_id);
 *               const char *name = mprof_pprof_string(&p, fn->name);
 *           }
 *       }
 *   }
 *
 * A decoded profile has been validated: every string index is in range,
 * string_table[0] is "", ids are nonzero and unique, every referenced
 * location/function id exists (so the *_by_id lookups above never return
 * NULL for ids taken from the profile; mapping_id 0 means "no mapping"),
 * and every sample has exactly nsample_type values.
 */
#ifndef MPROF_PPROF_H
#define MPROF_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"
#include "scratch.h"

typedef struct mprof_pprof_str {
    const char *s; /* always NUL-terminated; may also contain NULs */
    size_t len;
} mprof_pprof_str;

typedef struct mprof_pprof_value_type {
    int64_t type, unit; /* string indices */
} mprof_pprof_value_type;

typedef struct mprof_pprof_label {
    int64_t key, str; /* string indices */
    int64_t num;
    int64_t num_unit; /* string index */
} mprof_pprof_label;

typedef struct mprof_pprof_sample {
    uint64_t *location_id;
    size_t nlocation_id;
    int64_t *value;
    size_t nvalue;
    mprof_pprof_label *label;
    size_t nlabel;
} mprof_pprof_sample;

typedef struct mprof_pprof_mapping {
    uint64_t id, memory_start, memory_limit, file_offset;
    int64_t filename, build_id; /* string indices */
    bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
} mprof_pprof_mapping;

typedef struct mprof_pprof_line {
    uint64_t function_id;
    int64_t line;
    int64_t column;
} mprof_pprof_line;

typedef struct mprof_pprof_location {
    uint64_t id, mapping_id, address;
    mprof_pprof_line *line;
    size_t nline;
    bool is_folded;
} mprof_pprof_location;

typedef struct mprof_pprof_function {
    uint64_t id;
    int64_t name, system_name, filename; /* string indices */
    int64_t start_line;
} mprof_pprof_function;

struct mprof_pprof_index;

typedef struct mprof_pprof_profile {
    mprof_pprof_value_type *sample_type;
    size_t nsample_type;
    mprof_pprof_sample *sample;
    size_t nsample;
    mprof_pprof_mapping *mapping;
    size_t nmapping;
    mprof_pprof_location *location;
    size_t nlocation;
    mprof_pprof_function *function;
    size_t nfunction;
    mprof_pprof_str *string_table;
    size_t nstring_table;
    int64_t drop_frames, keep_frames; /* string indices */
    int64_t time_nanos, duration_nanos;
    mprof_pprof_value_type period_type;
    int64_t period;
    int64_t *comment; /* string indices */
    size_t ncomment;
    int64_t default_sample_type; /* string index; 0 = unset */

    /* Not part of the message: id lookup tables and the memory of a decoded
     * profile. */
    struct mprof_pprof_index *index;
    mprof_scratch mem;
} mprof_pprof_profile;

/* Most a decoder inflates a .gz to, and most it reads of a raw file. */
#define MPROF_PPROF_MAX_DECODED ((size_t)1 << 30)

/* ---- reading ---- */

/*
 * Decode a serialized Profile (not gzipped). Accepts fields in any order,
 * repeated scalars packed or not, and skips unknown fields. Returns 0, or -1
 * with a one-line description in err (e.g. "Profile.sample[3].value: varint
 * longer than 10 bytes at byte 1234"). On failure p holds nothing; on
 * success release it with mprof_pprof_free().
 */
int mprof_pprof_decode(mprof_pprof_profile *p, const void *data, size_t len,
                       char *err, size_t errlen);

/* Read a profile file, gzipped (as pprof writes them) or not. Returns 0, or
 * -1 with err set ("<path>: ..."); same ownership as mprof_pprof_decode. */
int mprof_pprof_read_file(mprof_pprof_profile *p, const char *path, char *err,
                          size_t errlen);

void mprof_pprof_free(mprof_pprof_profile *p);

/* string_table[idx], or "" when idx is out of range. */
const char *mprof_pprof_string(const mprof_pprof_profile *p, int64_t idx);

/* NULL when no such id (always for id 0). */
const mprof_pprof_location *mprof_pprof_location_by_id(const mprof_pprof_profile *p,
                                                       uint64_t id);
const mprof_pprof_function *mprof_pprof_function_by_id(const mprof_pprof_profile *p,
                                                       uint64_t id);
const mprof_pprof_mapping *mprof_pprof_mapping_by_id(const mprof_pprof_profile *p,
                                                     uint64_t id);

/* ---- writing ---- */

/* Serialize p into b (packed repeated scalars, proto3 defaults omitted).
 * Returns 0 or b->err. */
int mprof_pprof_encode(const mprof_pprof_profile *p, mprof_pbuf *b);

#endif
