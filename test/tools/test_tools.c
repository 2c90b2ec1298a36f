/*
 * test_tools: the mprof command (tools/) end to end.
 *
 * Profiles come from the test programs, whose truth is known (sites,
 * test/tools/grow, test/locks/contention), from a Go program written and
 * run at test time, and from profiles built here with
 * core/'s encoder when a test needs names or shapes no program makes.
 * `go tool pprof -top` is the reference for `mprof top`; xmllint (else
 * python3) checks that flame graphs are well-formed XML, node runs their
 * script.  A test that needs one of these programs fails when it is
 * missing (Check has no "skipped", and `make deps` installs them all).
 * Each test works in build/test/tools/work/<test>, left in place for
 * inspection.  One test: CK_RUN_CASE=<name>.
 */
#include "config.h"
#include "harness.h"
#include "pprof.h"
#include "publish.h"
#include "units.h"

#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TOOLS_TEST_SRC
#error "TOOLS_TEST_SRC (absolute path of test/tools) must be defined"
#endif

#define MAX_ROWS 512
#define MAX_TRUTHS 32

/* ---- paths and running ---- */

static const char *build_dir(void)
{
    const char *b = getenv("MPROF_TEST_BUILD");
    return b && *b ? b : IT_BUILD_DIR;
}

static const char *bpath(const char *rel)
{
    static char bufs[16][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, PATH_MAX, "%s/%s", build_dir(), rel);
    return p;
}

static const char *tool(void) { return bpath("mprof"); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    chmod(path, 0755);
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* A fresh, empty build/test/tools/work/<name>. */
static const char *fresh_dir(const char *name)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *dir = bufs[next++ % 4];
    snprintf(dir, PATH_MAX, "%s/test/tools/work/%s", build_dir(), name);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    ck_assert_msg(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
    return dir;
}

static const char *join(const char *dir, const char *name)
{
    static char bufs[16][PATH_MAX];
    static int next;
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
    ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s/%s", dir, name);
    char *p = bufs[next++ % 16];
    memcpy(p, tmp, (size_t)n + 1);
    return p;
}

/* Run argv (NULL-terminated) without the profiler, in cwd (may be NULL),
 * with extra environment entries env (NULL-terminated, may be NULL). */
static void run_argv(run *r, const char *cwd, const char *const *env,
                     const char *const *argv)
{
    run_spec s = {.cwd = cwd, .no_preload = true};
    for (int i = 0; argv[i]; i++) {
        ck_assert_int_lt(i, RUN_MAX_ARGS - 1);
        s.argv[i] = argv[i];
    }
    for (int i = 0; env && env[i]; i++) {
        ck_assert_int_lt(i, RUN_MAX_ENV - 1);
        s.env[i] = env[i];
    }
    run_checked(r, &s);
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define MPROF(r, ...) run_argv((r), NULL, NULL, ARGV(tool(), __VA_ARGS__))

static void expect_code(const run *r, int code, const char *what)
{
    ck_assert_msg(run_exit_code(r) == code,
                  "%s: exit status %d, expected %d\nstdout:\n%.3000s\nstderr:\n%.3000s",
                  what, run_exit_code(r), code, r->out.s, r->err.s);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static bool have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* A test without its reference program would check nothing and pass: it
 * fails instead, naming the Debian package that `make deps` installs. */
static void require_program(const char *name, const char *package)
{
    ck_assert_msg(have_program(name), "`%s` is not on PATH, and this test needs it "
                  "(make deps installs %s)", name, package);
}

/* ---- fixtures: profiles made once per test run ---- */

static const char *fixture_dir(void)
{
    static char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/test/tools/work/fixtures", build_dir());
    return dir;
}

/* The only file of `kind` in dir. */
static const char *only_file(const char *dir, const char *suffix)
{
    strbuf names = {0};
    dir_entries(dir, &names);
    static char path[8][PATH_MAX];
    static int next;
    char *found = NULL;
    for (char *l = names.s, *e; l && *l; l = e + 1) {
        e = strchr(l, '\n');
        *e = '\0';
        size_t n = strlen(l), sl = strlen(suffix);
        if (n > sl && !strcmp(l + n - sl, suffix)) {
            ck_assert_msg(!found, "two %s files in %s", suffix, dir);
            found = path[next++ % 8];
            snprintf(found, PATH_MAX, "%s/%s", dir, l);
        }
    }
    sb_free(&names);
    ck_assert_msg(found, "no %s file in %s", suffix, dir);
    return found;
}

/* sites with every allocation sampled: exact truth. */
static const char *sites_heap(truth *t, int *nt)
{
    const char *dir = join(fixture_dir(), "sites");
    static strbuf out;
    if (access(dir, F_OK) != 0) {
        mkdir(dir, 0755);
        run r;
        run_spec s = {.argv = {h_prog("sites"), "--div", "10"},
                      .env = {"MPROF_MEM_RATE=1"}, .cwd = dir};
        run_checked(&r, &s);
        expect_code(&r, 0, "sites");
        FILE *f = fopen(join(dir, "truth.txt"), "w");
        fputs(r.out.s, f);
        fclose(f);
        run_free(&r);
    }
    if (t) {
        FILE *f = fopen(join(dir, "truth.txt"), "r");
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        sb_free(&out);
        sb_append(&out, buf, n);
        *nt = truths_parse(out.s, t, MAX_TRUTHS);
        ck_assert_int_ge(*nt, 8);
    }
    return only_file(dir, ".heap.pb.gz");
}

/* contention's mutex phase, every wait recorded. */
static const char *contention_file(const char *kind)
{
    const char *dir = join(fixture_dir(), "contention");
    if (access(dir, F_OK) != 0) {
        mkdir(dir, 0755);
        run r;
        run_spec s = {.argv = {bpath("test/locks/contention"), "mutex", "10"},
                      .env = {"MPROF_BLOCK_RATE=1", "MPROF_MUTEX_FRACTION=1"},
                      .cwd = dir};
        run_checked(&r, &s);
        expect_code(&r, 0, "contention");
        run_free(&r);
    }
    return only_file(dir, kind);
}

/* ---- reading mprof's and pprof's tables ---- */

typedef struct row {
    char name[512];
    char loc[512]; /* file:line */
    long long flat, cum;
} row;

/* Rows of `mprof top --raw` / `mprof diff --raw` output. */
static int mprof_rows(const char *out, row *rows, int max)
{
    const char *l = strstr(out, "\n      flat");
    ck_assert_msg(l, "no table header in:\n%s", out);
    l = strchr(l + 1, '\n');
    int n = 0;
    while (l && *++l && n < max) {
        row *r = &rows[n];
        char fp[32], sp[32], cp[32];
        int used = 0;
        memset(r, 0, sizeof *r);
        if (sscanf(l, "%lld %31s %31s %lld %31s %511s%n", &r->flat, fp, sp, &r->cum,
                   cp, r->name, &used) != 6)
            break;
        sscanf(l + used, " %511[^\n]", r->loc);
        n++;
        l = strchr(l, '\n');
    }
    return n;
}

static const row *row_find(const row *rows, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name))
            return &rows[i];
    return NULL;
}

/* "4096000B", "30278522ns", "1000" -> the number. */
static long long pprof_value(const char *tok)
{
    return strtoll(tok, NULL, 10);
}

/* Rows of `pprof -top`, names without " (inline)", same names summed. */
static int pprof_rows(const char *out, row *rows, int max)
{
    const char *l = strstr(out, "\n      flat  flat%");
    ck_assert_msg(l, "no table in pprof output:\n%s", out);
    l = strchr(l + 1, '\n');
    int n = 0;
    while (l && *++l) {
        char f[64], fp[32], sp[32], c[64], cp[32], name[512] = "";
        int used = 0;
        if (sscanf(l, "%63s %31s %31s %63s %31s %n", f, fp, sp, c, cp, &used) != 5)
            break;
        sscanf(l + used, "%511[^\n]", name);
        char *inl = strstr(name, " (inline)");
        if (inl)
            *inl = '\0';
        row *r = (row *)row_find(rows, n, name);
        if (!r) {
            ck_assert_int_lt(n, max);
            r = &rows[n++];
            memset(r, 0, sizeof *r);
            snprintf(r->name, sizeof r->name, "%s", name);
        }
        r->flat += pprof_value(f);
        r->cum += pprof_value(c);
        l = strchr(l, '\n');
    }
    return n;
}

/* mprof's rows summed by name (two static functions may share one). */
static int by_name(const row *in, int n, row *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        row *r = (row *)row_find(out, m, in[i].name);
        if (!r) {
            r = &out[m++];
            *r = in[i];
            r->flat = r->cum = 0;
        }
        r->flat += in[i].flat;
        r->cum += in[i].cum;
    }
    return m;
}

static void mprof_top_rows(const char *file, const char *index, row *rows, int *n)
{
    run r;
    MPROF(&r, "top", file, "--raw", "-n", "0", "--sample-index", index);
    expect_code(&r, 0, "mprof top");
    *n = mprof_rows(r.out.s, rows, MAX_ROWS);
    run_free(&r);
}

