/*
 * cfi.c: a thread's stack copy unwound by libdwfl (see cfi.h).
 *
 * The session's one Dwfl has our Dwfl_Thread_Callbacks attached; before
 * each dwfl_getthread_frames the thread's registers and copy are put in
 * `cur`, which the callbacks read: libdwfl asks for one thread at a time.
 */
#include "cfi.h"

#include "dumplibs.h"
#include "symbolize.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct mprof_unwinder {
    Dwfl *dwfl;
    int tid;
    uintptr_t pc, sp;
    const unsigned char *stack; /* [sp, sp + len) */
    size_t len;
};

/* Dumps are serialized by the dump lock: one session at a time. */
static struct mprof_unwinder session;

/* The one thread there is: the one being unwound. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct mprof_unwinder *u = arg;
    if (*thread_argp)
        return 0;
    *thread_argp = u;
    return u->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct mprof_unwinder *u = arg;
    *thread_argp = u;
    return tid == u->tid;
}

/* A word of the copy; any other address fails (ends the stack). */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    (void)dwfl;
    const struct mprof_unwinder *u = arg;
    if (addr < u->sp || u->len < sizeof *result || addr - u->sp > u->len - sizeof *result)
        return false;
    memcpy(result, u->stack + (addr - u->sp), sizeof *result);
    return true;
}

/* rsp is DWARF register 7 on x86-64; the pc is not a DWARF register. */
static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
    struct mprof_unwinder *u = thread_arg;
    Dwarf_Word sp = u->sp;
    if (!DW(dwfl_thread_state_registers)(thread, 7, 1, &sp))
        return false;
    DW(dwfl_thread_state_register_pc)(thread, u->pc);
    return true;
}

/* libdwfl keeps the pointer for the session's life: static. */
static const Dwfl_Thread_Callbacks callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

/* errno is left as found: elfutils sets it on the way (files not found). */
mprof_unwinder *mprof_unwinder_begin(void)
{
    int saved = errno;
    Dwfl *dwfl = mprof_dwfl_report_self(0);
    session = (struct mprof_unwinder){.dwfl = dwfl};
    /* NULL Elf: the architecture is read from one of the modules */
    if (dwfl && !DW(dwfl_attach_state)(dwfl, NULL, getpid(), &callbacks, &session)) {
        DW(dwfl_end)(dwfl);
        dwfl = NULL;
    }
    errno = saved;
    return dwfl ? &session : NULL;
}

void mprof_unwinder_end(mprof_unwinder *u)
{
    int saved = errno;
    if (u)
        DW(dwfl_end)(u->dwfl);
    errno = saved;
}

struct frames {
    uintptr_t *pcs;
    int n, max;
};

/* An activation's pc is the instruction itself (the first frame, or one
 * a signal interrupted): + 1, so that "address - 1" lands on it; a
 * caller's is its return address, kept as is. */
static int one_frame(Dwfl_Frame *frame, void *arg)
{
    struct frames *f = arg;
    Dwarf_Addr pc;
    bool activation;
    if (!DW(dwfl_frame_pc)(frame, &pc, &activation) || pc == 0)
        return DWARF_CB_ABORT;
    f->pcs[f->n++] = (uintptr_t)pc + (activation ? 1 : 0);
    return f->n < f->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int mprof_cfi_unwind(mprof_unwinder *u, int tid, uintptr_t pc, uintptr_t sp,
                     const unsigned char *stack, size_t len, uintptr_t *pcs, int max)
{
    if (max <= 0)
        return 0;
    struct frames f = {pcs, 0, max};
    int saved = errno;
    if (u) {
        u->tid = tid;
        u->pc = pc;
        u->sp = sp;
        u->stack = stack;
        u->len = len;
        /* its end, a failed read or no CFI: the frames so far stand */
        DW(dwfl_getthread_frames)(u->dwfl, tid, one_frame, &f);
    }
    errno = saved;
    if (f.n == 0)
        pcs[f.n++] = pc + 1;
    return f.n;
}
