/*
 * symbolize.c: addresses of this process -> mappings, functions, file:line.
 *
 * Owns a per-dump snapshot of the executable mappings and, for file:line,
 * a Dwfl session. Invariant (this process): maps[0, nmain) are the
 * program's segments and maps[nmain, n) are sorted by address and
 * disjoint, so lookup is a check of the first and a binary search of the
 * rest; (a profile's files) maps are the profile's, in its order. Nothing
 * is cached across dumps, so dlopen/dlclose between dumps cannot leave
 * stale modules behind.
 */
#include "symbolize.h"

#include "dumplibs.h"
#include "elfnames.h"
#include "segments.h"
#include "fdmove.h"
#include "log.h"
#include "u64map.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mprof_symbolizer {
    mprof_scratch *sc;
    int level;  /* enum mprof_symbols_level */
    int files;  /* opened on a profile's mappings: maps in the caller's order */
    Dwfl *dwfl; /* NULL when elfutils could not report the modules */
    mprof_sym_mapping *maps;
    size_t nmaps;
    size_t nmain; /* maps[0, nmain): the program's; the rest sorted */
    /* address -> names[i], the ELF symbol's name (elfnames.h), filled by
     * mprof_symbolizer_prepare for a batch, or for one address on demand */
    struct u64map named;
    const char **names;
    size_t nnames, names_cap;
};

/* /proc/thread-self/<name>: once the main thread has called pthread_exit,
 * the process leader is a zombie and /proc/self/maps reads empty, while
 * the calling thread's own view is complete. /proc/self on old kernels. */
static const char *proc_file(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/proc/thread-self/%s", name);
    if (access(buf, F_OK) != 0)
        snprintf(buf, len, "/proc/self/%s", name);
    return buf;
}

/* This process's code segments (segments.h), as the mappings of its
 * profiles: the program's first, the rest by address. */
static void load_segments(mprof_symbolizer *sym)
{
    mprof_segment *seg;
    size_t n = mprof_segments(sym->sc, &seg);
    sym->maps = mprof_scratch_calloc(sym->sc, n ? n : 1, sizeof *sym->maps);
    if (!sym->maps)
        return;
    for (size_t i = 0; i < n; i++) {
        sym->maps[i] = (mprof_sym_mapping){.start = seg[i].start, .limit = seg[i].limit,
                                           .offset = seg[i].offset, .path = seg[i].path,
                                           .build_id = seg[i].build_id,
                                           .is_main = seg[i].is_main,
                                           .bias_known = 1, .bias = seg[i].bias,
                                           .dynamic = seg[i].dynamic};
        sym->nmain += seg[i].is_main != 0;
    }
    sym->nmaps = n;
}

/* ---- elfutils ---- */

/*
 * Separate debug info is looked up by build ID under the local debug
 * directories (/usr/lib/debug/.build-id/, where Debian's -dbg and -dbgsym
 * packages put it), and nowhere else. elfutils' standard lookup ends in
 * debuginfod: it dlopens libdebuginfod, and with it curl, gnutls and
 * kerberos, into the profiled program, and when DEBUGINFOD_URLS is set (as
 * Debian's login shells set it) downloads debug info over the network from
 * inside the program's dump. A file found only through .gnu_debuglink, with
 * no build ID, goes unread: its functions keep their ELF symbol names.
 */
/* elfutils' own lookups, with the descriptor of the file found moved out
 * of the program's way (fdmove.h): the session keeps it open until the
 * dump ends.  One that came with an Elf already made on it stays. */
static int find_elf_high(Dwfl_Module *mod, void **userdata, const char *modname,
                         Dwarf_Addr base, char **file_name, Elf **elfp)
{
    int fd = DW(dwfl_linux_proc_find_elf)(mod, userdata, modname, base, file_name, elfp);
    return *elfp ? fd : mprof_fd_raise(fd, fd >= 0 ? *file_name : NULL);
}

static int find_debuginfo_high(Dwfl_Module *mod, void **userdata, const char *modname,
                               Dwarf_Addr base, const char *file_name,
                               const char *debuglink_file, GElf_Word debuglink_crc,
                               char **debuginfo_file_name)
{
    int fd = DW(dwfl_build_id_find_debuginfo)(mod, userdata, modname, base, file_name,
                                               debuglink_file, debuglink_crc,
                                               debuginfo_file_name);
    return mprof_fd_raise(fd, fd >= 0 ? *debuginfo_file_name : NULL);
}

