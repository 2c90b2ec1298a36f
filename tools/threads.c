/*
 * threads.c: `mprof stacks PID`: every thread of a running process, for
 * the moment it hangs.
 *
 * The process dumps (dump.c: the same checks and signal as `mprof dump`),
 * and the threads profile it writes (core/record/threadstacks.h) is read
 * back, its frames completed with file:line (symbols.h), and printed as
 * Go's goroutine dump (debug=2) or eu-stack prints it: one block per
 * group of threads with the same stack, most threads first, each headed
 * by the threads' names and tids, their state and, for a thread blocked
 * in a lock, condition variable or semaphore call, the call, the object
 * (its global's name where it has one) and, for a mutex, the tid glibc
 * records as its holder.
 *
 * Then the wait-for graph: a thread waiting for a mutex points at the
 * holder.  Following the pointers from each thread either ends (the
 * holder runs, or waits for something without a holder) or comes back
 * round: a deadlock, printed as its cycle, and the exit status is 3.
 */
#include "outname.h"
#include "proftext.h"
#include "reader.h"
#include "tool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_DEADLOCK = 3 };

/* One sample's labels, as the threads profile writes them (dump.c). */
typedef struct group {
    size_t sample;
    int64_t count;
    const char *name, *state, *wait, *lock, *lock_addr;
    int owner;
    int *tids;
    size_t ntids;
} group;

static const char *label_str(const reader *r, const mprof_pprof_label *l)
{
    return mprof_pprof_string(&r->p, l->str);
}

static void read_group(const reader *r, size_t i, group *g)
{
    const mprof_pprof_sample *s = &r->p.sample[i];
    memset(g, 0, sizeof *g);
    g->sample = i;
    g->count = s->value[0];
    g->name = g->state = g->wait = g->lock = g->lock_addr = "";
    g->tids = xcalloc(s->nlabel + 1, sizeof *g->tids);
    for (size_t k = 0; k < s->nlabel; k++) {
        const char *key = mprof_pprof_string(&r->p, s->label[k].key), *v = label_str(r, &s->label[k]);
        if (strcmp(key, "thread") == 0)
            g->name = v;
        else if (strcmp(key, "state") == 0)
            g->state = v;
        else if (strcmp(key, "wait") == 0)
            g->wait = v;
        else if (strcmp(key, "lock") == 0)
            g->lock = v;
        else if (strcmp(key, "lock_addr") == 0)
            g->lock_addr = v;
        else if (strcmp(key, "owner") == 0)
            g->owner = (int)strtol(v, NULL, 10);
        else if (strcmp(key, "tid") == 0)
            g->tids[g->ntids++] = (int)strtol(v, NULL, 10);
    }
}

static int by_count(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->ntids && y->ntids ? x->tids[0] - y->tids[0] : 0;
}

/* The group tid is in, or NULL. */
static const group *group_of(const group *g, size_t n, int tid)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g[i].ntids; k++)
            if (g[i].tids[k] == tid)
                return &g[i];
    return NULL;
}

static void print_holder(const group *g, size_t n, int owner)
{
    const group *h = group_of(g, n, owner);
    printf(", held by tid %d", owner);
    if (h)
        printf(" \"%s\"", h->name);
}

static void print_group(reader *r, const group *g, const group *all, size_t n)
{
    printf("%lld thread%s \"%s\" [%s]", (long long)g->count, g->count == 1 ? "" : "s", g->name,
           g->state);
    char wait[512]; /* said as goroutine?debug=2 says it (proftext.h) */
    printf("%s", mprof_text_wait(wait, sizeof wait, g->wait, g->lock, g->lock_addr, g->owner));
    const group *h = g->wait[0] && g->owner ? group_of(all, n, g->owner) : NULL;
    if (h)
        printf(" \"%s\"", h->name);
    printf("\n    tid");
    for (size_t k = 0; k < g->ntids; k++)
        printf(" %d", g->tids[k]);
    printf("\n");
    const frame *f;
    size_t nf = reader_stack(r, g->sample, &f);
    for (size_t k = 0; k < nf; k++) {
        printf("    %s%s", f[k].inlined ? "(inlined) " : "", f[k].name);
        if (f[k].file[0] && f[k].line)
            printf("  %s:%lld", f[k].file, (long long)f[k].line);
        printf("\n");
    }
    printf("\n");
}

