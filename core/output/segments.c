/* segments.c: see segments.h. */
#include "segments.h"

#include "elfnames.h"
#include "fdmove.h"
#include "lock.h"
#include "forkgate.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

struct walk {
    mprof_scratch *sc;
    const char *program; /* the program's path, found before the walk */
    mprof_segment *seg;
    size_t n, cap;
    int first; /* the next object reported is the program */
    uint64_t page;
    int failed;
    int counted;  /* adds and subs were reported */
    int reused;   /* the kept list is current: the walk stopped there */
    unsigned long long adds, subs; /* the loader's counts of loads, unloads */
};

/*
 * The list kept (mprof_segments_keep): what the last walk found, with the
 * loader's counts of loads and unloads then. While they are the same, no
 * object came or went (dl_iterate_phdr(3) gives them for this), and the
 * walk stops at its first object: no path resolved, no note read, no page
 * of any object touched (for a fork child, each a page fault). One
 * mapping, replaced whole; kept_lock guards the pointer and its reading.
 * A fork child keeps its parent's list, not the setting.
 */
struct kept_list {
    size_t len; /* of the mapping */
    unsigned long long adds, subs;
    size_t n;
    mprof_segment seg[];
};

static struct kept_list *kept;
static MPROF_FORK_STATE mprof_lock kept_lock = MPROF_LOCK_INIT; /* kept; a leaf */
MPROF_LOCK_RANK(kept_lock, MPROF_RANK_SEGMENTS);
static MPROF_FORK_STATE int keep;

void mprof_segments_keep(void) { __atomic_store_n(&keep, 1, __ATOMIC_RELAXED); }


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
    int fd = mprof_fd_raise(open(path, O_RDONLY | O_CLOEXEC), path);
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
    int is_main = w->first;
    w->first = 0;
    if (is_main && size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        w->counted = 1;
        w->adds = info->dlpi_adds;
        w->subs = info->dlpi_subs;
        mprof_lock_acquire(&kept_lock);
        w->reused = kept && kept->adds == w->adds && kept->subs == w->subs;
        mprof_lock_release(&kept_lock);
        if (w->reused)
            return 1; /* stop: nothing changed */
    }
    if (!w->program)
        w->program = program_path(w->sc);
    const char *path = object_path(w, info->dlpi_name, is_main);
    if (!path)
        return 0;
    const char *id = NULL;
    uint64_t dynamic = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dynamic = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
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
                           .is_main = is_main,
                           .dynamic = dynamic};
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

/*
 * Retired objects (mprof_segments_retire): up to MAX_RETIRED segments and
 * their strings, in one mapping made at the first; object k's range
 * starts at MPROF_RETIRED_BASE + k * RETIRED_SPAN. retired_lock guards
 * them; the mapping is never unmapped (a fork child keeps it).
 */
#define MAX_RETIRED 256
#define RETIRED_SPAN ((uint64_t)1 << 36) /* 64 GiB of file addresses each */
#define RETIRED_STRINGS 65536

struct retired {
    size_t n, objects, used;
    mprof_segment seg[MAX_RETIRED];
    char strings[RETIRED_STRINGS];
};

static struct retired *retired;
static MPROF_FORK_STATE mprof_lock retired_lock = MPROF_LOCK_INIT; /* retired's contents; a leaf */
MPROF_LOCK_RANK(retired_lock, MPROF_RANK_SEGMENTS_RETIRED);

static const char *retired_str(struct retired *r, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > RETIRED_STRINGS - r->used)
        return NULL;
    char *d = memcpy(r->strings + r->used, s, n);
    r->used += n;
    return d;
}

uint64_t mprof_segments_retire(const mprof_segment *s)
{
    uint64_t bias = 0;
    mprof_lock_acquire(&retired_lock);
    if (!retired) {
        void *m = mmap(NULL, sizeof *retired, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        retired = m == MAP_FAILED ? NULL : m;
    }
    struct retired *r = retired;
    /* The same file and build, unloaded again from the same place (a
     * plugin loaded and unloaded in a loop): its range is kept already. */
    for (size_t i = 0; r && i < r->n && !bias; i++) {
        const mprof_segment *k = &r->seg[i];
        if (k->dynamic == s->bias && k->offset == s->offset &&
            k->start - k->bias == s->start - s->bias && strcmp(k->path, s->path) == 0 &&
            strcmp(k->build_id, s->build_id) == 0)
            bias = k->bias;
    }
    if (r && !bias && r->n < MAX_RETIRED && r->objects < 1024) {
        /* the segments of one object come in a row, and share its range;
         * .dynamic holds, for a retired segment, its object's old bias */
        const mprof_segment *prev = r->n ? &r->seg[r->n - 1] : NULL;
        int same_object = prev && prev->dynamic == s->bias && strcmp(prev->path, s->path) == 0;
        uint64_t nb = same_object ? prev->bias : MPROF_RETIRED_BASE + r->objects * RETIRED_SPAN;
        const char *path = same_object ? prev->path : retired_str(r, s->path);
        const char *id = same_object ? prev->build_id : retired_str(r, s->build_id);
        if (path && id && s->limit - s->bias <= RETIRED_SPAN) {
            r->seg[r->n++] = (mprof_segment){.start = s->start - s->bias + nb,
                                             .limit = s->limit - s->bias + nb,
                                             .offset = s->offset,
                                             .bias = nb,
                                             .path = path,
                                             .build_id = id,
                                             .dynamic = s->bias}; /* the old bias: which object */
            r->objects += !same_object;
            bias = nb;
        }
    }
    mprof_lock_release(&retired_lock);
    return bias;
}

/* The retired segments after the n in w (copied into its scratch). */
static void add_retired(struct walk *w)
{
    mprof_lock_acquire(&retired_lock);
    for (size_t i = 0; retired && i < retired->n && !w->failed; i++) {
        mprof_segment s = retired->seg[i];
        s.dynamic = 0; /* not mapped: no image to read */
        s.path = mprof_scratch_strndup(w->sc, s.path, strlen(s.path));
        s.build_id = mprof_scratch_strndup(w->sc, s.build_id, strlen(s.build_id));
        if (!s.path || !s.build_id)
            w->failed = 1;
        else
            add(w, &s);
    }
    mprof_lock_release(&retired_lock);
}

static size_t str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

/* A copy of s into the bytes at *p, advanced past it. */
static const char *put_str(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*p, s, n);
    *p += n;
    return d;
}