/* No separate debug file: what a session that only unwinds is given, so
 * that a pc .eh_frame does not cover is not looked up in libc6-dbg's
 * compressed .debug_frame (cfi.h). */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                        Dwarf_Addr base, const char *file_name,
                        const char *debuglink_file, GElf_Word debuglink_crc,
                        char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
    (void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
    return -1;
}

Dwfl *mprof_dwfl_report_self(int debuginfo)
{
    /* The session keeps a pointer to its callbacks: static storage, the
     * same two values written by every dump. */
    static Dwfl_Callbacks with, without;
    static int said;
    const struct mprof_libdw *dw = mprof_libdw();
    if (!dw) {
        char why[256];
        if (!said++)
            mprof_log("cannot load libdw.so.1 (%s): profiles name no functions "
                      "and threads have no stacks; install libdw1",
                      mprof_dumplibs_error(why, sizeof why));
        return NULL;
    }
    Dwfl_Callbacks *cb = debuginfo ? &with : &without;
    cb->find_elf = find_elf_high;
    cb->find_debuginfo = debuginfo ? find_debuginfo_high : no_debuginfo;
    Dwfl *dwfl = DW(dwfl_begin)(cb);
    if (!dwfl)
        return NULL;
    DW(dwfl_report_begin)(dwfl);
    char where[64];
    proc_file(where, sizeof where, "maps");
    int mfd = mprof_fd_raise(open(where, O_RDONLY | O_CLOEXEC), where);
    FILE *maps = mfd >= 0 ? fdopen(mfd, "re") : NULL;
    if (!maps && mfd >= 0)
        close(mfd);
    int rc = maps ? DW(dwfl_linux_proc_maps_report)(dwfl, maps) : -1;
    if (maps)
        fclose(maps);
    if (DW(dwfl_report_end)(dwfl, NULL, NULL) != 0 || rc != 0) {
        DW(dwfl_end)(dwfl);
        return NULL;
    }
    return dwfl;
}

static const char *hex_build_id(mprof_scratch *sc, Dwfl_Module *mod)
{
    const unsigned char *bits;
    GElf_Addr vaddr, bias;
    DW(dwfl_module_getelf)(mod, &bias); /* the build ID is read with the ELF */
    int n = DW(dwfl_module_build_id)(mod, &bits, &vaddr);
    const char *hex = n > 0 ? mprof_hex(sc, bits, (size_t)n) : NULL;
    return hex ? hex : "";
}

mprof_symbolizer *mprof_symbolizer_open(mprof_scratch *sc, int level)
{
    mprof_symbolizer *sym = mprof_scratch_calloc(sc, 1, sizeof *sym);
    if (!sym)
        return NULL;
    sym->sc = sc;
    sym->level = level;
    load_segments(sym);
    /* Names only: libelf, when a profile asks (mprof_symbolizer_prepare);
     * libdw's session is for file:line and inlined frames. */
    if (level == MPROF_SYMBOLS_FULL)
        sym->dwfl = mprof_dwfl_report_self(1);
    return sym;
}

/* ---- the files of a profile's mappings ---- */

/*
 * The load bias that puts the file where the mapping says: the mapping
 * holds the file from `offset` at `start`, and the executable PT_LOAD
 * beginning in its first page places file offset x at p_vaddr + (x -
 * p_offset). pprof's elfexec.GetBase does the same.
 */
static int file_bias(Elf *elf, const mprof_sym_mapping *m, uint64_t *bias)
{
    GElf_Ehdr eh;
    size_t n;
    if (!DW(gelf_getehdr)(elf, &eh) || DW(elf_getphdrnum)(elf, &n) != 0)
        return -1;
    if (eh.e_type == ET_EXEC) {
        *bias = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!DW(gelf_getphdr)(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
            !(ph.p_flags & PF_X) || ph.p_offset < m->offset ||
            ph.p_offset - m->offset >= 0x10000 /* the largest page size */)
            continue;
        *bias = m->start - ph.p_vaddr + (ph.p_offset - m->offset);
        return 0;
    }
    return -1;
}

/* An earlier mapping of the same file at the same bias: one module covers
 * all of a file's segments, and reporting it twice makes libdwfl drop it
 * (DWFL_E_OVERLAP). Its index, or -1. */
static long same_module(const mprof_symbolizer *sym, size_t upto, const char *path,
                        uint64_t bias)
{
    for (size_t i = 0; i < upto; i++)
        if (sym->maps[i].bias_known && sym->maps[i].bias == bias &&
            strcmp(sym->maps[i].path, path) == 0)
            return (long)i;
    return -1;
}

