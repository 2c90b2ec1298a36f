/*
 * ownheap.c: mprof's own heap (see ownheap.h).
 *
 *   lo                          brk            top                lo+len
 *   | blocks handed out or on   | untouched,    | reserved,         |
 *   | their class's free list   | committed     | PROT_NONE         |
 *
 * Invariant: every byte below brk belongs to exactly one block, either
 * handed out or on the free list of its class; a block never changes class
 * and is never split or merged.  Each block is [header][payload], the
 * header right in front of the pointer handed out; an aligned allocation
 * places a second header in front of the aligned pointer, whose `back`
 * says how far the block's own payload lies before it.
 *
 * All state below is guarded by heap_lock, a leaf lock.
 */
#include "ownheap.h"

#include "lock.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define HDR 16
#define MAGIC 0x6d70726fu /* "mpro" */
#define NCLASSES 80
#define COMMIT_STEP ((size_t)1 << 20)
#define RELEASE_AT ((size_t)256 << 10) /* payloads this big return their pages */
#define PAGE 4096

struct hdr {
    uint32_t magic;
    uint32_t cls;
    uint64_t back; /* pointer handed out minus the block's payload start */
};

struct mprof_ownheap_range mprof_ownheap_range;

static MPROF_FORK_STATE mprof_lock heap_lock = MPROF_LOCK_INIT; /* everything below; a leaf */
MPROF_LOCK_RANK(heap_lock, MPROF_RANK_OWNHEAP);
static char *region, *brk_, *top; /* region: the reservation's start */
static void *free_list[NCLASSES];
static size_t in_use;
static int reserve_failed;

/* Class c holds 16 << c/2 bytes for even c, 24 << (c-1)/2 for odd c. */
static size_t class_size(unsigned c)
{
    return (c & 1) ? (size_t)24 << (c / 2) : (size_t)16 << (c / 2);
}

static unsigned class_of(size_t n)
{
    if (n <= 16)
        return 0;
    size_t s = n - 1;
    unsigned b = 63u - (unsigned)__builtin_clzl(s); /* 2^b <= s < 2^(b+1), b >= 4 */
    if (s < ((size_t)3 << (b - 1)))
        return 2 * (b - 4) + 1; /* 3 * 2^(b-1) */
    return 2 * (b - 3);         /* 2^(b+1) */
}

/* The reservation: as large as the system lets us have, since a pointer
 * test against one range is what keeps free() cheap.  PROT_NONE pages are
 * not charged against the commit limit until mprotect makes them ours. */
static int reserve(void)
{
    if (reserve_failed)
        return -1;
    for (size_t len = (size_t)64 << 30; len >= ((size_t)64 << 20); len >>= 1) {
        void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            continue;
        region = brk_ = top = p;
        mprof_ownheap_range.lo = (uintptr_t)p;
        __atomic_store_n(&mprof_ownheap_range.len, len, __ATOMIC_RELEASE);
        return 0;
    }
    reserve_failed = 1;
    return -1;
}

