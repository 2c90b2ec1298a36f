/*
 * prof.c: reading a profile through `go tool pprof -raw` (see prof.h).
 *
 * The text has four parts: a header (PeriodType, Period, ...), "Samples:"
 * with a line of sample types then one line per sample ("v1 v2 ...: id id")
 * followed by label lines, "Locations" ("id: 0xaddr M=n func file:line s=n",
 * inlined frames on continuation lines), and "Mappings", which we skip.
 */
#include "prof.h"

#include "harness.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { SEC_HEADER, SEC_TYPES, SEC_SAMPLES, SEC_LOCS, SEC_MAPS } section;

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void set_err(char *err, size_t len, const char *what, const char *line)
{
    snprintf(err, len, "pprof -raw: %s: '%.200s'", what, line);
}

/* "PeriodType: space bytes" and "Period: N". */
static void parse_header(prof *p, const char *l)
{
    char a[128], b[128];
    if (sscanf(l, "PeriodType: %127s %127s", a, b) == 2) {
        p->period_type = strdup(a);
        p->period_unit = strdup(b);
    } else {
        sscanf(l, "Period: %lld", &p->period);
    }
}

/* "alloc_objects/count alloc_space/bytes[dflt] ..." */
static void parse_types(prof *p, const char *l)
{
    char *copy = strdup(l), *save = NULL;
    for (char *tok = strtok_r(copy, " \t", &save); tok && p->ntypes < PROF_MAX_TYPES;
         tok = strtok_r(NULL, " \t", &save)) {
        char *dflt = strstr(tok, "[dflt]");
        if (dflt)
            *dflt = '\0';
        char *slash = strchr(tok, '/');
        p->type[p->ntypes] = slash ? xstrndup(tok, (size_t)(slash - tok)) : strdup(tok);
        p->unit[p->ntypes] = strdup(slash ? slash + 1 : "");
        p->ntypes++;
    }
    free(copy);
}

static prof_sample *new_sample(prof *p, size_t *cap)
{
    if (p->nsamples == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        p->samples = realloc(p->samples, *cap * sizeof *p->samples);
    }
    prof_sample *s = &p->samples[p->nsamples++];
    memset(s, 0, sizeof *s);
    return s;
}

static int parse_sample(prof *p, size_t *cap, const char *l, char *err,
                        size_t errlen)
{
    prof_sample *s = new_sample(p, cap);
    char *end;
    for (int i = 0; i < p->ntypes; i++) {
        s->v[i] = strtoll(l, &end, 10);
        if (end == l) {
            set_err(err, errlen, "bad sample values", l);
            return -1;
        }
        l = end;
    }
    l = skip_ws(l);
    if (*l != ':') {
        set_err(err, errlen, "no ':' after sample values", l);
        return -1;
    }
    l++;
    size_t ncap = 0;
    for (;;) {
        unsigned long id = strtoul(l, &end, 10);
        if (end == l)
            break;
        if ((size_t)s->nlocs == ncap) {
            ncap = ncap ? ncap * 2 : 16;
            s->loc_ids = realloc(s->loc_ids, ncap * sizeof *s->loc_ids);
        }
        s->loc_ids[s->nlocs++] = id;
        l = end;
    }
    return 0;
}

/* Label lines: "bytes:[64]" or "bytes:[64 bytes]", among others. */
static void parse_labels(prof *p, const char *l)
{
    if (p->nsamples == 0)
        return;
    prof_sample *ls = &p->samples[p->nsamples - 1];
    size_t had = ls->labels ? strlen(ls->labels) : 0;
    ls->labels = realloc(ls->labels, had + strlen(l) + 2);
    if (had)
        ls->labels[had++] = ' ';
    strcpy(ls->labels + had, l);
    for (const char *b = strstr(l, "bytes:["); b; b = strstr(b + 1, "bytes:[")) {
        if (b != l && b[-1] != ' ')
            continue;
        prof_sample *s = &p->samples[p->nsamples - 1];
        s->has_bytes = true;
        s->bytes = strtoll(b + 7, NULL, 10);
        return;
    }
}

