/*
 * pprof.c: the pprof Profile message, encoded and decoded.
 *
 * Owns the one description of profile.proto that both directions use (the
 * `message` tables below): the encoder and the decoder are generic walkers
 * over those tables, so a field number or kind exists in exactly one place.
 * A decoded profile is validated before it is handed out (see pprof.h for
 * what that guarantees).  Building a profile from samples is profile.c;
 * gzip is gzip.c; atomic files are atomic_file.c.
 */
#include "pprof.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gzip.h"
#include "readfile.h"
#include "u64map.h"

/* ======================================================================
 * The schema
 * ====================================================================== */

enum kind { K_UINT64, K_INT64, K_STRIDX, K_BOOL, K_STRING, K_MESSAGE };

struct message;

struct field {
    const char *name;
    uint32_t num;
    uint8_t kind;
    uint8_t repeated;
    size_t off;       /* of the value, or of the array pointer */
    size_t count_off; /* repeated: of the size_t element count */
    const struct message *sub;
};

struct message {
    const char *name;
    size_t size;
    const struct field *fields;
    size_t nfields;
};

/* The C type behind each kind; the table macros refuse to compile if a
 * struct member does not have it. */
#define CTYPE_K_UINT64 uint64_t
#define CTYPE_K_INT64 int64_t
#define CTYPE_K_STRIDX int64_t
#define CTYPE_K_BOOL bool
#define CTYPE_K_STRING mprof_pprof_str
#define IS_TYPE(T, m, ctype) \
    (0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((T *)0)->m), ctype) ? 1 : -1]))

