/*
 * publish.c: the state behind publish.h, and its one mapping.
 *
 * The state is one 64-bit word, so that an update is a single
 * compare-and-swap whoever makes it and wherever (a signal handler, a fork
 * child's first thread), and a rewrite of the mapping never shows half of
 * one update: pid 22 bits (pid_max is at most 2^22), sig 7, own 1, rec 1,
 * files 6, seq 27.
 *
 * Invariant: `shown` is the word the mapping at `primary` was last written
 * for (or attempted: a failure is not retried until the next update), and
 * only the holder of `writer` rewrites it.  Whoever updates the word and
 * cannot take `writer` leaves the rewrite to its holder, which compares
 * the word with `shown` again after letting go.  `writer` holds the pid of
 * its holder, so that a fork child, whose copy may say "held" by a thread
 * that did not follow it into the child, can take it over.
 */
#include "publish.h"

#include "fdmove.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 2U
#endif

#define NAME_MAX_LEN 249 /* memfd_create: NAME_MAX minus "memfd:" */
#define MAX_PIECES 64    /* enough for MPROF_OUT_MAX bytes, all encoded */
/* What a piece's name has room for after "mprof:1c:<i>:". */
#define PIECE_ROOM (NAME_MAX_LEN - (sizeof "mprof:1c:64:" - 1))

/* ---- the state word ---- */

#define SEQ_BITS 27
#define F_SEQ(w) ((unsigned)((w) & ((1U << SEQ_BITS) - 1)))
#define F_FILES(w) ((unsigned)((w) >> SEQ_BITS & 63))
#define F_OWN(w) ((unsigned)((w) >> 33 & 1))
#define F_REC(w) ((unsigned)((w) >> 34 & 1))
#define F_SIG(w) ((unsigned)((w) >> 35 & 127))
#define F_PID(w) ((unsigned)((w) >> 42))

static uint64_t make_word(unsigned pid, unsigned sig, unsigned own, unsigned rec,
                          unsigned files, unsigned seq)
{
    return (uint64_t)pid << 42 | (uint64_t)(sig & 127) << 35 | (uint64_t)(rec & 1) << 34 |
           (uint64_t)(own & 1) << 33 | (uint64_t)(files & 63) << SEQ_BITS |
           (seq & ((1U << SEQ_BITS) - 1));
}

static _Atomic uint64_t state;
static uint64_t shown;          /* under `writer` */
static void *primary;           /* the mapping, or NULL; under `writer` */
static atomic_int writer;       /* pid of the holder, 0 = free */
static atomic_int ready;        /* mprof_publish_init has run */
static size_t page;             /* the length of every mapping */

/* The prefix, encoded, and how much of it the primary name carries. */
static char enc_out[3 * MPROF_OUT_MAX + 1];
static size_t enc_len, head_len;
static unsigned pieces;

static unsigned my_pid(void) { return (unsigned)syscall(SYS_getpid); }

/* ---- names, without stdio ---- */

typedef struct name {
    char s[NAME_MAX_LEN + 1];
    size_t n;
} name;

