/*
 * host_forks: fork children one after another while other threads sample.
 *
 *   host_forks [--forks N] [--threads T] [--child-ms MS]
 *
 * T threads (default 2) allocate and free at fork_thread_site all along,
 * under up to 32 frames of distinct functions and one frame of hand-written
 * assembly whose unwind info an unwinder can only follow the slow way (its
 * caller's %rbp is kept in %rbx), so that at MPROF_MEM_RATE=1 the threads
 * are inside the profiler's stack capture, and inside whatever locks its
 * unwinder takes there, much of the time.  The main thread forks N children
 * (default 500) one at a time; each child allocates at once (at rate 1 its
 * very first malloc is sampled, with whatever the fork left locked),
 * frees, and leaves with _exit(0).
 *
 * A child that has not ended within MS ms (default 5000) is hung: its own
 * alarm kills it unless it waits with signals blocked, and the parent kills
 * it at the deadline.  The first hang ends the run.  Prints
 * "forks N ok K hung H failed F" (N forks made) and exits 0 if all N
 * children ended well, 3 otherwise.  Then the threads' allocations, as a
 * truth line (the count differs from run to run; the exit dump at rate 1
 * must have exactly that many).
 */
#include "hprog.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define THREAD_SIZE 48
#define CHILD_SIZE 200

static volatile int g_stop;
static uint64_t *g_count; /* per thread, 64 bytes apart */
static int g_line;

SITE static void fork_thread_site(void)
{
    void *p = prog_check(malloc(THREAD_SIZE), "malloc"); g_line = __LINE__;
    free(p);
}

/* Frames of distinct functions above the site (lv0 is nearest to it): an
 * unwinder cache that starts empty misses on every one of them. */
#define LV(n, next)                                                         \
    SITE static void lv##n(int d)                                           \
    {                                                                       \
        if (d > 0)                                                          \
            next(d - 1);                                                    \
        else                                                                \
            fork_thread_site();                                             \
        __asm__ volatile("" ::: "memory"); /* not a tail call */            \
    }
#define lvsite(d) fork_thread_site()
LV(0, lvsite) LV(1, lv0) LV(2, lv1) LV(3, lv2) LV(4, lv3) LV(5, lv4) LV(6, lv5) LV(7, lv6)
LV(8, lv7) LV(9, lv8) LV(10, lv9) LV(11, lv10) LV(12, lv11) LV(13, lv12) LV(14, lv13)
LV(15, lv14) LV(16, lv15) LV(17, lv16) LV(18, lv17) LV(19, lv18) LV(20, lv19) LV(21, lv20)
LV(22, lv21) LV(23, lv22) LV(24, lv23) LV(25, lv24) LV(26, lv25) LV(27, lv26) LV(28, lv27)
LV(29, lv28) LV(30, lv29) LV(31, lv30)
#define LV_TOP lv31
#define LV_N 32

/*
 * A frame whose unwind info keeps the caller's %rbp in %rbx: valid DWARF
 * that an unwinder must step through the slow way, as it must for hand-
 * written assembly and JIT code.  host_other_frame(fn, arg) calls fn(arg).
 */
#if defined(__x86_64__)
void host_other_frame(void (*fn)(long), long arg);
__asm__(".text\n"
        ".type host_other_frame, @function\n"
        "host_other_frame:\n"
        ".cfi_startproc\n"
        "  push %rbx\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %rbx, 0\n"
        "  mov %rbp, %rbx\n"
        ".cfi_register %rbp, %rbx\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  call *%rax\n"
        "  mov %rbx, %rbp\n"
        ".cfi_restore %rbp\n"
        "  pop %rbx\n"
        ".cfi_adjust_cfa_offset -8\n"
        ".cfi_restore %rbx\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size host_other_frame, .-host_other_frame\n");
#else
static void host_other_frame(void (*fn)(long), long arg)
{
    fn(arg);
}
#endif

SITE static void thread_step(long depth)
{
    LV_TOP((int)depth);
    __asm__ volatile("" ::: "memory");
}

static void *thread_main(void *arg)
{
    int t = (int)(intptr_t)arg;
    uint64_t x = 0x51ED27A3ULL + (uint64_t)t;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        host_other_frame(thread_step, (long)(hp_rand(&x) % LV_N));
        __atomic_fetch_add(&g_count[t * 8], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

SITE static void child_site(void)
{
    void *p = prog_check(malloc(CHILD_SIZE), "malloc");
    free(p);
}

static void child(long ms)
{
    alarm((unsigned)((ms + 999) / 1000));
    child_site();
    char *s = prog_check(calloc(1, 64), "calloc");
    snprintf(s, 64, "child %d", (int)getpid());
    free(s);
    _exit(0);
}

/* 0: exited 0; 1: hung (killed after the deadline); 2: other end. */
static int reap(pid_t pid, long ms)
{
    long start = prog_now_ms();
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0)
            prog_fail("waitpid");
        if (prog_now_ms() - start > ms) { /* its alarm may be blocked */
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return 1;
        }
        prog_sleep_ms(1);
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGKILL))
        return 1;
    dprintf(2, "child %d: status 0x%x\n", (int)pid, st);
    return 2;
}

int main(int argc, char **argv)
{
    int forks = (int)hp_long(argc, argv, "--forks", 500);
    int threads = (int)hp_long(argc, argv, "--threads", 2);
    long ms = hp_long(argc, argv, "--child-ms", 5000);
    /* every thread is sampling before the first fork */
    pthread_t *tid = hp_start_busy_threads(threads, thread_main, &g_count, 10);
    int ok = 0, hung = 0, failed = 0, i;
    for (i = 0; i < forks && !hung; i++) { /* the first hang ends the run */
        pid_t pid = fork();
        if (pid < 0)
            prog_fail("fork");
        if (pid == 0)
            child(ms);
        switch (reap(pid, ms)) {
        case 0: ok++; break;
        case 1:
            hung++;
            dprintf(2, "fork %d: the child did not finish within %ld ms (killed)\n", i + 1, ms);
            break;
        default: failed++; break;
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    uint64_t total = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        total += g_count[t * 8];
    }
    dprintf(1, "forks %d ok %d hung %d failed %d\n", i, ok, hung, failed);
    prog_truth(1, "fork_thread_site", THREAD_SIZE, (size_t)total, 0, __FILE__, g_line);
    return ok == forks ? 0 : 3;
}