/* "func file:line s=N" or "func file:line s=N(system name)" or "??". */
static void parse_frame(const char *t, prof_frame *f)
{
    f->func = strdup("");
    f->file = strdup("");
    f->line = 0;
    const char *s = strstr(t, " s=");
    while (s) {
        const char *d = s + 3;
        while (isdigit((unsigned char)*d))
            d++;
        if (d > s + 3 && (*d == '\0' || *d == '('))
            break;
        s = strstr(s + 1, " s=");
    }
    if (!s)
        return; /* "??": no function */
    const char *colon = s;
    while (colon > t && *colon != ':')
        colon--;
    if (*colon != ':')
        return;
    f->line = strtol(colon + 1, NULL, 10);
    const char *sp = colon;
    while (sp > t && *sp != ' ')
        sp--;
    free(f->func);
    free(f->file);
    f->func = xstrndup(t, (size_t)(sp - t));
    f->file = xstrndup(sp + (*sp == ' '), (size_t)(colon - sp - (*sp == ' ')));
}

static void add_frame(prof_loc *loc, const char *text)
{
    loc->frames = realloc(loc->frames, (size_t)(loc->nframes + 1) * sizeof *loc->frames);
    parse_frame(text, &loc->frames[loc->nframes++]);
}

/* "     1: 0x45136b M=1 [F] func file:line s=0" */
static int parse_loc(prof *p, size_t *cap, const char *l)
{
    char *end;
    unsigned long id = strtoul(l, &end, 10);
    if (end == l || *end != ':')
        return -1;
    if (p->nlocs == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        p->locs = realloc(p->locs, *cap * sizeof *p->locs);
    }
    prof_loc *loc = &p->locs[p->nlocs++];
    memset(loc, 0, sizeof *loc);
    loc->id = id;
    const char *t = skip_ws(end + 1);
    loc->addr = strtoull(t, &end, 16);
    t = skip_ws(end);
    if (strncmp(t, "M=", 2) == 0)
        t = skip_ws(strchr(t, ' ') ? strchr(t, ' ') : t + strlen(t));
    if (strncmp(t, "[F]", 3) == 0)
        t = skip_ws(t + 3);
    if (*t)
        add_frame(loc, t);
    return 0;
}

static bool starts_with_digit(const char *l)
{
    l = skip_ws(l);
    return isdigit((unsigned char)*l) || *l == '-';
}

static section next_section(section sec, const char *l)
{
    if (strcmp(l, "Samples:") == 0)
        return SEC_TYPES;
    if (strcmp(l, "Locations") == 0)
        return SEC_LOCS;
    if (strcmp(l, "Mappings") == 0)
        return SEC_MAPS;
    return sec;
}

static int parse_line(prof *p, section *sec, size_t caps[2], const char *l,
                      char *err, size_t errlen)
{
    section next = next_section(*sec, l);
    if (next != *sec) {
        *sec = next;
        return 0;
    }
    switch (*sec) {
    case SEC_HEADER:
        parse_header(p, l);
        return 0;
    case SEC_TYPES:
        parse_types(p, l);
        *sec = SEC_SAMPLES;
        return 0;
    case SEC_SAMPLES:
        if (starts_with_digit(l))
            return parse_sample(p, &caps[0], l, err, errlen);
        parse_labels(p, skip_ws(l));
        return 0;
    case SEC_LOCS:
        if (parse_loc(p, &caps[1], skip_ws(l)) == 0)
            return 0;
        if (p->nlocs > 0 && *skip_ws(l)) /* an inlined caller */
            add_frame(&p->locs[p->nlocs - 1], skip_ws(l));
        return 0;
    case SEC_MAPS:
        return 0;
    }
    return 0;
}