static void put(name *b, const char *s, size_t len)
{
    if (len > NAME_MAX_LEN - b->n)
        len = NAME_MAX_LEN - b->n;
    memcpy(b->s + b->n, s, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void put_str(name *b, const char *s) { put(b, s, strlen(s)); }

static void put_uint(name *b, unsigned long v)
{
    char d[24];
    size_t i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    put(b, d + i, sizeof d - i);
}

static void put_field(name *b, const char *key, unsigned long v)
{
    put_str(b, key);
    put_uint(b, v);
}

static void put_files(name *b, unsigned files)
{
    /* outname.h's kinds, in its order: bit k is kind k (the output
     * layer's header is not the recording layer's to include) */
    static const char *const kind[] = {"heap", "block", "mutex", "threadcreate", "threads",
                                       "peak"};
    put_str(b, ":files=");
    if (!files)
        put_str(b, "-");
    for (unsigned k = 0, first = 1; k < sizeof kind / sizeof kind[0]; k++)
        if (files >> k & 1) {
            put_str(b, first ? "" : ",");
            put_str(b, kind[k]);
            first = 0;
        }
}

/* Everything of the primary name but the prefix itself. */
static void put_fixed(name *b, uint64_t w)
{
    put_str(b, "mprof:1");
    put_field(b, ":pid=", F_PID(w));
    put_field(b, ":sig=", F_SIG(w));
    put_field(b, ":own=", F_OWN(w));
    put_field(b, ":rec=", F_REC(w));
    put_field(b, ":seq=", F_SEQ(w));
    put_files(b, F_FILES(w));
    if (pieces)
        put_field(b, ":more=", pieces);
    put_str(b, ":out=");
}

static void encode_out(const char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    enc_len = 0;
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        if (*p == '%' || *p < 0x20 || *p == 0x7f) {
            enc_out[enc_len++] = '%';
            enc_out[enc_len++] = hex[*p >> 4];
            enc_out[enc_len++] = hex[*p & 15];
        } else {
            enc_out[enc_len++] = (char)*p;
        }
    }
    enc_out[enc_len] = '\0';
}

/* ---- mappings ---- */

/* A fresh PROT_NONE mapping of a new memfd called `nm`, or NULL.  The
 * descriptor lives for three calls; MFD_CLOEXEC in case the program execs
 * meanwhile.  The file is sized to the page it maps, so that nothing that
 * reads the mapping (a debugger) meets SIGBUS. */
static void *map_named(const char *nm)
{
    long low = syscall(SYS_memfd_create, nm, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (low < 0)
        return NULL;
    /* Another thread of the program may dup2 a file of its own onto that
     * number before the move (fdmove.h): it must never be truncated or
     * closed by us. */
    int fd = mprof_fd_raise_memfd((int)low, nm);
    if (fd < 0)
        return NULL;
    long p = -1;
    if (syscall(SYS_ftruncate, fd, page) == 0)
        p = syscall(SYS_mmap, NULL, page, PROT_NONE, MAP_SHARED, fd, 0);
    syscall(SYS_close, fd);
    /* The raw system call's result is the address. */
    return p == -1 ? NULL : (void *)p; // NOLINT(performance-no-int-to-ptr)
}

/* The primary mapping under its new name: made elsewhere, then moved over
 * the old one, which the kernel unmaps in the same step. */
static void rewrite(uint64_t w)
{
    name b = {.n = 0};
    put_fixed(&b, w);
    put(&b, enc_out, head_len);
    void *fresh = map_named(b.s);
    if (!fresh)
        return;
    if (!primary) {
        primary = fresh;
        return;
    }
    long moved = syscall(SYS_mremap, fresh, page, page, MREMAP_MAYMOVE | MREMAP_FIXED,
                         primary);
    if (moved == -1)
        syscall(SYS_munmap, fresh, page); /* keep the old name */
}

/* The pieces of a prefix too long for the primary name, made once.  All
 * or nothing: a reader that finds fewer than `more` refuses. */
static int make_pieces(void)
{
    void *made[MAX_PIECES];
    unsigned n = 0;
    for (size_t at = head_len; at < enc_len; at += PIECE_ROOM) {
        name b = {.n = 0};
        put_field(&b, "mprof:1c:", n + 1);
        put_str(&b, ":");
        put(&b, enc_out + at, enc_len - at < PIECE_ROOM ? enc_len - at : PIECE_ROOM);
        void *m = n < MAX_PIECES ? map_named(b.s) : NULL;
        if (!m) {
            while (n > 0)
                syscall(SYS_munmap, made[--n], page);
            return -1;
        }
        made[n++] = m;
    }
    return 0;
}

/* ---- updates ---- */

static int try_lock(int me)
{
    int held = 0;
    if (atomic_compare_exchange_strong(&writer, &held, me))
        return 1;
    /* Held in the process we were forked from: that holder is not here. */
    return held != me && atomic_compare_exchange_strong(&writer, &held, me);
}

/* Bring the mapping up to date with the word, unless someone else (this
 * thread, interrupted, included) is at it: they will see our update. */
static void flush(void)
{
    int me = (int)my_pid();
    for (;;) {
        if (!try_lock(me))
            return;
        uint64_t w = atomic_load(&state);
        if (w != shown)
            rewrite(w);
        shown = w;
        atomic_store(&writer, 0);
        if (atomic_load(&state) == w)
            return;
    }
}

/* Apply `change` to the word: a word of another pid (a fork child's copy
 * of its parent's) first becomes this process's own, with no dump and
 * nothing recorded. */
typedef uint64_t (*change_fn)(uint64_t w, unsigned a, unsigned b);

static void update(change_fn change, unsigned a, unsigned b)
{
    if (!atomic_load(&ready))
        return;
    int saved = errno;
    unsigned pid = my_pid();
    uint64_t old = atomic_load(&state), w;
    do {
        w = old;
        if (F_PID(w) != pid)
            w = make_word(pid, F_SIG(w), F_OWN(w), 0, 0, 0);
        w = change(w, a, b);
    } while (!atomic_compare_exchange_weak(&state, &old, w));
    flush();
    errno = saved;
}

static uint64_t set_signal(uint64_t w, unsigned sig, unsigned own)
{
    return make_word(F_PID(w), sig, sig && own, F_REC(w), F_FILES(w), F_SEQ(w));
}

static uint64_t set_recording(uint64_t w, unsigned a, unsigned b)
{
    (void)a, (void)b;
    return make_word(F_PID(w), F_SIG(w), F_OWN(w), 1, F_FILES(w), F_SEQ(w));
}

static uint64_t set_dump(uint64_t w, unsigned seq, unsigned files)
{
    return make_word(F_PID(w), F_SIG(w), F_OWN(w), F_REC(w), files, seq);
}

void mprof_publish_signal(int sig, int own)
{
    update(set_signal, sig > 0 && sig < 128 ? (unsigned)sig : 0, own != 0);
}

void mprof_publish_recording(void) { update(set_recording, 0, 0); }

void mprof_publish_dump(unsigned seq, unsigned kinds) { update(set_dump, seq, kinds); }

void mprof_publish_init(const mprof_config *cfg)
{
    int saved = errno;
    page = (size_t)sysconf(_SC_PAGESIZE);
    encode_out(cfg->out);
    /* The head's room, measured with every field at its widest. */
    uint64_t widest = make_word((1U << 22) - 1, 127, 1, 1, 63, (1U << SEQ_BITS) - 1);
    name b = {.n = 0};
    pieces = MAX_PIECES;
    put_fixed(&b, widest);
    head_len = enc_len < NAME_MAX_LEN - b.n ? enc_len : NAME_MAX_LEN - b.n;
    pieces = 0;
    if (head_len < enc_len) {
        pieces = (unsigned)((enc_len - head_len + PIECE_ROOM - 1) / PIECE_ROOM);
        if (make_pieces() < 0) {
            errno = saved;
            return; /* not ready: nothing is published */
        }
    }
    atomic_store(&state, make_word(my_pid(), 0, 0, 0, 0, 0));
    atomic_store(&ready, 1);
    errno = saved;
    mprof_publish_signal(cfg->signal, 0);
}

void mprof_publish_http(const char *addr)
{
    if (!page)
        return;
    int saved = errno;
    char nm[NAME_MAX_LEN + 1];
    snprintf(nm, sizeof nm, "mprof-http:1:pid=%ld:addr=%s", (long)syscall(SYS_getpid), addr);
    map_named(nm);
    errno = saved;
}