static void report_file(mprof_symbolizer *sym, size_t k)
{
    mprof_sym_mapping *m = &sym->maps[k];
    m->unusable = 1;
    if (m->path[0] != '/')
        return; /* [vdso], or an anonymous name */
    int fd = mprof_fd_raise(open(m->path, O_RDONLY | O_CLOEXEC), m->path);
    if (fd < 0)
        return;
    uint64_t bias;
    Elf *elf = DW(elf_begin)(fd, ELF_C_READ_MMAP, NULL);
    int ok = elf && file_bias(elf, m, &bias) == 0;
    if (elf)
        DW(elf_end)(elf);
    long twin = ok ? same_module(sym, k, m->path, bias) : -1;
    if (!ok || twin >= 0) {
        close(fd);
        if (twin >= 0) {
            m->bias_known = 1;
            m->bias = bias;
            m->unusable = sym->maps[twin].unusable;
        }
        return;
    }
    const char *base = strrchr(m->path, '/') + 1;
    /* add_p_vaddr: bias is added to the segments' p_vaddr; fd is consumed
     * on success only */
    Dwfl_Module *mod = DW(dwfl_report_elf)(sym->dwfl, base, m->path, fd, bias, true);
    if (!mod) {
        close(fd);
        return;
    }
    m->bias_known = 1;
    m->bias = bias;
    const char *id = hex_build_id(sym->sc, mod);
    m->unusable = m->build_id[0] && strcmp(id, m->build_id) != 0;
}

mprof_symbolizer *mprof_symbolizer_open_files(mprof_scratch *sc,
                                              const mprof_sym_mapping *maps,
                                              size_t n, int level)
{
    mprof_symbolizer *sym = mprof_scratch_calloc(sc, 1, sizeof *sym);
    mprof_sym_mapping *copy = mprof_scratch_calloc(sc, n ? n : 1, sizeof *copy);
    if (!sym || !copy)
        return NULL;
    *sym = (mprof_symbolizer){.sc = sc, .level = level, .files = 1,
                              .maps = copy, .nmaps = n};
    static Dwfl_Callbacks callbacks; /* kept by the session: static */
    for (size_t i = 0; i < n; i++) {
        copy[i] = (mprof_sym_mapping){.start = maps[i].start, .limit = maps[i].limit,
                                      .offset = maps[i].offset,
                                      .path = maps[i].path ? maps[i].path : "",
                                      .build_id = maps[i].build_id ? maps[i].build_id : "",
                                      .unusable = 1};
    }
    if (level == MPROF_SYMBOLS_NONE || !mprof_libdw())
        return sym;
    callbacks.find_elf = find_elf_high; /* unused: every module comes with its file */
    callbacks.find_debuginfo = find_debuginfo_high;
    DW(elf_version)(EV_CURRENT);
    if (!(sym->dwfl = DW(dwfl_begin)(&callbacks)))
        return sym;
    DW(dwfl_report_begin)(sym->dwfl);
    for (size_t i = 0; i < n; i++)
        report_file(sym, i);
    if (DW(dwfl_report_end)(sym->dwfl, NULL, NULL) != 0) {
        DW(dwfl_end)(sym->dwfl);
        sym->dwfl = NULL;
    }
    return sym;
}

void mprof_symbolizer_close(mprof_symbolizer *sym)
{
    if (sym && sym->dwfl) {
        DW(dwfl_end)(sym->dwfl);
        sym->dwfl = NULL;
    }
}

size_t mprof_symbolizer_nmappings(const mprof_symbolizer *sym)
{
    return sym->nmaps;
}

mprof_sym_mapping *mprof_symbolizer_mapping(mprof_symbolizer *sym, size_t i)
{
    if (i >= sym->nmaps)
        return NULL;
    return &sym->maps[i];
}

static int contains(const mprof_sym_mapping *m, uint64_t addr)
{
    return addr >= m->start && addr < m->limit;
}

long mprof_symbolizer_find_mapping(const mprof_symbolizer *sym, uint64_t addr)
{
    if (sym->files) { /* a profile's few mappings, in its order */
        for (size_t i = 0; i < sym->nmaps; i++)
            if (contains(&sym->maps[i], addr))
                return (long)i;
        return -1;
    }
    for (size_t i = 0; i < sym->nmain; i++)
        if (contains(&sym->maps[i], addr))
            return (long)i;
    size_t lo = sym->nmain, hi = sym->nmaps; /* the sorted part */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr < sym->maps[mid].start)
            hi = mid;
        else if (addr >= sym->maps[mid].limit)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

