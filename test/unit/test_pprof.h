/*
 * test_pprof.h: what the pprof tests share.  One executable, test_pprof:
 * test_pprof.c holds main, the fixture (samples whose PCs are code of
 * test_pprof.c, so symbolization has a known answer) and the round trip;
 * pprof_<subject>.c each add their tests to main's test cases.
 */
#ifndef MPROF_TEST_PPROF_H
#define MPROF_TEST_PPROF_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic_file.h"
#include "gzip.h"
#include "pprof.h"
#include "profile.h"
#include "scratch.h"

/* The fixture: five samples over a few real stacks. */
struct fixture {
    uintptr_t alpha_pc, inl_pc, caller_pc, mangled_pc;
    uintptr_t st1[4], st2[2], st3[2], st5[2];
    mprof_sample s[5];
};

void make_fixture(struct fixture *f);
/* The heap profile's description that goes with the fixture. */
mprof_profile_desc heap_desc(void);
/* The encoded (not gzipped) fixture profile, in sc. */
void encode_fixture(mprof_scratch *sc, const uint8_t **data, size_t *len);

/* A fresh directory per test: make_tmpdir, files in it by name, then
 * remove_tmpdir. */
extern char tmpdir[64];
void make_tmpdir(void);
void remove_tmpdir(void);
char *tmp_path(const char *name);
int exists(const char *path);
int ends_with(const char *s, const char *suffix);

/* Line k of location l: its function, the function's name. */
const mprof_pprof_function *line_fn(const mprof_pprof_profile *p,
                                    const mprof_pprof_location *l, size_t k);
const char *fn_name(const mprof_pprof_profile *p, const mprof_pprof_location *l,
                    size_t k);
/* Location j of sample s. */
const mprof_pprof_location *sample_loc(const mprof_pprof_profile *p, size_t s,
                                       size_t j);

/* Each subject file adds its tests to a test case of main's: "pprof"
 * (60 s each) or "go" (240 s: go run builds a program). */
void pprof_add_decode_tests(TCase *tc);
void pprof_add_gzip_tests(TCase *tc);
void pprof_add_write_tests(TCase *tc);
void pprof_add_go_tests(TCase *tc);

#endif