#define ONE(T, m, num, kind) \
    { #m, num, kind, 0, offsetof(T, m) + IS_TYPE(T, m, CTYPE_##kind), 0, NULL }
#define MANY(T, m, num, kind)                                              \
    { #m, num, kind, 1, offsetof(T, m) + IS_TYPE(T, m, CTYPE_##kind *),    \
      offsetof(T, n##m) + IS_TYPE(T, n##m, size_t), NULL }
#define ONE_MSG(T, m, num, ST, desc) \
    { #m, num, K_MESSAGE, 0, offsetof(T, m) + IS_TYPE(T, m, ST), 0, &(desc) }
/* ST names a type: "ST *" cannot take parentheses. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define MANY_MSG(T, m, num, ST, desc)                                      \
    { #m, num, K_MESSAGE, 1, offsetof(T, m) + IS_TYPE(T, m, ST *),         \
      offsetof(T, n##m) + IS_TYPE(T, n##m, size_t), &(desc) }
/* NOLINTEND(bugprone-macro-parentheses) */
#define MAX_FIELDS 16 /* per message; the decoder counts on the stack */
#define MESSAGE(var, T, fieldtab)                                          \
    static const struct message var = { #T, sizeof(T), fieldtab,           \
                                        sizeof(fieldtab) / sizeof((fieldtab)[0]) }; \
    _Static_assert(sizeof(fieldtab) / sizeof((fieldtab)[0]) <= MAX_FIELDS,  \
                   #T " has more fields than MAX_FIELDS")

static const struct field value_type_fields[] = {
    ONE(mprof_pprof_value_type, type, 1, K_STRIDX),
    ONE(mprof_pprof_value_type, unit, 2, K_STRIDX),
};
MESSAGE(value_type_msg, mprof_pprof_value_type, value_type_fields);

static const struct field label_fields[] = {
    ONE(mprof_pprof_label, key, 1, K_STRIDX),
    ONE(mprof_pprof_label, str, 2, K_STRIDX),
    ONE(mprof_pprof_label, num, 3, K_INT64),
    ONE(mprof_pprof_label, num_unit, 4, K_STRIDX),
};
MESSAGE(label_msg, mprof_pprof_label, label_fields);

static const struct field sample_fields[] = {
    MANY(mprof_pprof_sample, location_id, 1, K_UINT64),
    MANY(mprof_pprof_sample, value, 2, K_INT64),
    MANY_MSG(mprof_pprof_sample, label, 3, mprof_pprof_label, label_msg),
};
MESSAGE(sample_msg, mprof_pprof_sample, sample_fields);

static const struct field mapping_fields[] = {
    ONE(mprof_pprof_mapping, id, 1, K_UINT64),
    ONE(mprof_pprof_mapping, memory_start, 2, K_UINT64),
    ONE(mprof_pprof_mapping, memory_limit, 3, K_UINT64),
    ONE(mprof_pprof_mapping, file_offset, 4, K_UINT64),
    ONE(mprof_pprof_mapping, filename, 5, K_STRIDX),
    ONE(mprof_pprof_mapping, build_id, 6, K_STRIDX),
    ONE(mprof_pprof_mapping, has_functions, 7, K_BOOL),
    ONE(mprof_pprof_mapping, has_filenames, 8, K_BOOL),
    ONE(mprof_pprof_mapping, has_line_numbers, 9, K_BOOL),
    ONE(mprof_pprof_mapping, has_inline_frames, 10, K_BOOL),
};
MESSAGE(mapping_msg, mprof_pprof_mapping, mapping_fields);

static const struct field line_fields[] = {
    ONE(mprof_pprof_line, function_id, 1, K_UINT64),
    ONE(mprof_pprof_line, line, 2, K_INT64),
    ONE(mprof_pprof_line, column, 3, K_INT64),
};
MESSAGE(line_msg, mprof_pprof_line, line_fields);

static const struct field location_fields[] = {
    ONE(mprof_pprof_location, id, 1, K_UINT64),
    ONE(mprof_pprof_location, mapping_id, 2, K_UINT64),
    ONE(mprof_pprof_location, address, 3, K_UINT64),
    MANY_MSG(mprof_pprof_location, line, 4, mprof_pprof_line, line_msg),
    ONE(mprof_pprof_location, is_folded, 5, K_BOOL),
};
MESSAGE(location_msg, mprof_pprof_location, location_fields);

static const struct field function_fields[] = {
    ONE(mprof_pprof_function, id, 1, K_UINT64),
    ONE(mprof_pprof_function, name, 2, K_STRIDX),
    ONE(mprof_pprof_function, system_name, 3, K_STRIDX),
    ONE(mprof_pprof_function, filename, 4, K_STRIDX),
    ONE(mprof_pprof_function, start_line, 5, K_INT64),
};
MESSAGE(function_msg, mprof_pprof_function, function_fields);

static const struct field profile_fields[] = {
    MANY_MSG(mprof_pprof_profile, sample_type, 1, mprof_pprof_value_type, value_type_msg),
    MANY_MSG(mprof_pprof_profile, sample, 2, mprof_pprof_sample, sample_msg),
    MANY_MSG(mprof_pprof_profile, mapping, 3, mprof_pprof_mapping, mapping_msg),
    MANY_MSG(mprof_pprof_profile, location, 4, mprof_pprof_location, location_msg),
    MANY_MSG(mprof_pprof_profile, function, 5, mprof_pprof_function, function_msg),
    MANY(mprof_pprof_profile, string_table, 6, K_STRING),
    ONE(mprof_pprof_profile, drop_frames, 7, K_STRIDX),
    ONE(mprof_pprof_profile, keep_frames, 8, K_STRIDX),
    ONE(mprof_pprof_profile, time_nanos, 9, K_INT64),
    ONE(mprof_pprof_profile, duration_nanos, 10, K_INT64),
    ONE_MSG(mprof_pprof_profile, period_type, 11, mprof_pprof_value_type, value_type_msg),
    ONE(mprof_pprof_profile, period, 12, K_INT64),
    MANY(mprof_pprof_profile, comment, 13, K_STRIDX),
    ONE(mprof_pprof_profile, default_sample_type, 14, K_STRIDX),
};
/* "Profile" rather than the C name in error messages. */
static const struct message profile_msg = {
    "Profile", sizeof(mprof_pprof_profile), profile_fields,
    sizeof profile_fields / sizeof profile_fields[0]};
_Static_assert(sizeof profile_fields / sizeof profile_fields[0] <= MAX_FIELDS,
               "Profile has more fields than MAX_FIELDS");

static int is_scalar(int kind) { return kind <= K_BOOL; }

static size_t elem_size(const struct field *f)
{
    switch (f->kind) {
    case K_BOOL: return sizeof(bool);
    case K_STRING: return sizeof(mprof_pprof_str);
    case K_MESSAGE: return f->sub->size;
    default: return sizeof(uint64_t);
    }
}

static void **array_at(const struct field *f, void *obj)
{
    return (void **)((char *)obj + f->off);
}

static size_t *count_at(const struct field *f, void *obj)
{
    return (size_t *)((char *)obj + f->count_off);
}

/* ======================================================================
 * Encoder
 * ====================================================================== */

static void encode_message(const struct message *m, const void *obj,
                           mprof_pbuf *b);

static uint64_t scalar_get(int kind, const void *p)
{
    if (kind == K_BOOL)
        return *(const bool *)p;
    return *(const uint64_t *)p; /* int64_t has the same representation */
}

static void encode_single(const struct field *f, const void *p, mprof_pbuf *b)
{
    if (is_scalar(f->kind)) {
        uint64_t v = scalar_get(f->kind, p);
        if (v)
            mprof_pbuf_uint64(b, f->num, v);
    } else if (f->kind == K_STRING) {
        const mprof_pprof_str *s = p;
        if (s->len)
            mprof_pbuf_bytes(b, f->num, s->s, s->len);
    } else {
        /* proto3 leaves an absent message out; an all-default one reads
         * back the same either way. */
        size_t mark = mprof_pbuf_begin(b, f->num);
        encode_message(f->sub, p, b);
        if (mprof_pbuf_body_len(b, mark) == 0)
            mprof_pbuf_cancel(b, mark, f->num);
        else
            mprof_pbuf_end(b, mark);
    }
}

static void encode_repeated(const struct field *f, const char *arr, size_t n,
                            mprof_pbuf *b)
{
    size_t esz = elem_size(f);
    if (n == 0)
        return;
    if (is_scalar(f->kind)) {
        size_t mark = mprof_pbuf_begin(b, f->num);
        for (size_t i = 0; i < n; i++)
            mprof_pbuf_varint(b, scalar_get(f->kind, arr + i * esz));
        mprof_pbuf_end(b, mark);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (f->kind == K_STRING) {
            const mprof_pprof_str *s = (const void *)(arr + i * esz);
            mprof_pbuf_bytes(b, f->num, s->s, s->len);
        } else {
            size_t mark = mprof_pbuf_begin(b, f->num);
            encode_message(f->sub, arr + i * esz, b);
            mprof_pbuf_end(b, mark);
        }
    }
}

static void encode_message(const struct message *m, const void *obj,
                           mprof_pbuf *b)
{
    for (size_t i = 0; i < m->nfields && !b->err; i++) {
        const struct field *f = &m->fields[i];
        if (f->repeated)
            encode_repeated(f, *array_at(f, (void *)obj),
                            *count_at(f, (void *)obj), b);
        else
            encode_single(f, (const char *)obj + f->off, b);
    }
}

int mprof_pprof_encode(const mprof_pprof_profile *p, mprof_pbuf *b)
{
    encode_message(&profile_msg, p, b);
    return b->err;
}

/* ======================================================================
 * Decoder
 * ====================================================================== */

#define MAX_DEPTH 8

struct dctx {
    mprof_scratch *sc;
    const uint8_t *base;
    char *err;
    size_t errlen;
    int failed;
    int depth;
    struct { const char *field; long idx; } path[MAX_DEPTH];
};

/* "Profile.sample[3].location_id: <what>" */
static __attribute__((format(printf, 2, 3))) int dfail(struct dctx *c,
                                                       const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = 1;
    if (!c->err || !c->errlen)
        return -1;
    size_t n = (size_t)snprintf(c->err, c->errlen, "Profile");
    for (int i = 0; i < c->depth && n < c->errlen; i++) {
        n += (size_t)snprintf(c->err + n, c->errlen - n, ".%s", c->path[i].field);
        if (c->path[i].idx >= 0 && n < c->errlen)
            n += (size_t)snprintf(c->err + n, c->errlen - n, "[%ld]", c->path[i].idx);
    }
    if (n < c->errlen)
        n += (size_t)snprintf(c->err + n, c->errlen - n, ": ");
    if (n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void push(struct dctx *c, const char *field, long idx)
{
    c->path[c->depth].field = field;
    c->path[c->depth].idx = idx;
    c->depth++;
}

static const struct field *find_field(const struct message *m, uint32_t num,
                                      size_t *index)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].num == num) {
            *index = i;
            return &m->fields[i];
        }
    return NULL;
}

static const char *wire_name(int wire)
{
    static const char *const names[] = {"varint", "fixed64", "length-delimited",
                                        "group start", "group end", "fixed32"};
    return wire >= 0 && wire < 6 ? names[wire] : "invalid";
}

static int check_wire(struct dctx *c, const struct field *f, int wire)
{
    int ok;
    if (is_scalar(f->kind))
        ok = wire == MPROF_WIRE_VARINT || (f->repeated && wire == MPROF_WIRE_LEN);
    else
        ok = wire == MPROF_WIRE_LEN;
    if (ok)
        return 0;
    return dfail(c, "unexpected wire type %s", wire_name(wire));
}

static void scalar_set(int kind, void *p, uint64_t v)
{
    if (kind == K_BOOL)
        *(bool *)p = v != 0;
    else
        *(uint64_t *)p = v;
}

/* Count the elements of each repeated field; also checks all framing. */
static int count_fields(struct dctx *c, const struct message *m,
                        const uint8_t *data, size_t len, size_t *counts)
{
    mprof_pbuf_reader r;
    mprof_pbuf_reader_init(&r, data, len);
    while (!mprof_pbuf_at_end(&r)) {
        size_t at = (size_t)(r.p - c->base);
        mprof_pbuf_field f;
        if (mprof_pbuf_read_field(&r, &f) < 0)
            return dfail(c, "%s at byte %zu", r.err, at);
        size_t fi;
        const struct field *fd = find_field(m, f.num, &fi);
        if (!fd)
            continue;
        push(c, fd->name, fd->repeated ? (long)counts[fi] : -1);
        if (check_wire(c, fd, f.wire) < 0)
            return -1;
        c->depth--;
        if (!fd->repeated)
            continue;
        if (is_scalar(fd->kind) && f.wire == MPROF_WIRE_LEN) {
            size_t k;
            const char *e;
            if (mprof_pbuf_count_varints(f.data, f.len, &k, &e) < 0) {
                push(c, fd->name, -1);
                return dfail(c, "packed: %s at byte %zu", e, at);
            }
            counts[fi] += k;
        } else {
            counts[fi]++;
        }
    }
    return 0;
}

static int alloc_arrays(struct dctx *c, const struct message *m, void *obj,
                        const size_t *counts)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (!f->repeated)
            continue;
        *array_at(f, obj) = NULL;
        *count_at(f, obj) = 0;
        if (counts[i] == 0)
            continue;
        void *arr = mprof_scratch_calloc(c->sc, counts[i], elem_size(f));
        if (!arr) {
            push(c, f->name, -1);
            return dfail(c, "out of memory for %zu elements", counts[i]);
        }
        *array_at(f, obj) = arr;
    }
    return 0;
}

static int decode_message(struct dctx *c, const struct message *m,
                          const uint8_t *data, size_t len, void *obj);

static int store_packed(const struct field *f, const mprof_pbuf_field *pf,
                        void *obj)
{
    mprof_pbuf_reader r;
    mprof_pbuf_reader_init(&r, pf->data, pf->len);
    char *arr = *array_at(f, obj);
    size_t *n = count_at(f, obj);
    while (!mprof_pbuf_at_end(&r)) {
        uint64_t v;
        if (mprof_pbuf_read_varint(&r, &v) < 0)
            return -1; /* counted before, cannot happen */
        scalar_set(f->kind, arr + (*n)++ * elem_size(f), v);
    }
    return 0;
}

static int store_string(struct dctx *c, mprof_pprof_str *s,
                        const mprof_pbuf_field *pf)
{
    char *copy = mprof_scratch_strndup(c->sc, (const char *)pf->data, pf->len);
    if (!copy)
        return dfail(c, "out of memory for a %zu-byte string", pf->len);
    s->s = copy;
    s->len = pf->len;
    return 0;
}

static int store_field(struct dctx *c, const struct field *f,
                       const mprof_pbuf_field *pf, void *obj)
{
    if (f->repeated && is_scalar(f->kind) && pf->wire == MPROF_WIRE_LEN)
        return store_packed(f, pf, obj);
    void *slot;
    if (f->repeated) {
        size_t *n = count_at(f, obj);
        slot = (char *)*array_at(f, obj) + *n * elem_size(f);
        push(c, f->name, (long)*n);
        (*n)++;
    } else {
        slot = (char *)obj + f->off;
        push(c, f->name, -1);
    }
    int rc = 0;
    if (is_scalar(f->kind))
        scalar_set(f->kind, slot, pf->u64);
    else if (f->kind == K_STRING)
        rc = store_string(c, slot, pf);
    else
        rc = decode_message(c, f->sub, pf->data, pf->len, slot);
    c->depth--;
    return rc;
}

/*
 * Two passes: the first counts each repeated field, so its array is
 * allocated once at its final size; the second fills them. Fields may come
 * in any order and interleaved, as the proto encoding allows.
 */
static int decode_message(struct dctx *c, const struct message *m,
                          const uint8_t *data, size_t len, void *obj)
{
    size_t counts[MAX_FIELDS] = {0};
    if (c->depth >= MAX_DEPTH - 1)
        return dfail(c, "nested too deeply");
    if (count_fields(c, m, data, len, counts) < 0 ||
        alloc_arrays(c, m, obj, counts) < 0)
        return -1;
    mprof_pbuf_reader r;
    mprof_pbuf_reader_init(&r, data, len);
    while (!mprof_pbuf_at_end(&r)) {
        mprof_pbuf_field pf;
        if (mprof_pbuf_read_field(&r, &pf) < 0)
            return dfail(c, "%s", r.err);
        size_t fi;
        const struct field *f = find_field(m, pf.num, &fi);
        if (f && store_field(c, f, &pf, obj) < 0)
            return -1;
    }
    return 0;
}

/* ======================================================================
 * Validation and id lookup
 * ====================================================================== */

/* The id -> element indexes of a decoded profile (see pprof.h). */
struct mprof_pprof_index {
    struct u64map mapping, location, function;
};

static int check_string_refs(struct dctx *c, const struct message *m,
                             void *obj, size_t nstrings);

static int check_stridx(struct dctx *c, const struct field *f, int64_t v,
                        long idx, size_t nstrings)
{
    if (v >= 0 && (uint64_t)v < nstrings)
        return 0;
    push(c, f->name, idx);
    return dfail(c, "string index %lld out of range (table has %zu)",
                 (long long)v, nstrings);
}

/* Every string-index field, at any depth, points into the table. */
static int check_string_refs(struct dctx *c, const struct message *m,
                             void *obj, size_t nstrings)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (f->kind != K_STRIDX && f->kind != K_MESSAGE)
            continue;
        if (!f->repeated) {
            void *p = (char *)obj + f->off;
            if (f->kind == K_STRIDX) {
                if (check_stridx(c, f, *(int64_t *)p, -1, nstrings) < 0)
                    return -1;
                continue;
            }
            push(c, f->name, -1);
            if (check_string_refs(c, f->sub, p, nstrings) < 0)
                return -1;
            c->depth--;
            continue;
        }
        char *arr = *array_at(f, obj);
        size_t n = *count_at(f, obj), esz = elem_size(f);
        for (size_t j = 0; j < n; j++) {
            if (f->kind == K_STRIDX) {
                if (check_stridx(c, f, *(int64_t *)(arr + j * esz), (long)j,
                                 nstrings) < 0)
                    return -1;
                continue;
            }
            push(c, f->name, (long)j);
            if (check_string_refs(c, f->sub, arr + j * esz, nstrings) < 0)
                return -1;
            c->depth--;
        }
    }
    return 0;
}

