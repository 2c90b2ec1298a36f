/*
 * elfnames.c: names from ELF symbol tables, one pass per table (see
 * elfnames.h).
 *
 * Invariant: reqs stay sorted by address, so the requests a symbol
 * [start, start + size) covers are one run found by binary search, and the
 * nearest symbol at or before each request is a prefix maximum.
 */
#include "elfnames.h"

#include "dumplibs.h"
#include "fdmove.h"
#include "forkgate.h"
#include "lock.h"

#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the loaded object, from memory ---- */

static const char hexdigits[] = "0123456789abcdef";

char *mprof_hex(mprof_scratch *sc, const unsigned char *bits, size_t n)
{
    char *h = mprof_scratch_alloc(sc, 2 * n + 1);
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = hexdigits[bits[i] >> 4];
        h[2 * i + 1] = hexdigits[bits[i] & 15];
    }
    h[2 * n] = '\0';
    return h;
}

/* NT_GNU_BUILD_ID in a PT_NOTE segment: notes are 4-byte aligned records
 * of namesz, descsz, type, the name ("GNU\0") and the descriptor. */
static const unsigned char *note_build_id(const char *p, size_t len, size_t *n)
{
    while (len >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p, 4);
        memcpy(&descsz, p + 4, 4);
        memcpy(&type, p + 8, 4);
        size_t name_pad = (namesz + 3) & ~3u, desc_pad = (descsz + 3) & ~3u;
        if (12 + name_pad + desc_pad > len)
            return NULL;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + 12, "GNU", 4) == 0) {
            *n = descsz;
            return (const unsigned char *)p + 12 + name_pad;
        }
        p += 12 + name_pad + desc_pad;
        len -= 12 + name_pad + desc_pad;
    }
    return NULL;
}

const char *mprof_object_build_id(mprof_scratch *sc, const struct dl_phdr_info *info)
{
    const unsigned char *id = NULL;
    size_t len = 0;
    for (int i = 0; i < info->dlpi_phnum && !id; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        /* the loaded segment: its address is the bias plus its vaddr */
        const char *seg = (const char *)(info->dlpi_addr + ph->p_vaddr); // NOLINT(performance-no-int-to-ptr)
        if (ph->p_type == PT_NOTE)
            id = note_build_id(seg, ph->p_memsz, &len);
    }
    const char *h = id && len ? mprof_hex(sc, id, len) : NULL;
    return h ? h : "";
}

/* ---- the file ---- */

struct elf_file {
    int fd;
    Elf *elf;
};

static int elf_open(struct elf_file *f, const char *path)
{
    f->elf = NULL;
    f->fd = mprof_fd_raise(open(path, O_RDONLY | O_CLOEXEC), path);
    if (f->fd < 0)
        return -1;
    f->elf = ELF(elf_begin)(f->fd, ELF_C_READ_MMAP, NULL);
    if (f->elf && ELF(elf_kind)(f->elf) == ELF_K_ELF)
        return 0;
    if (f->elf)
        ELF(elf_end)(f->elf);
    close(f->fd);
    f->elf = NULL;
    return -1;
}

static void elf_close(struct elf_file *f)
{
    if (f->elf) {
        ELF(elf_end)(f->elf);
        close(f->fd);
        f->elf = NULL;
    }
}

static Elf_Scn *section_of_type(Elf *elf, GElf_Word type)
{
    for (Elf_Scn *scn = ELF(elf_nextscn)(elf, NULL); scn; scn = ELF(elf_nextscn)(elf, scn)) {
        GElf_Shdr sh;
        if (ELF(gelf_getshdr)(scn, &sh) && sh.sh_type == type && sh.sh_size)
            return scn;
    }
    return NULL;
}

/* The file's build ID from its SHT_NOTE sections, compared with want. */
static int same_build(Elf *elf, const char *want)
{
    if (!want[0])
        return 1; /* nothing to compare with: trust the path */
    for (Elf_Scn *scn = ELF(elf_nextscn)(elf, NULL); scn; scn = ELF(elf_nextscn)(elf, scn)) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!ELF(gelf_getshdr)(scn, &sh) || sh.sh_type != SHT_NOTE ||
            !(d = ELF(elf_getdata)(scn, NULL)))
            continue;
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nh;
        while ((off = ELF(gelf_getnote)(d, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
                memcmp((char *)d->d_buf + name_off, "GNU", 4) != 0)
                continue;
            size_t len = strlen(want);
            if (len != 2 * nh.n_descsz)
                return 0;
            const unsigned char *b = (const unsigned char *)d->d_buf + desc_off;
            for (size_t i = 0; i < nh.n_descsz; i++)
                if (want[2 * i] != hexdigits[b[i] >> 4] ||
                    want[2 * i + 1] != hexdigits[b[i] & 15])
                    return 0;
            return 1;
        }
    }
    return 0;
}

