/*
 * test_symbols: the frames a user sees are the ones addr2line sees.
 *
 * Each program runs under the library at MPROF_MEM_RATE=1; its exit
 * profile goes through the step the README tells users to take before
 * another reader (`mprof symbolize`), then through `go tool pprof -raw`
 * (the real client). Every location in the program's own code must carry
 * exactly the frames `addr2line -a -i -f -C` gives for its address: the
 * same functions (demangled), innermost inlined first, each at its own
 * line. Then the file itself: one Function record per function, no
 * mapping that no location uses; and mprof's own reader (collapsed) shows
 * the same chains from the unsymbolized file.
 */
#include "harness.h"
#include "pprof.h"
#include "prof.h"

#include <check.h>
#include "run_suite.h"
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 8

/* What addr2line says of one address: frames innermost first. */
typedef struct a2l_loc {
    unsigned long long addr;
    int n;
    char *func[32]; /* malloc'ed; C++ names run to kilobytes */
    char file[32][512];
    long line[32];
} a2l_loc;

struct program {
    const char *name;
    unsigned long long bias, lo, hi; /* printed by the program */
    char path[1024];                 /* its exit heap profile */
    prof p;
};

static void run_program(struct program *pg)
{
    const char *dir = h_fresh_dir(pg->name);
    char out[1100];
    snprintf(out, sizeof out, "MPROF_OUT=%s/p", dir);
    run r;
    run_spec s = {.argv = {h_prog(pg->name)}, .env = {"MPROF_MEM_RATE=1", out}, .cwd = dir};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "%s: status %d\n%s", pg->name,
                  run_exit_code(&r), r.err.s);
    ck_assert_msg(sscanf(r.out.s, "bias %llx text %llx %llx", &pg->bias, &pg->lo,
                         &pg->hi) == 3, "no bias line in:\n%s", r.out.s);
    ck_assert_msg(strlen(r.err.s) == 0, "stderr: %s", r.err.s);
    heap_file f[MAX_FILES];
    int n = heap_files(dir, "p", f, MAX_FILES);
    ck_assert_msg(n == 1, "%d heap files in %s", n, dir);
    snprintf(pg->path, sizeof pg->path, "%s", f[0].path);
    char err[4096];
    ck_assert_msg(prof_load(pg->path, &pg->p, err, sizeof err) == 0, "%s", err);
    run_free(&r);
}

/* addr2line's "file:line" (or "??:?", or "file:line (discriminator N)"). */
static void split_file_line(const char *s, char *file, size_t flen, long *line)
{
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    snprintf(file, flen, "%.*s", (int)n, s);
    *line = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (!strcmp(file, "??"))
        file[0] = '\0';
}

/* Run addr2line once over every address of the program's own code. */
static int addr2line(const struct program *pg, a2l_loc *out, int max)
{
    strbuf cmd = {0};
    sb_printf(&cmd, "addr2line -a -i -f -C -e %s", h_prog(pg->name));
    int n = 0;
    for (size_t i = 0; i < pg->p.nlocs && n < max; i++) {
        unsigned long long a = pg->p.locs[i].addr;
        if (a >= pg->lo && a < pg->hi) {
            sb_printf(&cmd, " %#llx", a - pg->bias);
            out[n++].addr = a;
        }
    }
    run r;
    run_spec s = {.argv = {"/bin/sh", "-c", cmd.s}, .no_preload = true};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "addr2line: %s", r.err.s);
    int k = -1;
    char *save = NULL, *func = NULL;
    for (char *l = strtok_r(r.out.s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(l, "0x", 2) && !func) { /* the address line of the next block */
            k++;
            ck_assert_int_lt(k, n);
            out[k].n = 0;
        } else if (!func) {
            func = l;
        } else {
            a2l_loc *a = &out[k];
            ck_assert_int_lt(a->n, 32);
            a->func[a->n] = strdup(strcmp(func, "??") ? func : "");
            split_file_line(l, a->file[a->n], sizeof a->file[0], &a->line[a->n]);
            a->n++;
            func = NULL;
        }
    }
    ck_assert_int_eq(k + 1, n);
    run_free(&r);
    sb_free(&cmd);
    return n;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const prof_loc *loc_at(const prof *p, unsigned long long addr)
{
    for (size_t i = 0; i < p->nlocs; i++)
        if (p->locs[i].addr == addr)
            return &p->locs[i];
    return NULL;
}

