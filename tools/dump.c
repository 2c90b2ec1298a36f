/*
 * dump.c: `mprof dump PID`: ask a running process to dump its profiles and
 * wait until the files are written.
 *
 * What we need to know about the process comes from what it cannot
 * overwrite: that it has libmprof.so mapped (else the signal would likely
 * kill it), and the state the library publishes in its /proc/PID/maps
 * (core/record/publish.h): the dump signal, whether mprof's handler for it is
 * installed, whether anything was recorded, the output prefix, and the seq
 * and files of the latest dump.  Never /proc/PID/environ, which nginx,
 * redis and PostgreSQL overwrite with their process titles.
 *
 * The signal is sent only where it can only reach mprof's handler: not
 * when the program handles or ignores it itself (its handler would run:
 * PostgreSQL's checkpointer shuts the cluster down, nginx starts a second
 * master), and not when every thread but mprof's blocks it (the program
 * takes it with sigwait or signalfd).  Each refusal is one line saying
 * why and what to do instead.
 *
 * A dump is done when the published seq passes the one seen before the
 * signal; the files it lists are those that dump wrote, which the library
 * publishes after renaming them from their ".tmp" names.
 *
 * The pid of an `mprof run` may be given for the program it runs.
 */
#include "clock.h"
#include "outname.h"
#include "published.h"
#include "readfile.h"
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 10
/* Far above any /proc file (the maps of a million mappings are ~100 MiB). */
#define PROC_MAX ((size_t)1 << 30)

typedef struct target {
    pid_t pid;
    int pidfd; /* -1 where the kernel has no pidfds */
    published st;
    char *out; /* its MPROF_OUT prefix, absolute */
    bool quiet; /* list no file on stdout (dump_for_file) */
} target;

/* ---- /proc ---- */

/* A whole /proc file, NUL-terminated, malloc'd; NULL + errno.  Read into a
 * scratch by the one whole-file reader and copied out: /proc files are
 * small, and every caller frees what it gets. */
/* The command whose errors these are: "dump", or the one that dumps to
 * read a file (dump_for_file). */
static const char *g_cmd = "dump";

static char *read_proc(pid_t pid, const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    mprof_scratch sc;
    mprof_scratch_init(&sc);
    char *data;
    size_t len;
    int rc = mprof_read_file(&sc, path, PROC_MAX, &data, &len);
    char *copy = rc < 0 ? NULL : xmalloc(len + 1);
    if (copy)
        memcpy(copy, data, len + 1);
    mprof_scratch_release(&sc);
    if (rc < 0)
        errno = -rc;
    return copy;
}

static int check_alive(pid_t pid)
{
    if (kill(pid, 0) == 0)
        return 0;
    if (errno == ESRCH)
        tool_error(g_cmd, "no process %d", (int)pid);
    else
        tool_error(g_cmd, "cannot signal process %d: %s", (int)pid, strerror(errno));
    return -1;
}

static bool maps_have_mprof(const char *maps)
{
    for (const char *l = maps; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        static const char lib[] = "/libmprof.so";
        if (len >= sizeof lib - 1 && memcmp(l + len - (sizeof lib - 1), lib, sizeof lib - 1) == 0)
            return true;
    }
    return false;
}

/* The published state of t->pid, now: 0, or -1 with errno (from reading
 * /proc, or ENOENT: nothing published).  *has_mprof: libmprof.so is
 * mapped. */
static int read_state(target *t, bool *has_mprof)
{
    char *maps = read_proc(t->pid, "maps");
    if (!maps)
        return -1;
    published_free(&t->st);
    *has_mprof = maps_have_mprof(maps);
    int rc = published_parse(maps, t->pid, &t->st);
    free(maps);
    if (rc < 0)
        errno = ENOENT;
    return rc;
}

/* Both the library and its published state, or one line saying which is
 * missing: without the library the signal would likely end the process. */
static int load_state(target *t)
{
    bool has_mprof = false;
    int rc = read_state(t, &has_mprof);
    if (rc == 0 && has_mprof)
        return 0;
    int pid = (int)t->pid;
    if (rc < 0 && errno != ENOENT)
        tool_error(g_cmd, "cannot read /proc/%d/maps: %s", pid, strerror(errno));
    else if (!has_mprof)
        tool_error(g_cmd, "process %d is not running mprof (no libmprof.so in "
                   "/proc/%d/maps); start it with `mprof run` or LD_PRELOAD", pid, pid);
    else
        tool_error(g_cmd, "process %d has libmprof.so but publishes no dump state in "
                   "/proc/%d/maps (a library older than this mprof, or no memfd_create); "
                   "not signalling it", pid, pid);
    return -1;
}