static const prof_loc *find_loc(const prof *p, unsigned long id)
{
    if (id >= 1 && id <= p->nlocs && p->locs[id - 1].id == id)
        return &p->locs[id - 1];
    for (size_t i = 0; i < p->nlocs; i++)
        if (p->locs[i].id == id)
            return &p->locs[i];
    return NULL;
}

static int resolve_locs(prof *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->nsamples; i++) {
        prof_sample *s = &p->samples[i];
        s->locs = calloc((size_t)s->nlocs + 1, sizeof *s->locs);
        for (int j = 0; j < s->nlocs; j++) {
            s->locs[j] = find_loc(p, s->loc_ids[j]);
            if (!s->locs[j]) {
                snprintf(err, errlen, "pprof -raw: sample %zu: no location %lu",
                         i, s->loc_ids[j]);
                return -1;
            }
        }
    }
    return 0;
}

int prof_parse_raw(const char *text, prof *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    section sec = SEC_HEADER;
    size_t caps[2] = {0, 0};
    char *copy = strdup(text), *save = NULL;
    int rc = 0;
    for (char *l = strtok_r(copy, "\n", &save); l && rc == 0;
         l = strtok_r(NULL, "\n", &save))
        rc = parse_line(p, &sec, caps, l, err, errlen);
    free(copy);
    if (rc == 0 && p->ntypes == 0) {
        set_err(err, errlen, "no sample types", text);
        rc = -1;
    }
    if (rc == 0)
        rc = resolve_locs(p, err, errlen);
    return rc;
}

/* As the README tells users: a dump names functions; `mprof symbolize`
 * adds file:line and inlined frames before another reader sees it. */
static int symbolize(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    snprintf(out, outlen, "%s.symbolized.pb.gz", path);
    run r;
    run_spec s = {.no_preload = true};
    const char *argv[] = {h_tool(), "symbolize", path, "-o", out, NULL};
    memcpy(s.argv, argv, sizeof argv);
    run_checked(&r, &s);
    int rc = run_exit_code(&r) == 0 ? 0 : -1; /* a note on stderr is fine */
    if (rc < 0)
        snprintf(err, errlen, "mprof symbolize %s: status %d: %.500s", path,
                 run_exit_code(&r), r.err.s);
    run_free(&r);
    return rc;
}

int prof_load(const char *path, prof *p, char *err, size_t errlen)
{
    run r;
    const char *pprof = getenv("MPROF_TEST_PPROF"); /* a pprof binary */
    run_spec s = {.no_preload = true};
    char symbolized[4096];
    memset(p, 0, sizeof *p);
    if (symbolize(path, symbolized, sizeof symbolized, err, errlen) < 0)
        return -1;
    path = symbolized;
    if (pprof && *pprof) {
        const char *argv[] = {pprof, "-symbolize=none", "-raw", path, NULL};
        memcpy(s.argv, argv, sizeof argv);
    } else {
        const char *argv[] = {"go", "tool", "pprof", "-symbolize=none", "-raw", path, NULL};
        memcpy(s.argv, argv, sizeof argv);
    }
    memset(p, 0, sizeof *p);
    run_checked(&r, &s);
    int rc = -1;
    if (run_exit_code(&r) != 0)
        snprintf(err, errlen, "pprof -raw %s failed (status %d): %.500s%s", path,
                 run_exit_code(&r), r.err.s,
                 run_exit_code(&r) == 127 ? " (make deps installs golang-go, whose "
                                           "`go tool pprof` reads the profiles)" : "");
    else
        rc = prof_parse_raw(r.out.s, p, err, errlen);
    run_free(&r);
    return rc;
}

void prof_free(prof *p)
{
    for (int i = 0; i < p->ntypes; i++) {
        free(p->type[i]);
        free(p->unit[i]);
    }
    free(p->period_type);
    free(p->period_unit);
    for (size_t i = 0; i < p->nsamples; i++) {
        free(p->samples[i].loc_ids);
        free(p->samples[i].locs);
        free(p->samples[i].labels);
    }
    for (size_t i = 0; i < p->nlocs; i++) {
        for (int j = 0; j < p->locs[i].nframes; j++) {
            free(p->locs[i].frames[j].func);
            free(p->locs[i].frames[j].file);
        }
        free(p->locs[i].frames);
    }
    free(p->samples);
    free(p->locs);
    memset(p, 0, sizeof *p);
}

