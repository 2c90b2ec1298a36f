/*
 * run.c: `mprof run`: run a program under the profiler, exit as it exited,
 * and say which profile files it wrote.
 *
 * The library is found beside this executable (build/) or in ../lib (an
 * installed PREFIX/bin/mprof), never through the caller's current
 * directory. The output prefix is made absolute before the program starts,
 * so a program (or a child of it) that changes directory still writes
 * where we look afterwards.
 *
 * While the program runs we behave like a shell waiting for a foreground
 * job: SIGINT and SIGQUIT from the terminal reach the program (same process
 * group) and are ignored here; SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to
 * us are passed on, so `kill -USR2 <mprof pid>` asks for a dump too.
 */
#include "outfiles.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIB_NAME "libmprof.so"

/* ---- settings ---- */

struct setting {
    const char *opt, *env;
    int64_t max; /* the library's own range (core/config.c) */
    const char *value;
};

static struct setting settings[] = {
    {"--mem-rate", "MPROF_MEM_RATE", (int64_t)1 << 40, NULL},
    {"--block-rate", "MPROF_BLOCK_RATE", (int64_t)1 << 50, NULL},
    {"--mutex-fraction", "MPROF_MUTEX_FRACTION", (int64_t)1 << 30, NULL},
    {"--interval", "MPROF_DUMP_INTERVAL", 365 * 86400, NULL},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const tool_opt opts[] = {
    {"--mem-rate", true}, {"--block-rate", true}, {"--mutex-fraction", true},
    {"--interval", true}, {"--out", true},        {"--help", false},
    {"-h", false},        {NULL, false},
};

struct run_args {
    const char *out;
    char **argv; /* the program and its arguments */
};

static int take_setting(const tool_opt *opt, const char *val)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(opt->name, settings[i].opt) != 0)
            continue;
        int64_t v;
        if (parse_int64(val, 0, settings[i].max, &v) < 0 || val[0] == '-') {
            tool_error("run", "%s wants a whole number in [0, %lld], not '%s'",
                       opt->name, (long long)settings[i].max, val);
            return -1;
        }
        settings[i].value = val;
    }
    return 0;
}

/* 0, 1 for --help, -1 for bad usage. */
static int parse_args(int argc, char **argv, struct run_args *ra)
{
    tool_args a = {.argc = argc, .argv = argv, .i = 1, .stop_at_operand = true};
    const tool_opt *opt;
    const char *val;
    int k;
    memset(ra, 0, sizeof *ra);
    while ((k = tool_args_next(&a, "run", opts, &opt, &val)) != ARG_END) {
        if (k == ARG_ERROR)
            return -1;
        if (k == ARG_OPERAND) {
            ra->argv = argv + a.i - 1; /* the rest is the program's */
            return 0;
        }
        if (opt->name[1] == 'h' || !strcmp(opt->name, "--help"))
            return 1;
        if (!strcmp(opt->name, "--out")) {
            if (!*val) {
                tool_error("run", "--out wants a path prefix");
                return -1;
            }
            ra->out = val;
        } else if (take_setting(opt, val) < 0) {
            return -1;
        }
    }
    tool_error("run", "no program to run");
    return -1;
}

/* ---- the library and the environment ---- */

static char *exe_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    return xstrdup(exe);
}

/* The absolute path of libmprof.so, or NULL after an error message. */
static char *find_library(void)
{
    char *dir = exe_dir();
    if (!dir) {
        tool_error("run", "cannot read /proc/self/exe: %s", strerror(errno));
        return NULL;
    }
    char *tries[2] = {xasprintf("%s/" LIB_NAME, dir), xasprintf("%s/../lib/" LIB_NAME, dir)};
    char *found = NULL;
    for (int i = 0; i < 2 && !found; i++)
        found = realpath(tries[i], NULL);
    if (!found)
        tool_error("run", "cannot find " LIB_NAME " (looked for %s and %s)", tries[0], tries[1]);
    else if (strpbrk(found, " :")) {
        tool_error("run", "%s: LD_PRELOAD cannot carry a path with a space or colon", found);
        free(found);
        found = NULL;
    }
    free(tries[0]);
    free(tries[1]);
    free(dir);
    return found;
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return xstrdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return xasprintf("%s/%s", cwd, path);
}

static int set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) == 0)
        return 0;
    tool_error("run", "cannot set %s: %s", name, strerror(errno));
    return -1;
}

/* LD_PRELOAD (ours first: our malloc must see the calls before any other
 * preloaded allocator), the settings, and the absolute output prefix. */
static int prepare_env(const char *lib, const char *abs_out)
{
    const char *old = getenv("LD_PRELOAD");
    char *pre = old && *old ? xasprintf("%s:%s", lib, old) : xstrdup(lib);
    int rc = set_env("LD_PRELOAD", pre);
    free(pre);
    for (size_t i = 0; i < NSETTINGS && rc == 0; i++)
        if (settings[i].value)
            rc = set_env(settings[i].env, settings[i].value);
    return rc ? rc : set_env("MPROF_OUT", abs_out);
}

/* ---- running ---- */

/*
 * The forwarded signals are blocked from before fork until `child` is set,
 * and again before it is cleared: one that arrives in between waits, and
 * is then delivered to the program rather than lost or sent to a pid that
 * may have been reused. SIGCHLD is set to its default for the run: if we
 * inherited it ignored, the kernel would reap the program itself and
 * waitpid could not tell its status.
 */