/* The pid of an `mprof run` (ours: the same executable) stands for the
 * program it runs, its only child, which is the process that dumps. */
static pid_t program_of_run(pid_t pid)
{
    char mine[PATH_MAX], theirs[PATH_MAX], link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t a = readlink("/proc/self/exe", mine, sizeof mine - 1);
    ssize_t b = readlink(link, theirs, sizeof theirs - 1);
    if (a <= 0 || a != b || memcmp(mine, theirs, (size_t)a) != 0)
        return pid;
    char what[64];
    snprintf(what, sizeof what, "task/%d/children", (int)pid);
    char *kids = read_proc(pid, what);
    long child = 0;
    int n = 0;
    for (char *p = kids, *end; p && *p; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        child = v;
        n++;
    }
    free(kids);
    return n == 1 && child > 0 ? (pid_t)child : pid;
}

/* ---- may the signal be sent? ---- */

/* The prefix is absolute unless the library could not anchor it (a start
 * directory too long): then it is relative to the process's directory. */
static int locate_output(target *t)
{
    if (t->st.out[0] == '/') {
        t->out = xstrdup(t->st.out);
        return 0;
    }
    char link[64], cwd[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)t->pid);
    ssize_t n = readlink(link, cwd, sizeof cwd - 1);
    if (n <= 0) {
        tool_error(g_cmd, "cannot read %s: %s", link, strerror(errno));
        return -1;
    }
    cwd[n] = '\0';
    t->out = xasprintf("%s/%s", cwd, t->st.out);
    return 0;
}

/* Bit `sig` of the hexadecimal mask on line `key` of a status file. */
static bool mask_has(const char *status, const char *key, int sig)
{
    const char *l = status ? strstr(status, key) : NULL;
    if (!l || sig < 1 || sig > 64)
        return false;
    unsigned long long mask = strtoull(l + strlen(key), NULL, 16);
    return mask >> (sig - 1) & 1;
}

/* Is thread `tid` of pid inside sigwait, sigwaitinfo or sigtimedwait?
 * While it waits, the kernel unblocks the signals it waits for, so its
 * SigBlk no longer shows them.  Its wait set is in its memory, out of
 * reach: such a thread counts as taking every signal it leaves unblocked
 * (a wrong guess refuses a dump; it never sends a signal to a consumer).
 * The kernel function it sleeps in, or failing that (no kallsyms) the
 * system call it is in, which needs more privilege to read. */
static bool in_sigwait(pid_t pid, long tid)
{
    char what[64];
    snprintf(what, sizeof what, "task/%ld/wchan", tid);
    char *wchan = read_proc(pid, what);
    bool yes = wchan && strncmp(wchan, "do_sigtimedwait", 15) == 0;
    free(wchan);
    snprintf(what, sizeof what, "task/%ld/syscall", tid);
    char *call = yes ? NULL : read_proc(pid, what);
    yes = yes || (call && strtol(call, NULL, 10) == SYS_rt_sigtimedwait);
    free(call);
    return yes;
}

/* Does thread `tid` of pid keep sig from its handler?  Threads named
 * "mprof" (mprof's own, which blocks everything) count as not there: -1. */
static int thread_blocks(pid_t pid, long tid, int sig)
{
    char what[64];
    snprintf(what, sizeof what, "task/%ld/comm", tid);
    char *comm = read_proc(pid, what);
    bool mprof = comm && strcmp(comm, "mprof\n") == 0;
    free(comm);
    if (mprof)
        return -1;
    snprintf(what, sizeof what, "task/%ld/status", tid);
    char *st = read_proc(pid, what);
    int blocks = st ? mask_has(st, "\nSigBlk:", sig) || in_sigwait(pid, tid)
                    : -1; /* gone meanwhile */
    free(st);
    return blocks;
}

/* Every thread of the program blocks sig: it takes the signal with
 * sigwait or signalfd, and mprof's handler would never run. */
static bool all_threads_block(pid_t pid, int sig)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    int seen = 0, open = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int b = thread_blocks(pid, strtol(e->d_name, NULL, 10), sig);
        seen += b >= 0;
        open += b == 0;
    }
    closedir(d);
    return seen > 0 && open == 0;
}

