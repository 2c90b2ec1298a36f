/*
 * symbols.h: completing a profile's frames (file:line, inlined frames,
 * demangled names) from the binaries and debug files on this machine.
 *
 * Idea: pprof's local symbolization (internal/symbolizer), which go tool
 * pprof runs on a profile whose mappings lack symbols; here with elfutils,
 * and only for the files whose build ID is the one profiled.
 */
#ifndef MPROF_TOOL_SYMBOLS_H
#define MPROF_TOOL_SYMBOLS_H

#include "pprof.h"

#include <stddef.h>

#define SYMBOLS_MAX_LISTED 16

typedef struct symbols_report {
    char *missing[SYMBOLS_MAX_LISTED]; /* files not here, or another build */
    size_t nmissing;
} symbols_report;

/*
 * Replace *p by the same profile with every location of a mapping that
 * lacks file:line or inlined frames symbolized from its file (a mapping
 * whose file is missing or of another build keeps its frames). rep, if
 * not NULL, lists the files that could not be used (free it with
 * symbols_report_free). 1 if p was rebuilt, 0 if nothing was missing,
 * -1 when out of memory (p unchanged).
 */
int symbols_complete(mprof_pprof_profile *p, symbols_report *rep);
void symbols_report_free(symbols_report *rep);

#endif
