/* segments.c: see segments.h. */
#include "segments.h"

#include "elfnames.h"
#include "fdmove.h"
#include "onstack.h"

#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

struct walk {
    mprof_scratch *sc;
    const char *program; /* the program's path, found before the walk */
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

void mprof_segments_init(const char *dir)
{
    snprintf(start_dir, sizeof start_dir, "%s", dir ? dir : "");
}

static int is_elf(const char *path)
{
    char magic[4] = {0};
    int fd = mprof_fd_raise(open(path, O_RDONLY | O_CLOEXEC));
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, magic, sizeof magic);
    close(fd);
    return n == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

/* A name relative to where the program started, made absolute and
 * resolved through symlinks into out; NULL if it does not resolve. */
static const char *resolve(const char *name, char *out)
{
    char joined[PATH_MAX];
    if (name[0] != '/' && start_dir[0] &&
        snprintf(joined, sizeof joined, "%s/%s", start_dir, name) < (int)sizeof joined)
        name = joined;
    return realpath(name, out);
}

static const char *program_path(mprof_scratch *sc)
{
    const char *fn = (const char *)getauxval(AT_EXECFN); // NOLINT(performance-no-int-to-ptr)
    char real[PATH_MAX];
    const char *path = fn && fn[0] ? resolve(fn, real) : NULL;
    /* A script started through "#!" has AT_EXECFN naming the script, not
     * its interpreter: then ask /proc after all. */
    if (!path || !is_elf(path)) {
        ssize_t n = readlink("/proc/self/exe", real, sizeof real - 1);
        static const char deleted[] = " (deleted)";
        size_t k = sizeof deleted - 1;
        if (n > 0 && (size_t)n > k && memcmp(real + n - k, deleted, k) == 0)
            n -= (ssize_t)k;
        if (n <= 0)
            return NULL;
        real[n] = '\0';
        path = real;
    }
    return mprof_scratch_strndup(sc, path, strlen(path));
}

/* The object's file as pprof names mappings: absolute, "[vdso]", or NULL
 * for an object without a name (it has no symbols to find either). */
static const char *object_path(struct walk *w, const char *name, int is_main)
{
    if (is_main && !name[0])
        return w->program;
    if (name[0] == '/')
        return mprof_scratch_strndup(w->sc, name, strlen(name));
    if (strncmp(name, "linux-vdso", 10) == 0 || strncmp(name, "linux-gate", 10) == 0)
        return "[vdso]";
    char real[PATH_MAX]; /* dlopen("./lib.so"): taken from the start directory */
    return name[0] && resolve(name, real) ? mprof_scratch_strndup(w->sc, real, strlen(real))
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
    struct walk w = {.sc = sc, .first = 1, .page = page > 0 ? (uint64_t)page : 4096,
                     .program = program_path(sc)};
    /* dl_iterate_phdr holds the loader's dl_load_write_lock, which fork
     * does not reset: a child forked meanwhile would block on it for
     * good. So the walk waits out a fork, and a fork waits for the walk. */
    mprof_onstack_gate_hold();
    dl_iterate_phdr(object, &w);
    mprof_onstack_gate_release();
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
