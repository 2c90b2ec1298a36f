/*
 * host_stackbudget: how much of its caller's stack one call uses.
 *
 *   host_stackbudget
 *
 * A thread runs on a stack this program mapped itself (1 MiB).  For each
 * operation it paints the part of that stack below its current frame with
 * a pattern, makes the call, and finds the lowest word that no longer holds
 * the pattern: the distance from its frame to that word is how deep the
 * call went.  The same measurement around a call that does nothing is
 * subtracted, so what is printed is the call's own use:
 *
 *   stack OP BYTES
 *
 * for OP in:
 *   malloc_first   the thread's first malloc (a profiler's per-thread setup)
 *   malloc         malloc of several sizes, after that
 *   free           free of blocks malloc returned
 *   calloc, realloc
 *   lock           pthread_mutex_lock of a mutex another thread holds and
 *                  releases 20 ms later (the call blocks)
 *   unlock         pthread_mutex_unlock of a mutex another thread waits for
 * Under MPROF_MEM_RATE=1, MPROF_BLOCK_RATE=1 and MPROF_MUTEX_FRACTION=1
 * every one of these is sampled; the test compares the figures with a bare
 * run's.
 */
#include "hprog.h"

#include <pthread.h>

#define STACK_BYTES (1 << 20)
#define PATTERN 0xA5C3A5C3A5C3A5C3ULL
#define GAP 512 /* left unpainted right below the measuring frame */

static char *g_lo; /* lowest address of the thread's stack */
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static volatile int g_step;
static void *g_blocks[8];

typedef void (*op_fn)(void);

/* The depth, below this function's frame, of the deepest word op wrote. */
__attribute__((noinline)) static long measure(op_fn op)
{
    char *here = __builtin_frame_address(0);
    volatile uint64_t *lo = (uint64_t *)(((uintptr_t)g_lo + 4096 + 7) & ~(uintptr_t)7);
    volatile uint64_t *end = (uint64_t *)(((uintptr_t)here - GAP) & ~(uintptr_t)7);
    for (volatile uint64_t *q = lo; q < end; q++)
        *q = PATTERN;
    op();
    volatile uint64_t *q = lo;
    while (q < end && *q == PATTERN)
        q++;
    if (q == lo)
        return -1; /* painted region exhausted: deeper than we can tell */
    return (long)(here - (char *)q);
}

static void op_nothing(void)
{
    __asm__ volatile("" ::: "memory");
}

static const size_t sizes[] = {24, 100, 1000, 5000, 70000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void op_malloc_first(void)
{
    g_blocks[0] = malloc(64);
}

static void op_malloc(void)
{
    for (size_t i = 0; i < NSIZES; i++)
        g_blocks[1 + i] = malloc(sizes[i]);
}

static void op_free(void)
{
    for (size_t i = 0; i < 1 + NSIZES; i++) {
        free(g_blocks[i]);
        g_blocks[i] = NULL;
    }
}

static void op_calloc(void)
{
    for (size_t i = 0; i < NSIZES; i++)
        g_blocks[1 + i] = calloc(2, sizes[i]);
}

static void op_realloc(void)
{
    for (size_t i = 0; i < NSIZES; i++)
        g_blocks[1 + i] = realloc(g_blocks[1 + i], sizes[i] * 3);
}

static void op_lock(void)
{
    pthread_mutex_lock(&g_m);
}

static void op_unlock(void)
{
    pthread_mutex_unlock(&g_m);
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_m);
    __atomic_store_n(&g_step, 1, __ATOMIC_RELEASE);
    prog_sleep_ms(20);
    pthread_mutex_unlock(&g_m);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    __atomic_store_n(&g_step, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&g_m);
    pthread_mutex_unlock(&g_m);
    return NULL;
}

static void report(const char *name, op_fn op, long base)
{
    long used = measure(op);
    if (used < 0)
        dprintf(1, "stack %s over %d\n", name, STACK_BYTES - 4096 - GAP);
    else
        dprintf(1, "stack %s %ld\n", name, used > base ? used - base : 0);
}

static void *measurer(void *arg)
{
    (void)arg;
    long base = measure(op_nothing);
    report("malloc_first", op_malloc_first, base);
    report("malloc", op_malloc, base);
    report("free", op_free, base);
    report("calloc", op_calloc, base);
    report("realloc", op_realloc, base);
    op_free();

    pthread_t t;
    __atomic_store_n(&g_step, 0, __ATOMIC_RELEASE);
    pthread_create(&t, NULL, holder, NULL);
    while (!__atomic_load_n(&g_step, __ATOMIC_ACQUIRE))
        prog_sleep_ms(1);
    report("lock", op_lock, base); /* waits until the holder lets go */
    pthread_mutex_unlock(&g_m);
    pthread_join(t, NULL);

    pthread_mutex_lock(&g_m);
    __atomic_store_n(&g_step, 0, __ATOMIC_RELEASE);
    pthread_create(&t, NULL, waiter, NULL);
    while (!__atomic_load_n(&g_step, __ATOMIC_ACQUIRE))
        prog_sleep_ms(1);
    prog_sleep_ms(20); /* asleep on the mutex by now */
    report("unlock", op_unlock, base);
    pthread_join(t, NULL);
    return NULL;
}

int main(void)
{
    g_lo = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_lo == MAP_FAILED)
        prog_fail("mmap");
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (pthread_attr_setstack(&a, g_lo, STACK_BYTES) != 0)
        prog_fail("pthread_attr_setstack");
    pthread_t t;
    if (pthread_create(&t, &a, measurer, NULL) != 0)
        prog_fail("pthread_create");
    pthread_join(t, NULL);
    return 0;
}