/* ---- one pass over a table ---- */

struct best {
    uint64_t start; /* of the symbol chosen so far */
    int rank;       /* 0 = none yet */
    size_t sym;     /* its index in the table */
};

int mprof_elf_symbol_rank(const GElf_Sym *s)
{
    int r = s->st_size ? 8 : 0; /* as libdwfl: sized, then global > weak */
    if (GELF_ST_BIND(s->st_info) == STB_GLOBAL)
        r += 4;
    else if (GELF_ST_BIND(s->st_info) == STB_WEAK)
        r += 2;
    if (GELF_ST_TYPE(s->st_info) != STT_NOTYPE)
        r += 1;
    return r;
}

/* The rank of struct best: 1 + the symbol's, so that 0 means none yet. */
static int sym_rank(const GElf_Sym *s) { return 1 + mprof_elf_symbol_rank(s); }

/* Which symbols a table pass looks at: functions, or data objects (a
 * lock's name, mprof_elfnames_data). */
enum sym_kind { SYM_CODE, SYM_DATA };

static int is_data(const GElf_Sym *s)
{
    int t = GELF_ST_TYPE(s->st_info);
    return (t == STT_OBJECT || t == STT_COMMON) && s->st_name && s->st_size &&
           s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE;
}

static int is_code(const GElf_Sym *s)
{
    int t = GELF_ST_TYPE(s->st_info);
    return (t == STT_FUNC || t == STT_GNU_IFUNC || t == STT_NOTYPE) && s->st_name &&
           s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE;
}

/* Later start (the innermost symbol), then rank, then the earlier entry. */
static int better(const struct best *b, uint64_t start, int rank)
{
    if (!b->rank)
        return 1;
    if (start != b->start)
        return start > b->start;
    return rank > b->rank;
}

/* First request at or after addr. */
static size_t lower_bound(const mprof_elfname_req *r, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether vaddr lies in section shndx (a sizeless symbol reaches to the
 * next symbol, but not across a section boundary: the PLT after _init is
 * not _init). */
static int in_section(Elf *elf, size_t shndx, uint64_t vaddr)
{
    GElf_Shdr sh;
    Elf_Scn *scn = ELF(elf_getscn)(elf, shndx);
    return scn && ELF(gelf_getshdr)(scn, &sh) && vaddr >= sh.sh_addr &&
           vaddr - sh.sh_addr < sh.sh_size;
}

/*
 * The function a symbol is part of: "memcpy@@GLIBC_2.14" is memcpy (the
 * version would split one function in two), and GCC's pieces and copies
 * of f ("f.cold", "f.part.0", "f.isra.0", "f.constprop.0", "f.lto_priv.0",
 * "f.localalias") are f, as DWARF and addr2line call them.
 */
static size_t base_name_len(const char *name)
{
    static const char *const suffixes[] = {"cold", "part", "isra", "constprop",
                                           "lto_priv", "localalias", "clone"};
    const char *at = strchr(name, '@');
    size_t len = at && at != name ? (size_t)(at - name) : strlen(name);
    const char *dot = memchr(name, '.', len);
    if (!dot || dot == name)
        return len;
    for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
        size_t sl = strlen(suffixes[k]);
        if (strncmp(dot + 1, suffixes[k], sl) == 0 &&
            (dot[1 + sl] == '.' || dot[1 + sl] == '\0' || dot[1 + sl] == '@'))
            return (size_t)(dot - name);
    }
    return len;
}

/* Symbol k: straight from the table of a 64-bit file (libelf has made it
 * native already), through gelf for the rest. A call per symbol is a good
 * part of a short dump when a table has 10,000 of them. */
