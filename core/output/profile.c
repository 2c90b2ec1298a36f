/*
 * profile.c: from samples with raw addresses to a profile file.
 *
 * Symbolizes in-process, builds the Profile message in one scratch
 * (strings interned, locations deduplicated by address, functions by name
 * and file), encodes, gzips and writes it atomically.  Everything a dump
 * allocates comes from that scratch and is released with it.
 */
#include "profile.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "atomic_file.h"
#include "gzip.h"
#include "symbolize.h"
#include "u64map.h"
#include "waitcall.h"

/* ======================================================================
 * Building a profile from samples
 * ====================================================================== */

#define MAX_INLINE 32

struct builder {
    mprof_scratch *sc;
    mprof_pprof_profile *p;
    mprof_symbolizer *sym;
    /* strings: open addressing over indices (+1), with their hashes */
    size_t *str_slots;
    size_t str_slot_cap;
    uint64_t *str_hash; /* parallel to string_table */
    size_t str_cap, hash_cap, loc_cap, fn_cap;
    struct u64map locs;  /* address -> location index */
    struct u64map funcs; /* name << 32 | file -> function index */
    int64_t bytes_key;
    uint64_t truncated; /* id of the "[truncated]" location, once made */
    uint64_t waitcall[MPROF_NWAITCALLS]; /* ids of the wrapped calls' locations */
};

static int grow_array(mprof_scratch *sc, void *arrp, size_t *cap, size_t need,
                      size_t esz)
{
    void **arr = arrp;
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    if (nc > SIZE_MAX / esz)
        return -1;
    void *q = mprof_scratch_grow(sc, *arr, *cap * esz, nc * esz);
    if (!q)
        return -1;
    *arr = q;
    *cap = nc;
    return 0;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return mprof_mix64(h);
}

static int rehash_strings(struct builder *b, size_t cap)
{
    size_t *slots = mprof_scratch_calloc(b->sc, cap, sizeof *slots);
    /* str_hash holds nstring_table entries whenever there are any (the
     * analyzer cannot see that every string came through intern_len) */
    if (!slots || (b->p->nstring_table && !b->str_hash))
        return -1;
    for (size_t i = 0; i < b->p->nstring_table; i++) {
        size_t j = b->str_hash[i] & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = i + 1;
    }
    b->str_slots = slots;
    b->str_slot_cap = cap;
    return 0;
}

/* Index of s in the string table, adding it; -1 when out of memory. */
static int64_t intern_len(struct builder *b, const char *s, size_t len)
{
    mprof_pprof_profile *p = b->p;
    uint64_t h = hash_bytes(s, len);
    if (2 * (p->nstring_table + 1) > b->str_slot_cap &&
        rehash_strings(b, b->str_slot_cap ? 2 * b->str_slot_cap : 1024) < 0)
        return -1;
    if (!b->str_slots)
        return -1; /* never: the rehash above made them (for the analyzer) */
    size_t mask = b->str_slot_cap - 1, j = h & mask;
    /* (no str_hash: no string yet, and every slot is empty) */
    for (; b->str_hash && b->str_slots[j]; j = (j + 1) & mask) {
        size_t i = b->str_slots[j] - 1;
        if (b->str_hash[i] == h && p->string_table[i].len == len &&
            memcmp(p->string_table[i].s, s, len) == 0)
            return (int64_t)i;
    }
    size_t n = p->nstring_table;
    if (grow_array(b->sc, &p->string_table, &b->str_cap, n + 1,
                   sizeof *p->string_table) < 0 ||
        grow_array(b->sc, &b->str_hash, &b->hash_cap, n + 1, sizeof *b->str_hash) < 0)
        return -1;
    char *copy = mprof_scratch_strndup(b->sc, s, len);
    if (!copy)
        return -1;
    p->string_table[n] = (mprof_pprof_str){copy, len};
    b->str_hash[n] = h;
    b->str_slots[j] = n + 1;
    p->nstring_table++;
    return (int64_t)n;
}

static int64_t intern(struct builder *b, const char *s)
{
    return intern_len(b, s ? s : "", s ? strlen(s) : 0);
}