/* Every location in the program's code: the frames addr2line gives. Returns
 * the deepest inline chain seen. */
static int match_addr2line(struct program *pg)
{
    static a2l_loc want[512];
    int n = addr2line(pg, want, 512), deepest = 0;
    ck_assert_msg(n > 0, "no location in %s's own code", pg->name);
    for (int i = 0; i < n; i++) {
        const prof_loc *got = loc_at(&pg->p, want[i].addr);
        const a2l_loc *w = &want[i];
        ck_assert_msg(got->nframes == w->n, "%#llx: %d frames, addr2line has %d (innermost %s)",
                      w->addr, got->nframes, w->n, w->func[0]);
        for (int k = 0; k < w->n; k++) {
            const prof_frame *f = &got->frames[k];
            ck_assert_msg(!strcmp(f->func, w->func[k]) && f->line == w->line[k] &&
                              !strcmp(base(f->file), base(w->file[k])),
                          "%#llx frame %d: %s %s:%ld, addr2line: %s %s:%ld", w->addr, k,
                          f->func, f->file, f->line, w->func[k], w->file[k], w->line[k]);
            ck_assert_msg(strncmp(f->func, "_Z", 2) != 0, "%s is not demangled", f->func);
            if (!strcmp(f->func, "_start"))
                ck_assert_msg(f->line == 0 && !f->file[0], "_start has a line: %s:%ld",
                              f->file, f->line);
        }
        deepest = w->n > deepest ? w->n : deepest;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < want[i].n; k++)
            free(want[i].func[k]);
    return deepest;
}

/* The symbolized file itself: one Function per function, every mapping used. */
static void check_records(const struct program *pg)
{
    char path[1100], err[512];
    snprintf(path, sizeof path, "%s.symbolized.pb.gz", pg->path);
    mprof_pprof_profile p;
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < p.nfunction; i++)
        for (size_t j = i + 1; j < p.nfunction; j++)
            ck_assert_msg(p.function[i].system_name != p.function[j].system_name ||
                              p.function[i].filename != p.function[j].filename,
                          "function %s twice", mprof_pprof_string(&p, p.function[i].name));
    for (size_t i = 0; i < p.nfunction; i++)
        for (size_t j = i + 1; j < p.nfunction; j++)
            ck_assert_msg(p.function[i].name != p.function[j].name ||
                              !strcmp(mprof_pprof_string(&p, p.function[i].name), "main") == 0,
                          "main in two records (%s, %s)",
                          mprof_pprof_string(&p, p.function[i].filename),
                          mprof_pprof_string(&p, p.function[j].filename));
    for (size_t i = 0; i < p.nmapping; i++) {
        int used = 0;
        for (size_t j = 0; j < p.nlocation; j++)
            used |= p.location[j].mapping_id == p.mapping[i].id;
        ck_assert_msg(used, "mapping %s: no location uses it",
                      mprof_pprof_string(&p, p.mapping[i].filename));
        ck_assert_msg(!strstr(mprof_pprof_string(&p, p.mapping[i].filename), "libmprof"),
                      "libmprof.so is a mapping of the profile");
    }
    mprof_pprof_free(&p);
}