static int get_sym(Elf_Data *d, int class64, size_t k, GElf_Sym *s)
{
    if (class64) {
        *s = ((const Elf64_Sym *)d->d_buf)[k];
        return 1;
    }
    return ELF(gelf_getsym)(d, (int)k, s) != NULL;
}

static size_t name_from_table(mprof_scratch *sc, Elf *elf, Elf_Scn *scn,
                              uint64_t bias, mprof_elfname_req *r, size_t n,
                              enum sym_kind kind)
{
    GElf_Shdr sh;
    Elf_Data *d = ELF(gelf_getshdr)(scn, &sh) ? ELF(elf_getdata)(scn, NULL) : NULL;
    struct best *in = mprof_scratch_calloc(sc, n, sizeof *in);   /* containing */
    struct best *near = mprof_scratch_calloc(sc, n, sizeof *near); /* at or before */
    if (!d || !sh.sh_entsize || !in || !near)
        return 0;
    GElf_Ehdr eh;
    int class64 = ELF(gelf_getehdr)(elf, &eh) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
                  d->d_type == ELF_T_SYM && sh.sh_entsize == sizeof(Elf64_Sym);
    size_t bytes = sh.sh_size < d->d_size ? sh.sh_size : d->d_size;
    size_t nsyms = bytes / sh.sh_entsize;
    uint64_t first = r[0].addr, last = r[n - 1].addr;
    for (size_t k = 1; k < nsyms; k++) {
        GElf_Sym s;
        if (!get_sym(d, class64, k, &s) || !(kind == SYM_DATA ? is_data(&s) : is_code(&s)))
            continue;
        uint64_t start = s.st_value + bias;
        if (start > last)
            continue;
        /* every symbol at or before the last address counts for near[]:
         * a sized one between a label and an address ends the label */
        int rank = sym_rank(&s);
        size_t i = lower_bound(r, n, start);
        if (i < n && better(&near[i], start, rank))
            near[i] = (struct best){start, rank, k};
        if (!s.st_size || start + s.st_size <= first)
            continue;
        for (size_t j = i; j < n && r[j].addr - start < s.st_size; j++)
            if (better(&in[j], start, rank))
                in[j] = (struct best){start, rank, k};
    }
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && near[i - 1].rank && (!near[i].rank || near[i - 1].start > near[i].start))
            near[i] = near[i - 1]; /* the nearest at or before is a prefix maximum */
        GElf_Sym s;
        const struct best *b = in[i].rank ? &in[i] : NULL;
        if (!b && near[i].rank && get_sym(d, class64, near[i].sym, &s) &&
            s.st_size == 0 && in_section(elf, s.st_shndx, r[i].addr - bias))
            b = &near[i];
        if (!b || !get_sym(d, class64, b->sym, &s))
            continue;
        const char *name = ELF(elf_strptr)(elf, sh.sh_link, s.st_name);
        size_t len = name ? base_name_len(name) : 0;
        r[i].offset = r[i].addr - (s.st_value + bias);
        if (len && (r[i].name = mprof_scratch_strndup(sc, name, len)))
            named++;
    }
    return named;
}

/* ---- which table ---- */

/* The table of `type` in f, or NULL; only if f is the build loaded. */
static Elf_Scn *table(struct elf_file *f, GElf_Word type, const char *build_id)
{
    return f->elf && same_build(f->elf, build_id) ? section_of_type(f->elf, type) : NULL;
}

/* The module's table, as elfnames.h says which: in f (the file at path)
 * or in debug (its debug file), both left open for the caller to close.
 * *in_debug says which one holds it. */
static Elf_Scn *choose_table(struct elf_file *f, struct elf_file *debug, const char *path,
                             const char *build_id, int *in_debug)
{
    debug->elf = NULL;
    *in_debug = 0;
    elf_open(f, path);
    Elf_Scn *scn = table(f, SHT_SYMTAB, build_id);
    if (scn)
        return scn;
    if (strlen(build_id) > 2) { /* the debug file's name is its build ID */
        char dpath[PATH_MAX];
        snprintf(dpath, sizeof dpath, "/usr/lib/debug/.build-id/%.2s/%s.debug",
                 build_id, build_id + 2);
        elf_open(debug, dpath);
    }
    if ((scn = table(debug, SHT_SYMTAB, ""))) {
        *in_debug = 1;
        return scn;
    }
    return table(f, SHT_DYNSYM, build_id);
}

