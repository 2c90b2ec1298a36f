/*
 * tools_graph.c: `mprof collapsed` and `mprof flame` (tools/collapsed.c,
 * tools/flame.c, tools/stacks.c): collapsed stacks, well-formed SVG whose
 * script runs, and names and shapes no C compiler makes.
 */
#include "tutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


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

void tools_add_graph_tests(Suite *s)
{
    h_add_test(s, "collapsed_stacks", collapsed_stacks, 60);
    h_add_test(s, "flame_graph", flame_graph, 60);
    h_add_test(s, "hostile_names_and_shapes", hostile_names_and_shapes, 60);
}
