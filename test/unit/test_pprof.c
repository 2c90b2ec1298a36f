/*
 * test_pprof.c: the output side end to end (core/pprof.c): samples with
 * real PCs of this binary -> symbolized, encoded, gzipped file -> decoded
 * back; the decoder against truncated, corrupted and hand-made input
 * (unpacked fields, any order); gzip; atomic writes and their failures;
 * and `go tool pprof` as the reference reader, both ways.
 */
#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbuf.h"
#include "pprof.h"
#include "profile.h"
#include "scratch.h"

/* ---- code whose addresses the samples use ---- */

static int alpha_line, inl_leaf_line, inl_outer_line;

static __attribute__((noinline, noipa)) uintptr_t return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

static __attribute__((noinline, noipa)) uintptr_t mprof_test_alpha(void)
{
    alpha_line = __LINE__ + 1;
    uintptr_t pc = return_address();
    __asm__ volatile("" ::: "memory");
    return pc;
}

static __attribute__((noinline, noipa)) void mprof_test_caller(void)
{
    __asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) uintptr_t mprof_test_inlined(void)
{
    inl_leaf_line = __LINE__ + 1;
    uintptr_t pc = return_address();
    __asm__ volatile("" ::: "memory");
    return pc;
}

static __attribute__((noinline, noipa)) uintptr_t mprof_test_outer(void)
{
    inl_outer_line = __LINE__ + 1;
    uintptr_t pc = mprof_test_inlined();
    __asm__ volatile("" ::: "memory");
    return pc;
}

/* A C function under a C++ mangled name: pprof should demangle it. */
static __attribute__((noinline, noipa)) void mangled_fn(void)
    __asm__("_ZN5mprof4test7mangledEv");
static void mangled_fn(void) { __asm__ volatile("" ::: "memory"); }

#define MANGLED "_ZN5mprof4test7mangledEv"

/* ---- helpers ---- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/mprof-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *tmp_path(const char *name)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static mprof_profile_desc heap_desc(void)
{
    mprof_profile_desc d;
    memset(&d, 0, sizeof d);
    d.nvalues = 4;
    d.sample_type[0] = (mprof_value_type){"alloc_objects", "count"};
    d.sample_type[1] = (mprof_value_type){"alloc_space", "bytes"};
    d.sample_type[2] = (mprof_value_type){"inuse_objects", "count"};
    d.sample_type[3] = (mprof_value_type){"inuse_space", "bytes"};
    d.period_type = (mprof_value_type){"space", "bytes"};
    d.period = 524288;
    d.time_nanos = 1700000000123456789LL;
    d.duration_nanos = 5000000000LL;
    d.default_sample_type = "inuse_space";
    d.ncomments = 2;
    d.comments[0] = "dropped 0 samples";
    d.comments[1] = "mprof unit test";
    return d;
}

/* The fixture: five samples over a few real stacks. */
struct fixture {
    uintptr_t alpha_pc, inl_pc, caller_pc, mangled_pc;
    uintptr_t st1[4], st2[2], st3[2], st5[2];
    mprof_sample s[5];
};

static void make_fixture(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->alpha_pc = mprof_test_alpha();
    f->inl_pc = mprof_test_outer();
    f->caller_pc = (uintptr_t)&mprof_test_caller + 1;
    f->mangled_pc = (uintptr_t)&mangled_fn + 1;
    uintptr_t st1[4] = {f->alpha_pc, f->caller_pc, 0, 0};
    uintptr_t st2[2] = {f->alpha_pc, f->caller_pc};
    uintptr_t st3[2] = {f->inl_pc, f->mangled_pc};
    uintptr_t st5[2] = {0x10, f->alpha_pc};
    memcpy(f->st1, st1, sizeof st1);
    memcpy(f->st2, st2, sizeof st2);
    memcpy(f->st3, st3, sizeof st3);
    memcpy(f->st5, st5, sizeof st5);
    f->s[0] = (mprof_sample){f->st1, 4, {1, 100, 1, 100}, 100};
    f->s[1] = (mprof_sample){f->st2, 2, {2, 4096, 0, 0}, 2048};
    f->s[2] = (mprof_sample){f->st3, 2, {7, 7000, 3, 3000}, 0};
    f->s[3] = (mprof_sample){NULL, 0, {-1, -5, 0, 0}, 0};
    f->s[4] = (mprof_sample){f->st5, 2, {1, 1, 1, 1}, 1};
}

static const mprof_pprof_function *line_fn(const mprof_pprof_profile *p,
                                           const mprof_pprof_location *l,
                                           size_t k)
{
    ck_assert_uint_lt(k, l->nline);
    const mprof_pprof_function *fn =
        mprof_pprof_function_by_id(p, l->line[k].function_id);
    ck_assert_ptr_nonnull(fn);
    return fn;
}

static const char *fn_name(const mprof_pprof_profile *p,
                           const mprof_pprof_location *l, size_t k)
{
    return mprof_pprof_string(p, line_fn(p, l, k)->name);
}

static const mprof_pprof_location *sample_loc(const mprof_pprof_profile *p,
                                              size_t s, size_t j)
{
    ck_assert_uint_lt(j, p->sample[s].nlocation_id);
    const mprof_pprof_location *l =
        mprof_pprof_location_by_id(p, p->sample[s].location_id[j]);
    ck_assert_ptr_nonnull(l);
    return l;
}

