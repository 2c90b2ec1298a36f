/*
 * prof.h: a pprof profile as the integration tests see it.
 *
 * prof_load() is the only place that knows how a profile is read: today it
 * runs `go tool pprof -symbolize=none -raw` and parses the text; a later
 * reader (mprof's own) can replace it without touching the tests.
 * -symbolize=none matters: names and lines must come from the profile
 * itself, never from pprof looking at the binary.
 */
#ifndef MPROF_TEST_PROF_H
#define MPROF_TEST_PROF_H

#include <stdbool.h>
#include <stddef.h>

#define PROF_MAX_TYPES 8

typedef struct prof_frame {
    char *func; /* "" when the location has no function */
    char *file;
    long line;
} prof_frame;

typedef struct prof_loc {
    unsigned long id;
    unsigned long long addr;
    int nframes; /* > 1 when inlined frames are expanded */
    prof_frame *frames; /* innermost first */
} prof_loc;

typedef struct prof_sample {
    long long v[PROF_MAX_TYPES];
    int nlocs;
    unsigned long *loc_ids;
    const prof_loc **locs; /* leaf first */
    bool has_bytes;
    long long bytes; /* the numeric label "bytes" */
    char *labels;    /* every label line of the sample, as pprof -raw prints
                        them ("key:[v1 v2] key2:[v]"), joined by ' '; "" if none */
} prof_sample;

typedef struct prof {
    int ntypes;
    char *type[PROF_MAX_TYPES], *unit[PROF_MAX_TYPES];
    char *period_type, *period_unit;
    long long period;
    size_t nsamples, nlocs;
    prof_sample *samples;
    prof_loc *locs;
} prof;

/* 0 on success; otherwise -1 and a message (pprof's stderr) in err. */
int prof_load(const char *path, prof *p, char *err, size_t errlen);
/* Parse the text of `pprof -raw` (exposed for the reader's own checks). */
int prof_parse_raw(const char *text, prof *p, char *err, size_t errlen);
void prof_free(prof *p);

/* Index of a sample type by name, -1 if absent. */
int prof_index(const prof *p, const char *type);

typedef enum {
    PROF_EXACT,  /* function name == site (C) */
    PROF_SUBSTR, /* site occurs in the name (C++: mangled or demangled) */
} prof_match;

bool prof_func_matches(const char *func, const char *site, prof_match m);
/* The frame of the stack whose function matches, or NULL. */
const prof_frame *prof_sample_find(const prof_sample *s, const char *site,
                                   prof_match m);
/* Innermost frame of the leaf location, or NULL for an empty stack. */
const prof_frame *prof_sample_leaf(const prof_sample *s);
/* The leaf's caller when the leaf is a synthetic frame (a location with
 * no address: a wrapped call's name, issue 14), else the leaf. */
const prof_frame *prof_sample_site(const prof_sample *s);
/* The values of label `key`, as printed ("v1 v2"), into buf; false (and
 * buf "") when the sample has no such label. */
bool prof_sample_label(const prof_sample *s, const char *key, char *buf, size_t len);

/* Sums of the heap values over the samples whose stack has the site. */
typedef struct prof_site {
    long long alloc_objects, alloc_space, inuse_objects, inuse_space;
    int nsamples;
} prof_site;

void prof_site_sum(const prof *p, const char *site, prof_match m,
                   prof_site *out);
/* Sum of one sample type over all samples (0 if the type is absent). */
long long prof_total(const prof *p, const char *type);
/* One line per sample: values and leaf-first function names (for messages). */
void prof_describe(const prof *p, char *buf, size_t len, size_t max_samples);

#endif
