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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sums of int64 sample values, exact whatever the order of the samples
 * (a hostile profile can hold INT64_MIN and INT64_MAX); clamped to int64
 * only when shown. */
typedef __int128 acc;

static int64_t clamp64(acc v)
{
    return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

static acc mag(acc v)
{
    return v < 0 ? -v : v;
}

/* One line of one function: what it carries, to name the main line. */
typedef struct fline {
    size_t node;
    int64_t line;
    acc flat, cum;
} fline;

typedef struct fnode {
    const char *name, *file;
    acc flat, cum;
    size_t stamp;      /* the last sample that added to cum */
    int64_t main_line; /* set by find_main_lines */
    acc main_weight;
} fnode;

typedef struct table {
    fnode *n;
    size_t len, cap;
    idxmap map; /* (name, file) -> n[] */
    fline *l;
    size_t nl, lcap;
    idxmap lmap; /* (node, line) -> l[] */
    size_t stamp;
} table;

typedef struct key {
    const char *name, *file;
} key;

typedef struct line_key {
    size_t node;
    int64_t line;
} line_key;

static uint64_t key_hash(const char *name, const char *file)
{
    return idxmap_hash_str(idxmap_hash_str(IDXMAP_SEED, name), file);
}

static uint64_t line_hash(size_t node, int64_t line)
{
    return idxmap_hash_u64(idxmap_hash_u64(IDXMAP_SEED, node), (uint64_t)line);
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

static uint64_t fline_hash(size_t idx, void *ctx)
{
    const table *t = ctx;
    return line_hash(t->l[idx].node, t->l[idx].line);
}

static bool fline_eq(size_t idx, const void *k, void *ctx)
{
    const table *t = ctx;
    const line_key *key = k;
    return t->l[idx].node == key->node && t->l[idx].line == key->line;
}

static void table_init(table *t)
{
    memset(t, 0, sizeof *t);
    idxmap_init(&t->map, (idxmap_ops){node_hash, node_eq}, t);
    idxmap_init(&t->lmap, (idxmap_ops){fline_hash, fline_eq}, t);
}

static void table_free(table *t)
{
    free(t->n);
    free(t->l);
    idxmap_free(&t->map);
    idxmap_free(&t->lmap);
}

static size_t node_of(table *t, const frame *f)
{
    key k = {f->name, f->file};
    uint64_t h = key_hash(f->name, f->file);
    size_t i = idxmap_get(&t->map, h, &k);
    if (i != SIZE_MAX)
        return i;
    xgrow(&t->n, &t->cap, t->len + 1, sizeof *t->n);
    t->n[t->len] = (fnode){.name = f->name, .file = f->file, .stamp = SIZE_MAX};
    idxmap_put(&t->map, h, t->len);
    return t->len++;
}

static fline *line_of(table *t, size_t node, int64_t line)
{
    line_key k = {node, line};
    uint64_t h = line_hash(node, line);
    size_t i = idxmap_get(&t->lmap, h, &k);
    if (i != SIZE_MAX)
        return &t->l[i];
    xgrow(&t->l, &t->lcap, t->nl + 1, sizeof *t->l);
    t->l[t->nl] = (fline){.node = node, .line = line};
    idxmap_put(&t->lmap, h, t->nl);
    return &t->l[t->nl++];
}

static void add_sample(table *t, const frame *f, size_t nf, acc v)
{
    t->stamp++;
    for (size_t j = 0; j < nf; j++) {
        size_t i = node_of(t, &f[j]);
        fnode *n = &t->n[i];
        if (j == 0) {
            n->flat += v;
            line_of(t, i, f[j].line)->flat += v;
        }
        if (n->stamp == t->stamp)
            continue; /* recursion: once per sample */
        n->stamp = t->stamp;
        n->cum += v;
        line_of(t, i, f[j].line)->cum += v;
    }
}

/* Adds sign * each sample of r; returns the sum of |value|. */
static acc table_add(table *t, reader *r, int sign)
{
    acc total = 0;
    for (size_t i = 0; i < r->p.nsample; i++) {
        acc v = reader_value(r, i);
        if (v == 0)
            continue;
        total += mag(v);
        const frame *f;
        size_t nf = reader_stack(r, i, &f);
        if (nf)
            add_sample(t, f, nf, sign < 0 ? -v : v);
    }
    return total;
}

/* Each function's main line: the one that carries most of its flat value,
 * else of its cum. */
static void find_main_lines(table *t)
{
    for (size_t i = 0; i < t->len; i++)
        t->n[i].main_weight = -1;
    for (size_t i = 0; i < t->nl; i++) {
        const fline *l = &t->l[i];
        fnode *n = &t->n[l->node];
        acc w = n->flat ? mag(l->flat) : mag(l->cum);
        if (w > n->main_weight) {
            n->main_weight = w;
            n->main_line = l->line;
        }
    }
}

/* ---- sorting and printing ---- */

/* As pprof -top: by |flat| (|cum| with --cum), then name, then the other.
 * diff ranks by the signed value instead: growth first, for leak hunting. */
static bool by_cum, by_sign;

static int cmp_desc(acc a, acc b)
{
    if (!by_sign) {
        a = mag(a);
        b = mag(b);
    }
    return (a < b) - (a > b);
}

static int cmp_rows(const void *a, const void *b)
{
    const fnode *x = *(fnode *const *)a, *y = *(fnode *const *)b;
    int c = by_cum ? cmp_desc(x->cum, y->cum) : cmp_desc(x->flat, y->flat);
    if (!c)
        c = strcmp(x->name, y->name);
    if (!c)
        c = by_cum ? cmp_desc(x->flat, y->flat) : cmp_desc(x->cum, y->cum);
    return c ? c : strcmp(x->file, y->file);
}

typedef struct report_opts {
    const char *sample_index;
    bool cum, raw;
    int64_t rows; /* 0 = all */
} report_opts;

static double pct(acc v, acc total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

/* Names come from the profile: a control character (a newline faking a
 * row, an escape sequence for the terminal) is shown as \xNN. */
static void put_clean(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static void print_row(const fnode *n, acc total, acc *sum, const char *unit,
                      bool sign, bool raw)
{
    char flat[UNITS_BUF], cum[UNITS_BUF];
    *sum += n->flat;
    printf("%10s %6.2f%% %6.2f%% %10s %6.2f%%  ",
           units_format(flat, sizeof flat, clamp64(n->flat), unit, sign, raw),
           pct(n->flat, total), pct(*sum, total),
           units_format(cum, sizeof cum, clamp64(n->cum), unit, sign, raw),
           pct(n->cum, total));
    put_clean(n->name);
    if (*n->file) {
        putchar(' ');
        put_clean(n->file);
        if (n->main_line > 0)
            printf(":%lld", (long long)n->main_line);
    }
    putchar('\n');
}

/* Rows with a value, sorted; *nrows of them. */
static fnode **rows_of(table *t, bool cum, bool sign, size_t *nrows)
{
    find_main_lines(t);
    fnode **rows = xcalloc(t->len, sizeof(fnode *));
    size_t n = 0;
    for (size_t i = 0; i < t->len; i++)
        if (t->n[i].flat || t->n[i].cum)
            rows[n++] = &t->n[i];
    by_cum = cum;
    by_sign = sign;
    qsort(rows, n, sizeof(fnode *), cmp_rows);
    *nrows = n;
    return rows;
}

static void print_table(table *t, const report_opts *o, acc total,
                        const char *unit, bool sign)
{
    size_t n, shown;
    fnode **rows = rows_of(t, o->cum, sign, &n);
    shown = o->rows > 0 && (uint64_t)o->rows < n ? (size_t)o->rows : n;
    acc flat_shown = 0;
    for (size_t i = 0; i < shown; i++)
        flat_shown += rows[i]->flat;
    char a[UNITS_BUF], b[UNITS_BUF];
    printf("Showing functions accounting for %s, %.2f%% of %s total\n",
           units_format(a, sizeof a, clamp64(flat_shown), unit, sign, o->raw),
           pct(flat_shown, total),
           units_format(b, sizeof b, clamp64(total), unit, false, o->raw));
    if (shown < n)
        printf("Showing top %zu functions out of %zu (-n 0 shows all)\n", shown, n);
    printf("%10s %7s %7s %10s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%",
           "function file:line");
    acc sum = 0;
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

/*
 * Under the table, once: the modules whose code without symbols holds a
 * tenth or more of the total in its own (flat) value, with their build IDs,
 * so that the user can fetch the debug symbols (Debian's stripped binaries:
 * python3, postgres, git... show mostly "[binary]" otherwise).
 */
static void note_missing_symbols(reader *r, acc total)
{
    size_t n = r->p.nmapping;
    if (n == 0 || total == 0)
        return;
    acc *flat = xcalloc(n, sizeof *flat);
    for (size_t i = 0; i < r->p.nsample; i++) {
        const frame *f;
        if (reader_stack(r, i, &f) && f[0].mapping >= 0)
            flat[f[0].mapping] += mag(reader_value(r, i));
    }
    bool said = false;
    for (size_t m = 0; m < n; m++) {
        if (flat[m] * 10 < total)
            continue;
        const char *path = mprof_pprof_string(&r->p, r->p.mapping[m].filename);
        const char *id = mprof_pprof_string(&r->p, r->p.mapping[m].build_id);
        if (!said)
            fputs("\n", stdout);
        said = true;
        printf("note: %.0f%% of %s is in code of %s without symbols",
               100.0 * (double)flat[m] / (double)total, r->type, path);
        if (*id)
            printf(" (build ID %s)", id);
        printf(";\n      install its debug symbols to see functions there: the -dbg or\n"
               "      -dbgsym package (find-dbgsym-packages %s), or\n"
               "      debuginfod-find debuginfo %s\n", path, *id ? id : "BUILD_ID");
    }
    free(flat);
}

int cmd_top(int argc, char **argv)
{
    report_opts o;
    const char *file = NULL;
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
    acc total = table_add(&t, &r, 1);
    const char *bin = reader_binary(&r);
    if (bin) {
        fputs("File: ", stdout);
        put_clean(bin);
        putchar('\n');
    }
    fputs("Type: ", stdout);
    put_clean(r.type);
    putchar('\n');
    print_table(&t, &o, total, r.unit, false);
    note_missing_symbols(&r, total);
    table_free(&t);
    reader_close(&r);
    return tool_stdout_status("top");
}

/* ---- diff ---- */

/* The same sample type (by name) in both, of the same unit. */
static int select_same(reader *old, reader *new, const char *spec)
{
    if (spec && reader_select(old, "diff", spec) < 0)
        return -1;
    if (reader_select_name(new, "diff", old->type) < 0)
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
        acc old_total = table_add(&t, &old, -1);
        acc new_total = table_add(&t, &new, 1);
        char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
        fputs("Type: ", stdout);
        put_clean(old.type);
        putchar('\n');
        printf("Old: %s (total %s)\nNew: %s (total %s)\nChange: %s\n", old.path,
               units_format(a, sizeof a, clamp64(old_total), old.unit, false, o.raw), new.path,
               units_format(b, sizeof b, clamp64(new_total), old.unit, false, o.raw),
               units_format(c, sizeof c, clamp64(new_total - old_total), old.unit, true, o.raw));
        /* Percentages of the base, as pprof -diff_base shows them. */
        print_table(&t, &o, old_total ? old_total : new_total, old.unit, true);
        table_free(&t);
        rc = tool_stdout_status("diff");
    }
    reader_close(&old);
    reader_close(&new);
    return rc;
}