static int value_type(struct builder *b, const mprof_value_type *vt,
                      mprof_pprof_value_type *out)
{
    out->type = intern(b, vt->type);
    out->unit = intern(b, vt->unit);
    return out->type < 0 || out->unit < 0 ? -1 : 0;
}

/* The function (linkage name, file), added on first sight; its id, or 0.
 * One record per function: a frame seen first without its declaration
 * line (as the outer frame of inlined code may be) gets it from a later
 * one. */
static uint64_t function_id(struct builder *b, const mprof_sym_frame *f)
{
    mprof_pprof_profile *p = b->p;
    const char *sys = f->system_name ? f->system_name : f->name;
    int64_t sysname = intern(b, sys), file = intern(b, f->file);
    if (sysname < 0 || file < 0 || sysname > UINT32_MAX || file > UINT32_MAX)
        return 0;
    uint64_t key = (uint64_t)sysname << 32 | (uint64_t)file;
    size_t i;
    if (mprof_u64map_get(&b->funcs, key, &i)) {
        if (!p->function[i].start_line)
            p->function[i].start_line = f->start_line;
        return p->function[i].id;
    }
    int64_t name = f->name && f->name != sys ? intern(b, f->name) : sysname;
    i = p->nfunction;
    if (name < 0 ||
        grow_array(b->sc, &p->function, &b->fn_cap, i + 1, sizeof *p->function) < 0 ||
        mprof_u64map_put(b->sc, &b->funcs, key, i) < 0)
        return 0;
    p->function[i] = (mprof_pprof_function){.id = i + 1, .name = name,
                                            .system_name = sysname,
                                            .filename = file,
                                            .start_line = f->start_line};
    p->nfunction++;
    return i + 1;
}

/* loc->line from the frames at loc->address; mapping_id is the
 * symbolizer's index + 1 until build_mappings renumbers it. */
static int symbolize_location(struct builder *b, mprof_pprof_location *loc)
{
    long m = mprof_symbolizer_find_mapping(b->sym, loc->address);
    loc->mapping_id = m < 0 ? 0 : (uint64_t)m + 1;
    if (m < 0 || loc->address == 0)
        return 0;
    mprof_sym_frame fr[MAX_INLINE];
    int nf = mprof_symbolize(b->sym, loc->address, fr, MAX_INLINE);
    if (nf <= 0)
        return 0;
    loc->line = mprof_scratch_calloc(b->sc, (size_t)nf, sizeof *loc->line);
    if (!loc->line)
        return -1;
    for (int i = 0; i < nf; i++) {
        if (!fr[i].name)
            continue;
        uint64_t fid = function_id(b, &fr[i]);
        if (!fid)
            return -1;
        loc->line[loc->nline++] = (mprof_pprof_line){fid, fr[i].line, 0};
    }
    return 0;
}

/* A location with no address and no mapping whose one frame is `name`;
 * its id, or 0 when out of memory. */
static uint64_t synthetic_id(struct builder *b, const char *name)
{
    mprof_pprof_profile *p = b->p;
    mprof_sym_frame f = {.name = name};
    uint64_t fid = function_id(b, &f);
    size_t i = p->nlocation;
    if (!fid || grow_array(b->sc, &p->location, &b->loc_cap, i + 1, sizeof *p->location) < 0)
        return 0;
    mprof_pprof_location *loc = &p->location[i];
    memset(loc, 0, sizeof *loc);
    loc->line = mprof_scratch_calloc(b->sc, 1, sizeof *loc->line);
    if (!loc->line)
        return 0;
    loc->line[0].function_id = fid;
    loc->nline = 1;
    loc->id = i + 1;
    p->nlocation++;
    return loc->id;
}

/* The location that ends a stack cut at MPROF_STACK_DEPTH: one frame
 * "[truncated]", shared by every such stack. */
static uint64_t truncated_id(struct builder *b)
{
    if (!b->truncated)
        b->truncated = synthetic_id(b, MPROF_TRUNCATED_NAME);
    return b->truncated;
}