/* The encoded (not gzipped) fixture profile, in sc. */
static void encode_fixture(mprof_scratch *sc, const uint8_t **data, size_t *len)
{
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();
    mprof_pprof_profile p;
    ck_assert_int_eq(mprof_profile_build(sc, &d, f.s, 5, NULL, &p), 0);
    mprof_pbuf b;
    mprof_pbuf_init(&b, sc);
    ck_assert_int_eq(mprof_pprof_encode(&p, &b), 0);
    *data = b.buf;
    *len = b.len;
}

/* ---- round trip through a file ---- */

static void check_header(const mprof_pprof_profile *p)
{
    static const char *types[4][2] = {{"alloc_objects", "count"},
                                      {"alloc_space", "bytes"},
                                      {"inuse_objects", "count"},
                                      {"inuse_space", "bytes"}};
    ck_assert_uint_ge(p->nstring_table, 1);
    ck_assert_str_eq(p->string_table[0].s, "");
    ck_assert_uint_eq(p->nsample_type, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(mprof_pprof_string(p, p->sample_type[i].type), types[i][0]);
        ck_assert_str_eq(mprof_pprof_string(p, p->sample_type[i].unit), types[i][1]);
    }
    ck_assert_str_eq(mprof_pprof_string(p, p->period_type.type), "space");
    ck_assert_str_eq(mprof_pprof_string(p, p->period_type.unit), "bytes");
    ck_assert_int_eq(p->period, 524288);
    ck_assert_int_eq(p->time_nanos, 1700000000123456789LL);
    ck_assert_int_eq(p->duration_nanos, 5000000000LL);
    ck_assert_str_eq(mprof_pprof_string(p, p->default_sample_type), "inuse_space");
    ck_assert_uint_eq(p->ncomment, 2);
    ck_assert_str_eq(mprof_pprof_string(p, p->comment[0]), "dropped 0 samples");
    ck_assert_str_eq(mprof_pprof_string(p, p->comment[1]), "mprof unit test");
}

static void check_values(const mprof_pprof_profile *p, const struct fixture *f)
{
    ck_assert_uint_eq(p->nsample, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(p->sample[i].nvalue, 4);
        for (size_t k = 0; k < 4; k++)
            ck_assert_int_eq(p->sample[i].value[k], f->s[i].value[k]);
        if (f->s[i].bytes == 0) {
            ck_assert_uint_eq(p->sample[i].nlabel, 0);
            continue;
        }
        ck_assert_uint_eq(p->sample[i].nlabel, 1);
        ck_assert_str_eq(mprof_pprof_string(p, p->sample[i].label[0].key), "bytes");
        ck_assert_int_eq(p->sample[i].label[0].num, f->s[i].bytes);
    }
    /* trailing zero PCs dropped; equal addresses share locations */
    ck_assert_uint_eq(p->sample[0].nlocation_id, 2);
    ck_assert_uint_eq(p->sample[1].nlocation_id, 2);
    ck_assert_uint_eq(p->sample[0].location_id[0], p->sample[1].location_id[0]);
    ck_assert_uint_eq(p->sample[0].location_id[1], p->sample[1].location_id[1]);
    ck_assert_uint_eq(p->sample[4].location_id[1], p->sample[0].location_id[0]);
    ck_assert_uint_eq(p->sample[3].nlocation_id, 0);
}

static void check_main_mapping(const mprof_pprof_profile *p, const struct fixture *f)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(n, 0);
    exe[n] = '\0';
    ck_assert_uint_ge(p->nmapping, 1);
    /* only mappings that some location points into (not libc, libcheck,
     * ... that no sample passed through) */
    for (size_t i = 0; i < p->nmapping; i++) {
        int used = 0;
        for (size_t j = 0; j < p->nlocation; j++)
            used |= p->location[j].mapping_id == p->mapping[i].id;
        ck_assert_msg(used, "mapping %s is in the profile, no location uses it",
                      mprof_pprof_string(p, p->mapping[i].filename));
    }
    const mprof_pprof_mapping *m = &p->mapping[0];
    ck_assert_uint_eq(m->id, 1);
    ck_assert_str_eq(mprof_pprof_string(p, m->filename), exe);
    ck_assert_uint_eq(strlen(mprof_pprof_string(p, m->build_id)), 40);
    ck_assert(m->has_functions);
    ck_assert(m->has_filenames);
    ck_assert(m->has_line_numbers);
    ck_assert(m->has_inline_frames);
    ck_assert_uint_le(m->memory_start, f->alpha_pc);
    ck_assert_uint_gt(m->memory_limit, f->alpha_pc);
}

static void check_symbols(const mprof_pprof_profile *p, const struct fixture *f)
{
    const mprof_pprof_location *a = sample_loc(p, 0, 0);
    ck_assert_uint_eq(a->address, f->alpha_pc - 1);
    ck_assert_uint_eq(a->mapping_id, 1);
    ck_assert_uint_eq(a->nline, 1);
    ck_assert_str_eq(fn_name(p, a, 0), "mprof_test_alpha");
    const mprof_pprof_function *fn = line_fn(p, a, 0);
    ck_assert_str_eq(mprof_pprof_string(p, fn->system_name), "mprof_test_alpha");
    ck_assert(ends_with(mprof_pprof_string(p, fn->filename), "test_pprof.c"));
    ck_assert_int_eq(a->line[0].line, alpha_line);
    ck_assert_int_eq(fn->start_line, alpha_line - 3);

    const mprof_pprof_location *c = sample_loc(p, 0, 1);
    ck_assert_uint_eq(c->address, (uintptr_t)&mprof_test_caller);
    ck_assert_str_eq(fn_name(p, c, c->nline - 1), "mprof_test_caller");

    const mprof_pprof_location *inl = sample_loc(p, 2, 0);
    ck_assert_uint_eq(inl->nline, 2);
    ck_assert_str_eq(fn_name(p, inl, 0), "mprof_test_inlined");
    ck_assert_int_eq(inl->line[0].line, inl_leaf_line);
    ck_assert_str_eq(fn_name(p, inl, 1), "mprof_test_outer");
    ck_assert_int_eq(inl->line[1].line, inl_outer_line);

    /* demangled into name, as addr2line -C; the linkage name kept */
    const mprof_pprof_location *mg = sample_loc(p, 2, 1);
    ck_assert_str_eq(fn_name(p, mg, mg->nline - 1), "mprof::test::mangled()");
    ck_assert_str_eq(mprof_pprof_string(p, line_fn(p, mg, mg->nline - 1)->system_name),
                     MANGLED);

    const mprof_pprof_location *unk = sample_loc(p, 4, 0);
    ck_assert_uint_eq(unk->address, 0xf);
    ck_assert_uint_eq(unk->mapping_id, 0);
    ck_assert_uint_eq(unk->nline, 0);
}

