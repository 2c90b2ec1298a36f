/*
 * hprog.h: helpers for the hardening programs (on top of
 * test/programs/common.h: SITE, prog_truth, prog_slots, prog_check).
 *
 * Every program checks its own work and prints "verify ok" when its data
 * came out as computed, then "done"; a program that finds its own data
 * damaged exits 97.  The tests compare exit status and output with what a
 * run without mprof gives, and read the profiles.
 */
#ifndef MPROF_HARDENING_HPROG_H
#define MPROF_HARDENING_HPROG_H

#include "common.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>

/* Zeroed memory from mmap: invisible to the heap profile. */
static inline void *hp_map(size_t bytes)
{
    return prog_slots((bytes + sizeof(void *) - 1) / sizeof(void *));
}

/* "--name value" or "--name" (flag) anywhere in argv. */
static inline const char *hp_arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return i + 1 < argc ? argv[i + 1] : "";
    return NULL;
}

static inline long hp_long(int argc, char **argv, const char *name, long dflt)
{
    const char *v = hp_arg(argc, argv, name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static inline bool hp_flag(int argc, char **argv, const char *name)
{
    return hp_arg(argc, argv, name) != NULL;
}

static inline void hp_damaged(const char *what)
{
    dprintf(2, "verify FAILED: %s\n", what);
    exit(97);
}

static inline uint64_t hp_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Fill a block with a pattern derived from its tag, and check it later:
 * memory corruption (a block handed out twice, a stray write) shows up as
 * a wrong pattern. */
static inline void hp_fill(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)(tag * 131 + i);
}

static inline void hp_check(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(tag * 131 + i))
            hp_damaged("block contents changed");
}

/* Ask mprof (the dump signal, USR2 unless MPROF_SIGNAL says otherwise) for
 * a dump of this process and wait until its `kind` file appears (a dump
 * writes heap, then block, then mutex).  Milliseconds waited, or -1. */
static inline int hp_dump_and_wait(const char *prefix, int seq, const char *kind,
                                   long timeout_ms)
{
    char path[1200];
    snprintf(path, sizeof path, "%s.%d.%d.%s.pb.gz", prefix, (int)getpid(), seq, kind);
    kill(getpid(), SIGUSR2);
    return prog_wait_file(path, timeout_ms);
}

#endif
