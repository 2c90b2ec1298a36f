/* Unit tests of core/config.c: defaults, valid values, and one clear
 * message (variable, bad value, value used) per bad value. */
#include "config.h"
#include "symbolize.h"
#include "log.h"

#include <check.h>
#include "run_suite.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char **env_table;
static char logged[8][512];
static int nlogged;

static const char *lookup(const char *name, void *ctx)
{
    (void)ctx;
    for (const char **e = env_table; e && *e; e += 2)
        if (strcmp(e[0], name) == 0)
            return e[1];
    return NULL;
}

static void sink(const char *line)
{
    if (nlogged < 8)
        snprintf(logged[nlogged], sizeof logged[0], "%s", line);
    nlogged++;
}

static void load(mprof_config *c, const char **table)
{
    env_table = table;
    nlogged = 0;
    mprof_log_set_sink(sink);
    mprof_config_defaults(c);
    mprof_config_load(c, lookup, NULL);
}

START_TEST(defaults)
{
    mprof_config c;
    load(&c, NULL);
    ck_assert_uint_eq(c.mem_rate, 524288);
    ck_assert_uint_eq(c.block_rate, 10000);
    ck_assert_uint_eq(c.mutex_fraction, 10);
    ck_assert_uint_eq(c.epoch_ms, 100);
    ck_assert_uint_eq(c.dump_interval, 0);
    ck_assert_int_eq(c.signal, SIGUSR2);
    ck_assert_int_eq(c.stack_depth, 64);
    ck_assert_str_eq(c.out, "mprof");
    ck_assert_int_eq(c.symbols, MPROF_SYMBOLS_NAMES);
    ck_assert_uint_eq(c.sync, 0);
    ck_assert_uint_eq(c.threadcreate, 1);
    ck_assert_uint_eq(c.threads, 1);
    ck_assert_uint_eq(c.peak_growth, 10);
    ck_assert_uint_eq(c.inuse_interval, 0);
    ck_assert_uint_eq(c.last_words_ms, 2000);
    ck_assert_int_eq(nlogged, 0);
}
END_TEST

START_TEST(valid_values)
{
    const char *t[] = {"MPROF_MEM_RATE", "1", "MPROF_EPOCH_MS", "10",
                       "MPROF_SIGNAL", "SIGUSR1", "MPROF_OUT", "/tmp/x/prof",
                       "MPROF_DUMP_INTERVAL", "5", "MPROF_STACK_DEPTH", "128",
                       "MPROF_BLOCK_RATE", "0", "MPROF_MUTEX_FRACTION", "1", NULL};
    mprof_config c;
    load(&c, t);
    ck_assert_uint_eq(c.mem_rate, 1);
    ck_assert_uint_eq(c.epoch_ms, 10);
    ck_assert_int_eq(c.signal, SIGUSR1);
    ck_assert_str_eq(c.out, "/tmp/x/prof");
    ck_assert_uint_eq(c.dump_interval, 5);
    ck_assert_int_eq(c.stack_depth, 128);
    ck_assert_uint_eq(c.block_rate, 0);
    ck_assert_uint_eq(c.mutex_fraction, 1);
    ck_assert_int_eq(nlogged, 0);
}
END_TEST

static void expect_one_complaint(const char *var, const char *value, const char *used)
{
    const char *t[] = {var, value, NULL};
    mprof_config c;
    load(&c, t);
    ck_assert_msg(nlogged == 1, "%s=%s: %d lines", var, value, nlogged);
    ck_assert_msg(strncmp(logged[0], "mprof: ", 7) == 0, "%s", logged[0]);
    ck_assert_msg(strstr(logged[0], var), "%s", logged[0]);
    ck_assert_msg(strstr(logged[0], value), "%s", logged[0]);
    ck_assert_msg(strstr(logged[0], used), "no '%s' in: %s", used, logged[0]);
    ck_assert_msg(logged[0][strlen(logged[0]) - 1] == '\n', "one whole line");
}