static void check_dedup(const mprof_pprof_profile *p)
{
    for (size_t i = 0; i < p->nfunction; i++) {
        if (p->function[i].id != i + 1)
            ck_abort_msg("function %zu has id %llu", i,
                         (unsigned long long)p->function[i].id);
        for (size_t j = i + 1; j < p->nfunction; j++)
            if (p->function[i].name == p->function[j].name &&
                p->function[i].filename == p->function[j].filename)
                ck_abort_msg("functions %zu and %zu are the same", i, j);
    }
    for (size_t i = 0; i < p->nlocation; i++)
        for (size_t j = i + 1; j < p->nlocation; j++)
            if (p->location[i].address == p->location[j].address)
                ck_abort_msg("locations %zu and %zu share an address", i, j);
    for (size_t i = 1; i < p->nstring_table; i++)
        for (size_t j = i + 1; j < p->nstring_table; j++)
            if (strcmp(p->string_table[i].s, p->string_table[j].s) == 0)
                ck_abort_msg("strings %zu and %zu are equal", i, j);
}

START_TEST(test_write_read_roundtrip)
{
    make_tmpdir();
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();
    const char *path = tmp_path("heap.pb.gz");
    ck_assert_int_eq(mprof_profile_write_file(path, &d, f.s, 5), 0);
    ck_assert(!exists(tmp_path("heap.pb.gz.tmp")));

    /* gzip magic on disk */
    int fd = open(path, O_RDONLY);
    unsigned char magic[2];
    ck_assert_int_eq(read(fd, magic, 2), 2);
    close(fd);
    ck_assert_uint_eq(magic[0], 0x1f);
    ck_assert_uint_eq(magic[1], 0x8b);

    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    check_header(&p);
    check_values(&p, &f);
    check_main_mapping(&p, &f);
    check_symbols(&p, &f);
    check_dedup(&p);
    mprof_pprof_free(&p);
    remove_tmpdir();
}
END_TEST

START_TEST(test_encode_decode_identity)
{
    /* decode(encode(x)) re-encodes to the same bytes */
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    const uint8_t *data;
    size_t len;
    encode_fixture(&sc, &data, &len);
    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_decode(&p, data, len, err, sizeof err) == 0, "%s", err);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    ck_assert_int_eq(mprof_pprof_encode(&p, &b), 0);
    ck_assert_uint_eq(b.len, len);
    ck_assert(memcmp(b.buf, data, len) == 0);
    mprof_pprof_free(&p);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_empty_profile)
{
    make_tmpdir();
    mprof_profile_desc d = heap_desc();
    d.default_sample_type = NULL;
    d.ncomments = 0;
    const char *path = tmp_path("empty.pb.gz");
    ck_assert_int_eq(mprof_profile_write_file(path, &d, NULL, 0), 0);
    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&p, path, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nsample, 0);
    ck_assert_uint_eq(p.nlocation, 0);
    ck_assert_uint_eq(p.nsample_type, 4);
    ck_assert_int_eq(p.default_sample_type, 0);
    ck_assert_uint_eq(p.nmapping, 0); /* no location, so no mapping */
    mprof_pprof_free(&p);
    remove_tmpdir();
}
END_TEST

START_TEST(test_bad_desc)
{
    mprof_profile_desc d = heap_desc();
    d.nvalues = 0;
    ck_assert_int_eq(mprof_profile_write_file("/tmp/x", &d, NULL, 0), -EINVAL);
    d.nvalues = MPROF_MAX_VALUES + 1;
    ck_assert_int_eq(mprof_profile_write_file("/tmp/x", &d, NULL, 0), -EINVAL);
    d = heap_desc();
    d.ncomments = -1;
    ck_assert_int_eq(mprof_profile_write_file("/tmp/x", &d, NULL, 0), -EINVAL);
    d = heap_desc();
    ck_assert_int_eq(mprof_profile_write_file(NULL, &d, NULL, 0), -EINVAL);
    ck_assert_int_eq(mprof_profile_write_file("/tmp/x", NULL, NULL, 0), -EINVAL);
    ck_assert_int_eq(mprof_profile_write_file("/tmp/x", &d, NULL, 3), -EINVAL);
    ck_assert_int_eq(mprof_profile_write_file("", &d, NULL, 0), -EINVAL);
}
END_TEST

/* ---- decoder robustness ---- */

