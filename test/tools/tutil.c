/*
 * tutil.c: what the tests of the mprof command share (tutil.h): paths and
 * running commands, the profiles made once per run (fixtures), reading
 * mprof's and pprof's tables, and profiles built here with core/'s encoder.
 */
#include "tutil.h"

#include "gzip.h"
#include "pprof.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- paths and running ---- */

const char *build_dir(void)
{
    const char *b = getenv("MPROF_TEST_BUILD");
    return b && *b ? b : IT_BUILD_DIR;
}

const char *bpath(const char *rel)
{
    static char bufs[16][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, PATH_MAX, "%s/%s", build_dir(), rel);
    return p;
}

const char *tool(void) { return bpath("mprof"); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    chmod(path, 0755);
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* A fresh, empty build/test/tools/work/<name>. */
const char *fresh_dir(const char *name)
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

const char *join(const char *dir, const char *name)
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
void run_argv(run *r, const char *cwd, const char *const *env,
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

void expect_code(const run *r, int code, const char *what)
{
    ck_assert_msg(run_exit_code(r) == code,
                  "%s: exit status %d, expected %d\nstdout:\n%.3000s\nstderr:\n%.3000s",
                  what, run_exit_code(r), code, r->out.s, r->err.s);
}

int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

bool have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* A test without its reference program would check nothing and pass: it
 * fails instead, naming the Debian package that `make deps` installs. */
void require_program(const char *name, const char *package)
{
    ck_assert_msg(have_program(name), "`%s` is not on PATH, and this test needs it "
                  "(make deps installs %s)", name, package);
}

/* ---- fixtures: profiles made once per test run ---- */

const char *fixture_dir(void)
{
    static char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/test/tools/work/fixtures", build_dir());
    return dir;
}

/* The only file of `kind` in dir. */
const char *only_file(const char *dir, const char *suffix)
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
const char *sites_heap(truth *t, int *nt)
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
const char *contention_file(const char *kind)
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

/* Rows of `mprof top --raw` / `mprof diff --raw` output. */
int mprof_rows(const char *out, row *rows, int max)
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

const row *row_find(const row *rows, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name))
            return &rows[i];
    return NULL;
}

/* "4096000B", "30278522ns", "1000" -> the number. */
long long pprof_value(const char *tok)
{
    return strtoll(tok, NULL, 10);
}

/* Rows of `pprof -top`, names without " (inline)", same names summed. */
int pprof_rows(const char *out, row *rows, int max)
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
int by_name(const row *in, int n, row *out)
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

void mprof_top_rows(const char *file, const char *index, row *rows, int *n)
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
bool same_place(const char *got, const char *want)
{
    size_t g = strlen(got), w = strlen(want);
    return g >= w && !strcmp(got + g - w, want) && (g == w || got[g - w - 1] == '/');
}

/* `mprof top` and `go tool pprof -top` on one file and sample type: the
 * same functions with the same flat and cum values. Both read the file as
 * `mprof symbolize` completes it (the README's way to other readers). */
void agree_with_pprof(const char *orig, const char *index, const char *unit)
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

int64_t syn_str(synth *s, const char *str)
{
    for (size_t i = 0; i < s->p.nstring_table; i++)
        if (!strcmp(s->p.string_table[i].s, str))
            return (int64_t)i;
    s->p.string_table[s->p.nstring_table] = (mprof_pprof_str){strdup(str), strlen(str)};
    return (int64_t)s->p.nstring_table++;
}

synth *syn_new(const char *unit)
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

uint64_t syn_fn(synth *s, const char *name)
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
void syn_sample(synth *s, int64_t v, const char *const *names, size_t n)
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
void syn_write(synth *s, const char *path, bool gz)
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

void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

void write_gz(const char *path, const void *data, size_t len)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *z;
    size_t zlen;
    ck_assert_int_eq(mprof_gzip(&sc, data, len, &z, &zlen), 0);
    write_bytes(path, z, zlen);
    mprof_scratch_release(&sc);
}

/* An empty file at path. */
void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

/* The whole file, malloc'd. */
char *slurp(const char *path, size_t *len)
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
char *gunzip_file(const char *path, size_t *len)
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

/* ---- the work directory ---- */

/* An empty build/test/tools/work with its fixtures directory: tests write
 * there, and leave what they wrote for inspection until the next run. */
void remove_work(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/test/tools/work", build_dir());
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(dir, 0755);
    mkdir(fixture_dir(), 0755);
}
