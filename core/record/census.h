/*
 * census.h: what a process's fork children tell it about their exit
 * dumps, so that a server with a process per request readies once, in
 * the parent, what every child's dump would otherwise redo (dump.h,
 * mprof_dump_ready_children).
 *
 * One page shared with the children (MAP_SHARED | MAP_ANONYMOUS), mapped
 * before the process's first fork. Each child that writes its exit dump
 * counts itself in, and adds the start of each code segment its profiles
 * named a function in. Segment starts are the same in parent and child
 * (fork copies the address space), so the parent can index those modules
 * even when it recorded nothing in them itself: a postmaster whose own
 * allocations took no sample still learns that its backends' stacks are
 * in postgres, libc and libcrypto.
 *
 * Invariant: the page only grows: the count goes up, and a module slot
 * goes from 0 to a segment start once (compare-and-swap) and stays. A
 * child keeps its parent's page as the one it reports to, and maps one of
 * its own if it forks in turn. A child made without the fork handlers
 * (_Fork, clone) reports to its parent's parent: the same address space
 * lineage, so its modules are right there too. Every function is lock-free, async-signal-
 * safe and leaves errno alone except mprof_census_map (mmap's errno).
 */
#ifndef MPROF_CENSUS_H
#define MPROF_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Module slots on the page: a server's children rarely name more than a
 * few dozen modules; one past the last is not recorded (its children then
 * read its symbol table in each dump, as without the census). */
#define MPROF_CENSUS_MODULES 128

/* Before a fork: map this process's page unless it has one (silently
 * none if mmap fails: the children then report nothing). */
void mprof_census_map(void);

/* In the fork child: the parent's page becomes the one this process
 * reports to; this process has none of its own until it forks. */
void mprof_census_after_fork(void);

/* Is there a parent to report to? (the process is a fork child) */
int mprof_census_has_parent(void);

/* The child wrote its final dump (at exit, or its last words on a
 * termination signal): count it in the parent's page. */
void mprof_census_child_dumped(void);

/* The child's exit dump named functions in the code segment starting at
 * `start` (an address): recorded once in the parent's page. */
void mprof_census_note_module(uint64_t start);

/* This process's children's exit dumps counted so far (0 without a page). */
unsigned mprof_census_child_dumps(void);

/* The segment starts its children noted, at most max into out; how many. */
size_t mprof_census_modules(uint64_t *out, size_t max);

#pragma GCC visibility pop

#endif