/* ids: nonzero and unique; builds the id -> index table. */
static int index_ids(struct dctx *c, struct u64map *map, const char *what,
                     const void *arr, size_t n, size_t esz)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t id = *(const uint64_t *)((const char *)arr + i * esz);
        int rc = id ? mprof_u64map_put(c->sc, map, id, i) : 0;
        if (rc == 1)
            continue;
        push(c, what, (long)i);
        if (rc < 0)
            return dfail(c, "out of memory");
        if (id == 0)
            return dfail(c, "id 0 is reserved");
        return dfail(c, "duplicate id %llu", (unsigned long long)id);
    }
    return 0;
}

static int check_ref(struct dctx *c, const struct u64map *map, uint64_t id,
                     const char *kind, int zero_ok)
{
    size_t ignored;
    if ((id == 0 && zero_ok) || (id != 0 && mprof_u64map_get(map, id, &ignored)))
        return 0;
    return dfail(c, "no %s with id %llu", kind, (unsigned long long)id);
}

static int check_samples(struct dctx *c, mprof_pprof_profile *p)
{
    for (size_t i = 0; i < p->nsample; i++) {
        const mprof_pprof_sample *s = &p->sample[i];
        push(c, "sample", (long)i);
        if (s->nvalue != p->nsample_type)
            return dfail(c, "%zu values for %zu sample types", s->nvalue,
                         p->nsample_type);
        for (size_t j = 0; j < s->nlocation_id; j++) {
            push(c, "location_id", (long)j);
            if (check_ref(c, &p->index->location, s->location_id[j],
                          "location", 0) < 0)
                return -1;
            c->depth--;
        }
        c->depth--;
    }
    return 0;
}

