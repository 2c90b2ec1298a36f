/*
 * endpoints.c: the /debug/pprof table and its handlers (see endpoints.h).
 * To serve a new profile, add its line to `endpoints` (and its kind to
 * dump.h); a line with kind NONE answers 404 with its note.
 */
#include "endpoints.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NONE (-1)

/* seconds=N is a 400: a profile that is not a running total (Go's
 * profileSupportsDelta leaves out what it cannot difference). */
#define WHOLE_ONLY 1

struct endpoint {
    const char *name;          /* after /debug/pprof/ */
    int kind;                  /* enum mprof_dump_kind, or NONE */
    enum mprof_dump_diff diff; /* WHOLE, or GODELTAPROF for delta_* */
    const char *default_type;  /* default_sample_type, or NULL */
    const char *doc;           /* the index's line; for NONE, the 404 body */
    int flags;                 /* WHOLE_ONLY */
};

/* Go's descriptions (net/http/pprof profileDescriptions) where Go has the
 * profile; the index lists the lines whose kind is not NONE. */
static const struct endpoint endpoints[] = {
    {"allocs", MPROF_DUMP_HEAP, MPROF_DUMP_WHOLE, "alloc_space",
     "A sampling of all past memory allocations", 0},
    {"block", MPROF_DUMP_BLOCK, MPROF_DUMP_WHOLE, NULL,
     "Stack traces that led to blocking on synchronization primitives", 0},
    {"goroutine", MPROF_DUMP_THREADS, MPROF_DUMP_WHOLE, NULL,
     "Stack traces of all current threads (Go's goroutines). Use debug=2 as a query parameter "
     "to list every thread on its own, as Go lists goroutines.", 0},
    {"heap", MPROF_DUMP_HEAP, MPROF_DUMP_WHOLE, NULL,
     "A sampling of memory allocations of live objects. You can specify the gc "
     "GET parameter to run GC before taking the heap sample.", 0},
    {"mutex", MPROF_DUMP_MUTEX, MPROF_DUMP_WHOLE, NULL,
     "Stack traces of holders of contended mutexes", 0},
    {"peak", MPROF_DUMP_PEAK, MPROF_DUMP_WHOLE, NULL,
     "The live objects when the heap was at its largest so far (TCMalloc's peak heap "
     "profile). Whole only: no seconds GET parameter.", WHOLE_ONLY},
    {"threadcreate", MPROF_DUMP_THREADCREATE, MPROF_DUMP_WHOLE, NULL,
     "Stack traces that led to the creation of new OS threads", 0},
    {"delta_heap", MPROF_DUMP_HEAP, MPROF_DUMP_GODELTAPROF, NULL,
     "The heap profile's allocations since the previous request (Grafana's godeltaprof)", 0},
    {"delta_block", MPROF_DUMP_BLOCK, MPROF_DUMP_GODELTAPROF, NULL,
     "The block profile since the previous request (Grafana's godeltaprof)", 0},
    {"delta_mutex", MPROF_DUMP_MUTEX, MPROF_DUMP_GODELTAPROF, NULL,
     "The mutex profile since the previous request (Grafana's godeltaprof)", 0},
    {"profile", NONE, 0, NULL,
     "mprof: no CPU profile (mprof samples memory, blocking and lock contention)\n", 0},
    {"trace", NONE, 0, NULL, "mprof: no execution trace\n", 0},
};
#define NENDPOINTS (sizeof endpoints / sizeof endpoints[0])

/* godeltaprof's state: the snapshot each delta_* path answered last. */
static mprof_dump_snap *baseline[NENDPOINTS];

static void reply_text(mprof_reply *out, int status, const char *text)
{
    *out = (mprof_reply){.status = status, .content_type = "text/plain; charset=utf-8",
                         .text = text, .text_len = strlen(text)};
}

static const char *const kind_names[] = {"heap", "block", "mutex", "threadcreate",
                                         "threads", "peak"};

/* The 404 of a profile that is off, with the setting that turns it off. */
static void reply_off(mprof_reply *out, int kind)
{
    static const char *const settings[] = {
        "MPROF_MEM_RATE=0", "MPROF_BLOCK_RATE=0", "MPROF_MUTEX_FRACTION=0",
        "MPROF_THREADCREATE=0", "MPROF_THREADS=0", "MPROF_MEM_RATE=0 or MPROF_PEAK_GROWTH=off"};
    static char msg[MPROF_DUMP_NKINDS][96];
    snprintf(msg[kind], sizeof msg[kind], "mprof: the %s profile is off (%s)\n",
             kind_names[kind], settings[kind]);
    reply_text(out, 404, msg[kind]);
}

