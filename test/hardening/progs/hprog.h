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

#include <pthread.h>

#include <signal.h>
#include <stdbool.h>
#include <string.h>

/* sigaction(sig) to `fn` with `flags`, and in the handler no other signal
 * blocked (or, with full_mask, every one); the old action in *old unless
 * NULL.  A refusal ends the program: every caller checks what mprof does
 * with an action the program set, so one not set is a failed run. */
static inline void hp_sigaction(int sig, void (*fn)(int), int flags, bool full_mask,
                                struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    if (full_mask)
        sigfillset(&sa.sa_mask);
    else
        sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, old) != 0)
        prog_fail("sigaction");
}

/* A handler that only counts: the program's own, which must see every
 * signal it was sent whatever mprof does with the same signal. */
static volatile sig_atomic_t hp_caught;

static inline void hp_count(int sig)
{
    (void)sig;
    hp_caught++;
}

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

/* Start n threads running fn((void *)t), each of which counts its rounds
 * in counts[t * 8] (64 bytes apart), and wait until every one has done at
 * least `min`: then all of them are busy when the caller goes on.  Returns
 * the threads, to join (mapped, as the counters; never freed). */
static inline pthread_t *hp_start_busy_threads(int n, void *(*fn)(void *), uint64_t **counts,
                                               uint64_t min)
{
    *counts = hp_map((size_t)n * 8 * sizeof **counts);
    pthread_t *tid = hp_map((size_t)n * sizeof *tid);
    for (int t = 0; t < n; t++)
        if (pthread_create(&tid[t], NULL, fn, (void *)(intptr_t)t) != 0)
            prog_fail("pthread_create");
    for (int t = 0; t < n; t++)
        while (__atomic_load_n(&(*counts)[t * 8], __ATOMIC_RELAXED) < min)
            prog_sleep_ms(1);
    return tid;
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