static int check_locations(struct dctx *c, mprof_pprof_profile *p)
{
    for (size_t i = 0; i < p->nlocation; i++) {
        const mprof_pprof_location *l = &p->location[i];
        push(c, "location", (long)i);
        push(c, "mapping_id", -1);
        if (check_ref(c, &p->index->mapping, l->mapping_id, "mapping", 1) < 0)
            return -1;
        c->depth--;
        for (size_t j = 0; j < l->nline; j++) {
            push(c, "line", (long)j);
            push(c, "function_id", -1);
            if (check_ref(c, &p->index->function, l->line[j].function_id,
                          "function", 0) < 0)
                return -1;
            c->depth -= 2;
        }
        c->depth--;
    }
    return 0;
}

static int validate(struct dctx *c, mprof_pprof_profile *p)
{
    if (p->nstring_table == 0 || p->string_table[0].len != 0) {
        push(c, "string_table", 0);
        return dfail(c, "%s", p->nstring_table ? "must be \"\"" : "missing (must be \"\")");
    }
    if (check_string_refs(c, &profile_msg, p, p->nstring_table) < 0)
        return -1;
    p->index = mprof_scratch_alloc(c->sc, sizeof *p->index);
    if (!p->index)
        return dfail(c, "out of memory");
    if (index_ids(c, &p->index->mapping, "mapping", p->mapping, p->nmapping,
                  sizeof *p->mapping) < 0 ||
        index_ids(c, &p->index->location, "location", p->location,
                  p->nlocation, sizeof *p->location) < 0 ||
        index_ids(c, &p->index->function, "function", p->function,
                  p->nfunction, sizeof *p->function) < 0)
        return -1;
    return check_samples(c, p) < 0 ? -1 : check_locations(c, p);
}

