/*
 * reader.c: see reader.h.
 *
 * Every location's frames are worked out once at open (a location is shared
 * by many samples), so a stack is a concatenation of ready-made frames.
 */
#include "reader.h"

#include "fetch.h"

#include "symbols.h"
#include "tool.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *str(const reader *r, int64_t idx)
{
    return mprof_pprof_string(&r->p, idx);
}

static const char *mapping_file(const reader *r, const mprof_pprof_location *l)
{
    const mprof_pprof_mapping *m = mprof_pprof_mapping_by_id(&r->p, l->mapping_id);
    return m ? str(r, m->filename) : "";
}

/* A pc without a symbol is named for its mapping, as pprof does at function
 * granularity: all of libc's unnamed code is one function "[libc.so.6]". */
static void build_mapping_names(reader *r)
{
    r->map_names = xcalloc(r->p.nmapping, sizeof *r->map_names);
    for (size_t i = 0; i < r->p.nmapping; i++) {
        const char *path = str(r, r->p.mapping[i].filename);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        r->map_names[i] = *base ? xasprintf("[%s]", base) : NULL;
    }
}

static void address_frame(reader *r, size_t i, frame *f)
{
    const mprof_pprof_location *l = &r->p.location[i];
    const mprof_pprof_mapping *m = mprof_pprof_mapping_by_id(&r->p, l->mapping_id);
    const char *name = m ? r->map_names[m - r->p.mapping] : NULL;
    *f = (frame){.name = name ? name : "<unknown>", .file = mapping_file(r, l),
                 .mapping = m ? (int)(m - r->p.mapping) : -1};
}

static bool line_frame(reader *r, const mprof_pprof_line *ln, frame *f)
{
    const mprof_pprof_function *fn = mprof_pprof_function_by_id(&r->p, ln->function_id);
    if (!fn)
        return false;
    const char *name = str(r, fn->name);
    if (!*name)
        name = str(r, fn->system_name);
    if (!*name)
        return false;
    *f = (frame){.name = name, .file = str(r, fn->filename), .line = ln->line,
                 .mapping = -1};
    return true;
}

static void build_location_frames(reader *r)
{
    size_t n = r->p.nlocation, total = 0;
    for (size_t i = 0; i < n; i++)
        total += r->p.location[i].nline ? r->p.location[i].nline : 1;
    r->locs = xcalloc(n, sizeof *r->locs);
    build_mapping_names(r);
    frame *all = r->loc_mem = xcalloc(total, sizeof *all);
    for (size_t i = 0; i < n; i++) {
        const mprof_pprof_location *l = &r->p.location[i];
        loc_frames *lf = &r->locs[i];
        lf->f = all;
        for (size_t k = 0; k < l->nline; k++)
            if (line_frame(r, &l->line[k], &lf->f[lf->n]))
                lf->n++;
        if (lf->n == 0)
            address_frame(r, i, &lf->f[lf->n++]);
        /* pprof lists inlined functions first; all but the last were
         * inlined into the one after them. */
        for (size_t k = 0; k + 1 < lf->n; k++)
            lf->f[k].inlined = true;
        all += l->nline ? l->nline : 1;
    }
}

/* Does the file start like gzip? -1 if it cannot be read, 2 if empty. */
static int looks_gzipped(const char *path)
{
    unsigned char magic[2];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, magic, sizeof magic);
    close(fd);
    if (n <= 0)
        return n < 0 ? -1 : 2;
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* The decoder's message, made plainer for a file that is not gzip: most
 * often it is not a profile at all, and "Profile: invalid field number"
 * alone would not say so. */
static void read_error(const char *cmd, const char *path, const char *err)
{
    size_t plen = strlen(path);
    const char *inner = strncmp(err, path, plen) == 0 && !strncmp(err + plen, ": ", 2)
                            ? err + plen + 2 : err;
    int gz = looks_gzipped(path);
    if (gz == 2)
        tool_error(cmd, "%s: empty file, not a profile", path);
    else if (gz == 0 && strncmp(inner, "Profile", 7) == 0)
        tool_error(cmd, "%s: not a gzipped or raw pprof profile (%s)", path, inner);
    else
        tool_error(cmd, "%s", err);
}

/* The frames of location `id`; NULL for an id the profile lacks (the
 * decoder rejects those; never trust, never crash). */
static const loc_frames *frames_of(const reader *r, uint64_t id)
{
    const mprof_pprof_location *l = mprof_pprof_location_by_id(&r->p, id);
    return l ? &r->locs[l - r->p.location] : NULL;
}

/*
 * A small file can describe enormous stacks: one location with a thousand
 * inlined frames, referenced a million times. Real profiles stay far below
 * these bounds (mprof keeps at most 512 frames a stack); a file beyond them
 * is refused as bad input instead of exhausting memory or time.
 */
#define MAX_STACK_FRAMES ((size_t)1 << 16)
#define MAX_TOTAL_FRAMES ((size_t)1 << 27)