/* mprof's own reader, on the file as the dump wrote it. */
static void check_collapsed(const struct program *pg, const char *want)
{
    run r;
    run_spec s = {.argv = {h_tool(), "collapsed", pg->path, "--sample-index", "alloc_space"},
                  .no_preload = true};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0, "mprof collapsed: %s", r.err.s);
    ck_assert_msg(strstr(r.out.s, want), "no stack with '%s' in:\n%.3000s", want, r.out.s);
    run_free(&r);
}

/* go tool pprof's source view on the symbolized file: the README says it
 * works there. */
static void check_list(const struct program *pg, const char *func, const char *src)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.symbolized.pb.gz", pg->path);
    run r;
    run_spec s = {.argv = {"go", "tool", "pprof", "-sample_index=alloc_space", "-list", func,
                           path},
                  .no_preload = true};
    run_checked(&r, &s);
    ck_assert_msg(run_exit_code(&r) == 0 && strstr(r.out.s, "ROUTINE") && strstr(r.out.s, src),
                  "pprof -list %s: status %d, no '%s' in:\n%s%s", func, run_exit_code(&r),
                  src, r.out.s, r.err.s);
    run_free(&r);
}

START_TEST(inline_chain_as_addr2line)
{
    struct program pg = {.name = "inline_chain"};
    run_program(&pg);
    ck_assert_int_ge(match_addr2line(&pg), 4); /* level3 level2 level1 chain_outer */
    check_records(&pg);
    check_collapsed(&pg, "main;chain_outer;level1;level2;level3 ");
    check_list(&pg, "chain_outer", "void *p = level1(n);");
    prof_free(&pg.p);
}
END_TEST

START_TEST(cxx_stl_as_addr2line)
{
    struct program pg = {.name = "cxx_stl"};
    run_program(&pg);
    ck_assert_int_ge(match_addr2line(&pg), 4);
    check_records(&pg);
    /* resize is inlined into put, whose last call, to _M_default_append,
     * is a tail call: main calls it, as far as the stack knows */
    check_collapsed(&pg, "main;std::vector<double, std::allocator<double> >"
                         "::_M_default_append(unsigned long);"
                         "std::_Vector_base<double, std::allocator<double> >"
                         "::_M_allocate(unsigned long);");
    prof_free(&pg.p);
}
END_TEST

/* A stripped program with no debug file: its frames are "[name]", and
 * mprof top says, under the table, which module and which build ID. */
START_TEST(stripped_program_note)
{
    const char *dir = h_fresh_dir("stripped_program_note");
    char bin[1100], out[1100], cmd[2400];
    snprintf(bin, sizeof bin, "%s/stripped", dir);
    snprintf(cmd, sizeof cmd, "objcopy --strip-all %s %s", h_prog("inline_chain"), bin);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(out, sizeof out, "MPROF_OUT=%s/p", dir);
    run r;
    run_spec s = {.argv = {bin}, .env = {"MPROF_MEM_RATE=1", out}, .cwd = dir};
    run_checked(&r, &s);
    ck_assert_int_eq(run_exit_code(&r), 0);
    run_free(&r);
    heap_file f[MAX_FILES];
    ck_assert_int_eq(heap_files(dir, "p", f, MAX_FILES), 1);
    run t;
    run_spec ts = {.argv = {h_tool(), "top", f[0].path, "--sample-index", "alloc_space"},
                   .no_preload = true};
    run_checked(&t, &ts);
    ck_assert_int_eq(run_exit_code(&t), 0);
    ck_assert_msg(strstr(t.out.s, "[stripped]") && strstr(t.out.s, "note: ") &&
                      strstr(t.out.s, bin) && strstr(t.out.s, "build ID ") &&
                      strstr(t.out.s, "debuginfod-find debuginfo "),
                  "no note about %s in:\n%s", bin, t.out.s);
    run_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("symbols");
    add_tests(s, 120, TESTS(inline_chain_as_addr2line, cxx_stl_as_addr2line));
    add_tests(s, 60, TESTS(stripped_program_note));
    return run_built_suite(s);
}