/* The synthetic leaf of a block or mutex sample: the wrapped call, by
 * name, as Go's sync.(*Mutex).Lock (waitcall.h). */
static uint64_t waitcall_id(struct builder *b, int call)
{
    if (!b->waitcall[call])
        b->waitcall[call] = synthetic_id(b, mprof_waitcall_name(call));
    return b->waitcall[call];
}

/* The location id for return address pc; 0 when out of memory. */
static uint64_t location_id(struct builder *b, uintptr_t pc)
{
    mprof_pprof_profile *p = b->p;
    if (pc == MPROF_PC_TRUNCATED)
        return truncated_id(b);
    int call = mprof_waitcall_of_pc(pc);
    if (call != MPROF_WAIT_NONE)
        return waitcall_id(b, call);
    /* A return address points after the call; pc - 1 is inside it, so it
     * symbolizes to the calling line (DESIGN: address = return addr - 1). */
    uint64_t addr = pc ? (uint64_t)pc - 1 : 0;
    size_t i;
    if (mprof_u64map_get(&b->locs, addr, &i))
        return p->location[i].id;
    i = p->nlocation;
    if (grow_array(b->sc, &p->location, &b->loc_cap, i + 1, sizeof *p->location) < 0 ||
        mprof_u64map_put(b->sc, &b->locs, addr, i) < 0)
        return 0;
    mprof_pprof_location *loc = &p->location[i];
    memset(loc, 0, sizeof *loc);
    loc->id = i + 1;
    loc->address = addr;
    long m = mprof_symbolizer_find_mapping(b->sym, addr);
    loc->mapping_id = m < 0 ? 0 : (uint64_t)m + 1;
    p->nlocation++;
    return loc->id;
}

/* Every location's frames, its addresses looked up together first (the
 * symbolizer reads each symbol table once for all of them). */
static int symbolize_locations(struct builder *b)
{
    mprof_pprof_profile *p = b->p;
    uint64_t *addrs = mprof_scratch_calloc(b->sc, p->nlocation + 1, sizeof *addrs);
    if (!addrs)
        return -1;
    for (size_t i = 0; i < p->nlocation; i++)
        addrs[i] = p->location[i].address;
    if (mprof_symbolizer_prepare(b->sym, addrs, p->nlocation) < 0)
        return -1;
    for (size_t i = 0; i < p->nlocation; i++)
        if (symbolize_location(b, &p->location[i]) < 0)
            return -1;
    return 0;
}

/* in's labels: "bytes" first (as Go's heap profile: the object size as a
 * numeric label), then its own in order. */
static int build_labels(struct builder *b, const mprof_sample *in, mprof_pprof_sample *out)
{
    size_t n = (in->bytes != 0) + (in->labels ? in->nlabels : 0);
    if (n == 0)
        return 0;
    out->label = mprof_scratch_calloc(b->sc, n, sizeof *out->label);
    if (!out->label)
        return -1;
    if (in->bytes != 0) {
        if (!b->bytes_key && (b->bytes_key = intern(b, "bytes")) < 0)
            return -1;
        out->label[out->nlabel++] = (mprof_pprof_label){.key = b->bytes_key, .num = in->bytes};
    }
    for (uint32_t i = 0; in->labels && i < in->nlabels; i++) {
        const mprof_label *l = &in->labels[i];
        mprof_pprof_label *o = &out->label[out->nlabel++];
        o->key = intern(b, l->key);
        if (l->str) {
            o->str = intern(b, l->str);
        } else {
            o->num = l->num;
            o->num_unit = l->unit ? intern(b, l->unit) : 0;
        }
        if (o->key < 0 || o->str < 0 || o->num_unit < 0)
            return -1;
    }
    return 0;
}

static int build_sample(struct builder *b, const mprof_profile_desc *d,
                        const mprof_sample *in, mprof_pprof_sample *out)
{
    uint32_t n = in->pcs ? in->npcs : 0;
    while (n > 0 && in->pcs[n - 1] == 0)
        n--;
    out->location_id = mprof_scratch_calloc(b->sc, n, sizeof *out->location_id);
    out->value = mprof_scratch_calloc(b->sc, (size_t)d->nvalues, sizeof *out->value);
    if (!out->location_id || !out->value)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (!(out->location_id[i] = location_id(b, in->pcs[i])))
            return -1;
    out->nlocation_id = n;
    memcpy(out->value, in->value, (size_t)d->nvalues * sizeof *out->value);
    out->nvalue = (size_t)d->nvalues;
    return build_labels(b, in, out);
}