START_TEST(test_decode_every_truncation)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    const uint8_t *data;
    size_t len;
    encode_fixture(&sc, &data, &len);
    size_t failures = 0;
    for (size_t n = 0; n < len; n++) {
        /* an exact-size copy, so reading past the end would be caught by
         * ASan or a guard page */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data, n);
        mprof_pprof_profile p;
        char err[256] = "";
        if (mprof_pprof_decode(&p, copy, n, err, sizeof err) == 0) {
            mprof_pprof_free(&p);
        } else {
            if (err[0] == '\0' || strchr(err, '\n'))
                ck_abort_msg("bad message '%s' at length %zu", err, n);
            failures++;
        }
        free(copy);
    }
    /* a prefix cut inside a field always fails; most prefixes are */
    ck_assert_uint_gt(failures, len / 2);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_decode_bit_flips)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    const uint8_t *data;
    size_t len;
    encode_fixture(&sc, &data, &len);
    unsigned seed = 4242;
    uint8_t *copy = malloc(len);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, data, len);
        int flips = 1 + rand_r(&seed) % 4;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)rand_r(&seed) % len;
            if (rand_r(&seed) % 2)
                copy[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
            else
                copy[at] = (uint8_t)rand_r(&seed);
        }
        mprof_pprof_profile p;
        char err[256] = "";
        if (mprof_pprof_decode(&p, copy, len, err, sizeof err) == 0)
            mprof_pprof_free(&p);
        else if (err[0] == '\0')
            ck_abort_msg("no message for flip iteration %d", iter);
    }
    free(copy);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_decode_garbage)
{
    unsigned seed = 99;
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = (size_t)(rand_r(&seed) % 300);
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rand_r(&seed);
        mprof_pprof_profile p;
        char err[128] = "";
        if (mprof_pprof_decode(&p, buf, n, err, sizeof err) == 0)
            mprof_pprof_free(&p);
        else if (err[0] == '\0')
            ck_abort_msg("no message for garbage iteration %d", iter);
        free(buf);
    }
    /* a tiny err buffer is fine, and NULL too */
    mprof_pprof_profile p;
    char tiny[4];
    ck_assert_int_eq(mprof_pprof_decode(&p, "\x0a\x05", 2, tiny, sizeof tiny), -1);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
    ck_assert_int_eq(mprof_pprof_decode(&p, "\x0a\x05", 2, NULL, 0), -1);
}
END_TEST

static int decode_err(const void *data, size_t len, char *err, size_t errlen)
{
    mprof_pprof_profile p;
    int rc = mprof_pprof_decode(&p, data, len, err, errlen);
    if (rc == 0)
        mprof_pprof_free(&p);
    return rc;
}

#define ASSERT_DECODE_FAILS(b, substr)                                     \
    do {                                                                   \
        char err_[256] = "";                                               \
        ck_assert_int_eq(decode_err((b).buf, (b).len, err_, sizeof err_), -1); \
        ck_assert_msg(strstr(err_, substr), "error '%s' lacks '%s'", err_, substr); \
    } while (0)

static void str(mprof_pbuf *b, const char *s)
{
    mprof_pbuf_bytes(b, 6, s, strlen(s));
}

/* A hand-made minimal profile: strings "", "samples", "count". */
static void minimal(mprof_pbuf *b)
{
    str(b, "");
    str(b, "samples");
    str(b, "count");
    size_t m = mprof_pbuf_begin(b, 1);
    mprof_pbuf_int64(b, 1, 1);
    mprof_pbuf_int64(b, 2, 2);
    mprof_pbuf_end(b, m);
}

START_TEST(test_decode_validation_errors)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;

    mprof_pbuf_init(&b, &sc);
    ASSERT_DECODE_FAILS(b, "string_table"); /* empty input */

    mprof_pbuf_init(&b, &sc);
    str(&b, "x");
    ASSERT_DECODE_FAILS(b, "Profile.string_table[0]: must be \"\"");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_int64(&b, 12, 1);
    mprof_pbuf_int64(&b, 14, 7); /* default_sample_type out of range */
    ASSERT_DECODE_FAILS(b, "Profile.default_sample_type: string index 7");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    size_t m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_int64(&b, 2, 1);
    mprof_pbuf_int64(&b, 2, 2);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0]: 2 values for 1 sample types");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_uint64(&b, 1, 5);
    mprof_pbuf_int64(&b, 2, 1);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].location_id[0]: no location with id 5");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    for (int i = 0; i < 2; i++) {
        m = mprof_pbuf_begin(&b, 5);
        mprof_pbuf_uint64(&b, 1, 3);
        mprof_pbuf_end(&b, m);
    }
    ASSERT_DECODE_FAILS(b, "Profile.function[1]: duplicate id 3");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0]: id 0 is reserved");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 1);
    mprof_pbuf_uint64(&b, 2, 9);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0].mapping_id: no mapping with id 9");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 1);
    size_t l = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 2);
    mprof_pbuf_end(&b, l);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.location[0].line[0].function_id: no function with id 2");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_uint64(&b, 1, 1); /* sample_type as a varint */
    ASSERT_DECODE_FAILS(b, "Profile.sample_type[1]: unexpected wire type varint");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_fixed64(&b, 9, 1); /* time_nanos as fixed64 */
    ASSERT_DECODE_FAILS(b, "Profile.time_nanos: unexpected wire type fixed64");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_raw(&b, "\x0a\x02\x80\x80", 4); /* packed, cut mid-varint */
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].location_id: packed: truncated varint");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_raw(&b, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0]: varint overflows 64 bits at byte");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    mprof_pbuf_raw(&b, "\x12\xff\xff\xff\xff\xff\xff\xff\x3f", 9); /* huge length */
    ASSERT_DECODE_FAILS(b, "runs past the end");

    mprof_pbuf_init(&b, &sc);
    minimal(&b);
    m = mprof_pbuf_begin(&b, 2);
    mprof_pbuf_int64(&b, 2, 1);
    size_t lb = mprof_pbuf_begin(&b, 3);
    mprof_pbuf_int64(&b, 1, 99); /* label key */
    mprof_pbuf_end(&b, lb);
    mprof_pbuf_end(&b, m);
    ASSERT_DECODE_FAILS(b, "Profile.sample[0].label[0].key: string index 99 out of range");

    mprof_scratch_release(&sc);
}
END_TEST

