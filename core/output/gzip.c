/*
 * gzip.c: gzip and gunzip in scratch memory (zlib allocates from the
 * scratch too, so nothing here calls the application's allocator).
 */
#include "gzip.h"

#include <errno.h>
#include <string.h>
#include "dumplibs.h"

/* ======================================================================
 * gzip
 * ====================================================================== */

/* zlib's buffers come from the scratch and go with it. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return mprof_scratch_calloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf ptr)
{
    (void)opaque;
    (void)ptr;
}

/* zlib counts in uInt; feed and drain it in pieces that fit. */
#define Z_CHUNK ((size_t)1 << 30)

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static void z_init(z_stream *z, mprof_scratch *sc)
{
    memset(z, 0, sizeof *z);
    z->zalloc = z_alloc;
    z->zfree = z_free;
    z->opaque = sc;
}

/* Once zlib has used its input, the next piece of what is left. */
static void z_feed(z_stream *z, const uint8_t **ip, size_t *left)
{
    if (z->avail_in != 0 || *left == 0)
        return;
    size_t take = min_size(*left, Z_CHUNK);
    z->next_in = (Bytef *)*ip;
    z->avail_in = (uInt)take;
    *ip += take;
    *left -= take;
}

/* zlib writes next into buf[used, cap), a piece at a time. */
static void z_window(z_stream *z, uint8_t *buf, size_t used, size_t cap)
{
    z->next_out = buf + used;
    z->avail_out = (uInt)min_size(cap - used, Z_CHUNK);
}

/* Inputs up to this many bytes go in one stored block. */
#define STORED_MAX 4096

static uint8_t *put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* A gzip member (RFC 1952) whose data is one stored deflate block (RFC
 * 1951, BTYPE 00): header, the block's 5 bytes, the input, CRC-32, size.
 * For a profile of a few samples (a short process's exit dump), deflate's
 * setup alone was 22 us of a 150 us dump, zlib's state faulted in page by
 * page in a fresh child, to save a few hundred bytes. */
static int gzip_stored(mprof_scratch *sc, const uint8_t *in, size_t n, void **out,
                       size_t *outlen)
{
    static const uint8_t head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}; /* OS: Unix */
    uint8_t *buf = mprof_scratch_alloc(sc, sizeof head + 5 + n + 8);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, head, sizeof head);
    uint8_t *p = buf + sizeof head;
    uint16_t len = (uint16_t)n, nlen = (uint16_t)~len;
    *p++ = 1; /* BFINAL, BTYPE 00; the rest of the byte pads to a boundary */
    *p++ = (uint8_t)len;
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)nlen;
    *p++ = (uint8_t)(nlen >> 8);
    if (n)
        memcpy(p, in, n);
    p += n;
    p = put32le(p, (uint32_t)Z(crc32)(0, in, (uInt)n));
    p = put32le(p, (uint32_t)n); /* ISIZE */
    *out = buf;
    *outlen = (size_t)(p - buf);
    return 0;
}

int mprof_gzip(mprof_scratch *sc, const void *in, size_t n, void **out,
               size_t *outlen)
{
    if (!mprof_libz())
        return -ELIBACC;
    if (n <= STORED_MAX)
        return gzip_stored(sc, in, n, out, outlen);
    z_stream z;
    z_init(&z, sc);
    /* Level 1, as Go's runtime/pprof: at exit, speed beats the last 10%.
     * A window no larger than the input (zlib's state is some 4 window
     * sizes plus its hash: 260 KiB at the most, which a short process's
     * dump would fault in page by page for a profile of a few KiB). */
    int wbits = 9;
    while (wbits < 15 && ((size_t)1 << wbits) < n)
        wbits++;
    int mem = wbits - 7 < 8 ? wbits - 7 : 8; /* its hash table, to match */
    if (Z(deflateInit2_)(&z, 1, Z_DEFLATED, wbits + 16, mem, Z_DEFAULT_STRATEGY,
                         ZLIB_VERSION, (int)sizeof z) != Z_OK)
        return -ENOMEM;
    size_t cap = Z(deflateBound)(&z, n), used = 0, left = n;
    const uint8_t *ip = in;
    uint8_t *buf = mprof_scratch_alloc(sc, cap);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        z_feed(&z, &ip, &left);
        if (z.avail_out == 0) {
            if (used == cap) {
                uint8_t *nb = mprof_scratch_grow(sc, buf, cap, 2 * cap);
                if (!nb) {
                    rc = -ENOMEM;
                    break;
                }
                buf = nb;
                cap *= 2;
            }
            z_window(&z, buf, used, cap);
        }
        uInt before = z.avail_out;
        int zrc = Z(deflate)(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
        used += before - z.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            rc = -EIO;
    }
    Z(deflateEnd)(&z);
    if (rc == 0) {
        *out = buf;
        *outlen = used;
    }
    return rc;
}

static int inflate_fail(z_stream *z, const char **err, const char *why)
{
    *err = why ? why : (z->msg ? z->msg : "corrupt gzip data");
    Z(inflateEnd)(z);
    return -1;
}

int mprof_gunzip(mprof_scratch *sc, const void *in, size_t n, size_t max,
                 void **out, size_t *outlen, const char **err)
{
    if (!mprof_libz()) {
        *err = "zlib (libz.so.1) cannot be loaded";
        return -1;
    }
    z_stream z;
    z_init(&z, sc);
    if (Z(inflateInit2_)(&z, 15 + 16, ZLIB_VERSION, (int)sizeof z) != Z_OK) {
        *err = "out of memory";
        return -1;
    }
    size_t cap = min_size(max, n < (1 << 16) ? 1 << 18 : 4 * n);
    size_t used = 0, left = n;
    const uint8_t *ip = in;
    uint8_t *buf = mprof_scratch_alloc(sc, cap);
    if (!buf)
        return inflate_fail(&z, err, "out of memory");
    for (;;) {
        z_feed(&z, &ip, &left);
        if (z.avail_out == 0) {
            if (used == cap) {
                if (cap >= max)
                    return inflate_fail(&z, err, "decompressed size exceeds 1 GiB");
                size_t ncap = cap > max / 2 ? max : 2 * cap;
                uint8_t *nb = mprof_scratch_grow(sc, buf, cap, ncap);
                if (!nb)
                    return inflate_fail(&z, err, "out of memory");
                buf = nb;
                cap = ncap;
            }
            z_window(&z, buf, used, cap);
        }
        uInt before = z.avail_out;
        int zrc = Z(inflate)(&z, Z_NO_FLUSH);
        used += before - z.avail_out;
        if (zrc == Z_STREAM_END) {
            if (z.avail_in == 0 && left == 0)
                break;
            /* Another gzip member follows (concatenated files). */
            if (Z(inflateReset)(&z) != Z_OK)
                return inflate_fail(&z, err, NULL);
            continue;
        }
        if (zrc == Z_BUF_ERROR && z.avail_in == 0 && left == 0)
            return inflate_fail(&z, err, "truncated gzip data");
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return inflate_fail(&z, err, NULL);
    }
    Z(inflateEnd)(&z);
    *out = buf;
    *outlen = used;
    return 0;
}