/*
 * The mappings that some location points into, the main binary first (pprof
 * takes mapping 1 as the program), renumbered 1..n; the rest (mprof's own
 * libraries, everything no sample passed through) are left out.
 */
static int build_mappings(struct builder *b)
{
    mprof_pprof_profile *p = b->p;
    size_t n = mprof_symbolizer_nmappings(b->sym);
    uint64_t *newid = mprof_scratch_calloc(b->sc, n + 1, sizeof *newid);
    p->mapping = mprof_scratch_calloc(b->sc, n ? n : 1, sizeof *p->mapping);
    if (!newid || !p->mapping)
        return -1;
    for (size_t i = 0; i < p->nlocation; i++)
        if (p->location[i].mapping_id)
            newid[p->location[i].mapping_id] = 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!newid[i + 1])
            continue;
        const mprof_sym_mapping *sm = mprof_symbolizer_mapping(b->sym, i);
        mprof_pprof_mapping *m = &p->mapping[k];
        newid[i + 1] = m->id = ++k;
        m->memory_start = sm->start;
        m->memory_limit = sm->limit;
        m->file_offset = sm->offset;
        m->filename = intern(b, sm->path);
        m->build_id = intern(b, sm->build_id);
        if (m->filename < 0 || m->build_id < 0)
            return -1;
        /* Without has_functions pprof would symbolize the mapping again
         * from the file, where it finds what we did; with names only,
         * `mprof symbolize` or pprof add the lines. */
        m->has_functions = sm->has_names != 0;
        m->has_filenames = m->has_line_numbers = sm->has_lines != 0;
        m->has_inline_frames = sm->has_inline != 0;
    }
    p->nmapping = k;
    for (size_t i = 0; i < p->nlocation; i++)
        p->location[i].mapping_id = newid[p->location[i].mapping_id];
    return 0;
}

static int check_desc(const mprof_profile_desc *d)
{
    if (d->nvalues < 1 || d->nvalues > MPROF_MAX_VALUES || d->ncomments < 0 ||
        d->ncomments > MPROF_MAX_COMMENTS)
        return -EINVAL;
    return 0;
}

static int build_header(struct builder *b, const mprof_profile_desc *d)
{
    mprof_pprof_profile *p = b->p;
    p->sample_type = mprof_scratch_calloc(b->sc, (size_t)d->nvalues,
                                          sizeof *p->sample_type);
    p->comment = mprof_scratch_calloc(b->sc, (size_t)d->ncomments + 1,
                                      sizeof *p->comment);
    if (!p->sample_type || !p->comment || intern(b, "") != 0)
        return -1;
    for (int i = 0; i < d->nvalues; i++)
        if (value_type(b, &d->sample_type[i], &p->sample_type[i]) < 0)
            return -1;
    p->nsample_type = (size_t)d->nvalues;
    if (value_type(b, &d->period_type, &p->period_type) < 0)
        return -1;
    p->period = d->period;
    p->time_nanos = d->time_nanos;
    p->duration_nanos = d->duration_nanos;
    if (d->default_sample_type &&
        (p->default_sample_type = intern(b, d->default_sample_type)) < 0)
        return -1;
    for (int i = 0; i < d->ncomments; i++)
        if ((p->comment[p->ncomment++] = intern(b, d->comments[i])) < 0)
            return -1;
    return 0;
}

