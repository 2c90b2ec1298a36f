/*
 * gzip.h: gzip (RFC 1952) in and out of mprof's scratch memory, with zlib
 * loaded on first use (dumplibs.h). Level 1 out, as Go's runtime/pprof
 * writes profiles, except for inputs of at most 4 KiB, which go in one
 * stored block (no compression: any gzip reader takes it, and a short
 * process's few samples cost no deflate state); any number of
 * concatenated members in.
 */
#ifndef MPROF_GZIP_H
#define MPROF_GZIP_H

#include <stddef.h>

#include "scratch.h"

/* gzip (RFC 1952) of in[0, n) into sc. zlib allocates from sc too. */
int mprof_gzip(mprof_scratch *sc, const void *in, size_t n, void **out,
               size_t *outlen);

/* Inflate one or more concatenated gzip members into sc, refusing to
 * produce more than max bytes. 0, or -1 with *err set. */
int mprof_gunzip(mprof_scratch *sc, const void *in, size_t n, size_t max,
                 void **out, size_t *outlen, const char **err);

#endif