/* ---- kept indexes ----
 *
 * A process that dumps more than once, or forks children that will dump
 * (a server with a process per connection), keeps each table it reads as
 * an index sorted by address: a lookup is then a binary search, and a
 * child inherits its parent's indexes with the rest of its memory. The
 * index holds what the one pass above compares (address, size, rank,
 * section) and the name's offset; the file's string table stays mapped
 * (no descriptor: the mapping holds the file, so a package upgrade that
 * replaces it cannot change the names), its pages read in as names are
 * asked for.
 *
 * Invariant: an index is on the list only when complete (release store of
 * the head; readers load it with acquire), and never changes or goes away
 * after, so readers take no lock. index_lock serializes the builders. A
 * fork child resets the lock (a builder that did not follow it published
 * nothing) and `keep`: its parent's indexes serve it, but a child that
 * dumps once builds none of its own.
 */

struct isym {
    uint64_t start;  /* file address: st_value */
    uint64_t maxend; /* the largest start + size of this entry and all before */
    uint32_t size;   /* st_size, clamped */
    uint32_t name;   /* st_name: offset in the string table */
    uint32_t order;  /* position in the table (the earlier wins a tie) */
    uint16_t shndx;  /* section, for a sizeless symbol's reach */
    uint8_t rank;    /* sym_rank */
};

struct section_range {
    uint64_t addr, size;
};

struct symindex {
    const struct symindex *next;
    uint64_t bias;
    const char *path;     /* the module, as the dump names it */
    const char *build_id; /* as given: "" if unknown */
    const char *strtab;   /* the string table, mapped from the file */
    size_t strtab_size;
    size_t n, nsec;
    const struct isym *syms; /* by start, then rank, then order */
    const struct section_range *sec;
};

static const struct symindex *_Atomic kept;
static MPROF_FORK_STATE mprof_lock index_lock = MPROF_LOCK_INIT; /* builders; pushes to kept */
MPROF_LOCK_RANK(index_lock, MPROF_RANK_ELF_INDEX);
static MPROF_FORK_STATE int keep; /* build an index for each table read */

void mprof_elfnames_keep(void) { __atomic_store_n(&keep, 1, __ATOMIC_RELAXED); }

void mprof_elfnames_after_fork(void)
{
    mprof_lock_reset(&index_lock);
    if (keep)
        keep = 0;
}

static const struct symindex *find_kept(const char *path, uint64_t bias, const char *build_id)
{
    for (const struct symindex *ix = atomic_load_explicit(&kept, memory_order_acquire); ix;
         ix = ix->next)
        if (ix->bias == bias && strcmp(ix->path, path) == 0 &&
            strcmp(ix->build_id, build_id) == 0)
            return ix;
    return NULL;
}

