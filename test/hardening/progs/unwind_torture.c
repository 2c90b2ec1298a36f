/*
 * unwind_torture: allocations from frames that an unwinder cannot (or can
 * only partly) unwind.  x86-64 only.
 *
 *   unwind_torture --ucontext    coroutines on makecontext stacks, switched
 *                                with swapcontext, allocating on both sides
 *   unwind_torture --jit         machine code in an anonymous executable
 *                                mapping (no unwind info, no symbol) calls
 *                                malloc; with and without a frame pointer
 *   unwind_torture --garbage     a frame without CFI, on a stack switched to
 *                                a buffer of garbage, with a garbage frame
 *                                pointer, calls malloc
 *
 * Not here: a frame whose CFI is wrong (describes a stack it is not on).
 * libgcc's unwinder, which mprof uses as C++ exceptions do, trusts CFI and
 * reads what it describes; such a program crashes an exception thrown
 * through that frame, and a sample taken under it (README, Limits).
 *   unwind_torture --all         all three
 *
 * Each mode allocates blocks of a size of its own, so the profile can be
 * checked by the "bytes" label even where no frame has a name; each prints
 * "mode <name> <size> <count>" (all blocks are kept), then "verify ok",
 * "done".
 */
#include "hprog.h"

#include <sys/mman.h>
#include <ucontext.h>

#define CORO_SIZE 1111
#define JIT_FP_SIZE 2221
#define JIT_NOFP_SIZE 2223
#define GARBAGE_SIZE 3331
#define N 200

/* ---- makecontext / swapcontext ---- */

static ucontext_t g_main_ctx, g_coro_ctx;
static void **g_coro_keep;
static int g_coro_n;

SITE static void *coro_site(void)
{
    return prog_check(malloc(CORO_SIZE), "malloc");
}

static void coro_body(void)
{
    for (int i = 0; i < N / 2; i++) {
        g_coro_keep[g_coro_n++] = coro_site();
        swapcontext(&g_coro_ctx, &g_main_ctx);
    }
    /* returning ends the context: uc_link (main) resumes */
}

static void run_ucontext(void)
{
    g_coro_keep = prog_slots(N);
    size_t stack = 256 * 1024;
    getcontext(&g_coro_ctx);
    g_coro_ctx.uc_stack.ss_sp = hp_map(stack);
    g_coro_ctx.uc_stack.ss_size = stack;
    g_coro_ctx.uc_link = &g_main_ctx;
    makecontext(&g_coro_ctx, coro_body, 0);
    for (int i = 0; i < N / 2; i++) {
        swapcontext(&g_main_ctx, &g_coro_ctx);
        g_coro_keep[g_coro_n++] = coro_site(); /* back on the main stack */
    }
    swapcontext(&g_main_ctx, &g_coro_ctx); /* let the coroutine return */
    dprintf(1, "mode ucontext %d %d\n", CORO_SIZE, g_coro_n);
}

/* ---- JIT-like code ---- */

typedef void *(*jit_fn)(size_t);

/* movabs rax, imm64; call rax */
static unsigned char *emit_call(unsigned char *c, void *target)
{
    uint64_t a = (uint64_t)(uintptr_t)target;
    *c++ = 0x48;
    *c++ = 0xb8;
    memcpy(c, &a, 8);
    c += 8;
    *c++ = 0xff;
    *c++ = 0xd0;
    return c;
}

static void run_jit(void)
{
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        prog_fail("mmap exec");
    void *target = (void *)malloc;
    /* with a frame pointer: push rbp; mov rbp,rsp; call; pop rbp; ret */
    unsigned char *fp = page, *c = page;
    *c++ = 0x55;
    *c++ = 0x48, *c++ = 0x89, *c++ = 0xe5;
    c = emit_call(c, target);
    *c++ = 0x5d;
    *c++ = 0xc3;
    /* without: sub rsp,8; call; add rsp,8; ret (rbp is the caller's) */
    unsigned char *nofp = c;
    *c++ = 0x48, *c++ = 0x83, *c++ = 0xec, *c++ = 0x08;
    c = emit_call(c, target);
    *c++ = 0x48, *c++ = 0x83, *c++ = 0xc4, *c++ = 0x08;
    *c++ = 0xc3;
    jit_fn with_fp = (jit_fn)(uintptr_t)fp, without_fp = (jit_fn)(uintptr_t)nofp;
    void **keep = prog_slots(2 * N);
    for (int i = 0; i < N; i++) {
        keep[2 * i] = prog_check(with_fp(JIT_FP_SIZE), "jit malloc");
        keep[2 * i + 1] = prog_check(without_fp(JIT_NOFP_SIZE), "jit malloc");
    }
    dprintf(1, "mode jit_fp %d %d\n", JIT_FP_SIZE, N);
    dprintf(1, "mode jit_nofp %d %d\n", JIT_NOFP_SIZE, N);
}

/* ---- a garbage stack ---- */

/* call_on_stack(fn, arg, top): switch rsp to `top`, load a garbage frame
 * pointer, call fn(arg) and come back.  No CFI on purpose: nothing tells
 * an unwinder where this frame's caller is. */
void *call_on_stack(void *(*fn)(size_t), size_t arg, void *top);
__asm__(".text\n"
        ".globl call_on_stack\n"
        ".type call_on_stack, @function\n"
        "call_on_stack:\n"
        "  push %rbp\n"
        "  push %rbx\n"
        "  mov %rsp, %rbx\n"      /* the real stack, callee-saved */
        "  mov %rdx, %rsp\n"      /* the garbage stack */
        "  movabs $0x00dead00beef0000, %rbp\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  call *%rax\n"
        "  mov %rbx, %rsp\n"
        "  pop %rbx\n"
        "  pop %rbp\n"
        "  ret\n"
        ".size call_on_stack, .-call_on_stack\n");

static void run_garbage(void)
{
    size_t len = 1 << 20;
    unsigned char *stack = hp_map(len);
    uint64_t x = 0xfeedface12345ULL;
    /* Words that look like return addresses and frame pointers but point
     * nowhere (unmapped, non-canonical, kernel half, misaligned). */
    static const uint64_t junk[] = {0x00007fff00000000ULL, 0xffff800000001000ULL,
                                    0x0000000000000008ULL, 0x00dead00beef0000ULL,
                                    0x8000000000000000ULL, 0x0000000000400001ULL};
    for (size_t i = 0; i + 8 <= len; i += 8) {
        uint64_t v = junk[hp_rand(&x) % (sizeof junk / sizeof junk[0])] + (hp_rand(&x) & 0xff0);
        memcpy(stack + i, &v, 8);
    }
    void **keep = prog_slots(N);
    for (int i = 0; i < N; i++) {
        /* garbage above and below, at a different offset each time */
        void *top = stack + len / 2 + 16 * (size_t)(i % 64);
        keep[i] = prog_check(call_on_stack(malloc, GARBAGE_SIZE, top), "malloc");
    }
    dprintf(1, "mode garbage %d %d\n", GARBAGE_SIZE, N);
}

int main(int argc, char **argv)
{
    bool all = hp_flag(argc, argv, "--all");
    dprintf(1, "pid %d\n", (int)getpid());
    if (all || hp_flag(argc, argv, "--ucontext"))
        run_ucontext();
    if (all || hp_flag(argc, argv, "--jit"))
        run_jit();
    if (all || hp_flag(argc, argv, "--garbage"))
        run_garbage();
    dprintf(1, "verify ok\ndone\n");
    return 0;
}
