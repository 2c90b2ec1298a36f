/*
 * test_outname.c: the profile file names (core/output/outname.c): the
 * format users' scripts depend on, byte for byte; format and parse as
 * inverses, prefixes with dots and digits of their own included; the
 * names that are not profile files; names too long for their buffer;
 * the order files are listed in.
 */
#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outname.h"

static const char *const prefixes[] = {
    "mprof", "/tmp/walk/demo", "run.2", "a.1.2", "1", "v1.2.3-rc.4", "x.pb.gz",
    "dir.7/p.8", "mprof.", "out.heap", "./rel/9.9.9", "a b",
};
static const long pids[] = {0, 1, 42, 4194304, INT_MAX, LONG_MAX};
static const unsigned long seqs[] = {0, 1, 2, 10, UINT_MAX, ULONG_MAX};
static const char *const kinds[] = {"heap", "block", "mutex", "threadcreate", "peak", "x"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The names as dump.c printed them before outname.c existed. */
START_TEST(test_format_unchanged)
{
    char buf[256], old[256];
    ck_assert_int_eq(mprof_outname_format(buf, sizeof buf, "mprof", 1234, 1, "heap"), 23);
    ck_assert_str_eq(buf, "mprof.1234.1.heap.pb.gz");
    for (size_t p = 0; p < N(prefixes); p++)
        for (int pid = 1; pid < 100000; pid *= 7)
            for (unsigned seq = 1; seq < 1000; seq *= 3)
                for (size_t k = 0; k < MPROF_NKINDS; k++) {
                    const char *kind = mprof_outname_kinds[k];
                    int n = mprof_outname_format(buf, sizeof buf, prefixes[p], pid, seq, kind);
                    snprintf(old, sizeof old, "%s.%d.%u.%s.pb.gz", prefixes[p], pid, seq, kind);
                    ck_assert_str_eq(buf, old);
                    ck_assert_int_eq(n, (int)strlen(old));
                }
    ck_assert_str_eq(mprof_outname_kinds[MPROF_KIND_HEAP], "heap");
    ck_assert_str_eq(mprof_outname_kinds[MPROF_KIND_BLOCK], "block");
    ck_assert_str_eq(mprof_outname_kinds[MPROF_KIND_MUTEX], "mutex");
    ck_assert_str_eq(mprof_outname_kinds[MPROF_KIND_PEAK], "peak");
}
END_TEST

static void expect_parts(const char *name, const mprof_outname *o, const char *prefix,
                         long pid, unsigned long seq, const char *kind, int tmp)
{
    ck_assert_msg(o->prefix_len == strlen(prefix) && !strncmp(name, prefix, o->prefix_len),
                  "%s: prefix %.*s, not %s", name, (int)o->prefix_len, name, prefix);
    ck_assert_msg(o->pid == pid && o->seq == seq, "%s: pid %ld seq %lu, not %ld %lu", name,
                  o->pid, o->seq, pid, seq);
    ck_assert_str_eq(o->kind, kind);
    ck_assert_int_eq(o->tmp, tmp);
}

START_TEST(test_round_trip)
{
    char name[512], tmp[520];
    for (size_t p = 0; p < N(prefixes); p++)
        for (size_t i = 0; i < N(pids); i++)
            for (size_t s = 0; s < N(seqs); s++)
                for (size_t k = 0; k < N(kinds); k++) {
                    ck_assert_int_gt(mprof_outname_format(name, sizeof name, prefixes[p],
                                                          pids[i], seqs[s], kinds[k]), 0);
                    mprof_outname o;
                    memset(&o, 0x55, sizeof o);
                    ck_assert_msg(mprof_outname_parse(name, &o) == 0, "%s does not parse", name);
                    expect_parts(name, &o, prefixes[p], pids[i], seqs[s], kinds[k], 0);
                    ck_assert_int_eq(mprof_outname_match(name, prefixes[p], &o), 0);
                    expect_parts(name, &o, prefixes[p], pids[i], seqs[s], kinds[k], 0);

                    int n = mprof_outname_tmp(tmp, sizeof tmp, name);
                    ck_assert_int_eq(n, (int)strlen(name) + 4);
                    ck_assert_str_eq(tmp + strlen(name), ".tmp");
                    ck_assert_int_eq(mprof_outname_match(tmp, prefixes[p], &o), 0);
                    expect_parts(tmp, &o, prefixes[p], pids[i], seqs[s], kinds[k], 1);
                }
}
END_TEST

/* A prefix matches itself only: not one it starts with, nor one that
 * starts with it, though dots and digits make them look alike. */
START_TEST(test_match_only_own_prefix)
{
    mprof_outname o;
    const char *name = "a.1.2.3.heap.pb.gz"; /* prefix "a.1", pid 2, seq 3 */
    ck_assert_int_eq(mprof_outname_match(name, "a.1", &o), 0);
    expect_parts(name, &o, "a.1", 2, 3, "heap", 0);
    ck_assert_int_eq(mprof_outname_match(name, "a", &o), -1);
    ck_assert_int_eq(mprof_outname_match(name, "a.1.2", &o), -1);
    ck_assert_int_eq(mprof_outname_match(name, "", &o), -1);
    ck_assert_int_eq(mprof_outname_match("run.2.10.1.mutex.pb.gz", "run.2", &o), 0);
    expect_parts("run.2.10.1.mutex.pb.gz", &o, "run.2", 10, 1, "mutex", 0);
    ck_assert_int_eq(mprof_outname_match("run.2.10.1.mutex.pb.gz", "run", &o), -1);
    ck_assert_int_eq(mprof_outname_match("mprof.7.1.heap.pb.gz", "mprof.7", &o), -1);
    ck_assert_int_eq(mprof_outname_match("mprofx.7.1.heap.pb.gz", "mprof", &o), -1);
}
END_TEST

START_TEST(test_not_profile_names)
{
    static const char *const bad[] = {
        "", ".pb.gz", "heap.pb.gz", ".1.1.heap.pb.gz", "mprof.1.1.heap.pb",
        "mprof.1.1.heap.pb.gz.", "mprof.1.1.heap.pb.gzx", "mprof.1.1.heap.pb.gz.tmp.tmp",
        "mprof.1.1.heap.pb.gz.TMP", "mprof.1.heap.pb.gz", "mprof.1.1.pb.gz",
        "mprof.1.1..pb.gz", "mprof.1.1.Heap.pb.gz", "mprof.1.1.heap2.pb.gz",
        "mprof.1.1.he-ap.pb.gz", "mprof.-1.1.heap.pb.gz", "mprof.+1.1.heap.pb.gz",
        "mprof. 1.1.heap.pb.gz", "mprof.1.0x1.heap.pb.gz", "mprof..1.heap.pb.gz",
        "mprof.1..heap.pb.gz", "1.1.heap.pb.gz", "mprof.1.1.heap.pb.gz.tmpx",
        "mprof.1.1.abcdefghijklmnop.pb.gz",          /* a 16-letter kind */
        "mprof.9223372036854775808.1.heap.pb.gz",    /* LONG_MAX + 1 */
        "mprof.1.18446744073709551616.heap.pb.gz",   /* ULONG_MAX + 1 */
        "mprof.1.99999999999999999999999.heap.pb.gz",
    };
    for (size_t i = 0; i < N(bad); i++) {
        mprof_outname o;
        ck_assert_msg(mprof_outname_parse(bad[i], &o) == -1, "\"%s\" parsed", bad[i]);
    }
    /* the longest kind there is room for, and the edges of the numbers */
    mprof_outname o;
    ck_assert_int_eq(mprof_outname_parse("p.1.1.abcdefghijklmno.pb.gz", &o), 0);
    ck_assert_str_eq(o.kind, "abcdefghijklmno");
    ck_assert_int_eq(mprof_outname_parse("p.9223372036854775807.18446744073709551615.heap.pb.gz",
                                         &o), 0);
    ck_assert(o.pid == LONG_MAX && o.seq == ULONG_MAX);
    ck_assert_int_eq(mprof_outname_parse("p.007.010.heap.pb.gz", &o), 0);
    ck_assert(o.pid == 7 && o.seq == 10);
}
END_TEST

/* What would not parse back is not formatted. */
START_TEST(test_format_refuses)
{
    char buf[64] = "junk";
    ck_assert_int_eq(mprof_outname_format(buf, sizeof buf, "", 1, 1, "heap"), -EINVAL);
    ck_assert_str_eq(buf, "");
    static const char *const bad_kinds[] = {"", "Heap", "heap.pb", "he ap", "heap2",
                                            "abcdefghijklmnop"};
    for (size_t i = 0; i < N(bad_kinds); i++)
        ck_assert_int_eq(mprof_outname_format(buf, sizeof buf, "p", 1, 1, bad_kinds[i]), -EINVAL);
    ck_assert_int_eq(mprof_outname_format(buf, sizeof buf, "p", -1, 1, "heap"), -EINVAL);
    ck_assert_int_eq(mprof_outname_format(buf, sizeof buf, "p", 1, 1, "abcdefghijklmno"), 27);
    strcpy(buf, "junk");
    ck_assert_int_eq(mprof_outname_tmp(buf, sizeof buf, ""), -EINVAL);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* A name fits only with room for its NUL; otherwise the buffer holds ""
 * and nothing is written past it. */
START_TEST(test_too_long)
{
    const char *want = "mprof.1234.56.heap.pb.gz";
    size_t len = strlen(want);
    char buf[64];
    for (size_t size = 0; size <= len + 1; size++) {
        memset(buf, 'x', sizeof buf);
        int n = mprof_outname_format(buf, size, "mprof", 1234, 56, "heap");
        if (size == len + 1) {
            ck_assert_int_eq(n, (int)len);
            ck_assert_str_eq(buf, want);
        } else {
            ck_assert_int_eq(n, -ENAMETOOLONG);
            ck_assert_int_eq(buf[0], size ? '\0' : 'x');
        }
        for (size_t i = size; i < sizeof buf; i++)
            ck_assert_int_eq(buf[i], 'x');
    }
    for (size_t size = 0; size <= len + 5; size++) {
        memset(buf, 'x', sizeof buf);
        int n = mprof_outname_tmp(buf, size, want);
        if (size == len + 5) {
            ck_assert_int_eq(n, (int)len + 4);
            ck_assert_str_eq(buf + len, ".tmp");
        } else {
            ck_assert_int_eq(n, -ENAMETOOLONG);
            ck_assert_int_eq(buf[0], size ? '\0' : 'x');
        }
        for (size_t i = size; i < sizeof buf; i++)
            ck_assert_int_eq(buf[i], 'x');
    }
    /* a prefix as long as MPROF_OUT allows (config.h) still gets its name */
    static char prefix[3800 + 1], name[3800 + 64];
    memset(prefix, 'p', sizeof prefix - 1);
    ck_assert_int_gt(mprof_outname_format(name, sizeof name, prefix, INT_MAX, UINT_MAX,
                                          "mutex"), 0);
}
END_TEST

static int cmp_names(const void *a, const void *b)
{
    mprof_outname x, y;
    ck_assert_int_eq(mprof_outname_parse(*(const char *const *)a, &x), 0);
    ck_assert_int_eq(mprof_outname_parse(*(const char *const *)b, &y), 0);
    return mprof_outname_cmp(&x, &y);
}

/* By pid and seq as numbers (not as text), then as a dump writes them. */
START_TEST(test_order)
{
    const char *sorted[] = {
        "m.2.1.heap.pb.gz",  "m.2.1.heap.pb.gz.tmp", "m.2.1.block.pb.gz",
        "m.2.1.mutex.pb.gz", "m.2.1.threadcreate.pb.gz", "m.2.1.peak.pb.gz",
        "m.2.2.mutex.pb.gz", "m.2.10.heap.pb.gz",    "m.10.1.block.pb.gz",
    };
    const char *shuffled[N(sorted)];
    for (size_t round = 0; round < 20; round++) {
        memcpy(shuffled, sorted, sizeof sorted);
        for (size_t i = N(sorted) - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1);
            const char *t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        qsort(shuffled, N(shuffled), sizeof shuffled[0], cmp_names);
        for (size_t i = 0; i < N(sorted); i++)
            ck_assert_str_eq(shuffled[i], sorted[i]);
    }
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("outname");
    tcase_add_test(tc, test_format_unchanged);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_match_only_own_prefix);
    tcase_add_test(tc, test_not_profile_names);
    tcase_add_test(tc, test_format_refuses);
    tcase_add_test(tc, test_too_long);
    tcase_add_test(tc, test_order);
    return run_suite("outname", tc, NULL);
}
