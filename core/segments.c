/* segments.c: see segments.h. */
#include "segments.h"

#include "elfnames.h"

#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

struct walk {
    mprof_scratch *sc;
    mprof_segment *seg;
    size_t n, cap;
    int first; /* the next object reported is the program */
    uint64_t page;
    int failed;
};

/*
 * The program's own path, without /proc: /proc/self/exe would make the
 * kernel create /proc/<pid> entries that it walks again when the process
 * is reaped, in the parent's wait (see agent.c); a server that forks a
 * process per request pays it per request. The kernel's AT_EXECFN is the
 * file execve was given, made absolute from the directory the program
 * started in (start_dir, saved at start) and resolved through symlinks,
 * as /proc/self/exe names it. A name that no longer resolves stays as
 * given (the build ID still says which binary it was).
 */
static char start_dir[PATH_MAX];

void mprof_segments_init(void)
{
    if (!getcwd(start_dir, sizeof start_dir))
        start_dir[0] = '\0';
}

static const char *program_path(mprof_scratch *sc)
{
    const char *fn = (const char *)getauxval(AT_EXECFN); // NOLINT(performance-no-int-to-ptr)
    if (!fn || !fn[0])
        return NULL;
    char joined[PATH_MAX], real[PATH_MAX];
    if (fn[0] != '/' && start_dir[0] &&
        snprintf(joined, sizeof joined, "%s/%s", start_dir, fn) < (int)sizeof joined)
        fn = joined;
    const char *path = realpath(fn, real) ? real : fn;
    return mprof_scratch_strndup(sc, path, strlen(path));
}

/* The object's file as pprof names mappings: absolute, "[vdso]", or NULL
 * for an object without a name (it has no symbols to find either). */
static const char *object_path(struct walk *w, const char *name, int is_main)
{
    if (is_main && !name[0])
        return program_path(w->sc);
    if (name[0] == '/')
        return mprof_scratch_strndup(w->sc, name, strlen(name));
    if (strncmp(name, "linux-vdso", 10) == 0 || strncmp(name, "linux-gate", 10) == 0)
        return "[vdso]";
    char real[PATH_MAX]; /* dlopen("./lib.so"): relative to where it was opened */
    return name[0] && realpath(name, real) ? mprof_scratch_strndup(w->sc, real, strlen(real))
                                           : NULL;
}

static void add(struct walk *w, const mprof_segment *s)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 32;
        mprof_segment *g = mprof_scratch_grow(w->sc, w->seg, w->cap * sizeof *g, cap * sizeof *g);
        if (!g) {
            w->failed = 1;
            return;
        }
        w->seg = g;
        w->cap = cap;
    }
    w->seg[w->n++] = *s;
}

static int object(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    (void)size;
    int is_main = w->first;
    w->first = 0;
    const char *path = object_path(w, info->dlpi_name, is_main);
    if (!path)
        return 0;
    const char *id = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !ph->p_memsz)
            continue;
        if (!id)
            id = mprof_object_build_id(w->sc, info);
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, mask = w->page - 1;
        mprof_segment s = {.start = lo & ~mask,
                           .limit = (lo + ph->p_memsz + mask) & ~mask,
                           .offset = ph->p_offset & ~mask,
                           .bias = info->dlpi_addr,
                           .path = path,
                           .build_id = id,
                           .is_main = is_main};
        add(w, &s);
    }
    return 0;
}

/* Insertion sort of [from, n) by address: a few dozen modules. */
static void sort_from(mprof_segment *s, size_t from, size_t n)
{
    for (size_t i = from + 1; i < n; i++) {
        mprof_segment x = s[i];
        size_t j = i;
        for (; j > from && s[j - 1].start > x.start; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
}

size_t mprof_segments(mprof_scratch *sc, mprof_segment **out)
{
    long page = sysconf(_SC_PAGESIZE);
    struct walk w = {.sc = sc, .first = 1, .page = page > 0 ? (uint64_t)page : 4096};
    dl_iterate_phdr(object, &w);
    if (w.failed) {
        *out = NULL;
        return 0;
    }
    size_t mains = 0; /* the program's segments are already first */
    while (mains < w.n && w.seg[mains].is_main)
        mains++;
    sort_from(w.seg, mains, w.n);
    *out = w.seg;
    return w.n;
}
