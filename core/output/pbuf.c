/*
 * pbuf.c: protobuf wire format writer and bounded reader (see pbuf.h).
 *
 * Writer invariant: b->buf[0, b->len) is valid wire format except inside
 * open begin/end pairs, whose length prefix is one placeholder byte until
 * mprof_pbuf_end() writes the real length, moving the body if the length
 * needs more than one byte. Reader invariant: r->p never passes r->end.
 */
#include "pbuf.h"

#include <errno.h>
#include <string.h>

/* ---- writer ---- */

void mprof_pbuf_init(mprof_pbuf *b, mprof_scratch *sc)
{
    memset(b, 0, sizeof *b);
    b->sc = sc;
}

size_t mprof_pbuf_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t mprof_pbuf_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

uint64_t mprof_pbuf_zigzag(int64_t v)
{
    /* All ones for negative v: the sign bit, spread without shifting a
     * signed value (implementation-defined before C23). */
    return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
}

int64_t mprof_pbuf_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Make room for n more bytes; 0 or -1 (and b->err set). */
static int reserve(mprof_pbuf *b, size_t n)
{
    if (b->err)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len) {
        b->err = -ENOMEM;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *nb = mprof_scratch_grow(b->sc, b->buf, b->len, cap);
    if (!nb) {
        b->err = -ENOMEM;
        return -1;
    }
    b->buf = nb;
    b->cap = cap;
    return 0;
}

void mprof_pbuf_raw(mprof_pbuf *b, const void *p, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void mprof_pbuf_varint(mprof_pbuf *b, uint64_t v)
{
    if (reserve(b, MPROF_PBUF_MAX_VARINT) < 0)
        return;
    b->len += mprof_pbuf_put_varint(b->buf + b->len, v);
}

void mprof_pbuf_tag(mprof_pbuf *b, uint32_t field, int wire)
{
    mprof_pbuf_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void mprof_pbuf_uint64(mprof_pbuf *b, uint32_t field, uint64_t v)
{
    mprof_pbuf_tag(b, field, MPROF_WIRE_VARINT);
    mprof_pbuf_varint(b, v);
}

void mprof_pbuf_int64(mprof_pbuf *b, uint32_t field, int64_t v)
{
    mprof_pbuf_uint64(b, field, (uint64_t)v);
}

void mprof_pbuf_sint64(mprof_pbuf *b, uint32_t field, int64_t v)
{
    mprof_pbuf_uint64(b, field, mprof_pbuf_zigzag(v));
}

void mprof_pbuf_bool(mprof_pbuf *b, uint32_t field, int v)
{
    mprof_pbuf_uint64(b, field, v ? 1 : 0);
}

static void put_le(mprof_pbuf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    mprof_pbuf_raw(b, tmp, n);
}

void mprof_pbuf_fixed64(mprof_pbuf *b, uint32_t field, uint64_t v)
{
    mprof_pbuf_tag(b, field, MPROF_WIRE_I64);
    put_le(b, v, 8);
}

void mprof_pbuf_fixed32(mprof_pbuf *b, uint32_t field, uint32_t v)
{
    mprof_pbuf_tag(b, field, MPROF_WIRE_I32);
    put_le(b, v, 4);
}

void mprof_pbuf_bytes(mprof_pbuf *b, uint32_t field, const void *p, size_t n)
{
    mprof_pbuf_tag(b, field, MPROF_WIRE_LEN);
    mprof_pbuf_varint(b, n);
    mprof_pbuf_raw(b, p, n);
}

void mprof_pbuf_packed_uint64(mprof_pbuf *b, uint32_t field,
                              const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t m = mprof_pbuf_begin(b, field);
    for (size_t i = 0; i < n; i++)
        mprof_pbuf_varint(b, v[i]);
    mprof_pbuf_end(b, m);
}

/* An int64 goes on the wire as its two's complement uint64 (ten bytes
 * when negative), so the uint64 writer serves: int64_t and uint64_t may
 * alias each other (C11 6.5p7). */
void mprof_pbuf_packed_int64(mprof_pbuf *b, uint32_t field,
                             const int64_t *v, size_t n)
{
    mprof_pbuf_packed_uint64(b, field, (const uint64_t *)v, n);
}

/*
 * The mark is the offset of the one-byte length placeholder; the tag sits
 * just before it. Most pprof submessages are under 128 bytes, so the body
 * rarely has to move.
 */
size_t mprof_pbuf_begin(mprof_pbuf *b, uint32_t field)
{
    mprof_pbuf_tag(b, field, MPROF_WIRE_LEN);
    if (reserve(b, 1) < 0)
        return b->len;
    b->buf[b->len++] = 0;
    return b->len - 1;
}

size_t mprof_pbuf_body_len(const mprof_pbuf *b, size_t mark)
{
    return b->err ? 0 : b->len - mark - 1;
}

void mprof_pbuf_end(mprof_pbuf *b, size_t mark)
{
    if (b->err)
        return;
    size_t body = b->len - mark - 1;
    size_t need = mprof_pbuf_varint_size(body);
    if (need > 1) {
        if (reserve(b, need - 1) < 0)
            return;
        memmove(b->buf + mark + need, b->buf + mark + 1, body);
        b->len += need - 1;
    }
    mprof_pbuf_put_varint(b->buf + mark, body);
}

void mprof_pbuf_cancel(mprof_pbuf *b, size_t mark, uint32_t field)
{
    if (b->err)
        return;
    b->len = mark - mprof_pbuf_varint_size(((uint64_t)field << 3) | MPROF_WIRE_LEN);
}

/* ---- reader ---- */

void mprof_pbuf_reader_init(mprof_pbuf_reader *r, const void *p, size_t n)
{
    r->start = r->p = p;
    r->end = r->p + n;
    r->err = NULL;
}

int mprof_pbuf_at_end(const mprof_pbuf_reader *r) { return r->p >= r->end; }

size_t mprof_pbuf_offset(const mprof_pbuf_reader *r)
{
    return (size_t)(r->p - r->start);
}

static int fail(mprof_pbuf_reader *r, const char *msg)
{
    r->err = msg;
    return -1;
}

/* Decode one varint from [*pp, end); advances *pp. */
static const char *get_varint(const uint8_t **pp, const uint8_t *end,
                              uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int i = 0; i < MPROF_PBUF_MAX_VARINT; i++) {
        if (p >= end)
            return "truncated varint";
        uint8_t c = *p++;
        if (i == 9 && c > 1)
            return "varint overflows 64 bits";
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *pp = p;
            *v = x;
            return NULL;
        }
    }
    return "varint longer than 10 bytes";
}

