/*
 * test_symbolize.c: in-process symbolization (core/output/symbolize.c) of this
 * test binary (built with -g) and of libc: mappings with the main binary
 * first and build IDs, static function names, file:line, inline frames,
 * and addresses that belong to nothing.
 */
#include <check.h>
#include <dlfcn.h>
#include "run_suite.h"
#include <elfutils/libdwfl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "elfnames.h"
#include "segments.h"
#include "symbolize.h"

static volatile int sink;
static int leaf_line, inl_leaf_line, inl_outer_line;

static __attribute__((noinline, noipa)) uintptr_t return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

static __attribute__((noinline, noipa)) uintptr_t symtest_leaf(void)
{
    leaf_line = __LINE__ + 1;
    uintptr_t pc = return_address();
    __asm__ volatile("" ::: "memory");
    return pc;
}

static inline __attribute__((always_inline)) uintptr_t symtest_inlined(void)
{
    inl_leaf_line = __LINE__ + 1;
    uintptr_t pc = return_address();
    __asm__ volatile("" ::: "memory");
    return pc;
}

static __attribute__((noinline, noipa)) uintptr_t symtest_outer(void)
{
    inl_outer_line = __LINE__ + 1;
    uintptr_t pc = symtest_inlined();
    __asm__ volatile("" ::: "memory");
    return pc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A frame of a function of this file, at a line of it. */
static void expect_frame(const mprof_sym_frame *f, const char *name, int line)
{
    ck_assert_str_eq(f->name, name);
    ck_assert_ptr_nonnull(f->file);
    ck_assert(ends_with(f->file, "test_symbolize.c"));
    ck_assert_int_eq(f->line, line);
}

static int is_hex(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* A symbolizer of this process at `level`, in a scratch of its own that
 * close_self() releases with it. */
static mprof_scratch g_sc;

static mprof_symbolizer *open_self(int level)
{
    mprof_scratch_init(&g_sc);
    return mprof_symbolizer_open(&g_sc, level);
}

static void close_self(mprof_symbolizer *sym)
{
    mprof_symbolizer_close(sym);
    mprof_scratch_release(&g_sc);
}

START_TEST(test_mappings)
{
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    ck_assert_ptr_nonnull(sym);
    ck_assert_uint_gt(mprof_symbolizer_nmappings(sym), 1);

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(n, 0);
    exe[n] = '\0';
    mprof_sym_mapping *m0 = mprof_symbolizer_mapping(sym, 0);
    ck_assert(m0->is_main);
    ck_assert_str_eq(m0->path, exe);
    ck_assert(is_hex(m0->build_id));
    ck_assert_uint_eq(strlen(m0->build_id), 40); /* sha1 build IDs */
    ck_assert_uint_lt(m0->start, m0->limit);

    /* our code is in mapping 0; libc's in a libc mapping with a build ID */
    ck_assert_int_eq(mprof_symbolizer_find_mapping(sym, (uintptr_t)&symtest_leaf), 0);
    long li = mprof_symbolizer_find_mapping(sym, (uintptr_t)&getpid);
    ck_assert_int_gt(li, 0);
    mprof_sym_mapping *lm = mprof_symbolizer_mapping(sym, (size_t)li);
    ck_assert_ptr_nonnull(strstr(lm->path, "libc"));
    ck_assert(is_hex(lm->build_id));

    /* the rest is sorted and disjoint */
    for (size_t i = 2; i < mprof_symbolizer_nmappings(sym); i++) {
        mprof_sym_mapping *a = mprof_symbolizer_mapping(sym, i - 1);
        mprof_sym_mapping *b = mprof_symbolizer_mapping(sym, i);
        ck_assert_uint_le(a->limit, b->start);
        ck_assert(b->path[0] == '/' || strcmp(b->path, "[vdso]") == 0);
    }
    ck_assert_ptr_null(mprof_symbolizer_mapping(sym, 100000));
    close_self(sym);
}
END_TEST

START_TEST(test_static_function_and_line)
{
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    uintptr_t pc = symtest_leaf();
    mprof_sym_frame fr[8];
    int n = mprof_symbolize(sym, pc - 1, fr, 8);
    ck_assert_int_eq(n, 1);
    expect_frame(&fr[0], "symtest_leaf", leaf_line);
    ck_assert_int_eq(fr[0].start_line, leaf_line - 3); /* the line naming it */

    /* a function's first byte */
    n = mprof_symbolize(sym, (uintptr_t)&return_address, fr, 8);
    ck_assert_int_ge(n, 1);
    ck_assert_str_eq(fr[n - 1].name, "return_address");
    ck_assert(mprof_symbolizer_mapping(sym, 0)->has_lines);
    close_self(sym);
}
END_TEST

START_TEST(test_inline_frames)
{
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    uintptr_t pc = symtest_outer();
    mprof_sym_frame fr[8];
    int n = mprof_symbolize(sym, pc - 1, fr, 8);
    ck_assert_int_eq(n, 2);
    expect_frame(&fr[0], "symtest_inlined", inl_leaf_line);
    expect_frame(&fr[1], "symtest_outer", inl_outer_line);
    ck_assert(mprof_symbolizer_mapping(sym, 0)->has_inline);
    /* room for one frame: the innermost */
    ck_assert_int_eq(mprof_symbolize(sym, pc - 1, fr, 1), 1);
    ck_assert_str_eq(fr[0].name, "symtest_inlined");
    close_self(sym);
}
END_TEST

START_TEST(test_libc_symbol)
{
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    mprof_sym_frame fr[8];
    int n = mprof_symbolize(sym, (uintptr_t)&getpid + 1, fr, 8);
    ck_assert_int_ge(n, 1);
    ck_assert_ptr_nonnull(strstr(fr[n - 1].name, "getpid"));
    close_self(sym);
}
END_TEST

START_TEST(test_unknown_addresses)
{
    /* anonymous executable memory, as a JIT would have */
    void *jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    mprof_sym_frame fr[8];
    ck_assert_int_eq(mprof_symbolize(sym, 0, fr, 8), 0);
    ck_assert_int_eq(mprof_symbolize(sym, 16, fr, 8), 0);
    ck_assert_int_eq(mprof_symbolize(sym, UINT64_MAX, fr, 8), 0);
    ck_assert_int_eq(mprof_symbolizer_find_mapping(sym, 0), -1);
    ck_assert_int_eq(mprof_symbolizer_find_mapping(sym, UINT64_MAX), -1);
    if (jit != MAP_FAILED) {
        ck_assert_int_eq(mprof_symbolizer_find_mapping(sym, (uintptr_t)jit + 8), -1);
        ck_assert_int_eq(mprof_symbolize(sym, (uintptr_t)jit + 8, fr, 8), 0);
        munmap(jit, 4096);
    }
    close_self(sym);
}
END_TEST

/* This process as libdwfl sees it: what our names are checked against. */
static Dwfl *dwfl_self(void)
{
    static const Dwfl_Callbacks cb = {.find_elf = dwfl_linux_proc_find_elf,
                                      .find_debuginfo = dwfl_build_id_find_debuginfo};
    Dwfl *d = dwfl_begin(&cb);
    ck_assert_ptr_nonnull(d);
    dwfl_report_begin(d);
    ck_assert_int_eq(dwfl_linux_proc_report(d, getpid()), 0);
    ck_assert_int_eq(dwfl_report_end(d, NULL, NULL), 0);
    return d;
}

/* libdwfl's name for address a (NULL: none), its symbol in *es. */
static const char *dwfl_name(Dwfl *d, uint64_t a, GElf_Sym *es)
{
    Dwfl_Module *mod = dwfl_addrmodule(d, a);
    GElf_Off off;
    return mod ? dwfl_module_addrinfo(mod, a, &off, es, NULL, NULL, NULL) : NULL;
}

/* got is libdwfl's want (its symbol es) but for the liberties we take:
 * GCC clones ("f.part.0") named for their function, the symbol version
 * dropped ("f@@GLIBC_2.34"), and no name past a sizeless label's section
 * (libdwfl stretches _init or _fini over the padding up to the next
 * section; we stop at its section's end). */
static bool same_but_liberties(const char *want, const char *got, const GElf_Sym *es)
{
    if (want && !got && es->st_size == 0)
        return true;
    size_t len = got ? strlen(got) : 0;
    return want && got && strncmp(want, got, len) == 0 && (want[len] == '.' || want[len] == '@');
}

/* The mappings whose addresses are compared: the program and libc. */
static bool compared_mapping(const mprof_sym_mapping *m)
{
    return m->is_main || strstr(m->path, "libc.so");
}

/* Our sorted symbol index answers as dwfl_module_addrinfo does (which
 * scans the table per lookup), but for the liberties of
 * same_but_liberties(). */
START_TEST(test_symbols_match_libdwfl)
{
    Dwfl *d = dwfl_self();
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
    unsigned seed = 5;
    int compared = 0;
    for (size_t i = 0; i < mprof_symbolizer_nmappings(sym); i++) {
        mprof_sym_mapping *m = mprof_symbolizer_mapping(sym, i);
        if (!compared_mapping(m))
            continue;
        for (int k = 0; k < 3000; k++) {
            uint64_t a = m->start + (uint64_t)rand_r(&seed) % (m->limit - m->start);
            GElf_Sym es;
            const char *want = dwfl_name(d, a, &es);
            mprof_sym_frame fr[16];
            int n = mprof_symbolize(sym, a, fr, 16);
            const char *got = n ? fr[n - 1].name : NULL;
            compared++;
            if (want && got && strcmp(want, got) == 0)
                continue;
            if (!want && (!got || n > 0)) /* nothing, or DWARF knows better */
                continue;
            if (same_but_liberties(want, got, &es))
                continue;
            ck_abort_msg("%s at %#llx: libdwfl says %s, we say %s", m->path,
                         (unsigned long long)a, want ? want : "-", got ? got : "-");
        }
    }
    ck_assert_int_ge(compared, 6000);
    close_self(sym);
    dwfl_end(d);
}
END_TEST

/* The names a dump writes (MPROF_SYMBOLS=names: libelf, one pass over each
 * table for a batch of addresses) are libdwfl's, with the same two
 * liberties: clones named for their function, versions dropped. */
START_TEST(test_names_level_matches_libdwfl)
{
    Dwfl *d = dwfl_self();
    mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_NAMES);
    static uint64_t addrs[6000];
    size_t n = 0;
    unsigned seed = 7;
    for (size_t i = 0; i < mprof_symbolizer_nmappings(sym); i++) {
        mprof_sym_mapping *m = mprof_symbolizer_mapping(sym, i);
        if (!compared_mapping(m))
            continue;
        ck_assert_uint_eq(strlen(m->build_id), 40); /* from the notes in memory */
        for (int k = 0; k < 3000 && n < 6000; k++)
            addrs[n++] = m->start + (uint64_t)rand_r(&seed) % (m->limit - m->start);
    }
    ck_assert_uint_eq(n, 6000);
    ck_assert_int_eq(mprof_symbolizer_prepare(sym, addrs, n), 0);
    int named = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = addrs[i];
        GElf_Sym es;
        const char *want = dwfl_name(d, a, &es);
        mprof_sym_frame fr[4];
        int nf = mprof_symbolize(sym, a, fr, 4);
        ck_assert_int_le(nf, 1); /* names only: no inlined frames */
        const char *got = nf ? fr[0].system_name : NULL;
        named += got != NULL;
        if ((!want && !got) || (want && got && strcmp(want, got) == 0))
            continue;
        if (same_but_liberties(want, got, &es))
            continue;
        ck_abort_msg("%#llx: libdwfl says %s, the names level %s", (unsigned long long)a,
                     want ? want : "-", got ? got : "-");
    }
    ck_assert_int_ge(named, 5000);
    close_self(sym);
    dwfl_end(d);
}
END_TEST