static int isym_cmp(const void *a, const void *b)
{
    const struct isym *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Memory of an index: one private mapping, never unmapped (children
 * share it); NULL when none can be had. */
static void *index_memory(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Lay the index out in one mapping: the header, the strings, the sections
 * and the symbols. NULL when out of memory. */
static struct symindex *index_alloc(const char *path, const char *build_id, size_t n,
                                    size_t nsec)
{
    size_t lp = strlen(path) + 1, lb = strlen(build_id) + 1;
    size_t strings = (lp + lb + 7) & ~(size_t)7;
    size_t len = sizeof(struct symindex) + strings + nsec * sizeof(struct section_range) +
                 n * sizeof(struct isym);
    char *m = index_memory(len);
    if (!m)
        return NULL;
    struct symindex *ix = (struct symindex *)m;
    char *str = m + sizeof *ix;
    ix->path = memcpy(str, path, lp);
    ix->build_id = memcpy(str + lp, build_id, lb);
    ix->sec = (const struct section_range *)(str + strings);
    ix->syms = (const struct isym *)(str + strings + nsec * sizeof(struct section_range));
    ix->nsec = nsec;
    return ix;
}

static void fill_sections(Elf *elf, struct section_range *sec, size_t nsec)
{
    for (size_t i = 0; i < nsec; i++) {
        GElf_Shdr sh;
        Elf_Scn *scn = ELF(elf_getscn)(elf, i);
        if (scn && ELF(gelf_getshdr)(scn, &sh))
            sec[i] = (struct section_range){sh.sh_addr, sh.sh_size};
    }
}

/* The code symbols of the table, sorted; how many. */
static size_t fill_syms(Elf *elf, Elf_Scn *scn, struct isym *out, size_t cap)
{
    GElf_Shdr sh;
    Elf_Data *d = ELF(gelf_getshdr)(scn, &sh) ? ELF(elf_getdata)(scn, NULL) : NULL;
    if (!d || !sh.sh_entsize)
        return 0;
    GElf_Ehdr eh;
    int class64 = ELF(gelf_getehdr)(elf, &eh) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
                  d->d_type == ELF_T_SYM && sh.sh_entsize == sizeof(Elf64_Sym);
    size_t bytes = sh.sh_size < d->d_size ? sh.sh_size : d->d_size;
    size_t nsyms = bytes / sh.sh_entsize, n = 0;
    for (size_t k = 1; k < nsyms && n < cap; k++) {
        GElf_Sym s;
        if (!get_sym(d, class64, k, &s) || !is_code(&s))
            continue;
        out[n++] = (struct isym){.start = s.st_value,
                                 .size = s.st_size > UINT32_MAX ? UINT32_MAX
                                                                : (uint32_t)s.st_size,
                                 .name = (uint32_t)s.st_name,
                                 .order = (uint32_t)k,
                                 .shndx = (uint16_t)s.st_shndx,
                                 .rank = (uint8_t)sym_rank(&s)};
    }
    qsort(out, n, sizeof *out, isym_cmp);
    uint64_t maxend = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t end = out[i].start + out[i].size;
        maxend = end > maxend ? end : maxend;
        out[i].maxend = maxend;
    }
    return n;
}

/* The string table section strndx of f, mapped read-only; NULL when it
 * cannot be (compressed, or out of the file). */
static const char *map_strtab(const struct elf_file *f, size_t strndx, size_t *size)
{
    GElf_Shdr sh;
    Elf_Scn *scn = ELF(elf_getscn)(f->elf, strndx);
    if (!scn || !ELF(gelf_getshdr)(scn, &sh) || sh.sh_type != SHT_STRTAB ||
        (sh.sh_flags & SHF_COMPRESSED) || !sh.sh_size)
        return NULL;
    size_t skew = sh.sh_offset % (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, sh.sh_size + skew, PROT_READ, MAP_PRIVATE, f->fd,
                   (off_t)(sh.sh_offset - skew));
    if (m == MAP_FAILED)
        return NULL;
    *size = sh.sh_size;
    return m + skew;
}

/* Index the table of the module (one with no table gets an empty index:
 * it is not read again). NULL when libelf or memory is missing. */
static const struct symindex *build_index(const char *path, uint64_t bias, const char *build_id)
{
    mprof_lock_assert_held(&index_lock);
    struct elf_file file, debug;
    int in_debug;
    Elf_Scn *scn = choose_table(&file, &debug, path, build_id, &in_debug);
    Elf *elf = in_debug ? debug.elf : file.elf;
    GElf_Shdr sh;
    size_t nsec = 0, cap = 0;
    if (scn && ELF(gelf_getshdr)(scn, &sh) && sh.sh_entsize &&
        ELF(elf_getshdrnum)(elf, &nsec) == 0)
        cap = sh.sh_size / sh.sh_entsize;
    else
        scn = NULL;
    size_t strsize = 0;
    const char *strtab = scn ? map_strtab(in_debug ? &debug : &file, sh.sh_link, &strsize)
                             : NULL;
    struct symindex *ix = index_alloc(path, build_id, strtab ? cap : 0, nsec);
    if (ix) {
        ix->bias = bias;
        if (strtab) {
            ix->strtab = strtab;
            ix->strtab_size = strsize;
            fill_sections(elf, (struct section_range *)ix->sec, nsec);
            ix->n = fill_syms(elf, scn, (struct isym *)ix->syms, cap);
        }
    }
    elf_close(&debug);
    elf_close(&file);
    return ix;
}

/* The module's index: kept already, or built now if this process keeps
 * them; else NULL (the caller makes one pass). */
static const struct symindex *kept_index(const char *path, uint64_t bias, const char *build_id)
{
    const struct symindex *ix = find_kept(path, bias, build_id);
    if (ix || !__atomic_load_n(&keep, __ATOMIC_RELAXED))
        return ix;
    mprof_lock_acquire(&index_lock);
    if (!(ix = find_kept(path, bias, build_id))) {
        struct symindex *built = (struct symindex *)build_index(path, bias, build_id);
        if (built) {
            built->next = atomic_load_explicit(&kept, memory_order_relaxed);
            atomic_store_explicit(&kept, built, memory_order_release);
            ix = built;
        }
    }
    mprof_lock_release(&index_lock);
    return ix;
}

/* The symbol naming file address a, as the one pass chooses it: the
 * innermost sized symbol containing it (the latest start; then rank, then
 * order: the first of its start in the index), else the nearest symbol at
 * or before it if that one is sizeless and in a's section. */
static const struct isym *index_lookup(const struct symindex *ix, uint64_t a)
{
    size_t lo = 0, hi = ix->n; /* hi: the first symbol starting after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->syms[mid].start <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (hi == 0)
        return NULL;
    const struct isym *in = NULL;
    for (size_t j = hi; j-- > 0 && ix->syms[j].maxend > a;) {
        const struct isym *s = &ix->syms[j];
        if (in && s->start < in->start)
            break;
        if (s->size && a - s->start < s->size)
            in = s; /* an earlier one of the same start ranks higher */
    }
    if (in)
        return in;
    size_t j = hi - 1;
    while (j > 0 && ix->syms[j - 1].start == ix->syms[j].start)
        j--;
    const struct isym *near = &ix->syms[j];
    if (near->size || near->shndx >= ix->nsec)
        return NULL;
    const struct section_range *r = &ix->sec[near->shndx];
    return a >= r->addr && a - r->addr < r->size ? near : NULL;
}