/* What the program did with the signal mprof is not handling. */
static const char *program_disposition(pid_t pid, int sig)
{
    char *st = read_proc(pid, "status");
    const char *what = mask_has(st, "\nSigCgt:", sig)   ? "handles"
                       : mask_has(st, "\nSigIgn:", sig) ? "ignores"
                                                        : "took and then reset";
    free(st);
    return what;
}

#define INSTEAD "restart it with MPROF_SIGNAL=<a signal it leaves alone> or " \
                "MPROF_DUMP_INTERVAL=<seconds>, or let it exit (the exit dump is written)"

/* 0 if the dump signal can only reach mprof's handler; else one line. */
static int check_signal(const target *t)
{
    int pid = (int)t->pid, sig = t->st.sig;
    if (sig == 0) {
        tool_error(g_cmd, "process %d runs with MPROF_SIGNAL=none: it takes no dump "
                   "requests; " INSTEAD, pid);
        return -1;
    }
    if (!t->st.own) {
        tool_error(g_cmd, "process %d %s signal %d (%s) itself, so mprof's dump handler is "
                   "not installed; not sending it; " INSTEAD,
                   pid, program_disposition(t->pid, sig), sig, strsignal(sig));
        return -1;
    }
    if (all_threads_block(t->pid, sig)) {
        tool_error(g_cmd, "every thread of process %d blocks signal %d (%s): the program "
                   "takes it with sigwait or signalfd, and mprof's handler would never "
                   "run; not sending it; " INSTEAD, pid, sig, strsignal(sig));
        return -1;
    }
    return 0;
}

static double now_s(void) { return (double)mprof_clock_ns(CLOCK_MONOTONIC) / 1e9; }

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * The process is held by a pidfd once we know which pid to dump, and the
 * signal goes through it: if the process ends and its pid is reused while
 * we read /proc, pidfd_send_signal fails with ESRCH instead of signalling
 * the newcomer. Kernels before 5.3 have no pidfds; there we use kill().
 */
static void hold_process(target *t)
{
    t->pidfd = -1;
#ifdef SYS_pidfd_open
    t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
#endif
}

static int send_signal(const target *t, int sig)
{
#ifdef SYS_pidfd_send_signal
    if (t->pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, t->pidfd, sig, NULL, 0);
#endif
    return kill(t->pid, sig);
}

/* Alive and not a zombie: kill(pid, 0) succeeds on a zombie, which will
 * never write its files. */
static bool is_running(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return false;
    char *stat = read_proc(pid, "stat");
    const char *paren = stat ? strrchr(stat, ')') : NULL;
    bool zombie = paren && (paren[1] == ' ') && (paren[2] == 'Z' || paren[2] == 'X');
    free(stat);
    return !zombie;
}

/* ---- waiting for the dump ---- */

/* Poll the published state until its seq passes `before`: 0, or -1 after
 * one line (the process ended, or the deadline passed). */
static int wait_published(target *t, unsigned long before, double deadline, double timeout)
{
    for (;;) {
        bool has_mprof;
        bool alive = is_running(t->pid);
        if (alive && read_state(t, &has_mprof) == 0 && t->st.seq > before)
            return 0;
        if (!alive || now_s() >= deadline) {
            if (alive)
                tool_error(g_cmd, "timed out after %.1f s waiting for process %d to dump "
                           "(no dump since number %lu; files go to %s.%d.*)",
                           timeout, (int)t->pid, before, t->out, (int)t->pid);
            else
                tool_error(g_cmd, "the process exited before its dump was published "
                           "(waited for dump %lu of process %d in %s.%d.*)",
                           before + 1, (int)t->pid, t->out, (int)t->pid);
            return -1;
        }
        sleep_ms(POLL_MS);
    }
}

static char *file_of(const target *t, int kind)
{
    size_t size = strlen(t->out) + 64; /* room for what follows the prefix */
    char *path = xmalloc(size);
    if (mprof_outname_format(path, size, t->out, (long)t->pid, t->st.seq,
                             mprof_outname_kinds[kind]) < 0) {
        /* not reached: the prefix is a path, and the rest fits in 64 */
        tool_error(g_cmd, "cannot name the files of %s", t->out);
        exit(EXIT_FAIL);
    }
    return path;
}

