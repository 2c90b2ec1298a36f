/*
 * symbols.c: a profile's frames completed from the files on this machine,
 * for the reports (automatically) and for `mprof symbolize` (into a file
 * that go tool pprof, Pyroscope or Parca read as is).
 *
 * A dump writes function names only (MPROF_SYMBOLS=names): file:line and
 * inlined frames come from DWARF, which is read here, at leisure, instead
 * of inside the profiled program (core/output/profile.c, mprof_profile_resymbolize).
 */
#include "symbols.h"

#include "atomic_file.h"
#include "gzip.h"
#include "profile.h"
#include "symbolize.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Some mapping lacks file:line or inlined frames. */
static bool incomplete(const mprof_pprof_profile *p)
{
    for (size_t i = 0; i < p->nmapping; i++) {
        const mprof_pprof_mapping *m = &p->mapping[i];
        if (!(m->has_functions && m->has_filenames && m->has_line_numbers &&
              m->has_inline_frames))
            return true;
    }
    return false;
}

int symbols_complete(mprof_pprof_profile *p, symbols_report *rep)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (!incomplete(p))
        return 0;
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_symbolizer *sym = mprof_profile_symbolizer(&sc, p);
    mprof_pprof_profile out;
    int rc = sym ? mprof_profile_resymbolize(p, sym, &out) : -1;
    for (size_t i = 0; sym && rep && i < p->nmapping; i++) {
        const mprof_sym_mapping *m = mprof_symbolizer_mapping(sym, i);
        if (m->path[0] == '/' && m->unusable && rep->nmissing < SYMBOLS_MAX_LISTED)
            rep->missing[rep->nmissing++] = xstrdup(m->path);
    }
    mprof_symbolizer_close(sym);
    mprof_scratch_release(&sc);
    if (rc < 0)
        return -1;
    mprof_pprof_free(p);
    *p = out;
    return 1;
}

void symbols_report_free(symbols_report *rep)
{
    for (size_t i = 0; i < rep->nmissing; i++)
        free(rep->missing[i]);
    rep->nmissing = 0;
}

/* ---- mprof symbolize ---- */

static const tool_opt opts[] = {{"-o", true}, {"--output", true}, {NULL, false}};

static int write_profile(const char *cmd, const mprof_pprof_profile *p, const char *path)
{
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    mprof_pbuf b;
    mprof_pbuf_init(&b, &sc);
    void *gz = NULL;
    size_t gzlen = 0;
    int rc = mprof_pprof_encode(p, &b);
    if (rc == 0)
        rc = mprof_gzip(&sc, b.buf, b.len, &gz, &gzlen);
    if (rc == 0)
        rc = mprof_write_file_atomic(path, gz, gzlen, 1);
    mprof_scratch_release(&sc);
    if (rc < 0)
        tool_error(cmd, "cannot write %s: %s", path, strerror(-rc));
    return rc < 0 ? EXIT_FAIL : 0;
}

int cmd_symbolize(int argc, char **argv)
{
    const char *cmd = "symbolize";
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const char *in = NULL, *out = NULL, *val;
    const tool_opt *opt;
    int k;
    while ((k = tool_args_next(&a, cmd, opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return tool_usage(cmd);
        if (k == ARG_OPERAND && in) {
            tool_error(cmd, "unexpected argument '%s'", val);
            return tool_usage(cmd);
        }
        *(k == ARG_OPERAND ? &in : &out) = val;
    }
    if (!in || !out) {
        tool_error(cmd, in ? "expected -o OUT" : "expected a profile file");
        return tool_usage(cmd);
    }
    mprof_pprof_profile p;
    char err[1024];
    if (mprof_pprof_read_file(&p, in, err, sizeof err) < 0) {
        tool_error(cmd, "%s", err);
        return EXIT_BAD_INPUT;
    }
    symbols_report rep;
    if (symbols_complete(&p, &rep) < 0) {
        tool_error(cmd, "out of memory");
        mprof_pprof_free(&p);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < rep.nmissing; i++)
        fprintf(stderr, "mprof symbolize: %s: not on this machine, or not the "
                        "build profiled (its build ID differs); its frames "
                        "keep what the profile had\n", rep.missing[i]);
    symbols_report_free(&rep);
    int rc = write_profile(cmd, &p, out);
    mprof_pprof_free(&p);
    return rc;
}