static size_t names_from_index(mprof_scratch *sc, const struct symindex *ix,
                               mprof_elfname_req *r, size_t n)
{
    size_t named = 0;
    for (size_t i = 0; i < n && ix->n; i++) {
        const struct isym *s = index_lookup(ix, r[i].addr - ix->bias);
        if (!s || s->name >= ix->strtab_size)
            continue;
        const char *name = ix->strtab + s->name;
        /* as elf_strptr: the string must end inside the table */
        size_t room = ix->strtab_size - s->name, len;
        if (!memchr(name, '\0', room) || !(len = base_name_len(name)))
            continue;
        if ((r[i].name = mprof_scratch_strndup(sc, name, len)))
            named++;
    }
    return named;
}

/* ---- the loaded image, when the file is gone ----
 *
 * The dynamic section in memory gives the dynamic symbol table and its
 * strings (exported functions only), and a hash table whose size says how
 * many symbols there are: DT_HASH's nchain, or the last chain DT_GNU_HASH
 * reaches. Addresses in it are made absolute by the loader, except in an
 * object whose dynamic section is read-only (file addresses, below bias).
 */

struct image {
    const ElfW(Sym) *symtab;
    const char *strtab;
    size_t strsz, nsyms;
};

static uintptr_t image_ptr(uint64_t bias, ElfW(Addr) p) { return p < bias ? bias + p : p; }

static size_t gnu_hash_count(const uint32_t *h)
{
    uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2];
    const uint32_t *buckets = h + 4 + bloom * (sizeof(ElfW(Addr)) / 4);
    const uint32_t *chains = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t b = 0; b < nbuckets; b++)
        last = buckets[b] > last ? buckets[b] : last;
    if (last < symoffset)
        return symoffset;
    while (!(chains[last - symoffset] & 1)) /* the low bit ends a chain */
        last++;
    return (size_t)last + 1;
}

static int read_image(const ElfW(Dyn) *dyn, uint64_t bias, struct image *im)
{
    memset(im, 0, sizeof *im);
    const uint32_t *hash = NULL, *gnu = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = image_ptr(bias, dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB: im->symtab = (const ElfW(Sym) *)p; break; // NOLINT(performance-no-int-to-ptr)
        case DT_STRTAB: im->strtab = (const char *)p; break;      // NOLINT(performance-no-int-to-ptr)
        case DT_STRSZ: im->strsz = dyn->d_un.d_val; break;
        case DT_HASH: hash = (const uint32_t *)p; break;    // NOLINT(performance-no-int-to-ptr)
        case DT_GNU_HASH: gnu = (const uint32_t *)p; break; // NOLINT(performance-no-int-to-ptr)
        default: break;
        }
    }
    im->nsyms = hash ? hash[1] : gnu ? gnu_hash_count(gnu) : 0;
    return im->symtab && im->strtab && im->strsz && im->nsyms ? 0 : -1;
}