/* As Go writes: fields out of order, repeated scalars unpacked (pprof's own
 * encoder does that for short lists), unknown fields, ids not 1..n. */
START_TEST(test_decode_unpacked_any_order)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);

    size_t m = mprof_pbuf_begin(&b, 2); /* sample before everything */
    mprof_pbuf_uint64(&b, 1, 90);
    mprof_pbuf_int64(&b, 2, 5);
    mprof_pbuf_uint64(&b, 99, 12345);     /* unknown varint field */
    mprof_pbuf_bytes(&b, 100, "zz", 2);   /* unknown bytes field */
    mprof_pbuf_fixed32(&b, 101, 7);       /* unknown fixed32 */
    mprof_pbuf_uint64(&b, 1, 80);
    uint64_t more[] = {90, 80};
    mprof_pbuf_packed_uint64(&b, 1, more, 2); /* mixed with packed */
    mprof_pbuf_int64(&b, 2, -3);
    mprof_pbuf_end(&b, m);

    m = mprof_pbuf_begin(&b, 4);
    size_t l = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_int64(&b, 2, 12);
    mprof_pbuf_uint64(&b, 1, 7);
    mprof_pbuf_end(&b, l);
    mprof_pbuf_uint64(&b, 3, 0x1234);
    mprof_pbuf_uint64(&b, 1, 90);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 4);
    mprof_pbuf_uint64(&b, 1, 80);
    mprof_pbuf_end(&b, m);

    str(&b, "");
    m = mprof_pbuf_begin(&b, 5);
    mprof_pbuf_int64(&b, 4, 4);
    mprof_pbuf_int64(&b, 2, 3);
    mprof_pbuf_uint64(&b, 1, 7);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 1);
    mprof_pbuf_int64(&b, 2, 2);
    mprof_pbuf_int64(&b, 1, 1);
    mprof_pbuf_end(&b, m);
    m = mprof_pbuf_begin(&b, 1);
    mprof_pbuf_int64(&b, 1, 1);
    mprof_pbuf_end(&b, m);
    str(&b, "samples");
    str(&b, "count");
    str(&b, "main");
    str(&b, "f.c");
    mprof_pbuf_int64(&b, 12, 1);
    mprof_pbuf_int64(&b, 12, 3); /* a repeated singular field: last wins */
    ck_assert_int_eq(b.err, 0);

    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_decode(&p, b.buf, b.len, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nstring_table, 5);
    ck_assert_uint_eq(p.nsample_type, 2);
    ck_assert_int_eq(p.period, 3);
    ck_assert_uint_eq(p.nsample, 1);
    ck_assert_uint_eq(p.sample[0].nlocation_id, 4);
    ck_assert_uint_eq(p.sample[0].location_id[0], 90);
    ck_assert_uint_eq(p.sample[0].location_id[1], 80);
    ck_assert_uint_eq(p.sample[0].location_id[2], 90);
    ck_assert_uint_eq(p.sample[0].location_id[3], 80);
    ck_assert_uint_eq(p.sample[0].nvalue, 2);
    ck_assert_int_eq(p.sample[0].value[0], 5);
    ck_assert_int_eq(p.sample[0].value[1], -3);
    const mprof_pprof_location *loc = mprof_pprof_location_by_id(&p, 90);
    ck_assert_ptr_nonnull(loc);
    ck_assert_uint_eq(loc->address, 0x1234);
    ck_assert_uint_eq(loc->nline, 1);
    ck_assert_int_eq(loc->line[0].line, 12);
    const mprof_pprof_function *fn = mprof_pprof_function_by_id(&p, 7);
    ck_assert_ptr_nonnull(fn);
    ck_assert_str_eq(mprof_pprof_string(&p, fn->name), "main");
    ck_assert_str_eq(mprof_pprof_string(&p, fn->filename), "f.c");
    ck_assert_ptr_null(mprof_pprof_location_by_id(&p, 1));
    ck_assert_ptr_null(mprof_pprof_location_by_id(&p, 0));
    ck_assert_ptr_null(mprof_pprof_mapping_by_id(&p, 1));
    ck_assert_str_eq(mprof_pprof_string(&p, 1000), "");
    ck_assert_str_eq(mprof_pprof_string(&p, -1), "");
    mprof_pprof_free(&p);
    mprof_scratch_release(&sc);
}
END_TEST

/* ---- gzip ---- */

