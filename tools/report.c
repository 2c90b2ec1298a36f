/*
 * report.c: `mprof top` and `mprof diff`: values aggregated by function,
 * as `pprof -top` (function granularity) does.
 *
 * A function is a (name, file) pair. flat is the value of the samples whose
 * leaf frame is the function; cum the value of the samples that have the
 * function anywhere on their stack, counted once per sample however deep
 * the recursion. diff adds the old profile's samples negated, which is what
 * `pprof -diff_base` does, so a row is the function's growth.
 *
 * Each row also names the line of the function that carries most of its
 * value (its own allocation call for a leaf, the call site of its heaviest
 * callee otherwise), so "where" is one look away.
 */
#include "idxmap.h"
#include "reader.h"
#include "tool.h"
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fline {
    int64_t line, flat, cum;
} fline;

typedef struct fnode {
    const char *name, *file;
    int64_t flat, cum;
    size_t stamp; /* the last sample that added to cum */
    fline *lines;
    size_t nlines, cap;
} fnode;

typedef struct table {
    fnode *n;
    size_t len, cap;
    idxmap map;
    size_t stamp;
} table;

typedef struct key {
    const char *name, *file;
} key;

/* Profiles are untrusted: their sums must not overflow into nonsense (or
 * undefined behaviour); they saturate instead. */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_add_overflow(a, b, &r))
        return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

static int64_t sat_neg(int64_t v)
{
    return v == INT64_MIN ? INT64_MAX : -v;
}

static uint64_t key_hash(const char *name, const char *file)
{
    return idxmap_hash_str(idxmap_hash_str(IDXMAP_SEED, name), file);
}

static uint64_t node_hash(size_t idx, void *ctx)
{
    const table *t = ctx;
    return key_hash(t->n[idx].name, t->n[idx].file);
}

static bool node_eq(size_t idx, const void *k, void *ctx)
{
    const table *t = ctx;
    const key *key = k;
    return strcmp(t->n[idx].name, key->name) == 0 &&
           strcmp(t->n[idx].file, key->file) == 0;
}

static void table_init(table *t)
{
    memset(t, 0, sizeof *t);
    idxmap_init(&t->map, (idxmap_ops){node_hash, node_eq}, t);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->len; i++)
        free(t->n[i].lines);
    free(t->n);
    idxmap_free(&t->map);
}

static fnode *node_of(table *t, const frame *f)
{
    key k = {f->name, f->file};
    uint64_t h = key_hash(f->name, f->file);
    size_t i = idxmap_get(&t->map, h, &k);
    if (i != SIZE_MAX)
        return &t->n[i];
    xgrow(&t->n, &t->cap, t->len + 1, sizeof *t->n);
    t->n[t->len] = (fnode){.name = f->name, .file = f->file, .stamp = SIZE_MAX};
    idxmap_put(&t->map, h, t->len);
    return &t->n[t->len++];
}

static fline *line_of(fnode *n, int64_t line)
{
    for (size_t i = 0; i < n->nlines; i++)
        if (n->lines[i].line == line)
            return &n->lines[i];
    xgrow(&n->lines, &n->cap, n->nlines + 1, sizeof *n->lines);
    n->lines[n->nlines] = (fline){.line = line};
    return &n->lines[n->nlines++];
}

static void add_sample(table *t, const frame *f, size_t nf, int64_t v)
{
    t->stamp++;
    for (size_t j = 0; j < nf; j++) {
        fnode *n = node_of(t, &f[j]);
        if (j == 0) {
            n->flat = sat_add(n->flat, v);
            fline *l = line_of(n, f[j].line);
            l->flat = sat_add(l->flat, v);
        }
        if (n->stamp == t->stamp)
            continue; /* recursion: once per sample */
        n->stamp = t->stamp;
        n->cum = sat_add(n->cum, v);
        fline *l = line_of(n, f[j].line);
        l->cum = sat_add(l->cum, v);
    }
}