/* ---- names ---- */

const char *mprof_demangle(mprof_scratch *sc, const char *name)
{
    /* Itanium C++ (and Rust's legacy scheme): _Z..., or a GCC clone of one */
    if (!name || strncmp(name, "_Z", 2) != 0)
        return name;
    mprof_demangle_fn demangle = mprof_demangler();
    if (!demangle)
        return name;
    int status = -1;
    char *d = demangle(name, NULL, NULL, &status);
    const char *copy = status == 0 && d ? mprof_scratch_strndup(sc, d, strlen(d)) : NULL;
    free(d);
    return copy ? copy : name;
}

/*
 * A complete profile (MPROF_SYMBOLS=full, or a profile's files: what
 * `mprof symbolize` writes) gets names demangled in full, as addr2line -C
 * prints them, the linkage name kept in system_name. A dump of names only
 * is one to be completed: it writes the linkage name in both, as the ELF
 * table has it, and every reader demangles it its own way (pprof to its
 * short form, mprof's reports and `mprof symbolize` in full), which also
 * spares a dump the demangler.
 */
static void set_names(mprof_symbolizer *sym, mprof_sym_frame *f,
                      const char *linkage)
{
    f->system_name = linkage;
    f->name = sym->level == MPROF_SYMBOLS_FULL ? mprof_demangle(sym->sc, linkage) : linkage;
}

/* ---- frames ---- */

static const char *attr_string(Dwarf_Die *die, unsigned int name)
{
    Dwarf_Attribute a;
    return DW(dwarf_attr_integrate)(die, name, &a) ? DW(dwarf_formstring)(&a) : NULL;
}

/* The linkage (mangled) name where there is one (C++), else the plain name
 * (C): what the ELF symbol of an out-of-line copy says. */
static const char *die_name(Dwarf_Die *die)
{
    const char *n = attr_string(die, DW_AT_linkage_name);
    if (!n)
        n = attr_string(die, DW_AT_MIPS_linkage_name);
    if (!n)
        n = attr_string(die, DW_AT_name);
    return n;
}

/*
 * The ELF symbol names the function the way the rest of the toolchain
 * does, except for GCC's clones ("f.cold", "f.constprop.0", "f.isra.0",
 * "f.part.0"): those are parts of f, and are called f as in addr2line, so
 * that a function does not split in two in the profile.
 */
static const char *function_name(const char *symname, Dwarf_Die *subprogram)
{
    const char *dw = die_name(subprogram);
    if (!symname)
        return dw;
    size_t n = dw ? strlen(dw) : 0;
    if (n && strncmp(symname, dw, n) == 0 && symname[n] == '.')
        return dw;
    return symname;
}

static int64_t decl_line(Dwarf_Die *die)
{
    int line;
    return DW(dwarf_decl_line)(die, &line) == 0 ? line : 0;
}

/* Where an inlined call sits in its caller. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, const char **file,
                      int64_t *line)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    *line = 0;
    if (DW(dwarf_attr)(inl, DW_AT_call_line, &a) && DW(dwarf_formudata)(&a, &v) == 0)
        *line = (int64_t)v;
    *file = NULL;
    Dwarf_Files *files;
    size_t nfiles;
    if (DW(dwarf_attr)(inl, DW_AT_call_file, &a) && DW(dwarf_formudata)(&a, &v) == 0 &&
        DW(dwarf_getsrcfiles)(cu, &files, &nfiles) == 0 && v < nfiles)
        *file = DW(dwarf_filesrc)(files, v, NULL, NULL);
}

/* A file named relative to the compilation directory, made absolute as
 * addr2line prints it (pprof's source view and editors open it). */
static const char *absolute(mprof_symbolizer *sym, Dwarf_Die *cu, const char *file)
{
    const char *dir = file && file[0] != '/' && cu ? attr_string(cu, DW_AT_comp_dir) : NULL;
    if (!dir || dir[0] != '/') /* "./intl" of a reproducible build: as is */
        return file;
    size_t dl = strlen(dir), fl = strlen(file);
    char *path = mprof_scratch_alloc(sym->sc, dl + fl + 2);
    if (!path)
        return file;
    snprintf(path, dl + fl + 2, "%s/%s", dir, file);
    return path;
}

/* A frame of function `die` at (file, line): pprof's Function carries one
 * file, the one that defines the function (DW_AT_decl_file), so that one
 * function is one record; the position's own file is the fallback. */