START_TEST(test_gzip_roundtrip)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    size_t n = 3 << 20;
    uint8_t *in = mprof_scratch_alloc(&sc, n);
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(i % 251 < 100 ? (size_t)rand_r(&seed) : i % 7);
    void *gz, *out;
    size_t gzlen, outlen;
    const char *err = NULL;
    ck_assert_int_eq(mprof_gzip(&sc, in, n, &gz, &gzlen), 0);
    ck_assert_uint_lt(gzlen, n);
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 30, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, n);
    ck_assert(memcmp(out, in, n) == 0);

    /* empty input */
    ck_assert_int_eq(mprof_gzip(&sc, in, 0, &gz, &gzlen), 0);
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, 1 << 30, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, 0);

    /* two members back to back read as one stream */
    void *g1, *g2;
    size_t l1, l2;
    ck_assert_int_eq(mprof_gzip(&sc, "hello ", 6, &g1, &l1), 0);
    ck_assert_int_eq(mprof_gzip(&sc, "world", 5, &g2, &l2), 0);
    uint8_t *both = mprof_scratch_alloc(&sc, l1 + l2);
    memcpy(both, g1, l1);
    memcpy(both + l1, g2, l2);
    ck_assert_int_eq(mprof_gunzip(&sc, both, l1 + l2, 100, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, 11);
    ck_assert(memcmp(out, "hello world", 11) == 0);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_gunzip_errors)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    size_t n = 1 << 20;
    uint8_t *in = mprof_scratch_alloc(&sc, n); /* zeros: compresses well */
    void *gz, *out;
    size_t gzlen, outlen;
    const char *err = NULL;
    ck_assert_int_eq(mprof_gzip(&sc, in, n, &gz, &gzlen), 0);

    /* the size cap */
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, n - 1, &out, &outlen, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "exceeds"));
    ck_assert_int_eq(mprof_gunzip(&sc, gz, gzlen, n, &out, &outlen, &err), 0);

    /* every truncation of a smaller, less regular stream */
    size_t small = 20000;
    unsigned seed = 3;
    for (size_t i = 0; i < small; i++)
        in[i] = (uint8_t)(i % 3 ? i / 64 : (size_t)rand_r(&seed));
    void *sgz;
    size_t sgzlen;
    ck_assert_int_eq(mprof_gzip(&sc, in, small, &sgz, &sgzlen), 0);
    for (size_t k = 0; k < sgzlen; k++) {
        mprof_scratch one;
        mprof_scratch_init(&one);
        err = NULL;
        if (mprof_gunzip(&one, sgz, k, n, &out, &outlen, &err) != -1 || !err)
            ck_abort_msg("truncation at %zu of %zu not reported", k, sgzlen);
        mprof_scratch_release(&one);
    }
    /* not gzip at all; trailing garbage */
    ck_assert_int_eq(mprof_gunzip(&sc, "garbage!", 8, n, &out, &outlen, &err), -1);
    uint8_t *tail = mprof_scratch_alloc(&sc, gzlen + 3);
    memcpy(tail, gz, gzlen);
    memcpy(tail + gzlen, "xyz", 3);
    ck_assert_int_eq(mprof_gunzip(&sc, tail, gzlen + 3, n, &out, &outlen, &err), -1);
    /* corrupt CRC */
    uint8_t *bad = mprof_scratch_alloc(&sc, gzlen);
    memcpy(bad, gz, gzlen);
    bad[gzlen - 6] ^= 0xff;
    ck_assert_int_eq(mprof_gunzip(&sc, bad, gzlen, n, &out, &outlen, &err), -1);
    mprof_scratch_release(&sc);
}
END_TEST

START_TEST(test_read_file_errors)
{
    make_tmpdir();
    mprof_pprof_profile p;
    char err[256];
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("missing"), err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing: No such file"));

    /* a gzip file holding garbage */
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *gz;
    size_t gzlen;
    ck_assert_int_eq(mprof_gzip(&sc, "\x0a\x05", 2, &gz, &gzlen), 0);
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("bad.pb.gz"), gz, gzlen, 0), 0);
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("bad.pb.gz"), err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad.pb.gz: Profile"));

    /* a truncated gzip file */
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("cut.pb.gz"), gz, gzlen - 4, 0), 0);
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmp_path("cut.pb.gz"), err, sizeof err), -1);

    /* an uncompressed profile is accepted too */
    const uint8_t *raw;
    size_t rawlen;
    encode_fixture(&sc, &raw, &rawlen);
    ck_assert_int_eq(mprof_write_file_atomic(tmp_path("raw.pb"), raw, rawlen, 0), 0);
    ck_assert_msg(mprof_pprof_read_file(&p, tmp_path("raw.pb"), err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nsample, 5);
    mprof_pprof_free(&p);

    /* a directory */
    ck_assert_int_eq(mprof_pprof_read_file(&p, tmpdir, err, sizeof err), -1);
    mprof_scratch_release(&sc);
    remove_tmpdir();
}
END_TEST

/* ---- writing files, and failing to ---- */

START_TEST(test_write_failures_leave_nothing)
{
    make_tmpdir();
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();

    ck_assert_int_eq(mprof_profile_write_file(tmp_path("no/such/dir/x.pb.gz"), &d, f.s, 5),
                     -ENOENT);

    int fd = open(tmp_path("file"), O_CREAT | O_WRONLY, 0644);
    close(fd);
    ck_assert_int_eq(mprof_profile_write_file(tmp_path("file/x.pb.gz"), &d, f.s, 5),
                     -ENOTDIR);

    /* rename onto a directory fails after the data is written: the
     * temporary must go */
    ck_assert_int_eq(mkdir(tmp_path("target"), 0755), 0);
    int rc = mprof_profile_write_file(tmp_path("target"), &d, f.s, 5);
    ck_assert_int_eq(rc, -EISDIR);
    ck_assert(!exists(tmp_path("target.tmp")));

    /* read-only directory (root ignores permissions) */
    ck_assert_int_eq(mkdir(tmp_path("ro"), 0555), 0);
    if (geteuid() != 0) {
        ck_assert_int_eq(mprof_profile_write_file(tmp_path("ro/x.pb.gz"), &d, f.s, 5),
                         -EACCES);
        ck_assert(!exists(tmp_path("ro/x.pb.gz.tmp")));
    }

    char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    ck_assert_int_eq(mprof_profile_write_file(longpath, &d, f.s, 5), -ENAMETOOLONG);

    /* errno is left as the caller had it */
    errno = 1234;
    mprof_profile_write_file(tmp_path("no/such/dir/y"), &d, f.s, 5);
    ck_assert_int_eq(errno, 1234);
    remove_tmpdir();
}
END_TEST

