/*
 * dump.c: `mprof dump PID`: ask a running process to dump its profiles and
 * wait until the files are complete.
 *
 * Everything we need to know about the process comes from /proc: that it
 * has libmprof.so mapped (else the signal would likely kill it), its
 * settings (the MPROF_* variables it started with, parsed by the library's
 * own parser, core/config.c, so we agree with it on every default and bad
 * value), whether it catches the dump signal, and its current directory
 * (to resolve a relative MPROF_OUT).
 *
 * The pid of an `mprof run` may be given for the program it runs.
 *
 * A dump is complete when, for one sequence number above every one the
 * process had written before we signalled, the files of all enabled
 * profiles exist and none is still a ".tmp": the library writes heap,
 * block and mutex in that order, each to a temporary name then renamed.
 */
#include "config.h"
#include "log.h"
#include "outfiles.h"
#include "tool.h"

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

typedef struct target {
    pid_t pid;
    int pidfd; /* -1 where the kernel has no pidfds */
    mprof_config cfg;
    bool enabled[NKINDS];
    char *dir, *base; /* where its files go */
} target;

/* ---- /proc ---- */

/* A whole /proc file (they report size 0), NUL-terminated; NULL + errno. */
static char *read_proc(pid_t pid, const char *what, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t n = 0, cap = 4096;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap)
            buf = xrealloc(buf, (cap *= 2) + 1);
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            if (r < 0) {
                free(buf);
                errno = e;
                return NULL;
            }
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int check_alive(pid_t pid)
{
    if (kill(pid, 0) == 0)
        return 0;
    if (errno == ESRCH)
        tool_error("dump", "no process %d", (int)pid);
    else
        tool_error("dump", "cannot signal process %d: %s", (int)pid, strerror(errno));
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

static int check_mprof_loaded(pid_t pid)
{
    char *maps = read_proc(pid, "maps", NULL);
    if (!maps) {
        tool_error("dump", "cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
        return -1;
    }
    bool ok = maps_have_mprof(maps);
    free(maps);
    if (!ok)
        tool_error("dump", "process %d is not running mprof (no libmprof.so in "
                   "/proc/%d/maps); start it with `mprof run` or LD_PRELOAD", (int)pid, (int)pid);
    return ok ? 0 : -1;
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
    char *kids = read_proc(pid, what, NULL);
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

/* ---- the process's settings ---- */

struct environ_block {
    const char *data;
    size_t len;
};

static const char *env_lookup(const char *name, void *ctx)
{
    const struct environ_block *e = ctx;
    size_t nlen = strlen(name);
    for (const char *p = e->data; p < e->data + e->len; p += strlen(p) + 1)
        if (strncmp(p, name, nlen) == 0 && p[nlen] == '=')
            return p + nlen + 1;
    return NULL;
}

/* The process reported bad settings itself when it started. */
static void quiet(const char *line) { (void)line; }

static int load_settings(target *t)
{
    size_t len;
    char *env = read_proc(t->pid, "environ", &len);
    if (!env) {
        tool_error("dump", "cannot read /proc/%d/environ: %s", (int)t->pid, strerror(errno));
        return -1;
    }
    struct environ_block e = {env, len};
    mprof_config_defaults(&t->cfg);
    mprof_log_set_sink(quiet);
    mprof_config_load(&t->cfg, env_lookup, &e);
    mprof_log_set_sink(NULL);
    free(env);
    t->enabled[KIND_HEAP] = t->cfg.mem_rate != 0;
    t->enabled[KIND_BLOCK] = t->cfg.block_rate != 0;
    t->enabled[KIND_MUTEX] = t->cfg.mutex_fraction != 0;
    if (t->cfg.signal == 0) {
        tool_error("dump", "process %d runs with MPROF_SIGNAL=none: it takes no dump "
                   "requests", (int)t->pid);
        return -1;
    }
    if (!t->enabled[KIND_HEAP] && !t->enabled[KIND_BLOCK] && !t->enabled[KIND_MUTEX]) {
        tool_error("dump", "process %d has every profile switched off", (int)t->pid);
        return -1;
    }
    return 0;
}

/* Signal numbers the process catches, from the SigCgt line of its status. */
static bool catches(pid_t pid, int sig)
{
    char *st = read_proc(pid, "status", NULL);
    const char *l = st ? strstr(st, "\nSigCgt:") : NULL;
    bool yes = false;
    if (l) {
        unsigned long long mask = strtoull(l + 8, NULL, 16);
        yes = sig >= 1 && sig <= 64 && (mask >> (sig - 1) & 1);
    }
    free(st);
    return yes;
}

/* Relative MPROF_OUT is relative to the process's directory, not ours. */
static int locate_output(target *t)
{
    char *out;
    if (t->cfg.out[0] == '/') {
        out = xstrdup(t->cfg.out);
    } else {
        char link[64], cwd[PATH_MAX];
        snprintf(link, sizeof link, "/proc/%d/cwd", (int)t->pid);
        ssize_t n = readlink(link, cwd, sizeof cwd - 1);
        if (n <= 0) {
            tool_error("dump", "cannot read %s: %s", link, strerror(errno));
            return -1;
        }
        cwd[n] = '\0';
        out = xasprintf("%s/%s", cwd, t->cfg.out);
    }
    outfiles_split(out, &t->dir, &t->base);
    free(out);
    return 0;
}

/* ---- waiting for the files ---- */

static long highest_seq(const target *t)
{
    outfiles l;
    long seq = 0;
    if (outfiles_list(t->dir, t->base, &l) == 0)
        for (size_t i = 0; i < l.n; i++)
            if (l.f[i].pid == t->pid && l.f[i].seq > seq)
                seq = l.f[i].seq;
    outfiles_free(&l);
    return seq;
}

/* Is dump `seq` complete in l? */
static bool seq_complete(const target *t, const outfiles *l, long seq)
{
    bool have[NKINDS] = {false};
    for (size_t i = 0; i < l->n; i++) {
        const outfile *f = &l->f[i];
        if (f->pid != t->pid || f->seq != seq)
            continue;
        if (f->tmp)
            return false;
        have[f->kind] = true;
    }
    for (int k = 0; k < NKINDS; k++)
        if (t->enabled[k] && !have[k])
            return false;
    return true;
}

/* The first complete dump after `after`, or 0. */
static long complete_seq(const target *t, const outfiles *l, long after)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->f[i].pid == t->pid && l->f[i].seq > after && seq_complete(t, l, l->f[i].seq))
            return l->f[i].seq;
    return 0;
}

static void print_seq(const target *t, const outfiles *l, long seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->f[i].pid == t->pid && l->f[i].seq == seq && !l->f[i].tmp)
            printf("%s/%s\n", t->dir, l->f[i].name);
}