static void set_frame(mprof_symbolizer *sym, mprof_sym_frame *f,
                      const char *name, const char *file, int64_t line,
                      Dwarf_Die *die, Dwarf_Die *cu)
{
    set_names(sym, f, name);
    const char *decl = die ? DW(dwarf_decl_file)(die) : NULL;
    f->file = absolute(sym, cu, decl ? decl : file);
    f->line = line;
    f->start_line = die ? decl_line(die) : 0;
}

/*
 * The innermost scope at addr, then its physical nesting outwards: each
 * inlined subroutine is a frame at the current position, and its call site
 * becomes the position in the next frame out; the enclosing subprogram ends
 * it. dwarf_getscopes alone is not enough: from an inlined instance it goes
 * on into the abstract origin's scopes, not the caller's, which cuts a
 * chain to two frames; dwarf_getscopes_die on the innermost DIE walks the
 * concrete nesting, as eu-addr2line -i does.
 */
static int dwarf_frames(mprof_symbolizer *sym, Dwfl_Module *mod, Dwarf_Addr addr,
                        const char *symname, const char *file, int64_t line,
                        mprof_sym_frame *out, int max)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = DW(dwfl_module_addrdie)(mod, addr, &bias);
    if (!cu)
        return 0;
    Dwarf_Die *scopes = NULL;
    int n = DW(dwarf_getscopes)(cu, addr - bias, &scopes);
    if (n > 0) {
        Dwarf_Die inner = scopes[0];
        free(scopes);
        scopes = NULL;
        n = DW(dwarf_getscopes_die)(&inner, &scopes);
    }
    int nf = 0, done = 0;
    for (int i = 0; i < n && nf < max && !done; i++) {
        int tag = DW(dwarf_tag)(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            set_frame(sym, &out[nf++], die_name(&scopes[i]), file, line, &scopes[i], cu);
            call_site(cu, &scopes[i], &file, &line);
        } else if (tag == DW_TAG_subprogram) {
            set_frame(sym, &out[nf++], function_name(symname, &scopes[i]), file,
                      line, &scopes[i], cu);
            done = 1;
        }
    }
    if (!done && nf > 0 && nf < max && symname)
        set_frame(sym, &out[nf++], symname, file, line, NULL, cu);
    free(scopes);
    return nf;
}

static void note_found(mprof_symbolizer *sym, uint64_t addr, int lines,
                       int inl)
{
    long i = mprof_symbolizer_find_mapping(sym, addr);
    if (i < 0)
        return;
    sym->maps[i].has_names = 1;
    sym->maps[i].has_lines |= lines;
    sym->maps[i].has_inline |= inl;
}

/* file:line of addr from the line table, only inside a compile unit that
 * covers it: the nearest row before an address no CU claims (_start, in
 * crt1.o without debug info) is some other function's line. */
static const char *source_line(Dwfl_Module *mod, uint64_t addr, int *line)
{
    Dwarf_Addr bias;
    *line = 0;
    if (!DW(dwfl_module_addrdie)(mod, addr, &bias))
        return NULL;
    Dwfl_Line *dl = DW(dwfl_module_getsrc)(mod, addr);
    const char *file = dl ? DW(dwfl_lineinfo)(dl, NULL, line, NULL, NULL, NULL) : NULL;
    if (!file)
        *line = 0;
    return file;
}

/* ---- names only, in this process ---- */

/* Stable LSD radix sort by address, 8 bits a pass (no qsort: it may
 * malloc). Returns the sorted array, r or tmp. */