static int check_stack_sizes(const reader *r, const char *cmd)
{
    size_t total = 0;
    for (size_t i = 0; i < r->p.nsample; i++) {
        const mprof_pprof_sample *s = &r->p.sample[i];
        size_t n = 0;
        for (size_t j = 0; j < s->nlocation_id && n <= MAX_STACK_FRAMES; j++) {
            const loc_frames *lf = frames_of(r, s->location_id[j]);
            n += lf ? lf->n : 0;
        }
        total += n;
        if (n > MAX_STACK_FRAMES || total > MAX_TOTAL_FRAMES) {
            tool_error(cmd, "%s: stacks too large to read (sample %zu: %s%zu frames%s)",
                       r->path, i, n > MAX_STACK_FRAMES ? "over " : "",
                       n > MAX_STACK_FRAMES ? MAX_STACK_FRAMES : total,
                       n > MAX_STACK_FRAMES ? "" : " in all so far");
            return -1;
        }
    }
    return 0;
}

int reader_open(reader *r, const char *cmd, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    char err[1024];
    if (fetch_is_url(path)) { /* fetched into a file that lives as long as the read */
        char tmp[4096];
        if (fetch_to_temp(path, tmp, sizeof tmp, err, sizeof err) < 0) {
            tool_error(cmd, "%s: %s", path, err);
            return -1;
        }
        int rc = mprof_pprof_read_file(&r->p, tmp, err, sizeof err);
        unlink(tmp);
        if (rc < 0) {
            tool_error(cmd, "%s: not a pprof profile", path);
            return -1;
        }
    } else if (mprof_pprof_read_file(&r->p, path, err, sizeof err) < 0) {
        read_error(cmd, path, err);
        return -1;
    }
    if (r->p.nsample_type == 0) {
        tool_error(cmd, "%s: not a pprof profile (it has no sample types)", path);
        mprof_pprof_free(&r->p);
        return -1;
    }
    /* file:line and inlined frames from this machine's files (a dump
     * writes names only); without them the names still read */
    symbols_complete(&r->p, NULL);
    build_location_frames(r);
    if (check_stack_sizes(r, cmd) < 0 || reader_select(r, cmd, NULL) < 0) {
        reader_close(r);
        return -1;
    }
    return 0;
}

static int find_type(const reader *r, const char *name)
{
    for (size_t i = 0; i < r->p.nsample_type; i++)
        if (strcmp(str(r, r->p.sample_type[i].type), name) == 0)
            return (int)i;
    return -1;
}

static void list_types(const reader *r, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->p.nsample_type && off + 1 < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%zu=%s", i ? ", " : "", i,
                         str(r, r->p.sample_type[i].type));
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

static int default_index(const reader *r)
{
    int i = r->p.default_sample_type ? find_type(r, str(r, r->p.default_sample_type)) : -1;
    return i >= 0 ? i : (int)r->p.nsample_type - 1;
}

static int select_index(reader *r, const char *cmd, const char *spec, int i)
{
    if (i < 0) {
        char types[512];
        list_types(r, types, sizeof types);
        tool_error(cmd, "%s: no sample type '%s' (it has %s)", r->path, spec, types);
        return -1;
    }
    r->index = (size_t)i;
    r->type = str(r, r->p.sample_type[i].type);
    r->unit = str(r, r->p.sample_type[i].unit);
    return 0;
}

int reader_select(reader *r, const char *cmd, const char *spec)
{
    int64_t num;
    if (!spec)
        return select_index(r, cmd, spec, default_index(r));
    if (parse_int64(spec, 0, (int64_t)r->p.nsample_type - 1, &num) == 0)
        return select_index(r, cmd, spec, (int)num);
    return select_index(r, cmd, spec, find_type(r, spec));
}

int reader_select_name(reader *r, const char *cmd, const char *name)
{
    return select_index(r, cmd, name, find_type(r, name));
}

size_t reader_stack(reader *r, size_t i, const frame **out)
{
    const mprof_pprof_sample *s = &r->p.sample[i];
    size_t n = 0;
    for (size_t j = 0; j < s->nlocation_id; j++) {
        const loc_frames *lf = frames_of(r, s->location_id[j]);
        if (!lf)
            continue;
        xgrow(&r->stack, &r->stack_cap, n + lf->n, sizeof *r->stack);
        memcpy(r->stack + n, lf->f, lf->n * sizeof *lf->f);
        n += lf->n;
    }
    *out = r->stack;
    return n;
}

const char *reader_binary(const reader *r)
{
    if (r->p.nmapping == 0)
        return NULL;
    const char *f = str(r, r->p.mapping[0].filename);
    const char *slash = strrchr(f, '/');
    return *f ? (slash ? slash + 1 : f) : NULL;
}

void reader_close(reader *r)
{
    free(r->loc_mem);
    free(r->locs);
    for (size_t i = 0; r->map_names && i < r->p.nmapping; i++)
        free(r->map_names[i]);
    free(r->map_names);
    free(r->stack);
    mprof_pprof_free(&r->p);
    memset(r, 0, sizeof *r);
}