/* The files of the published dump, once each is in place: the library
 * publishes after renaming them, so normally at once. */
static int list_files(const target *t, double deadline, double timeout)
{
    if (!t->st.files) {
        tool_error(g_cmd, "dump %lu of process %d wrote no profile file: nothing to write, "
                   "or %s.%d.* could not be written (the process said why on its stderr)",
                   t->st.seq, (int)t->pid, t->out, (int)t->pid);
        return EXIT_FAIL;
    }
    for (int k = 0; k < MPROF_NKINDS; k++) {
        if (!(t->st.files >> k & 1))
            continue;
        char *path = file_of(t, k);
        while (access(path, F_OK) != 0 && now_s() < deadline)
            sleep_ms(POLL_MS);
        if (access(path, F_OK) != 0) {
            tool_error(g_cmd, "timed out after %.1f s: dump %lu of process %d says it wrote "
                       "%s, which is not there", timeout, t->st.seq, (int)t->pid, path);
            free(path);
            return EXIT_FAIL;
        }
        if (!t->quiet)
            printf("%s\n", path);
        free(path);
    }
    return t->quiet ? 0 : tool_stdout_status("dump");
}

/* Signal, wait, list.  A process that recorded nothing has nothing to
 * write: say so, and leave it alone. */
static int request_dump(target *t, double timeout)
{
    if (!t->st.rec) {
        tool_error(g_cmd, "process %d has recorded nothing yet, so there is no profile to "
                   "write; not signalling it", (int)t->pid);
        return 0;
    }
    double deadline = now_s() + timeout;
    unsigned long before = t->st.seq;
    if (send_signal(t, t->st.sig) < 0) {
        tool_error(g_cmd, "cannot signal process %d: %s", (int)t->pid, strerror(errno));
        return EXIT_FAIL;
    }
    if (wait_published(t, before, deadline, timeout) < 0)
        return EXIT_FAIL;
    return list_files(t, deadline, timeout);
}

/* ---- the command ---- */

static const tool_opt opts[] = {{"--timeout", true}, {NULL, false}};

static int parse_args(int argc, char **argv, pid_t *pid, double *timeout)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1};
    const tool_opt *opt;
    const char *val, *pid_s = NULL;
    int k;
    *timeout = 10;
    while ((k = tool_args_next(&a, "dump", opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return -1;
        if (k == ARG_OPERAND && pid_s) {
            tool_error(g_cmd, "unexpected argument '%s'", val);
            return -1;
        }
        if (k == ARG_OPERAND) {
            pid_s = val;
        } else if (parse_seconds(val, timeout) < 0) {
            tool_error(g_cmd, "--timeout wants seconds, not '%s'", val);
            return -1;
        }
    }
    int64_t v;
    if (!pid_s || parse_int64(pid_s, 1, INT_MAX, &v) < 0) {
        tool_error(g_cmd, "expected a process id%s%s", pid_s ? ", not " : "",
                   pid_s ? pid_s : "");
        return -1;
    }
    *pid = (pid_t)v;
    return 0;
}

/* The dump of t, checks, signal and wait: 0 or an exit status. */
static int dump_target(target *t, double timeout)
{
    if (check_alive(t->pid) < 0)
        return EXIT_FAIL;
    t->pid = program_of_run(t->pid);
    hold_process(t);
    int rc = EXIT_FAIL;
    if (load_state(t) == 0 && locate_output(t) == 0 && check_signal(t) == 0)
        rc = request_dump(t, timeout);
    return rc;
}

static void target_free(target *t)
{
    published_free(&t->st);
    free(t->out);
    if (t->pidfd >= 0)
        close(t->pidfd);
}

int cmd_dump(int argc, char **argv)
{
    target t = {.pidfd = -1};
    double timeout;
    if (parse_args(argc, argv, &t.pid, &timeout) < 0)
        return tool_usage("dump");
    int rc = dump_target(&t, timeout);
    target_free(&t);
    return rc;
}

int dump_for_file(const char *cmd, pid_t pid, double timeout, int kind, char **path,
                  pid_t *program)
{
    g_cmd = cmd;
    target t = {.pid = pid, .pidfd = -1, .quiet = true};
    *path = NULL;
    int rc = dump_target(&t, timeout);
    *program = t.pid;
    if (rc == 0 && t.st.seq && (t.st.files >> kind & 1))
        *path = file_of(&t, kind);
    target_free(&t);
    return rc;
}