/* The thread tid waits for a held lock: its group, else NULL. */
static const group *waiting(const group *g, size_t n, int tid)
{
    const group *w = group_of(g, n, tid);
    return w && w->owner ? w : NULL;
}

/* Deadlocks: from each waiting thread, follow holders; a walk that
 * comes back to its start is a cycle, printed once (from its lowest
 * tid).  Returns how many cycles. */
static int print_cycles(const group *g, size_t n)
{
    int cycles = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g[i].ntids && g[i].owner; k++) {
            int start = g[i].tids[k], tid = start, lowest = start, len = 0;
            const group *w;
            while ((w = waiting(g, n, tid)) && len <= (int)n * 64) {
                tid = w->owner;
                len++;
                if (tid == start)
                    break;
                lowest = tid < lowest ? tid : lowest;
            }
            if (tid != start || lowest != start)
                continue;
            printf("%sdeadlock: %d threads wait for each other:\n", cycles ? "\n" : "", len);
            for (int s = 0; s < len; s++) {
                w = waiting(g, n, tid);
                printf("  tid %d \"%s\" waits in %s for %s", tid, w->name, w->wait,
                       w->lock[0] ? w->lock : "?");
                print_holder(g, n, w->owner);
                printf("\n");
                tid = w->owner;
            }
            cycles++;
        }
    return cycles;
}

static int print_threads(const char *path, pid_t pid)
{
    reader r;
    if (reader_open(&r, "stacks", path) < 0)
        return EXIT_BAD_INPUT;
    if (reader_select_name(&r, "stacks", "threads") < 0) {
        reader_close(&r);
        return EXIT_BAD_INPUT;
    }
    size_t n = r.p.nsample;
    group *g = xcalloc(n + 1, sizeof *g);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        read_group(&r, i, &g[i]);
        total += g[i].count;
    }
    qsort(g, n, sizeof *g, by_count);
    printf("process %d: %lld threads, %zu distinct stacks (%s)\n\n", (int)pid,
           (long long)total, n, path);
    for (size_t i = 0; i < n; i++)
        print_group(&r, &g[i], g, n);
    int cycles = print_cycles(g, n);
    if (!cycles)
        printf("no deadlock: no cycle of threads waiting for mutexes held by each other\n");
    for (size_t i = 0; i < n; i++)
        free(g[i].tids);
    free(g);
    reader_close(&r);
    int rc = tool_stdout_status("stacks");
    return rc ? rc : cycles ? EXIT_DEADLOCK : 0;
}

static const tool_opt opts[] = {{"--timeout", true}, {NULL, false}};

int cmd_stacks(int argc, char **argv)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const tool_opt *opt;
    const char *val, *pid_s = NULL;
    double timeout = 10;
    int k;
    while ((k = tool_args_next(&a, "stacks", opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return tool_usage("stacks");
        if (k == ARG_OPERAND && !pid_s)
            pid_s = val;
        else if (k == ARG_OPERAND || parse_seconds(val, &timeout) < 0)
            return tool_usage("stacks");
    }
    int64_t v;
    if (!pid_s || parse_int64(pid_s, 1, INT_MAX, &v) < 0)
        return tool_usage("stacks");
    char *path;
    pid_t program;
    int rc = dump_for_file("stacks", (pid_t)v, timeout, MPROF_KIND_THREADS, &path, &program);
    if (rc)
        return rc;
    if (!path) {
        tool_error("stacks", "process %d wrote no threads profile (MPROF_THREADS=0?)",
                   (int)program);
        return EXIT_FAIL;
    }
    rc = print_threads(path, program);
    free(path);
    return rc;
}