/* Names of n addresses at the names level, in sc. */
static void names_of(mprof_scratch *sc, const uint64_t *addrs, size_t n, const char **out)
{
    mprof_symbolizer *sym = mprof_symbolizer_open(sc, MPROF_SYMBOLS_NAMES);
    ck_assert_int_eq(mprof_symbolizer_prepare(sym, addrs, n), 0);
    for (size_t i = 0; i < n; i++) {
        mprof_sym_frame fr[2];
        out[i] = mprof_symbolize(sym, addrs[i], fr, 2) ? fr[0].system_name : NULL;
    }
    mprof_symbolizer_close(sym);
}

/* The kept index (elfnames.h, mprof_elfnames_keep) names every address as
 * the one pass over the table does: random ones in the program and libc
 * (gaps, labels such as _start, nested and aliased symbols included), and
 * each side of function entries; the second time from the index alone. */
START_TEST(test_kept_index_matches_one_pass)
{
    enum { N = 6000 };
    static uint64_t addrs[N];
    static const char *pass[N], *kept[N], *again[N];
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_symbolizer *sym = mprof_symbolizer_open(&sc, MPROF_SYMBOLS_NAMES);
    size_t n = 0;
    unsigned seed = 11;
    const uintptr_t entries[] = {(uintptr_t)&getpid, (uintptr_t)&malloc, (uintptr_t)&memcpy,
                                 (uintptr_t)&symtest_leaf};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        addrs[n++] = entries[i] - 1;
        addrs[n++] = entries[i];
    }
    for (size_t i = 0; i < mprof_symbolizer_nmappings(sym); i++) {
        mprof_sym_mapping *m = mprof_symbolizer_mapping(sym, i);
        if (!compared_mapping(m))
            continue;
        for (int k = 0; k < N / 2 - 8 && n < N; k++)
            addrs[n++] = m->start + (uint64_t)rand_r(&seed) % (m->limit - m->start);
    }
    mprof_symbolizer_close(sym);
    names_of(&sc, addrs, n, pass);
    mprof_elfnames_keep();
    names_of(&sc, addrs, n, kept);
    names_of(&sc, addrs, n, again);
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        named += pass[i] != NULL;
        if (!(pass[i] ? kept[i] && strcmp(pass[i], kept[i]) == 0 : !kept[i]))
            ck_abort_msg("%#llx: one pass says %s, the index %s", (unsigned long long)addrs[i],
                         pass[i] ? pass[i] : "-", kept[i] ? kept[i] : "-");
        ck_assert(kept[i] ? again[i] && strcmp(kept[i], again[i]) == 0 : !again[i]);
    }
    ck_assert_uint_ge(named, n * 3 / 4);
    /* A fork child answers from the indexes it inherited, the same. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mprof_symbolizer_after_fork();
        names_of(&sc, addrs, n, again);
        for (size_t i = 0; i < n; i++)
            if (kept[i] ? !again[i] || strcmp(kept[i], again[i]) != 0 : again[i] != NULL)
                _exit(1);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fork child named otherwise");
    mprof_scratch_release(&sc);
}
END_TEST

static int has_path(const mprof_segment *s, size_t n, const char *part)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].path && strstr(s[i].path, part))
            return 1;
    return 0;
}

/* The kept list of segments (segments.h) is the walk's, field by field,
 * and is walked again once the loader loads something. */