/* Go's index page (net/http/pprof Index), with mprof's profiles. */
static void reply_index(mprof_reply *out)
{
    static char page[6144];
    size_t o = (size_t)snprintf(page, sizeof page,
        "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n"
        "/debug/pprof/\n<br>\n<p>Set debug=1 as a query parameter to export in legacy "
        "text format</p>\n<br>\nTypes of profiles available:\n<table>\n"
        "<thead><td>Count</td><td>Profile</td></thead>\n");
    for (size_t i = 0; i < NENDPOINTS && o < sizeof page; i++) {
        const struct endpoint *e = &endpoints[i];
        if (e->kind == NONE || !mprof_dump_kind_on((enum mprof_dump_kind)e->kind))
            continue;
        o += (size_t)snprintf(page + o, sizeof page - o,
                              "<tr><td></td><td><a href='%s?debug=1'>%s</a></td></tr>\n",
                              e->name, e->name);
    }
    if (o < sizeof page) /* Go's link to the goroutine dump: the threads, each */
        o += (size_t)snprintf(page + o, sizeof page - o, "</table>\n%s<br>\n<p>\n<ul>\n",
                              mprof_dump_kind_on(MPROF_DUMP_THREADS)
                                  ? "<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n"
                                  : "");
    for (size_t i = 0; i < NENDPOINTS && o < sizeof page; i++)
        if (endpoints[i].kind != NONE)
            o += (size_t)snprintf(page + o, sizeof page - o, "<li><div class=profile-name>%s: "
                                  "</div> %s</li>\n", endpoints[i].name, endpoints[i].doc);
    if (o < sizeof page)
        snprintf(page + o, sizeof page - o, "</ul>\n</p>\n</body>\n</html>\n");
    reply_text(out, 200, page);
    out->content_type = "text/html; charset=utf-8";
}

static const struct endpoint *lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < NENDPOINTS; i++)
        if (strlen(endpoints[i].name) == len && memcmp(endpoints[i].name, name, len) == 0)
            return &endpoints[i];
    return NULL;
}

/* now (minus before) rendered into out; the snapshots stay the caller's. */
static void reply_profile(mprof_reply *out, const struct endpoint *e, mprof_dump_snap *now,
                          mprof_dump_snap *before, enum mprof_dump_diff diff, int text)
{
    int rc = mprof_dump_render(now, before, diff, text, e->default_type, &out->body);
    if (rc < 0) {
        reply_text(out, rc == -ESHUTDOWN ? 503 : 500,
                   rc == -ESHUTDOWN ? "mprof: the program is exiting\n"
                                    : "mprof: cannot render the profile (out of memory, "
                                      "or no zlib)\n");
        return;
    }
    out->status = 200;
    if (text) {
        out->content_type = "text/plain; charset=utf-8";
        return;
    }
    /* Go's names: "heap"; "heap-delta" for ?seconds (serveDeltaProfile);
     * godeltaprof's "heap.pprof.gz" */
    out->content_type = "application/octet-stream";
    if (diff == MPROF_DUMP_GODELTAPROF)
        snprintf(out->filename, sizeof out->filename, "%s.pprof.gz", kind_names[e->kind]);
    else
        snprintf(out->filename, sizeof out->filename, "%s%s", e->name,
                 diff == MPROF_DUMP_GO_DELTA ? "-delta" : "");
}

static mprof_dump_snap *take(const struct endpoint *e, int raw)
{
    return mprof_dump_snap_take((enum mprof_dump_kind)e->kind, raw);
}

static void reply_unavailable(mprof_reply *out)
{
    reply_text(out, 503, "mprof: no snapshot (out of memory, or the program is exiting)\n");
}

/* delta_*: against the baseline, which the new snapshot then replaces. */
static void serve_godeltaprof(const struct endpoint *e, mprof_reply *out)
{
    mprof_dump_snap **base = &baseline[e - endpoints];
    mprof_dump_snap *now = take(e, 0);
    if (!now) {
        reply_unavailable(out);
        return;
    }
    reply_profile(out, e, now, *base, MPROF_DUMP_GODELTAPROF, 0);
    mprof_dump_snap_free(*base);
    *base = now;
}