/* Make [brk, brk + need) usable; 0 or -1. */
static int commit(size_t need)
{
    if (!mprof_ownheap_range.len && reserve() < 0)
        return -1;
    char *end = region + mprof_ownheap_range.len;
    if (need > (size_t)(end - brk_))
        return -1;
    if (brk_ + need <= top)
        return 0;
    size_t grow = (size_t)(brk_ + need - top);
    grow = (grow + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
    if (grow > (size_t)(end - top))
        grow = (size_t)(end - top);
    if (mprotect(top, grow, PROT_READ | PROT_WRITE) != 0)
        return -1;
    top += grow;
    return 0;
}

/* A free block's first bytes link it to the next one of its class. */
static void *link_of(const char *payload)
{
    void *next;
    memcpy(&next, payload, sizeof next);
    return next;
}

static void set_link(char *payload, void *next) { memcpy(payload, &next, sizeof next); }

/* A block of class c, its payload start; NULL when out of memory. */
static char *take_block(unsigned c)
{
    char *payload = free_list[c];
    if (payload) {
        free_list[c] = link_of(payload);
        return payload;
    }
    size_t total = (HDR + class_size(c) + 15) & ~(size_t)15; /* 24 + 16 is not */
    if (commit(total) < 0)
        return NULL;
    payload = brk_ + HDR;
    brk_ += total;
    return payload;
}

static void put_header(char *p, unsigned c, uint64_t back)
{
    struct hdr h = {MAGIC, c, back};
    memcpy(p - HDR, &h, sizeof h);
}

static struct hdr get_header(const void *p)
{
    struct hdr h;
    memcpy(&h, (const char *)p - HDR, sizeof h);
    return h;
}

static void heap_enter(void)
{
    mprof_tls.in_ownheap++;
    mprof_lock_acquire(&heap_lock);
}

static void heap_leave(void)
{
    mprof_lock_release(&heap_lock);
    mprof_tls.in_ownheap--;
}

void *mprof_ownheap_alloc(size_t size, size_t align)
{
    int saved = errno;
    if (align < 16)
        align = 16;
    /* An aligned block needs room to slide the pointer up, plus the second
     * header in front of it. */
    size_t extra = align > 16 ? align + HDR : 0;
    if (size > ((size_t)1 << 40) || align > ((size_t)1 << 30)) {
        errno = ENOMEM;
        return NULL;
    }
    unsigned c = class_of(size + extra);
    heap_enter();
    char *payload = take_block(c);
    if (payload)
        in_use += HDR + class_size(c);
    heap_leave();
    if (!payload) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = payload;
    if (extra) /* the first aligned address past a second header */
        p = payload + HDR + ((0 - (uintptr_t)(payload + HDR)) & (align - 1));
    put_header(payload, c, 0);
    if (p != payload)
        put_header(p, c, (uint64_t)(p - payload));
    errno = saved;
    return p;
}

void *mprof_ownheap_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = mprof_ownheap_alloc(total, 0);
    if (p)
        memset(p, 0, total); /* recycled blocks are not zero */
    return p;
}

size_t mprof_ownheap_usable(const void *p)
{
    struct hdr h = get_header(p);
    return class_size(h.cls) - h.back;
}

/* Large freed payloads give their whole pages back; the first bytes (the
 * free-list link) stay. */
static void release_pages(char *payload, size_t size)
{
    char *from = payload + sizeof(void *);
    from += (0 - (uintptr_t)from) & (PAGE - 1);
    char *to = payload + size;
    to -= (uintptr_t)to & (PAGE - 1);
    if (to > from)
        madvise(from, (size_t)(to - from), MADV_DONTNEED);
}

void mprof_ownheap_free(void *p)
{
    if (!p)
        return;
    int saved = errno;
    struct hdr h = get_header(p);
    if (h.magic != MAGIC || h.cls >= NCLASSES)
        return; /* not a block of ours: leak rather than corrupt */
    char *payload = (char *)p - h.back;
    size_t size = class_size(h.cls);
    if (size >= RELEASE_AT)
        release_pages(payload, size);
    heap_enter();
    set_link(payload, free_list[h.cls]);
    free_list[h.cls] = payload;
    in_use -= HDR + size;
    heap_leave();
    errno = saved;
}

void *mprof_ownheap_realloc(void *p, size_t size)
{
    if (!p)
        return mprof_ownheap_alloc(size, 0);
    size_t have = mprof_ownheap_usable(p);
    if (size <= have && size >= have / 4)
        return p;
    void *q = mprof_ownheap_alloc(size, 0);
    if (!q)
        return NULL;
    memcpy(q, p, size < have ? size : have);
    mprof_ownheap_free(p);
    return q;
}

size_t mprof_ownheap_in_use(void) { return __atomic_load_n(&in_use, __ATOMIC_RELAXED); }

/* Every change under heap_lock becomes visible one store at a time, each
 * leaving the heap whole: a pop that read the head but had not moved it
 * leaves the block on its list (nobody in the child holds it); a push
 * that linked the block but had not published it loses the block; brk_
 * and top only ever grow past memory that is ready.  So a child whose
 * parent had a thread inside only frees the lock. */
void mprof_ownheap_after_fork(void) { mprof_lock_reset(&heap_lock); }
