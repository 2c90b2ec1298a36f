/*
 * config.h: the user's settings, read once from MPROF_* environment
 * variables (DESIGN.md section 3).  A value that does not parse or is out of
 * range gets one "mprof:" line naming the variable, the bad value and the
 * value used instead; parsing never fails.
 */
#ifndef MPROF_CONFIG_H
#define MPROF_CONFIG_H

#include <stdint.h>

#include "netaddr.h"

#define MPROF_OUT_MAX 3800 /* leaves room for ".<pid>.<seq>.heap.pb.gz.tmp" */
#define MPROF_STACK_MAX 512

/* The last entry of a stack cut at MPROF_STACK_DEPTH, where its root
 * would be; never a return address (user space ends far below). Recording
 * writes it, output names it "[truncated]" (profile.h). */
#define MPROF_PC_TRUNCATED UINTPTR_MAX

/* How much a dump looks up in process (MPROF_SYMBOLS; symbolize.h). */
enum mprof_symbols_level {
    MPROF_SYMBOLS_NONE,  /* mappings and build IDs; addresses only */
    MPROF_SYMBOLS_NAMES, /* + function names from the ELF symbol tables */
    MPROF_SYMBOLS_FULL,  /* + file:line and inlined frames from DWARF */
};

typedef struct mprof_config {
    uint64_t mem_rate;       /* bytes; 0 off, 1 every allocation */
    uint64_t block_rate;     /* ns; 0 off, 1 every event */
    uint64_t mutex_fraction; /* 1/N events; 0 off */
    uint64_t epoch_ms;
    uint64_t dump_interval;  /* seconds; 0 off */
    int signal;              /* 0 = none */
    int stack_depth;
    uint64_t write_empty;    /* 1: write profiles with no samples too */
    uint64_t sync;           /* 1: fdatasync every file before its rename */
    int symbols;             /* enum mprof_symbols_level */
    uint64_t threadcreate;   /* 1: record every pthread_create (threadcreate.h) */
    uint64_t mutex_hold;     /* 1: the mutex profile also sums hold times (block.h) */
    uint64_t threads;        /* threads profile: 0 off, 1 at dumps asked for (signal),
                                2 at interval dumps too (dump.h) */
    uint64_t peak_growth;    /* percent over the saved peak that saves a new
                                one (TCMalloc's 1.1x: 10); MPROF_PEAK_OFF off */
    uint64_t inuse_interval; /* bytes of in-use growth between dumps; 0 off */
    uint64_t last_words_ms;  /* a termination signal's final dump, at most
                                this long; 0 off */
    mprof_netaddr http;      /* MPROF_HTTP; kind NONE: no server */
    char out[MPROF_OUT_MAX];
} mprof_config;

/* peak_growth when MPROF_PEAK_GROWTH=off: no peak profile. */
#define MPROF_PEAK_OFF UINT64_MAX

/* Where values come from: getenv in the library, a table in tests. */
typedef const char *(*mprof_env_lookup)(const char *name, void *ctx);

void mprof_config_defaults(mprof_config *c);
void mprof_config_load(mprof_config *c, mprof_env_lookup get, void *ctx);

/* "USR2", "SIGUSR2", "12", "none" -> signal number, 0 for none, -1 if bad. */
int mprof_parse_signal(const char *s);

#endif
