/*
 * dumplibs.h: the libraries only a dump needs (elfutils' libdw for symbols,
 * zlib for gzip), loaded with dlopen the first time a dump or a read needs
 * them, not by the loader at start.
 *
 * Why: every process the library is preloaded into (a build's hundreds of
 * compiler runs, a shell's command substitutions, fork children) would
 * otherwise map, relocate and finalize six more libraries (libdw, libelf,
 * libz, liblzma, libbz2, libzstd) whether or not it ever writes a profile;
 * most of them never do.
 *
 * The call sites name each function through the table: DW(dwfl_begin)(...)
 * and Z(deflate)(...), with the types of the libraries' own headers.  The
 * tables are filled once, under a lock, and never change afterwards; a
 * library that cannot be loaded (not installed: a container that copied
 * only libmprof.so; or no descriptor left) makes its getter return NULL
 * and is tried again at the next call; the caller says why
 * (mprof_dumplibs_error), as the dump says why it could not write.
 *
 * They are loaded by the first dump, not when the mprof thread starts:
 * dlopen holds a descriptor for a moment, and a program that counts its
 * own (or expects the next open() to return 3) must not find one of ours
 * at a moment it did not ask for a dump.
 */
#ifndef MPROF_DUMPLIBS_H
#define MPROF_DUMPLIBS_H

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stddef.h>
#include <zlib.h>

#define MPROF_LIBDW_FUNCS(X)                                                   \
    X(dwarf_attr) X(dwarf_attr_integrate) X(dwarf_decl_file) X(dwarf_decl_line) \
    X(dwarf_filesrc) X(dwarf_formstring) X(dwarf_formudata) X(dwarf_getscopes) \
    X(dwarf_getscopes_die) X(dwarf_getsrcfiles) X(dwarf_tag) X(dwfl_addrmodule) \
    X(dwfl_attach_state) X(dwfl_begin) X(dwfl_build_id_find_debuginfo)          \
    X(dwfl_end) X(dwfl_frame_pc) X(dwfl_getthread_frames) X(dwfl_lineinfo)      \
    X(dwfl_linux_proc_find_elf) X(dwfl_linux_proc_maps_report)                  \
    X(dwfl_module_addrdie) X(dwfl_module_build_id) X(dwfl_module_getelf)        \
    X(dwfl_module_getsrc) X(dwfl_report_begin) X(dwfl_report_elf)               \
    X(dwfl_report_end) X(dwfl_thread_state_register_pc)                         \
    X(dwfl_thread_state_registers) X(elf_begin) X(elf_end) X(elf_getphdrnum)    \
    X(elf_version) X(gelf_getehdr) X(gelf_getphdr)

#define MPROF_LIBELF_FUNCS(X)                                                  \
    X(elf_version) X(elf_begin) X(elf_end) X(elf_kind) X(elf_nextscn)          \
    X(elf_getscn) X(elf_getdata) X(elf_strptr) X(gelf_getshdr) X(gelf_getsym)  \
    X(gelf_getehdr) X(gelf_getnote) X(elf_getshdrnum)

#define MPROF_LIBZ_FUNCS(X)                                                    \
    X(crc32) X(deflate) X(deflateBound) X(deflateEnd) X(deflateInit2_)         \
    X(inflate) X(inflateEnd) X(inflateInit2_) X(inflateReset)

#define MPROF_DUMPLIBS_FIELD(f) __typeof__(&(f)) f;

struct mprof_libdw {
    MPROF_LIBDW_FUNCS(MPROF_DUMPLIBS_FIELD)
};

struct mprof_libz {
    MPROF_LIBZ_FUNCS(MPROF_DUMPLIBS_FIELD)
};

struct mprof_libelf {
    MPROF_LIBELF_FUNCS(MPROF_DUMPLIBS_FIELD)
};

/* The C++ ABI's demangler (libstdc++, <cxxabi.h>): a malloc'ed string or
 * NULL; *status 0 on success. Also reads Rust's legacy (_ZN...E) names. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);
typedef __typeof__(&__cxa_demangle) mprof_demangle_fn;

/* The tables, loaded on first call; NULL when the library or one of its
 * functions cannot be found.  Thread-safe; allocations dlopen makes are
 * mprof's (call with the guard set inside the library). */
const struct mprof_libdw *mprof_libdw(void);
const struct mprof_libz *mprof_libz(void);
/* libelf alone (it needs only libz): what a dump of names reads with. */
const struct mprof_libelf *mprof_libelf(void);

/* libstdc++'s __cxa_demangle, loaded when the first mangled name is met
 * (already mapped in every C++ program); NULL when it cannot be. */
mprof_demangle_fn mprof_demangler(void);

/* Why the last load failed (dlerror's words), copied into buf. */
const char *mprof_dumplibs_error(char *buf, size_t len);

/* In a fork child: a dlopen of ours under way in a thread that did not
 * follow leaves the lock held; the table it was filling was not yet
 * published, so the child loads it again when it needs it. */
void mprof_dumplibs_after_fork(void);

/* Call sites: the table is known to be loaded there. */
#define DW(f) (mprof_libdw()->f)
#define Z(f) (mprof_libz()->f)
#define ELF(f) (mprof_libelf()->f)

#endif
