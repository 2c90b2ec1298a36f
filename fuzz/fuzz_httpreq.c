/*
 * fuzz_httpreq: libFuzzer on the /debug/pprof server's request parser
 * (core/httpreq.c), the only code that reads bytes from the network in a
 * preloaded process.  Input: a request as the server's buffer holds it
 * (at most MPROF_HTTP_REQ_MAX bytes).  Besides the sanitizers' checks,
 * the parsed ranges must lie inside the input and the path start with '/'.
 */
#include "httpreq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQ_MAX 4096 /* httpd.h MPROF_HTTP_REQ_MAX, without the record layer */

static void inside(const char *p, size_t n, const char *buf, size_t len)
{
    if (n && (p < buf || p + n > buf + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > REQ_MAX)
        size = REQ_MAX;
    /* a copy of exactly `size` bytes, so ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t head = mprof_httpreq_head_len(buf, size);
    if (head > size)
        abort();
    mprof_httpreq r;
    if (mprof_httpreq_parse(buf, head ? head : size, &r) == 0) {
        inside(r.method, r.method_len, buf, size);
        inside(r.path, r.path_len, buf, size);
        inside(r.query, r.query_len, buf, size);
        if (!r.path_len || r.path[0] != '/')
            abort();
        char v[64];
        int64_t x;
        static const char *const names[] = {"seconds", "debug", "gc", ""};
        for (int i = 0; i < 4; i++) {
            long l = mprof_httpreq_param(&r, names[i], v, sizeof v);
            if (l >= (long)sizeof v || (l >= 0 && v[l] != 0))
                abort();
            mprof_httpreq_int(&r, names[i], &x);
        }
        mprof_httpreq_param(&r, "debug", v, 1);
    }
    free(buf);
    return 0;
}