int mprof_profile_build(mprof_scratch *sc, const mprof_profile_desc *d,
                        const mprof_sample *s, size_t n,
                        mprof_symbolizer *sym, mprof_pprof_profile *out)
{
    memset(out, 0, sizeof *out);
    if (check_desc(d) < 0 || (n && !s))
        return -EINVAL;
    struct builder b = {.sc = sc, .p = out};
    if (build_header(&b, d) < 0)
        return -ENOMEM;
    b.sym = sym ? sym : mprof_symbolizer_open(sc, MPROF_SYMBOLS_FULL);
    out->sample = mprof_scratch_calloc(sc, n, sizeof *out->sample);
    int rc = b.sym && out->sample ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = build_sample(&b, d, &s[i], &out->sample[i]);
    out->nsample = rc == 0 ? n : 0;
    if (rc == 0)
        rc = symbolize_locations(&b);
    if (rc == 0)
        rc = build_mappings(&b);
    if (!sym)
        mprof_symbolizer_close(b.sym);
    return rc == 0 ? 0 : -ENOMEM;
}

/* ======================================================================
 * A profile read back: frames added from the files on this machine
 * ====================================================================== */

/* The same string in the profile being built. */
static int64_t restring(struct builder *b, const mprof_pprof_profile *in, int64_t idx)
{
    const mprof_pprof_str *st = idx > 0 && (uint64_t)idx < in->nstring_table
                                    ? &in->string_table[idx] : NULL;
    return st ? intern_len(b, st->s, st->len) : 0;
}

static int copy_header(struct builder *b, const mprof_pprof_profile *in)
{
    mprof_pprof_profile *p = b->p;
    if (intern(b, "") != 0)
        return -1;
    int64_t bad = 0;
    for (size_t i = 0; i < in->nsample_type; i++) {
        p->sample_type[i].type = restring(b, in, in->sample_type[i].type);
        p->sample_type[i].unit = restring(b, in, in->sample_type[i].unit);
        bad |= p->sample_type[i].type | p->sample_type[i].unit;
    }
    p->nsample_type = in->nsample_type;
    p->period_type.type = restring(b, in, in->period_type.type);
    p->period_type.unit = restring(b, in, in->period_type.unit);
    p->period = in->period;
    p->time_nanos = in->time_nanos;
    p->duration_nanos = in->duration_nanos;
    p->default_sample_type = restring(b, in, in->default_sample_type);
    p->drop_frames = restring(b, in, in->drop_frames);
    p->keep_frames = restring(b, in, in->keep_frames);
    for (size_t i = 0; i < in->ncomment; i++)
        bad |= p->comment[p->ncomment++] = restring(b, in, in->comment[i]);
    bad |= p->period_type.type | p->period_type.unit | p->default_sample_type |
           p->drop_frames | p->keep_frames;
    return bad < 0 ? -1 : 0;
}

/* The copy's tables, each as long as in's: one more element, so that an
 * empty one is not NULL, which would read as out of memory. */
static int alloc_tables(struct builder *b, const mprof_pprof_profile *in)
{
    mprof_pprof_profile *p = b->p;
    p->sample_type = mprof_scratch_calloc(b->sc, in->nsample_type + 1, sizeof *p->sample_type);
    p->comment = mprof_scratch_calloc(b->sc, in->ncomment + 1, sizeof *p->comment);
    p->sample = mprof_scratch_calloc(b->sc, in->nsample + 1, sizeof *p->sample);
    p->location = mprof_scratch_calloc(b->sc, in->nlocation + 1, sizeof *p->location);
    p->mapping = mprof_scratch_calloc(b->sc, in->nmapping + 1, sizeof *p->mapping);
    return p->sample_type && p->comment && p->sample && p->location && p->mapping ? 0 : -1;
}