/* ======================================================================
 * Reading: public entry points
 * ====================================================================== */

/* Worst case the structs take ~30 bytes per input byte (an empty Sample is
 * 2 bytes on the wire, 48 in memory); beyond that something is wrong. */
static size_t decode_budget(size_t len)
{
    if (len > (SIZE_MAX - (64u << 20)) / 64)
        return SIZE_MAX;
    return 64 * len + (64u << 20);
}

static int decode_into(mprof_pprof_profile *p, const void *data, size_t len,
                       char *err, size_t errlen)
{
    struct dctx c = {.sc = &p->mem, .base = data, .err = err, .errlen = errlen};
    size_t budget = decode_budget(len);
    mprof_scratch_set_limit(&p->mem, budget > SIZE_MAX - p->mem.mapped
                                         ? SIZE_MAX : p->mem.mapped + budget);
    if (decode_message(&c, &profile_msg, data, len, p) < 0 || validate(&c, p) < 0) {
        mprof_pprof_free(p);
        return -1;
    }
    mprof_scratch_set_limit(&p->mem, 0);
    return 0;
}

int mprof_pprof_decode(mprof_pprof_profile *p, const void *data, size_t len,
                       char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (err && errlen)
        err[0] = '\0';
    return decode_into(p, data, len, err, errlen);
}

