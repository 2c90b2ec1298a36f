/*
 * test_pprof.c: the output side end to end (core/output/pprof.c): samples with
 * real PCs of this binary -> symbolized, encoded, gzipped file -> decoded
 * back.  The rest of the pprof tests are in pprof_*.c, linked into this
 * executable: the decoder against truncated, corrupted and hand-made input
 * (pprof_decode.c); gzip and reading files (pprof_gzip.c); atomic writes
 * and their failures (pprof_write.c); `go tool pprof` as the reference
 * reader, both ways (pprof_go.c).  The fixture stays in this file: the
 * round trip checks that its functions are found in test_pprof.c.
 */
#include <check.h>
#include "run_suite.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbuf.h"
#include "test_pprof.h"

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

char tmpdir[64];

void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/mprof-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

char *tmp_path(const char *name)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
    return p;
}

int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

mprof_profile_desc heap_desc(void)
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


void make_fixture(struct fixture *f)
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
    f->s[0] = (mprof_sample){f->st1, 4, {1, 100, 1, 100}, 100, NULL, 0};
    f->s[1] = (mprof_sample){f->st2, 2, {2, 4096, 0, 0}, 2048, NULL, 0};
    f->s[2] = (mprof_sample){f->st3, 2, {7, 7000, 3, 3000}, 0, NULL, 0};
    f->s[3] = (mprof_sample){NULL, 0, {-1, -5, 0, 0}, 0, NULL, 0};
    f->s[4] = (mprof_sample){f->st5, 2, {1, 1, 1, 1}, 1, NULL, 0};
}

const mprof_pprof_function *line_fn(const mprof_pprof_profile *p,
                                    const mprof_pprof_location *l, size_t k)
{
    ck_assert_uint_lt(k, l->nline);
    const mprof_pprof_function *fn =
        mprof_pprof_function_by_id(p, l->line[k].function_id);
    ck_assert_ptr_nonnull(fn);
    return fn;
}

const char *fn_name(const mprof_pprof_profile *p, const mprof_pprof_location *l,
                    size_t k)
{
    return mprof_pprof_string(p, line_fn(p, l, k)->name);
}

const mprof_pprof_location *sample_loc(const mprof_pprof_profile *p, size_t s,
                                       size_t j)
{
    ck_assert_uint_lt(j, p->sample[s].nlocation_id);
    const mprof_pprof_location *l =
        mprof_pprof_location_by_id(p, p->sample[s].location_id[j]);
    ck_assert_ptr_nonnull(l);
    return l;
}

/* The encoded (not gzipped) fixture profile, in sc. */
void encode_fixture(mprof_scratch *sc, const uint8_t **data, size_t *len)
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

int main(void)
{
    umask(022);
    TCase *tc = tcase_create("pprof");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_write_read_roundtrip);
    tcase_add_test(tc, test_encode_decode_identity);
    tcase_add_test(tc, test_empty_profile);
    tcase_add_test(tc, test_bad_desc);
    pprof_add_decode_tests(tc);
    pprof_add_gzip_tests(tc);
    pprof_add_write_tests(tc);
    TCase *go = tcase_create("go");
    tcase_set_timeout(go, 240);
    pprof_add_go_tests(go);
    return run_suite("pprof", tc, go, NULL);
}