/* Adds sign * each sample of r; returns the sum of |value|. */
static int64_t table_add(table *t, reader *r, int sign)
{
    int64_t total = 0;
    for (size_t i = 0; i < r->p.nsample; i++) {
        int64_t v = reader_value(r, i);
        if (v == 0)
            continue;
        total = sat_add(total, v < 0 ? sat_neg(v) : v);
        const frame *f;
        size_t nf = reader_stack(r, i, &f);
        if (nf)
            add_sample(t, f, nf, sign < 0 ? sat_neg(v) : v);
    }
    return total;
}

static int64_t mag(int64_t v)
{
    return v < 0 ? sat_neg(v) : v;
}

/* The line that carries most of the function's flat value, else cum. */
static int64_t main_line(const fnode *n)
{
    const fline *best = NULL;
    for (size_t i = 0; i < n->nlines; i++) {
        const fline *l = &n->lines[i];
        int64_t w = n->flat ? mag(l->flat) : mag(l->cum);
        int64_t bw = !best ? -1 : n->flat ? mag(best->flat) : mag(best->cum);
        if (w > bw)
            best = l;
    }
    return best ? best->line : 0;
}

/* ---- sorting and printing ---- */

static bool by_cum;

static int cmp_i64_desc(int64_t a, int64_t b)
{
    return (a < b) - (a > b);
}

static int cmp_rows(const void *a, const void *b)
{
    const fnode *x = *(fnode *const *)a, *y = *(fnode *const *)b;
    int c = by_cum ? cmp_i64_desc(x->cum, y->cum) : cmp_i64_desc(x->flat, y->flat);
    if (!c)
        c = by_cum ? cmp_i64_desc(x->flat, y->flat) : cmp_i64_desc(x->cum, y->cum);
    if (!c)
        c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->file, y->file);
}

typedef struct report_opts {
    const char *sample_index;
    bool cum, raw;
    int64_t rows; /* 0 = all */
} report_opts;