/* What is there so far, for the timeout message. */
static char *files_after(const target *t, const outfiles *l, long after)
{
    char *s = xstrdup("");
    for (size_t i = 0; i < l->n; i++) {
        if (l->f[i].pid != t->pid || l->f[i].seq <= after)
            continue;
        char *n = xasprintf("%s%s%s", s, *s ? ", " : "", l->f[i].name);
        free(s);
        s = n;
    }
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
    char *stat = read_proc(pid, "stat", NULL);
    const char *paren = stat ? strrchr(stat, ')') : NULL;
    bool zombie = paren && (paren[1] == ' ') && (paren[2] == 'Z' || paren[2] == 'X');
    free(stat);
    return !zombie;
}

static int wait_for_dump(const target *t, long after, double timeout)
{
    double deadline = now_s() + timeout;
    for (;;) {
        bool alive = is_running(t->pid);
        outfiles l;
        outfiles_list(t->dir, t->base, &l);
        long seq = complete_seq(t, &l, after);
        if (seq) {
            print_seq(t, &l, seq);
            outfiles_free(&l);
            return tool_stdout_status("dump");
        }
        if (!alive || now_s() >= deadline) {
            char *so_far = files_after(t, &l, after);
            tool_error("dump", "%s after %.1f s waiting for the dump of process %d "
                       "in %s/%s.%d.* (new files: %s)",
                       alive ? "timed out" : "the process exited", timeout,
                       (int)t->pid, t->dir, t->base, (int)t->pid, *so_far ? so_far : "none");
            free(so_far);
            outfiles_free(&l);
            return EXIT_FAIL;
        }
        outfiles_free(&l);
        sleep_ms(POLL_MS);
    }
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
            tool_error("dump", "unexpected argument '%s'", val);
            return -1;
        }
        if (k == ARG_OPERAND) {
            pid_s = val;
        } else if (parse_seconds(val, timeout) < 0) {
            tool_error("dump", "--timeout wants seconds, not '%s'", val);
            return -1;
        }
    }
    int64_t v;
    if (!pid_s || parse_int64(pid_s, 1, INT_MAX, &v) < 0) {
        tool_error("dump", "expected a process id%s%s", pid_s ? ", not " : "",
                   pid_s ? pid_s : "");
        return -1;
    }
    *pid = (pid_t)v;
    return 0;
}

int cmd_dump(int argc, char **argv)
{
    target t = {0};
    double timeout;
    if (parse_args(argc, argv, &t.pid, &timeout) < 0)
        return tool_usage("dump");
    if (check_alive(t.pid) < 0)
        return EXIT_FAIL;
    t.pid = program_of_run(t.pid);
    hold_process(&t);
    if (check_mprof_loaded(t.pid) < 0 ||
        load_settings(&t) < 0 || locate_output(&t) < 0)
        return EXIT_FAIL;
    int rc = EXIT_FAIL;
    if (!catches(t.pid, t.cfg.signal)) {
        /* Its default action would likely end the process. */
        tool_error("dump", "process %d does not catch signal %d (%s), so mprof's dump "
                   "handler is not installed; not sending it",
                   (int)t.pid, t.cfg.signal, strsignal(t.cfg.signal));
    } else {
        long before = highest_seq(&t);
        if (send_signal(&t, t.cfg.signal) < 0)
            tool_error("dump", "cannot signal process %d: %s", (int)t.pid, strerror(errno));
        else
            rc = wait_for_dump(&t, before, timeout);
    }
    free(t.dir);
    free(t.base);
    if (t.pidfd >= 0)
        close(t.pidfd);
    return rc;
}