/* A full disk, arranged with RLIMIT_FSIZE in a child process. */
START_TEST(test_write_fails_when_disk_full)
{
    make_tmpdir();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {100, 100};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(10);
        /* the profile is refused up front: no SIGXFSZ, no file */
        struct fixture f;
        make_fixture(&f);
        mprof_profile_desc d = heap_desc();
        if (mprof_profile_write_file(tmp_path("big.pb.gz"), &d, f.s, 5) != -EFBIG)
            _exit(11);
        if (exists(tmp_path("big.pb.gz")) || exists(tmp_path("big.pb.gz.tmp")))
            _exit(12);
        /* and when the write itself fails partway, the temporary goes */
        signal(SIGXFSZ, SIG_IGN);
        char data[4096] = {0};
        if (mprof_write_file_atomic(tmp_path("raw"), data, sizeof data, 0) != -EFBIG)
            _exit(13);
        if (exists(tmp_path("raw")) || exists(tmp_path("raw.tmp")))
            _exit(14);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    remove_tmpdir();
}
END_TEST

START_TEST(test_write_replaces_atomically)
{
    make_tmpdir();
    const char *path = tmp_path("p.pb.gz");
    ck_assert_int_eq(mprof_write_file_atomic(path, "old contents", 12, 0), 0);
    ck_assert_int_eq(mprof_write_file_atomic(path, "new", 3, 0), 0);
    char buf[32] = {0};
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(read(fd, buf, sizeof buf), 3);
    close(fd);
    ck_assert_str_eq(buf, "new");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644); /* main() sets umask 022 */
    remove_tmpdir();
}
END_TEST

/* A symlink planted at the temporary name (another user guessing the pid
 * in a shared directory) must not redirect the write to its target. */
START_TEST(test_write_ignores_planted_tmp_link)
{
    make_tmpdir();
    char victim[PATH_MAX], tmp[PATH_MAX];
    snprintf(victim, sizeof victim, "%s", tmp_path("victim"));
    int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_eq(write(fd, "precious", 8), 8);
    close(fd);
    const char *path = tmp_path("p.pb.gz");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(symlink(victim, tmp), 0);
    ck_assert_int_eq(mprof_write_file_atomic(path, "profile", 7, 0), 0);
    char buf[32] = {0};
    fd = open(victim, O_RDONLY);
    ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
    close(fd);
    ck_assert_str_eq(buf, "precious");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISREG(st.st_mode) && st.st_size == 7, "the profile is not a 7-byte file");
    ck_assert_int_eq(lstat(tmp, &st), -1);
    unlink(victim);
    remove_tmpdir();
}
END_TEST

/* ---- go tool pprof, the reference reader ---- */