int mprof_pbuf_read_varint(mprof_pbuf_reader *r, uint64_t *v)
{
    const char *e = get_varint(&r->p, r->end, v);
    return e ? fail(r, e) : 0;
}

static int read_le(mprof_pbuf_reader *r, uint64_t *v, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return fail(r, n == 8 ? "truncated fixed64" : "truncated fixed32");
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *v = x;
    return 0;
}

int mprof_pbuf_read_fixed64(mprof_pbuf_reader *r, uint64_t *v)
{
    return read_le(r, v, 8);
}

int mprof_pbuf_read_fixed32(mprof_pbuf_reader *r, uint32_t *v)
{
    uint64_t x;
    if (read_le(r, &x, 4) < 0)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

int mprof_pbuf_read_field(mprof_pbuf_reader *r, mprof_pbuf_field *f)
{
    uint64_t tag;
    if (mprof_pbuf_read_varint(r, &tag) < 0)
        return -1;
    if ((tag >> 3) == 0 || (tag >> 3) > MPROF_PBUF_MAX_FIELD)
        return fail(r, "invalid field number");
    f->num = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    f->u64 = 0;
    f->data = NULL;
    f->len = 0;
    switch (f->wire) {
    case MPROF_WIRE_VARINT:
        return mprof_pbuf_read_varint(r, &f->u64);
    case MPROF_WIRE_I64:
        return read_le(r, &f->u64, 8);
    case MPROF_WIRE_I32:
        return read_le(r, &f->u64, 4);
    case MPROF_WIRE_LEN: {
        uint64_t n;
        if (mprof_pbuf_read_varint(r, &n) < 0)
            return -1;
        if (n > (uint64_t)(r->end - r->p))
            return fail(r, "length-delimited field runs past the end of its message");
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return 0;
    }
    case MPROF_WIRE_SGROUP:
    case MPROF_WIRE_EGROUP:
        return fail(r, "groups (wire types 3, 4) are not supported");
    default:
        return fail(r, "invalid wire type");
    }
}

int mprof_pbuf_count_varints(const uint8_t *p, size_t n, size_t *count,
                             const char **err)
{
    const uint8_t *end = p + n;
    size_t c = 0;
    while (p < end) {
        uint64_t v;
        const char *e = get_varint(&p, end, &v);
        if (e) {
            *err = e;
            return -1;
        }
        c++;
    }
    *count = c;
    return 0;
}
