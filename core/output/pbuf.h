/*
 * pbuf.h: the protobuf wire format, both directions.
 *
 * The writer appends to a buffer that grows in a scratch; an error (out of
 * memory) is sticky, so a caller encodes a whole message and checks once.
 * Nested messages are written by reserving their length and patching it in
 * mprof_pbuf_end(), so no sizes need computing up front.
 *
 * The reader never reads outside [p, end): every length, varint and tag is
 * checked against what is left, and a failure leaves a static one-line
 * message in r->err.
 */
#ifndef MPROF_PBUF_H
#define MPROF_PBUF_H

#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

enum {
    MPROF_WIRE_VARINT = 0,
    MPROF_WIRE_I64 = 1,
    MPROF_WIRE_LEN = 2,
    MPROF_WIRE_SGROUP = 3,
    MPROF_WIRE_EGROUP = 4,
    MPROF_WIRE_I32 = 5,
};

#define MPROF_PBUF_MAX_VARINT 10
#define MPROF_PBUF_MAX_FIELD ((1u << 29) - 1)

/* ---- writer ---- */

typedef struct mprof_pbuf {
    mprof_scratch *sc;
    uint8_t *buf;
    size_t len, cap;
    int err; /* 0 or -ENOMEM, sticky */
} mprof_pbuf;

void mprof_pbuf_init(mprof_pbuf *b, mprof_scratch *sc);

size_t mprof_pbuf_varint_size(uint64_t v);
/* Encode v at out (MPROF_PBUF_MAX_VARINT bytes room); returns bytes used. */
size_t mprof_pbuf_put_varint(uint8_t *out, uint64_t v);
uint64_t mprof_pbuf_zigzag(int64_t v);
int64_t mprof_pbuf_unzigzag(uint64_t v);

void mprof_pbuf_raw(mprof_pbuf *b, const void *p, size_t n);
void mprof_pbuf_varint(mprof_pbuf *b, uint64_t v);
void mprof_pbuf_tag(mprof_pbuf *b, uint32_t field, int wire);

/* Whole fields: tag and value. Zero values are written too; proto3
 * omission of defaults is the caller's choice. */
void mprof_pbuf_uint64(mprof_pbuf *b, uint32_t field, uint64_t v);
void mprof_pbuf_int64(mprof_pbuf *b, uint32_t field, int64_t v);
void mprof_pbuf_sint64(mprof_pbuf *b, uint32_t field, int64_t v); /* zigzag */
void mprof_pbuf_bool(mprof_pbuf *b, uint32_t field, int v);
void mprof_pbuf_fixed64(mprof_pbuf *b, uint32_t field, uint64_t v);
void mprof_pbuf_fixed32(mprof_pbuf *b, uint32_t field, uint32_t v);
void mprof_pbuf_bytes(mprof_pbuf *b, uint32_t field, const void *p, size_t n);
void mprof_pbuf_packed_uint64(mprof_pbuf *b, uint32_t field,
                              const uint64_t *v, size_t n);
void mprof_pbuf_packed_int64(mprof_pbuf *b, uint32_t field,
                             const int64_t *v, size_t n);

/* Start a length-delimited field (a nested message or packed run); returns a
 * mark for mprof_pbuf_end(), which patches in the length. */
size_t mprof_pbuf_begin(mprof_pbuf *b, uint32_t field);
void mprof_pbuf_end(mprof_pbuf *b, size_t mark);
/* Drop everything written since mprof_pbuf_begin(b, field), tag included. */
void mprof_pbuf_cancel(mprof_pbuf *b, size_t mark, uint32_t field);
/* Bytes written since mprof_pbuf_begin() (the body so far). */
size_t mprof_pbuf_body_len(const mprof_pbuf *b, size_t mark);

/* ---- reader ---- */

typedef struct mprof_pbuf_reader {
    const uint8_t *p, *end, *start;
    const char *err; /* NULL, or what went wrong */
} mprof_pbuf_reader;

typedef struct mprof_pbuf_field {
    uint32_t num;
    int wire;
    uint64_t u64;         /* VARINT, I64, I32 */
    const uint8_t *data;  /* LEN */
    size_t len;           /* LEN */
} mprof_pbuf_field;

void mprof_pbuf_reader_init(mprof_pbuf_reader *r, const void *p, size_t n);
int mprof_pbuf_at_end(const mprof_pbuf_reader *r);
/* Offset of the read position from the start of the reader's buffer. */
size_t mprof_pbuf_offset(const mprof_pbuf_reader *r);

/* Each returns 0, or -1 with r->err set and the position unspecified. */
int mprof_pbuf_read_varint(mprof_pbuf_reader *r, uint64_t *v);
int mprof_pbuf_read_fixed64(mprof_pbuf_reader *r, uint64_t *v);
int mprof_pbuf_read_fixed32(mprof_pbuf_reader *r, uint32_t *v);
/* Tag and value of the next field; groups (wire types 3, 4) are refused. */
int mprof_pbuf_read_field(mprof_pbuf_reader *r, mprof_pbuf_field *f);
/* Number of varints in a packed payload, checking each one. */
int mprof_pbuf_count_varints(const uint8_t *p, size_t n, size_t *count,
                             const char **err);

#endif