/* The innermost sized function containing each request, as the one pass
 * over a file's table chooses among sized symbols. */
static size_t names_from_image(mprof_scratch *sc, const ElfW(Dyn) *dyn, uint64_t bias,
                               mprof_elfname_req *r, size_t n)
{
    struct image im;
    struct best *in = mprof_scratch_calloc(sc, n, sizeof *in);
    if (!in || read_image(dyn, bias, &im) != 0)
        return 0;
    for (size_t k = 1; k < im.nsyms; k++) {
        GElf_Sym s = {.st_name = im.symtab[k].st_name, .st_info = im.symtab[k].st_info,
                      .st_shndx = im.symtab[k].st_shndx, .st_value = im.symtab[k].st_value,
                      .st_size = im.symtab[k].st_size};
        if (!is_code(&s) || !s.st_size || s.st_name >= im.strsz)
            continue;
        uint64_t start = s.st_value + bias;
        int rank = sym_rank(&s);
        for (size_t j = lower_bound(r, n, start); j < n && r[j].addr - start < s.st_size; j++)
            if (better(&in[j], start, rank))
                in[j] = (struct best){start, rank, k};
    }
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].rank)
            continue;
        const char *name = im.strtab + im.symtab[in[i].sym].st_name;
        size_t room = im.strsz - im.symtab[in[i].sym].st_name, len;
        if (memchr(name, '\0', room) && (len = base_name_len(name)) &&
            (r[i].name = mprof_scratch_strndup(sc, name, len)))
            named++;
    }
    return named;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* names_from_image, inside a walk of the loader's list: while the walk
 * holds its lock, no dlclose can unmap the image being read. */
struct image_walk {
    mprof_scratch *sc;
    const void *dynamic;
    uint64_t bias;
    mprof_elfname_req *r;
    size_t n, named;
};

static int image_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct image_walk *w = arg;
    (void)size;
    if (info->dlpi_addr != w->bias)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC &&
            (const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr) == w->dynamic) { // NOLINT(performance-no-int-to-ptr)
            w->named = names_from_image(w->sc, w->dynamic, w->bias, w->r, w->n);
            return 1;
        }
    return 0;
}

/* One pass over the module's table (choose_table), opened and closed
 * here: the names of kind `kind` for reqs. */
static size_t names_from_file(mprof_scratch *sc, const char *path, uint64_t bias,
                              const char *build_id, mprof_elfname_req *reqs, size_t n,
                              enum sym_kind kind)
{
    struct elf_file file, debug;
    int in_debug;
    Elf_Scn *scn = choose_table(&file, &debug, path, build_id, &in_debug);
    size_t named =
        scn ? name_from_table(sc, in_debug ? debug.elf : file.elf, scn, bias, reqs, n, kind) : 0;
    elf_close(&debug);
    elf_close(&file);
    return named;
}

size_t mprof_elfnames(mprof_scratch *sc, const char *path, uint64_t bias,
                      const char *build_id, const void *dynamic,
                      mprof_elfname_req *reqs, size_t n)
{
    if (n == 0 || path[0] != '/')
        return 0;
    if (dynamic && !file_exists(path)) {
        struct image_walk w = {sc, dynamic, bias, reqs, n, 0};
        mprof_forkgate_hold(); /* the walk holds the loader's list lock */
        dl_iterate_phdr(image_visit, &w);
        mprof_forkgate_release();
        return w.named; /* 0 if it was unloaded meanwhile */
    }
    if (!mprof_libelf())
        return 0;
    const struct symindex *ix = kept_index(path, bias, build_id);
    if (ix)
        return names_from_index(sc, ix, reqs, n);
    return names_from_file(sc, path, bias, build_id, reqs, n, SYM_CODE);
}

size_t mprof_elfnames_data(mprof_scratch *sc, const char *path, uint64_t bias,
                           const char *build_id, mprof_elfname_req *reqs, size_t n)
{
    if (n == 0 || path[0] != '/' || !mprof_libelf())
        return 0;
    return names_from_file(sc, path, bias, build_id, reqs, n, SYM_DATA);
}