/* "file:line" as a report shows it (absolute, as the debug info joins it
 * with the compilation directory) against a program's __FILE__ (relative
 * to where it was compiled). */
static bool same_place(const char *got, const char *want)
{
    size_t g = strlen(got), w = strlen(want);
    return g >= w && !strcmp(got + g - w, want) && (g == w || got[g - w - 1] == '/');
}

/* `mprof top` and `go tool pprof -top` on one file and sample type: the
 * same functions with the same flat and cum values. Both read the file as
 * `mprof symbolize` completes it (the README's way to other readers). */
static void agree_with_pprof(const char *orig, const char *index, const char *unit)
{
    static char file[1100];
    snprintf(file, sizeof file, "%s.symbolized.pb.gz", orig);
    run sy;
    MPROF(&sy, "symbolize", orig, "-o", file);
    expect_code(&sy, 0, "mprof symbolize");
    run_free(&sy);
    static row mine[MAX_ROWS], theirs[MAX_ROWS], named[MAX_ROWS];
    int nm, nt;
    mprof_top_rows(file, index, mine, &nm);
    nm = by_name(mine, nm, named);
    char si[64], un[32];
    snprintf(si, sizeof si, "-sample_index=%s", index);
    snprintf(un, sizeof un, "-unit=%s", unit);
    run r;
    run_argv(&r, NULL, NULL, ARGV("go", "tool", "pprof", "-symbolize=none", "-top",
                                  "-nodefraction=0", "-nodecount=100000", si, un, file));
    expect_code(&r, 0, "go tool pprof -top");
    nt = pprof_rows(r.out.s, theirs, MAX_ROWS);
    ck_assert_msg(nt > 0, "pprof shows no rows for %s %s:\n%s", file, index, r.out.s);
    int compared = 0;
    for (int i = 0; i < nt; i++) {
        const row *a = &theirs[i], *b = row_find(named, nm, a->name);
        if (a->flat == 0 && a->cum == 0)
            continue;
        ck_assert_msg(b, "%s %s: pprof shows %s (flat %lld cum %lld), mprof top does not",
                      file, index, a->name, a->flat, a->cum);
        ck_assert_msg(a->flat == b->flat && a->cum == b->cum,
                      "%s %s: %s: pprof flat %lld cum %lld, mprof flat %lld cum %lld",
                      file, index, a->name, a->flat, a->cum, b->flat, b->cum);
        compared++;
    }
    for (int i = 0; i < nm; i++)
        ck_assert_msg(row_find(theirs, nt, named[i].name),
                      "%s %s: mprof shows %s, pprof does not", file, index, named[i].name);
    ck_assert_int_gt(compared, 3);
    run_free(&r);
}

/* ---- profiles built here ---- */

#define SYN_MAX 20000

/* One function per location, location id = function id = index + 1. */
typedef struct synth {
    mprof_pprof_profile p;
    mprof_pprof_line lines[SYN_MAX];
    uint64_t ids[SYN_MAX];
    int64_t values[SYN_MAX][2];
    size_t nids;
} synth;

static int64_t syn_str(synth *s, const char *str)
{
    for (size_t i = 0; i < s->p.nstring_table; i++)
        if (!strcmp(s->p.string_table[i].s, str))
            return (int64_t)i;
    s->p.string_table[s->p.nstring_table] = (mprof_pprof_str){strdup(str), strlen(str)};
    return (int64_t)s->p.nstring_table++;
}

static synth *syn_new(const char *unit)
{
    synth *s = calloc(1, sizeof *s);
    s->p.string_table = calloc(SYN_MAX, sizeof *s->p.string_table);
    s->p.function = calloc(SYN_MAX, sizeof *s->p.function);
    s->p.location = calloc(SYN_MAX, sizeof *s->p.location);
    s->p.sample = calloc(SYN_MAX, sizeof *s->p.sample);
    s->p.sample_type = calloc(2, sizeof *s->p.sample_type);
    syn_str(s, "");
    s->p.sample_type[0] = (mprof_pprof_value_type){syn_str(s, "objects"), syn_str(s, "count")};
    s->p.sample_type[1] = (mprof_pprof_value_type){syn_str(s, "space"), syn_str(s, unit)};
    s->p.nsample_type = 2;
    return s;
}

static uint64_t syn_fn(synth *s, const char *name)
{
    for (size_t i = 0; i < s->p.nfunction; i++)
        if (!strcmp(s->p.string_table[s->p.function[i].name].s, name))
            return s->p.function[i].id;
    size_t i = s->p.nfunction++;
    s->p.function[i] = (mprof_pprof_function){.id = i + 1, .name = syn_str(s, name),
                                              .filename = syn_str(s, "syn.c")};
    s->lines[i] = (mprof_pprof_line){.function_id = i + 1, .line = (int64_t)i + 10};
    s->p.location[i] = (mprof_pprof_location){.id = i + 1, .address = 0x1000 + i,
                                              .line = &s->lines[i], .nline = 1};
    s->p.nlocation++;
    return i + 1;
}

/* A sample of `v` objects/bytes with the stack `names` (leaf first). */
static void syn_sample(synth *s, int64_t v, const char *const *names, size_t n)
{
    ck_assert_uint_lt(s->nids + n, SYN_MAX);
    mprof_pprof_sample *smp = &s->p.sample[s->p.nsample];
    smp->location_id = &s->ids[s->nids];
    for (size_t i = 0; i < n; i++)
        s->ids[s->nids++] = syn_fn(s, names[i]);
    smp->nlocation_id = n;
    smp->value = s->values[s->p.nsample];
    smp->value[0] = 1;
    smp->value[1] = v;
    smp->nvalue = 2;
    s->p.nsample++;
}

/* Encoded (gzip when gz) into path. */
static void syn_write(synth *s, const char *path, bool gz)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    ck_assert_int_eq(mprof_pprof_encode(&s->p, &b), 0);
    const void *data = b.buf;
    size_t len = b.len;
    void *z;
    if (gz) {
        ck_assert_int_eq(mprof_gzip(&sc, b.buf, b.len, &z, &len), 0);
        data = z;
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    mprof_scratch_release(&sc);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_gz(const char *path, const void *data, size_t len)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *z;
    size_t zlen;
    ck_assert_int_eq(mprof_gzip(&sc, data, len, &z, &zlen), 0);
    write_bytes(path, z, zlen);
    mprof_scratch_release(&sc);
}

/* The whole file, malloc'd. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The decompressed bytes of a gzip file. */
static char *gunzip_file(const char *path, size_t *len)
{
    size_t zlen;
    char *z = slurp(path, &zlen);
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *raw;
    const char *err;
    ck_assert_int_eq(mprof_gunzip(&sc, z, zlen, 1 << 30, &raw, len, &err), 0);
    char *copy = malloc(*len + 1);
    memcpy(copy, raw, *len);
    mprof_scratch_release(&sc);
    free(z);
    return copy;
}

/* ---- units ---- */