static int copy_samples(struct builder *b, const mprof_pprof_profile *in)
{
    mprof_pprof_profile *p = b->p;
    for (size_t i = 0; i < in->nsample; i++) {
        const mprof_pprof_sample *is = &in->sample[i];
        mprof_pprof_sample *os = &p->sample[i];
        os->location_id = mprof_scratch_calloc(b->sc, is->nlocation_id + 1, sizeof *os->location_id);
        os->value = mprof_scratch_calloc(b->sc, is->nvalue + 1, sizeof *os->value);
        os->label = mprof_scratch_calloc(b->sc, is->nlabel + 1, sizeof *os->label);
        if (!os->location_id || !os->value || !os->label)
            return -1;
        memcpy(os->location_id, is->location_id, is->nlocation_id * sizeof *os->location_id);
        memcpy(os->value, is->value, is->nvalue * sizeof *os->value);
        os->nlocation_id = is->nlocation_id;
        os->nvalue = is->nvalue;
        for (size_t j = 0; j < is->nlabel; j++) {
            mprof_pprof_label l = is->label[j];
            l.key = restring(b, in, l.key);
            l.str = restring(b, in, l.str);
            l.num_unit = restring(b, in, l.num_unit);
            if ((l.key | l.str | l.num_unit) < 0)
                return -1;
            os->label[os->nlabel++] = l;
        }
    }
    p->nsample = in->nsample;
    return 0;
}

/* The location's lines as they were, functions carried over. */
static int keep_lines(struct builder *b, const mprof_pprof_profile *in,
                      const mprof_pprof_location *l, mprof_pprof_location *out)
{
    out->line = mprof_scratch_calloc(b->sc, l->nline + 1, sizeof *out->line);
    if (!out->line)
        return -1;
    for (size_t k = 0; k < l->nline; k++) {
        const mprof_pprof_function *fn = mprof_pprof_function_by_id(in, l->line[k].function_id);
        const char *name = mprof_pprof_string(in, fn->name);
        const char *sys = mprof_pprof_string(in, fn->system_name);
        if (!sys[0])
            sys = name;
        /* a linkage name left as it was (a dump of names only, a binary
         * not found here): demangled, as the rest of the profile */
        if (!strcmp(name, sys))
            name = mprof_demangle(b->sc, sys);
        mprof_sym_frame f = {.name = name, .system_name = sys,
                             .file = mprof_pprof_string(in, fn->filename),
                             .line = l->line[k].line, .start_line = fn->start_line};
        uint64_t fid = function_id(b, &f);
        if (!fid)
            return -1;
        out->line[out->nline++] = (mprof_pprof_line){fid, l->line[k].line, l->line[k].column};
    }
    return 0;
}

/* A mapping whose locations a full symbolization may add to. */
static int wants_frames(const mprof_pprof_mapping *m)
{
    return !(m->has_functions && m->has_filenames && m->has_line_numbers &&
             m->has_inline_frames);
}

static int copy_locations(struct builder *b, const mprof_pprof_profile *in)
{
    mprof_pprof_profile *p = b->p;
    uint64_t *addrs = mprof_scratch_calloc(b->sc, in->nlocation + 1, sizeof *addrs);
    if (!addrs)
        return -1;
    for (size_t i = 0; i < in->nlocation; i++) /* every table read once */
        addrs[i] = in->location[i].address;
    if (mprof_symbolizer_prepare(b->sym, addrs, in->nlocation) < 0)
        return -1;
    for (size_t i = 0; i < in->nlocation; i++) {
        const mprof_pprof_location *l = &in->location[i];
        mprof_pprof_location *o = &p->location[i];
        *o = (mprof_pprof_location){.id = l->id, .mapping_id = l->mapping_id,
                                    .address = l->address, .is_folded = l->is_folded};
        const mprof_pprof_mapping *m = mprof_pprof_mapping_by_id(in, l->mapping_id);
        int done = 0;
        if (m && wants_frames(m) && l->address) {
            size_t mi = (size_t)(m - in->mapping);
            mprof_sym_mapping *sm = mprof_symbolizer_mapping(b->sym, mi);
            if (sm && !sm->unusable) {
                uint64_t loc_mapping = o->mapping_id;
                if (symbolize_location(b, o) < 0)
                    return -1;
                o->mapping_id = loc_mapping; /* ids stay the profile's */
                done = o->nline > 0;
            }
        }
        if (!done && keep_lines(b, in, l, o) < 0)
            return -1;
    }
    p->nlocation = in->nlocation;
    return 0;
}