static mprof_elfname_req *sort_reqs(mprof_elfname_req *r, mprof_elfname_req *tmp, size_t n)
{
    uint64_t hi = 0;
    for (size_t i = 0; i < n; i++)
        hi |= r[i].addr;
    for (unsigned shift = 0; n > 1 && shift < 64 && hi >> shift; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[(r[i].addr >> shift & 255) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            tmp[count[r[i].addr >> shift & 255]++] = r[i];
        mprof_elfname_req *t = r;
        r = tmp;
        tmp = t;
    }
    return r;
}

static int remember(mprof_symbolizer *sym, uint64_t addr, const char *name)
{
    if (sym->nnames == sym->names_cap) {
        size_t cap = sym->names_cap ? 2 * sym->names_cap : 256;
        const char **nn = mprof_scratch_grow(sym->sc, sym->names,
                                             sym->names_cap * sizeof *nn, cap * sizeof *nn);
        if (!nn)
            return -1;
        sym->names = nn;
        sym->names_cap = cap;
    }
    sym->names[sym->nnames] = name;
    return mprof_u64map_put(sym->sc, &sym->named, addr, sym->nnames++);
}

/* Name the sorted, distinct r[0, n) a mapping at a time. */
static void name_by_mapping(mprof_symbolizer *sym, mprof_elfname_req *r, size_t n)
{
    for (size_t i = 0; i < n;) {
        long m = mprof_symbolizer_find_mapping(sym, r[i].addr);
        size_t j = i + 1;
        while (j < n && mprof_symbolizer_find_mapping(sym, r[j].addr) == m)
            j++;
        mprof_sym_mapping *mp = m >= 0 ? mprof_symbolizer_mapping(sym, (size_t)m) : NULL;
        if (mp && mp->bias_known && !mp->unusable)
            mprof_elfnames(sym->sc, mp->path, mp->bias, mp->build_id,
                           (const void *)(uintptr_t)mp->dynamic, r + i, j - i); // NOLINT(performance-no-int-to-ptr)
        i = j;
    }
}

int mprof_symbolizer_prepare(mprof_symbolizer *sym, const uint64_t *addrs, size_t n)
{
    if (sym->level == MPROF_SYMBOLS_NONE || n == 0)
        return 0;
    mprof_elfname_req *r = mprof_scratch_calloc(sym->sc, n, sizeof *r);
    mprof_elfname_req *tmp = mprof_scratch_calloc(sym->sc, n, sizeof *tmp);
    if (!r || !tmp)
        return -1;
    size_t k = 0, seen;
    for (size_t i = 0; i < n; i++)
        if (addrs[i] && !mprof_u64map_get(&sym->named, addrs[i], &seen))
            r[k++].addr = addrs[i];
    r = sort_reqs(r, tmp, k);
    size_t d = 0; /* distinct */
    for (size_t i = 0; i < k; i++)
        if (d == 0 || r[d - 1].addr != r[i].addr)
            r[d++] = r[i];
    name_by_mapping(sym, r, d);
    for (size_t i = 0; i < d; i++)
        if (remember(sym, r[i].addr, r[i].name) < 0)
            return -1;
    return 0;
}

/* The ELF symbol's name at addr: from a batch prepared, else looked up
 * alone (one pass over its table: callers with many addresses prepare). */
static const char *elf_name(mprof_symbolizer *sym, uint64_t addr)
{
    size_t i;
    if (!mprof_u64map_get(&sym->named, addr, &i) &&
        (mprof_symbolizer_prepare(sym, &addr, 1) < 0 ||
         !mprof_u64map_get(&sym->named, addr, &i)))
        return NULL;
    return sym->names[i];
}

static int names_only(mprof_symbolizer *sym, uint64_t addr, mprof_sym_frame *out)
{
    const char *name = elf_name(sym, addr);
    if (!name)
        return 0;
    set_frame(sym, &out[0], name, NULL, 0, NULL, NULL);
    note_found(sym, addr, 0, 0);
    return 1;
}

int mprof_symbolize(mprof_symbolizer *sym, uint64_t addr,
                    mprof_sym_frame *out, int max)
{
    if (max <= 0 || sym->level == MPROF_SYMBOLS_NONE)
        return 0;
    /* names only, or no libdw to read DWARF with: the ELF symbol */
    if (sym->level == MPROF_SYMBOLS_NAMES || !sym->dwfl)
        return names_only(sym, addr, out);
    long m = mprof_symbolizer_find_mapping(sym, addr);
    if (m < 0 || sym->maps[m].unusable)
        return 0;
    Dwfl_Module *mod = DW(dwfl_addrmodule)(sym->dwfl, addr);
    if (!mod)
        return names_only(sym, addr, out);
    const char *symname = elf_name(sym, addr);
    int line;
    const char *file = source_line(mod, addr, &line);
    int nf = dwarf_frames(sym, mod, addr, symname, file, line, out, max);
    if (nf > 0) {
        note_found(sym, addr, file != NULL, 1);
        return nf;
    }
    if (!symname)
        return 0;
    set_frame(sym, &out[0], symname, file, line, NULL, NULL);
    note_found(sym, addr, file != NULL, 0);
    return 1;
}

void mprof_symbolizer_keep(void)
{
    mprof_segments_keep();
    mprof_elfnames_keep();
}

void mprof_symbolizer_after_fork(void)
{
    mprof_segments_after_fork();
    mprof_elfnames_after_fork();
}