int prof_index(const prof *p, const char *type)
{
    for (int i = 0; i < p->ntypes; i++)
        if (strcmp(p->type[i], type) == 0)
            return i;
    return -1;
}

bool prof_func_matches(const char *func, const char *site, prof_match m)
{
    return m == PROF_EXACT ? strcmp(func, site) == 0 : strstr(func, site) != NULL;
}

const prof_frame *prof_sample_find(const prof_sample *s, const char *site,
                                   prof_match m)
{
    for (int i = 0; i < s->nlocs; i++)
        for (int j = 0; j < s->locs[i]->nframes; j++)
            if (prof_func_matches(s->locs[i]->frames[j].func, site, m))
                return &s->locs[i]->frames[j];
    return NULL;
}

const prof_frame *prof_sample_leaf(const prof_sample *s)
{
    if (s->nlocs == 0 || s->locs[0]->nframes == 0)
        return NULL;
    return &s->locs[0]->frames[0];
}

const prof_frame *prof_sample_site(const prof_sample *s)
{
    if (s->nlocs > 1 && s->locs[0]->addr == 0 && s->locs[0]->nframes > 0 &&
        s->locs[1]->nframes > 0)
        return &s->locs[1]->frames[0];
    return prof_sample_leaf(s);
}

bool prof_sample_label(const prof_sample *s, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    snprintf(buf, len, "%s", "");
    for (const char *at = s->labels ? strstr(s->labels, key) : NULL; at;
         at = strstr(at + 1, key)) {
        if ((at != s->labels && at[-1] != ' ') || strncmp(at + kl, ":[", 2) != 0)
            continue;
        const char *v = at + kl + 2, *end = strchr(v, ']');
        if (!end)
            return false;
        snprintf(buf, len, "%.*s", (int)(end - v), v);
        return true;
    }
    return false;
}

static long long value_of(const prof *p, const prof_sample *s, const char *type)
{
    int i = prof_index(p, type);
    return i < 0 ? 0 : s->v[i];
}

void prof_site_sum(const prof *p, const char *site, prof_match m,
                   prof_site *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < p->nsamples; i++) {
        const prof_sample *s = &p->samples[i];
        if (!prof_sample_find(s, site, m))
            continue;
        out->alloc_objects += value_of(p, s, "alloc_objects");
        out->alloc_space += value_of(p, s, "alloc_space");
        out->inuse_objects += value_of(p, s, "inuse_objects");
        out->inuse_space += value_of(p, s, "inuse_space");
        out->nsamples++;
    }
}

long long prof_total(const prof *p, const char *type)
{
    long long t = 0;
    for (size_t i = 0; i < p->nsamples; i++)
        t += value_of(p, &p->samples[i], type);
    return t;
}

/* Append to buf at *off, never past len - 1. */
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    if (*off + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

void prof_describe(const prof *p, char *buf, size_t len, size_t max_samples)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->nsamples && i < max_samples; i++) {
        const prof_sample *s = &p->samples[i];
        for (int k = 0; k < p->ntypes; k++)
            put(buf, len, &off, "%lld ", s->v[k]);
        if (s->has_bytes)
            put(buf, len, &off, "[%lld B]", s->bytes);
        for (int j = 0; j < s->nlocs && j < 6; j++) {
            const prof_loc *l = s->locs[j];
            put(buf, len, &off, "%s%s", j ? " < " : ": ",
                l->nframes ? l->frames[0].func : "?");
        }
        put(buf, len, &off, "\n");
    }
    if (p->nsamples > max_samples)
        put(buf, len, &off, "... (%zu samples)\n", p->nsamples);
}