static int copy_mappings(struct builder *b, const mprof_pprof_profile *in)
{
    mprof_pprof_profile *p = b->p;
    for (size_t i = 0; i < in->nmapping; i++) {
        mprof_pprof_mapping m = in->mapping[i];
        const mprof_sym_mapping *sm = mprof_symbolizer_mapping(b->sym, i);
        m.filename = restring(b, in, m.filename);
        m.build_id = restring(b, in, m.build_id);
        if ((m.filename | m.build_id) < 0)
            return -1;
        if (sm && !sm->unusable && wants_frames(&in->mapping[i])) {
            m.has_functions |= sm->has_names != 0;
            m.has_filenames |= sm->has_lines != 0;
            m.has_line_numbers |= sm->has_lines != 0;
            m.has_inline_frames |= sm->has_inline != 0;
        }
        p->mapping[p->nmapping++] = m;
    }
    return 0;
}

mprof_symbolizer *mprof_profile_symbolizer(mprof_scratch *sc,
                                           const mprof_pprof_profile *in)
{
    mprof_sym_mapping *maps = mprof_scratch_calloc(sc, in->nmapping + 1, sizeof *maps);
    if (!maps)
        return NULL;
    for (size_t i = 0; i < in->nmapping; i++) {
        const mprof_pprof_mapping *m = &in->mapping[i];
        maps[i] = (mprof_sym_mapping){.start = m->memory_start, .limit = m->memory_limit,
                                      .offset = m->file_offset,
                                      .path = mprof_pprof_string(in, m->filename),
                                      .build_id = mprof_pprof_string(in, m->build_id)};
        if (!wants_frames(m))
            maps[i].path = ""; /* complete already: not opened */
    }
    return mprof_symbolizer_open_files(sc, maps, in->nmapping, MPROF_SYMBOLS_FULL);
}

int mprof_profile_resymbolize(const mprof_pprof_profile *in,
                              mprof_symbolizer *sym, mprof_pprof_profile *out)
{
    memset(out, 0, sizeof *out);
    mprof_scratch_init(&out->mem);
    struct builder b = {.sc = &out->mem, .p = out, .sym = sym};
    int rc = alloc_tables(&b, in) < 0 || copy_header(&b, in) < 0 ||
             copy_samples(&b, in) < 0 || copy_locations(&b, in) < 0 ||
             copy_mappings(&b, in) < 0;
    if (rc) {
        mprof_pprof_free(out);
        return -ENOMEM;
    }
    return 0;
}

/* A write beyond RLIMIT_FSIZE raises SIGXFSZ, which by default kills the
 * program: refuse up front instead. */
static int fits_file_size_limit(size_t n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1;
    return (uint64_t)n <= (uint64_t)rl.rlim_cur;
}

int mprof_profile_write_file(const char *path, const mprof_profile_desc *d,
                             const mprof_sample *s, size_t n)
{
    return mprof_profile_write_file_sym(path, d, s, n, NULL);
}

int mprof_profile_gzip(mprof_scratch *sc, const mprof_profile_desc *d,
                       const mprof_sample *s, size_t n, mprof_symbolizer *sym,
                       void **gz, size_t *gzlen)
{
    if (!d || (n && !s))
        return -EINVAL;
    mprof_pprof_profile p;
    int rc = mprof_profile_build(sc, d, s, n, sym, &p);
    mprof_pbuf b;
    mprof_pbuf_init(&b, sc);
    if (rc == 0)
        rc = mprof_pprof_encode(&p, &b);
    if (rc == 0)
        rc = mprof_gzip(sc, b.buf, b.len, gz, gzlen);
    return rc;
}

int mprof_profile_write_file_sym(const char *path, const mprof_profile_desc *d,
                                 const mprof_sample *s, size_t n,
                                 mprof_symbolizer *sym)
{
    if (!path || !d || (n && !s))
        return -EINVAL;
    int saved_errno = errno;
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *gz = NULL;
    size_t gzlen = 0;
    int rc = mprof_profile_gzip(&sc, d, s, n, sym, &gz, &gzlen);
    if (rc == 0 && !fits_file_size_limit(gzlen))
        rc = -EFBIG;
    if (rc == 0)
        rc = mprof_write_file_atomic(path, gz, gzlen, d->sync);
    mprof_scratch_release(&sc);
    errno = saved_errno;
    return rc;
}