/* ?seconds=N: the window's start; the end comes at p->due_ns. */
static int begin_window(const struct endpoint *e, int64_t secs, int debug,
                        mprof_reply *out, mprof_pending *p)
{
    /* Go's checks, in Go's order (serveDeltaProfile); its WriteTimeout
     * check is the 300 s bound here */
    const char *err = secs <= 0 ? "invalid value for \"seconds\" - must be a positive integer\n"
                      : e->flags & WHOLE_ONLY
                          ? "\"seconds\" parameter is not supported for this profile type\n"
                      : secs > MPROF_HTTP_MAX_SECONDS ? "mprof: \"seconds\" is above 300\n"
                      : debug ? "seconds and debug params are incompatible\n"
                              : NULL;
    if (err) {
        reply_text(out, 400, err);
        return 0;
    }
    *p = (mprof_pending){.ep = e, .start = take(e, 0),
                         .due_ns = mprof_clock_ns(CLOCK_MONOTONIC) + secs * 1000000000};
    if (!p->start) {
        p->ep = NULL;
        reply_unavailable(out);
        return 0;
    }
    return 1;
}

int mprof_endpoints_serve(const mprof_httpreq *r, mprof_reply *out, mprof_pending *p)
{
    static const char prefix[] = "/debug/pprof/";
    const size_t pl = sizeof prefix - 1;
    *p = (mprof_pending){0};
    if (r->method_len != 3 || memcmp(r->method, "GET", 3) != 0) {
        reply_text(out, 405, "mprof: only GET\n");
        return 0;
    }
    if (r->path_len < pl || memcmp(r->path, prefix, pl) != 0) {
        reply_text(out, 404, "404 page not found\n");
        return 0;
    }
    if (r->path_len == pl) {
        reply_index(out);
        return 0;
    }
    const struct endpoint *e = lookup(r->path + pl, r->path_len - pl);
    if (!e) {
        reply_text(out, 404, "Unknown profile\n");
        return 0;
    }
    if (e->kind == NONE || !mprof_dump_kind_on((enum mprof_dump_kind)e->kind)) {
        if (e->kind == NONE)
            reply_text(out, 404, e->doc);
        else
            reply_off(out, e->kind);
        return 0;
    }
    int64_t debug = 0, secs = 0;
    if (mprof_httpreq_int(r, "debug", &debug) < 0) /* Go: Atoi's error ignored */
        debug = 0;
    if (e->diff == MPROF_DUMP_GODELTAPROF) {
        serve_godeltaprof(e, out);
        return 0;
    }
    char sv[32]; /* Go: an empty "seconds=" is no seconds at all */
    int has_secs = mprof_httpreq_param(r, "seconds", sv, sizeof sv) == 0
                       ? 0 : mprof_httpreq_int(r, "seconds", &secs);
    if (has_secs != 0)
        return begin_window(e, has_secs < 0 ? 0 : secs, debug != 0, out, p);
    mprof_dump_snap *now = take(e, debug != 0);
    if (!now) {
        reply_unavailable(out);
        return 0;
    }
    /* Go: debug=2 is only the goroutine profile's; any other N is 1 */
    int text = debug == 0 ? 0 : debug >= 2 && e->kind == MPROF_DUMP_THREADS ? 2 : 1;
    reply_profile(out, e, now, NULL, MPROF_DUMP_WHOLE, text);
    mprof_dump_snap_free(now);
    return 0;
}

void mprof_endpoints_finish(mprof_pending *p, mprof_reply *out)
{
    const struct endpoint *e = p->ep;
    mprof_dump_snap *now = take(e, 0);
    if (now)
        reply_profile(out, e, now, p->start, MPROF_DUMP_GO_DELTA, 0);
    else
        reply_unavailable(out);
    mprof_dump_snap_free(now);
    mprof_endpoints_abandon(p);
}

void mprof_endpoints_abandon(mprof_pending *p)
{
    mprof_dump_snap_free(p->start);
    *p = (mprof_pending){0};
}

void mprof_reply_free(mprof_reply *r)
{
    mprof_dump_body_free(&r->body);
    *r = (mprof_reply){0};
}

void mprof_endpoints_after_fork(void)
{
    for (size_t i = 0; i < NENDPOINTS; i++)
        baseline[i] = NULL; /* the parent's mappings: left as they are */
}
