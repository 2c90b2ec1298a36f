/*
 * stacks.h: the samples of one profile merged into a tree of call stacks
 * (root = all samples, children = callees), for folded stacks and flame
 * graphs. Frames merge by function name, so two pcs of one function on the
 * same path are one node, as in flamegraph.pl.
 */
#ifndef MPROF_TOOL_STACKS_H
#define MPROF_TOOL_STACKS_H

#include "idxmap.h"
#include "reader.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define STACKS_NONE SIZE_MAX

typedef struct snode {
    const char *name; /* "all" for the root */
    size_t parent, child, sibling; /* STACKS_NONE when absent */
    int64_t self;  /* samples whose stack ends here */
    int64_t total; /* self plus all descendants */
    size_t depth;  /* root 0 */
} snode;

typedef struct stacks {
    snode *n; /* n[0] is the root; a parent comes before its children */
    size_t len, cap;
    idxmap map;
    size_t max_depth;
    size_t skipped; /* samples left out because their value was negative */
} stacks;

/* Samples of r with a positive value of the chosen type; children sorted by
 * name; totals computed. */
void stacks_build(stacks *t, reader *r);
void stacks_free(stacks *t);

/* Folded stacks ("root;...;leaf value") of the nodes with a self value,
 * one line each, in name order, to out. Returns the number of lines. */
size_t stacks_print_folded(const stacks *t, FILE *out);

#endif