/* Keep w's list in place of the one kept (strings copied with it). */
static void keep_list(const struct walk *w)
{
    size_t len = sizeof(struct kept_list) + w->n * sizeof(mprof_segment);
    for (size_t i = 0; i < w->n; i++)
        len += str_size(w->seg[i].path) + str_size(w->seg[i].build_id);
    struct kept_list *k = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
    if (k == MAP_FAILED)
        return;
    *k = (struct kept_list){.len = len, .adds = w->adds, .subs = w->subs, .n = w->n};
    char *p = (char *)&k->seg[w->n];
    for (size_t i = 0; i < w->n; i++) {
        k->seg[i] = w->seg[i];
        /* segments of one object share its strings: copy them once */
        int same = i > 0 && w->seg[i].path == w->seg[i - 1].path;
        k->seg[i].path = same ? k->seg[i - 1].path : put_str(&p, w->seg[i].path);
        k->seg[i].build_id = same ? k->seg[i - 1].build_id : put_str(&p, w->seg[i].build_id);
    }
    mprof_lock_acquire(&kept_lock);
    struct kept_list *old = kept;
    kept = k;
    mprof_lock_release(&kept_lock);
    if (old)
        munmap(old, old->len);
}

/* The kept list, copied into sc (its strings stay where they are only
 * while it is kept, so they are copied too); 0 when it changed since. */
static size_t copy_kept(struct walk *w)
{
    size_t n = 0;
    mprof_lock_acquire(&kept_lock);
    if (kept && kept->adds == w->adds && kept->subs == w->subs &&
        (w->seg = mprof_scratch_alloc(w->sc, (kept->n ? kept->n : 1) * sizeof *w->seg))) {
        for (n = 0; n < kept->n; n++) {
            w->seg[n] = kept->seg[n];
            int same = n > 0 && kept->seg[n].path == kept->seg[n - 1].path;
            const char *path = kept->seg[n].path, *id = kept->seg[n].build_id;
            w->seg[n].path = same ? w->seg[n - 1].path
                                  : path ? mprof_scratch_strndup(w->sc, path, strlen(path)) : NULL;
            w->seg[n].build_id = same ? w->seg[n - 1].build_id
                                      : mprof_scratch_strndup(w->sc, id, strlen(id));
            if ((path && !w->seg[n].path) || !w->seg[n].build_id)
                break;
        }
        if (n < kept->n)
            n = 0; /* out of memory */
    }
    mprof_lock_release(&kept_lock);
    return n;
}

size_t mprof_segments(mprof_scratch *sc, mprof_segment **out)
{
    long page = sysconf(_SC_PAGESIZE);
    struct walk w = {.sc = sc, .first = 1, .page = page > 0 ? (uint64_t)page : 4096};
    /* dl_iterate_phdr holds the loader's dl_load_write_lock, which fork
     * does not reset: a child forked meanwhile would block on it for
     * good. So the walk waits out a fork, and a fork waits for the walk. */
    mprof_forkgate_hold();
    dl_iterate_phdr(object, &w);
    mprof_forkgate_release();
    if (w.reused && (w.n = copy_kept(&w)) > 0) {
        w.cap = w.n;
        add_retired(&w);
        *out = w.failed ? NULL : w.seg;
        return w.failed ? 0 : w.n;
    }
    if (w.reused) { /* it changed meanwhile, or no memory: walk it all */
        w = (struct walk){.sc = sc, .first = 1, .page = w.page};
        mprof_forkgate_hold();
        dl_iterate_phdr(object, &w);
        mprof_forkgate_release();
    }
    if (w.failed || w.reused) {
        *out = NULL;
        return 0;
    }
    size_t mains = 0; /* the program's segments are already first */
    while (mains < w.n && w.seg[mains].is_main)
        mains++;
    sort_from(w.seg, mains, w.n);
    if (w.counted && __atomic_load_n(&keep, __ATOMIC_RELAXED))
        keep_list(&w);
    add_retired(&w);
    if (w.failed) {
        *out = NULL;
        return 0;
    }
    *out = w.seg;
    return w.n;
}

void mprof_segments_after_fork(void)
{
    mprof_lock_reset(&kept_lock);
    mprof_lock_reset(&retired_lock);
    if (keep)
        keep = 0;
}