static double pct(int64_t v, int64_t total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void print_row(const fnode *n, int64_t total, int64_t *sum,
                      const char *unit, bool sign, bool raw)
{
    char flat[UNITS_BUF], cum[UNITS_BUF];
    *sum = sat_add(*sum, n->flat);
    printf("%10s %6.2f%% %6.2f%% %10s %6.2f%%  %s",
           units_format(flat, sizeof flat, n->flat, unit, sign, raw), pct(n->flat, total),
           pct(*sum, total), units_format(cum, sizeof cum, n->cum, unit, sign, raw),
           pct(n->cum, total), n->name);
    int64_t line = main_line(n);
    if (*n->file && line > 0)
        printf(" %s:%lld", n->file, (long long)line);
    else if (*n->file)
        printf(" %s", n->file);
    putchar('\n');
}

/* Rows with a value, sorted; *nrows of them. */
static fnode **rows_of(const table *t, bool cum, size_t *nrows)
{
    fnode **rows = xcalloc(t->len, sizeof(fnode *));
    size_t n = 0;
    for (size_t i = 0; i < t->len; i++)
        if (t->n[i].flat || t->n[i].cum)
            rows[n++] = &t->n[i];
    by_cum = cum;
    qsort(rows, n, sizeof(fnode *), cmp_rows);
    *nrows = n;
    return rows;
}

static void print_table(const table *t, const report_opts *o, int64_t total,
                        const char *unit, bool sign)
{
    size_t n, shown;
    fnode **rows = rows_of(t, o->cum, &n);
    shown = o->rows > 0 && (uint64_t)o->rows < n ? (size_t)o->rows : n;
    int64_t flat_shown = 0;
    for (size_t i = 0; i < shown; i++)
        flat_shown = sat_add(flat_shown, rows[i]->flat);
    char a[UNITS_BUF], b[UNITS_BUF];
    printf("Showing functions accounting for %s, %.2f%% of %s total\n",
           units_format(a, sizeof a, flat_shown, unit, sign, o->raw),
           pct(flat_shown, total), units_format(b, sizeof b, total, unit, false, o->raw));
    if (shown < n)
        printf("Showing top %zu functions out of %zu (-n 0 shows all)\n", shown, n);
    printf("%10s %7s %7s %10s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%",
           "function file:line");
    int64_t sum = 0;
    for (size_t i = 0; i < shown; i++)
        print_row(rows[i], total, &sum, unit, sign, o->raw);
    free(rows);
}

/* ---- options ---- */

static const tool_opt report_opts_list[] = {
    {"--sample-index", true}, {"--cum", false}, {"-n", true}, {"--raw", false},
    {NULL, false},
};

/* Parses the options into o and the operands into files[want]. */
static int parse_report_args(int argc, char **argv, report_opts *o,
                             const char **files, int want)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const char *cmd = argv[0], *val;
    const tool_opt *opt;
    int nfiles = 0, k;
    *o = (report_opts){.rows = 20};
    while ((k = tool_args_next(&a, cmd, report_opts_list, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return tool_usage(cmd);
        if (k == ARG_OPERAND) {
            if (nfiles == want) {
                tool_error(cmd, "unexpected argument '%s'", val);
                return tool_usage(cmd);
            }
            files[nfiles++] = val;
        } else if (!strcmp(opt->name, "--sample-index")) {
            o->sample_index = val;
        } else if (!strcmp(opt->name, "--cum")) {
            o->cum = true;
        } else if (!strcmp(opt->name, "--raw")) {
            o->raw = true;
        } else if (parse_int64(val, 0, INT64_MAX, &o->rows) < 0) {
            tool_error(cmd, "-n wants a whole number >= 0, not '%s'", val);
            return tool_usage(cmd);
        }
    }
    if (nfiles != want) {
        tool_error(cmd, "expected %d file%s", want, want > 1 ? "s" : "");
        return tool_usage(cmd);
    }
    return 0;
}

/* ---- top ---- */

int cmd_top(int argc, char **argv)
{
    report_opts o;
    const char *file;
    if (parse_report_args(argc, argv, &o, &file, 1))
        return EXIT_BAD_INPUT;
    reader r;
    if (reader_open(&r, "top", file) < 0)
        return EXIT_BAD_INPUT;
    if (o.sample_index && reader_select(&r, "top", o.sample_index) < 0) {
        reader_close(&r);
        return EXIT_BAD_INPUT;
    }
    table t;
    table_init(&t);
    int64_t total = table_add(&t, &r, 1);
    const char *bin = reader_binary(&r);
    if (bin)
        printf("File: %s\n", bin);
    printf("Type: %s\n", r.type);
    print_table(&t, &o, total, r.unit, false);
    table_free(&t);
    reader_close(&r);
    return 0;
}

/* ---- diff ---- */

/* The same sample type (by name) in both, of the same unit. */
static int select_same(reader *old, reader *new, const char *spec)
{
    if (spec && reader_select(old, "diff", spec) < 0)
        return -1;
    if (reader_select(new, "diff", old->type) < 0)
        return -1;
    if (strcmp(old->unit, new->unit) != 0) {
        tool_error("diff", "%s measures %s in %s but %s in %s", old->path,
                   old->type, old->unit, new->path, new->unit);
        return -1;
    }
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    report_opts o;
    const char *files[2] = {NULL, NULL};
    if (parse_report_args(argc, argv, &o, files, 2))
        return EXIT_BAD_INPUT;
    reader old, new;
    if (reader_open(&old, "diff", files[0]) < 0)
        return EXIT_BAD_INPUT;
    if (reader_open(&new, "diff", files[1]) < 0) {
        reader_close(&old);
        return EXIT_BAD_INPUT;
    }
    int rc = EXIT_BAD_INPUT;
    if (select_same(&old, &new, o.sample_index) == 0) {
        table t;
        table_init(&t);
        int64_t old_total = table_add(&t, &old, -1);
        int64_t new_total = table_add(&t, &new, 1);
        char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
        printf("Type: %s\n", old.type);
        printf("Old: %s (total %s)\nNew: %s (total %s)\nChange: %s\n", old.path,
               units_format(a, sizeof a, old_total, old.unit, false, o.raw), new.path,
               units_format(b, sizeof b, new_total, old.unit, false, o.raw),
               units_format(c, sizeof c, sat_add(new_total, sat_neg(old_total)), old.unit,
                            true, o.raw));
        /* Percentages of the base, as pprof -diff_base shows them. */
        print_table(&t, &o, old_total ? old_total : new_total, old.unit, true);
        table_free(&t);
        rc = 0;
    }
    reader_close(&old);
    reader_close(&new);
    return rc;
}
