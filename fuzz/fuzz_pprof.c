/*
 * fuzz_pprof.c: libFuzzer target for the profile reader (core/output/pprof.c,
 * core/output/pbuf.c, core/output/scratch.c), built with ASan and UBSan by `make fuzz`.
 *
 * Each input goes through every way a profile is read:
 *   1. mprof_pprof_decode on the raw bytes;
 *   2. mprof_gunzip then decode, when the input looks gzipped;
 *   3. mprof_pprof_read_file on a memfd holding the bytes (slurp, the gzip
 *      sniffing and the 1 GiB caps of the file path).
 * A profile that decodes is then held to what pprof.h promises: every id a
 * sample or location refers to resolves, every string index is in range,
 * every sample has nsample_type values.  Finally it must survive a round
 * trip: encode -> decode must succeed, and encoding the result again must
 * give the same bytes (encoder and decoder agree on every accepted input).
 * A broken promise aborts, which libFuzzer records as a crash.
 */
#include "gzip.h"
#include "pbuf.h"
#include "pprof.h"
#include "scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Inflating further only measures zlib; real profiles are far smaller. */
#define GUNZIP_MAX ((size_t)64 << 20)

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_pprof: broken promise: %s%s%s\n", what,
            detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Touch a string the way a reader would; must be NUL-terminated. */
static size_t touch_string(const mprof_pprof_profile *p, int64_t idx)
{
    if (idx < 0 || (uint64_t)idx >= p->nstring_table)
        broken("string index out of range", NULL);
    return strlen(mprof_pprof_string(p, idx));
}

static size_t walk(const mprof_pprof_profile *p)
{
    size_t sum = 0;
    if (p->nstring_table == 0 || p->string_table[0].len != 0)
        broken("string_table[0] is not \"\"", NULL);
    for (size_t i = 0; i < p->nstring_table; i++)
        if (p->string_table[i].s[p->string_table[i].len] != '\0')
            broken("string not NUL-terminated", NULL);
    for (size_t i = 0; i < p->nsample_type; i++)
        sum += touch_string(p, p->sample_type[i].type) +
               touch_string(p, p->sample_type[i].unit);
    sum += touch_string(p, p->period_type.type) + touch_string(p, p->period_type.unit);
    sum += touch_string(p, p->drop_frames) + touch_string(p, p->keep_frames) +
           touch_string(p, p->default_sample_type);
    for (size_t i = 0; i < p->ncomment; i++)
        sum += touch_string(p, p->comment[i]);
    for (size_t i = 0; i < p->nsample; i++) {
        const mprof_pprof_sample *s = &p->sample[i];
        if (s->nvalue != p->nsample_type)
            broken("sample value count differs from sample_type count", NULL);
        for (size_t j = 0; j < s->nvalue; j++)
            sum += (size_t)s->value[j];
        for (size_t j = 0; j < s->nlabel; j++)
            sum += touch_string(p, s->label[j].key) + touch_string(p, s->label[j].str) +
                   touch_string(p, s->label[j].num_unit);
        for (size_t j = 0; j < s->nlocation_id; j++) {
            const mprof_pprof_location *l =
                mprof_pprof_location_by_id(p, s->location_id[j]);
            if (!l || l->id != s->location_id[j])
                broken("sample refers to a location that does not resolve", NULL);
            if (l->mapping_id && !mprof_pprof_mapping_by_id(p, l->mapping_id))
                broken("location refers to a mapping that does not resolve", NULL);
            for (size_t k = 0; k < l->nline; k++) {
                const mprof_pprof_function *f =
                    mprof_pprof_function_by_id(p, l->line[k].function_id);
                if (!f || f->id != l->line[k].function_id)
                    broken("line refers to a function that does not resolve", NULL);
                sum += touch_string(p, f->name) + touch_string(p, f->filename) +
                       touch_string(p, f->system_name);
            }
        }
    }
    for (size_t i = 0; i < p->nmapping; i++)
        sum += touch_string(p, p->mapping[i].filename) +
               touch_string(p, p->mapping[i].build_id);
    return sum;
}

/* encode(p) must decode, and re-encode to the same bytes. */
static void roundtrip(const mprof_pprof_profile *p)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf e1, e2;
    mprof_pbuf_init(&e1, &sc);
    mprof_pbuf_init(&e2, &sc);
    if (mprof_pprof_encode(p, &e1) != 0) {
        mprof_scratch_release(&sc);
        return; /* out of memory: allowed */
    }
    mprof_pprof_profile q;
    char err[256];
    if (mprof_pprof_decode(&q, e1.buf, e1.len, err, sizeof err) != 0)
        broken("our encoding of a decoded profile does not decode", err);
    walk(&q);
    if (mprof_pprof_encode(&q, &e2) == 0 &&
        (e1.len != e2.len || (e1.len && memcmp(e1.buf, e2.buf, e1.len) != 0)))
        broken("encode(decode(encode(p))) != encode(p)", NULL);
    mprof_pprof_free(&q);
    mprof_scratch_release(&sc);
}

static void check_decoded(const mprof_pprof_profile *p)
{
    volatile size_t sink = walk(p);
    (void)sink;
    roundtrip(p);
}

static void check_error(const char *err, size_t len)
{
    if (memchr(err, '\0', len) == NULL || err[0] == '\0')
        broken("failure without a NUL-terminated message", NULL);
}

static void via_decode(const uint8_t *data, size_t size)
{
    mprof_pprof_profile p;
    char err[256];
    memset(err, 'x', sizeof err);
    if (mprof_pprof_decode(&p, data, size, err, sizeof err) == 0) {
        check_decoded(&p);
        mprof_pprof_free(&p);
    } else {
        check_error(err, sizeof err);
    }
}

static void via_gunzip(const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b)
        return;
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    void *raw;
    size_t len;
    const char *why = NULL;
    if (mprof_gunzip(&sc, data, size, GUNZIP_MAX, &raw, &len, &why) == 0) {
        if (len > GUNZIP_MAX)
            broken("gunzip exceeded its cap", NULL);
        via_decode(raw, len);
    } else if (!why) {
        broken("gunzip failed without a reason", NULL);
    }
    mprof_scratch_release(&sc);
}

static void via_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0)
        fd = memfd_create("fuzz_pprof", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return;
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    mprof_pprof_profile p;
    char err[512];
    memset(err, 'x', sizeof err);
    if (mprof_pprof_read_file(&p, path, err, sizeof err) == 0) {
        check_decoded(&p);
        mprof_pprof_free(&p);
    } else {
        check_error(err, sizeof err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    via_decode(data, size);
    via_gunzip(data, size);
    via_file(data, size);
    return 0;
}