START_TEST(units_format_cases)
{
    static const struct {
        int64_t v;
        const char *unit;
        bool sign, raw;
        const char *want;
    } cases[] = {
        {0, "bytes", false, false, "0"},
        {512, "bytes", false, false, "512B"},
        {1024, "bytes", false, false, "1KiB"},
        {1536, "bytes", false, false, "1.5KiB"},
        {4096000, "bytes", false, false, "3.91MiB"},
        {3145728, "bytes", true, false, "+3MiB"},
        {-160000, "bytes", true, false, "-156KiB"},
        {(int64_t)5 << 30, "bytes", false, false, "5GiB"},
        {999, "nanoseconds", false, false, "999ns"},
        {1500, "nanoseconds", false, false, "1.5us"},
        {30278522, "nanoseconds", false, false, "30.3ms"},
        {12000000000, "nanoseconds", false, false, "12s"},
        {2, "milliseconds", false, false, "2ms"},
        {123456, "count", false, false, "123456"},
        {7, "widgets", true, false, "+7"},
        {4096000, "bytes", false, true, "4096000"},
        {INT64_MIN, "bytes", false, true, "-9223372036854775808"},
        {INT64_MAX, "bytes", false, false, "8EiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UNITS_BUF];
        units_format(buf, sizeof buf, cases[i].v, cases[i].unit, cases[i].sign, cases[i].raw);
        ck_assert_msg(!strcmp(buf, cases[i].want), "%lld %s: '%s', expected '%s'",
                      (long long)cases[i].v, cases[i].unit, buf, cases[i].want);
    }
}
END_TEST

/* ---- top ---- */

static long long truth_value(const truth *t, const char *index)
{
    return !strcmp(index, "alloc_objects") ? t->alloc_n
           : !strcmp(index, "alloc_space") ? t->alloc_b
           : !strcmp(index, "inuse_objects") ? t->inuse_n : t->inuse_b;
}

START_TEST(top_matches_truth)
{
    truth t[MAX_TRUTHS];
    int nt;
    const char *file = sites_heap(t, &nt);
    static const char *types[] = {"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"};
    static row rows[MAX_ROWS];
    for (int k = 0; k < 4; k++) {
        int n;
        mprof_top_rows(file, types[k], rows, &n);
        for (int i = 0; i < nt; i++) {
            const row *r = row_find(rows, n, t[i].site);
            long long want = truth_value(&t[i], types[k]);
            if (want == 0) {
                ck_assert_msg(!r || r->flat == 0, "%s %s: flat %lld, expected 0",
                              types[k], t[i].site, r->flat);
                continue;
            }
            ck_assert_msg(r, "%s: no row for %s", types[k], t[i].site);
            ck_assert_msg(r->flat == want && r->cum == want, "%s %s: flat %lld cum %lld, expected %lld",
                          types[k], t[i].site, r->flat, r->cum, want);
            char loc[512];
            snprintf(loc, sizeof loc, "%s:%ld", t[i].file, t[i].line);
            ck_assert_msg(same_place(r->loc, loc), "%s %s: at '%s', expected '%s'", types[k],
                          t[i].site, r->loc, loc);
        }
    }
}
END_TEST

START_TEST(top_agrees_with_pprof_heap)
{
    require_program("go", "golang-go");
    const char *file = sites_heap(NULL, NULL);
    agree_with_pprof(file, "alloc_objects", "B");
    agree_with_pprof(file, "alloc_space", "B");
    agree_with_pprof(file, "inuse_objects", "B");
    agree_with_pprof(file, "inuse_space", "B");
}
END_TEST

START_TEST(top_agrees_with_pprof_contention)
{
    require_program("go", "golang-go");
    agree_with_pprof(contention_file(".block.pb.gz"), "delay", "ns");
    agree_with_pprof(contention_file(".block.pb.gz"), "contentions", "ns");
    agree_with_pprof(contention_file(".mutex.pb.gz"), "delay", "ns");
}
END_TEST

/* Row names in output order. */
static int row_names(const char *out, char names[][128], int max)
{
    const char *l = strstr(out, "\n      flat");
    ck_assert_ptr_nonnull(l);
    int n = 0;
    for (l = strchr(l + 1, '\n'); l && *++l && n < max; l = strchr(l, '\n')) {
        char a[32], b[32], c[32], d[32], e[32];
        if (sscanf(l, "%31s %31s %31s %31s %31s %127s", a, b, c, d, e, names[n]) == 6)
            n++;
    }
    return n;
}

START_TEST(top_options)
{
    const char *file = sites_heap(NULL, NULL);
    run r;
    /* Default: inuse_space, humanised, biggest first, 20 rows at most. */
    MPROF(&r, "top", file);
    expect_code(&r, 0, "top");
    ck_assert_msg(strstr(r.out.s, "Type: inuse_space\n") && strstr(r.out.s, "MiB") &&
                      strstr(r.out.s, "KiB") && strstr(r.out.s, "File: sites\n"),
                  "%s", r.out.s);
    char names[64][128];
    int n = row_names(r.out.s, names, 64);
    ck_assert_msg(n == 20 && !strcmp(names[0], "site_medium") && !strcmp(names[1], "site_large"),
                  "%d rows, first %s:\n%s", n, names[0], r.out.s);
    run_free(&r);
    /* -n and --cum: callers of everything first. */
    MPROF(&r, "top", file, "-n", "3", "--cum", "--sample-index", "1");
    expect_code(&r, 0, "top --cum");
    n = row_names(r.out.s, names, 64);
    ck_assert_msg(n == 3 && strstr(r.out.s, "Type: alloc_space\n") &&
                      strstr(r.out.s, "Showing top 3 functions out of"), "%s", r.out.s);
    static row rows[MAX_ROWS];
    int nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_int_eq(nr, 3);
    run_free(&r);
    MPROF(&r, "top", file, "-n", "0", "--cum", "--raw");
    nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_int_gt(nr, 10);
    for (int i = 1; i < nr; i++)
        ck_assert_msg(rows[i - 1].cum >= rows[i].cum, "not sorted by cum:\n%s", r.out.s);
    run_free(&r);
    MPROF(&r, "top", file, "-n", "0", "--raw");
    nr = mprof_rows(r.out.s, rows, MAX_ROWS);
    for (int i = 1; i < nr; i++)
        ck_assert_msg(rows[i - 1].flat >= rows[i].flat, "not sorted by flat:\n%s", r.out.s);
    run_free(&r);
    /* Bad options: status 2 and a message. */
    MPROF(&r, "top", file, "--sample-index", "nonesuch");
    expect_code(&r, 2, "bad sample index");
    ck_assert_msg(strstr(r.err.s, "no sample type 'nonesuch'") && strstr(r.err.s, "inuse_space"),
                  "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "top", file, "--sample-index", "4");
    expect_code(&r, 2, "sample index out of range");
    run_free(&r);
    MPROF(&r, "top", file, "-n", "many");
    expect_code(&r, 2, "bad -n");
    run_free(&r);
    MPROF(&r, "top", file, file);
    expect_code(&r, 2, "two files");
    run_free(&r);
}
END_TEST

static const char go_program[] =
    "package main\n"
    "\n"
    "import (\n\t\"os\"\n\t\"runtime\"\n\t\"runtime/pprof\"\n)\n"
    "\n"
    "var keep [][]byte\n"
    "\n"
    "//go:noinline\n"
    "func leakyAlloc() {\n"
    "\tfor i := 0; i < 2000; i++ {\n"
    "\t\tkeep = append(keep, make([]byte, 4096))\n"
    "\t}\n"
    "}\n"
    "\n"
    "func main() {\n"
    "\truntime.MemProfileRate = 1\n"
    "\tleakyAlloc()\n"
    "\truntime.GC()\n"
    "\tf, err := os.Create(os.Args[1])\n"
    "\tif err != nil {\n\t\tpanic(err)\n\t}\n"
    "\tif err := pprof.Lookup(\"heap\").WriteTo(f, 0); err != nil {\n\t\tpanic(err)\n\t}\n"
    "\tf.Close()\n"
    "}\n";

START_TEST(reads_go_profiles)
{
    require_program("go", "golang-go");
    const char *dir = fresh_dir("reads_go_profiles");
    FILE *f = fopen(join(dir, "heap.go"), "w");
    fputs(go_program, f);
    fclose(f);
    char cache[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "GOCACHE=%s/gocache", build_dir());
    const char *env[] = {getenv("HOME") ? NULL : cache, NULL};
    run r;
    run_argv(&r, dir, env, ARGV("go", "run", "heap.go", "go.heap.pb.gz"));
    expect_code(&r, 0, "go run heap.go");
    run_free(&r);
    const char *file = join(dir, "go.heap.pb.gz");
    static row rows[MAX_ROWS];
    int n;
    mprof_top_rows(file, "inuse_space", rows, &n);
    const row *leak = row_find(rows, n, "main.leakyAlloc");
    ck_assert_msg(leak && leak->flat >= 2000 * 4096 && strstr(leak->loc, "heap.go:"),
                  "main.leakyAlloc: %lld at %s", leak ? leak->flat : -1, leak ? leak->loc : "");
    agree_with_pprof(file, "inuse_space", "B");
    agree_with_pprof(file, "alloc_objects", "B");
    MPROF(&r, "collapsed", file);
    expect_code(&r, 0, "collapsed go");
    ck_assert_msg(strstr(r.out.s, "main.main;main.leakyAlloc "), "%.3000s", r.out.s);
    run_free(&r);
    MPROF(&r, "flame", file, "-o", join(dir, "go.svg"));
    expect_code(&r, 0, "flame go");
    run_free(&r);
}
END_TEST

/* ---- diff and dump on a live process ---- */

static long out_long(const run *r, const char *key)
{
    long v = 0;
    ck_assert_msg(out_ints(r->out.s, key, &v, 1) == 1, "no '%s N' in:\n%s", key, r->out.s);
    return v;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

/* `mprof dump PID`: three complete files of one new seq, named on stdout. */
static void dump_now(long pid, long seq, char heap[PATH_MAX])
{
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p, "--timeout", "10");
    expect_code(&r, 0, "mprof dump");
    ck_assert_msg(count_lines(r.out.s) == 3, "dump printed:\n%s", r.out.s);
    char want[64];
    snprintf(want, sizeof want, ".%ld.%ld.heap.pb.gz\n", pid, seq);
    const char *h = strstr(r.out.s, want);
    ck_assert_msg(h, "no %s in:\n%s", want, r.out.s);
    for (const char *l = r.out.s; *l; l = strchr(l, '\n') + 1) {
        char path[PATH_MAX];
        sscanf(l, "%4095s", path);
        ck_assert_msg(path[0] == '/' && access(path, R_OK) == 0, "%s is not there", path);
        ck_assert_msg(!strstr(path, ".tmp"), "%s", path);
    }
    const char *start = h;
    while (start > r.out.s && start[-1] != '\n')
        start--;
    snprintf(heap, PATH_MAX, "%.*s", (int)(h - start) + (int)strlen(want) - 1, start);
    run_free(&r);
}

START_TEST(dump_and_diff_live_process)
{
    const char *dir = fresh_dir("dump_and_diff_live_process");
    char out[PATH_MAX + 8];
    snprintf(out, sizeof out, "--out=%s/g", dir);
    run g;
    run_spec s = {.argv = {tool(), "run", "--mem-rate", "1", out, "--", bpath("test/tools/grow"), dir},
                  /* grow never blocks: its (empty) block and mutex
                   * profiles are asked for, three files a dump */
                  .env = {"MPROF_EPOCH_MS=10", "MPROF_WRITE_EMPTY=1"}, .no_preload = true};
    run_start(&g, &s);
    ck_assert_msg(run_wait_stdout(&g, "phase 1", 10000), "no phase 1:\n%s", g.out.s);
    long pid = out_long(&g, "phase 1");
    sleep_ms(250); /* > 2 epochs: phase 1 is published */
    char h1[PATH_MAX], h2[PATH_MAX];
    dump_now(pid, 1, h1);
    touch(join(dir, "go1"));
    ck_assert_msg(run_wait_stdout(&g, "phase 2", 10000), "no phase 2:\n%s", g.out.s);
    sleep_ms(250);
    dump_now(pid, 2, h2);
    /* `mprof dump` given the pid of `mprof run` dumps the program it runs. */
    char runpid[32], want[64];
    snprintf(runpid, sizeof runpid, "%d", (int)g.pid);
    snprintf(want, sizeof want, "/g.%ld.3.heap.pb.gz\n", pid);
    run d;
    MPROF(&d, "dump", runpid);
    expect_code(&d, 0, "mprof dump <pid of mprof run>");
    ck_assert_msg(strstr(d.out.s, want), "dump via mprof run printed:\n%s", d.out.s);
    run_free(&d);
    /* A dump signal sent to `mprof run` reaches the program. */
    kill(g.pid, SIGUSR2);
    char h3[64];
    snprintf(h3, sizeof h3, "g.%ld.4.heap.pb.gz", pid);
    ck_assert_msg(wait_file(join(dir, h3), 10000), "SIGUSR2 to mprof run: no %s", h3);
    touch(join(dir, "go2"));
    run_finish(&g, 20000);
    expect_code(&g, 0, "mprof run grow");
    char listed[128];
    snprintf(listed, sizeof listed, "g.%ld.5.mutex.pb.gz\n", pid);
    ck_assert_msg(strstr(g.err.s, "15 profile files written") && strstr(g.err.s, listed),
                  "%s", g.err.s);
    truth t[4];
    ck_assert_int_eq(truths_parse(g.out.s, t, 4), 2);
    run_free(&g);

    /* The site that grew, alone, by exactly what it leaked. */
    static row rows[MAX_ROWS];
    run r;
    MPROF(&r, "diff", h1, h2, "--raw", "-n", "0");
    expect_code(&r, 0, "diff");
    int n = mprof_rows(r.out.s, rows, MAX_ROWS);
    char loc[512];
    snprintf(loc, sizeof loc, "%s:%ld", t[1].file, t[1].line);
    ck_assert_msg(n > 0 && !strcmp(rows[0].name, "leak_site") && rows[0].flat == t[1].inuse_b &&
                      same_place(rows[0].loc, loc), "%s", r.out.s);
    ck_assert_msg(!row_find(rows, n, "steady_site"), "steady_site did not change:\n%s", r.out.s);
    for (int i = 1; i < n; i++)
        ck_assert_msg(rows[i].flat == 0, "only leak_site grew:\n%s", r.out.s);
    ck_assert_msg(strstr(r.out.s, "Change: +3000000\n"), "%s", r.out.s);
    run_free(&r);
    /* Humanised, other sample types, and the other way round. */
    MPROF(&r, "diff", h1, h2);
    ck_assert_msg(strstr(r.out.s, "+2.86MiB") && strstr(r.out.s, "leak_site"), "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "diff", h1, h2, "--raw", "--sample-index", "inuse_objects");
    n = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_msg(n > 0 && rows[0].flat == t[1].inuse_n, "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "diff", h2, h1, "--raw", "-n", "0");
    n = mprof_rows(r.out.s, rows, MAX_ROWS);
    ck_assert_msg(n > 0 && !strcmp(rows[n - 1].name, "leak_site") &&
                      rows[n - 1].flat == -t[1].inuse_b, "%s", r.out.s);
    run_free(&r);
    /* Profiles of different kinds do not diff. */
    char block[PATH_MAX];
    snprintf(block, sizeof block, "%.*s.block.pb.gz", (int)(strlen(h1) - strlen(".heap.pb.gz")), h1);
    MPROF(&r, "diff", h1, block);
    expect_code(&r, 2, "diff heap block");
    ck_assert_msg(strstr(r.err.s, "no sample type 'inuse_space'"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

START_TEST(dump_errors)
{
    const char *dir = fresh_dir("dump_errors");
    run r;
    /* A pid that was just reaped. */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char p[32];
    snprintf(p, sizeof p, "%d", (int)gone);
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "dump of a dead pid");
    ck_assert_msg(strstr(r.err.s, "no process") && count_lines(r.err.s) == 1, "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "dump", "12abc");
    expect_code(&r, 2, "dump of a bad pid");
    run_free(&r);
    MPROF(&r, "dump", "1", "--timeout", "-3");
    expect_code(&r, 2, "dump with a bad timeout");
    run_free(&r);

    /* A process without mprof is never signalled (USR2 would kill it). */
    run bare;
    run_spec s = {.argv = {bpath("test/tools/grow"), dir}, .no_preload = true};
    run_start(&bare, &s);
    ck_assert(run_wait_stdout(&bare, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)bare.pid);
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "dump of a process without mprof");
    ck_assert_msg(strstr(r.err.s, "not running mprof"), "%s", r.err.s);
    run_free(&r);
    sleep_ms(50);
    ck_assert_msg(kill(bare.pid, 0) == 0 && waitpid(bare.pid, NULL, WNOHANG) == 0,
                  "the process died");

    /* MPROF_SIGNAL=none: no way to ask. */
    run none;
    char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/n", dir);
    run_spec sn = {.argv = {bpath("test/tools/grow"), dir}, .env = {"MPROF_SIGNAL=none", out}};
    run_start(&none, &sn);
    ck_assert(run_wait_stdout(&none, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)none.pid);
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "dump with MPROF_SIGNAL=none");
    ck_assert_msg(strstr(r.err.s, "MPROF_SIGNAL=none"), "%s", r.err.s);
    run_free(&r);

    /* Output that can never appear: the dump says it wrote nothing, and
     * this is known as soon as the dump is done, not after a timeout. */
    run lost;
    run_spec sl = {.argv = {bpath("test/tools/grow"), dir},
                   .env = {"MPROF_OUT=/nonexistent-mprof-dir/x", "MPROF_MEM_RATE=1"}};
    run_start(&lost, &sl);
    ck_assert(run_wait_stdout(&lost, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)lost.pid);
    MPROF(&r, "dump", p, "--timeout", "30");
    expect_code(&r, 1, "dump that writes nothing");
    ck_assert_msg(strstr(r.err.s, "wrote no profile file") &&
                      strstr(r.err.s, "/nonexistent-mprof-dir/x") && count_lines(r.err.s) == 1,
                  "%s", r.err.s);
    run_free(&r);

    /* A stopped process cannot dump: a timeout, on time. */
    run stopped;
    snprintf(out, sizeof out, "MPROF_OUT=%s/s", dir);
    run_spec ss = {.argv = {bpath("test/tools/grow"), dir}, .env = {out, "MPROF_MEM_RATE=1"}};
    run_start(&stopped, &ss);
    ck_assert(run_wait_stdout(&stopped, "phase 1", 10000));
    snprintf(p, sizeof p, "%d", (int)stopped.pid);
    kill(stopped.pid, SIGSTOP);
    MPROF(&r, "dump", p, "--timeout", "0.5");
    kill(stopped.pid, SIGCONT);
    expect_code(&r, 1, "dump that times out");
    ck_assert_msg(strstr(r.err.s, "timed out after 0.5 s") && strstr(r.err.s, out + 10),
                  "%s", r.err.s);
    run_free(&r);

    touch(join(dir, "go1"));
    touch(join(dir, "go2"));
    run *all[] = {&bare, &none, &lost, &stopped};
    for (int i = 0; i < 4; i++) {
        run_finish(all[i], 10000);
        expect_code(all[i], 0, "grow");
        run_free(all[i]);
    }
}
END_TEST

/* ---- mprof dump and who owns the signal (issue 10, item 8) ---- */

/* sigprog MODE under mprof at rate 1, writing to DIR/t, until "ready". */
static long start_sigprog(run *g, const char *mode, const char *dir, const char *extra_env)
{
    static char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/t", dir);
    run_spec s = {.argv = {bpath("test/tools/sigprog"), mode, dir},
                  .env = {"MPROF_MEM_RATE=1", out, extra_env}};
    run_start(g, &s);
    ck_assert_msg(run_wait_stdout(g, "ready", 10000), "sigprog %s: no ready:\n%s\n%s", mode,
                  g->out.s, g->err.s);
    return out_long(g, "ready");
}

/* Let it finish: exit 0 (a SIGUSR2 at its default action would kill it),
 * with "usr2 <usr2>" (its own count of SIGUSR2 received). */
static void finish_sigprog(run *g, const char *dir, long usr2)
{
    touch(join(dir, "go"));
    run_finish(g, 20000);
    expect_code(g, 0, "sigprog");
    char want[32];
    snprintf(want, sizeof want, "usr2 %ld\ndone\n", usr2);
    ck_assert_msg(strstr(g->out.s, want), "expected '%s' in:\n%s", want, g->out.s);
    run_free(g);
}

/* One refusal: status 1, nothing on stdout, one line holding `why`. */
static void expect_refusal(long pid, const char *why)
{
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 1, "mprof dump refusing");
    ck_assert_msg(r.out.len == 0 && count_lines(r.err.s) == 1 && strstr(r.err.s, why) &&
                      strstr(r.err.s, "MPROF_SIGNAL=") && strstr(r.err.s, "MPROF_DUMP_INTERVAL="),
                  "expected one line saying '%s' and what to do instead; got:\n%s%s", why,
                  r.out.s, r.err.s);
    run_free(&r);
}

/* A server that wrote its title over its environment, started with
 * MPROF_SIGNAL=PROF: dumped through SIGPROF, its files listed; never sent
 * SIGUSR2 (the default that /proc/PID/environ would have suggested),
 * which would kill it. */
START_TEST(dump_title_program_through_its_signal)
{
    const char *dir = fresh_dir("dump_title_program_through_its_signal");
    run g;
    long pid = start_sigprog(&g, "title", dir, "MPROF_SIGNAL=PROF");
    char what[64];
    snprintf(what, sizeof what, "/proc/%ld/environ", pid);
    FILE *f = fopen(what, "r");
    char env[8192] = "";
    size_t n = f ? fread(env, 1, sizeof env - 1, f) : 0;
    if (f)
        fclose(f);
    ck_assert_msg(!memmem(env, n, "MPROF_", 6), "the title did not cover the environment");
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 0, "mprof dump of a titled process");
    char want[PATH_MAX + 64];
    /* exactly what the dump wrote: it never blocks, so no block or mutex file */
    snprintf(want, sizeof want, "%s/t.%ld.1.heap.pb.gz\n", dir, pid);
    ck_assert_msg(!strcmp(r.out.s, want), "expected:\n%sgot:\n%s%s", want, r.out.s, r.err.s);
    run_free(&r);
    ck_assert(access(join(dir, "t.0.0.heap.pb.gz"), F_OK) != 0);
    finish_sigprog(&g, dir, 0);
}
END_TEST

/* A program with its own SIGUSR2 handler: refused, its handler never
 * called by mprof dump.  The SIGUSR2 the test sends afterwards shows that
 * one would have been counted. */
START_TEST(dump_refuses_program_handler)
{
    const char *dir = fresh_dir("dump_refuses_program_handler");
    run g;
    long pid = start_sigprog(&g, "handler", dir, NULL);
    expect_refusal(pid, "handles signal 12");
    kill((pid_t)pid, SIGUSR2);
    finish_sigprog(&g, dir, 1);
}
END_TEST

/* A program that takes SIGUSR2 with sigwait (blocked in every thread):
 * mprof's handler is installed, but would never run. */
START_TEST(dump_refuses_sigwait_program)
{
    const char *dir = fresh_dir("dump_refuses_sigwait_program");
    run g;
    long pid = start_sigprog(&g, "sigwait", dir, NULL);
    expect_refusal(pid, "blocks signal 12");
    kill((pid_t)pid, SIGUSR2);
    finish_sigprog(&g, dir, 1);
}
END_TEST

/* A process that publishes "nothing recorded", made here with core/'s
 * publisher and libmprof.so mapped for show; its child inherits the
 * mapping.  Both keep SIGUSR2 at its default action.  Writes "A B" (the
 * two pids) to fd, then waits to be killed. */
static void publish_unrecorded(const char *dir, int fd)
{
    mprof_config cfg;
    mprof_config_defaults(&cfg);
    snprintf(cfg.out, sizeof cfg.out, "%s/r", dir);
    mprof_publish_init(&cfg);
    mprof_publish_signal(SIGUSR2, 1);
    int lib = open(h_lib(), O_RDONLY | O_CLOEXEC);
    if (lib < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, lib, 0) == MAP_FAILED)
        _exit(3);
    close(lib);
    pid_t b = fork();
    if (b == 0)
        for (;;)
            pause();
    dprintf(fd, "%d %d\n", (int)getpid(), (int)b);
    for (;;)
        pause();
}

START_TEST(dump_nothing_recorded)
{
    const char *dir = fresh_dir("dump_nothing_recorded");
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t a = fork();
    if (a == 0) {
        close(pfd[0]);
        publish_unrecorded(dir, pfd[1]);
    }
    close(pfd[1]);
    char line[64] = "";
    ck_assert_msg(read(pfd[0], line, sizeof line - 1) > 0, "the publisher did not start");
    close(pfd[0]);
    int pids[2] = {0, 0};
    ck_assert_int_eq(sscanf(line, "%d %d", &pids[0], &pids[1]), 2);
    for (int i = 0; i < 2; i++) { /* its own state, then an inherited one */
        char p[32];
        snprintf(p, sizeof p, "%d", pids[i]);
        run r;
        MPROF(&r, "dump", p);
        expect_code(&r, 0, "mprof dump of a process that recorded nothing");
        ck_assert_msg(r.out.len == 0 && count_lines(r.err.s) == 1 &&
                          strstr(r.err.s, "recorded nothing yet"), "%s%s", r.out.s, r.err.s);
        run_free(&r);
    }
    sleep_ms(50);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(kill(pids[i], 0) == 0, "process %d was signalled", pids[i]);
    ck_assert_msg(waitpid(a, NULL, WNOHANG) == 0, "the publisher died");
    kill(pids[1], SIGKILL);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
}
END_TEST

/* A prefix longer than one mapping name, with a space, ':', '%' and a
 * newline in it: published in pieces and read back whole. */
START_TEST(dump_long_odd_prefix)
{
    const char *dir = fresh_dir("dump_long_odd_prefix");
    char sub[PATH_MAX], x[201];
    memset(x, 'x', 200);
    x[200] = '\0';
    snprintf(sub, sizeof sub, "%s/a b:c%%41d\nnew line/%s/%s", dir, x, x);
    for (char *s = sub + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(sub, 0755);
        *s = '/';
    }
    ck_assert_msg(mkdir(sub, 0755) == 0, "mkdir %s: %s", sub, strerror(errno));
    static char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "MPROF_OUT=%s/p%%x", sub);
    run g;
    run_spec s = {.argv = {bpath("test/tools/grow"), dir}, .env = {"MPROF_MEM_RATE=1", out}};
    run_start(&g, &s);
    ck_assert(run_wait_stdout(&g, "phase 1", 10000));
    long pid = out_long(&g, "phase 1");
    char p[32];
    snprintf(p, sizeof p, "%ld", pid);
    run r;
    MPROF(&r, "dump", p);
    expect_code(&r, 0, "mprof dump with a long, odd prefix");
    strbuf want = {0}; /* grow never blocks: its heap profile only */
    sb_printf(&want, "%s/p%%x.%ld.1.heap.pb.gz\n", sub, pid);
    ck_assert_msg(!strcmp(r.out.s, want.s), "expected:\n%sgot:\n%s%s", want.s, r.out.s,
                  r.err.s);
    sb_free(&want);
    run_free(&r);
    touch(join(dir, "go1"));
    touch(join(dir, "go2"));
    run_finish(&g, 20000);
    expect_code(&g, 0, "grow");
    run_free(&g);
}
END_TEST

/* ---- collapsed ---- */

START_TEST(collapsed_stacks)
{
    truth t[MAX_TRUTHS];
    int nt;
    const char *file = sites_heap(t, &nt);
    run r;
    MPROF(&r, "collapsed", file, "--sample-index", "alloc_space");
    expect_code(&r, 0, "collapsed");
    long long total = 0, site_sum[MAX_TRUTHS] = {0};
    int lines = 0;
    strbuf seen = {0};
    sb_append(&seen, "\n", 1); /* every stack is "\n<stack>\n" in it */
    for (char *l = r.out.s, *e; *l; l = e + 1) {
        e = strchr(l, '\n');
        ck_assert_ptr_nonnull(e);
        *e = '\0';
        char *sp = strrchr(l, ' ');
        ck_assert_msg(sp && sp > l, "bad line '%s'", l);
        char *end;
        long long v = strtoll(sp + 1, &end, 10);
        ck_assert_msg(*end == '\0' && v > 0, "bad value in '%s'", l);
        *sp = '\0';
        ck_assert_msg(strncmp(l, "_start;", 7) == 0 && strstr(l, ";main;"), "stack '%s'", l);
        char key[8192];
        snprintf(key, sizeof key, "\n%s\n", l);
        ck_assert_msg(!strstr(seen.s, key), "stack twice: %s", l);
        sb_printf(&seen, "%s", key + 1);
        total += v;
        lines++;
        const char *leaf = strrchr(l, ';') + 1;
        for (int i = 0; i < nt; i++)
            if (!strcmp(leaf, t[i].site))
                site_sum[i] += v;
    }
    sb_free(&seen);
    ck_assert_int_gt(lines, 10);
    for (int i = 0; i < nt; i++)
        ck_assert_msg(site_sum[i] == t[i].alloc_b, "%s: %lld, expected %lld", t[i].site,
                      site_sum[i], t[i].alloc_b);
    run_free(&r);
    /* The same total as top's. */
    MPROF(&r, "top", file, "--sample-index", "alloc_space", "--raw");
    char want[64];
    snprintf(want, sizeof want, "of %lld total", total);
    ck_assert_msg(strstr(r.out.s, want), "collapsed total %lld; top:\n%s", total, r.out.s);
    run_free(&r);
}
END_TEST

/* ---- flame ---- */

/* Well-formed XML, by whichever checker this machine has. */
static void check_xml(const char *svg)
{
    run r;
    if (!have_program("python3"))
        require_program("xmllint", "libxml2-utils");
    if (have_program("xmllint"))
        run_argv(&r, NULL, NULL, ARGV("xmllint", "--noout", svg));
    else
        run_argv(&r, NULL, NULL, ARGV("python3", "-c",
                                      "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])", svg));
    expect_code(&r, 0, "XML check of the SVG");
    run_free(&r);
}

static void check_script(const char *svg, const char *frame)
{
    require_program("node", "nodejs");
    run r;
    run_argv(&r, NULL, NULL, ARGV("node", TOOLS_TEST_SRC "/flame_check.js", svg, frame));
    expect_code(&r, 0, "flame_check.js");
    ck_assert_msg(!strncmp(r.out.s, "ok ", 3), "%s", r.out.s);
    run_free(&r);
}

START_TEST(flame_graph)
{
    truth t[MAX_TRUTHS];
    int nt;
    const char *file = sites_heap(t, &nt);
    const char *dir = fresh_dir("flame_graph");
    const char *svg = join(dir, "sites.svg");
    run r;
    MPROF(&r, "flame", file, "-o", svg, "--sample-index", "alloc_space");
    expect_code(&r, 0, "flame");
    run_free(&r);
    check_xml(svg);
    size_t len;
    char *text = slurp(svg, &len);
    ck_assert_msg(strstr(text, "<svg") && strstr(text, "<script") && strstr(text, "onload=\"init(evt)\"") &&
                      strstr(text, "alloc_space"), "not a flame graph SVG");
    for (int i = 0; i < nt; i++) {
        char want[128];
        snprintf(want, sizeof want, "<title>%s (", t[i].site);
        ck_assert_msg(strstr(text, want), "no frame for %s", t[i].site);
    }
    ck_assert_msg(strstr(text, "<title>all (16.8MiB, 100.00%)</title>") || strstr(text, "<title>all ("),
                  "no root frame");
    free(text);
    check_script(svg, "run_small_medium_large");
    check_script(svg, "site_small");
    /* -o - writes to stdout; no -o is a usage error. */
    MPROF(&r, "flame", file, "-o", "-");
    expect_code(&r, 0, "flame to stdout");
    ck_assert(strstr(r.out.s, "</svg>\n"));
    run_free(&r);
    MPROF(&r, "flame", file);
    expect_code(&r, 2, "flame without -o");
    run_free(&r);
    /* An OUT that is not a regular file is written in place, not renamed
     * over: a symlink stays a symlink (and /dev/null would stay a device). */
    const char *real = join(dir, "real.svg"), *link = join(dir, "link.svg");
    touch(real);
    ck_assert_int_eq(symlink(real, link), 0);
    MPROF(&r, "flame", file, "-o", link);
    expect_code(&r, 0, "flame to a symlink");
    run_free(&r);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "-o through a symlink replaced the link");
    ck_assert_int_eq(stat(real, &st), 0);
    ck_assert_msg(st.st_size > 1000, "the symlink's target got no SVG");
    MPROF(&r, "flame", file, "-o", "/nonexistent-mprof-dir/x.svg");
    expect_code(&r, 1, "flame to a missing directory");
    ck_assert_msg(strstr(r.err.s, "cannot write /nonexistent-mprof-dir/x.svg"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

/* Names no C compiler makes but a profile may carry, deep and recursive
 * stacks: the SVG stays well-formed, folded lines keep one field per
 * frame, and recursion counts once in cum. */
START_TEST(hostile_names_and_shapes)
{
    const char *dir = fresh_dir("hostile_names_and_shapes");
    synth *s = syn_new("bytes");
    static const char *weird[] = {"a<b>&\"c'd", "semi;colon", "ctl\x01\x1b[31m", "bad\xff\xfe utf8",
                                  "\xe2\x82\xac euro", "std::vector<int>::push_back(int const&)",
                                  "]]>cdata", NULL};
    long long weird_total = 0;
    for (int i = 0; weird[i]; i++) {
        const char *stack[] = {weird[i], "main"};
        syn_sample(s, 1000 + i, stack, 2);
        weird_total += 1000 + i;
    }
    /* rec -> rec -> rec ... under main: cum of rec is the sample, once. */
    const char *rec[64];
    for (int i = 0; i < 63; i++)
        rec[i] = "rec";
    rec[63] = "main";
    syn_sample(s, 5000, rec, 64);
    /* A 10000-frame stack of distinct functions. */
    static const char *deep[10001];
    static char names[10000][16];
    for (int i = 0; i < 10000; i++) {
        snprintf(names[i], sizeof names[i], "d%d", i);
        deep[i] = names[i];
    }
    syn_sample(s, 7, deep, 10000);
    const char *file = join(dir, "weird.pb.gz");
    syn_write(s, file, true);

    run r;
    MPROF(&r, "flame", file, "-o", join(dir, "weird.svg"), "--title", "<&> title");
    expect_code(&r, 0, "flame of weird names");
    run_free(&r);
    check_xml(join(dir, "weird.svg"));
    size_t len;
    char *text = slurp(join(dir, "weird.svg"), &len);
    ck_assert_msg(strstr(text, "a&lt;b&gt;&amp;&quot;c&apos;d") && strstr(text, "\xe2\x82\xac euro") &&
                      strstr(text, "&lt;&amp;&gt; title"), "escaping");
    free(text);
    check_script(join(dir, "weird.svg"), "rec");

    MPROF(&r, "collapsed", file);
    expect_code(&r, 0, "collapsed of weird names");
    ck_assert_msg(strstr(r.out.s, "main;semi:colon 1001\n"), "%s", r.out.s);
    int deep_lines = 0;
    for (const char *l = r.out.s; *l; l = strchr(l, '\n') + 1)
        if (!strncmp(l, "d9999;", 6)) {
            int semis = 0;
            for (const char *c = l; *c != '\n'; c++)
                semis += *c == ';';
            ck_assert_int_eq(semis, 9999);
            deep_lines++;
        }
    ck_assert_int_eq(deep_lines, 1);
    run_free(&r);

    static row rows[MAX_ROWS];
    int n;
    mprof_top_rows(file, "space", rows, &n);
    const row *rr = row_find(rows, n, "rec");
    ck_assert_msg(rr && rr->flat == 5000 && rr->cum == 5000, "rec: flat %lld cum %lld",
                  rr ? rr->flat : -1, rr ? rr->cum : -1);
    /* By flat, as pprof sorts, main (flat 0) comes after the 10,000 deep
     * frames; by cum it comes first. */
    MPROF(&r, "top", file, "--raw", "--cum", "-n", "3", "--sample-index", "space");
    expect_code(&r, 0, "top --cum");
    n = mprof_rows(r.out.s, rows, MAX_ROWS);
    const row *m = row_find(rows, n, "main");
    ck_assert_msg(m && m->flat == 0 && m->cum == 5000 + weird_total, "main cum %lld",
                  m ? m->cum : -1);
    run_free(&r);
}
END_TEST

/* ---- bad input ---- */

/* Every command on `path`: status 2, one line naming the file, no output
 * file left behind. */
static void all_commands_refuse(const char *dir, const char *path, const char *good)
{
    const char *svg = join(dir, "out.svg");
    const char *cmds[][6] = {
        {"top", path, NULL},         {"top", path, "--cum", NULL},
        {"collapsed", path, NULL},   {"flame", path, "-o", svg, NULL},
        {"diff", path, good, NULL},  {"diff", good, path, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        run r;
        run_spec s = {.argv = {tool()}, .no_preload = true};
        for (int k = 0; cmds[i][k]; k++)
            s.argv[k + 1] = cmds[i][k];
        run_checked(&r, &s);
        ck_assert_msg(run_exit_code(&r) == 2 && count_lines(r.err.s) == 1 &&
                          strstr(r.err.s, path) && !strncmp(r.err.s, "mprof ", 6),
                      "mprof %s %s: status %d, stderr:\n%s", cmds[i][0], path,
                      run_exit_code(&r), r.err.s);
        ck_assert_msg(r.out.len == 0, "output on bad input:\n%s", r.out.s);
        run_free(&r);
        ck_assert_msg(access(svg, F_OK) != 0 && access(join(dir, "out.svg.tmp"), F_OK) != 0,
                      "flame left a file for %s", path);
    }
}

START_TEST(bad_input_files)
{
    const char *dir = fresh_dir("bad_input_files");
    const char *good = sites_heap(NULL, NULL);
    size_t zlen, len;
    char *gz = slurp(good, &zlen);
    char *raw = gunzip_file(good, &len);
    struct {
        const char *name;
        const void *data;
        size_t len;
        bool gz;
    } bad[] = {
        {"text.pb.gz", "hello, world\n", 13, false},
        {"empty.pb.gz", "", 0, false},
        {"gzip_header_only.pb.gz", gz, 10, false},
        {"truncated.pb.gz", gz, zlen / 2, false},
        {"truncated_raw.pb", raw, len / 2, false},
        {"truncated_inner.pb.gz", raw, len - 3, true},
        {"garbage.pb.gz", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12, true},
        /* field 1 (sample_type) as a varint: some other message */
        {"wrong_message.pb.gz", "\x08\x96\x01\x10\x02", 5, true},
        /* a string of 2^62 bytes */
        {"huge_length.pb.gz", "\x32\x80\x80\x80\x80\x80\x80\x80\x80\x40", 10, true},
        /* a sample referring to location 99 that does not exist */
        {"dangling_id.pb.gz",
         "\x0a\x04\x08\x01\x10\x02" "\x12\x04\x08\x63\x10\x01" "\x32\x00\x32\x01x\x32\x01y",
         20, true},
        /* valid, but no sample types: not a profile */
        {"no_types.pb.gz", "\x32\x00", 2, true},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = join(dir, bad[i].name);
        if (bad[i].gz)
            write_gz(path, bad[i].data, bad[i].len);
        else
            write_bytes(path, bad[i].data, bad[i].len);
        all_commands_refuse(dir, path, good);
    }
    all_commands_refuse(dir, join(dir, "missing.pb.gz"), good);
    all_commands_refuse(dir, dir, good); /* a directory */
    free(gz);
    free(raw);
}
END_TEST

/* Truncations at many lengths and single-byte corruptions: a clean answer
 * (status 0) or a clean refusal (status 2), never a crash or a hang. */
/* Stacks too large to be real: refused as bad input, not a memory blowup;
 * and no control character of a name reaches the terminal. */
START_TEST(huge_stacks_and_control_characters)
{
    const char *dir = fresh_dir("huge_stacks_and_control_characters");
    /* 40 references to one location of 2000 inlined frames: a file of a
     * few KiB that expands to 80,000 frames in one stack. */
    synth *s = syn_new("bytes");
    const char *again[40];
    for (int i = 0; i < 40; i++)
        again[i] = "again";
    syn_sample(s, 1, again, 40);
    static mprof_pprof_line lines[2000];
    for (int i = 0; i < 2000; i++)
        lines[i] = (mprof_pprof_line){.function_id = 1, .line = i + 1};
    s->p.location[0].line = lines;
    s->p.location[0].nline = 2000;
    const char *huge = join(dir, "huge.pb.gz");
    syn_write(s, huge, true);
    all_commands_refuse(dir, huge, sites_heap(NULL, NULL));
    run r;
    MPROF(&r, "top", huge);
    ck_assert_msg(strstr(r.err.s, "stacks too large"), "%s", r.err.s);
    run_free(&r);

    synth *c = syn_new("bytes");
    const char *stack[] = {"evil\n  999GiB 100.00% fake_row\x1b[31m", "main"};
    syn_sample(c, 10, stack, 2);
    syn_sample(c, 5, stack, 0); /* no stack at all */
    const char *ctl = join(dir, "ctl.pb.gz");
    syn_write(c, ctl, true);
    const char *cmds[] = {"top", "collapsed"};
    for (int i = 0; i < 2; i++) {
        MPROF(&r, cmds[i], ctl);
        expect_code(&r, 0, cmds[i]);
        ck_assert_msg(!strchr(r.out.s, '\x1b') && !strstr(r.out.s, "\n  999GiB"),
                      "%s let a control character through:\n%s", cmds[i], r.out.s);
        if (i == 1)
            ck_assert_msg(strstr(r.out.s, "<unknown> 5\n"), "the stackless sample:\n%s", r.out.s);
        run_free(&r);
    }
}
END_TEST

START_TEST(corrupt_profiles_never_crash)
{
    const char *dir = fresh_dir("corrupt_profiles_never_crash");
    size_t len;
    char *raw = gunzip_file(sites_heap(NULL, NULL), &len);
    char *buf = malloc(len);
    unsigned seed = 12345;
    int refused = 0, read_ok = 0;
    for (int i = 0; i < 160; i++) {
        size_t n = len;
        memcpy(buf, raw, len);
        if (i < 40) {
            n = (size_t)i * len / 40;
        } else {
            seed = seed * 1103515245 + 12345;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245 + 12345;
            buf[at] ^= (char)(1 + (seed >> 16) % 255);
        }
        const char *path = join(dir, "c.pb.gz");
        write_gz(path, buf, n);
        run r;
        const char *cmd = i % 2 ? "top" : "collapsed";
        MPROF(&r, cmd, path);
        int code = run_exit_code(&r);
        ck_assert_msg(code == 0 || (code == 2 && count_lines(r.err.s) == 1),
                      "case %d (%s): status %d\n%s", i, cmd, code, r.err.s);
        refused += code == 2;
        read_ok += code == 0;
        run_free(&r);
    }
    ck_assert_msg(refused > 20 && read_ok > 20, "refused %d, read %d", refused, read_ok);
    free(raw);
    free(buf);
}
END_TEST

/* ---- run ---- */

START_TEST(run_passes_status_and_arguments)
{
    run r;
    MPROF(&r, "run", "--", h_prog("exit_status"), "7");
    expect_code(&r, 7, "exit_status 7");
    ck_assert_msg(strstr(r.out.s, "exiting with 7"), "%s", r.out.s);
    run_free(&r);
    MPROF(&r, "run", h_prog("exit_status"), "0"); /* no "--" needed */
    expect_code(&r, 0, "exit_status 0");
    run_free(&r);
    MPROF(&r, "run", "--", "sh", "-c", "kill -TERM $$");
    expect_code(&r, 128 + SIGTERM, "killed by SIGTERM");
    run_free(&r);
    /* SIGCHLD inherited ignored: the status must still come through. */
    run_argv(&r, NULL, NULL,
             ARGV("sh", "-c", "trap '' CHLD; exec \"$0\" run -- sh -c 'exit 3'", tool()));
    expect_code(&r, 3, "exit 3 with SIGCHLD ignored");
    run_free(&r);
    MPROF(&r, "run", "--", "printf", "[%s]", "a b", " c  d ", "", "--mem-rate");
    expect_code(&r, 0, "printf");
    ck_assert_msg(!strcmp(r.out.s, "[a b][ c  d ][][--mem-rate]"), "'%s'", r.out.s);
    run_free(&r);
    MPROF(&r, "run", "--", "/nonexistent-mprof-dir/prog");
    expect_code(&r, 127, "missing program");
    ck_assert_msg(strstr(r.err.s, "cannot run /nonexistent-mprof-dir/prog"), "%s", r.err.s);
    run_free(&r);
    MPROF(&r, "run", "--", "/dev/null");
    expect_code(&r, 126, "not executable");
    run_free(&r);
    MPROF(&r, "run", "--mem-rate", "lots", "--", "true");
    expect_code(&r, 2, "bad --mem-rate");
    run_free(&r);
    MPROF(&r, "run", "--mem-rate", "1");
    expect_code(&r, 2, "no program");
    run_free(&r);
}
END_TEST

static const char *env_line(const char *out, const char *name)
{
    static char line[PATH_MAX * 2];
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, key, strlen(key))) {
            snprintf(line, sizeof line, "%.*s", (int)strcspn(l + strlen(key), "\n"), l + strlen(key));
            return line;
        }
    return NULL;
}

START_TEST(run_sets_environment_and_lists_files)
{
    const char *dir = fresh_dir("run_sets_environment_and_lists_files");
    mkdir(join(dir, "sub"), 0755);
    const char *other = "/lib/x86_64-linux-gnu/libm.so.6";
    if (access(other, R_OK) != 0)
        other = NULL;
    char pre[PATH_MAX + 16];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", other ? other : "");
    /* env never blocks: its empty block and mutex profiles are asked for,
     * so that one file of each kind is there to be listed. */
    const char *env[] = {"MPROF_WRITE_EMPTY=1", other ? pre : NULL, NULL};
    run r;
    run_argv(&r, dir, env, ARGV(tool(), "run", "--mem-rate", "1", "--block-rate", "5",
                                "--mutex-fraction", "3", "--interval", "7", "--out", "sub/p",
                                "--", "env"));
    expect_code(&r, 0, "mprof run env");
    char lib[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(bpath("libmprof.so"), lib));
    const char *ld = env_line(r.out.s, "LD_PRELOAD");
    char want[PATH_MAX * 2];
    snprintf(want, sizeof want, "%s%s%s", lib, other ? ":" : "", other ? other : "");
    ck_assert_msg(ld && !strcmp(ld, want), "LD_PRELOAD=%s, expected %s", ld, want);
    ck_assert_str_eq(env_line(r.out.s, "MPROF_MEM_RATE"), "1");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_BLOCK_RATE"), "5");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_MUTEX_FRACTION"), "3");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_DUMP_INTERVAL"), "7");
    char out[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(dir, out));
    strcat(out, "/sub/p");
    ck_assert_str_eq(env_line(r.out.s, "MPROF_OUT"), out);
    /* Files listed as the prefix was given, and there. */
    int listed = 0;
    for (const char *l = r.err.s; (l = strstr(l, "  sub/p.")); l++) {
        char name[PATH_MAX];
        sscanf(l, " %4095s", name);
        ck_assert_msg(access(join(dir, name), R_OK) == 0, "listed %s is not there", name);
        listed++;
    }
    ck_assert_msg(listed == 3 && strstr(r.err.s, "3 profile files written"), "%s", r.err.s);
    run_free(&r);
    /* A second run lists only its own files. */
    run_argv(&r, dir, env, ARGV(tool(), "run", "--out", "sub/p", "--mem-rate", "0",
                                "--block-rate", "0", "--", "true"));
    expect_code(&r, 0, "second run");
    ck_assert_msg(strstr(r.err.s, "1 profile file written") && strstr(r.err.s, ".mutex.pb.gz") &&
                      !strstr(r.err.s, ".heap.pb.gz"), "%s", r.err.s);
    run_free(&r);
    /* Nothing written at all. */
    run_argv(&r, dir, NULL, ARGV(tool(), "run", "--out", "sub/q", "--mem-rate", "0",
                                 "--block-rate", "0", "--mutex-fraction", "0", "--", "true"));
    ck_assert_msg(strstr(r.err.s, "no profile files written"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

START_TEST(run_lists_children_files)
{
    const char *dir = fresh_dir("run_lists_children_files");
    run r;
    run_argv(&r, dir, NULL, ARGV(tool(), "run", "--mem-rate", "1", "--out", "fk", "--",
                                 h_prog("forks"), "--forks", "2"));
    expect_code(&r, 0, "forks");
    /* parent, two fork children, the exec'd child: four pids */
    long pids[8];
    int npids = 0;
    for (const char *l = r.err.s; (l = strstr(l, "  fk.")); l++) {
        long pid = strtol(l + 5, NULL, 10);
        bool seen = false;
        for (int i = 0; i < npids; i++)
            seen |= pids[i] == pid;
        if (!seen && npids < 8)
            pids[npids++] = pid;
    }
    ck_assert_msg(npids == 4, "%d pids in:\n%s", npids, r.err.s);
    run_free(&r);
}
END_TEST

static void copy_file(const char *from, const char *to, mode_t mode)
{
    size_t len;
    char *data = slurp(from, &len);
    write_bytes(to, data, len);
    chmod(to, mode);
    free(data);
}

START_TEST(run_finds_installed_library)
{
    const char *dir = fresh_dir("run_finds_installed_library");
    const char *sub[] = {"usr", "usr/bin", "usr/lib", "lonely", "lonely/bin"};
    for (int i = 0; i < 5; i++)
        mkdir(join(dir, sub[i]), 0755);
    copy_file(tool(), join(dir, "usr/bin/mprof"), 0755);
    copy_file(bpath("libmprof.so"), join(dir, "usr/lib/libmprof.so"), 0644);
    copy_file(tool(), join(dir, "lonely/bin/mprof"), 0755);
    run r;
    run_argv(&r, dir, NULL, ARGV(join(dir, "usr/bin/mprof"), "run", "--", "env"));
    expect_code(&r, 0, "installed mprof run");
    char lib[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(join(dir, "usr/lib/libmprof.so"), lib));
    const char *ld = env_line(r.out.s, "LD_PRELOAD");
    ck_assert_msg(ld && !strcmp(ld, lib), "LD_PRELOAD=%s, expected %s", ld, lib);
    run_free(&r);
    run_argv(&r, dir, NULL, ARGV(join(dir, "lonely/bin/mprof"), "run", "--", "true"));
    expect_code(&r, 1, "mprof without its library");
    ck_assert_msg(strstr(r.err.s, "cannot find libmprof.so"), "%s", r.err.s);
    run_free(&r);
}
END_TEST

START_TEST(usage_errors)
{
    run r;
    run_argv(&r, NULL, NULL, ARGV(tool()));
    expect_code(&r, 2, "no command");
    ck_assert(strstr(r.err.s, "usage:"));
    run_free(&r);
    MPROF(&r, "bogus");
    expect_code(&r, 2, "unknown command");
    ck_assert(strstr(r.err.s, "unknown command 'bogus'"));
    run_free(&r);
    MPROF(&r, "top");
    expect_code(&r, 2, "top without a file");
    run_free(&r);
    MPROF(&r, "top", "x", "--bogus");
    expect_code(&r, 2, "unknown option");
    ck_assert(strstr(r.err.s, "unknown option '--bogus'"));
    run_free(&r);
    MPROF(&r, "help");
    expect_code(&r, 0, "help");
    ck_assert(strstr(r.out.s, "mprof flame FILE -o OUT.svg"));
    run_free(&r);
    MPROF(&r, "diff", "--help");
    expect_code(&r, 0, "diff --help");
    ck_assert(strstr(r.out.s, "mprof diff OLD NEW"));
    run_free(&r);
}
END_TEST

/* ---- the suite ---- */

static void remove_work(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/test/tools/work", build_dir());
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(dir, 0755);
    mkdir(fixture_dir(), 0755);
}

int main(void)
{
    remove_work();
    /* Commands that write with a relative prefix (`mprof run` without
     * --out) write here, not into the source tree. */
    char work[PATH_MAX];
    snprintf(work, sizeof work, "%s/test/tools/work", build_dir());
    if (chdir(work) != 0)
        return 2;
    Suite *s = suite_create("tools");
    h_add_test(s, "units_format_cases", units_format_cases, 10);
    h_add_test(s, "top_matches_truth", top_matches_truth, 60);
    h_add_test(s, "top_agrees_with_pprof_heap", top_agrees_with_pprof_heap, 60);
    h_add_test(s, "top_agrees_with_pprof_contention", top_agrees_with_pprof_contention, 60);
    h_add_test(s, "top_options", top_options, 60);
    h_add_test(s, "reads_go_profiles", reads_go_profiles, 120);
    h_add_test(s, "dump_and_diff_live_process", dump_and_diff_live_process, 60);
    h_add_test(s, "dump_errors", dump_errors, 60);
    h_add_test(s, "dump_title_program_through_its_signal",
               dump_title_program_through_its_signal, 60);
    h_add_test(s, "dump_refuses_program_handler", dump_refuses_program_handler, 60);
    h_add_test(s, "dump_refuses_sigwait_program", dump_refuses_sigwait_program, 60);
    h_add_test(s, "dump_nothing_recorded", dump_nothing_recorded, 60);
    h_add_test(s, "dump_long_odd_prefix", dump_long_odd_prefix, 60);
    h_add_test(s, "collapsed_stacks", collapsed_stacks, 60);
    h_add_test(s, "flame_graph", flame_graph, 60);
    h_add_test(s, "hostile_names_and_shapes", hostile_names_and_shapes, 60);
    h_add_test(s, "huge_stacks_and_control_characters", huge_stacks_and_control_characters, 60);
    h_add_test(s, "bad_input_files", bad_input_files, 60);
    h_add_test(s, "corrupt_profiles_never_crash", corrupt_profiles_never_crash, 60);
    h_add_test(s, "run_passes_status_and_arguments", run_passes_status_and_arguments, 60);
    h_add_test(s, "run_sets_environment_and_lists_files", run_sets_environment_and_lists_files, 60);
    h_add_test(s, "run_lists_children_files", run_lists_children_files, 60);
    h_add_test(s, "run_finds_installed_library", run_finds_installed_library, 60);
    h_add_test(s, "usage_errors", usage_errors, 30);
    return run_built_suite(s);
}
