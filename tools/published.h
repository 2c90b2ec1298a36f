/*
 * published.h: reading the state a process under mprof publishes in the
 * names of its memfd mappings (the format is in core/record/publish.h), from the
 * text of its /proc/PID/maps.
 *
 * This is what `mprof dump` trusts, and nothing the program can overwrite:
 * its environ block holds a process title in nginx, redis and PostgreSQL.
 */
#ifndef MPROF_TOOL_PUBLISHED_H
#define MPROF_TOOL_PUBLISHED_H

#include <stdbool.h>

enum { PUB_HEAP = 1, PUB_BLOCK = 2, PUB_MUTEX = 4 }; /* the files= mask */

typedef struct published {
    long pid;           /* whose state the mapping is; != the target: inherited */
    int sig;            /* 0: MPROF_SIGNAL=none */
    bool own;           /* mprof's handler for sig is installed */
    bool rec;           /* something was recorded */
    unsigned long seq;  /* the latest dump, 0 for none */
    unsigned files;     /* PUB_* mask of the files dump `seq` wrote */
    char *out;          /* the MPROF_OUT prefix, decoded; malloc'd */
} published;

/* The state published for process `pid` in `maps`, the text of its
 * /proc/PID/maps.  A mapping of pid's own wins (the one with the highest
 * seq, should two be seen); failing that, one inherited through fork,
 * which means its sig, own and out, with nothing recorded and no dump.
 * 0, or -1 if no complete state is there (none at all, or a prefix whose
 * continuation mappings are missing). */
int published_parse(const char *maps, long pid, published *p);
void published_free(published *p);

#endif