static volatile sig_atomic_t child;
static const int forwarded[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
static const int ignored[] = {SIGINT, SIGQUIT};
#define NFWD (sizeof forwarded / sizeof forwarded[0])
#define NIGN (sizeof ignored / sizeof ignored[0])
static struct sigaction saved_fwd[NFWD], saved_ign[NIGN], saved_chld;
static sigset_t fwd_set, saved_mask;

static void block_forwarded(void)
{
    sigemptyset(&fwd_set);
    for (size_t i = 0; i < NFWD; i++)
        sigaddset(&fwd_set, forwarded[i]);
    sigprocmask(SIG_BLOCK, &fwd_set, &saved_mask);
}

static void forward(int sig)
{
    int saved = errno;
    if (child > 0)
        kill((pid_t)child, sig);
    errno = saved;
}

static void take_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = forward;
    for (size_t i = 0; i < NFWD; i++)
        sigaction(forwarded[i], &sa, &saved_fwd[i]);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < NIGN; i++)
        sigaction(ignored[i], &sa, &saved_ign[i]);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, &saved_chld);
}

/* What we inherited, for the program: it must start as if run directly.
 * Called with the forwarded signals blocked; unblocks them last. */
static void restore_signals(void)
{
    for (size_t i = 0; i < NFWD; i++)
        sigaction(forwarded[i], &saved_fwd[i], NULL);
    for (size_t i = 0; i < NIGN; i++)
        sigaction(ignored[i], &saved_ign[i], NULL);
    sigaction(SIGCHLD, &saved_chld, NULL);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

/* In the child: exec, or report errno through the close-on-exec pipe. */
static void exec_program(char **argv, int report_fd)
{
    restore_signals();
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w;
    do
        w = write(report_fd, &e, sizeof e);
    while (w < 0 && errno == EINTR);
    _exit(127);
}

static int wait_child(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            tool_error("run", "cannot wait for the program: %s", strerror(errno));
            return 127;
        }
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 127;
}

/* errno of a failed exec, or 0 once the program is running. */
static int exec_error(int fd)
{
    int e = 0;
    ssize_t r;
    do
        r = read(fd, &e, sizeof e);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)sizeof e ? e : 0;
}

/* The program's exit status (128+N for signal N; 126/127 when it could not
 * be started, as a shell says). */
static int run_program(char **argv, bool *started)
{
    *started = false;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        tool_error("run", "pipe: %s", strerror(errno));
        return 127;
    }
    block_forwarded();
    take_signals();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_program(argv, p[1]);
    close(p[1]);
    if (pid < 0) {
        tool_error("run", "fork: %s", strerror(errno));
        close(p[0]);
        restore_signals();
        return 127;
    }
    child = pid;
    sigprocmask(SIG_UNBLOCK, &fwd_set, NULL);
    int e = exec_error(p[0]);
    close(p[0]);
    int status = wait_child(pid);
    sigprocmask(SIG_BLOCK, &fwd_set, NULL);
    child = 0;
    restore_signals();
    if (e) {
        tool_error("run", "cannot run %s: %s", argv[0], strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    *started = true;
    return status;
}

/* ---- reporting the files ---- */

static bool is_new(const outfile *f, const outfiles *before)
{
    const outfile *b = outfiles_find(before, f->name);
    return !b || b->ino != f->ino || b->mtime.tv_sec != f->mtime.tv_sec ||
           b->mtime.tv_nsec != f->mtime.tv_nsec;
}

/* The files written during the run, named as the user gave the prefix. */
static void report_files(const char *dir, const char *base, const outfiles *before,
                         const char *shown_dir)
{
    outfiles after;
    size_t n = 0;
    outfiles_list(dir, base, &after);
    for (size_t i = 0; i < after.n; i++)
        n += !after.f[i].n.tmp && is_new(&after.f[i], before);
    fflush(stdout);
    if (n == 0)
        fprintf(stderr, "mprof: no profile files written (prefix %s/%s)\n", dir, base);
    else
        fprintf(stderr, "mprof: %zu profile file%s written:\n", n, n > 1 ? "s" : "");
    for (size_t i = 0; i < after.n; i++)
        if (!after.f[i].n.tmp && is_new(&after.f[i], before))
            fprintf(stderr, "  %s%s\n", shown_dir, after.f[i].name);
    outfiles_free(&after);
}

/* "out/p" is shown as "out/"; "p" as "". */
static char *shown_dir_of(const char *prefix)
{
    const char *slash = strrchr(prefix, '/');
    return slash ? xasprintf("%.*s", (int)(slash - prefix + 1), prefix) : xstrdup("");
}

int cmd_run(int argc, char **argv)
{
    struct run_args ra;
    int rc = parse_args(argc, argv, &ra);
    if (rc > 0) {
        tool_help("run");
        return 0;
    }
    if (rc < 0)
        return tool_usage("run");
    const char *prefix = ra.out ? ra.out : getenv("MPROF_OUT");
    if (!prefix || !*prefix)
        prefix = "mprof";
    char *lib = find_library(), *abs_out = absolute(prefix);
    if (!abs_out)
        tool_error("run", "cannot resolve %s: %s", prefix, strerror(errno));
    if (!lib || !abs_out || prepare_env(lib, abs_out) < 0) {
        free(lib);
        free(abs_out);
        return EXIT_FAIL;
    }
    char *dir, *base, *shown = shown_dir_of(prefix);
    outfiles_split(abs_out, &dir, &base);
    outfiles before;
    outfiles_list(dir, base, &before);
    bool started;
    int status = run_program(ra.argv, &started);
    if (started)
        report_files(dir, base, &before, shown);
    outfiles_free(&before);
    free(dir);
    free(base);
    free(shown);
    free(lib);
    free(abs_out);
    return status;
}