void mprof_pprof_free(mprof_pprof_profile *p)
{
    mprof_scratch_release(&p->mem);
    memset(p, 0, sizeof *p);
}

static __attribute__((format(printf, 3, 4))) int errorf(char *err, size_t errlen,
                                                        const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int mprof_pprof_read_file(mprof_pprof_profile *p, const char *path, char *err,
                          size_t errlen)
{
    memset(p, 0, sizeof *p);
    const char *why = NULL;
    char *file;
    size_t len;
    int rc = mprof_read_file(&p->mem, path, MPROF_PPROF_MAX_DECODED, &file, &len);
    if (rc == -EFBIG)
        why = "file larger than 1 GiB";
    else if (rc == -ENOMEM)
        why = "out of memory";
    else if (rc < 0)
        why = strerror(-rc);
    uint8_t *data = (uint8_t *)file;
    if (data && len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        void *raw;
        if (mprof_gunzip(&p->mem, data, len, MPROF_PPROF_MAX_DECODED, &raw,
                         &len, &why) < 0)
            data = NULL;
        else
            data = raw;
    }
    if (!data) {
        mprof_pprof_free(p);
        return errorf(err, errlen, "%s: %s", path, why);
    }
    char inner[256];
    if (decode_into(p, data, len, inner, sizeof inner) < 0)
        return errorf(err, errlen, "%s: %s", path, inner);
    return 0;
}

const char *mprof_pprof_string(const mprof_pprof_profile *p, int64_t idx)
{
    if (idx < 0 || (uint64_t)idx >= p->nstring_table)
        return "";
    return p->string_table[idx].s;
}

/* Ids are usually 1..n in order (mprof and Go both write them so); the
 * index covers the rest. */
static const void *by_id(const void *arr, size_t n, size_t esz,
                         const struct u64map *map, uint64_t id)
{
    if (id == 0)
        return NULL;
    if (id <= n && *(const uint64_t *)((const char *)arr + (id - 1) * esz) == id)
        return (const char *)arr + (id - 1) * esz;
    size_t i;
    if (map && mprof_u64map_get(map, id, &i))
        return (const char *)arr + i * esz;
    for (i = 0; !map && i < n; i++) /* a built, not decoded, profile */
        if (*(const uint64_t *)((const char *)arr + i * esz) == id)
            return (const char *)arr + i * esz;
    return NULL;
}

const mprof_pprof_location *mprof_pprof_location_by_id(const mprof_pprof_profile *p,
                                                       uint64_t id)
{
    return by_id(p->location, p->nlocation, sizeof *p->location,
                 p->index ? &p->index->location : NULL, id);
}

const mprof_pprof_function *mprof_pprof_function_by_id(const mprof_pprof_profile *p,
                                                       uint64_t id)
{
    return by_id(p->function, p->nfunction, sizeof *p->function,
                 p->index ? &p->index->function : NULL, id);
}

const mprof_pprof_mapping *mprof_pprof_mapping_by_id(const mprof_pprof_profile *p,
                                                     uint64_t id)
{
    return by_id(p->mapping, p->nmapping, sizeof *p->mapping,
                 p->index ? &p->index->mapping : NULL, id);
}