/* Run argv with stdout+stderr to outpath; exit status, or -1. */
static int run(char *const argv[], const char *outpath)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(outpath, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* go tool pprof is the reference reader: without it these tests would
 * check nothing and pass.  Check has no "skipped" and `make deps` installs
 * golang-go, so a missing go fails the test and says why. */
static void require_go(void)
{
    char *argv[] = {"go", "version", NULL};
    ck_assert_msg(run(argv, "/dev/null") == 0,
                  "`go version` fails: `go tool pprof`, the reference reader, is needed "
                  "(make deps installs golang-go)");
}

static const char *write_fixture_file(void)
{
    struct fixture f;
    make_fixture(&f);
    mprof_profile_desc d = heap_desc();
    const char *path = tmp_path("heap.pb.gz");
    ck_assert_int_eq(mprof_profile_write_file(path, &d, f.s, 5), 0);
    return path;
}

START_TEST(test_go_pprof_reads_ours)
{
    require_go();
    make_tmpdir();
    const char *path = write_fixture_file();
    const char *out = tmp_path("raw.txt");
    char *raw[] = {"go", "tool", "pprof", "-raw", (char *)path, NULL};
    int rc = run(raw, out);
    char *text = slurp(out);
    ck_assert_msg(rc == 0, "go tool pprof -raw exited %d:\n%s", rc, text);
    ck_assert_msg(strstr(text, "mprof_test_alpha"), "no function name in:\n%s", text);
    ck_assert_msg(strstr(text, "mprof_test_inlined"), "no inline frame in:\n%s", text);
    ck_assert_msg(strstr(text, "alloc_space/bytes"), "%s", text);
    free(text);

    /* -top demangles the C++ name we left mangled */
    char *top[] = {"go", "tool", "pprof", "-top", "-sample_index=alloc_space",
                   (char *)path, NULL};
    rc = run(top, out);
    text = slurp(out);
    ck_assert_msg(rc == 0, "go tool pprof -top exited %d:\n%s", rc, text);
    ck_assert_msg(strstr(text, "mprof::test::mangled"), "not demangled:\n%s", text);
    free(text);
    remove_tmpdir();
}
END_TEST

/* pprof's own encoder writes short repeated fields unpacked: read its
 * re-encoding of our file and find the same profile. */
START_TEST(test_we_read_go_pprof_reencoded)
{
    require_go();
    make_tmpdir();
    const char *path = write_fixture_file();
    const char *re = tmp_path("re.pb.gz");
    char *argv[] = {"go", "tool", "pprof", "-proto", "-output", (char *)re,
                    (char *)path, NULL};
    int rc = run(argv, tmp_path("log.txt"));
    char *log = slurp(tmp_path("log.txt"));
    ck_assert_msg(rc == 0, "go tool pprof -proto exited %d:\n%s", rc, log);
    free(log);

    mprof_pprof_profile a, b;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&a, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(mprof_pprof_read_file(&b, re, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(a.nsample_type, b.nsample_type);
    ck_assert_int_eq(a.period, b.period);
    for (size_t k = 0; k < a.nsample_type; k++) {
        int64_t ta = 0, tb = 0;
        for (size_t i = 0; i < a.nsample; i++) /* pprof drops empty stacks */
            ta += a.sample[i].nlocation_id ? a.sample[i].value[k] : 0;
        for (size_t i = 0; i < b.nsample; i++)
            tb += b.sample[i].value[k];
        ck_assert_int_eq(ta, tb);
    }
    int found = 0;
    for (size_t i = 0; i < b.nfunction; i++)
        found |= strcmp(mprof_pprof_string(&b, b.function[i].name), "mprof_test_alpha") == 0;
    ck_assert(found);
    ck_assert_str_eq(mprof_pprof_string(&b, b.mapping[0].build_id),
                     mprof_pprof_string(&a, a.mapping[0].build_id));
    mprof_pprof_free(&a);
    mprof_pprof_free(&b);
    remove_tmpdir();
}
END_TEST

/* A heap profile written by Go's runtime/pprof itself. */
START_TEST(test_we_read_go_runtime_profile)
{
    require_go();
    make_tmpdir();
    const char *src = tmp_path("main.go");
    FILE *f = fopen(src, "w");
    fputs("package main\n"
          "import (\"os\"; \"runtime\"; \"runtime/pprof\")\n"
          "var keep [][]byte\n"
          "func main() {\n"
          "  runtime.MemProfileRate = 1\n"
          "  for i := 0; i < 1000; i++ { keep = append(keep, make([]byte, 1000)) }\n"
          "  runtime.GC()\n"
          "  out, _ := os.Create(os.Args[1])\n"
          "  pprof.Lookup(\"heap\").WriteTo(out, 0)\n"
          "  out.Close()\n"
          "  f2, _ := os.Create(os.Args[2])\n"
          "  pprof.Lookup(\"goroutine\").WriteTo(f2, 0)\n"
          "  f2.Close()\n"
          "}\n", f);
    fclose(f);
    const char *heap = tmp_path("go.heap.pb.gz"), *gor = tmp_path("go.goroutine.pb.gz");
    /* go run needs a build cache, under $HOME unless told otherwise. */
    if (!getenv("HOME") && !getenv("GOCACHE"))
        setenv("GOCACHE", tmp_path("gocache"), 1);
    char *argv[] = {"go", "run", (char *)src, (char *)heap, (char *)gor, NULL};
    int rc = run(argv, tmp_path("log.txt"));
    if (rc != 0) { /* the program uses the standard library only: no network */
        char *log = slurp(tmp_path("log.txt"));
        ck_abort_msg("go run of a runtime/pprof program failed (%d):\n%s", rc, log);
    }
    mprof_pprof_profile p;
    char err[256];
    ck_assert_msg(mprof_pprof_read_file(&p, heap, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nsample_type, 4);
    ck_assert_str_eq(mprof_pprof_string(&p, p.sample_type[0].type), "alloc_objects");
    ck_assert_str_eq(mprof_pprof_string(&p, p.sample_type[3].type), "inuse_space");
    ck_assert_str_eq(mprof_pprof_string(&p, p.period_type.type), "space");
    ck_assert_int_eq(p.period, 1);
    ck_assert_uint_gt(p.nsample, 0);
    int found = 0;
    for (size_t i = 0; i < p.nsample; i++)
        for (size_t j = 0; j < p.sample[i].nlocation_id; j++) {
            const mprof_pprof_location *l =
                mprof_pprof_location_by_id(&p, p.sample[i].location_id[j]);
            for (size_t k = 0; k < l->nline; k++)
                found |= strcmp(fn_name(&p, l, k), "main.main") == 0;
        }
    ck_assert(found);
    mprof_pprof_free(&p);
    ck_assert_msg(mprof_pprof_read_file(&p, gor, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(p.nsample, 0);
    mprof_pprof_free(&p);
    remove_tmpdir();
}
END_TEST

int main(void)
{
    umask(022);
    TCase *tc = tcase_create("pprof");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_write_read_roundtrip);
    tcase_add_test(tc, test_encode_decode_identity);
    tcase_add_test(tc, test_empty_profile);
    tcase_add_test(tc, test_bad_desc);
    tcase_add_test(tc, test_decode_every_truncation);
    tcase_add_test(tc, test_decode_bit_flips);
    tcase_add_test(tc, test_decode_garbage);
    tcase_add_test(tc, test_decode_validation_errors);
    tcase_add_test(tc, test_decode_unpacked_any_order);
    tcase_add_test(tc, test_gzip_roundtrip);
    tcase_add_test(tc, test_gunzip_errors);
    tcase_add_test(tc, test_read_file_errors);
    tcase_add_test(tc, test_write_failures_leave_nothing);
    tcase_add_test(tc, test_write_fails_when_disk_full);
    tcase_add_test(tc, test_write_replaces_atomically);
    tcase_add_test(tc, test_write_ignores_planted_tmp_link);
    TCase *go = tcase_create("go");
    tcase_set_timeout(go, 240);
    tcase_add_test(go, test_go_pprof_reads_ours);
    tcase_add_test(go, test_we_read_go_pprof_reencoded);
    tcase_add_test(go, test_we_read_go_runtime_profile);
    return run_suite("pprof", tc, go, NULL);
}
