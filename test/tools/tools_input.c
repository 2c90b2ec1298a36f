/*
 * tools_input.c: every command on bad input (tools/reader.c): files that
 * are not profiles, stacks too large to be real, control characters,
 * truncated and corrupted profiles: a clean refusal, never a crash.
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

void tools_add_input_tests(Suite *s)
{
    h_add_test(s, "huge_stacks_and_control_characters", huge_stacks_and_control_characters, 60);
    h_add_test(s, "bad_input_files", bad_input_files, 60);
    h_add_test(s, "corrupt_profiles_never_crash", corrupt_profiles_never_crash, 60);
}
