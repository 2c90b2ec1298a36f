/*
 * demo: a toy request handler with two memory problems, profiled by
 * `make demo`.
 *
 *   1. A leak: parse_request() allocates a request, and handle_request()
 *      forgets to free it when the request is malformed (1 in 8).
 *   2. A bloated cache: cache_store() keeps a copy of every response and
 *      never evicts anything.
 *
 * render_response() also allocates a large scratch buffer per request and
 * frees it: it dominates the bytes allocated but holds nothing at exit.
 * The heap profile's inuse_space view shows the cache and the leak; its
 * alloc_space view shows the scratch buffers.
 *
 *   demo            serve 200000 requests and exit
 *   demo --serve    serve forever, slowly (for mprof dump and mprof diff)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUESTS 200000
#define SCRATCH_SIZE (16 * 1024)

struct request {
    int id;
    int malformed;
    char body[500];
};

struct cache_entry {
    struct cache_entry *next;
    size_t len;
    char data[];
};

static struct cache_entry *cache_head;

static struct request *parse_request(int id)
{
    struct request *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->id = id;
    r->malformed = id % 8 == 0;
    snprintf(r->body, sizeof r->body, "GET /item/%d", id);
    return r;
}

/* Never evicts: the cache grows with every request served. */
static void cache_store(const char *resp, size_t len)
{
    struct cache_entry *e = malloc(sizeof *e + len);
    if (!e)
        abort();
    e->len = len;
    memcpy(e->data, resp, len);
    e->next = cache_head;
    cache_head = e;
}

static size_t render_response(const struct request *r, char *out, size_t cap)
{
    char *scratch = malloc(SCRATCH_SIZE); /* temporary: freed below */
    if (!scratch)
        abort();
    int n = snprintf(scratch, SCRATCH_SIZE, "200 OK item %d: %s", r->id,
                     r->body);
    size_t len = (size_t)n < cap ? (size_t)n : cap - 1;
    memcpy(out, scratch, len);
    free(scratch);
    return len;
}

static int handle_request(int id)
{
    struct request *r = parse_request(id);
    if (r->malformed)
        return -1; /* BUG: r leaks on this path */
    char resp[400];
    memset(resp, ' ', sizeof resp); /* fixed-width record */
    render_response(r, resp, sizeof resp);
    cache_store(resp, sizeof resp);
    free(r);
    return 0;
}

/* A server that never stops: 100 requests every 10 ms until killed, so
 * that `mprof dump` and `mprof diff` have a process whose heap grows. */
static void serve(void)
{
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int id = 0;; id++) {
        handle_request(id);
        if (id % 100 == 99)
            nanosleep(&pause, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--serve") == 0)
        serve();
    if (argc != 1) {
        fprintf(stderr, "usage: demo [--serve]\n");
        return 2;
    }
    int errors = 0;
    for (int id = 0; id < REQUESTS; id++)
        errors += handle_request(id) != 0;
    printf("demo: served %d requests, %d malformed\n", REQUESTS, errors);
    return 0;
}
