/*
 * stacks.c: the stack tree (see stacks.h).
 *
 * Nodes are created root-first along each sample's stack, so a parent's
 * index is always below its children's: totals then need one backward pass,
 * and nothing here recurses (a hostile profile may have stacks of any
 * depth).
 */
#include "stacks.h"

#include "tool.h"

#include <stdlib.h>
#include <string.h>

typedef struct child_key {
    size_t parent;
    const char *name;
} child_key;

static uint64_t child_hash(size_t parent, const char *name)
{
    return idxmap_hash_str(idxmap_hash_u64(IDXMAP_SEED, parent), name);
}

static uint64_t node_hash(size_t idx, void *ctx)
{
    const stacks *t = ctx;
    return child_hash(t->n[idx].parent, t->n[idx].name);
}

static bool node_eq(size_t idx, const void *k, void *ctx)
{
    const stacks *t = ctx;
    const child_key *key = k;
    return t->n[idx].parent == key->parent && strcmp(t->n[idx].name, key->name) == 0;
}

static size_t new_node(stacks *t, size_t parent, const char *name)
{
    xgrow(&t->n, &t->cap, t->len + 1, sizeof *t->n);
    snode *n = &t->n[t->len];
    *n = (snode){.name = name, .parent = parent, .child = STACKS_NONE,
                 .sibling = STACKS_NONE};
    if (parent != STACKS_NONE) {
        n->depth = t->n[parent].depth + 1;
        n->sibling = t->n[parent].child;
        t->n[parent].child = t->len;
        if (n->depth > t->max_depth)
            t->max_depth = n->depth;
    }
    return t->len++;
}

static size_t child_of(stacks *t, size_t parent, const char *name)
{
    child_key k = {parent, name};
    uint64_t h = child_hash(parent, name);
    size_t i = idxmap_get(&t->map, h, &k);
    if (i == STACKS_NONE) {
        i = new_node(t, parent, name);
        idxmap_put(&t->map, h, i);
    }
    return i;
}

static void add_sample(stacks *t, const frame *f, size_t nf, int64_t v)
{
    size_t at = 0;
    for (size_t j = nf; j-- > 0;) /* frames are leaf first */
        at = child_of(t, at, f[j].name);
    if (__builtin_add_overflow(t->n[at].self, v, &t->n[at].self))
        t->n[at].self = INT64_MAX;
}

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
    const stacks *t = ctx;
    return strcmp(t->n[*(const size_t *)a].name, t->n[*(const size_t *)b].name);
}

/* Relink every node's children in name order. */
static void sort_children(stacks *t)
{
    size_t *kids = NULL, cap = 0;
    for (size_t p = 0; p < t->len; p++) {
        size_t n = 0;
        for (size_t c = t->n[p].child; c != STACKS_NONE; c = t->n[c].sibling) {
            xgrow(&kids, &cap, n + 1, sizeof *kids);
            kids[n++] = c;
        }
        if (n < 2)
            continue;
        qsort_r(kids, n, sizeof *kids, cmp_by_name, t);
        t->n[p].child = kids[0];
        for (size_t i = 0; i < n; i++)
            t->n[kids[i]].sibling = i + 1 < n ? kids[i + 1] : STACKS_NONE;
    }
    free(kids);
}

static void compute_totals(stacks *t)
{
    for (size_t i = 0; i < t->len; i++)
        t->n[i].total = t->n[i].self;
    for (size_t i = t->len; i-- > 1;) {
        int64_t *pt = &t->n[t->n[i].parent].total;
        if (__builtin_add_overflow(*pt, t->n[i].total, pt))
            *pt = INT64_MAX;
    }
}

void stacks_build(stacks *t, reader *r)
{
    memset(t, 0, sizeof *t);
    idxmap_init(&t->map, (idxmap_ops){node_hash, node_eq}, t);
    new_node(t, STACKS_NONE, "all");
    for (size_t i = 0; i < r->p.nsample; i++) {
        int64_t v = reader_value(r, i);
        if (v < 0)
            t->skipped++;
        if (v <= 0)
            continue;
        const frame *f;
        size_t nf = reader_stack(r, i, &f);
        add_sample(t, f, nf, v);
    }
    sort_children(t);
    compute_totals(t);
}

void stacks_free(stacks *t)
{
    free(t->n);
    idxmap_free(&t->map);
    memset(t, 0, sizeof *t);
}

/* A frame name as one field of a folded line: ';' separates frames and the
 * line ends at a newline, so neither may appear inside a name; no other
 * control character reaches the terminal either. */
static void put_name(const char *s, FILE *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        putc(c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? ' ' : c, out);
    }
}

static void print_path(const stacks *t, size_t leaf, size_t **path, size_t *cap,
                       FILE *out)
{
    size_t n = 0;
    for (size_t i = leaf; i != 0; i = t->n[i].parent) {
        xgrow(path, cap, n + 1, sizeof **path);
        (*path)[n++] = i;
    }
    while (n-- > 0) {
        put_name(t->n[(*path)[n]].name, out);
        putc(n ? ';' : ' ', out);
    }
    fprintf(out, "%lld\n", (long long)t->n[leaf].self);
}

/* Pre-order: a node's own line before its callees', siblings by name. */
size_t stacks_print_folded(const stacks *t, FILE *out)
{
    size_t *todo = NULL, ntodo = 0, cap = 0, *path = NULL, pcap = 0, lines = 0;
    if (t->n[0].self) { /* samples with no stack at all: pprof's name for them */
        fprintf(out, "<unknown> %lld\n", (long long)t->n[0].self);
        lines++;
    }
    xgrow(&todo, &cap, 1, sizeof *todo);
    todo[ntodo++] = 0;
    while (ntodo) {
        size_t i = todo[--ntodo];
        if (i != 0 && t->n[i].self) {
            print_path(t, i, &path, &pcap, out);
            lines++;
        }
        /* Push children in reverse so the first by name comes out first. */
        size_t first = ntodo;
        for (size_t c = t->n[i].child; c != STACKS_NONE; c = t->n[c].sibling) {
            xgrow(&todo, &cap, ntodo + 1, sizeof *todo);
            todo[ntodo++] = c;
        }
        for (size_t a = first, b = ntodo; b > a + 1; a++, b--) {
            size_t tmp = todo[a];
            todo[a] = todo[b - 1];
            todo[b - 1] = tmp;
        }
    }
    free(todo);
    free(path);
    return lines;
}