/* Issue 16's settings: the peak's step (a percentage, or off), the growth
 * dumps' interval in bytes, the last words' bound in ms (0 off). */
START_TEST(peak_and_last_words)
{
    const char *t[] = {"MPROF_PEAK_GROWTH", "0", "MPROF_INUSE_INTERVAL", "1048576",
                       "MPROF_LAST_WORDS", "0", NULL};
    mprof_config c;
    load(&c, t);
    ck_assert_uint_eq(c.peak_growth, 0);
    ck_assert_uint_eq(c.inuse_interval, 1048576);
    ck_assert_uint_eq(c.last_words_ms, 0);
    ck_assert_int_eq(nlogged, 0);
    const char *off[] = {"MPROF_PEAK_GROWTH", "OFF", NULL};
    load(&c, off);
    ck_assert_uint_eq(c.peak_growth, MPROF_PEAK_OFF);
    ck_assert_int_eq(nlogged, 0);
    expect_one_complaint("MPROF_PEAK_GROWTH", "1.1", "using 10");
    expect_one_complaint("MPROF_PEAK_GROWTH", "10001", "using 10");
    expect_one_complaint("MPROF_INUSE_INTERVAL", "10M", "using 0");
    expect_one_complaint("MPROF_LAST_WORDS", "60001", "using 2000");
}
END_TEST

START_TEST(bad_values)
{
    /* A variable, what the complaint says is used instead, bad values. */
    static const struct {
        const char *var, *used, *values[5];
    } bad[] = {
        {"MPROF_MEM_RATE", "using 524288", {"abc", "-1", "12k", "99999999999999999999999"}},
        {"MPROF_EPOCH_MS", "using 100", {"0", "-5"}},
        {"MPROF_STACK_DEPTH", "using 64", {"100000"}},
        {"MPROF_DUMP_INTERVAL", "using 0", {"1.5"}},
        {"MPROF_SIGNAL", "using 12", {"FOO", "SIGKILL", "11"}},
        {"MPROF_OUT", "using 'mprof'", {""}},
        {"MPROF_THREADCREATE", "using 1", {"2", "on"}},
        {"MPROF_THREADS", "using 1", {"3", "all"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (size_t j = 0; bad[i].values[j]; j++)
            expect_one_complaint(bad[i].var, bad[i].values[j], bad[i].used);
}
END_TEST

START_TEST(symbols_and_sync)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {{"none", MPROF_SYMBOLS_NONE}, {"names", MPROF_SYMBOLS_NAMES},
                 {"full", MPROF_SYMBOLS_FULL}, {"FULL", MPROF_SYMBOLS_FULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t[] = {"MPROF_SYMBOLS", cases[i].v, "MPROF_SYNC", "1", NULL};
        mprof_config c;
        load(&c, t);
        ck_assert_int_eq(c.symbols, cases[i].want);
        ck_assert_uint_eq(c.sync, 1);
        ck_assert_int_eq(nlogged, 0);
    }
    expect_one_complaint("MPROF_SYMBOLS", "dwarf", "using names");
    expect_one_complaint("MPROF_SYNC", "yes", "using 0");
}
END_TEST

START_TEST(signal_names)
{
    ck_assert_int_eq(mprof_parse_signal("USR2"), SIGUSR2);
    ck_assert_int_eq(mprof_parse_signal("sigusr1"), SIGUSR1);
    ck_assert_int_eq(mprof_parse_signal("PROF"), SIGPROF);
    ck_assert_int_eq(mprof_parse_signal("10"), 10);
    ck_assert_int_eq(mprof_parse_signal("none"), 0);
    ck_assert_int_eq(mprof_parse_signal("SEGV"), -1);
    ck_assert_int_eq(mprof_parse_signal(""), -1);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, valid_values);
    tcase_add_test(tc, peak_and_last_words);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, symbols_and_sync);
    tcase_add_test(tc, signal_names);
    return run_suite("config", tc, NULL);
}