START_TEST(test_kept_segments)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_segment *fresh, *kept, *after;
    size_t n = mprof_segments(&sc, &fresh);
    ck_assert_uint_gt(n, 2);
    mprof_segments_keep();
    ck_assert_uint_eq(mprof_segments(&sc, &kept), n); /* walked, then kept */
    ck_assert_uint_eq(mprof_segments(&sc, &kept), n); /* from the kept list */
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(kept[i].start, fresh[i].start);
        ck_assert_uint_eq(kept[i].limit, fresh[i].limit);
        ck_assert_uint_eq(kept[i].offset, fresh[i].offset);
        ck_assert_uint_eq(kept[i].bias, fresh[i].bias);
        ck_assert_int_eq(kept[i].is_main, fresh[i].is_main);
        ck_assert_str_eq(kept[i].path, fresh[i].path);
        ck_assert_str_eq(kept[i].build_id, fresh[i].build_id);
    }
    /* A library not loaded yet (a sanitizer runtime may have loaded
     * libstdc++ already): the first of these that is not. */
    static const char *const libs[][2] = {{"libstdc++.so.6", "libstdc++"},
                                          {"libcrypt.so.1", "libcrypt"},
                                          {"libutil.so.1", "libutil"},
                                          {"libanl.so.1", "libanl"}};
    size_t k = 0;
    while (k < sizeof libs / sizeof libs[0] && has_path(kept, n, libs[k][1]))
        k++;
    ck_assert_msg(k < sizeof libs / sizeof libs[0], "every candidate library is loaded already");
    void *h = dlopen(libs[k][0], RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "%s: %s", libs[k][0], dlerror());
    size_t m = mprof_segments(&sc, &after);
    ck_assert_uint_gt(m, n);
    ck_assert(has_path(after, m, libs[k][1]));
    ck_assert_uint_eq(mprof_segments(&sc, &after), m);
    ck_assert(has_path(after, m, libs[k][1]));
    mprof_scratch_release(&sc);
}
END_TEST

/* A symbolizer per dump: repeated opens must not leak descriptors. */
START_TEST(test_repeated_open_close)
{
    int before = dup(0);
    close(before);
    for (int i = 0; i < 20; i++) {
        mprof_symbolizer *sym = open_self(MPROF_SYMBOLS_FULL);
        mprof_sym_frame fr[4];
        ck_assert_int_ge(mprof_symbolize(sym, symtest_leaf() - 1, fr, 4), 1);
        close_self(sym);
    }
    int after = dup(0);
    close(after);
    ck_assert_int_eq(before, after);
    sink = 1;
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("symbolize");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mappings);
    tcase_add_test(tc, test_static_function_and_line);
    tcase_add_test(tc, test_inline_frames);
    tcase_add_test(tc, test_libc_symbol);
    tcase_add_test(tc, test_unknown_addresses);
    tcase_add_test(tc, test_repeated_open_close);
    tcase_add_test(tc, test_symbols_match_libdwfl);
    tcase_add_test(tc, test_names_level_matches_libdwfl);
    tcase_add_test(tc, test_kept_index_matches_one_pass); /* these keep: last */
    tcase_add_test(tc, test_kept_segments);
    return run_suite("symbolize", tc, NULL);
}
